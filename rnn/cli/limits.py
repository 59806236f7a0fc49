"""How big a command may get: the bounds the command line checks before it starts any work.

The bounds are chosen for a laptop-class machine (24 GB of memory, one BLAS thread) and a run
of about a minute at most; a command line over them is refused (:class:`UsageError`, exit
code 2) with the numbers and what to change. Three kinds of bound:

* one option at a time (``MAX_STEPS``, ``MAX_LAYERS``, ``MAX_HIDDEN``, ``MAX_BATCH``), by
  the argparse types of :mod:`rnn.cli.options`;
* memory: an unrolled graph holds T · L · B · H hidden values, each with about
  ``BYTES_PER_VALUE`` bytes of arrays (pre-activation, state, the matmul results, their
  gradients and the trace), so T · L · B · H <= ``MAX_VALUES`` (about 1.6 GB);
* time, estimated by a :class:`CostModel` fitted on this project's 2-core test machine:
  seconds ≈ passes · T · (L + 1) · (overhead + per_weight · H² · (B + 8)), where a pass is one
  forward evaluation (one forward and backward for pictures), (L + 1) counts the readout as
  one more cell, and H² · (B + 8) is the matmul work of a step (B + 8: a one-row product is
  memory-bound, as slow as about nine rows); Graphviz adds ``GRAPHVIZ_PER_NODE`` seconds per
  drawn node and file. Runs estimated over ``MAX_SECONDS`` are refused.

Pictures have their own bound: Graphviz is given at most ``MAX_NODES`` nodes (the default
``max_nodes`` of ``tg.to_dot``); :class:`PictureSize` predicts the count exactly from the
graphs of one and two steps, which every later step repeats.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass

from rnn.cli.problem import build_problem, parameter_count
from rnn.cli.usage import UsageError
from tinygraph.render import MAX_NODES as PICTURE_MAX_NODES
from tinygraph.render import picture_size

MAX_STEPS = 10_000
MAX_LAYERS = 16
MAX_HIDDEN = 1_024
MAX_BATCH = 1_024
MAX_VALUES = 10_000_000
BYTES_PER_VALUE = 160
MAX_SECONDS = 60.0
MAX_NODES: int = PICTURE_MAX_NODES


@dataclass(frozen=True)
class CostModel:
    """Seconds per cell step: ``overhead`` (Python and numpy calls) + ``per_weight`` · H² · (B + 8)."""

    overhead: float
    per_weight: float

    def seconds(self, passes: int, steps: int, layers: int, hidden: int, batch: int) -> float:
        """passes · T · (L + 1) · (overhead + per_weight · H² · (B + 8))."""
        per_step = self.overhead + self.per_weight * hidden * hidden * (batch + 8)
        return passes * steps * (layers + 1) * per_step


# About 1.5 times what was measured (numpy, one BLAS thread; long unrolls cost more per step),
# so that a slower laptop still keeps the minute: a gradcheck pass is one forward evaluation of
# the loss; a picture pass builds the graph, traces its backward and lays it out; a vanish pass
# runs one cell forward and backward. Graphviz then takes about GRAPHVIZ_PER_NODE seconds per
# drawn node for every file it writes.
GRADCHECK_COST = CostModel(overhead=100e-6, per_weight=0.3e-9)
PICTURE_COST = CostModel(overhead=800e-6, per_weight=1.5e-9)
VANISH_COST = CostModel(overhead=60e-6, per_weight=0.5e-9)
GRAPHVIZ_PER_NODE = 0.5e-3


def check_values(steps: int, layers: int, batch: int, hidden: int, what: str) -> None:
    """T · L · B · H <= MAX_VALUES, else a UsageError with the estimated memory."""
    values = steps * layers * batch * hidden
    if values > MAX_VALUES:
        raise UsageError(
            f"{what} would hold T x L x B x H = {steps:,} x {layers} x {batch:,} x {hidden:,} = "
            f"{values:,} hidden values, about {_gigabytes(values)} with their gradients; the "
            f"limit is {MAX_VALUES:,} (about {_gigabytes(MAX_VALUES)}): use fewer --steps, "
            "--layers or --batch, or a smaller --hidden")


def gradcheck_seconds(args: Namespace, mode: str, directions: int = 3) -> tuple[int, float]:
    """(loss evaluations, estimated seconds) of ``tg.gradcheck`` on the problem of ``args``.

    Full mode evaluates the loss twice per parameter entry, directional mode twice per
    direction of each parameter tensor; both add one evaluation and one backward.
    """
    entries, tensors = parameter_count(args.layers, args.hidden)
    passes = 2 * (entries if mode == "full" else tensors * directions) + 2
    return passes, GRADCHECK_COST.seconds(passes, args.steps, args.layers, args.hidden, args.batch)


def check_seconds(seconds: float, what: str, advice: str) -> None:
    """``seconds`` <= MAX_SECONDS, else a UsageError saying what would take that long."""
    if seconds > MAX_SECONDS:
        raise UsageError(f"{what} would take about {_duration(seconds)} on a laptop; the "
                         f"command line refuses runs estimated over {MAX_SECONDS:.0f} s: {advice}")


@dataclass(frozen=True)
class PictureSize:
    """Nodes of the demo problem's picture: ``first`` for step 0, ``per_step`` for each later one.

    Every step after the first adds the same nodes, so n steps draw first + (n − 1) · per_step
    nodes; a folded picture draws as many as the unfolded picture of its ``max_steps`` kept
    steps. Measured on graphs of one and two steps with H = B = 1 (the sizes do not change
    the picture).
    """

    first: int
    per_step: int

    @classmethod
    def of(cls, layers: int, nonlinearity: list[str], loss_at: str) -> PictureSize:
        """Count the nodes ``tg.to_dot`` lays out for one and for two steps."""
        one, two = (picture_size(build_problem(t, layers, 1, nonlinearity, 1, loss_at).loss())
                    for t in (1, 2))
        return cls(one, two - one)

    def nodes(self, steps: int) -> int:
        """first + (steps − 1) · per_step."""
        return self.first + (steps - 1) * self.per_step

    def steps_that_fit(self) -> int:
        """The most steps whose picture has at most MAX_NODES nodes."""
        return max((MAX_NODES - self.first) // self.per_step + 1, 0)

    def check(self, steps: int, folded: bool, option: str, head: str, fold: str,
              tail: str = "") -> int:
        """The nodes of a picture of ``steps`` steps, or a UsageError when they are over MAX_NODES.

        The error is ``head`` (a template of ``{steps}`` and ``{nodes}``), the bound, and the
        advice: ``use <option> N or fewer`` (N: steps_that_fit()) when the picture is already
        ``folded``, else ``fold`` (a template of ``{option}`` and ``{fit}`` = min(N, 16));
        then ``tail``.
        """
        nodes = self.nodes(steps)
        if nodes > MAX_NODES:
            fit = self.steps_that_fit()
            advice = (f"use {option} {fit} or fewer" if folded else
                      fold.format(option=option, fit=min(fit, 16)))
            raise UsageError(f"{head.format(steps=steps, nodes=nodes)}, over the {MAX_NODES:,} "
                             f"Graphviz is given; {advice}{tail}")
        return nodes


def _gigabytes(values: int) -> str:
    return f"{values * BYTES_PER_VALUE / 1e9:,.1f} GB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:,.0f} h"

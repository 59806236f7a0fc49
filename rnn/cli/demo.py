"""``tinygraph demo``: one small BPTT problem, checked, traced and drawn.

1. A 2-layer Elman RNN (tanh) on T = 4 steps; L = Σ_t cross_entropy(o_t, y_t).
2. ``tg.gradcheck``: every parameter's backward gradient against central differences.
3. The junction of one hidden state h^l_t in ``tg.trace_backward``: it is read twice (by the
   layer above or the readout at step t, and by the recurrence at step t+1), so
   dL/dh^l_t = (contribution from step t) + (contribution from step t+1); the sum is checked
   against ``tg.grad(L, [h])``.
4. Pictures: forward, backward and gradient-norm views (SVG and PNG) and the step-through page.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.cli import limits
from rnn.cli.inputs import check_graphviz, check_output_dir
from rnn.cli.options import (
    add_model_options,
    add_picture_options,
    folded_steps,
    int_in,
    picture_options,
    validate_model_options,
)
from rnn.cli.problem import Problem, hidden_state, problem_from_args
from rnn.cli.usage import UsageError

EXAMPLES = """examples:
  tinygraph demo                     writes into out/
  tinygraph demo --out /tmp/bptt --steps 6 --hidden 4
  tinygraph demo --junction-t 2 --junction-layer 0
  tinygraph demo --no-pictures       only the tables (no Graphviz needed)"""

PICTURES = (
    ("forward", {"view": "forward"}),
    ("backward", {"view": "backward"}),
    ("grad_norm", {"view": "backward", "color_by": "grad_norm"}),
)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``demo``."""
    parser = sub.add_parser(
        "demo", help="gradient check, junction sums and pictures of a 2-layer RNN",
        description="Build a 2-layer Elman RNN on a short sequence, run forward and backward, "
                    "print the gradient-check table and the junction sums of one hidden state, "
                    "and write the forward, backward and gradient-norm pictures (SVG, PNG) and "
                    "a step-through HTML page of the backward pass into --out.",
        epilog=EXAMPLES)
    parser.add_argument("--out", "-o", default="out", metavar="DIR",
                        help="directory for the pictures (default out/, created if missing)")
    parser.add_argument("--junction-t", type=int_in(0), default=1, metavar="T",
                        help="step t of the hidden state whose junction is printed, "
                             "0..steps-1 (default 1)")
    parser.add_argument("--junction-layer", type=int_in(0), default=None, metavar="L",
                        help="layer of that hidden state, 0..layers-1 (default: the top layer)")
    parser.add_argument("--no-pictures", action="store_true",
                        help="print the tables only; write no files")
    add_picture_options(parser, "--png-max-steps")
    add_model_options(parser)
    return parser


def validate(args: argparse.Namespace) -> None:
    """The junction, the model's size, the check's time and the pictures (before any work)."""
    validate_model_options(args)
    if args.junction_t >= args.steps:
        raise UsageError(f"--junction-t {args.junction_t} is not a step of --steps "
                         f"{args.steps}; choose 0..{args.steps - 1}")
    if args.junction_layer is not None and args.junction_layer >= args.layers:
        raise UsageError(f"--junction-layer {args.junction_layer} is not a layer of --layers "
                         f"{args.layers}; choose 0..{args.layers - 1}")
    passes, seconds = limits.gradcheck_seconds(args, "full")
    if not args.no_pictures:
        seconds += picture_seconds(args)
    limits.check_seconds(seconds, f"the demo's full gradient check ({passes:,} evaluations of the "
                         f"loss over T={args.steps:,} steps x {args.layers} layers)"
                         + ("" if args.no_pictures else " and pictures"),
                         "use fewer --steps or --layers or a smaller --hidden, or 'tinygraph "
                         "check --mode directional' for a big model")


def picture_seconds(args: argparse.Namespace) -> float:
    """Graphviz, the output directory and the pictures' size checked; their estimated time.

    The pictures and the step-through page draw ``--png-max-steps`` steps (8 by default), or
    every one with ``--no-fold``; either must fit in MAX_NODES nodes.
    """
    check_graphviz("demo (its pictures; --no-pictures skips them)")
    check_output_dir(Path(args.out), "--out")
    size = limits.PictureSize.of(args.layers, args.nonlinearity, args.loss_at)
    fold = folded_steps(args, args.png_max_steps)
    nodes = size.check(min(args.steps, fold or args.steps), bool(fold), "--png-max-steps",
                       "the pictures would draw {steps:,} steps: {nodes:,} nodes",
                       "fold with {option} {fit}", ", or --no-pictures")
    graphviz = limits.GRAPHVIZ_PER_NODE * (nodes + len(PICTURES) * 2 * nodes)  # page, pictures
    return graphviz + limits.PICTURE_COST.seconds(1, args.steps, args.layers, args.hidden,
                                                  args.batch)


def run(args: argparse.Namespace) -> int:
    """Print the check and the junction, write the pictures; 1 if the gradient check fails."""
    problem = problem_from_args(args)
    print(f"tinygraph demo: {problem.describe()}")
    report = tg.gradcheck(problem.loss, problem.parameters())
    print(f"\n1. Gradient check: backward vs central differences, L = {report.value:.6g}\n")
    print(report)
    verdict = "ok: every gradient matches" if report.ok else "FAILED: see the table above"
    print(f"verdict: {verdict}")
    loss = problem.loss()
    trace = tg.trace_backward(loss)
    layer = args.junction_layer if args.junction_layer is not None else problem.net.num_layers - 1
    print(f"\n2. Junction sum of h at t={args.junction_t}, layer={layer}\n")
    print(junction_text(loss, trace, args.junction_t, layer))
    if not args.no_pictures:
        print(f"\n3. Pictures ({len(trace)} backward steps)\n")
        for path in write_pictures(problem, loss, trace, Path(args.out),
                                   folded_steps(args, args.png_max_steps), picture_options(args)):
            print(f"  {path}")
        print("\nOpen stepthrough.html in a browser and step with the arrow keys.")
    return 0 if report.ok else 1


def junction_text(loss: tg.Tensor, trace: tg.Trace, t: int, layer: int) -> str:
    """The contributions to dL/dh of (t, layer), where each comes from, and their sum."""
    h = hidden_state(loss, t, layer)
    if h is None:
        raise tg.GraphStateError(f"demo: no hidden state h at t={t}, layer={layer} in this "
                                 "graph; choose --junction-t below --steps and a layer below "
                                 "--layers")
    step = trace.junction_of(h)
    if step is None:
        return (f"h (t={t}, layer={layer}) is read by one node only (the last step has no "
                "recurrence after it), so its gradient is not a sum; choose an earlier step")
    return format_junction(step, h, tg.grad(loss, [h])[0])


def format_junction(step: tg.JunctionStep, h: tg.Tensor, reference: np.ndarray) -> str:
    """The table of a junction: one row per reader, the sum, and the check against tg.grad."""
    rows = [(f"from {c.source.where()}", _role(c.source.scope, step.scope), _vector(c.grad))
            for c in step.contributions]
    rows.append(("sum", "dL/dh, sent on to " + h.producer.where(), _vector(step.total)))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"h ({tg.format_scope(step.scope)}) is read by {len(step.contributions)} nodes, so "
             "backward adds their gradients:"]
    lines += [f"  {a.ljust(widths[0])}  {b.ljust(widths[1])}  {c}" for a, b, c in rows]
    agree = np.allclose(step.total, reference, rtol=1e-12, atol=1e-12)
    lines.append(f"check: the sum {'equals' if agree else 'DIFFERS from'} tg.grad(L, [h]) "
                 f"(max difference {float(np.max(np.abs(step.total - reference))):.1e})")
    return "\n".join(lines)


def _role(reader: dict[str, Any], own: dict[str, Any]) -> str:
    """Why a reader reads h: the recurrence of a later step (non-local), or the same step."""
    t, t_reader = own.get("t"), reader.get("t")
    if t is not None and t_reader is not None and t_reader != t:
        return f"recurrence into step {t_reader} (non-local)"
    if "layer" not in reader:
        return f"readout of step {t_reader} (local)"
    return f"layer {reader['layer']} of step {t_reader} (local)"


def _vector(g: np.ndarray) -> str:
    """A gradient's entries (first row of a batch shown whole, up to 6 entries)."""
    flat = np.asarray(g, float).reshape(-1)
    shown = ", ".join(f"{v:+.4f}" for v in flat[:6])
    return f"[{shown}{', ...' if flat.size > 6 else ''}]"


def write_pictures(problem: Problem, loss: tg.Tensor, trace: tg.Trace, out: Path,
                   max_steps: int | None = None, layout: dict[str, Any] | None = None) -> list[Path]:
    """forward/backward/grad_norm as SVG and PNG, and stepthrough.html, into ``out``; the
    pictures fold to ``max_steps`` steps (None: every step) and take the ``layout`` options."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, options in PICTURES:
        for fmt in ("svg", "png"):
            paths.append(tg.render(loss, out / name, format=fmt, trace=trace,
                                   max_steps=max_steps, **(layout or {}), **options))
    paths.append(tg.stepthrough(loss, out / "stepthrough.html", trace=trace, max_steps=max_steps,
                                title=f"Backward pass: {problem.describe()}"))
    return paths

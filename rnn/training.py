"""A small training loop: zero_grad, loss, backward, clip, step; the mean loss per epoch.

The progress display uses tqdm when it is installed (``pip install tinygraph[progress]``) and
falls back to one plain line per epoch otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

import tinygraph as tg
from rnn.checkpointed import Every, check_every, checkpointing
from rnn.checks import check_flag, check_positive, check_scalar_loss, check_size
from rnn.errors import ConfigError
from rnn.optim import Optimizer, clip_unchecked
from tinygraph.render import Film

Batches = Iterable[Any] | Callable[[int], Iterable[Any]]
CHECK_EVERY = 100  # compile=True compares the first replay and every 100th with a plain step


def train(
    loss_fn: Callable[[Any], tg.Tensor],
    batches: Batches,
    optimizer: Optimizer,
    epochs: int = 1,
    *,
    clip_norm: float | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
    checkpoint_every: Every = None,
    explore_every: int | None = None,
    explore_path: str | os.PathLike | None = None,
    compile: bool = False,  # noqa: A002 (tg.compile's name)
) -> list[float]:
    """Train for ``epochs`` passes; returns the mean loss of every epoch.

    Each batch: θ.grad ← 0; L = loss_fn(batch); L.backward(); clip ||∇θ|| to ``clip_norm``;
    optimizer step. The cyclic garbage collector is paused during a step (``tg.pause_gc``) and
    the step's graph is dropped at its end. ``batches`` is a re-iterable collection, or a
    function of the epoch index that returns the batches of that epoch (e.g. freshly sampled
    ones). ``checkpoint_every`` (k or ``"sqrt"``): every ``rnn.RNN`` that loss_fn runs and that
    has no ``checkpoint_every`` of its own checkpoints its time loop in segments of k steps
    (same gradients, bit for bit; less memory, one more forward pass).

    ``compile=True`` runs the steps as ``tg.compile(loss_fn, check=CHECK_EVERY)``: each batch
    shape records its graph once, and later batches of that shape replay it (the same values
    and gradients, bit for bit, faster). The batch's arrays reach loss_fn as Tensors and must
    reach the loss through tinygraph ops (``tg.cross_entropy(logits, targets)``); reading
    their values is refused. It is off by default because a plan cannot see what loss_fn's
    Python does with values (a closure over data that changes, an ``if`` on a value): the
    first replay and every CHECK_EVERY-th are compared with a plain step, and a difference
    is an error, but the steps between two checks would be wrong. Not with checkpoints (a
    checkpoint recomputes its steps inside the eager backward pass, which a plan replaces).

    With ``explore_every=N`` and ``explore_path``, every N-th update (the first included) is
    also traced (``tg.trace_backward``, one more backward pass) and the page of
    ``tinygraph.render.Film`` is written to ``explore_path`` at the end: the explorer
    of the first update with a slider over the recorded ones (loss, ‖∇θ‖ before and after
    clipping, gradient flow).
    """
    if not callable(loss_fn):
        raise tg.DTypeError(
            f"train: loss_fn must be a function of a batch, got a {type(loss_fn).__name__}"
        )
    if not isinstance(optimizer, Optimizer):
        raise tg.DTypeError(
            f"train: optimizer must be an rnn optimizer, e.g. rnn.SGD(net.parameters()), got a "
            f"{type(optimizer).__name__}"
        )
    epochs = check_size(epochs, "epochs", "train")
    clip_norm = None if clip_norm is None else check_positive(clip_norm, "clip_norm", "train")
    progress = check_flag(progress, "progress", "train")
    every = check_every(checkpoint_every, "train")
    replay = check_flag(compile, "compile", "train")
    if replay and every is not None:
        raise ConfigError(
            "train: compile=True with checkpoint_every: a checkpoint recomputes its steps inside "
            "the eager backward pass, which a plan replaces; choose one (memory: checkpoints; "
            "speed: compile)"
        )
    step = tg.compile(loss_fn, check=CHECK_EVERY) if replay else None
    explore_every = None if explore_every is None else check_size(explore_every, "explore_every",
                                                                   "train")
    if replay and explore_every is not None:
        raise ConfigError("train: compile=True with explore_every: a replayed step records no "
                          "graph to trace; choose one")
    film = _film(explore_every, explore_path, clip_norm)
    bar = _progress_bar(epochs) if progress else None
    history = []
    update = 0
    for epoch in range(epochs):
        total, count = 0.0, 0
        for batch in batches(epoch) if callable(batches) else batches:
            with tg.pause_gc():  # the step's graph is freed (by refcount) before the collector runs
                optimizer.zero_grad()
                recording = film is not None and update % explore_every == 0
                if step is None:
                    with checkpointing(every):
                        loss = check_scalar_loss(loss_fn(batch), f"train: loss_fn (epoch {epoch})",
                                                 "e.g. rnn.sequence_cross_entropy(...)")
                    trace = tg.trace_backward(loss) if recording else None
                    loss.backward()
                else:
                    loss = step(batch)  # forward and backward, from the plan after the first
                    loss = loss[0] if isinstance(loss, (tuple, list)) else loss
                norm = clip_unchecked(optimizer.params, clip_norm) if clip_norm is not None else None
                if recording:
                    film.record(loss, trace, update, norm)
                    del trace
                optimizer.step()
                update += 1
                total += float(loss.item())
                del loss
            count += 1
        if count == 0:
            raise ConfigError(f"train: epoch {epoch} had no batches")
        history.append(total / count)
        if bar is not None:
            bar.set_postfix(loss=f"{history[-1]:.4f}")
            bar.update(1)
        elif progress and log is not None:
            log(f"epoch {epoch + 1}/{epochs}  loss {history[-1]:.4f}")
    if bar is not None:
        bar.close()
    if film is not None:
        film.write()
    return history


def _film(every: int | None, path: str | os.PathLike | None, clip_norm: float | None) -> Film | None:
    """The recorder of ``explore_every``/``explore_path`` (None without them), checked before
    any training: both or neither, and a path a file can be written to."""
    if every is None and path is None:
        return None
    if every is None or path is None:
        raise ConfigError("train: explore_every and explore_path go together: give both (e.g. "
                          "explore_every=10, explore_path='training.html') or neither")
    return Film(path, clip_norm=clip_norm)


def _progress_bar(epochs: int) -> Any:
    """A tqdm bar over epochs, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, desc="train", unit="epoch")

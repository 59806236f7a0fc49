"""A small training loop: zero_grad, loss, backward, clip, step; the mean loss per epoch.

The progress display uses tqdm when it is installed (``pip install tinygraph[progress]``) and
falls back to one plain line per epoch otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import tinygraph as tg
from rnn.checkpointed import Every, check_every, checkpointing
from rnn.checks import check_flag, check_positive, check_scalar_loss, check_size
from rnn.errors import ConfigError
from rnn.optim import Optimizer, clip_grad_norm

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
    bar = _progress_bar(epochs) if progress else None
    history = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for batch in batches(epoch) if callable(batches) else batches:
            with tg.pause_gc():  # the step's graph is freed (by refcount) before the collector runs
                optimizer.zero_grad()
                if step is None:
                    with checkpointing(every):
                        loss = check_scalar_loss(loss_fn(batch), f"train: loss_fn (epoch {epoch})",
                                                 "e.g. rnn.sequence_cross_entropy(...)")
                    loss.backward()
                else:
                    loss = step(batch)  # forward and backward, from the plan after the first
                    loss = loss[0] if isinstance(loss, (tuple, list)) else loss
                if clip_norm is not None:
                    clip_grad_norm(optimizer.params, clip_norm)
                optimizer.step()
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
    return history


def _progress_bar(epochs: int) -> Any:
    """A tqdm bar over epochs, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, desc="train", unit="epoch")

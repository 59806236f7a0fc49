"""Names tinygraph spells differently from PyTorch (and a few of numpy's), and what to write.

tinygraph uses numpy's names and keywords: ``axis=``, ``keepdims=``, ``concat``, ``reshape``,
``clip``. A PyTorch spelling raises :class:`~tinygraph.errors.SpellingError` saying what to write
instead (``tg.cat`` → ``tg.concat(tensors, axis=0)``, ``x.sum(dim=1)`` → ``axis=1``); another
missing public name gets the closest existing names. These lookups run only when a name is
missing (the package's ``__getattr__``, which Python calls after the normal lookup failed), on
Tensor's PyTorch names (properties that raise), or when a keyword is unknown, so they cost
nothing on the normal path.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tinygraph.errors import SpellingError

MODULE_NAMES: dict[str, str] = {
    "cat": "tg.concat(tensors, axis=0)",
    "concatenate": "tg.concat(tensors, axis=0)",
    "clamp": "tg.clip(x, a_min, a_max)",
    "amax": "tg.max(x, axis=None, keepdims=False)",
    "amin": "tg.min(x, axis=None, keepdims=False)",
    "absolute": "tg.abs(x)",
    "pow": "tg.power(a, p), or a ** p",
    "mm": "tg.matmul(a, b), or a @ b",
    "bmm": "tg.matmul(a, b), or a @ b",
    "unsqueeze": "x[None] (a new first axis; x[:, None] a new axis 1), or tg.reshape(x, shape)",
    "squeeze": "tg.reshape(x, shape)",
    "permute": "tg.transpose(x, axes)",
    "flatten": "tg.reshape(x, (-1,))",
    "masked_fill": "tg.where(mask, value, x)",
    "from_numpy": "tg.Tensor(array)",
    "zeros": "tg.Tensor(np.zeros(shape))",
    "ones": "tg.Tensor(np.ones(shape))",
    "randn": "tg.Tensor(np.random.default_rng(seed).standard_normal(shape))",
    "nn": "the rnn package (rnn.Linear, rnn.RNN, rnn.ElmanCell, rnn.LSTMCell, rnn.GRUCell)",
    "optim": "rnn.SGD(parameters, lr)",
}

TENSOR_NAMES: dict[str, str] = {
    "view": "x.reshape(...)",
    "unsqueeze": "x[None] (a new first axis; x[:, None] a new axis 1), or x.reshape(...)",
    "squeeze": "x.reshape(...)",
    "permute": "x.transpose(*axes)",
    "flatten": "x.reshape(-1)",
    "t": "x.T",
    "dim": "x.ndim",
    "numel": "x.size",
    "clamp": "x.clip(a_min, a_max)",
    "amax": "x.max(axis=None, keepdims=False)",
    "amin": "x.min(axis=None, keepdims=False)",
    "pow": "x ** p",
    "matmul": "x @ y",
    "mm": "x @ y",
    "masked_fill": "tg.where(mask, value, x)",
    "tolist": "x.data.tolist()",
    "float": "tg.Tensor(x.data.astype(np.float32)) (a new leaf)",
    "double": "tg.Tensor(x.data.astype(np.float64)) (a new leaf)",
    "requires_grad_": "x.requires_grad = True (on a leaf)",
    "cpu": "x itself: tinygraph computes with numpy on the CPU, and x.data is the ndarray",
    "cuda": "x itself: tinygraph computes with numpy on the CPU only",
    "to": "x itself: tinygraph has no devices; for a dtype, tg.Tensor(x.data.astype(dtype))",
}

KEYWORDS: dict[str, str] = {"dim": "axis", "keepdim": "keepdims"}


def refusing_property(prefix: str, name: str, hint: str) -> property:
    """A property for a name tinygraph spells differently: reading ``<prefix>.<name>`` raises the
    SpellingError that says to write ``hint`` (an AttributeError, so hasattr() is False)."""

    def refuse(self: object) -> Any:
        raise _use_instead(prefix, name, hint)

    return property(refuse, doc=f"Not a tinygraph name: use {hint}.")


def missing_name(prefix: str, name: str, hints: Mapping[str, str], fallback: str,
                 names: Callable[[], Iterable[str]]) -> SpellingError:
    """The error for ``<prefix>.<name>``, a name that does not exist: what to write instead,
    the closest existing public names, or (private and special names) Python's own wording."""
    hint = hints.get(name)
    if hint is not None:
        return _use_instead(prefix, name, hint)
    if not name.startswith("_"):  # hasattr() probes of private and dunder names stay cheap
        public = [n for n in names() if not n.startswith("_")]
        close = difflib.get_close_matches(name, public, n=3)
        if close:
            choices = " or ".join(f"{prefix}.{c}" for c in close)
            return SpellingError(f"{fallback}; did you mean {choices}?")
    return SpellingError(fallback)


def _use_instead(prefix: str, name: str, hint: str) -> SpellingError:
    return SpellingError(f"{prefix}.{name}: not a tinygraph name; use {hint}")


def refuse_keywords(who: str, given: Mapping[str, Any], takes: tuple[str, ...],
                    renames: Mapping[str, str] = KEYWORDS, note: str = "") -> None:
    """Raise for keyword arguments ``who`` does not take, naming the one to use instead
    (``dim=1`` → ``axis=1``); do nothing when there are none. ``note`` is added to the hint."""
    if not given:
        return
    key, value = next(iter(given.items()))
    if key in renames:
        raise SpellingError(f"{who}: use {renames[key]}={value!r} ({key}= is PyTorch's name for it){note}")
    raise SpellingError(f"{who}() got an unexpected keyword argument {key!r}; it takes {', '.join(takes)}")

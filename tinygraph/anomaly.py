"""``detect_anomaly()``: stop at the first op whose forward or backward makes a NaN or an Inf.

Off by default (it costs one ``isfinite`` pass per array). Inside the block, the engine checks
every op's output after its forward and every gradient its backward returns; the error names
the op with its scope and the value ranges of its inputs, so the first bad step of an
unrolled graph is found, not the loss where the NaN finally surfaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np

from tinygraph.errors import NumericsError
from tinygraph.scope import switched
from tinygraph.tensor import NUMERIC_KINDS


def detect_anomaly() -> AbstractContextManager[None]:
    """Raise :class:`NumericsError` at the first non-finite forward output or gradient."""
    return switched("detect_anomaly", True)


def _is_finite(array: np.ndarray) -> bool:
    return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())


def describe_range(array: np.ndarray) -> str:
    """``shape (2, 3), range [-1.5, 4]`` plus counts of NaN and Inf entries when there are any."""
    text = f"shape {array.shape}"
    if array.dtype.kind not in NUMERIC_KINDS or array.size == 0:
        return text
    finite = array[np.isfinite(array)] if array.dtype.kind in "fc" else array
    if finite.size:
        text += f", range [{finite.min():.4g}, {finite.max():.4g}]"
    if array.dtype.kind in "fc":
        nans, infs = int(np.isnan(array).sum()), int(np.isinf(array).sum())
        if nans or infs:
            text += f", {nans} NaN and {infs} Inf"
    return text


def check_forward(where: str, inputs: Sequence[np.ndarray], output: np.ndarray) -> None:
    """Raise if ``output`` holds NaN/Inf: name the op and every input's range."""
    if _is_finite(output):
        return
    ranges = "; ".join(f"input {i}: {describe_range(a)}" for i, a in enumerate(inputs))
    raise NumericsError(
        f"{where}: forward produced non-finite values (output {describe_range(output)}); {ranges}"
    )


def check_backward(where: str, index: int, received: np.ndarray, sent: np.ndarray) -> None:
    """Raise if the gradient sent to input ``index`` holds NaN/Inf: name the op."""
    if _is_finite(sent):
        return
    raise NumericsError(
        f"backward of {where} produced non-finite values in the gradient for input {index} "
        f"({describe_range(sent)}); the gradient it received: {describe_range(received)}"
    )

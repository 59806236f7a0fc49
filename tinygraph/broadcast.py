"""The one place where broadcasting is undone in the backward pass.

If ``y = f(x)`` broadcast ``x`` of shape ``s`` up to ``y.shape``, every copy of an entry of ``x``
received a gradient; the gradient of ``x`` is their sum: sum over the leading axes that were
added, and over the axes where ``s`` has size 1 (keeping them).
"""

from __future__ import annotations

import numpy as np


def sum_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: dx[j] = sum of dy over every entry that x[j] fed.

    Only the axes that broadcasting added or stretched are summed: ``grad.shape`` must be a
    broadcast of ``shape`` (ValueError otherwise), so a gradient of a permuted or flattened
    shape is never silently reshaped into place.
    """
    if grad.shape == shape:
        return grad
    if grad.ndim == len(shape) + 1 and grad.shape[1:] == shape:  # the common bias case
        summed = np.add.reduce(grad, axis=0)
        return summed if type(summed) is np.ndarray else np.asarray(summed)  # 0-d: not a scalar
    lead = grad.ndim - len(shape)
    if lead < 0 or any(size not in (1, grad.shape[lead + i]) for i, size in enumerate(shape)):
        raise ValueError(f"a gradient of shape {grad.shape} is not a broadcast of shape {shape}")
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and grad.shape[lead + i] != 1
    )
    summed = grad.sum(axis=axes, keepdims=True) if axes else grad
    return summed.reshape(shape) if lead else summed  # drops the summed leading axes

"""Arithmetic ops: + - * / ** @ and negation, all numpy-broadcasting.

Each backward returns the gradient at the broadcast shape; the engine sums it back to every
input's shape (see ``tinygraph.broadcast.sum_to``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Op
from tinygraph.tangent import lift, scaled, total
from tinygraph.tensor import Tensor


class Add(Op):
    """y = a + b;  da = dy, db = dy."""

    __slots__ = ()
    saves_output = False
    keeps_inputs = False

    name = "add"
    broadcasts = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return grad, grad

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ + ḃ (each tangent broadcast to y's shape)."""
        n = self.output.ndim
        return total(scaled(a_dot, 1.0, n), scaled(b_dot, 1.0, n))


class Sub(Op):
    """y = a − b;  da = dy, db = −dy."""

    __slots__ = ()
    saves_output = False
    keeps_inputs = False

    name = "sub"
    broadcasts = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return grad, (-grad if self.needs_input_grad[1] else None)

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ − ḃ (each tangent broadcast to y's shape)."""
        n = self.output.ndim
        return total(scaled(a_dot, 1.0, n), scaled(b_dot, -1.0, n))


class Mul(Op):
    """y = a · b (elementwise);  da = dy · b, db = dy · a."""

    __slots__ = ()
    saves_output = False

    name = "mul"
    broadcasts = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        return (grad * b if need_a else None), (grad * a if need_b else None)

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ · b + a · ḃ (the product rule; tangents broadcast to y's shape)."""
        a, b = self.inputs
        n = self.output.ndim
        return total(scaled(a_dot, b, n), scaled(b_dot, a, n))


class Div(Op):
    """y = a / b;  da = dy / b, db = −dy · a / b² = −dy · y / b."""

    __slots__ = ()

    name = "div"
    broadcasts = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        _, b = self.inputs
        need_a, need_b = self.needs_input_grad
        da = grad / b if need_a else None
        db = -grad * self.output / b if need_b else None
        return da, db

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ / b − y · ḃ / b = (ȧ − y · ḃ) / b."""
        _, b = self.inputs
        n = self.output.ndim
        return total(scaled(a_dot, 1.0, n), scaled(b_dot, -self.output, n)) / b


class Pow(Op):
    """y = a ** p;  da = dy · p · a^(p−1), dp = dy · y · ln a (only when p needs a gradient).

    At the edges, as PyTorch: da = 0 where p = 0; at a = 0, dp = 0 where p >= 0 (a^p · ln a → 0)
    and dp = dy · (+inf · −inf) = −inf · dy where p < 0 (a^p is infinite there).
    """

    __slots__ = ()

    name = "pow"
    broadcasts = True

    def forward(self, a: np.ndarray, p: np.ndarray) -> np.ndarray:
        return a**p

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, p = self.inputs
        need_a, need_p = self.needs_input_grad
        da = dp = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if need_a:  # d(a^0)/da = 0, also at a = 0 (where a^(p-1) is inf)
                da = np.where(p == 0, 0.0, grad * p * a ** (p - 1))
            if need_p:  # a^p · ln a → 0 at a = 0 for p >= 0, as PyTorch takes it
                dp = np.where((a == 0) & (p >= 0), 0.0, grad * self.output * np.log(a))
        return da, dp

    def jvp(self, a_dot: np.ndarray | None, p_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = p · a^(p−1) · ȧ + y · ln a · ṗ, with backward's edges: the first factor
        is 0 where p = 0, the second 0 where a = 0 and p >= 0 (−inf where a = 0, p < 0)."""
        a, p = self.inputs
        n = self.output.ndim
        slope_a = slope_p = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if a_dot is not None:
                slope_a = np.where(p == 0, 0.0, p * a ** (p - 1))
            if p_dot is not None:
                slope_p = np.where((a == 0) & (p >= 0), 0.0, self.output * np.log(a))
            return total(scaled(a_dot, slope_a, n), scaled(p_dot, slope_p, n))


class Neg(Op):
    """y = −x;  dx = −dy."""

    __slots__ = ()
    saves_output = False
    keeps_inputs = False

    name = "neg"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (-grad,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = −ẋ."""
        return -x_dot


class MatMul(Op):
    """y = a @ b (numpy rules: 1-D operands, stacked batches);  da = dy @ bᵀ, db = aᵀ @ dy."""

    __slots__ = ()
    saves_output = False

    name = "matmul"
    broadcasts = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a @ b

    def explain(self, a: np.ndarray, b: np.ndarray) -> str:
        if a.ndim == 0 or b.ndim == 0:
            return f"cannot multiply shapes {a.shape} and {b.shape}: @ needs 1-D or more"
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            return (
                f"cannot multiply shapes {a.shape} and {b.shape}: the inner dimensions "
                f"{a.shape[-1]} and {inner_b} differ"
            )
        return f"cannot multiply shapes {a.shape} and {b.shape}: the batch dimensions do not broadcast"

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:
            return (grad @ b.T if need_a else None), (a.T @ grad if need_b else None)
        if a.ndim == 1 and b.ndim == 1:  # inner product: dy is a scalar
            return (grad * b if need_a else None), (grad * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        da = db = None
        if need_a:
            da = g2 @ np.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                da = da[..., 0, :]
        if need_b:
            db = np.swapaxes(a2, -1, -2) @ g2
            if b.ndim == 1:
                db = db[..., 0]
        return da, db

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ @ b + a @ ḃ (the product rule), for K directions at once.

        As the forward does, a 1-D a is read as a row (1, D) and a 1-D b as a column (D, 1),
        and the added axis is dropped from the result; each tangent gets axes of size 1 after
        K so that its stacked-batch axes broadcast like its operand's.
        """
        a, b = self.inputs
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        n = max(a2.ndim, b2.ndim)
        terms = []
        if a_dot is not None:
            terms.append(lift(a_dot[..., None, :] if a.ndim == 1 else a_dot, n) @ b2)
        if b_dot is not None:
            terms.append(a2 @ lift(b_dot[..., None] if b.ndim == 1 else b_dot, n))
        y_dot = total(*terms)
        if b.ndim == 1:
            y_dot = y_dot[..., 0]
        if a.ndim == 1:
            y_dot = y_dot[..., 0] if b.ndim == 1 else y_dot[..., 0, :]
        return y_dot


def add(a: Any, b: Any) -> Tensor:
    """Elementwise a + b with broadcasting."""
    return Add()(a, b)


def sub(a: Any, b: Any) -> Tensor:
    """Elementwise a − b with broadcasting."""
    return Sub()(a, b)


def mul(a: Any, b: Any) -> Tensor:
    """Elementwise a · b with broadcasting."""
    return Mul()(a, b)


def div(a: Any, b: Any) -> Tensor:
    """Elementwise a / b with broadcasting."""
    return Div()(a, b)


def power(a: Any, p: Any) -> Tensor:
    """Elementwise a ** p with broadcasting."""
    return Pow()(a, p)


def neg(x: Any) -> Tensor:
    """−x."""
    return Neg()(x)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product a @ b (numpy's rules)."""
    return MatMul()(a, b)

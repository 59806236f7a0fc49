"""Elementwise functions of one tensor: tanh, sigmoid, relu, exp, log, abs, sqrt, square, sin, cos,
and the pass-throughs identity and copy."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Op
from tinygraph.tensor import Tensor


class Tanh(Op):
    """y = tanh(x);  dx = dy · (1 − y²)."""

    __slots__ = ()
    keeps_inputs = False

    name = "tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        y = self.output
        return ((1.0 - y * y) * grad,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = (1 − y²) · ẋ."""
        y = self.output
        return (1.0 - y * y) * x_dot


class Sigmoid(Op):
    """y = 1 / (1 + e^(−x));  dx = dy · y · (1 − y)."""

    __slots__ = ()
    keeps_inputs = False

    name = "sigmoid"

    def forward(self, x: np.ndarray) -> np.ndarray:
        # Stable on both tails: e^(-|x|) never overflows.
        z = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        y = self.output
        return ((1.0 - y) * y * grad,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = y · (1 − y) · ẋ."""
        y = self.output
        return (y * (1.0 - y)) * x_dot


class ReLU(Op):
    """y = max(x, 0);  dx = dy where x > 0, else 0 (the derivative at 0 is taken as 0)."""

    __slots__ = ()
    saves_output = False

    name = "relu"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * (self.inputs[0] > 0),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ where x > 0, else 0."""
        return x_dot * (self.inputs[0] > 0)


class Exp(Op):
    """y = e^x;  dx = dy · y."""

    __slots__ = ()
    keeps_inputs = False

    name = "exp"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.output,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = y · ẋ."""
        return self.output * x_dot


class Log(Op):
    """y = ln x;  dx = dy / x."""

    __slots__ = ()
    saves_output = False

    name = "log"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad / self.inputs[0],)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ / x."""
        return x_dot / self.inputs[0]


class Identity(Op):
    """y = x;  dx = dy (a named pass-through, e.g. a linear recurrence's activation)."""

    __slots__ = ()
    saves_output = False
    keeps_inputs = False

    name = "identity"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ."""
        return x_dot


class Copy(Op):
    """y = x in a new array (numpy.copy);  dx = dy. Unlike identity, y never shares x's memory,
    so a write into y.data leaves x as it was."""

    __slots__ = ()
    saves_output = False
    keeps_inputs = False

    name = "copy"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ."""
        return x_dot


class Abs(Op):
    """y = |x|;  dx = dy · sign(x) (the derivative at 0 is taken as 0, as PyTorch's sign)."""

    __slots__ = ()

    name = "abs"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * np.sign(self.inputs[0]),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = sign(x) · ẋ (0 at x = 0)."""
        return np.sign(self.inputs[0]) * x_dot


class Sqrt(Op):
    """y = √x;  dx = dy / (2y) (inf at x = 0, as in PyTorch; NaN for x < 0)."""

    __slots__ = ()
    keeps_inputs = False

    name = "sqrt"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad / (2.0 * self.output),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ / (2y)."""
        return x_dot / (2.0 * self.output)


class Square(Op):
    """y = x²;  dx = dy · 2x."""

    __slots__ = ()

    name = "square"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.square(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * (2.0 * self.inputs[0]),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = 2x · ẋ."""
        return (2.0 * self.inputs[0]) * x_dot


class Sin(Op):
    """y = sin x;  dx = dy · cos x."""

    __slots__ = ()

    name = "sin"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * np.cos(self.inputs[0]),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = cos x · ẋ."""
        return np.cos(self.inputs[0]) * x_dot


class Cos(Op):
    """y = cos x;  dx = −dy · sin x."""

    __slots__ = ()

    name = "cos"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cos(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (-grad * np.sin(self.inputs[0]),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = −sin x · ẋ."""
        return -np.sin(self.inputs[0]) * x_dot


def tanh(x: Any) -> Tensor:
    """Elementwise hyperbolic tangent."""
    return Tanh()(x)


def sigmoid(x: Any) -> Tensor:
    """Elementwise logistic function 1 / (1 + e^(−x))."""
    return Sigmoid()(x)


def relu(x: Any) -> Tensor:
    """Elementwise max(x, 0)."""
    return ReLU()(x)


def exp(x: Any) -> Tensor:
    """Elementwise e^x."""
    return Exp()(x)


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm."""
    return Log()(x)


def identity(x: Any) -> Tensor:
    """y = x, recorded as a node."""
    return Identity()(x)


def copy(x: Any) -> Tensor:
    """y = x in a new array, recorded as a node (numpy.copy); the gradient passes unchanged."""
    return Copy()(x)


def abs(x: Any) -> Tensor:  # noqa: A001 (tg.abs mirrors numpy)
    """Elementwise |x| (the gradient at 0 is 0)."""
    return Abs()(x)


def sqrt(x: Any) -> Tensor:
    """Elementwise √x."""
    return Sqrt()(x)


def square(x: Any) -> Tensor:
    """Elementwise x²."""
    return Square()(x)


def sin(x: Any) -> Tensor:
    """Elementwise sine."""
    return Sin()(x)


def cos(x: Any) -> Tensor:
    """Elementwise cosine."""
    return Cos()(x)

"""tinygraph: a minimal reverse-mode autodiff engine with tensors on edges and ops on nodes."""

# tensor first: it wires its operators to the op modules, which import it back.
from tinygraph.tensor import Tensor  # isort: skip

from tinygraph.allocator import keep_freed_memory
from tinygraph.anomaly import detect_anomaly
from tinygraph.backward import backward, grad
from tinygraph.checkpoint import checkpoint
from tinygraph.gc_pause import pause_gc
from tinygraph.errors import (
    BackwardError,
    ConfigError,
    DTypeError,
    GraphStateError,
    NumericsError,
    RenderError,
    ShapeError,
    TinygraphError,
)
from tinygraph.gradcheck import gradcheck
from tinygraph.gradcheck_nodes import NodeCheckReport, gradcheck_nodes
from tinygraph.gradcheck_report import GradcheckReport
from tinygraph.memory import MemoryReport, saved_bytes
from tinygraph.node import Node, Op
from tinygraph.numerical import numerical_grad
from tinygraph.ops.arith import add, div, matmul, mul, neg, power, sub
from tinygraph.ops.elementwise import exp, identity, log, relu, sigmoid, tanh
from tinygraph.ops.shape import concat, mean, reshape, stack, transpose
from tinygraph.ops.shape import sum as sum  # noqa: A004 (tg.sum mirrors numpy)
from tinygraph.ops.softmax import cross_entropy, log_softmax, softmax
from tinygraph.render import draw, render, to_dot
from tinygraph.scope import current_scope, enable_grad, is_grad_enabled, no_grad, scope
from tinygraph.stepthrough import stepthrough, stepthrough_html
from tinygraph.trace import Trace, trace_backward

__all__ = [
    "BackwardError",
    "ConfigError",
    "DTypeError",
    "GradcheckReport",
    "GraphStateError",
    "MemoryReport",
    "Node",
    "NodeCheckReport",
    "NumericsError",
    "Op",
    "RenderError",
    "ShapeError",
    "Tensor",
    "TinygraphError",
    "Trace",
    "add",
    "backward",
    "checkpoint",
    "concat",
    "cross_entropy",
    "current_scope",
    "detect_anomaly",
    "div",
    "draw",
    "enable_grad",
    "exp",
    "grad",
    "gradcheck",
    "gradcheck_nodes",
    "identity",
    "is_grad_enabled",
    "keep_freed_memory",
    "log",
    "log_softmax",
    "matmul",
    "mean",
    "mul",
    "neg",
    "no_grad",
    "numerical_grad",
    "pause_gc",
    "power",
    "relu",
    "render",
    "reshape",
    "saved_bytes",
    "scope",
    "sigmoid",
    "softmax",
    "stack",
    "stepthrough",
    "stepthrough_html",
    "sub",
    "sum",
    "tanh",
    "to_dot",
    "trace_backward",
    "transpose",
]

"""tinygraph: a minimal reverse-mode autodiff engine with tensors on edges and ops on nodes."""

# tensor first: it wires its operators to the op modules, which import it back.
from tinygraph.tensor import Tensor  # isort: skip

from tinygraph.anomaly import detect_anomaly
from tinygraph.backward import backward, grad, graph_nodes
from tinygraph.checkpoint import checkpoint
from tinygraph.performance import keep_freed_memory, pause_gc
from tinygraph.errors import (
    BackwardError,
    ConfigError,
    DTypeError,
    ForwardModeError,
    GraphStateError,
    NumericsError,
    RenderError,
    ShapeError,
    SpellingError,
    TinygraphError,
)
from tinygraph.forward import jvp
from tinygraph.check.gradcheck import gradcheck
from tinygraph.check.nodes import gradcheck_nodes
from tinygraph.check.report import GradcheckReport, NodeCheckReport
from tinygraph.jacobian import jacobian
from tinygraph.memory import MemoryReport, saved_bytes
from tinygraph.node import Node, Op
from tinygraph.check.numerical import numerical_grad
from tinygraph.ops.arith import add, div, matmul, mul, neg, power, sub
from tinygraph.ops.elementwise import copy, cos, exp, identity, log, relu, sigmoid, sin, sqrt, square, tanh
from tinygraph.ops.elementwise import abs as abs  # noqa: A004 (tg.abs mirrors numpy)
from tinygraph.ops.minmax import max as max  # noqa: A004 (tg.max mirrors numpy)
from tinygraph.ops.minmax import maximum, minimum
from tinygraph.ops.minmax import min as min  # noqa: A004 (tg.min mirrors numpy)
from tinygraph.ops.no_gradient import argmax, argmin
from tinygraph.ops.select import clip, where
from tinygraph.ops.shape import concat, mean, reshape, stack, transpose
from tinygraph.ops.shape import sum as sum  # noqa: A004 (tg.sum mirrors numpy)
from tinygraph.ops.softmax import cross_entropy, log_softmax, softmax
from tinygraph.ops.split import split
from tinygraph.render import draw, render, to_dot
from tinygraph.output_path import output_path_fault
from tinygraph.render.explore import Explorer, explore
from tinygraph.replay import Compiled
from tinygraph.replay import compile as compile  # noqa: A004 (torch.compile, jax.jit)
from tinygraph.render.stepthrough import stepthrough, stepthrough_html
from tinygraph.scope import (
    current_scope,
    enable_grad,
    format_scope,
    is_grad_enabled,
    no_grad,
    scope,
    scoped_range,
)
from tinygraph.spellings import MODULE_NAMES as _TORCH_NAMES
from tinygraph.spellings import missing_name as _missing_name
from tinygraph.trace import JunctionStep, NodeStep, Trace, trace_backward

__all__ = [
    "BackwardError",
    "Compiled",
    "ConfigError",
    "DTypeError",
    "Explorer",
    "ForwardModeError",
    "GradcheckReport",
    "GraphStateError",
    "JunctionStep",
    "MemoryReport",
    "Node",
    "NodeCheckReport",
    "NodeStep",
    "NumericsError",
    "Op",
    "RenderError",
    "ShapeError",
    "SpellingError",
    "Tensor",
    "TinygraphError",
    "Trace",
    "abs",
    "add",
    "argmax",
    "argmin",
    "backward",
    "checkpoint",
    "clip",
    "compile",
    "concat",
    "copy",
    "cos",
    "cross_entropy",
    "current_scope",
    "detect_anomaly",
    "div",
    "draw",
    "enable_grad",
    "exp",
    "explore",
    "format_scope",
    "grad",
    "gradcheck",
    "gradcheck_nodes",
    "graph_nodes",
    "identity",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "keep_freed_memory",
    "log",
    "log_softmax",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "no_grad",
    "numerical_grad",
    "output_path_fault",
    "pause_gc",
    "power",
    "relu",
    "render",
    "reshape",
    "saved_bytes",
    "scope",
    "scoped_range",
    "sigmoid",
    "sin",
    "softmax",
    "split",
    "sqrt",
    "square",
    "stack",
    "stepthrough",
    "stepthrough_html",
    "sub",
    "sum",
    "tanh",
    "to_dot",
    "trace_backward",
    "transpose",
    "where",
]


def __getattr__(name: str) -> object:
    """Called only for a name tinygraph does not have: say what to write instead."""
    raise _missing_name("tg", name, _TORCH_NAMES, f"module 'tinygraph' has no attribute {name!r}",
                        lambda: __all__)

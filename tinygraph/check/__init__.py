"""Checking gradients: central differences (numerical), the whole-function check (gradcheck),
the node-by-node check that names the op whose backward or jvp is wrong (nodes), the
comparison rule (compare) and what they report (report)."""

from tinygraph.check.gradcheck import gradcheck
from tinygraph.check.nodes import MODES, gradcheck_nodes
from tinygraph.check.numerical import numerical_grad
from tinygraph.check.report import GradcheckReport, NodeCheckReport

__all__ = ["MODES", "GradcheckReport", "NodeCheckReport", "gradcheck", "gradcheck_nodes", "numerical_grad"]

"""What the gradient checks found: ``GradcheckReport`` (tg.gradcheck) and ``NodeCheckReport``
(tg.gradcheck_nodes), each printable as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinygraph.check.compare import Comparison, comparison_cells, comparison_headers, pass_rule
from tinygraph.node import Node
from tinygraph.table import format_table


class _RowsReport:
    """What both reports share: ``rows`` whose ``ok`` make the verdict, and ``print`` (and a
    notebook) as a heading, a table and the lines under it, from each report's ``_head()`` and
    ``_table(every)``."""

    rows: tuple[Any, ...]
    _html_kind = ""

    @property
    def ok(self) -> bool:
        """True when every row passes."""
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Any]:
        """The rows that fail, in order."""
        return [row for row in self.rows if not row.ok]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        headers, rows, under = self._table()
        return "\n".join([self._head(), format_table(headers, rows), *under])

    def _repr_html_(self) -> str:
        """The table of ``print(report)`` as HTML, for a notebook (escaped), with every row
        (a notebook scrolls; up to html_table's limit)."""
        from tinygraph.render.html_table import html_table
        headers, rows, under = self._table(every=True)
        return html_table(headers, rows, caption=self._head(), notes=under, kind=self._html_kind)


@dataclass(frozen=True)
class GradcheckReport(_RowsReport):
    """What ``gradcheck`` found: one :class:`Comparison` per input, printable as a table.

    Attributes:
        rows: one comparison per input, in the order given.
        mode: ``"full"`` (every entry), ``"directional"`` (random directions) or
            ``"jvp-vjp"`` (the dot-product test of forward against reverse mode).
        eps, atol, rtol: the settings used.
        value: f at the unperturbed inputs.
        notes: remarks that explain a failure (e.g. f's result does not depend on the inputs).
        culprit: on failure, the first node whose backward disagrees with its own forward,
            written ``op (t=3, layer=1)``; None when it passed or could not be found.
    """

    rows: tuple[Comparison, ...]
    mode: str
    eps: float
    atol: float
    rtol: float
    value: float
    notes: tuple[str, ...] = ()
    culprit: str | None = None
    _html_kind = "gradcheck"

    def _head(self) -> str:
        failed = len(self.failures)
        status = "ok" if self.ok else f"FAIL: {failed} of {len(self.rows)} inputs disagree"
        settings = "" if self.mode == "jvp-vjp" else f"eps={self.eps:g}, "
        return (f"gradcheck (mode={self.mode}, {settings}atol={self.atol:g}, "
                f"rtol={self.rtol:g}): {status}")

    def _table(self, every: bool = False) -> tuple[list[str], list[list[str]], list[str]]:
        """Headers, a row per input (``every`` changes nothing: there is one per input) and
        the lines under the table."""
        what = "worst = entry index" if self.mode == "full" else "worst = direction number"
        return (["input", *comparison_headers(self.mode)],
                [[row.label, *comparison_cells(row)] for row in self.rows],
                [f"{pass_rule(self.mode)}; {what}", *self.notes])

    def __repr__(self) -> str:
        return f"GradcheckReport(ok={self.ok}, mode={self.mode!r}, inputs={len(self.rows)})"


MAX_TABLE_ROWS = 40


@dataclass(frozen=True)
class NodeComparison:
    """The check of one input of one node: ``node``, ``input_index`` and the comparison."""

    node: Node
    input_index: int
    comparison: Comparison

    @property
    def ok(self) -> bool:
        """Whether the node's backward agrees with the numerical VJP for this input."""
        return self.comparison.ok

    @property
    def where(self) -> str:
        """The node as messages write it: ``tanh (t=3, layer=1)``."""
        return self.node.where()


@dataclass(frozen=True)
class NodeCheckReport(_RowsReport):
    """What ``gradcheck_nodes`` found: one row per (node, input that needs a gradient).

    Attributes:
        rows: the checks in node creation order.
        nodes_checked: how many nodes were visited.
        mode, eps, atol, rtol: the settings used.
    """

    rows: tuple[NodeComparison, ...]
    nodes_checked: int
    mode: str
    eps: float
    atol: float
    rtol: float
    _html_kind = "gradcheck-nodes"

    @property
    def first_failure(self) -> NodeComparison | None:
        """The earliest-created failing check, or None."""
        return next((row for row in self.rows if not row.ok), None)

    @property
    def first_failing_node(self) -> Node | None:
        """The earliest-created node whose backward disagrees, or None."""
        first = self.first_failure
        return None if first is None else first.node

    def _head(self) -> str:
        first = self.first_failure
        if first is None:
            status = "ok"
        else:
            nodes = len({id(row.node) for row in self.failures})
            status = (f"FAIL: first disagreeing node: {first.where}, input "
                      f"{first.comparison.label} ({nodes} failing node(s))")
        return (f"gradcheck_nodes (mode={self.mode}, eps={self.eps:g}, atol={self.atol:g}, "
                f"rtol={self.rtol:g}): {self.nodes_checked} nodes, {status}")

    def _table(self, every: bool = False) -> tuple[list[str], list[list[str]], list[str]]:
        """Headers, the rows shown (every row, or the failures when there are too many and
        not ``every``) and the lines under the table."""
        shown = list(self.rows)
        hidden = 0
        if len(shown) > MAX_TABLE_ROWS and not every:
            shown = self.failures[:MAX_TABLE_ROWS]
            hidden = len(self.rows) - len(shown)
        under = []
        if hidden:
            hidden_failures = len(self.failures) - len(shown)
            kind = f"{hidden_failures} failing and " if hidden_failures else ""
            under.append(f"... {kind}{hidden - hidden_failures} passing rows not shown; "
                         "report.rows has every row")
        what = (", for each node on its own" if self.mode == "jvp-vjp"
                else " of the node's VJP with a random upstream gradient")
        under.append(pass_rule(self.mode) + what)
        return (["node", "input", *comparison_headers(self.mode)],
                [[row.where, row.comparison.label, *comparison_cells(row.comparison)]
                 for row in shown], under)

    def __repr__(self) -> str:
        return (f"NodeCheckReport(ok={self.ok}, nodes={self.nodes_checked}, "
                f"failures={len(self.failures)})")

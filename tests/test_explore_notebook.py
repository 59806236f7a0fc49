"""Notebook display: the explorer page inline, traces and gradient checks as HTML tables.

``tests/notebooks/explore.ipynb`` is executed with nbclient (skipped without nbclient,
nbformat or ipykernel: ``make test`` installs them with the dev extra); its outputs must hold
the page in a sandboxed frame and the tables, escaped. The reprs are also checked directly.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from explore_pages import page_data, two_layer_loss

NOTEBOOK = Path(__file__).parent / "notebooks" / "explore.ipynb"


def test_the_notebook_shows_the_page_and_the_tables():
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (dev extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (dev extra)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (dev extra)")
    if shutil.which("neato") is None:
        pytest.skip("Graphviz (neato) is not installed: the page needs its SVG")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    shown = [next((o["data"].get("text/html") for o in cell.get("outputs", [])
                   if o.get("output_type") == "execute_result"), None)
             for cell in notebook.cells if cell.cell_type == "code"]
    _, page, trace, report, nodes = shown
    frame = re.fullmatch(r'<iframe class="tinygraph-explore" sandbox="allow-scripts" [^<>]*'
                         r'srcdoc="([^"<>]*)"></iframe>', page)
    assert frame is not None
    document = html.unescape(frame.group(1))
    assert "default-src 'none'" in document and len(page_data(document)["times"]) == 6
    assert trace.startswith('<div class="tinygraph-table tinygraph-trace"><div><b>')
    assert "<th style=\"text-align:left\">detail</th>" in trace and "junction Σ" in trace
    assert "gradcheck (mode=full" in report and "&lt;x&gt;" in report and "<x>" not in report
    assert "gradcheck_nodes (mode=full" in nodes and "<td" in nodes


def rows(table: str) -> list[list[str]]:
    return [[html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table) if "<td" in row]


def test_a_trace_s_html_has_the_cells_of_its_printed_table():
    trace = tg.trace_backward(two_layer_loss(2))
    found = rows(trace._repr_html_())
    printed = str(trace).splitlines()[2:]
    assert len(found) == len(trace) == len(printed)
    for cells, line in zip(found, printed):
        assert line.split()[0] == cells[0] and all(c in line for c in cells if c)
    assert repr(trace) == f"Trace({len(trace)} steps, {len(trace.junctions())} junctions)"


def test_a_long_trace_is_cut_with_a_note():
    trace = tg.trace_backward(two_layer_loss(16))
    text = trace._repr_html_()
    assert len(rows(text)) == 200 and f"… {len(trace) - 200} more rows not shown" in text


def test_gradcheck_reports_are_tables_with_their_verdict_and_escaped_names():
    x = tg.Tensor(np.array([0.5, -1.0]), requires_grad=True, name="<script>x</script>")
    report = tg.gradcheck(lambda: tg.tanh(x).sum(), [x])
    text = report._repr_html_()
    assert "<script>" not in text and "&lt;script&gt;x&lt;/script&gt;" in text
    assert rows(text)[0][0] == "<script>x</script>" and rows(text)[0][-1] == report.rows[0].verdict
    assert str(report).splitlines()[0] in html.unescape(text)
    nodes = tg.gradcheck_nodes(tg.tanh(x).sum())
    assert [r[0] for r in rows(nodes._repr_html_())] == [r.where for r in nodes.rows]
    assert html.unescape(nodes._repr_html_()).count(str(nodes).splitlines()[-1]) == 1

"""An op's local derivative in symbols and in words, for the explorer's op panel.

The symbols come from the op's own docstring, whose first sentence states its math as
``y = tanh(x);  dx = dy · (1 − y²)``: the part before ``;`` is the forward, each ``dX = …``
after it the gradient sent to one input, in input order. The page writes them with the
graph's own names when every one is a plain symbol (``∂L/∂a = ∂L/∂h ⊙ (1 − h²)``: ``·`` of
an elementwise op becomes ``⊙``), else with the docstring's letters and what each stands
for. The words are one sentence per built-in op; an op of your own shows its docstring.
"""

from __future__ import annotations

import re

from tinygraph.node import Node
from tinygraph.render.explore.graph import plain_name
from tinygraph.render.names import SYMBOL
from tinygraph.render.safe_text import shorten

ELEMENTWISE = {"tanh", "sigmoid", "relu", "exp", "log", "mul", "div", "pow", "abs", "sqrt",
               "square", "sin", "cos", "softmax", "log_softmax"}
WORDS = {
    "add": "copies the gradient it receives to both inputs (summed over any broadcast axes)",
    "sub": "copies the gradient it receives to a and its negative to b",
    "mul": "multiplies the gradient it receives by the other factor, entry by entry",
    "div": "divides the gradient by b for a; for b it also multiplies by −a/b²",
    "pow": "multiplies the gradient by the slope p·a^(p−1) of the power",
    "neg": "sends the gradient back with its sign flipped",
    "matmul": "multiplies the gradient it receives by the other matrix, transposed",
    "tanh": "multiplies the gradient by tanh's slope 1 − y², entry by entry: close to 1 where "
            "y is near 0, close to 0 where the unit is saturated (y near ±1)",
    "sigmoid": "multiplies the gradient by the sigmoid's slope y(1 − y), at most 1/4",
    "relu": "passes the gradient where the input was positive and blocks it (0) elsewhere",
    "exp": "multiplies the gradient by the output e^x itself",
    "log": "divides the gradient by the input",
    "identity": "passes the gradient through unchanged",
    "copy": "passes the gradient through unchanged",
    "abs": "passes the gradient with the sign of the input",
    "sqrt": "divides the gradient by twice the output",
    "square": "multiplies the gradient by twice the input",
    "sin": "multiplies the gradient by cos x",
    "cos": "multiplies the gradient by −sin x",
    "getitem": "puts the gradient back at the entries that were taken, zeros elsewhere",
    "transpose": "transposes the gradient back",
    "reshape": "reshapes the gradient back to the input's shape",
    "sum": "hands the gradient to every entry that was summed: each gets the same value",
    "mean": "hands every averaged entry the gradient divided by their number",
    "concat": "cuts the gradient into the pieces each input filled",
    "stack": "hands each input its own slice of the gradient",
    "maximum": "passes the gradient to whichever input was larger",
    "minimum": "passes the gradient to whichever input was smaller",
    "max": "passes the gradient to the entries that were the maximum",
    "min": "passes the gradient to the entries that were the minimum",
    "where": "passes the gradient to a where the condition held, to b elsewhere",
    "clip": "passes the gradient where the input was inside the bounds, 0 where it was cut",
    "softmax": "multiplies by the softmax's Jacobian: y ⊙ (dy − Σ_j dy_j y_j)",
    "log_softmax": "subtracts the softmax times the total of the gradient",
    "cross_entropy": "the gradient for the scores is the softmax probabilities minus the "
                     "one-hot target, p − onehot(c): positive for wrong classes, negative "
                     "for the right one",
}
_GRADIENT = re.compile(r"(?<![A-Za-z∂])d([A-Za-z])(_[A-Za-z0-9]+)?(?![A-Za-z])")
_REMARK = re.compile(r"\s+\(((?:[^()]|\([^()]*\))*[A-Za-z]{4,}(?:[^()]|\([^()]*\))*)\)\s*$")
_CLAUSE = re.compile(r",\s*(?=d[A-Za-z](?:_\w+)?\s*=)")


def docstring_math(op: object) -> tuple[str, list[str]] | None:
    """(forward, [backward clause per input]) from the op's docstring, or None when its first
    paragraph is not written ``y = …;  dx = …``."""
    doc = (type(op).__doc__ or "").strip()
    first = " ".join(line.strip() for line in doc.split("\n\n", 1)[0].splitlines())
    if ";" not in first or "=" not in first:
        return None
    forward, backward = (part.strip() for part in first.split(";", 1))
    backward = backward.split(". ", 1)[0].rstrip(".").strip()
    clauses = [c.strip() for c in _CLAUSE.split(backward) if c.strip()]
    if not clauses or not all(_GRADIENT.match(c) for c in clauses):
        return None
    return forward, clauses


def local_derivative(node: Node, names: list[str | None], out_name: str | None) -> dict[str, object]:
    """The op panel's text: ``forward`` and ``backward`` (a line per input) in symbols,
    ``notes`` (the docstring's remarks in brackets), ``legend`` (what the docstring's letters
    stand for, when they are kept) and ``words``. ``names`` are the inputs' plain names and
    ``out_name`` the output's (None when unnamed): they replace the letters when all are
    plain symbols and differ from each other."""
    op = node.op
    words = WORDS.get(op.name, "")
    found = docstring_math(op)
    if found is None:
        first = shorten((type(op).__doc__ or "").strip().split("\n\n", 1)[0], 400)
        return {"forward": "", "backward": [], "notes": [], "legend": "", "words": words,
                "doc": " ".join(first.split())}
    forward, clauses = found
    notes: list[str] = []
    forward = _strip_remark(forward, notes)
    clauses = [_strip_remark(c, notes) for c in clauses]
    out_letter = forward.split("=", 1)[0].strip().split("_", 1)[0]
    letters = [_GRADIENT.match(c).group(1) for c in clauses]
    pairs = list(zip([out_letter, *letters], [out_name, *names[:len(letters)]]))
    shown = [n for _, n in pairs]
    named = (len(letters) <= len(names) and re.fullmatch(r"[A-Za-z]", out_letter) is not None
             and all(n is not None and SYMBOL.match(n) for n in shown)
             and len(set(shown)) == len(shown))
    mapping = {letter: name for letter, name in pairs} if named else {}
    elementwise = op.name in ELEMENTWISE
    legend = "" if named else ", ".join(f"{letter} = {shorten(name, 40)}"
                                        for letter, name in pairs if name and name != letter)
    return {"forward": _symbols(forward, mapping, elementwise, gradient=False),
            "backward": [_symbols(c, mapping, elementwise, gradient=True) for c in clauses],
            "notes": notes, "legend": legend, "words": words, "doc": ""}


def derivative_of(node: Node) -> dict[str, object]:
    """:func:`local_derivative` of ``node`` with its tensors' own plain names."""
    out = node.output
    return local_derivative(node, [plain_name(t) for t in node.inputs],
                            plain_name(out) if out is not None else None)


def _strip_remark(text: str, notes: list[str]) -> str:
    """``text`` without a trailing remark in brackets (one with a word, such as "(numpy
    rules: …)"), which is added to ``notes``; ``(1 − y²)`` stays."""
    found = _REMARK.search(text)
    if found is None:
        return text
    notes.append(found.group(1))
    return text[:found.start()].rstrip()


def _symbols(text: str, mapping: dict[str, str], elementwise: bool, gradient: bool) -> str:
    """``text`` with dX written ∂L/∂X and each letter in ``mapping`` replaced by its name."""
    def grad(match: re.Match[str]) -> str:
        letter, sub = match.group(1), match.group(2) or ""
        return "∂L/∂" + mapping.get(letter, letter) + sub

    def name(match: re.Match[str]) -> str:
        return mapping.get(match.group(0), match.group(0))

    out = _GRADIENT.sub(grad, text) if gradient else text
    if mapping:
        parts = re.split(r"(∂L/∂\S+)", out)
        out = "".join(p if p.startswith("∂L/∂") else
                      re.sub(r"(?<![A-Za-z_])[A-Za-z](?![A-Za-z(])", name, p) for p in parts)
    return out.replace(" · ", " ⊙ ") if elementwise else out

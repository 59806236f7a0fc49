"""User text made safe for every picture and page: tensor names, op labels, scope values, titles.

A name can hold any character a Python ``str`` can. Before it goes into DOT, SVG or HTML,
each character that would break the file or cannot be encoded is written as a visible
escape, as Python's ``repr`` writes it: control characters (``\\x00``, ``\\x1b``; newline and
tab are kept), lone surrogates (``\\udc80``, which UTF-8 cannot encode) and the non-characters
U+FFFE and U+FFFF (which XML forbids). Long names are cut with an ellipsis in labels
(``NAME_LIMIT`` characters) and kept whole, up to ``TEXT_LIMIT``, in tooltips: Graphviz
refuses any quoted string over 16,384 characters. Quoting for DOT is
:func:`tinygraph.render.style.quote`; HTML escaping is ``html.escape`` after :func:`safe_text`.
"""

from __future__ import annotations

import re

NAME_LIMIT = 120   # characters of a name shown in a label
TEXT_LIMIT = 2000  # characters of any one text; quoted for DOT, one character takes at most 5
ELLIPSIS = "…"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def safe_text(text: object) -> str:
    """``str(text)`` with every unsafe character written as its escape (``\\x00``, ``\\udc80``)."""
    return _UNSAFE.sub(_escape, text if isinstance(text, str) else str(text))


def shorten(text: object, limit: int = NAME_LIMIT) -> str:
    """:func:`safe_text` of ``text``, cut to ``limit`` characters ending in an ellipsis."""
    safe = safe_text(text)
    return safe if len(safe) <= limit else safe[:limit - 1] + ELLIPSIS


def full_text_tip(text: object) -> str | None:
    """The whole text (up to TEXT_LIMIT) for a tooltip when a label shows it cut, else None."""
    safe = safe_text(text)
    return shorten(safe, TEXT_LIMIT) if len(safe) > NAME_LIMIT else None


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

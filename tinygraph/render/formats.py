"""Picture formats: which file a picture goes to, and whether Graphviz's bytes are a whole one.

``output_format`` makes the one decision every caller (``tg.render``, the CLI) needs before
any work: the format (from ``format=``, else the path's suffix, else svg) and the path (the
suffix added when absent). ``picture_fault`` says why bytes Graphviz wrote are not a complete
picture of their format, so a truncated or garbage file is never written.
"""

from __future__ import annotations

import os
import xml.parsers.expat
from pathlib import Path

from tinygraph.errors import ConfigError, DTypeError, RenderError
from tinygraph.output_path import output_path_fault

# Graphviz output formats that are files (its interactive ones, x11 or gtk, are not)
FORMATS = ("svg", "svgz", "png", "pdf", "ps", "eps", "jpg", "jpeg", "jpe", "gif", "bmp", "tif",
           "tiff", "webp", "dot", "gv", "xdot", "json", "plain", "fig")
SAME_AS = {"jpeg": "jpg", "jpe": "jpg", "tiff": "tif", "gv": "dot"}  # other names, one format
DEFAULT_FORMAT = "svg"
CHECKED_FORMATS = ("svg", "png", "pdf")  # checked from beginning to end; others: not empty
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # the last chunk: length 0, "IEND", its CRC


def check_format(format: object, where: str = "render") -> str:  # noqa: A002
    """``format`` in lower case if Graphviz writes it as a file; else a ConfigError naming it."""
    name = format.lower() if isinstance(format, str) else None
    if name not in FORMATS:
        raise ConfigError(f"{where}: format must be one of the file formats Graphviz writes "
                          f"({', '.join(FORMATS)}), got {format!r}")
    return name


def output_format(path: str | os.PathLike, format: str | None = None) -> tuple[Path, str]:  # noqa: A002
    """The file to write and its format: ``format`` when given, else the suffix of ``path``
    when it is a format Graphviz writes (``pic.png`` → png), else svg.

    A path without a suffix gets the format's (``pic`` → ``pic.svg``). Refused before any
    work: a ``format`` Graphviz does not write (ConfigError); a suffix that is not such a
    format, or that disagrees with ``format`` (RenderError naming both).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise DTypeError(f"render: the file name must be a str or a path, got {type(path).__name__}")
    target = Path(path)
    if not target.name:
        raise RenderError(f"render: cannot write {str(target)!r}: {output_path_fault(target)}")
    fmt = None if format is None else check_format(format)
    suffix = target.suffix[1:].lower()
    if fmt is not None and target.name.lower().endswith(f".{fmt}"):
        return target, fmt
    if not suffix:
        fmt = fmt or DEFAULT_FORMAT
        return target.with_name(f"{target.name}.{fmt}"), fmt
    if suffix not in FORMATS:
        raise RenderError(
            f"render: {str(target)!r} ends in '.{suffix}', which is not a format Graphviz "
            f"writes ({', '.join(FORMATS)}); name the file with one of them, e.g. "
            f"{target.name + '.' + (fmt or DEFAULT_FORMAT)!r}")
    if fmt is not None and SAME_AS.get(fmt, fmt) != SAME_AS.get(suffix, suffix):
        raise RenderError(f"render: {str(target)!r} ends in '.{suffix}' but format={fmt!r}; "
                          "make them agree (or leave format out to take it from the suffix)")
    return target, fmt or suffix


def picture_fault(data: bytes, fmt: str) -> str | None:
    """Why ``data`` is not a whole picture in format ``fmt``, in words; None when it is one.

    svg: well-formed XML whose root element is <svg> (so it is closed); png: the PNG
    signature first and the IEND chunk last; pdf: a %PDF- header and %%EOF at the end; any
    other format: not empty.
    """
    if not data.strip():
        return "it is empty"
    if fmt == "svg":
        return _svg_fault(data)
    if fmt == "png" and not (data.startswith(PNG_SIGNATURE) and data.endswith(PNG_END)):
        return ("no PNG signature" if not data.startswith(PNG_SIGNATURE)
                else "no IEND chunk at the end: truncated")
    if fmt == "pdf" and not (data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")):
        return "no %PDF- header" if not data.startswith(b"%PDF-") else "no %%EOF at the end: truncated"
    return None


def _svg_fault(data: bytes) -> str | None:
    """None for well-formed XML with an <svg> root element (external entities are not read)."""
    parser = xml.parsers.expat.ParserCreate()
    roots: list[str] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        roots.append(name)
        parser.StartElementHandler = None  # only the root is needed: parse the rest in C

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        return f"not well-formed XML: {exc}"
    if roots[0].rpartition(":")[2] != "svg":
        return f"its root element is <{roots[0]}>, not <svg>"
    return None

"""The command-line options shared by the scripts that write the docs' figures."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_figure_options(description: str, argv: list[str] | None = None) -> tuple[Path, list[str]]:
    """``--out DIR`` (default docs/images) and repeatable ``--format`` (default png):
    returns (out, formats)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="docs/images", help="output directory (default docs/images)")
    parser.add_argument("--format", action="append", dest="formats", choices=["png", "svg", "pdf"],
                        help="file format, repeatable (default png)")
    args = parser.parse_args(argv)
    return Path(args.out), args.formats or ["png"]

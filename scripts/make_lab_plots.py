"""Write the gradient-flow lab's figures: docs/images/lab_*.png (needs `pip install tinygraph[plot]`).

Usage: python scripts/make_lab_plots.py [--out docs/images] [--format png --format svg]
"""

from __future__ import annotations

import argparse

from rnn.plots import write_lab_plots


def main(argv: list[str] | None = None) -> None:
    """Parse the options, compute the numbers, save the figures and list the files written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images", help="output directory (default docs/images)")
    parser.add_argument("--format", action="append", dest="formats", choices=["png", "svg", "pdf"],
                        help="file format, repeatable (default png)")
    args = parser.parse_args(argv)
    for path in write_lab_plots(args.out, args.formats or ["png"]):
        print(path)


if __name__ == "__main__":
    main()

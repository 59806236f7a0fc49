"""Regenerate the pictures of the numbered tutorials (docs/NN_*.md) into docs/images/tut_*.

    .venv/bin/python scripts/make_tutorial_images.py              # every tutorial
    .venv/bin/python scripts/make_tutorial_images.py 04 07        # only these

The pictures are made by the tutorials' own code: each tutorial's python blocks are run in
order (as tests/test_docs.py runs them) in a scratch directory, and every file named tut_* that
they write is moved into docs/images. So a picture always matches the code printed beside it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from doc_blocks import quiet_environment, run_file  # noqa: E402


def tutorials(prefixes: list[str]) -> list[Path]:
    """docs/NN_*.md, optionally only those whose name starts with one of ``prefixes``."""
    found = sorted((ROOT / "docs").glob("[0-9][0-9]_*.md"))
    return [p for p in found if not prefixes or p.name.startswith(tuple(prefixes))]


def make_images(doc: Path, out_dir: Path) -> list[Path]:
    """Run ``doc``'s blocks in a scratch directory; move the tut_* files it wrote to ``out_dir``."""
    moved = []
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                run_file(doc)
        finally:
            os.chdir(here)
        for made in sorted(Path(scratch).glob("tut_*")):
            target = out_dir / made.name
            shutil.move(str(made), target)
            moved.append(target)
    return moved


def main() -> None:
    """Parse the command line and regenerate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="tutorial number prefixes, e.g. 04")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    quiet_environment()
    args.out.mkdir(parents=True, exist_ok=True)
    for doc in tutorials(args.only):
        for path in make_images(doc, args.out):
            print(f"{doc.name}: wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()

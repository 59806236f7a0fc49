"""Size and speed of the explorer page (``tg.explore``): build time, bytes, and the time until
it is interactive in headless Chromium.

Run ``python benchmarks/explore.py`` (``--quick`` for one repeat; ``--no-browser`` to skip
Chromium). The network is the 2-layer Elman RNN of tests/render_graphs.py, as in
benchmarks/render.py. "build" is ``tg.explore(loss)`` from the graph (the trace, every
window's picture through Graphviz, the data), "page" the file's size, "ready" the median
time from ``driver.get`` to the page saying it is interactive (its data decoded, the first
windows drawn and wired: ``body[data-ready]``), "open" the time to open the first fold and
draw its windows. The issue's targets, for T = 32: under 2 MB, interactive in under 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import tinygraph as tg  # noqa: E402
from chromium import CHROMIUM, DRIVER, headless_chromium  # noqa: E402
from render_graphs import build_rnn_loss  # noqa: E402

LENGTHS = (4, 32, 128, 256)


def build(steps: int, repeats: int, folder: Path) -> tuple[Path, float, int]:
    """(the page's file, median seconds to build it, its size in bytes)."""
    loss, _ = build_rnn_loss(steps, 2)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        page = tg.explore(loss, folder / f"explore_{steps}.html")
        times.append(time.perf_counter() - start)
    return page.path, statistics.median(times), page.path.stat().st_size


def browser():
    """A headless Chromium driver, or None when Chromium or selenium is missing."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        return None
    try:
        return headless_chromium(window="1400,900")
    except ImportError:
        return None


def wait(driver, script: str, limit: float = 30.0) -> None:
    end = time.perf_counter() + limit
    while not driver.execute_script(script) and time.perf_counter() < end:
        time.sleep(0.005)


def load(driver, path: Path, repeats: int) -> tuple[float, float | None]:
    """(median seconds until the page is interactive, seconds to open its first fold)."""
    ready, opened = [], []
    for _ in range(repeats):
        driver.get("about:blank")
        start = time.perf_counter()
        driver.get(path.as_uri())
        wait(driver, "return document.body.getAttribute('data-ready') === '1'")
        ready.append(time.perf_counter() - start)
        shown = driver.execute_script("return document.querySelectorAll('#strip svg').length")
        if driver.execute_script("return document.querySelector('.foldbox') !== null"):
            start = time.perf_counter()
            driver.execute_script("document.querySelector('.foldbox').click()")
            wait(driver, f"return document.querySelectorAll('#strip svg').length > {shown} || "
                         "document.querySelectorAll('.foldbox').length > 1")
            opened.append(time.perf_counter() - start)
    return statistics.median(ready), statistics.median(opened) if opened else None


def main() -> None:
    """Print one row per length."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat instead of three")
    parser.add_argument("--no-browser", action="store_true", help="skip the Chromium columns")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    driver = None if args.no_browser else browser()
    print(f"{'T':>5} {'build s':>8} {'page KB':>8} {'ready s':>8} {'open s':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for steps in LENGTHS:
            path, seconds, size = build(steps, repeats, Path(folder))
            ready, opened = load(driver, path, repeats) if driver is not None else (None, None)
            cells = [f"{v:>8.2f}" if v is not None else f"{'-':>8}" for v in (ready,)]
            cells.append(f"{opened:>7.2f}" if opened is not None else f"{'-':>7}")
            print(f"{steps:>5} {seconds:>8.2f} {size / 1024:>8.0f} {' '.join(cells)}")
    if driver is not None:
        driver.quit()


if __name__ == "__main__":
    main()

"""The screenshots of docs/explore.md: the explorer pages of its code, in headless Chromium.

Run ``.venv/bin/python scripts/explore_docs_images.py`` (needs Graphviz, Chromium and its
driver, and selenium: ``make test`` installs them). Writes docs/images/explore_*.png.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import rnn  # noqa: E402
import tinygraph as tg  # noqa: E402
from chromium import headless_chromium, open_explorer  # noqa: E402
from rnn.memory_task import MemoryTask  # noqa: E402

IMAGES = ROOT / "docs" / "images"


def driver():
    return headless_chromium(window="1280,760", flags=("--hide-scrollbars",))


def load(browser, path: Path, hash_part: str = "") -> None:
    open_explorer(browser, path, hash_part)


def click(browser, key: str) -> None:
    browser.execute_script("tinygraphExplorer.zoomTo(1); tinygraphExplorer.pick(arguments[0]);", key)


def main() -> None:
    net, readout = rnn.RNN(input_size=3, hidden_size=4, num_layers=2, rng=0), rnn.Linear(4, 3, rng=1)
    rng = np.random.default_rng(2)
    hs, _ = net(rng.standard_normal((2, 32, 3)))
    loss = rnn.sequence_cross_entropy([readout(h) for h in hs], rng.integers(0, 3, size=(2, 32)))
    browser = driver()
    with tempfile.TemporaryDirectory() as folder:
        page = tg.explore(loss, Path(folder) / "bptt_explore.html")
        load(browser, page.path)
        browser.save_screenshot(str(IMAGES / "explore_page.png"))
        load(browser, page.path, "#frame=40")
        time.sleep(0.2)
        browser.save_screenshot(str(IMAGES / "explore_story.png"))
        load(browser, page.path)
        sigma = browser.execute_script(
            "return Array.from(document.querySelectorAll('#strip g.node[data-k^=\"j\"]')).pop()"
            ".getAttribute('data-k')")
        click(browser, sigma)
        browser.save_screenshot(str(IMAGES / "explore_sigma.png"))
        hs, _ = net(rng.standard_normal((1, 100, 3)))
        long = tg.explore(rnn.sequence_cross_entropy([readout(h) for h in hs],
                                                     rng.integers(0, 3, size=(1, 100))),
                          Path(folder) / "long.html")
        load(browser, long.path)
        browser.execute_script("document.querySelector('.foldbox').click()")
        time.sleep(0.3)
        browser.execute_script("document.querySelector('.foldbox[data-a=\"4\"]').click()")
        time.sleep(0.5)
        browser.execute_script("tinygraphExplorer.zoomTo(0.45); tinygraphExplorer.reveal("
                               "document.querySelector('.foldbox[data-a=\"16\"]'))")
        browser.save_screenshot(str(IMAGES / "explore_fold.png"))

        task = MemoryTask(length=20, symbols=3, distractors=3)
        cell, head = rnn.RNN(task.input_size, 8, rng=0), rnn.Linear(8, task.symbols, rng=1)

        def loss_fn(batch):
            xs, y = batch
            states, _ = cell(xs)
            return rnn.last_step_cross_entropy(head(states[-1]), y, reduction="mean")

        rnn.train(loss_fn, [task.batch(16, rng=k) for k in range(40)],
                  rnn.SGD(cell.parameters() + head.parameters(), lr=0.5), epochs=3,
                  clip_norm=0.3, progress=False, explore_every=20,
                  explore_path=Path(folder) / "training")
        load(browser, Path(folder) / "training.html", "#update=2")
        browser.save_screenshot(str(IMAGES / "explore_film.png"))
    browser.quit()
    print("wrote", ", ".join(f"explore_{n}.png" for n in ("page", "story", "sigma", "fold", "film")))


if __name__ == "__main__":
    main()

"""Regenerate the measured parts of docs/language_model.md: the loss curve and the samples.

Trains the character-level language model exactly as ``tinygraph train`` does by default
(H = 96, 60 epochs, 16 streams, BPTT(25; 25), Adam 0.01, seed 0), samples at a few epochs,
writes docs/images/lm_loss.svg (a plain SVG line chart, no plotting library needed) and
replaces the text between ``<!-- lm-run:begin -->`` and ``<!-- lm-run:end -->`` in the doc.

    .venv/bin/python scripts/make_lm_docs.py
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from rnn.charlm import CharLM, TrainConfig, Vocabulary, evaluate, load_text, make_streams, train_charlm

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language_model.md"
IMAGE = ROOT / "docs" / "images" / "lm_loss.svg"
BEGIN, END = "<!-- lm-run:begin -->", "<!-- lm-run:end -->"
NOT_OUTPUT = "<!-- not output: a sample written by scripts/make_lm_docs.py -->"
SAMPLE_AT = (1, 5, 20, 60)
TEMPERATURE = 0.7


def loss_chart(losses: list[float], floor: float, path: Path) -> None:
    """An SVG line chart of the loss per epoch, with the ln V line of a uniform guess."""
    width, height, left, bottom, top, right = 560, 300, 56, 40, 20, 20
    top_value = math.ceil(max(max(losses), floor) + 0.2)
    x_of = lambda e: left + (width - left - right) * (e - 1) / max(len(losses) - 1, 1)  # noqa: E731
    y_of = lambda v: top + (height - top - bottom) * (1 - v / top_value)  # noqa: E731
    points = " ".join(f"{x_of(e):.1f},{y_of(v):.1f}" for e, v in enumerate(losses, start=1))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="Helvetica, Arial, sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for v in range(top_value + 1):
        y = y_of(v)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                     'stroke="#e4e4e4"/>')
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{v}</text>')
    for e in range(0, len(losses) + 1, 10):
        x = x_of(max(e, 1))
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f'{max(e, 1)}</text>')
    y = y_of(floor)
    parts += [f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#888" '
              'stroke-dasharray="5,3"/>',
              f'<text x="{width - right}" y="{y - 5:.1f}" text-anchor="end" fill="#555">'
              f'uniform guess, ln V = {floor:.2f}</text>',
              f'<polyline points="{points}" fill="none" stroke="#c62828" stroke-width="2"/>',
              f'<text x="{(width + left) / 2}" y="{height - 6}" text-anchor="middle">epoch</text>',
              f'<text x="14" y="{(height - bottom + top) / 2}" text-anchor="middle" '
              f'transform="rotate(-90 14 {(height - bottom + top) / 2})">'
              'loss (nats per character)</text>', "</svg>"]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def main() -> None:
    """Train, sample, chart, and rewrite the generated section of the doc."""
    text = load_text()
    vocab = Vocabulary(text)
    model = CharLM(vocab, hidden_size=96, seed=0)
    config = TrainConfig()
    inputs, targets = make_streams(vocab.encode(text), config.batch_size)
    samples = {0: model.sample(200, temperature=TEMPERATURE, seed=0)}

    def on_epoch(epoch: int, loss: float) -> None:
        if epoch + 1 in SAMPLE_AT:
            samples[epoch + 1] = model.sample(200, temperature=TEMPERATURE, seed=0)

    start = time.perf_counter()
    history = train_charlm(model, text, config, on_epoch=on_epoch)
    seconds = time.perf_counter() - start
    floor = math.log(vocab.size)
    loss_chart(history.losses, floor, IMAGE)
    lines = [BEGIN, "",
             f"Measured by `scripts/make_lm_docs.py` ({len(text)} characters, V = {vocab.size}, "
             f"{history.updates} updates in {seconds:.1f} s on one core):", "",
             "![loss per epoch](images/lm_loss.svg)", "",
             "| epoch | 1 | 5 | 10 | 20 | 40 | 60 |", "|---|---|---|---|---|---|---|",
             "| loss (nats/char) | " + " | ".join(f"{history.losses[e - 1]:.3f}"
                                                   for e in (1, 5, 10, 20, 40, 60)) + " |", "",
             f"The untrained model scores {floor:.3f} ≈ ln V; after training, the loss on the "
             f"text is {evaluate(model, inputs, targets):.3f} nats per character. Samples "
             f"(temperature {TEMPERATURE}, seed 0, after a newline):", ""]
    for epoch, sample in sorted(samples.items()):
        when = "before training" if epoch == 0 else f"after epoch {epoch}"
        lines += [f"**{when}**", "", NOT_OUTPUT, "```text", sample, "```", ""]
    lines.append(END)
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(BEGIN, 1)
    DOC.write_text(head + "\n".join(lines) + rest.split(END, 1)[1], encoding="utf-8")
    print(f"wrote {IMAGE} and the measured section of {DOC}")


if __name__ == "__main__":
    main()

"""Reading an explorer page back: its data and window SVGs are gzip in base64 inside it."""

from __future__ import annotations

import base64
import gzip
import json
import re

import numpy as np

import rnn
import tinygraph as tg

BLOB = re.compile(r'<script type="application/octet-stream" id="(tg-[\w-]+)">([A-Za-z0-9+/=]*)</script>')


def blobs(page: str) -> dict[str, str]:
    """Every data block of the page by its id, decoded."""
    return {name: gzip.decompress(base64.b64decode(text)).decode("utf-8")
            for name, text in BLOB.findall(page)}


def page_data(page: str) -> dict:
    """The page's JSON."""
    return json.loads(blobs(page)["tg-data"])


def window_svgs(page: str) -> list[str]:
    """The SVG of every window, in their numbering."""
    found = blobs(page)
    return [found[f"tg-window-{k}"] for k in range(len(found) - 1)]


def svg_keys(page: str) -> set[str]:
    """Every data-k of every window."""
    return {key for svg in window_svgs(page) for key in re.findall(r'data-k="([^"]*)"', svg)}


def two_layer_loss(T: int, hidden: int = 4, batch: int = 2, seed: int = 2) -> tg.Tensor:
    """The 2-layer Elman network of docs/rendering.md, unrolled for T steps, with its loss."""
    net, readout = rnn.RNN(input_size=3, hidden_size=hidden, num_layers=2, rng=0), \
        rnn.Linear(hidden, 3, rng=1)
    rng = np.random.default_rng(seed)
    hs, _ = net(rng.standard_normal((batch, T, 3)))
    targets = rng.integers(0, 3, size=(batch, T))
    return rnn.sequence_cross_entropy([readout(h) for h in hs], targets)

"""``tinygraph train``: the character-level language model on a shipped or given text."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from rnn.charlm import CharLM, TrainConfig, Vocabulary, load_text, train_charlm
from rnn.commands.options import positive_float, positive_int
from rnn.commands.progress import Progress
from rnn.errors import ConfigError
from rnn.params import check_output_path, save_parameters

EXAMPLES = """examples:
  tinygraph train                             Shakespeare's sonnets, about 10 s
  tinygraph train --epochs 10 --hidden 32     quicker, worse samples
  tinygraph train --k1 5 --k2 5               shorter truncation: BPTT(5; 5)
  tinygraph train --text mybook.txt --max-chars 20000 --temperature 0.5
  tinygraph train --save lm.npz               keep the trained parameters"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``train``."""
    parser = sub.add_parser(
        "train", help="train a character-level Elman language model with truncated BPTT",
        description="Train a character-level Elman RNN, P(x_(t+1) | h_t), on a text (default: "
                    "eight Shakespeare sonnets shipped with the package) with truncated BPTT "
                    "and Adam; print the loss per epoch (nats per character) and samples "
                    "before and after training.",
        epilog=EXAMPLES)
    parser.add_argument("--text", default=None, metavar="PATH",
                        help="a UTF-8 text file (default: the shipped sonnets)")
    parser.add_argument("--max-chars", type=positive_int, default=None, metavar="N",
                        help="use only the first N characters of the text")
    parser.add_argument("--hidden", "-H", type=positive_int, default=96, help="hidden size (96)")
    parser.add_argument("--layers", "-L", type=positive_int, default=1, help="layers (1)")
    parser.add_argument("--epochs", type=positive_int, default=60, help="passes over the text (60)")
    parser.add_argument("--batch", "-B", type=positive_int, default=16,
                        help="parallel streams the text is cut into (16)")
    parser.add_argument("--k1", type=positive_int, default=25, help="steps between updates (25)")
    parser.add_argument("--k2", type=positive_int, default=25,
                        help="steps back-propagated, k2 >= k1 (25)")
    parser.add_argument("--lr", type=positive_float, default=0.01, help="Adam step size (0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights and samples (0)")
    parser.add_argument("--sample-length", type=positive_int, default=200, metavar="N",
                        help="characters per sample (200)")
    parser.add_argument("--temperature", type=positive_float, default=0.7,
                        help="sampling temperature; lower is more conservative (0.7)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or epoch lines")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="save the trained parameters (.npz, rnn.save_parameters)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Train and print the samples; 0 when done."""
    if args.k2 < args.k1:
        raise ConfigError(f"train: --k2 {args.k2} is smaller than --k1 {args.k1}; use k2 >= k1")
    if args.save:
        check_output_path(args.save)  # before training, not after
    text = Path(args.text).read_text(encoding="utf-8") if args.text else load_text()
    text = text[: args.max_chars] if args.max_chars else text
    vocab = Vocabulary(text)
    model = CharLM(vocab, args.hidden, args.layers, seed=args.seed)
    config = TrainConfig(args.epochs, args.batch, args.k1, args.k2, args.lr)
    print(f"tinygraph train: {len(text)} characters, V={vocab.size}, {model!r}, "
          f"BPTT(k2={args.k2}; k1={args.k1}), {args.batch} streams, Adam lr={args.lr}")
    print(f"a uniform guess scores ln V = {math.log(vocab.size):.3f} nats per character")
    _print_sample("before training", model, args)
    progress = Progress(args.epochs, enabled=not args.no_progress)
    start = time.perf_counter()
    try:
        history = train_charlm(model, text, config,
                               on_epoch=lambda e, loss: progress.epoch(e, f"loss {loss:.4f}"))
    finally:
        progress.close()
    print(f"loss per character: {history.losses[0]:.4f} after epoch 1, {history.losses[-1]:.4f} "
          f"after epoch {len(history.losses)} ({history.updates} updates, "
          f"{time.perf_counter() - start:.1f} s)")
    _print_sample("after training", model, args)
    if args.save:
        print(f"saved parameters to {save_parameters(args.save, model.net, model.readout)}")
    return 0


def _print_sample(when: str, model: CharLM, args: argparse.Namespace) -> None:
    sample = model.sample(args.sample_length, temperature=args.temperature, seed=args.seed)
    print(f"\n--- sample {when} (temperature {args.temperature}) ---\n{sample}\n---\n")

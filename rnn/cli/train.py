"""``tinygraph train``: the character-level language model on a shipped or given text."""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from rnn.charlm import CharLM, TrainConfig, Vocabulary, load_text, train_charlm
from rnn.cli import limits
from rnn.cli.inputs import MAX_TEXT_CHARS, check_output_file, text_file
from rnn.cli.options import add_seed_option, float_in, int_in, positive_int
from rnn.cli.progress import Progress
from rnn.cli.usage import UsageError
from rnn.params import parameter_file_fault, save_parameters

MAX_EPOCHS = 10_000
MAX_SAMPLE = 10_000
MAX_ONE_HOT_BYTES = 1_000_000_000

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
    parser.add_argument("--text", type=text_file, default=None, metavar="PATH",
                        help=f"a UTF-8 text file of at most {MAX_TEXT_CHARS:,} characters, or "
                             "use --max-chars (default: the shipped sonnets)")
    parser.add_argument("--max-chars", type=int_in(1, MAX_TEXT_CHARS), default=None, metavar="N",
                        help="use only the first N characters of the text")
    parser.add_argument("--hidden", "-H", type=int_in(1, limits.MAX_HIDDEN), default=96,
                        help=f"hidden size, at most {limits.MAX_HIDDEN:,} (96)")
    parser.add_argument("--layers", "-L", type=int_in(1, limits.MAX_LAYERS), default=1,
                        help=f"layers, at most {limits.MAX_LAYERS} (1)")
    parser.add_argument("--epochs", type=int_in(1, MAX_EPOCHS), default=60,
                        help=f"passes over the text, at most {MAX_EPOCHS:,} (60)")
    parser.add_argument("--batch", "-B", type=int_in(1, limits.MAX_BATCH), default=16,
                        help=f"parallel streams the text is cut into, at most {limits.MAX_BATCH:,} (16)")
    parser.add_argument("--k1", type=positive_int, default=25, help="steps between updates (25)")
    parser.add_argument("--k2", type=positive_int, default=25,
                        help="steps back-propagated, k2 >= k1 (25)")
    parser.add_argument("--lr", type=float_in(0, 10), default=0.01,
                        help="Adam step size, in (0, 10] (0.01)")
    add_seed_option(parser, "weights and samples")
    parser.add_argument("--sample-length", type=int_in(1, MAX_SAMPLE), default=200, metavar="N",
                        help=f"characters per sample, at most {MAX_SAMPLE:,} (200)")
    parser.add_argument("--temperature", type=float_in(0.01, 100, low_open=False), default=0.7,
                        help="sampling temperature in [0.01, 100]; lower is more conservative (0.7)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar or epoch lines")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="save the trained parameters (.npz, rnn.save_parameters)")
    return parser


def validate(args: argparse.Namespace) -> None:
    """k1/k2, the text's length, the memory of the inputs and of a block, --save (before work)."""
    if args.k2 < args.k1:
        raise UsageError(f"--k2 {args.k2} is smaller than --k1 {args.k1}; use k2 >= k1 (each "
                         "update back-propagates at least the k1 steps it scores)")
    if args.text is not None and args.max_chars is None and len(args.text) > MAX_TEXT_CHARS:
        raise UsageError(f"--text holds more than {MAX_TEXT_CHARS:,} characters; train on a part "
                         f"of it with --max-chars N (at most {MAX_TEXT_CHARS:,})")
    text = training_text(args)
    if len(text) < args.batch + 1:
        raise UsageError(f"the text has {len(text):,} characters, too few for --batch "
                         f"{args.batch} streams of one step or more (at least B + 1 = "
                         f"{args.batch + 1}); use a smaller --batch or more text")
    one_hot = len(text) * len(set(text)) * 8
    if one_hot > MAX_ONE_HOT_BYTES:
        raise UsageError(f"the one-hot inputs of {len(text):,} characters x V={len(set(text)):,} "
                         f"distinct characters would take {one_hot / 1e9:.1f} GB, over "
                         f"{MAX_ONE_HOT_BYTES / 1e9:.0f} GB; use --max-chars "
                         f"{MAX_ONE_HOT_BYTES // (8 * len(set(text))):,} or fewer")
    stream = (len(text) - 1) // args.batch
    limits.check_values(min(args.k2, stream), args.layers, args.batch, args.hidden,
                        f"a truncated-BPTT block of k2={args.k2:,} steps")
    if args.save:
        check_output_file(Path(args.save), "--save", fault=parameter_file_fault)


def training_text(args: argparse.Namespace) -> str:
    """--text's characters (default: the shipped sonnets), cut to --max-chars."""
    text = args.text if args.text is not None else load_text()
    return text[: args.max_chars] if args.max_chars else text


def run(args: argparse.Namespace) -> int:
    """Train and print the samples; 0 when done."""
    text = training_text(args)
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

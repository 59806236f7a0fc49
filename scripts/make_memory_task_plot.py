"""Train Elman and LSTM cells on the memory task and write docs/images/lab_memory_task.png.

Needs matplotlib (`pip install tinygraph[plot]`). Prints the numbers quoted in
docs/vanishing_gradients.md (section 6); the run is seeded, so they are reproduced exactly.

Usage: python scripts/make_memory_task_plot.py [--out docs/images] [--format png --format svg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rnn.memory_task import lag_ratio, memory_task_experiment
from rnn.plots import plot_memory_task

LAGS = (0, 10, 25, 50, 59)


def main(argv: list[str] | None = None) -> None:
    """Run ``memory_task_experiment()``, print its numbers and save the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/images", help="output directory (default docs/images)")
    parser.add_argument("--format", action="append", dest="formats", choices=["png", "svg", "pdf"],
                        help="file format, repeatable (default png)")
    args = parser.parse_args(argv)
    runs = memory_task_experiment()
    for run in runs.values():
        print(f"{run.label}: held-out accuracy {run.accuracy:.3f}, loss {run.eval_loss:.4f}, "
              f"last training loss {run.losses[-1]:.4f}")
        for when, norms in (("untrained", run.lag_norms_init), ("trained", run.lag_norms_trained)):
            print(f"  {when:9} " + "  ".join(f"lag {k}: {norms[k]:.2e}" for k in LAGS))
    elman, lstm = runs.values()
    for trained in (False, True):
        print(f"lag 50 ratio LSTM / Elman, {'trained' if trained else 'untrained'}: "
              f"{lag_ratio(lstm, elman, 50, trained=trained):.2e}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_memory_task(runs)
    for fmt in args.formats or ["png"]:
        path = out / f"lab_memory_task.{fmt}"
        fig.savefig(path, dpi=110)
        print(path)


if __name__ == "__main__":
    main()

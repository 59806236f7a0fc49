"""Train Elman and LSTM cells on the memory task and write docs/images/lab_memory_task.png.

Needs matplotlib (`pip install tinygraph[plot]`). Prints the numbers quoted in
docs/vanishing_gradients.md (section 6); the run is seeded, so they are reproduced exactly.

Usage: python scripts/make_memory_task_plot.py [--out docs/images] [--format png --format svg]
"""

from __future__ import annotations

from figure_options import parse_figure_options
from rnn.memory_task import lag_ratio, memory_task_experiment
from rnn.plots import plot_memory_task

LAGS = (0, 10, 25, 50, 59)


def main(argv: list[str] | None = None) -> None:
    """Run ``memory_task_experiment()``, print its numbers and save the figure."""
    out, formats = parse_figure_options(__doc__.splitlines()[0], argv)
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
    out.mkdir(parents=True, exist_ok=True)
    fig = plot_memory_task(runs)
    for fmt in formats:
        path = out / f"lab_memory_task.{fmt}"
        fig.savefig(path, dpi=110)
        print(path)


if __name__ == "__main__":
    main()

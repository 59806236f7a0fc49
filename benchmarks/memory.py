"""Memory and time of full BPTT against T, plain and checkpointed (``checkpoint_every="sqrt"``).

``python benchmarks/memory.py`` runs, for T = 10³ … 10⁶, one training update of an Elman RNN
(H=16, D=1, B=1, a linear readout, squared error at every step) with full BPTT:
``rnn.tbptt(net, xs, step_loss, k1=T, k2=T, optimizer=SGD)``, plain and with checkpoints every
⌈√T⌉ steps. Each (T, variant) runs in its own subprocess, so every peak is its own:

* peak RSS: the growth of VmHWM (/proc/self/status) over the RSS just before the update;
* ledger: ``tg.saved_bytes`` of the loss just before ``backward()`` (a second, untimed update);
  the checkpointed backward holds, on top of it, one recomputed segment at a time;
* time: the wall time of the update (forward, backward, SGD step), one BLAS thread.

``--plain-max`` (default 10⁵) is the longest plain run: the plain graph of 10⁶ steps needs
several GB; its row is extrapolated from the measured per-step cost unless ``--plain-max
1000000`` runs it. A plain run longer than ``--ledger-max`` (10⁵) gets no ledger pass.
``--save FILE`` replaces the section between the markers in FILE (by default
docs/benchmark_results.md, which ``benchmarks/bptt.py --save`` keeps).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- benchmarks/memory.py: begin -->", "<!-- benchmarks/memory.py: end -->"
H, D = 16, 1


def status_kb(field: str) -> int:
    """A field of /proc/self/status in kB (VmRSS, VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def one_run(steps: int, every: str | None, ledger: bool) -> dict:
    """One update of full BPTT over ``steps`` steps in this process: peak RSS, time, ledger."""
    sys.path.insert(0, str(HERE.parent))
    import rnn
    import tinygraph as tg

    rng = np.random.default_rng(0)
    wave = np.sin(0.01 * np.arange(steps + 1)) + 0.1 * rng.standard_normal(steps + 1)
    xs = wave[:-1].reshape(1, steps, 1)
    ys = wave[1:]
    net = rnn.RNN(D, H, rng=0)
    readout = rnn.Linear(H, 1, rng=1)
    params = [*net.parameters(), *readout.parameters()]

    def step_loss(t: int, h: tg.Tensor) -> tg.Tensor:
        error = readout(h) - ys[t]
        return (error * error).sum()

    def update() -> float:
        opt = rnn.SGD(params, lr=1e-4)
        result = rnn.tbptt(net, xs, step_loss, k1=steps, k2=steps, optimizer=opt,
                           checkpoint_every=every)
        return result.losses[0]

    base = status_kb("VmRSS")
    start = time.perf_counter()
    with tg.pause_gc():
        loss = update()
    seconds = time.perf_counter() - start
    row = {"T": steps, "variant": every or "plain", "seconds": round(seconds, 3),
           "peak_mb": round((status_kb("VmHWM") - base) / 1024, 2), "loss": loss}
    if ledger:
        held: list[tg.MemoryReport] = []
        backward = tg.Tensor.backward

        def measured(self: tg.Tensor, *args: object, **kwargs: object) -> None:
            held.append(tg.saved_bytes(self))
            backward(self, *args, **kwargs)

        tg.Tensor.backward = measured
        with tg.pause_gc():
            update()
        row.update(ledger_mb=round(held[0].total / 2**20, 3), nodes=len(held[0].nodes),
                   parameters_b=held[0].parameters)
    return row


def run(steps: int, every: str | None, ledger: bool) -> dict:
    """``one_run`` in a fresh subprocess (its own peak RSS)."""
    command = [sys.executable, __file__, "--one", str(steps), every or "plain"]
    if ledger:
        command.append("--ledger")
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def fastest(runs: list[dict]) -> dict:
    """The first run's row (its ledger and peak) with the fastest run's time."""
    row = dict(runs[0])
    row["seconds"] = min(r["seconds"] for r in runs)
    row["repeats"] = len(runs)
    return row


def load() -> str:
    """The 1-minute load average, for the report."""
    with open("/proc/loadavg") as avg:
        return avg.read().split()[0]


def ledger_text(row: dict) -> str:
    """The ledger column: MB, or why there is none (a plain run past --ledger-max)."""
    return f"{row['ledger_mb']:.2f}" if "ledger_mb" in row else "not measured"


def report(rows: list[dict], extrapolated: dict | None) -> str:
    """The results as a Markdown section."""
    plain = {r["T"]: r for r in rows if r["variant"] == "plain"}
    checked = {r["T"]: r for r in rows if r["variant"] == "sqrt"}
    sizes = sorted(plain) if len(plain) >= 2 else []
    slope = ((plain[sizes[-1]]["peak_mb"] - plain[sizes[0]]["peak_mb"])
             / (sizes[-1] - sizes[0]) if sizes else None)  # MB per step of the plain graph
    counted = [T for T in sizes if "ledger_mb" in plain[T]]
    ledger_step = plain[counted[-1]]["ledger_mb"] / counted[-1] if counted else None
    lines = [BEGIN, "", "## Full BPTT against T: plain and checkpointed (benchmarks/memory.py)", "",
             "Elman RNN, H=16, D=1, B=1, a linear readout and a squared error at every step; one "
             "update of `rnn.tbptt(net, xs, step_loss, k1=T, k2=T, optimizer=SGD)`, plain and "
             "with `checkpoint_every=\"sqrt\"` (segments of ⌈√T⌉ steps). Each run in its own "
             "process: peak RSS is the growth of VmHWM during the update; the ledger is "
             "`tg.saved_bytes(loss)` just before `backward()`. "
             f"Load average when measured: {', '.join(sorted({r['load'] for r in rows}))} "
             "(2 cores, shared).", "",
             "| T | variant | seconds | µs per step | peak RSS (MB) | ledger (MB) | nodes held | "
             "time vs plain | peak vs 4·√T steps |",
             "|---|---|---|---|---|---|---|---|---|"]
    for steps in sorted({r["T"] for r in rows}):
        for row in (plain.get(steps), checked.get(steps)):
            if row is None:
                continue
            base = plain.get(steps)
            ratio = f"{row['seconds'] / base['seconds']:.2f}x" if base and row is not base else ""
            budget = ""
            if row["variant"] == "sqrt" and slope:
                allowed = 4 * math.sqrt(steps) * slope + row.get("parameters_b", 0) / 2**20
                budget = f"{row['peak_mb']:.1f} ≤ {allowed:.1f}" if row["peak_mb"] <= allowed \
                    else f"{row['peak_mb']:.1f} > {allowed:.1f} (NOT met)"
            lines.append(
                f"| {steps:,} | {row['variant']} | {row['seconds']:.1f} | "
                f"{1e6 * row['seconds'] / steps:.1f} | {row['peak_mb']:.1f} | "
                f"{ledger_text(row)} | {row.get('nodes', '')} | {ratio} | "
                f"{budget} |")
        if extrapolated and extrapolated["T"] == steps:
            lines.append(f"| {steps:,} | plain (extrapolated) | ≈{extrapolated['seconds']:.0f} | | "
                         f"≈{extrapolated['peak_mb']:,.0f} | ≈{extrapolated['ledger_mb']:,.0f} | | | |")
    if slope:
        arrays = (f"; the ledger's arrays are {1024 * ledger_step:.2f} kB of it, the rest is "
                  "Python objects: Tensors, Nodes, ops" if ledger_step else "")
        lines += ["", f"A step of the plain graph costs {1024 * slope:.1f} kB of RSS (the slope of "
                  f"its peak between T = {sizes[0]:,} and {sizes[-1]:,}{arrays}). 'peak vs 4·√T "
                  "steps': the checkpointed peak against 4·√T such steps plus the parameters (the "
                  "target)."]
    ratios = {T: checked[T]["seconds"] / plain[T]["seconds"] for T in sorted(checked) if T in plain}
    if ratios:
        met = [f"{T:,} ({r:.2f}x)" for T, r in ratios.items() if r <= 1.5]
        missed = [f"{T:,} ({r:.2f}x)" for T, r in ratios.items() if r > 1.5]
        lines += ["", "Time overhead, target ≤ 1.5x plain: met at T = " + (", ".join(met) or "none")
                  + (f"; not met at T = {', '.join(missed)}" if missed else "") + "."]
    lines += ["", END]
    return "\n".join(lines)


def save(path: Path, section: str) -> None:
    """Replace the section between the markers in ``path`` (append it when there is none)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text, encoding="utf-8")


def read_rows(path: Path) -> list[dict]:
    """The result rows printed by an earlier run (its JSON lines; other lines are skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def figures(rows: list[dict], out: Path) -> list[Path]:
    """The tutorial's figures in ``out``: the trade-off (peak RSS and time against T, plain
    and checkpointed) and the picture of a checkpointed network with show_saved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sys.path.insert(0, str(HERE.parent))
    import rnn
    import tinygraph as tg

    out.mkdir(parents=True, exist_ok=True)
    fig, (memory, seconds) = plt.subplots(1, 2, figsize=(10, 4))
    for variant, label, mark in (("plain", "plain BPTT", "o-"), ("sqrt", "checkpoint every ⌈√T⌉", "s-")):
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["T"])
        steps = [r["T"] for r in mine]
        memory.loglog(steps, [max(r["peak_mb"], 0.01) for r in mine], mark, label=label)
        seconds.semilogx(steps, [1e6 * r["seconds"] / r["T"] for r in mine], mark, label=label)
    plain = sorted((r for r in rows if r["variant"] == "plain"), key=lambda r: r["T"])
    if len(plain) >= 2:
        slope = (plain[-1]["peak_mb"] - plain[0]["peak_mb"]) / (plain[-1]["T"] - plain[0]["T"])
        grid = np.logspace(3, 6, 20)
        memory.loglog(grid, 4 * np.sqrt(grid) * slope, "k:", label="target: 4·√T steps' worth")
    checked = {r["T"]: r for r in rows if r["variant"] == "sqrt"}
    for r in plain:
        if r["T"] in checked:
            ratio = checked[r["T"]]["seconds"] / r["seconds"]
            seconds.annotate(f"{ratio:.2f}x", (r["T"], 1e6 * checked[r["T"]]["seconds"] / r["T"]),
                             textcoords="offset points", xytext=(0, 8), ha="center")
    memory.set(xlabel="T (steps)", ylabel="peak RSS growth (MB)", title="memory")
    seconds.set(xlabel="T (steps)", ylabel="µs per step (forward, backward, update)",
                title="time (checkpointed / plain)", ylim=(0, None))
    for axes in (memory, seconds):
        axes.grid(True, which="major", alpha=0.3)
        axes.legend()
    fig.suptitle("Full BPTT, Elman H=16: the graph grows as T, checkpoints as √T")
    fig.tight_layout()
    plot = out / "memory_of_bptt.png"
    fig.savefig(plot, dpi=110)
    plt.close(fig)
    net = rnn.RNN(2, 3, num_layers=2, rng=0, checkpoint_every=2)
    readout = rnn.Linear(3, 2, rng=1)
    hs, _ = net(np.ones((1, 6, 2)))
    loss = sum((readout(h) ** 2).sum() for h in hs)
    picture = Path(tg.render(loss, str(out / "memory_segments"), format="png", show_saved=True))
    return [plot, picture]


def main() -> None:
    """Run every (T, variant) in its own process and print (and save) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--plain-max", type=int, default=100_000)
    parser.add_argument("--ledger-max", type=int, default=100_000,
                        help="the longest plain run that also gets the (untimed) ledger pass")
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per (T, variant), each in its own process; the fastest is kept")
    parser.add_argument("--save", type=Path, nargs="?", const=HERE.parent / "docs" /
                        "benchmark_results.md")
    parser.add_argument("--figures", type=Path, nargs="?", const=HERE.parent / "docs" / "images",
                        help="also write the tutorial's figures (needs matplotlib and Graphviz)")
    parser.add_argument("--rows", type=Path, help="take the rows from this earlier output "
                        "instead of measuring")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--ledger", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        steps, variant = int(args.one[0]), args.one[1]
        print(json.dumps(one_run(steps, None if variant == "plain" else variant, args.ledger)))
        return
    rows = read_rows(args.rows) if args.rows else []
    for steps in [] if args.rows else args.steps:
        for every in (None, "sqrt"):
            if every is None and steps > args.plain_max:
                continue
            row = fastest([run(steps, every, ledger=repeat == 0 and (
                every is not None or steps <= args.ledger_max)) for repeat in range(args.repeats)])
            row["load"] = load()
            print(json.dumps(row), flush=True)
            rows.append(row)
    extrapolated = None
    plain = sorted((r for r in rows if r["variant"] == "plain"), key=lambda r: r["T"])
    longest = max(r["T"] for r in rows)
    if len(plain) >= 2 and longest > plain[-1]["T"]:
        a, b = plain[0], plain[-1]
        scale = (longest - b["T"]) / (b["T"] - a["T"])
        extrapolated = {"T": longest, "seconds": b["seconds"] * longest / b["T"],
                        "peak_mb": b["peak_mb"] + scale * (b["peak_mb"] - a["peak_mb"]),
                        "ledger_mb": b.get("ledger_mb", 0) * longest / b["T"]}
    text = report(rows, extrapolated)
    print(text)
    if args.save:
        save(args.save, text)
    if args.figures:
        for path in figures(rows, args.figures):
            print(f"wrote {path}")


if __name__ == "__main__":
    main()

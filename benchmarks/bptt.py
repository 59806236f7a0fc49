"""BPTT speed: tinygraph + rnn against a hand-written numpy BPTT (and PyTorch when installed).

Run ``python benchmarks/bptt.py`` (or ``make bench``). One process, one BLAS thread, float64,
identical data and weights for every implementation. It first checks that all agree (loss and
every gradient to 1e-9), then prints median times and ratios to numpy (the faster of the two
numpy variants), the graph-build / backward split, µs per recorded op, the time per step as T
grows, the memory of a 100,000-step chain, and render times. ``--quick`` runs fewer repeats.
The compiled step (``tg.compile`` of the hoisted model, benchmarks/compiled_step.py) has its own
table against its own targets, and a split of a replay's time down to the plan's floor.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import rnn  # noqa: E402
import tinygraph as tg  # noqa: E402
from compiled_step import CompiledModel, replay_parts  # noqa: E402
from engine_floor import memory_floor, time_floor  # noqa: E402
from numpy_bptt import bptt_hoisted, bptt_plain  # noqa: E402
from torch_bptt import make_torch_runners  # noqa: E402
from tinygraph.backward import reverse_topological  # noqa: E402

SIZES = {  # name: (H, D, V, T, B)
    "S1": (8, 4, 4, 10, 1),
    "S2": (64, 32, 32, 100, 32),
    "S3": (256, 64, 64, 50, 64),
    "S4": (32, 8, 8, 2000, 4),
}
TARGETS = {"S1": 2.5, "S2": 1.3, "S3": 1.15, "S4": 2.5}
COMPILED_TARGETS = {"S1": 2.0, "S2": 1.0, "S3": 1.05, "S4": 2.0}  # tg.compile's step (hoisted)
TORCH_LOOP_FACTOR = {"S1": 3.0, "S4": 3.0}  # the compiled step at least 3x faster there
ALLOCATOR = {"tuned": False}


def make_problem(H: int, D: int, V: int, T: int, B: int, seed: int = 0):
    """Inputs (B, T, D), integer targets (B, T) and weights (W_xh, W_hh, b_h, W_hy, b_y)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, T, D))
    Y = rng.integers(0, V, size=(B, T))
    scale = 1.0 / np.sqrt(H)
    params = (rng.uniform(-scale, scale, (D, H)), rng.uniform(-scale, scale, (H, H)),
              rng.uniform(-scale, scale, H), rng.uniform(-scale, scale, (H, V)),
              rng.uniform(-scale, scale, V))
    return X, Y, params


class TinygraphModel:
    """rnn.RNN + rnn.Linear + cross-entropy summed over time and batch.

    As in the hoisted numpy BPTT, the readout runs once over every step: the top layer's h_t
    are stacked to (B·T, H) and one matmul and one cross-entropy node follow. Each h_t is still
    a junction (read by the stack and by step t+1), and the recurrence stays one node per op
    and step. ``hoist=True`` also computes x_t W_xh + b_h for all steps in one matmul
    (``rnn.RNN(hoist_inputs=True)``), as the hoisted numpy variant does.
    """

    def __init__(self, X: np.ndarray, Y: np.ndarray, params, hoist: bool = False) -> None:
        D = X.shape[2]
        H, V = params[1].shape[0], params[3].shape[1]
        self.X, self.Y = X, Y
        self.targets = np.ascontiguousarray(Y.T).reshape(-1)  # row t·B + b is (b, t)
        self.net = rnn.RNN(D, H, num_layers=1, nonlinearity="tanh", hoist_inputs=hoist)
        self.readout = rnn.Linear(H, V)
        cell = self.net.layers[0]
        self.tensors = [cell.W_xh, cell.W_hh, cell.b_h, self.readout.W, self.readout.b]
        for tensor, value in zip(self.tensors, params):
            tensor.data = value.copy()

    def forward(self) -> tg.Tensor:
        """Build the unrolled graph and return the loss."""
        hs, _ = self.net(self.X)
        B, T = self.Y.shape
        every_step = tg.stack(hs, axis=0).reshape(T * B, -1)  # time-major: each h_t one block
        return tg.cross_entropy(self.readout(every_step), self.targets)

    def __call__(self) -> tuple[float, list[np.ndarray]]:
        for tensor in self.tensors:
            tensor.grad = None
        with tg.pause_gc():  # a training step: the graph dies before the collector runs again
            loss = self.forward()
            loss.backward()
            value = loss.item()
            del loss
        return value, [t.grad for t in self.tensors]


def check_agreement(runners: dict[str, Callable], tol: float = 1e-9) -> None:
    """Every runner gives numpy's loss and gradients to ``tol`` (relative to their scale)."""
    ref_loss, ref_grads = runners["numpy (plain)"]()
    for name, run in runners.items():
        loss, grads = run()
        assert abs(loss - ref_loss) <= tol * max(1.0, abs(ref_loss)), (name, loss, ref_loss)
        for g, r in zip(grads, ref_grads):
            err = float(np.max(np.abs(g - r))) / max(1.0, float(np.max(np.abs(r))))
            assert err <= tol, f"{name}: gradient differs from numpy by {err:.2e}"


def median_times(runners: dict[str, Callable], repeats: int) -> dict[str, float]:
    """Median wall time of each runner, interleaved so that drift affects all alike."""
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def speed_table(repeats: int) -> list[dict]:
    """Median times and ratios to numpy for every size."""
    rows = []
    for name, (H, D, V, T, B) in SIZES.items():
        X, Y, params = make_problem(H, D, V, T, B)
        model = TinygraphModel(X, Y, params)
        hoisted = TinygraphModel(X, Y, params, hoist=True)
        compiled = CompiledModel(TinygraphModel(X, Y, params, hoist=True))
        compiled()  # records the graph
        compiled()  # the first replay writes the plan's code: every later call runs it
        runners = {
            "numpy (plain)": lambda X=X, Y=Y, p=params: bptt_plain(X, Y, p),
            "numpy (hoisted)": lambda X=X, Y=Y, p=params: bptt_hoisted(X, Y, p),
            "numpy (time-major)": lambda X=X, Y=Y, p=params: bptt_hoisted(X, Y, p, time_major=True),
            "tinygraph": model,
            "tinygraph (hoisted)": hoisted,
            "tinygraph (compiled)": compiled,
            **make_torch_runners(X, Y, params),
        }
        check_agreement(runners)
        med = median_times(runners, repeats if T * B < 20_000 else max(3, repeats // 2))
        numpy_time = min(med["numpy (plain)"], med["numpy (hoisted)"])
        nodes, build, backward = graph_split(model)
        h_nodes, h_build, h_backward = graph_split(hoisted)
        rows.append({"size": name, "HDVTB": (H, D, V, T, B), "numpy_ms": numpy_time * 1e3,
                     "times_ms": {k: v * 1e3 for k, v in med.items()},
                     "ratios": {k: v / numpy_time for k, v in med.items()},
                     "target": TARGETS[name], "nodes": nodes, "build_ms": build * 1e3,
                     "backward_ms": backward * 1e3,
                     "us_per_node": (build + backward) / nodes * 1e6,
                     "hoisted": (h_nodes, h_build * 1e3, h_backward * 1e3,
                                 (h_build + h_backward) / h_nodes * 1e6),
                     "compiled": {k: v * 1e3 for k, v in
                                  replay_parts(compiled, 30 if T * B < 20_000 else 10).items()}})
    return rows


def graph_split(model: TinygraphModel, repeats: int = 3) -> tuple[int, float, float]:
    """Nodes in the graph, and the best graph-build and backward times."""
    builds, backwards, nodes = [], [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        loss = model.forward()
        middle = time.perf_counter()
        nodes = len(reverse_topological(loss))
        resume = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
        builds.append(middle - start)
        backwards.append(end - resume)
    return nodes, min(builds), min(backwards)


def per_step_times(lengths=(100, 1_000, 10_000)) -> list[tuple[int, float]]:
    """tinygraph forward + backward time per step as T grows (S4's sizes): O(T) means flat."""
    rows = []
    for T in lengths:
        X, Y, params = make_problem(32, 8, 8, T, 4)
        model = TinygraphModel(X, Y, params)
        best = min(_timed(model) for _ in range(3 if T < 10_000 else 2))
        rows.append((T, best / T * 1e6))
        gc.collect()
    return rows


def _timed(run: Callable) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def chain_memory() -> dict[str, dict]:
    """Run benchmarks/chain_memory.py for each implementation in a fresh process."""
    kinds = ["numpy", "tinygraph"]
    try:
        import torch  # noqa: F401

        kinds.append("torch")
    except ImportError:
        pass
    results = {}
    for kind in kinds:
        out = subprocess.run([sys.executable, str(HERE / "chain_memory.py"), kind],
                             capture_output=True, text=True, check=True)
        results[kind] = json.loads(out.stdout)
    return results


def render_times(lengths=(4, 8, 16, 32, 64, 128)) -> list[tuple[int, float]]:
    """Seconds to render the backward view of a 2-layer unrolled RNN to SVG."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for T in lengths:
            net = rnn.RNN(3, 4, num_layers=2, rng=0)
            readout = rnn.Linear(4, 5, rng=1)
            X, Y, _ = make_problem(4, 3, 5, T, 2)
            hs, _ = net(X)
            logits = []
            for t, h in enumerate(hs):
                with tg.scope(t=t):
                    logits.append(readout(h))
            loss = rnn.sequence_cross_entropy(logits, Y)
            start = time.perf_counter()
            tg.render(loss, str(Path(tmp) / f"bptt_{T}"), format="svg", view="backward")
            rows.append((T, time.perf_counter() - start))
    return rows


def machine() -> str:
    """One line naming the machine and the versions the numbers were measured with."""
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    versions = f"Python {platform.python_version()}, numpy {np.__version__}"
    try:
        import torch

        versions += f", torch {torch.__version__}"
    except ImportError:
        versions += ", torch not installed"
    malloc = ("glibc malloc keeps freed memory (tg.keep_freed_memory(), for every implementation)"
              if ALLOCATOR["tuned"] else "default malloc settings")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, one BLAS thread; {versions}; {malloc}; load average "
            f"at the end {load} (1, 5, 15 min; the machine is shared, so runners are interleaved)")


def report(rows: list[dict], steps, memory, renders, floor: dict[str, float],
           floor_bytes: dict[str, int]) -> str:
    """The results as Markdown tables."""
    names = list(rows[0]["times_ms"])
    lines = [f"Measured on: {machine()}.", "",
             "## Forward + BPTT, median ms (ratio to numpy)", "",
             "| size (H, D, V, T, B) | " + " | ".join(names) + " | target | met |",
             "|---" * (len(names) + 3) + "|"]
    for row in rows:
        cells = [f"{row['times_ms'][n]:.2f} ({row['ratios'][n]:.2f}x)" for n in names]
        eager = min((v for k, v in row["ratios"].items() if k.startswith("torch eager")), default=None)
        best = min(row["ratios"]["tinygraph"], row["ratios"]["tinygraph (hoisted)"])
        met = best <= row["target"] and (eager is None or best < eager)
        lines.append(f"| {row['size']} {row['HDVTB']} | " + " | ".join(cells) +
                     f" | <= {row['target']}x | {'yes' if met else 'NO'} |")
    lines += ["", "'met': the faster eager tinygraph variant is within the target ratio and faster "
              "than the faster torch eager loop.", ""]
    lines += compiled_report(rows)
    lines += ["", "## tinygraph: graph build vs backward", "",
              "| size | variant | nodes | build ms | backward ms | µs per node (build + backward) |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['size']} | step by step | {row['nodes']} | {row['build_ms']:.1f} | "
                     f"{row['backward_ms']:.1f} | {row['us_per_node']:.2f} |")
        nodes, build, backward, per_node = row["hoisted"]
        lines.append(f"| {row['size']} | hoisted | {nodes} | {build:.1f} | {backward:.1f} | "
                     f"{per_node:.2f} |")
    lines += ["", "## The engine's floor", "",
              f"An op that does no numpy work (benchmarks/engine_floor.py) costs {floor['total']:.2f} µs "
              f"per node: {floor['forward']:.2f} to record, {floor['sort']:.2f} to sort, "
              f"{floor['backward']:.2f} in the backward sweep. With that cost per node and numpy's own "
              "time for the arithmetic, the best ratio a graph of this many nodes could reach:", "",
              "| size | variant | nodes | floor ratio | measured ratio | target |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        for variant, nodes in (("tinygraph", row["nodes"]), ("tinygraph (hoisted)", row["hoisted"][0])):
            best = (nodes * floor["total"] / 1e3 + row["numpy_ms"]) / row["numpy_ms"]
            lines.append(f"| {row['size']} | {variant} | {nodes} | {best:.2f}x | "
                         f"{row['ratios'][variant]:.2f}x | <= {row['target']}x |")
    per_step = sum(floor_bytes.values())
    lines += ["", "Memory: each step of the 100,000-step chain below holds, at the least, "
              f"{floor_bytes['arrays']} B of edge arrays (every edge's .data stays readable), "
              f"{floor_bytes['tensors']} B of Tensors (4 edges) and {floor_bytes['nodes']} B of Nodes "
              f"(3 ops): {per_step} B, so {per_step * 100_000 / 1e6:.0f} MB for the chain before any op "
              "object, tuple or weak reference."]
    lines += ["", "## tinygraph time per step (H=32, D=8, V=8, B=4)", "", "| T | µs per step |",
              "|---|---|"]
    lines += [f"| {T} | {us:.1f} |" for T, us in steps]
    spread = max(us for _, us in steps) / min(us for _, us in steps)
    lines += ["", f"max/min per-step time: {spread:.2f} (target <= 1.5)", "",
              "## 100,000-step chain h_t = tanh(h_(t-1) W + x_t), H=16, B=1: RSS growth (MB)", "",
              "| implementation | after forward | peak |", "|---|---|---|"]
    lines += [f"| {k} | {v['graph_mb']} | {v['peak_mb']} |" for k, v in memory.items()]
    if renders:
        lines += ["", "## Render, backward view, 2 layers, to SVG", "", "| T | seconds |", "|---|---|"]
        lines += [f"| {T} | {s:.2f} |" for T, s in renders]
    return "\n".join(lines)


def compiled_report(rows: list[dict]) -> list[str]:
    """The compiled step against its targets, and where a replay's time goes."""
    name = "tinygraph (compiled)"
    lines = ["## The compiled step (tg.compile of the hoisted model), median ms", "",
             "| size | numpy | compiled (ratio) | target | torch eager loop / compiled | "
             "torch eager (hoisted) / compiled | met |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        times, target = row["times_ms"], COMPILED_TARGETS[row["size"]]
        loop = times.get("torch eager loop", float("nan")) / times[name]
        hoisted = times.get("torch eager (hoisted)", float("nan")) / times[name]
        factor = TORCH_LOOP_FACTOR.get(row["size"], 1.0)
        met = row["ratios"][name] <= target and loop >= factor and hoisted > 1.0
        lines.append(f"| {row['size']} | {row['numpy_ms']:.2f} | {times[name]:.2f} "
                     f"({row['ratios'][name]:.2f}x) | <= {target}x | {loop:.2f}x (>= {factor:g}x) | "
                     f"{hoisted:.2f}x (> 1x) | {'yes' if met else 'NO'} |")
    lines += ["", "Where a replay's time goes (best of 30 interleaved, ms; benchmarks/compiled_step.py): the "
              "call (signature, inputs, the returned leaf), the plan's own code with every op "
              "replaced by a no-op (its lines, the junction sums, the .grad updates: the floor of "
              "a plan step), and the ops' own forward and backward. 'floor ratio': the ratio if "
              "the ops cost exactly numpy's whole step.", "",
              "| size | replay | the call | the plan (no-op ops) | the ops | floor ratio |",
              "|---|---|---|---|---|---|"]
    for row in rows:
        parts = row["compiled"]
        if parts:
            floor = (row["numpy_ms"] + parts["call"] + parts["plan"]) / row["numpy_ms"]
            lines.append(f"| {row['size']} | {parts['total']:.3f} | {parts['call']:.3f} | "
                         f"{parts['plan']:.3f} | {parts['ops']:.3f} | {floor:.2f}x |")
    return lines


def kept_sections(path: Path) -> str:
    """The sections other scripts keep in the results file (benchmarks/memory.py's, between
    its markers), so that rewriting the file does not drop them."""
    from memory import BEGIN, END

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN not in text or END not in text:
        return ""
    return "\n" + BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END + "\n"


def main() -> None:
    """Run every measurement and print (and optionally save) the Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no T=10,000")
    parser.add_argument("--save", type=Path, help="also write the report to this file")
    parser.add_argument("--repeats", type=int, default=None,
                        help="interleaved repeats of the speed table (15; 5 with --quick)")
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc thresholds alone (see tinygraph/performance.py)")
    args = parser.parse_args()
    if not args.default_malloc:
        ALLOCATOR["tuned"] = tg.keep_freed_memory()
    repeats = args.repeats or (5 if args.quick else 15)
    floor = time_floor()  # measured before and after the rest: the lower is the floor
    rows = speed_table(repeats)
    steps = per_step_times((100, 1_000) if args.quick else (100, 1_000, 10_000))
    memory = chain_memory()
    try:
        renders = render_times()
    except tg.RenderError as exc:
        print(f"render times skipped: {exc}")
        renders = []
    floor = min(floor, time_floor(), key=lambda f: f["total"])
    text = report(rows, steps, memory, renders, floor, memory_floor())
    print(text)
    if args.save:
        command = " ".join(["python benchmarks/bptt.py", *sys.argv[1:]])
        header = (f"# Benchmark results\n\nWritten by `{command}` (`make bench` runs it with "
                  "--save docs/benchmark_results.md); see\n[performance.md](performance.md) for "
                  "what is measured and why.\n\n")
        args.save.write_text(header + text + "\n" + kept_sections(args.save))


if __name__ == "__main__":
    main()

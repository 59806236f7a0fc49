"""The command line: every subcommand runs, writes its files, and fails in one line."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from rnn.cli import build_parser, main
from rnn.cli.demo import format_junction
from rnn.cli.problem import build_problem, hidden_state

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz (neato) is not installed")
ROOT = Path(__file__).resolve().parents[1]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@needs_graphviz
def test_demo_prints_check_and_junction_and_writes_pictures(capsys, tmp_path):
    code, out, err = run_cli(capsys, "demo", "--out", str(tmp_path / "pics"))
    assert code == 0, err
    assert "verdict: ok" in out and "FAILED" not in out
    assert "h (t=1, layer=1) is read by 2 nodes" in out
    assert "readout of step 1 (local)" in out and "recurrence into step 2 (non-local)" in out
    assert "check: the sum equals tg.grad(L, [h])" in out
    for name in ("forward", "backward", "grad_norm"):
        svg = (tmp_path / "pics" / f"{name}.svg").read_text()
        assert svg.rstrip().endswith("</svg>") and "t = 3" in svg
        assert (tmp_path / "pics" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert str(tmp_path / "pics" / f"{name}.svg") in out
    page = (tmp_path / "pics" / "stepthrough.html").read_text()
    assert 'id="tg-data"' in page and "default-src 'none'" in page      # the explorer page


def test_demo_junction_rows_add_up_to_the_printed_sum():
    problem = build_problem(steps=3, layers=2, hidden=2, seed=1)
    loss = problem.loss()
    trace = tg.trace_backward(loss)
    h = hidden_state(loss, 0, 0)
    text = format_junction(trace.junction_of(h), h, tg.grad(loss, [h])[0])
    rows = [line for line in text.splitlines() if line.startswith("  ")]
    vectors = [np.array([float(v) for v in re.findall(r"[+-]\d+\.\d+", r.split("[")[-1])])
               for r in rows]
    assert len(rows) == 3 and rows[-1].lstrip().startswith("sum")
    assert "layer 1 of step 0 (local)" in text and "recurrence into step 1 (non-local)" in text
    assert np.allclose(vectors[0] + vectors[1], vectors[2], atol=2e-4)


def test_demo_without_pictures_and_a_last_step_junction(capsys):
    code, out, _ = run_cli(capsys, "demo", "--no-pictures", "--junction-t", "3")
    assert code == 0
    assert "read by one node only" in out and "Pictures" not in out


def test_demo_names_a_hidden_state_that_does_not_exist_before_the_gradient_check(capsys):
    code, out, err = run_cli(capsys, "demo", "--no-pictures", "--junction-t", "9")
    assert code == 2 and out == ""             # nothing printed: no gradient-check table
    assert err == ("tinygraph demo: error: --junction-t 9 is not a step of --steps 4; choose "
                   "0..3 (see 'tinygraph demo --help')\n")


@needs_graphviz
@pytest.mark.parametrize("view", ["forward", "backward", "both", "rolled"])
def test_render_views(capsys, tmp_path, view):
    target = tmp_path / f"g_{view}"
    code, out, _ = run_cli(capsys, "render", "--view", view, "-o", str(target), "--steps", "3")
    assert code == 0 and out.strip() == f"wrote {target}.svg"
    assert Path(f"{target}.svg").read_text().rstrip().endswith("</svg>")


@needs_graphviz
def test_render_png_grad_norm_and_folding(capsys, tmp_path):
    code, _, _ = run_cli(capsys, "render", "--view", "backward", "--color", "grad_norm",
                         "--format", "png", "--loss-at", "last", "--steps", "10",
                         "--max-steps", "4", "-o", str(tmp_path / "g"))
    assert code == 0 and (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def test_render_dot_needs_no_graphviz(capsys, tmp_path):
    code, _, _ = run_cli(capsys, "render", "-o", str(tmp_path / "g.dot"), "--layers", "1",
                         "--nonlinearity", "relu")
    text = (tmp_path / "g.dot").read_text()
    assert code == 0 and text.startswith("digraph") and text.count("label=<ReLU>") == 4


@needs_graphviz
def test_render_takes_the_format_from_the_suffix_as_tg_render_does(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "render", "-o", str(tmp_path / "x.jpg"), "--steps", "2")
    written = tmp_path / "x.jpg"
    assert code == 0 and out == f"wrote {written}\n"
    assert written.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG, not an SVG named x.jpg.svg
    assert not (tmp_path / "x.jpg.svg").exists()


def test_render_refuses_an_unknown_suffix_before_any_work(capsys, tmp_path):
    code, out, err = run_cli(capsys, "render", "-o", str(tmp_path / "x.foo"), "--steps", "2")
    assert code == 2 and out == "" and "'.foo', which is not a format Graphviz writes" in err
    assert list(tmp_path.iterdir()) == []


def test_check_passes_for_mixed_layers_and_fails_with_the_injected_bug(capsys):
    code, out, _ = run_cli(capsys, "check", "--nonlinearity", "tanh,relu", "--steps", "3")
    assert code == 0 and out.rstrip().endswith("verdict: ok")
    code, out, _ = run_cli(capsys, "check", "--inject-bug", "--steps", "3")
    assert code == 1
    assert "verdict: FAILED" in out and "first wrong node: tanh (t=0, layer=0)" in out
    code, out, _ = run_cli(capsys, "check", "--mode", "directional", "--steps", "20")
    assert code == 0 and "mode=directional" in out


def test_train_small_run_reports_epochs_and_samples(capsys):
    code, out, _ = run_cli(capsys, "train", "--epochs", "3", "--hidden", "16",
                           "--max-chars", "1500", "--sample-length", "40", "--no-progress")
    assert code == 0
    assert "sample before training" in out and "sample after training" in out
    first, last = (float(v) for v in re.search(
        r"loss per character: ([\d.]+) after epoch 1, ([\d.]+) after epoch 3", out).groups())
    assert last < first
    assert "epoch" not in out.split("loss per character")[0].split("---")[-1]


def test_train_progress_lines_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    code, out, _ = run_cli(capsys, "train", "--epochs", "2", "--hidden", "8",
                           "--max-chars", "600", "--sample-length", "5")
    assert code == 0
    assert re.search(r"epoch +1/2  loss \d\.\d{4}", out) and re.search(r"epoch +2/2", out)


def test_train_on_a_given_text_and_save(capsys, tmp_path):
    (tmp_path / "t.txt").write_text("abcabcabcabd " * 40, encoding="utf-8")
    code, out, _ = run_cli(capsys, "train", "--text", str(tmp_path / "t.txt"), "--epochs", "2",
                           "--hidden", "8", "--sample-length", "10", "--no-progress",
                           "--save", str(tmp_path / "lm.npz"))
    assert code == 0 and "V=5" in out and (tmp_path / "lm.npz").exists()


def test_vanish_table_follows_rho_to_the_k_for_the_identity_cell(capsys):
    code, out, _ = run_cli(capsys, "vanish", "--nonlinearity", "identity", "--radii", "0.5",
                           "2", "--steps", "11", "--hidden", "4")
    assert code == 0
    rows = {int(line.split()[0]): [float(v) for v in line.split()[1:]]
            for line in out.splitlines() if re.match(r"\s+\d+\s", line)}
    assert sorted(rows) == [0, 1, 2, 5, 10]
    for k, (half, double) in rows.items():     # ||∂L/∂h_(T−k)|| = ρ^k ||∂L/∂h_T||, ||1|| = 2
        assert half == pytest.approx(2 * 0.5 ** k, rel=1e-3)
        assert double == pytest.approx(2 * 2.0 ** k, rel=1e-3)


@pytest.mark.parametrize("argv, fragment", [
    (["render", "--view", "sideways"], "argument --view: invalid choice: 'sideways'"),
    (["check", "--steps", "0"], "argument --steps/-T: expected an integer from 1 to 10,000, got 0"),
    (["demo", "--hidden", "x"], "expected an integer from 1 to 1,024, got 'x'"),
    (["check", "--nonlinearity", "tanh,softplus"], "unknown nonlinearity 'softplus'"),
    (["train", "--temperature", "-1"], "expected a number in [0.01, 100], got -1"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "the following arguments are required: COMMAND"),
])
def test_usage_errors_are_one_line_with_exit_code_2(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and fragment in err and err.startswith("tinygraph")
    assert "Traceback" not in err


@pytest.mark.parametrize("argv, fragment", [
    (["check", "--nonlinearity", "tanh,relu,relu"], "names 3 activations (tanh,relu,relu) for --layers 2"),
    (["train", "--k1", "10", "--k2", "5", "--epochs", "1"], "--k2 5 is smaller than --k1 10"),
    (["train", "--text", "/nonexistent/book.txt"], "cannot read '/nonexistent/book.txt': No such file"),
    (["vanish", "--radii", "0"], "argument --radii: expected a number in (0, 100], got 0"),
])
def test_bad_combinations_and_inputs_are_usage_errors_with_exit_code_2(capsys, argv, fragment):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1 and fragment in err
    assert err.startswith(f"tinygraph {argv[0]}: error: ")


def test_a_failure_while_working_is_one_line_with_exit_code_1(capsys, monkeypatch, tmp_path):
    def broken_render(*args, **kwargs):
        raise tg.RenderError("render: neato -Tsvg exited with code 1: out of memory\n(details)")

    monkeypatch.setattr("rnn.cli.render.tg.render", broken_render)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    code, out, err = run_cli(capsys, "render", "-o", str(tmp_path / "g"))
    assert code == 1 and out == ""
    assert err == ("tinygraph render: error: render: neato -Tsvg exited with code 1: out of "
                   "memory (details)\n")


def test_every_subcommand_help_has_examples_and_exit_codes(capsys):
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices
    assert sorted(names) == ["check", "demo", "render", "train", "vanish"]
    for name in names:
        code, out, _ = run_cli(capsys, name, "--help")
        assert code == 0 and "examples:" in out and f"tinygraph {name}" in out
        assert "exit codes:" in out and "2  usage error" in out


@needs_graphviz
def test_python_m_rnn_demo_in_a_subprocess(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "rnn", "demo", "--out", "tmp"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "verdict: ok" in done.stdout
    assert sorted(p.name for p in (tmp_path / "tmp").iterdir()) == [
        "backward.png", "backward.svg", "forward.png", "forward.svg", "grad_norm.png",
        "grad_norm.svg", "stepthrough.html"]
    bad = subprocess.run([sys.executable, "-m", "rnn", "render", "--format", "gif"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env,
                         check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and bad.stdout == ""


@pytest.mark.parametrize("package", ["tinygraph", "rnn"])
def test_python_m_runs_the_same_command_line(tmp_path, package):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", package, "demo", "--no-pictures", "--steps", "3"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("tinygraph demo: 2-layer Elman RNN (tanh,tanh), T=3 steps")
    assert "verdict: ok: every gradient matches" in done.stdout and not list(tmp_path.iterdir())
    bad = subprocess.run([sys.executable, "-m", package, "check", "--seed", "-1"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr == ("tinygraph check: error: argument --seed: expected an integer >= 0, "
                          "got -1 (see 'tinygraph check --help')\n")


def test_vanish_plots_without_matplotlib_is_refused_before_the_table(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    code, out, err = run_cli(capsys, "vanish", "--steps", "3", "--plots", str(tmp_path / "lab"))
    assert code == 2 and out == "" and not (tmp_path / "lab").exists()
    assert err == ("tinygraph vanish: error: --plots needs matplotlib, which is not installed: "
                   "pip install 'tinygraph[plot]' (or pip install matplotlib) "
                   "(see 'tinygraph vanish --help')\n")


def test_render_refuses_a_suffix_that_contradicts_the_format(tmp_path, capsys):
    code, out, err = run_cli(capsys, "render", "--format", "png", "-o", str(tmp_path / "x.svg"))
    assert code == 2 and out == ""
    assert "ends in .svg but --format is png" in err
    assert not list(tmp_path.iterdir())

"""Usage errors: exit code 2, one line on stderr, and no work done (nothing printed or written).

Each case is refused by argparse or by the command's ``validate`` before the command's
``run`` starts; where a refusal could come late (after building a graph), ``run`` or the
graph builder is replaced by one that fails the test if it is called.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from argparse import Namespace
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from rnn.cli import build_parser, main
from rnn.cli import limits, train
from rnn.cli.inputs import MAX_TEXT_CHARS
from rnn.cli.problem import build_problem, parameter_count
from rnn.cli.usage import UsageError

ROOT = Path(__file__).resolve().parents[1]


def refused(capsys, *argv: str) -> str:
    """Run the command line; assert exit code 2, nothing on stdout, one line on stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.err.startswith(f"tinygraph {argv[0]}: error: ")
    assert captured.err.endswith(f" (see 'tinygraph {argv[0]} --help')\n")
    return captured.err


@pytest.fixture
def no_run(monkeypatch):
    """Every command's run() fails the test: a refusal must come from parsing or validate."""
    def run(args: Namespace) -> int:
        raise AssertionError(f"{args.command} started its work")

    for name in ("demo", "render", "check", "train", "vanish"):
        monkeypatch.setattr(f"rnn.cli.{name}.run", run)


@pytest.fixture
def graphviz_present(monkeypatch):
    """Graphviz counts as installed, so that the checks after it are reached without it."""
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")


# ------------------------------------------------------------- arguments checked after the work
def test_demo_junction_outside_the_unroll_is_refused_before_the_gradient_check(capsys, no_run):
    assert "--junction-t 9 is not a step of --steps 4; choose 0..3" in refused(
        capsys, "demo", "--no-pictures", "--junction-t", "9")
    assert "--junction-layer 2 is not a layer of --layers 2; choose 0..1" in refused(
        capsys, "demo", "--no-pictures", "--junction-layer", "2")
    assert "argument --junction-t: expected an integer >= 0, got -1" in refused(
        capsys, "demo", "--no-pictures", "--junction-t", "-1")


def test_train_on_too_short_a_text_is_refused_before_the_first_sample(capsys, no_run):
    err = refused(capsys, "train", "--max-chars", "5")
    assert ("the text has 5 characters, too few for --batch 16 streams of one step or more "
            "(at least B + 1 = 17); use a smaller --batch or more text") in err


def test_vanish_plots_need_matplotlib_before_the_table(capsys, monkeypatch, no_run, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert "--plots needs matplotlib" in refused(capsys, "vanish", "--plots", str(tmp_path / "p"))
    assert not (tmp_path / "p").exists()


# ------------------------------------------------------------------- no internal prefix, exit 2
@pytest.mark.parametrize("argv, message", [
    (["render", "--max-steps", "1"], "argument --max-steps: expected an integer >= 2, got 1"),
    (["demo", "--png-max-steps", "1"], "argument --png-max-steps: expected an integer >= 2, got 1"),
    (["check", "--eps", "inf"], "argument --eps: expected a number in [1e-10, 0.1], got inf"),
])
def test_settings_the_library_would_refuse_are_usage_errors_without_its_prefix(capsys, no_run,
                                                                               argv, message):
    err = refused(capsys, *argv)
    assert message in err and "to_dot" not in err and "gradcheck:" not in err


# ------------------------------------------------------------------------ bounded work and size
def test_steps_and_hidden_have_upper_bounds(capsys, no_run):
    assert "argument --steps/-T: expected an integer from 1 to 10,000, got 100000" in refused(
        capsys, "render", "--steps", "100000")
    assert "argument --hidden/-H: expected an integer from 1 to 1,024, got 100000" in refused(
        capsys, "check", "--hidden", "100000")
    assert "argument --hidden/-H: expected an integer from 1 to 1,024, got 100000" in refused(
        capsys, "train", "--hidden", "100000")
    assert "argument --steps/-T: expected an integer from 1 to 10,000, got 10001" in refused(
        capsys, "vanish", "--steps", "10001")
    assert "argument --layers/-L: expected an integer from 1 to 16, got 17" in refused(
        capsys, "render", "--layers", "17")
    assert "argument --batch/-B: expected an integer from 1 to 1,024, got 1025" in refused(
        capsys, "check", "--batch", "1025")


def test_a_graph_too_big_for_memory_is_refused_with_its_size(capsys, no_run):
    err = refused(capsys, "render", "--steps", "10000", "--batch", "64", "--hidden", "64",
                  "--format", "dot")
    assert ("the unrolled graph would hold T x L x B x H = 10,000 x 2 x 64 x 64 = 81,920,000 "
            "hidden values, about 13.1 GB with their gradients; the limit is 10,000,000 (about "
            "1.6 GB)") in err


def test_a_picture_too_big_to_draw_is_refused_before_the_graph_is_built(capsys, monkeypatch,
                                                                        tmp_path):
    def build(args: Namespace) -> None:
        raise AssertionError("the graph was built")

    monkeypatch.setattr("rnn.cli.render.problem_from_args", build)
    err = refused(capsys, "render", "--steps", "10000", "--no-fold", "-o", str(tmp_path / "g.dot"))
    assert ("the picture would draw 10,000 steps, 250,001 nodes, over the 6,000 Graphviz is "
            "given; fold the middle steps with --max-steps 16 (keeps the first and last steps)"
            ) in err
    err = refused(capsys, "render", "--steps", "300", "--layers", "8", "--max-steps", "100",
                  "-o", str(tmp_path / "g.dot"))
    assert "the picture would draw 100 steps, 7,901 nodes" in err and "--max-steps 75 or fewer" in err
    assert not list(tmp_path.iterdir())


def test_the_demo_refuses_a_step_through_page_it_cannot_draw(capsys, no_run, graphviz_present,
                                                             tmp_path):
    err = refused(capsys, "demo", "--steps", "300", "--no-fold", "--out", str(tmp_path / "out"))
    assert ("the pictures would draw 300 steps: 7,501 nodes, over the 6,000 Graphviz is given; "
            "fold with --png-max-steps 16, or --no-pictures") in err
    assert not (tmp_path / "out").exists()


def test_a_gradient_check_over_a_minute_is_refused_with_the_estimate(capsys, no_run):
    err = refused(capsys, "check", "--hidden", "1024")
    assert re.search(r"--mode full \(6,305,800 evaluations of the loss over T=4 steps x 2 layers\) "
                     r"would take about \d+ h on a laptop; the command line refuses runs estimated "
                     r"over 60 s: use --mode directional", err)
    assert "the demo's full gradient check (61,408 evaluations of the loss" in refused(
        capsys, "demo", "--hidden", "100", "--no-pictures")
    assert "would take about" in refused(capsys, "check", "--mode", "directional", "--steps",
                                         "10000", "--layers", "4")
    assert "argument --directions: expected an integer from 1 to 100, got 101" in refused(
        capsys, "check", "--mode", "directional", "--directions", "101")


def test_a_long_vanish_sweep_is_refused_with_the_estimate(capsys, no_run):
    err = refused(capsys, "vanish", "--steps", "10000", "--hidden", "1024")
    assert re.search(r"5 radii x T=10,000 steps at H=1,024 would take about \d+ min on a laptop", err)
    assert "--radii gives 13 radii; the table shows at most 12" in refused(
        capsys, "vanish", "--radii", *[str(0.1 * i) for i in range(1, 14)])


def test_the_picture_size_is_predicted_exactly():
    """PictureSize.nodes(n) is the count at which tg.to_dot starts to refuse (max_nodes)."""
    for layers, nonlinearity, loss_at, steps, max_steps in [
            (1, ["tanh"], "all", 7, None), (3, ["relu", "tanh", "sigmoid"], "last", 5, None),
            (2, ["identity"], "all", 9, None), (2, ["tanh"], "all", 30, 6)]:
        size = limits.PictureSize.of(layers, nonlinearity, loss_at)
        expected = size.nodes(min(steps, max_steps or steps))
        loss = build_problem(steps, layers, 2, nonlinearity, 2, loss_at).loss()
        tg.to_dot(loss, max_steps=max_steps, max_nodes=expected)
        with pytest.raises(tg.RenderError, match=f"would have {expected} nodes"):
            tg.to_dot(loss, max_steps=max_steps, max_nodes=expected - 1)


def test_parameter_count_matches_the_built_problem():
    for layers, hidden in [(1, 1), (2, 3), (4, 7)]:
        params = build_problem(2, layers, hidden).parameters()
        assert parameter_count(layers, hidden) == (sum(p.data.size for p in params), len(params))


def test_the_cost_model_is_the_formula_it_states():
    model = limits.CostModel(overhead=1e-4, per_weight=1e-9)
    # passes · T · (L + 1) · (overhead + per_weight · H² · (B + 8))
    #   = 10 · 20 · 3 · (1e-4 + 1e-9 · 100 · 10)
    assert model.seconds(10, 20, 2, 10, 2) == pytest.approx(10 * 20 * 3 * (1e-4 + 1e-6))


# --------------------------------------------------------------------------- bad values (issue 15)
@pytest.mark.parametrize("command", ["demo", "render", "check", "train", "vanish"])
def test_a_negative_seed_is_a_usage_error(capsys, no_run, command):
    assert "argument --seed: expected an integer >= 0, got -1" in refused(capsys, command,
                                                                         "--seed", "-1")


def test_render_to_a_directory_is_refused(capsys, no_run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ("-o: cannot write '.': it is an existing directory (give a file path; a directory is "
            "never overwritten)") in refused(capsys, "render", "-o", ".")
    assert "-o: cannot write 'missing/g.svg': the directory 'missing' does not exist" in refused(
        capsys, "render", "-o", "missing/g.svg")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\xff", "is not UTF-8 text (byte 0x89 at offset 0); give a plain text file"),
    (b"text\x00with a NUL", "holds NUL characters (a binary file?)"),
    ("é".encode()[:1], "is not UTF-8 text (byte 0xc3 at offset 0)"),
])
def test_train_on_a_binary_file_is_a_usage_error(capsys, no_run, tmp_path, content, message):
    path = tmp_path / "book.bin"
    path.write_bytes(content)
    assert f"argument --text: {str(path)!r} {message}" in refused(capsys, "train", "--text",
                                                                  str(path))


def test_train_never_opens_a_directory_or_a_fifo(capsys, no_run, tmp_path):
    assert f"argument --text: {str(tmp_path)!r} is not a regular file" in refused(
        capsys, "train", "--text", str(tmp_path))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "rnn", "train", "--text", str(fifo)],
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert f"argument --text: {str(fifo)!r} is not a regular file" in done.stderr


def test_a_text_over_the_limit_needs_max_chars(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("ab" * (MAX_TEXT_CHARS // 2 + 1), encoding="utf-8")
    args = build_parser().parse_args(["train", "--text", str(path)])
    assert len(args.text) == MAX_TEXT_CHARS + 1        # read one character past the limit only
    with pytest.raises(UsageError, match="--text holds more than 1,000,000 characters; train on "
                                         "a part of it with --max-chars N"):
        train.validate(args)
    train.validate(build_parser().parse_args(["train", "--text", str(path), "--max-chars",
                                              "1000000"]))


def test_train_refuses_inputs_and_blocks_too_big_for_memory(tmp_path):
    wide = tmp_path / "wide.txt"
    wide.write_text("".join(chr(0x4E00 + i) for i in range(12_000)), encoding="utf-8")
    with pytest.raises(UsageError, match=r"the one-hot inputs of 12,000 characters x V=12,000 "
                                         r"distinct characters would take 1\.2 GB, over 1 GB; use "
                                         r"--max-chars 10,416 or fewer"):
        train.validate(build_parser().parse_args(["train", "--text", str(wide)]))
    long = tmp_path / "long.txt"
    long.write_text("abcd" * 5_000, encoding="utf-8")
    args = build_parser().parse_args(["train", "--text", str(long), "--batch", "1024",
                                      "--hidden", "1024", "--k1", "19", "--k2", "19"])
    with pytest.raises(UsageError, match=r"a truncated-BPTT block of k2=19 steps would hold T x "
                                         r"L x B x H = 19 x 1 x 1,024 x 1,024"):
        train.validate(args)


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-0.1", "11"])
def test_train_learning_rate_is_finite_and_bounded(capsys, no_run, value):
    assert f"argument --lr: expected a number in (0, 10], got {value}" in refused(
        capsys, "train", "--lr", value)


def test_train_save_path_is_checked_before_training(capsys, no_run, tmp_path):
    assert (f"--save: cannot write {str(tmp_path)!r}: it is an existing directory") in refused(
        capsys, "train", "--save", str(tmp_path))


def test_train_save_refuses_a_link_or_a_fifo_before_training(capsys, no_run, tmp_path):
    """--save is checked as save_parameters checks it: a link or a FIFO is never replaced."""
    (tmp_path / "lm.npz").write_bytes(b"")
    link = tmp_path / "link.npz"
    link.symlink_to(tmp_path / "lm.npz")
    assert (f"--save: cannot write {str(link)!r}: it is a symbolic link (to "
            f"{str(tmp_path / 'lm.npz')!r}); save to the file it points to (a link is neither "
            "followed nor replaced)") in refused(capsys, "train", "--save", str(link))
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    assert (f"--save: cannot write {str(fifo)!r}: it is a FIFO (named pipe), not a regular "
            "file (only a regular file is replaced)") in refused(capsys, "train", "--save", str(fifo))


@pytest.mark.parametrize("option, value, interval", [
    ("--eps", "nan", "[1e-10, 0.1]"), ("--eps", "0", "[1e-10, 0.1]"), ("--eps", "1", "[1e-10, 0.1]"),
    ("--atol", "inf", "(0, 1)"), ("--atol", "0", "(0, 1)"),
    ("--rtol", "inf", "(0, 1)"), ("--rtol", "1", "(0, 1)"), ("--rtol", "-1e-3", "(0, 1)"),
])
def test_gradcheck_settings_are_finite_and_meaningful(capsys, no_run, option, value, interval):
    assert f"argument {option}: expected a number in {interval}, got {value}" in refused(
        capsys, "check", f"{option}={value}")


def test_an_infinite_tolerance_cannot_hide_the_injected_bug(capsys, no_run):
    err = refused(capsys, "check", "--atol", "inf", "--inject-bug")
    assert "argument --atol: expected a number in (0, 1), got inf" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "101"])
def test_vanish_radii_are_finite_and_positive(capsys, no_run, value):
    assert f"argument --radii: expected a number in (0, 100], got {value}" in refused(
        capsys, "vanish", f"--radii={value}")


def test_vanish_labels_an_overflowed_norm_instead_of_printing_nan(capsys):
    code = main(["vanish", "--nonlinearity", "identity", "--radii", "0.5", "1.5", "--steps", "2000",
                 "--hidden", "4"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err == ""            # no numpy overflow warnings either
    rows = {line.split()[0]: line.split()[1:] for line in captured.out.splitlines()
            if line.strip() and line.split()[0].isdigit()}
    assert rows["0"] == ["2.000e+00", "2.000e+00"]       # ||dL/dh_T|| = ||1|| for H = 4
    assert float(rows["500"][1]) == pytest.approx(2 * 1.5 ** 500, rel=1e-3)
    assert rows["1999"][1] == "overflow" and float(rows["1999"][0]) == 0.0
    assert "nan" not in captured.out and " inf" not in captured.out
    assert f"passed float64's largest number ({np.finfo(float).max:.1e})" in captured.out


def test_a_missing_graphviz_is_refused_before_the_work(capsys, monkeypatch, no_run, tmp_path):
    monkeypatch.setattr("shutil.which", lambda name: None)
    err = refused(capsys, "render", "-o", str(tmp_path / "g.svg"))
    assert "--format svg needs Graphviz ('neato' is not on PATH): install Graphviz" in err
    assert "demo (its pictures; --no-pictures skips them) needs Graphviz" in refused(
        capsys, "demo", "--out", str(tmp_path / "out"))
    assert not list(tmp_path.iterdir())


def test_demo_out_must_be_a_directory(capsys, no_run, graphviz_present, tmp_path):
    (tmp_path / "file").write_text("x")
    assert (f"--out: cannot write into {str(tmp_path / 'file' / 'pics')!r}: "
            f"{str(tmp_path / 'file')!r} is a file, not a directory") in refused(
        capsys, "demo", "--out", str(tmp_path / "file" / "pics"))

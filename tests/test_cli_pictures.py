"""The picture options of ``tinygraph render`` and ``demo``: long unrolls folded by default,
``--no-fold``, one step with ``--view step --t K``, the legend, the width and the shapes."""

from __future__ import annotations

from pathlib import Path

from rnn.cli import main


def dot(capsys, tmp_path: Path, *argv: str) -> str:
    """The DOT text ``tinygraph render`` writes for ``argv`` (no Graphviz needed)."""
    path = tmp_path / "g.dot"
    assert main(["render", "--format", "dot", "-o", str(path), *argv]) == 0
    capsys.readouterr()
    return path.read_text(encoding="utf-8")


def step_columns(text: str) -> int:
    return text.count("t = ")


def width(text: str) -> float:
    """The picture's width in points, from its bounding box (bb="0,0,W,H")."""
    return float(text.split('bb="', 1)[1].split('"', 1)[0].split(",")[2])


def test_a_long_unroll_is_folded_to_eight_steps_by_default(capsys, tmp_path):
    text = dot(capsys, tmp_path, "--steps", "12")
    assert "4 steps folded" in text and step_columns(text) == 9  # 8 steps and the fold
    assert step_columns(dot(capsys, tmp_path, "--steps", "12", "--no-fold")) == 12
    assert step_columns(dot(capsys, tmp_path, "--steps", "6")) == 6  # short: nothing to fold
    assert "6 steps folded" in dot(capsys, tmp_path, "--steps", "12", "--max-steps", "6")


def test_view_step_draws_one_step_and_t_belongs_to_it(capsys, tmp_path):
    one = dot(capsys, tmp_path, "--view", "step", "--t", "2")
    assert width(one) < width(dot(capsys, tmp_path)) / 2
    for argv, fragment in ((["--t", "2"], "--t chooses the step of --view step"),
                           (["--view", "step"], "give it with --t K"),
                           (["--view", "step", "--t", "4"], "--t 4 is not a step of --steps 4")):
        assert main(["render", "--format", "dot", "-o", str(tmp_path / "x.dot"), *argv]) == 2
        assert fragment in capsys.readouterr().err
    assert not (tmp_path / "x.dot").exists()


def test_legend_width_and_shapes_reach_the_picture(capsys, tmp_path):
    plain = dot(capsys, tmp_path)
    assert "How to read" in plain and "How to read" not in dot(capsys, tmp_path, "--legend", "none")
    assert dot(capsys, tmp_path, "--show-shapes").count("×") > plain.count("×")
    assert dot(capsys, tmp_path, "--width", "500") != plain
    assert main(["render", "--width", "50"]) == 2
    assert "--width" in capsys.readouterr().err

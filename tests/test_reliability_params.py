"""Parameter files: bit-exact round trip, atomic writes, corrupt and mismatched files, no pickle.

The crash tests break the write at each stage (np.savez, fsync, os.replace) and check that the
old file keeps its exact bytes and that no temporary file is left behind; an OSError becomes a
ParameterFileError naming the file, an interrupt stays an interrupt.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect


def model(seed: int, hidden: int = 4) -> tuple[rnn.RNN, rnn.Linear]:
    return (rnn.RNN(3, hidden, num_layers=2, nonlinearity=["tanh", "relu"], learn_h0=True, rng=seed),
            rnn.Linear(hidden, 2, rng=seed + 1))


def values(*modules: object) -> dict[str, bytes]:
    return {name: t.data.tobytes() for name, t in rnn.state_dict(*modules).items()}


def test_round_trip_is_bit_exact_including_awkward_values(tmp_path: Path) -> None:
    net, readout = model(0)
    awkward = np.array([0.1, -0.0, 5e-324, np.finfo(np.float64).max])  # subnormal, -0, max
    net.layers[0].b_h.data = awkward
    net.layers[1].h0.data = np.random.default_rng(3).normal(size=4) * 1e-300
    path = rnn.save_parameters(tmp_path / "model.npz", net, readout)
    other, other_readout = model(1)
    assert values(other, other_readout) != values(net, readout)
    rnn.load_parameters(path, other, other_readout)
    assert values(other, other_readout) == values(net, readout)
    assert np.signbit(other.layers[0].b_h.data[1])
    xs = np.random.default_rng(4).normal(size=(2, 6, 3))
    assert np.array_equal(readout(net(xs)[0][-1]).data, other_readout(other(xs)[0][-1]).data)


def test_nan_and_inf_are_loaded_bit_for_bit_with_one_warning_naming_them(tmp_path: Path) -> None:
    net, readout = model(0)
    net.layers[0].b_h.data = np.array([np.nan, 1.0, -np.inf, 2.0])
    readout.W.data[0, 0] = np.inf
    path = rnn.save_parameters(tmp_path / "diverged.npz", net, readout)
    other, other_readout = model(1)
    with pytest.warns(RuntimeWarning, match=r"diverged\.npz holds NaN or Inf values in "
                      r"\['layer0\.b_h', 'W_hy'\]") as caught:
        rnn.load_parameters(path, other, other_readout)
    assert len(caught) == 1
    assert values(other, other_readout) == values(net, readout)


def test_loading_copies_the_arrays(tmp_path: Path) -> None:
    net, readout = model(0)
    path = rnn.save_parameters(tmp_path / "m.npz", net, readout)
    other, other_readout = model(1)
    rnn.load_parameters(path, other, other_readout)
    other.layers[0].W_xh.data[0, 0] += 1.0
    assert net.layers[0].W_xh.data[0, 0] != other.layers[0].W_xh.data[0, 0]


def crash_in_savez(*args: object, **kwargs: object) -> None:
    raise OSError("disk full (simulated)")


def crash_in_fsync(fd: int) -> None:
    raise OSError("I/O error in fsync (simulated)")


def crash_in_replace(src: object, dst: object) -> None:
    raise KeyboardInterrupt  # the user pressed Ctrl-C just before the rename


@pytest.mark.parametrize("target, attribute, broken, error", [
    (np, "savez", crash_in_savez, rnn.ParameterFileError),  # an OSError, reported as ours
    (os, "fsync", crash_in_fsync, rnn.ParameterFileError),
    (os, "replace", crash_in_replace, KeyboardInterrupt),
])
def test_a_crash_mid_write_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: object, attribute: str,
        broken: object, error: type[BaseException]) -> None:
    old_net, old_readout = model(0)
    path = rnn.save_parameters(tmp_path / "model.npz", old_net, old_readout)
    old_bytes = path.read_bytes()
    new_net, new_readout = model(7)
    monkeypatch.setattr(target, attribute, broken)
    with pytest.raises(error):
        rnn.save_parameters(path, new_net, new_readout)
    monkeypatch.undo()
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    check, check_readout = model(9)
    rnn.load_parameters(path, check, check_readout)
    assert values(check, check_readout) == values(old_net, old_readout)


def test_a_successful_write_replaces_the_file_in_one_rename(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    net, readout = model(0)
    path = tmp_path / "model.npz"
    path.write_bytes(b"previous version")
    renames = []
    real = os.replace

    def spy(src: str, dst: object) -> None:
        assert path.read_bytes() == b"previous version"
        assert Path(src).parent == tmp_path and Path(src).stat().st_size > 0
        renames.append(Path(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    rnn.save_parameters(path, net, readout)
    assert renames == [path]


def test_a_directory_is_never_overwritten(tmp_path: Path) -> None:
    net, _ = model(0)
    folder = tmp_path / "model.npz"
    folder.mkdir()
    (folder / "keep.txt").write_text("precious")
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(folder, net), "save_parameters",
           str(folder), "is an existing directory", "never overwritten")
    assert (folder / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(folder, net), "load_parameters",
           "is a directory")


def test_a_missing_directory_is_an_error_not_created(tmp_path: Path) -> None:
    net, _ = model(0)
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(tmp_path / "no" / "m.npz", net),
           "save_parameters", "does not exist")
    assert not (tmp_path / "no").exists()


def saved_bytes(tmp_path: Path) -> bytes:
    net, readout = model(0)
    return rnn.save_parameters(tmp_path / "good.npz", net, readout).read_bytes()


@pytest.mark.parametrize("damage, fragments", [
    (lambda raw: b"", ("is empty (0 bytes)",)),
    (lambda raw: raw[: len(raw) // 2], ("not a zip archive", "truncated or corrupt")),
    (lambda raw: raw[:-10], ("not a zip archive",)),
    (lambda raw: b"\x01garbage" * 64, ("not a zip archive",)),
    (lambda raw: raw[:200] + bytes(b ^ 0xFF for b in raw[200:260]) + raw[260:], ("damaged",)),
])
def test_corrupt_files_are_refused_and_the_model_is_unchanged(tmp_path: Path, damage,
                                                              fragments: tuple[str, ...]) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(damage(saved_bytes(tmp_path)))
    net, readout = model(5)
    before = values(net, readout)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(bad, net, readout), "load_parameters",
           "bad.npz", *fragments)
    assert values(net, readout) == before


def test_other_kinds_of_file_are_named(tmp_path: Path) -> None:
    net, _ = model(0)
    np.save(tmp_path / "one.npy", np.ones(3))
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "one.npy", net), ".npy")
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "absent.npz", net),
           "cannot open", "absent.npz")


class Payload:
    """Unpickling this object creates a directory: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.mkdir, (str(self.marker),)


def test_pickled_objects_inside_an_npz_are_refused_without_running(tmp_path: Path) -> None:
    net, _ = model(0)
    marker = tmp_path / "code_ran"
    arrays = {name: t.data for name, t in net.named_parameters().items()}
    arrays["layer0.W_xh"] = np.array([Payload(marker)], dtype=object)
    np.savez(tmp_path / "evil.npz", **arrays)
    before = values(net)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "evil.npz", net),
           "evil.npz", "pickle", "never unpickled")
    assert not marker.exists()
    assert values(net) == before


def test_a_bare_pickle_file_is_refused_without_running(tmp_path: Path) -> None:
    net, _ = model(0)
    marker = tmp_path / "code_ran"
    (tmp_path / "evil.npz").write_bytes(pickle.dumps({"layer0.W_xh": Payload(marker)}))
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "evil.npz", net),
           "pickled Python objects", "never unpickled")
    assert not marker.exists()


def test_mismatched_names_and_shapes_name_the_parameter(tmp_path: Path) -> None:
    net, readout = model(0)
    only_net = rnn.save_parameters(tmp_path / "net.npz", net)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(only_net, net, readout),
           "missing ['W_hy', 'b_y']")
    bigger, bigger_readout = model(0, hidden=5)
    wide = rnn.save_parameters(tmp_path / "wide.npz", bigger, bigger_readout)
    before = values(net, readout)
    expect(tg.ShapeError, lambda: rnn.load_parameters(wide, net, readout), "'layer0.W_xh'",
           "(3, 4) in the model", "(3, 5) in")
    assert values(net, readout) == before


def test_non_float_arrays_in_a_file_are_refused(tmp_path: Path) -> None:
    net, _ = model(0)
    arrays = {name: t.data for name, t in net.named_parameters().items()}
    arrays["layer1.b_h"] = np.arange(4)
    np.savez(tmp_path / "ints.npz", **arrays)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "ints.npz", net),
           "'layer1.b_h'", "int64", "not a float")

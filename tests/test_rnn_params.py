"""Parameters to and from .npz: bit-exact round trip, atomic write, clear errors, no pickle."""

from __future__ import annotations

import os

import numpy as np
import pytest

import rnn
import tinygraph as tg


def model(seed: int, hidden: int = 4, learn_h0: bool = False):
    return (rnn.RNN(3, hidden, num_layers=2, rng=seed, learn_h0=learn_h0),
            rnn.Linear(hidden, 2, rng=seed + 1))


def test_round_trip_is_bit_exact(tmp_path):
    net, readout = model(0, learn_h0=True)
    net.layers[1].h0.data = np.random.default_rng(5).normal(size=4)
    path = rnn.save_parameters(tmp_path / "model.npz", net, readout)
    other_net, other_readout = model(1, learn_h0=True)
    rnn.load_parameters(path, other_net, other_readout)
    for a, b in zip(net.parameters() + readout.parameters(),
                    other_net.parameters() + other_readout.parameters()):
        assert a.name == b.name
        assert a.data.dtype == b.data.dtype and a.data.tobytes() == b.data.tobytes()
    with np.load(path, allow_pickle=False) as file:
        assert sorted(file.files) == sorted(
            ["layer0.W_xh", "layer0.W_hh", "layer0.b_h", "layer0.h0",
             "layer1.W_xh", "layer1.W_hh", "layer1.b_h", "layer1.h0", "W_hy", "b_y"])
    xs = np.random.default_rng(2).normal(size=(2, 5, 3))
    assert np.array_equal(net(xs)[0][-1].data, other_net(xs)[0][-1].data)


def test_write_goes_through_a_temporary_file_and_os_replace(tmp_path, monkeypatch):
    net, readout = model(0)
    target = tmp_path / "model.npz"
    target.write_bytes(b"old contents")
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        calls.append((os.path.dirname(src), os.path.basename(src), str(dst)))
        assert target.read_bytes() == b"old contents"  # untouched until the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    rnn.save_parameters(target, net, readout)
    assert len(calls) == 1 and calls[0][0] == str(tmp_path) and calls[0][2] == str(target)
    assert calls[0][1] != "model.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    net, readout = model(0)
    target = tmp_path / "model.npz"
    target.write_bytes(b"old contents")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(rnn.ParameterFileError, match=r"model\.npz': disk full; the old file is unchanged"):
        rnn.save_parameters(target, net, readout)
    assert target.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_shape_mismatch_names_the_parameter_and_both_shapes(tmp_path):
    net, readout = model(0, hidden=4)
    path = rnn.save_parameters(tmp_path / "m.npz", net, readout)
    bigger, bigger_readout = model(0, hidden=5)
    before = bigger.layers[0].W_xh.data.copy()
    with pytest.raises(tg.ShapeError, match=r"'layer0.W_xh' has shape \(3, 5\) in the model "
                                            r"but \(3, 4\)"):
        rnn.load_parameters(path, bigger, bigger_readout)
    assert np.array_equal(bigger.layers[0].W_xh.data, before)  # nothing was loaded


def test_missing_and_unexpected_names_are_listed(tmp_path):
    net, readout = model(0)
    path = rnn.save_parameters(tmp_path / "m.npz", net)
    with pytest.raises(rnn.ParameterFileError, match=r"missing \['W_hy', 'b_y'\]"):
        rnn.load_parameters(path, net, readout)
    full = rnn.save_parameters(tmp_path / "full.npz", net, readout)
    with pytest.raises(rnn.ParameterFileError, match=r"unexpected \['W_hy', 'b_y'\]"):
        rnn.load_parameters(full, net)
    rnn.load_parameters(full, net, strict=False)


def test_pickled_arrays_are_refused(tmp_path):
    net, _ = model(0)
    path = tmp_path / "evil.npz"
    arrays = {k: p.data for k, p in net.named_parameters().items()}
    arrays["layer0.W_xh"] = np.array([{"payload": 1}], dtype=object)
    np.savez(path, **arrays)
    with pytest.raises(rnn.ParameterFileError, match="pickle"):
        rnn.load_parameters(path, net)


def test_name_clash_between_modules_is_refused(tmp_path):
    first, second = rnn.Linear(2, 2), rnn.Linear(2, 2)
    with pytest.raises(rnn.ParameterFileError, match="both named 'W_hy'"):
        rnn.save_parameters(tmp_path / "m.npz", first, second)
    renamed = rnn.Linear(2, 2, names=("readout.W", "readout.b"))
    rnn.save_parameters(tmp_path / "m.npz", first, renamed)


def test_saved_file_gets_the_usual_permissions(tmp_path):
    import stat

    net = rnn.RNN(2, 3, rng=0)
    path = rnn.save_parameters(tmp_path / "m.npz", net)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask

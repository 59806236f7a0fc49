"""save_parameters replaces only a regular file, keeps its permission bits, and never a link.

A path that exists must be a regular file: a FIFO, a device node, a socket or a symbolic link
is refused before anything is written (replacing a link would silently turn it into a copy;
following it would write into a directory the caller did not name). A new file gets the mode
that open() would give it (0o666 without the umask's bits); a replaced file keeps its own.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

import rnn
from expect_error import expect
from rnn.params import check_output_path


def small_net(seed: int = 0) -> rnn.RNN:
    return rnn.RNN(2, 3, rng=seed)


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(fifo, small_net()), "save_parameters",
           f"cannot write {str(fifo)!r}", "it is a FIFO (named pipe), not a regular file")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.npz"]


def test_a_device_node_is_refused_and_stays_a_device(tmp_path: Path) -> None:
    device = tmp_path / "null.npz"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the same device as /dev/null
    except PermissionError:
        pytest.skip("making a device node needs root (CAP_MKNOD)")
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(device, small_net()),
           "it is a character device, not a regular file")
    assert stat.S_ISCHR(os.lstat(device).st_mode)
    assert os.lstat(device).st_rdev == os.makedev(1, 3)


@pytest.mark.parametrize("dangling", [False, True])
def test_a_symbolic_link_is_refused_and_neither_replaced_nor_followed(tmp_path: Path,
                                                                      dangling: bool) -> None:
    real = tmp_path / "run3.npz"
    if not dangling:
        rnn.save_parameters(real, small_net(1))
    before = real.read_bytes() if not dangling else None
    link = tmp_path / "latest.npz"
    link.symlink_to(real.name)
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(link, small_net(2)),
           f"cannot write {str(link)!r}", "it is a symbolic link (to 'run3.npz')",
           "save to the file it points to")
    assert link.is_symlink() and os.readlink(link) == "run3.npz"
    if dangling:
        assert not real.exists()
    else:
        assert real.read_bytes() == before


def test_the_train_command_refuses_a_fifo_before_training(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    expect(rnn.ParameterFileError, lambda: check_output_path(fifo), "it is a FIFO")


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_replacing_a_file_keeps_its_permission_bits(tmp_path: Path, mode: int) -> None:
    path = rnn.save_parameters(tmp_path / "m.npz", small_net(1))
    path.chmod(mode)
    old_bytes = path.read_bytes()
    rnn.save_parameters(path, small_net(2))
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() != old_bytes


def test_a_new_file_gets_the_umask_default_as_open_would(tmp_path: Path, umask_027: None) -> None:
    path = rnn.save_parameters(tmp_path / "m.npz", small_net())
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with open(tmp_path / "by_open.npz", "wb"):
        pass
    assert stat.S_IMODE((tmp_path / "by_open.npz").stat().st_mode) == 0o640

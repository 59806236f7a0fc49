"""save_parameters replaces only a regular file, keeps its permission bits, and never a link.

A path that exists must be a regular file: a FIFO, a device node, a socket or a symbolic link
is refused before anything is written (replacing a link would silently turn it into a copy;
following it would write into a directory the caller did not name). A new file gets the mode
that open() would give it (0o666 without the umask's bits); a replaced file keeps its own.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
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


# ---------------------------------------------------------------- write failures name the user's path
@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """mounted(options) is a fresh tmpfs mounted with ``options`` (root only, else a skip)."""
    points: list[Path] = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mount{len(points)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                              capture_output=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        points.append(point)
        return point

    try:
        yield mount
    finally:
        for point in points:
            subprocess.run(["umount", str(point)], check=True)


def big_net() -> rnn.RNN:
    return rnn.RNN(2, 128, rng=0)  # W_hh alone is 128 kB


def temporaries_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files save_parameters creates with os.open (its temporaries)."""
    created: list[str] = []
    real_open = os.open

    def spy(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if flags & os.O_CREAT:
            created.append(Path(str(path)).name)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    return created


def test_a_full_disk_is_our_error_and_keeps_the_old_file(mounted: Callable[[str], Path],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    disk = mounted("size=64k")
    path = rnn.save_parameters(disk / "model.npz", small_net(1))
    old_bytes = path.read_bytes()
    created = temporaries_named(disk, monkeypatch)
    error = expect(rnn.ParameterFileError, lambda: rnn.save_parameters(path, big_net()),
                   f"save_parameters: cannot write {str(path)!r}: No space left on device; the old "
                   "file is unchanged")
    assert created and not any(name in str(error) for name in created)
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in disk.iterdir()) == ["model.npz"]


def test_a_read_only_directory_is_our_error_naming_no_temporary(
        mounted: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    folder = mounted("ro,size=64k")
    created = temporaries_named(folder, monkeypatch)
    error = expect(rnn.ParameterFileError,
                   lambda: rnn.save_parameters(folder / "model.npz", small_net()),
                   f"save_parameters: cannot write {str(folder / 'model.npz')!r}: Read-only file "
                   "system; nothing was written")
    assert created and not any(name in str(error) for name in created)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a 0500 directory anyway")
def test_a_directory_without_write_permission_is_our_error(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        expect(rnn.ParameterFileError, lambda: rnn.save_parameters(folder / "m.npz", small_net()),
               f"cannot write {str(folder / 'm.npz')!r}: Permission denied; nothing was written")
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("failure, cause", [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
    (PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/somewhere/.hidden"),
     "Permission denied"),
    (OSError("I/O error in fsync (simulated)"), "I/O error in fsync (simulated)"),
])
def test_an_os_error_while_writing_is_our_error_with_its_cause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: OSError, cause: str) -> None:
    path = rnn.save_parameters(tmp_path / "model.npz", small_net(1))
    old_bytes = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise failure

    monkeypatch.setattr(os, "fsync", broken_fsync)
    error = expect(rnn.ParameterFileError, lambda: rnn.save_parameters(path, small_net(2)),
                   f"save_parameters: cannot write {str(path)!r}: {cause}; the old file is unchanged")
    assert ".hidden" not in str(error) and error.__cause__ is None and error.__suppress_context__
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_the_longest_valid_name_can_be_saved(tmp_path: Path) -> None:
    longest = os.pathconf(tmp_path, "PC_NAME_MAX")
    path = rnn.save_parameters(tmp_path / ("m" * (longest - 4) + ".npz"), small_net())
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    net = small_net(3)
    rnn.load_parameters(path, net)
    assert net.layers[0].W_hh.data.tobytes() == small_net().layers[0].W_hh.data.tobytes()


def test_a_name_too_long_for_the_file_system_is_our_error(tmp_path: Path) -> None:
    too_long = tmp_path / ("m" * os.pathconf(tmp_path, "PC_NAME_MAX") + ".npz")
    expect(rnn.ParameterFileError, lambda: rnn.save_parameters(too_long, small_net()),
           "save_parameters: cannot write", "File name too long")
    assert list(tmp_path.iterdir()) == []

"""load_parameters against hostile files: checked against the model before any data is read.

Each file here is built by hand (zipfile and numpy's .npy header writer): headers that lie
about their shape, compressed members, extra members claiming 10¹² elements, short data,
a compressed member inflating to 64 MB, /dev/zero and a FIFO. tracemalloc (numpy reports its
allocations to it) measures what a load allocated, so "nothing was read" is an assertion.
"""

from __future__ import annotations

import io
import os
import pickle
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect
from rnn.npz_reader import HEADER_LIMIT


def small_net(seed: int = 0) -> rnn.RNN:
    return rnn.RNN(3, 4, num_layers=2, rng=seed)


def arrays_of(net: rnn.RNN) -> dict[str, np.ndarray]:
    return {name: t.data for name, t in rnn.state_dict(net).items()}


def values(net: rnn.RNN) -> dict[str, bytes]:
    return {name: t.data.tobytes() for name, t in rnn.state_dict(net).items()}


def npy(array: np.ndarray) -> bytes:
    """The .npy file numpy writes for ``array``."""
    stream = io.BytesIO()
    np.lib.format.write_array(stream, array, allow_pickle=False)
    return stream.getvalue()


def npy_header(shape: tuple[int, ...], descr: str = "<f8", fortran_order: bool = False) -> bytes:
    """Only the .npy magic string and header for an array of ``shape``: no data."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"shape": shape, "fortran_order": fortran_order, "descr": descr})
    return stream.getvalue()


def write_zip(path: Path, members: dict[str, bytes], compressed: tuple[str, ...] = ()) -> Path:
    """A zip archive holding ``members`` (name without .npy: raw bytes), stored unless named
    in ``compressed``."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, raw in members.items():
            method = zipfile.ZIP_DEFLATED if name in compressed else zipfile.ZIP_STORED
            archive.writestr(f"{name}.npy", raw, compress_type=method)
    return path


def model_members(net: rnn.RNN) -> dict[str, bytes]:
    return {name: npy(array) for name, array in arrays_of(net).items()}


def peak_allocation(fn: Callable[[], Any]) -> int:
    """Bytes allocated at the peak while fn runs."""
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_an_extra_member_claiming_a_huge_shape_is_never_read(tmp_path: Path) -> None:
    saved = small_net(1)
    members = model_members(saved) | {"huge": npy_header((10**12,)) + bytes(8)}
    path = write_zip(tmp_path / "huge.npz", members)
    net = small_net(2)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, net), "load_parameters",
           "huge.npz does not match the model: missing [], unexpected ['huge']")
    rnn.load_parameters(path, net, strict=False)
    assert values(net) == values(saved)


def test_a_large_extra_member_is_refused_before_the_archive_is_read(tmp_path: Path) -> None:
    saved = small_net(1)
    members = model_members(saved) | {"extra": npy(np.zeros(1_500_000 // 8))}
    path = write_zip(tmp_path / "big.npz", members)
    net = small_net(2)

    def refused() -> Exception:
        return expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, net), "big.npz is",
                      "bytes, more than an .npz file of the model's 6 arrays takes", "strict=False")

    assert f"is {path.stat().st_size:,} bytes" in str(refused())
    assert peak_allocation(refused) < 100_000
    assert peak_allocation(lambda: rnn.load_parameters(path, net, strict=False)) < 100_000
    rnn.load_parameters(path, net, strict=False)
    assert values(net) == values(saved)


def test_a_model_member_whose_header_claims_a_huge_shape_is_a_shape_error(tmp_path: Path) -> None:
    members = model_members(small_net()) | {"layer0.W_hh": npy_header((10**12,)) + bytes(128)}
    path = write_zip(tmp_path / "lying.npz", members)
    net = small_net(2)
    before = values(net)
    expect(tg.ShapeError, lambda: rnn.load_parameters(path, net),
           "parameter 'layer0.W_hh' has shape (4, 4) in the model but (1000000000000,) in")
    assert values(net) == before


@pytest.mark.parametrize("data_bytes, held", [(64, "64 bytes"), (136, "136 bytes")])
def test_data_shorter_or_longer_than_the_header_says_is_refused(tmp_path: Path, data_bytes: int,
                                                                held: str) -> None:
    members = model_members(small_net()) | {"layer0.W_hh": npy_header((4, 4)) + bytes(data_bytes)}
    path = write_zip(tmp_path / "cut.npz", members)
    net = small_net(2)
    before = values(net)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, net),
           "cut.npz is a damaged .npz file", f"'layer0.W_hh' holds {held} of data but its header "
           "((4, 4), float64) needs 128")
    assert values(net) == before


def test_a_compressed_member_is_refused_without_inflating_it(tmp_path: Path) -> None:
    bomb = npy_header((4, 4)) + bytes(64 * 2**20)  # 64 MB of zeros, about 64 kB deflated
    members = model_members(small_net()) | {"layer0.W_hh": bomb}
    path = write_zip(tmp_path / "bomb.npz", members, compressed=("layer0.W_hh",))
    assert path.stat().st_size < 200_000
    net = small_net(2)
    assert peak_allocation(lambda: expect(
        rnn.ParameterFileError, lambda: rnn.load_parameters(path, net, strict=False),
        "bomb.npz stores 'layer0.W_hh' compressed (deflate)", "np.savez_compressed does not",
    )) < 1_000_000


def test_a_file_written_by_savez_compressed_is_refused_by_name(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "c.npz", **arrays_of(small_net()))
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(tmp_path / "c.npz", small_net()),
           "stores 'layer0.W_xh' compressed (deflate)")


def test_dev_zero_is_refused_without_being_read() -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters("/dev/zero", small_net()),
           "load_parameters: /dev/zero is a character device, not an .npz file "
           "(only a regular file is read)")


def test_a_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # a writer with data: no reader can hang
    try:
        os.write(writer, b"PK\x03\x04" + bytes(60))
        expect(rnn.ParameterFileError, lambda: rnn.load_parameters(fifo, small_net()),
               "pipe.npz is a FIFO (named pipe), not an .npz file")
        assert os.read(writer, 64) == b"PK\x03\x04" + bytes(60)  # nothing was read from it
    finally:
        os.close(writer)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(fifo, small_net()), "is a FIFO")


def raw_header(text: str, version: int = 1, length: int | None = None) -> bytes:
    """An .npy magic string and a header of the given text, as written, right or wrong."""
    size = len(text) if length is None else length
    return b"\x93NUMPY" + bytes([version, 0]) + size.to_bytes(2 if version == 1 else 4, "little") \
        + text.encode("latin1")


@pytest.mark.parametrize("header, reason", [
    (raw_header("{'descr': '<f8', 'shape': (4,\n"), "cannot be read"),
    (raw_header("[1, 2, 3]\n"), "Header is not a dictionary"),
    (raw_header("{}\n", version=3), ".npy format version 3.0 is not read here"),
    (raw_header("{}\n", version=2, length=2**32 - 1), "EOF: reading array header"),
    (raw_header("{'descr': 'not a dtype', 'fortran_order': False, 'shape': (4,)}\n"),
     "descr is not a valid dtype descriptor"),
    (raw_header(" " * (HEADER_LIMIT + 1)), "Header info length (10001) is large"),
])
def test_a_malformed_npy_header_is_a_damaged_file(tmp_path: Path, header: bytes, reason: str) -> None:
    path = write_zip(tmp_path / "odd.npz", model_members(small_net()) | {"layer1.b_h": header})
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net()),
           "odd.npz is a damaged .npz file: the .npy header of 'layer1.b_h' cannot be read", reason)


@pytest.mark.parametrize("raw, what", [
    (b"\x80\x04K\x01.", "'layer1.b_h' holds pickled Python objects, which are refused for safety"),
    (b"just some bytes", "'layer1.b_h' is not an .npy array"),
])
def test_a_member_that_is_no_npy_array_is_named(tmp_path: Path, raw: bytes, what: str) -> None:
    path = write_zip(tmp_path / "odd.npz", model_members(small_net()) | {"layer1.b_h": raw})
    error = expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net()),
                   "odd.npz is a damaged .npz file", what)
    assert "needs pickle" not in str(error)


def test_an_object_dtype_header_is_refused_before_its_pickle_is_read(tmp_path: Path) -> None:
    members = model_members(small_net()) | {"layer1.b_h": npy_header((4,), descr="|O") + b"\x80"}
    path = write_zip(tmp_path / "evil.npz", members)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net()),
           "evil.npz holds an array that needs pickle (object dtype) in 'layer1.b_h', which is "
           "refused for safety (never unpickled)")


def test_an_encrypted_member_is_refused(tmp_path: Path) -> None:
    """zipfile cannot write encrypted members: the flag is set in the directory afterwards."""
    plain = write_zip(tmp_path / "plain.npz", model_members(small_net())).read_bytes()
    directory = plain.index(b"PK\x01\x02")  # the first directory entry: layer0.W_xh
    flags = directory + 8
    locked = plain[:flags] + bytes([plain[flags] | 0x1]) + plain[flags + 1:]
    path = tmp_path / "locked.npz"
    path.write_bytes(locked)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net()),
           "locked.npz stores 'layer0.W_xh' encrypted")


def test_a_member_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.npz"
    members = model_members(small_net())
    with zipfile.ZipFile(path, "w") as archive:
        for name, raw in members.items():
            archive.writestr(f"{name}.npy", raw)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("layer0.W_xh.npy", npy(np.full((3, 4), 7.0)))
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net()),
           "twice.npz is a damaged .npz file: some of its arrays appear twice")


def test_many_tiny_members_are_refused_before_the_zip_directory_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as archive:
        for name, raw in model_members(small_net()).items():
            archive.writestr(f"{name}.npy", raw)
        for index in range(20_000):
            archive.writestr(f"{index}.npy", b"")
    net = small_net()
    assert peak_allocation(lambda: expect(
        rnn.ParameterFileError, lambda: rnn.load_parameters(path, net),
        "bytes, more than an .npz file of the model's 6 arrays takes",
    )) < 200_000


def test_fortran_order_big_endian_and_float32_arrays_load_by_value(tmp_path: Path) -> None:
    saved = small_net(3)
    arrays = arrays_of(saved)
    members = model_members(saved) | {
        "layer0.W_xh": npy(np.asfortranarray(arrays["layer0.W_xh"])),
        "layer0.W_hh": npy(arrays["layer0.W_hh"].astype(">f8")),
        "layer1.b_h": npy(arrays["layer1.b_h"].astype(np.float32)),
    }
    path = write_zip(tmp_path / "mixed.npz", members)
    net = small_net(4)
    rnn.load_parameters(path, net)
    assert values(net) | {"layer1.b_h": b""} == values(saved) | {"layer1.b_h": b""}
    assert net.layers[1].b_h.data.dtype == np.float64
    assert np.array_equal(net.layers[1].b_h.data, arrays["layer1.b_h"].astype(np.float32))
    assert all(t.data.dtype.isnative for t in rnn.state_dict(net).values())


def test_every_single_byte_damage_is_refused_or_changes_nothing(tmp_path: Path) -> None:
    """Each byte of a saved file, in turn, XORed with 0x5A: the load either raises our error or
    loads exactly the saved values (the byte was in a timestamp or a padding space)."""
    saved = small_net(5)
    good = rnn.save_parameters(tmp_path / "good.npz", saved).read_bytes()
    outcomes: dict[str, int] = {}
    for at in range(len(good)):
        bad = tmp_path / "bad.npz"
        bad.write_bytes(good[:at] + bytes([good[at] ^ 0x5A]) + good[at + 1:])
        net = small_net(6)
        try:
            rnn.load_parameters(bad, net)
        except (rnn.ParameterFileError, tg.ShapeError) as error:
            outcomes[type(error).__name__] = outcomes.get(type(error).__name__, 0) + 1
            assert values(net) == values(small_net(6))
        else:
            outcomes["loaded"] = outcomes.get("loaded", 0) + 1
            assert values(net) == values(saved), f"byte {at} changed a value silently"
    assert outcomes["ParameterFileError"] > len(good) // 2


# ---------------------------------------------------------------- the guarantees that stay
class Payload:
    """Unpickling this object creates a directory: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return os.mkdir, (str(self.marker),)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("header", [npy_header((4,), descr="|O"), b""])
def test_a_pickle_behind_an_object_header_or_alone_never_runs(tmp_path: Path, header: bytes,
                                                              strict: bool) -> None:
    marker = tmp_path / "code_ran"
    payload = pickle.dumps(np.array([Payload(marker)] * 4, dtype=object))
    path = write_zip(tmp_path / "evil.npz", model_members(small_net()) | {"layer1.b_h": header + payload})
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, small_net(), strict=strict),
           "evil.npz", "never unpickled")
    assert not marker.exists()


@pytest.mark.parametrize("byte_order", ["<f8", ">f8"])
def test_nan_payloads_signed_zeros_and_subnormals_load_bit_for_bit(tmp_path: Path,
                                                                   byte_order: str) -> None:
    bits = np.array([0x7FF4000000000001, 0xFFF8DEADBEEF0000, 0x8000000000000000, 0x1], dtype="<u8")
    awkward = bits.view("<f8")  # a signalling NaN, a negative NaN with a payload, -0.0, 5e-324
    saved = small_net(1)
    members = model_members(saved) | {"layer0.b_h": npy(awkward.astype(byte_order))}
    path = write_zip(tmp_path / "awkward.npz", members)
    net = small_net(2)
    with pytest.warns(RuntimeWarning, match=r"awkward\.npz holds NaN or Inf values in \['layer0\.b_h'\]"):
        rnn.load_parameters(path, net)
    assert net.layers[0].b_h.data.view("<u8").tolist() == bits.tolist()
    assert values(net) | {"layer0.b_h": b""} == values(saved) | {"layer0.b_h": b""}


def test_a_refused_file_changes_nothing_even_when_its_first_arrays_are_good(tmp_path: Path) -> None:
    good = small_net(1)
    members = model_members(good) | {"layer1.b_h": npy_header((4,)) + bytes(16)}  # the last, short
    path = write_zip(tmp_path / "half.npz", members)
    net = small_net(2)
    before = values(net)
    expect(rnn.ParameterFileError, lambda: rnn.load_parameters(path, net), "'layer1.b_h' holds 16 bytes")
    assert values(net) == before

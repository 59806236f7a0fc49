"""Read a model's arrays out of an untrusted .npz file, checking it before reading any data.

The checks come in this order, so that the work is bounded by the model, not by the file:

1. the path names a regular file: ``os.stat`` before opening, so a FIFO, ``/dev/zero`` or a
   device is never opened; it is opened with O_NONBLOCK and checked again with ``fstat``;
2. it is a zip archive (else the kind of file is named: empty, .npy, pickle, other);
3. with ``strict``, its size is at most what the model's arrays can take in an .npz file, so
   the zip directory read next is bounded by the model too;
4. the member names in the zip directory match the model's names (no member is opened);
5. each of the model's members is stored (not compressed, not encrypted), and its .npy header
   (at most ``HEADER_BYTES`` read) gives the model's shape and a float dtype (an object dtype,
   which would need pickle, is refused), and the member holds exactly header + shape·itemsize
   bytes;
6. only then is each array read: exactly those bytes, whose CRC-32 zipfile checks.

Members the model does not have (with ``strict=False``) are never opened.
"""

from __future__ import annotations

import io
import os
import stat
import tokenize
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

import tinygraph as tg
from rnn.errors import ParameterFileError
from rnn.file_kinds import entry_kind

HEADER_LIMIT = 10_000  # characters of an .npy header's dict: numpy's own default limit
HEADER_BYTES = np.lib.format.MAGIC_LEN + 4 + HEADER_LIMIT  # magic, header length, header
_ZIP_RECORDS = 1024  # bytes per member for its local header, directory entry and their extras
_ZIP_END = 22 + 56 + 20 + 0xFFFF  # end-of-directory record, its zip64 forms, the longest comment
_WIDEST_FLOAT = max(np.dtype(kind).itemsize for kind in (np.float32, np.float64, np.longdouble))
_PICKLE_MAGIC = b"\x80"
_NPY_MAGIC = b"\x93NUMPY"


class NpyHeader(NamedTuple):
    """What an .npy header says about the array that follows it ``size`` bytes in."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    size: int


def read_model_arrays(source: Path, shapes: dict[str, tuple[int, ...]],
                      strict: bool) -> dict[str, np.ndarray]:
    """The arrays named in ``shapes`` from the .npz file ``source``, as the file's dtype.

    Every name must be in the file with its shape and a float dtype; with ``strict`` the file
    may hold no other arrays. Anything else raises ParameterFileError (ShapeError for a shape)
    before any array's data is read.
    """
    handle = _open_regular_file(source)
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if not zipfile.is_zipfile(handle):
            raise ParameterFileError(f"load_parameters: {source} {_kind_of_non_zip(handle)}; "
                                     "expected an .npz file written by save_parameters")
        largest = _largest_npz(shapes)
        if strict and size > largest:
            raise ParameterFileError(
                f"load_parameters: {source} is {size:,} bytes, more than an .npz file of the "
                f"model's {len(shapes)} arrays takes ({largest:,} bytes at most): it "
                f"holds arrays the model does not have, or larger ones; the model has "
                f"{list(shapes)} (strict=False loads them out of a larger file)")
        with _damage_reported(source):
            archive = zipfile.ZipFile(handle)
        with archive, _damage_reported(source):
            members = _members_by_name(source, archive)
            _check_names(source, shapes, members, strict)
            headers = {name: _checked_header(source, archive, members[name], name, shape)
                       for name, shape in shapes.items()}
            return {name: _read_array(archive, members[name], headers[name]) for name in shapes}


def _open_regular_file(source: Path) -> BinaryIO:
    """``source`` opened for reading if it is a regular file, else a ParameterFileError naming
    its kind. Its kind is known before it is opened, so a FIFO is never waited on and a device
    never opened; O_NONBLOCK and fstat cover an entry swapped in between."""
    try:
        _refuse_unless_regular(source, os.stat(source).st_mode)
        handle = os.fdopen(os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
    except OSError as exc:
        raise ParameterFileError(f"load_parameters: cannot open {source}: {exc}") from None
    with _closed_on_error(handle):
        _refuse_unless_regular(source, os.fstat(handle.fileno()).st_mode)
    return handle


def _refuse_unless_regular(source: Path, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise ParameterFileError(f"load_parameters: {source} is {entry_kind(mode)}, not an .npz "
                                 "file (only a regular file is read)")


@contextmanager
def _closed_on_error(handle: BinaryIO) -> Iterator[None]:
    try:
        yield
    except BaseException:
        handle.close()
        raise


def _kind_of_non_zip(handle: BinaryIO) -> str:
    """What a file that is not a zip archive is, told from its first bytes."""
    handle.seek(0)
    head = handle.read(len(_NPY_MAGIC))
    if not head:
        return "is empty (0 bytes)"
    if head.startswith(_NPY_MAGIC):
        return "is a single-array .npy file"
    if head.startswith(_PICKLE_MAGIC):
        return "holds pickled Python objects, which are refused for safety (never unpickled)"
    return "is not a zip archive (truncated or corrupt?)"


def _largest_npz(shapes: dict[str, tuple[int, ...]]) -> int:
    """An upper bound on the size of an .npz file holding exactly these arrays, in any float
    dtype, with .npy headers of up to HEADER_BYTES and the zip records around each member."""
    members = sum(HEADER_BYTES + _ZIP_RECORDS + 2 * len(f"{name}.npy".encode())
                  + _WIDEST_FLOAT * int(np.prod(shape)) for name, shape in shapes.items())
    return members + _ZIP_END


@contextmanager
def _damage_reported(source: Path) -> Iterator[None]:
    """A context in which an error from zipfile or the OS about the file's contents becomes
    "is a damaged .npz file" naming ``source``."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, NotImplementedError) as exc:
        raise ParameterFileError(f"load_parameters: {source} is a damaged .npz file: {exc}") from None


def _members_by_name(source: Path, archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """The archive's members by array name (``W.npy`` holds array ``W``), from its directory."""
    infos = archive.infolist()
    odd = [info.filename for info in infos if not info.filename.endswith(".npy")]
    if odd:
        raise ParameterFileError(
            f"load_parameters: {source} is a zip archive but {odd} are not .npy arrays; "
            "expected an .npz file written by save_parameters")
    members = {info.filename[: -len(".npy")]: info for info in infos}
    if len(members) != len(infos):
        raise ParameterFileError(
            f"load_parameters: {source} is a damaged .npz file: some of its arrays appear twice "
            "in its zip directory")
    return members


def _check_names(source: Path, shapes: dict[str, tuple[int, ...]],
                 members: dict[str, zipfile.ZipInfo], strict: bool) -> None:
    """Every model name is a member; with ``strict``, every member is a model name."""
    missing = [name for name in shapes if name not in members]
    extra = [name for name in members if name not in shapes]
    if missing or (strict and extra):
        raise ParameterFileError(
            f"load_parameters: {source} does not match the model: missing {missing}, "
            f"unexpected {extra}; the model has {list(shapes)}")


def _checked_header(source: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                    shape: tuple[int, ...]) -> NpyHeader:
    """The .npy header of member ``info``, checked against the model's ``shape``; only the
    header's bytes are read."""
    if info.flag_bits & 0x1:
        raise ParameterFileError(f"load_parameters: {source} stores {name!r} encrypted, which "
                                 "save_parameters never does; refused")
    if info.compress_type != zipfile.ZIP_STORED:
        method = zipfile.compressor_names.get(info.compress_type, f"method {info.compress_type}")
        raise ParameterFileError(
            f"load_parameters: {source} stores {name!r} compressed ({method}); only uncompressed "
            "arrays are read, so that what is read is bounded by the model (save_parameters and "
            "np.savez write them; np.savez_compressed does not)")
    if info.compress_size != info.file_size:
        raise ParameterFileError(f"load_parameters: {source} is a damaged .npz file: {name!r} is "
                                 f"stored in {info.compress_size:,} bytes but holds {info.file_size:,}")
    with archive.open(info) as member:
        prefix = member.read(min(info.file_size, HEADER_BYTES))
    header = _parse_header(source, name, prefix)
    if header.dtype.hasobject:
        raise ParameterFileError(
            f"load_parameters: {source} holds an array that needs pickle (object dtype) in "
            f"{name!r}, which is refused for safety (never unpickled)")
    if header.shape != shape:
        raise tg.ShapeError(f"load_parameters: parameter {name!r} has shape {shape} in the model "
                            f"but {header.shape} in {source}")
    if header.dtype.kind != "f":
        raise ParameterFileError(f"load_parameters: parameter {name!r} in {source} has dtype "
                                 f"{header.dtype}, not a float")
    needed = header.size + header.dtype.itemsize * int(np.prod(shape))
    if info.file_size != needed:
        raise ParameterFileError(
            f"load_parameters: {source} is a damaged .npz file: {name!r} holds "
            f"{info.file_size - header.size:,} bytes of data but its header ({shape}, "
            f"{header.dtype}) needs {needed - header.size:,}")
    return header


def _parse_header(source: Path, name: str, prefix: bytes) -> NpyHeader:
    """The .npy header at the start of ``prefix``, read with numpy's own parser (bounded to
    HEADER_LIMIT characters); a member that is no .npy array is refused, a pickle unpickled."""
    if not prefix.startswith(_NPY_MAGIC):
        what = ("holds pickled Python objects, which are refused for safety (never unpickled)"
                if prefix.startswith(_PICKLE_MAGIC) else "is not an .npy array")
        raise ParameterFileError(f"load_parameters: {source} is a damaged .npz file: {name!r} {what}")
    stream = io.BytesIO(prefix)
    try:
        version = np.lib.format.read_magic(stream)
        read = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f".npy format version {version[0]}.{version[1]} is not read here")
        shape, fortran_order, dtype = read(stream, max_header_size=HEADER_LIMIT)
    except (ValueError, TypeError, SyntaxError, tokenize.TokenError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ParameterFileError(f"load_parameters: {source} is a damaged .npz file: the .npy "
                                 f"header of {name!r} cannot be read ({reason})") from None
    return NpyHeader(shape, dtype, fortran_order, stream.tell())


def _read_array(archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: NpyHeader) -> np.ndarray:
    """The array of a member whose header and size were checked: exactly ``info.file_size``
    bytes are read (zipfile checks their CRC-32 on reaching the end)."""
    with archive.open(info) as member:
        raw = member.read(info.file_size)
    if len(raw) != info.file_size:
        raise EOFError(f"{info.filename!r} ends after {len(raw):,} of its {info.file_size:,} bytes")
    flat = np.frombuffer(raw, dtype=header.dtype, offset=header.size)
    return flat.reshape(header.shape, order="F" if header.fortran_order else "C")

"""Save and load parameters as ``.npz`` files: one array per parameter name.

``save_parameters`` writes to a temporary file in the target's directory and then renames it
over the target (``os.replace``), so a crash never leaves a half-written file. ``load_parameters``
reads with ``allow_pickle=False`` (a file cannot run code) and refuses a file whose names or
shapes do not match the model, naming the parameter and both shapes.
"""

from __future__ import annotations

import os
import secrets
import stat
import warnings
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import tinygraph as tg
from rnn.errors import ParameterFileError
from rnn.file_kinds import entry_kind
from tinygraph.output_path import output_path_fault


def state_dict(*modules: Any) -> dict[str, tg.Tensor]:
    """Every parameter of the modules by name (``named_parameters()``), checking for clashes.

    A module may also be a dict {name: Tensor} or a list of named Tensors.
    """
    named: dict[str, tg.Tensor] = {}
    for module in modules:
        if isinstance(module, dict):
            items = module.items()
        elif isinstance(module, (list, tuple)):
            items = [(p.name, p) for p in module]
        else:
            items = module.named_parameters().items()
        for name, tensor in items:
            if not name:
                raise ParameterFileError(
                    f"state_dict: a parameter of shape {tensor.shape} has no name"
                )
            if name in named and named[name] is not tensor:
                raise ParameterFileError(
                    f"state_dict: two different parameters are both named {name!r}; rename one (e.g. "
                    "Linear(..., names=(...)))"
                )
            named[name] = tensor
    return named


def check_output_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path if a parameter file can be written there, else a ParameterFileError
    saying what is wrong: its directory must exist, and the path must be new or name a regular
    file (a directory, FIFO, device, socket or symbolic link is never replaced)."""
    target = Path(path)
    fault = _existing_entry_fault(target) or output_path_fault(target)
    if fault is not None:
        raise ParameterFileError(f"save_parameters: cannot write {str(target)!r}: {fault}")
    return target


def _existing_entry_fault(target: Path) -> str | None:
    """Why the entry already at ``target`` may not be replaced, or None (none there, a regular
    file, or a directory, which output_path_fault words). A link is refused rather than
    followed (that would write into a directory the caller did not name) or replaced (that would
    turn it into a copy)."""
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return (f"it is a symbolic link (to {os.readlink(target)!r}); save to the file it points to "
                "(a link is neither followed nor replaced)")
    return f"it is {entry_kind(mode)}, not a regular file (only a regular file is replaced)"


def save_parameters(path: str | os.PathLike, *modules: Any) -> Path:
    """Write every parameter's array to ``path`` (.npz, uncompressed, exact float64 bits).

    A file already at ``path`` keeps its permission bits; a new one gets 0o666 less the umask,
    as ``open()`` would give it.
    """
    target = check_output_path(path)
    arrays = {name: t.data for name, t in state_dict(*modules).items()}
    mode = _permission_bits(target)
    temporary = _create_temporary(target.parent, target.name)
    try:
        with open(temporary.fd, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(temporary.path, target)
    except BaseException:
        temporary.path.unlink(missing_ok=True)
        raise
    return target


def _permission_bits(target: Path) -> int | None:
    """The permission bits of the regular file at ``target``, or None when there is none."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None


class _Temporary(NamedTuple):
    fd: int
    path: Path


def _create_temporary(directory: Path, name: str) -> _Temporary:
    """A new file in ``directory`` opened for writing, created as open() creates a file
    (0o666 less the umask), under a random hidden name that exists nowhere yet."""
    while True:
        path = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return _Temporary(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path)
        except FileExistsError:
            continue


def load_parameters(path: str | os.PathLike, *modules: Any, strict: bool = True) -> None:
    """Copy the arrays of ``path`` into the modules' parameters (new arrays, same dtype).

    Every parameter must be in the file with the same shape; with ``strict`` (the default)
    the file may hold no other arrays. Nothing is changed unless everything matches. Values
    are loaded bit for bit; parameters holding NaN or ±Inf (a diverged run was saved) are
    loaded as they are, with one RuntimeWarning naming them.
    """
    named = state_dict(*modules)
    arrays = _read_npz(path)
    missing = [n for n in named if n not in arrays]
    extra = [n for n in arrays if n not in named]
    if missing or (strict and extra):
        raise ParameterFileError(
            f"load_parameters: {path} does not match the model: missing {missing}, "
            f"unexpected {extra}; the model has {list(named)}"
        )
    for name, tensor in named.items():
        array = arrays[name]
        if array.shape != tensor.shape:
            raise tg.ShapeError(
                f"load_parameters: parameter {name!r} has shape {tensor.shape} in the model "
                f"but {array.shape} in {path}"
            )
        if array.dtype.kind != "f":
            raise ParameterFileError(
                f"load_parameters: parameter {name!r} in {path} has dtype {array.dtype}, "
                "not a float"
            )
    for name, tensor in named.items():
        tensor.data = arrays[name].astype(tensor.data.dtype, copy=True)
    broken = [name for name in named if not np.isfinite(arrays[name]).all()]
    if broken:
        warnings.warn(f"load_parameters: {path} holds NaN or Inf values in {broken}; the run "
                      "that saved them had probably diverged", RuntimeWarning, stacklevel=2)


_PICKLE_MAGIC = b"\x80"
_NPY_MAGIC = b"\x93NUMPY"


def _read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an .npz file, read with allow_pickle=False; any other file is refused.

    A zip archive is opened only after its kind is known: a bare pickle or .npy file, an
    empty, truncated or corrupt file each get their own message, and nothing is unpickled.
    """
    source = Path(path)
    if source.is_dir():
        raise ParameterFileError(f"load_parameters: {source} is a directory, not an .npz file")
    try:
        with open(source, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ParameterFileError(f"load_parameters: cannot open {source}: {exc}") from None
    if not zipfile.is_zipfile(source):
        if not head:
            kind = "is empty (0 bytes)"
        elif head.startswith(_NPY_MAGIC):
            kind = "is a single-array .npy file"
        elif head.startswith(_PICKLE_MAGIC):
            kind = "holds pickled Python objects, which are refused for safety (never unpickled)"
        else:
            kind = "is not a zip archive (truncated or corrupt?)"
        raise ParameterFileError(
            f"load_parameters: {source} {kind}; expected an .npz file written by save_parameters"
        )
    try:
        with np.load(source, allow_pickle=False) as file:
            arrays = {name: file[name] for name in file.files}
    except ValueError as exc:
        raise ParameterFileError(
            f"load_parameters: {source} holds an array that needs pickle (object dtype), which "
            f"is refused for safety (never unpickled): {exc}"
        ) from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ParameterFileError(
            f"load_parameters: {source} is a damaged .npz file: {exc}"
        ) from None
    odd = [name for name, value in arrays.items() if not isinstance(value, np.ndarray)]
    if odd:
        raise ParameterFileError(
            f"load_parameters: {source} is a zip archive but {odd} are not .npy arrays; "
            "expected an .npz file written by save_parameters"
        )
    return arrays

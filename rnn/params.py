"""Save and load parameters as ``.npz`` files: one array per parameter name.

``save_parameters`` writes to a temporary file in the target's directory and then renames it
over the target (``os.replace``), so a crash never leaves a half-written file; it replaces only
a regular file. ``load_parameters`` checks the file against the model before reading any data
(``rnn.npz_reader``): a file cannot run code, and what is read is bounded by the model.
"""

from __future__ import annotations

import os
import secrets
import stat
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

import tinygraph as tg
from rnn.errors import ParameterFileError
from rnn.file_kinds import entry_kind
from rnn.npz_reader import read_model_arrays
from tinygraph import output_path_fault


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
    fault = parameter_file_fault(target)
    if fault is not None:
        raise ParameterFileError(f"save_parameters: cannot write {str(target)!r}: {fault}")
    return target


def parameter_file_fault(target: Path) -> str | None:
    """Why no parameter file may be written at ``target``, in words, or None when one can: the
    entry there is not a regular file (a link, FIFO, device, socket), or no file can be written
    there at all (``tinygraph.output_path_fault``). Nothing is created or written."""
    return _existing_entry_fault(target) or output_path_fault(target)


def _existing_entry_fault(target: Path) -> str | None:
    """Why the entry already at ``target`` may not be replaced or cannot even be looked up, or
    None (none there, a regular file, or a directory, which output_path_fault words). A link is
    refused rather than followed (that would write into a directory the caller did not name) or
    replaced (that would turn it into a copy)."""
    try:
        mode = os.lstat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # a name too long, a directory that may not be searched, ...
        return exc.strerror or str(exc)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISLNK(mode):
        return (f"it is a symbolic link (to {os.readlink(target)!r}); save to the file it points to "
                "(a link is neither followed nor replaced)")
    return f"it is {entry_kind(mode)}, not a regular file (only a regular file is replaced)"


def save_parameters(path: str | os.PathLike, *modules: Any) -> Path:
    """Write every parameter's array to ``path`` (.npz, uncompressed, exact float64 bits).

    A file already at ``path`` keeps its permission bits; a new one gets 0o666 less the umask,
    as ``open()`` would give it. A failure (a full disk, a read-only directory) is a
    ParameterFileError naming ``path`` and the cause, and leaves any old file as it was.
    """
    target = check_output_path(path)
    arrays = {name: t.data for name, t in state_dict(*modules).items()}
    try:
        _write_and_replace(target, arrays)
    except OSError as exc:
        outcome = "the old file is unchanged" if os.path.lexists(target) else "nothing was written"
        raise ParameterFileError(f"save_parameters: cannot write {str(target)!r}: "
                                 f"{exc.strerror or exc}; {outcome}") from None
    return target


def _write_and_replace(target: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to a temporary file beside ``target``, flush and fsync it, give it the
    old file's permission bits, and rename it over ``target``; on any failure, or an interrupt,
    the temporary file is removed and ``target`` is untouched."""
    mode = _permission_bits(target)
    temporary = _create_temporary(target.parent)
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


def _permission_bits(target: Path) -> int | None:
    """The permission bits of the regular file at ``target``, or None when there is none."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None


class _Temporary(NamedTuple):
    fd: int
    path: Path


def _create_temporary(directory: Path) -> _Temporary:
    """A new file in ``directory`` opened for writing, created as open() creates a file
    (0o666 less the umask), under a short random hidden name that exists nowhere yet (short, so
    that any name valid for the target is also valid for its temporary)."""
    while True:
        path = directory / f".params-{secrets.token_hex(4)}.tmp"
        try:
            return _Temporary(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), path)
        except FileExistsError:
            continue


def load_parameters(path: str | os.PathLike, *modules: Any, strict: bool = True) -> None:
    """Copy the arrays of ``path`` into the modules' parameters (new arrays, same dtype).

    Every parameter must be in the file with the same shape; with ``strict`` (the default)
    the file may hold no other arrays. The file's directory and .npy headers are checked
    against the model before any array is read, and only the model's arrays are read
    (rnn.npz_reader says how). Nothing is changed unless everything matches. Values are loaded
    bit for bit; parameters holding NaN or ±Inf (a diverged run was saved) are loaded as they
    are, with one RuntimeWarning naming them.
    """
    named = state_dict(*modules)
    arrays = read_model_arrays(Path(path), {name: t.shape for name, t in named.items()}, strict)
    for name, tensor in named.items():
        tensor.data = arrays[name].astype(tensor.data.dtype, copy=True)
    broken = [name for name in named if not np.isfinite(arrays[name]).all()]
    if broken:
        warnings.warn(f"load_parameters: {path} holds NaN or Inf values in {broken}; the run "
                      "that saved them had probably diverged", RuntimeWarning, stacklevel=2)

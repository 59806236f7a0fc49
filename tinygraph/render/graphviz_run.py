"""Running Graphviz: ``neato -n2`` on DOT text, with a timeout, and nothing but a whole picture back.

The ``graphviz`` package has no timeout, so the binary is run here. It runs in a process
group of its own (a new session): past the timeout the whole group is killed, so a wrapper
script (conda's, a shim) and anything it started go too. What it writes is checked for the
format (:func:`tinygraph.render.formats.picture_fault`) before anyone may save it: a truncated
or garbage file is a RenderError, also when Graphviz exits 0. dot 2.43 sometimes exits 1 after
writing a complete file, which is accepted when the file checks out.
"""

from __future__ import annotations

import math
import numbers
import os
import shutil
import signal
import subprocess

import numpy as np

from tinygraph.errors import ConfigError, RenderError
from tinygraph.render.formats import CHECKED_FORMATS, check_format, picture_fault

ENGINE = "neato"
INSTALL_HINT = ("install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
                "'brew install graphviz' (macOS), 'conda install graphviz'; tg.to_dot() works "
                "without it")
PNG_LIMIT = 32000  # pixels; Graphviz caps bitmaps at 32767
FOLD_ADVICE_STEPS = 4  # fewer steps than this are not worth folding
SMALL_PICTURE = 2000   # nodes Graphviz draws in well under a second (3,334 at T=128, L=2: 0.37 s)


def graphviz_missing() -> str | None:
    """None when Graphviz's layout program is on PATH, else what is missing and how to install
    it: ``Graphviz ('neato' is not on PATH): install Graphviz: ...``."""
    if shutil.which(ENGINE) is None:
        return f"Graphviz ('{ENGINE}' is not on PATH): {INSTALL_HINT}"
    return None


def check_timeout(timeout: object, where: str = "render") -> float:
    """``timeout`` as a float if it is a positive, finite number of seconds; else a ConfigError."""
    if (isinstance(timeout, (bool, np.bool_)) or not isinstance(timeout, numbers.Real)
            or not (math.isfinite(timeout) and timeout > 0)):
        raise ConfigError(f"{where}: timeout must be a positive, finite number of seconds, "
                          f"got {timeout!r}")
    return float(timeout)


def pipe_with_timeout(source: str, fmt: str = "svg", timeout: float = 60.0, *,
                      engine: str = ENGINE, no_op: int = 2) -> bytes:
    """Run ``neato -n2 -T<fmt>`` (or ``engine``) on DOT ``source`` and return the picture.

    ``fmt`` may carry a renderer and formatter (``"png:cairo"``). A missing binary, a run past
    ``timeout`` seconds (the whole process group is killed), a failure, or output that is not
    a whole picture of the format is a RenderError.
    """
    seconds = check_timeout(timeout)
    base = check_format(fmt.split(":", 1)[0])
    exe = shutil.which(engine)
    if exe is None:
        raise RenderError(f"render: the Graphviz program '{engine}' was not found on PATH; "
                          + INSTALL_HINT)
    command = [exe, *([f"-n{no_op}"] if no_op else []), f"-T{fmt}"]
    if base == "png":
        command.append(f"-Gdpi={_png_dpi(source)}")
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise RenderError(f"render: could not run {exe}: {exc}; " + INSTALL_HINT) from None
    try:
        data, errors = process.communicate(source.encode("utf-8"), timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise RenderError(f"render: {engine} ran longer than {seconds:g} s on "
                          f"{_timeout_advice(source, exe)}") from None
    except BaseException:
        _kill_group(process)
        raise
    message = errors.decode("utf-8", "replace").strip()
    fault = picture_fault(data, base)
    if process.returncode != 0 and (fault is not None or base not in CHECKED_FORMATS):
        raise RenderError(f"render: {engine} -T{fmt} exited with code "
                          f"{process.returncode}: {message}")
    if fault is not None:
        raise RenderError(f"render: {exe} -T{fmt} exited with code 0 but wrote no whole {base} "
                          f"file ({fault}); {message or 'it printed no error'}: is it a working "
                          "Graphviz? Nothing was written")
    return data


def _kill_group(process: subprocess.Popen) -> None:
    """Kill Graphviz and every process it started (its own process group), then reap it."""
    killpg = getattr(os, "killpg", None)
    try:
        if killpg is not None:
            killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def _timeout_advice(source: str, exe: str) -> str:
    """The picture's size and only the advice that applies to it: fold a long unroll, draw
    less of a big graph, or check a Graphviz that is slow on a small picture."""
    nodes = source.count('pos="')
    steps = source.count("subgraph cluster_t")
    folded = "\n  fold [" in source
    size = (f"a picture of {nodes} nodes in {steps} step{'' if steps == 1 else 's'}"
            + (" (folded)" if folded else ""))
    if steps > FOLD_ADVICE_STEPS and not folded:
        return (f"{size}; fold the middle steps with max_steps={min(16, steps // 2)}, "
                "or raise timeout=")
    if nodes > SMALL_PICTURE:
        return f"{size}; draw a smaller part of the graph, or raise timeout="
    return (f"{size}, which Graphviz draws in well under a second: check that {exe} works "
            "(e.g. run it on a small graph), or raise timeout=")


def _png_dpi(source: str) -> int:
    """96 dpi, or less so that neither side passes Graphviz's bitmap limit."""
    start = source.find('bb="0,0,')
    if start < 0:
        return 96
    width, height = (float(v) for v in source[start + 8:source.find('"', start + 8)].split(","))
    biggest = max(width, height) / 72.0
    return int(min(96, PNG_LIMIT / max(biggest, 1.0)))

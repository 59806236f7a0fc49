"""keep_freed_memory sets glibc's malloc thresholds (where glibc exists) and nothing else."""

from __future__ import annotations

import ctypes.util
import sys

import numpy as np

import tinygraph as tg


def test_keep_freed_memory_reports_whether_it_applied_and_the_engine_still_works():
    applied = tg.keep_freed_memory()
    if sys.platform.startswith("linux") and ctypes.util.find_library("c"):
        assert applied is True  # glibc's mallopt accepted both settings
    x = tg.Tensor(np.ones(3), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])

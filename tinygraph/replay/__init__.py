"""Replay: record a function's graph once, then run its forward and backward from a flat plan.

``tg.compile(fn)`` (``compiled``) records; ``arguments`` says what a call's inputs and
signature are; ``plan`` turns the recorded graph into steps over slots; ``interpret`` runs a
plan with the eager engine's rules (the reference); ``codegen`` writes it as straight-line
Python, the fast replay.
"""

from tinygraph.replay.compiled import Compiled
from tinygraph.replay.compiled import compile as compile  # noqa: A004 (torch.compile, jax.jit)

__all__ = ["Compiled", "compile"]

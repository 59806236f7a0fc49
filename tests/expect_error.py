"""expect: the assertion the reliability tests share for an error's type and message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def expect(error: type[Exception], fn: Callable[[], Any], *fragments: str) -> Exception:
    """fn() raises exactly ``error`` (or a subclass) and the message holds every fragment."""
    with pytest.raises(error) as info:
        fn()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return info.value

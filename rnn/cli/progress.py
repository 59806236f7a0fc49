"""A progress display over epochs: a tqdm bar when tqdm is installed, else plain lines."""

from __future__ import annotations

from typing import Any


class Progress:
    """Call :meth:`epoch` once per epoch; :meth:`close` at the end.

    With tqdm (``pip install tinygraph[progress]``) a bar shows the latest loss and each
    epoch's line is written above it; without it, one plain line per epoch is printed.
    """

    def __init__(self, total: int, desc: str = "train", enabled: bool = True) -> None:
        self.total = total
        self.enabled = enabled
        self.bar: Any = _tqdm(total, desc) if enabled else None

    def epoch(self, index: int, message: str) -> None:
        """Report epoch ``index`` (0-based) with ``message`` (e.g. the loss)."""
        line = f"epoch {index + 1:>3}/{self.total}  {message}"
        if self.bar is not None:
            self.bar.write(line)
            self.bar.set_postfix_str(message)
            self.bar.update(1)
        elif self.enabled:
            print(line, flush=True)

    def close(self) -> None:
        """Finish the bar (if any)."""
        if self.bar is not None:
            self.bar.close()


def _tqdm(total: int, desc: str) -> Any:
    """A tqdm bar, or None when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="epoch", leave=False)

"""A dependency-free progress bar for long runs (stderr, silent when not a terminal)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``[#####.....] 512/1024 chunks  50%  3.1 s, ETA 3.1 s`` on one updating line.

    Draws only when enabled and the stream is a TTY (or ``force=True``), at most every 0.1 s,
    so it costs nothing in CI logs and nothing in tight loops.

    Args:
        total: Number of units of work.
        label: Unit name shown after the counts.
        enabled: False silences it entirely.
        stream: Where to draw (default stderr).
        force: Draw even when the stream is not a terminal.
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True,
                 stream: TextIO | None = None, force: bool = False):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", lambda: False)()
        self.enabled = bool(enabled) and (force or isatty)
        self.done = 0
        self.start = time.perf_counter()
        self._last = 0.0

    @classmethod
    def from_arg(cls, total: int, progress: bool | TextIO, label: str = "") -> Progress:
        """From a ``progress=`` argument: a bool (draw on stderr when it is a terminal) or a
        stream (always draw there)."""
        if isinstance(progress, bool):
            return cls(total, label, enabled=progress)
        return cls(total, label, stream=progress, force=True)

    def advance(self, n: int = 1, label: str | None = None) -> None:
        """Record ``n`` more units done (and optionally a new label) and redraw if due."""
        if label is not None:
            self.label = label
        self.done = min(self.done + n, self.total)
        if self.enabled and (time.perf_counter() - self._last > 0.1 or self.done == self.total):
            self._draw()

    def _draw(self) -> None:
        self._last = time.perf_counter()
        elapsed = self._last - self.start
        frac = self.done / self.total if self.total else 1.0
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("inf")
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {self.label} {100 * frac:3.0f}%"
                          f"  {elapsed:.1f} s, ETA {eta:.1f} s ")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""A dependency-free progress display for long runs: a bar on a terminal, plain lines off it.

On a terminal: ``[#####.....] 512/1024 chunks  50%  3.1 s, 165 chunks/s, ETA 3.1 s`` on one
line updated in place (``\\r``). Off a terminal (a pipe, a log file, CI): the same text as
plain lines, one every ``interval`` seconds and a last one at the end, so a long run
leaves a trace in a log while a short one stays silent.

Rate and ETA are this run's own: units restored from a checkpoint (:meth:`Progress.resume`)
count as done but not as work done now, so a resumed run neither claims a huge rate nor an
ETA of zero; and time spent compiling kernels (a first use) is not work time either: the
text says ``compiling kernels`` instead of an ETA meanwhile, and the rate leaves it out.
With ``heartbeat`` a background thread redraws the bar (its clock) every ``heartbeat``
seconds, so it never sits still during a long unit such as a first compile.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from .exceptions import InvalidValueError

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``"4.2 s"``, ``"3 min 05 s"``, ``"2 h 03 min"``; ``"?"`` when unknown (inf/NaN)."""
    if not math.isfinite(seconds):
        return "?"
    s = max(seconds, 0.0)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        m, r = divmod(int(round(s)), 60)
        return f"{m} min {r:02d} s"
    h, r = divmod(int(round(s)) // 60, 60)
    return f"{h} h {r:02d} min"


#: Set by :func:`interrupt` (the CLI's Ctrl-C handler): a KeyboardInterrupt raised inside a
#: compiled library's callback can be swallowed there (numba's compiler reports it as
#: "ignored" and goes on), so the next :meth:`Progress.advance` in the main thread raises it
#: again. A run with a bar is never left running after a Ctrl-C.
_INTERRUPTED = threading.Event()


def interrupt() -> None:
    """Note a Ctrl-C for the bars (see :data:`_INTERRUPTED`)."""
    _INTERRUPTED.set()
    _NOTED.set()


def interrupted() -> bool:
    """Whether a Ctrl-C was noted in this process (also after a bar re-raised it)."""
    return _NOTED.is_set()


_NOTED = threading.Event()


class Progress:
    """Progress of ``total`` units of work, drawn on ``stream``.

    Draws a ``\\r`` bar at most every 0.1 s when the stream is a terminal (or ``force=True``);
    otherwise writes a plain line every ``interval`` seconds, and a last one at
    :meth:`close` if it wrote any before. Costs nothing when disabled.

    Args:
        total: Number of units of work.
        label: Unit name shown after the counts.
        enabled: False silences it entirely.
        stream: Where to draw (default ``sys.stderr``).
        force: Draw the terminal bar even when the stream is not a terminal.
        interval: Seconds between plain lines off a terminal.
        clock: Monotonic clock in seconds (for tests).
        heartbeat: Redraw every this many seconds from a background thread even when no
            unit completes (``None``: only on :meth:`advance`).
        compiling: Seconds this process has spent compiling kernels so far, a clock that
            rates leave out (default: the kernels' own count with the default ``clock``,
            none with another clock).
    """

    def __init__(self, total: int, label: str = "", enabled: bool = True,
                 stream: TextIO | None = None, force: bool = False, *,
                 interval: float = 10.0, clock: Callable[[], float] = time.perf_counter,
                 heartbeat: float | None = None,
                 compiling: Callable[[], float] | None = None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        isatty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = bool(enabled)
        self.tty = bool(force) or isatty
        self.interval = float(interval)
        self.clock = clock
        self.done = 0
        self.resumed = 0
        self.start = clock()
        self._last = self.start if not self.tty else -math.inf
        self._lines = 0
        if compiling is None:
            compiling = _compile_seconds if clock is time.perf_counter else _no_compiling
        self._compiling = compiling
        self._compiled0 = compiling()
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        if heartbeat is not None and self.enabled:
            self._stop = threading.Event()
            threading.Thread(target=self._beat, args=(float(heartbeat), self._stop),
                             name="kinematics-progress", daemon=True).start()

    def _beat(self, period: float, stop: threading.Event) -> None:
        while not stop.wait(period):
            self.advance(0)

    @classmethod
    def from_arg(cls, total: int, progress: bool | TextIO, label: str = "",
                 **kwargs: object) -> Progress:
        """From a ``progress=`` argument: a bool (draw on stderr: a bar on a terminal, plain
        lines otherwise) or a stream (always draw the bar there). ``kwargs`` go to the
        constructor.

        Raises:
            InvalidValueError: ``progress`` is neither a bool nor a writable stream.
        """
        if isinstance(progress, bool):
            return cls(total, label, enabled=progress, **kwargs)  # type: ignore[arg-type]
        if not callable(getattr(progress, "write", None)):
            raise InvalidValueError(f"progress={progress!r}; expected True, False or a text "
                                    f"stream")
        return cls(total, label, stream=progress, force=True, **kwargs)  # type: ignore[arg-type]

    # -- counting ---------------------------------------------------------------------------

    def resume(self, n: int, message: str | None = None) -> None:
        """Count ``n`` units restored from earlier work (a checkpoint): done, but not part of
        this run's rate; ``message`` (e.g. ``"resuming 3/10 chunks from out/"``) is written
        on its own line."""
        n = max(0, min(int(n), self.total - self.done))
        self.done += n
        self.resumed += n
        if message is not None:
            self.note(message)

    def advance(self, n: int = 1, label: str | None = None) -> None:
        """Record ``n`` more units done (and optionally a new label) and redraw if due.

        Raises:
            KeyboardInterrupt: A Ctrl-C was noted (:func:`interrupt`) and possibly swallowed
                on its way (in the main thread only).
        """
        if _INTERRUPTED.is_set() and threading.current_thread() is threading.main_thread():
            _INTERRUPTED.clear()
            raise KeyboardInterrupt
        if label is not None:
            self.label = label
        self.done = min(self.done + n, self.total)
        if not self.enabled:
            return
        with self._lock:
            now = self.clock()
            if self.tty:
                if now - self._last > 0.1 or self.done == self.total:
                    self._write("\r" + self.text(now) + " ")
                    self._last = now
            elif now - self._last >= self.interval:
                self._write(self.text(now) + "\n")
                self._last = now
                self._lines += 1

    def note(self, message: str) -> None:
        """Write ``message`` on a line of its own (above the bar on a terminal)."""
        if self.enabled:
            self._write(("\r\033[K" if self.tty and self._last > -math.inf else "")
                        + message + "\n")

    # -- measures ---------------------------------------------------------------------------

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since this run started."""
        return (self.clock() if now is None else now) - self.start

    def rate(self, now: float | None = None) -> float:
        """Units per second done by this run (restored units and time spent compiling
        kernels excluded); 0 before any."""
        t = self.elapsed(now) - (self._compiling() - self._compiled0)
        return (self.done - self.resumed) / t if t > 0 else 0.0

    def eta(self, now: float | None = None) -> float:
        """Seconds left at this run's rate: 0 when done, ``inf`` while the rate is unknown."""
        left = self.total - self.done
        if left == 0:
            return 0.0
        r = self.rate(now)
        return left / r if r > 0 else math.inf

    def text(self, now: float | None = None) -> str:
        """The status text, e.g. ``[###...] 3/10 chunks  30%  2.0 s, 1.5 chunks/s,
        ETA 4.7 s``."""
        now = self.clock() if now is None else now
        frac = self.done / self.total if self.total else 1.0
        bar = "#" * int(30 * frac) + "." * (30 - int(30 * frac))
        tail = ("compiling kernels (first use)" if _compiling()
                else f"{self.rate(now):.3g} {self.label}/s, ETA {format_duration(self.eta(now))}")
        return (f"[{bar}] {self.done}/{self.total} {self.label} {100 * frac:3.0f}%  "
                f"{format_duration(self.elapsed(now))}, {tail}")

    # -- end --------------------------------------------------------------------------------

    def close(self) -> None:
        """Finish: end the bar's line on a terminal; off a terminal, write a last line if
        any was written before."""
        if self._stop is not None:
            self._stop.set()
            self._stop = None
        if not self.enabled:
            return
        if self.tty:
            self._write("\r" + self.text() + " \n")
        elif self._lines:
            self._write(self.text() + "\n")

    def _write(self, s: str) -> None:
        self.stream.write(s)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _compile_seconds() -> float:
    """Seconds this process has spent compiling kernels (0 before the engine loads)."""
    cache = sys.modules.get("kinematics._cache")
    return cache.compile_seconds() if cache is not None else 0.0  # type: ignore[attr-defined]


def _no_compiling() -> float:
    return 0.0


def _compiling() -> bool:
    cache = sys.modules.get("kinematics._cache")
    return bool(cache is not None and cache.compiling())  # type: ignore[attr-defined]

"""The progress display: a bar on a terminal, plain periodic lines off it, this run's own
rate and an honest ETA after a resume (a fake clock, never the wall clock)."""

from __future__ import annotations

import io
import math

import pytest

from kinematics.progress import Progress, format_duration


class Clock:
    """A manual clock [s]."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_short_run_off_a_terminal_stays_silent() -> None:
    buf = io.StringIO()  # not a TTY
    with Progress(10, "steps", stream=buf) as bar:
        bar.advance(10)
    assert buf.getvalue() == ""


def test_off_a_terminal_plain_lines_every_interval_and_at_the_end() -> None:
    buf, clock = io.StringIO(), Clock()
    bar = Progress(100, "chunks", stream=buf, interval=5.0, clock=clock)
    for dt, n in [(1, 10), (5, 10), (2, 10), (4, 10), (1, 10)]:  # t = 1, 6, 8, 12, 13 s
        clock.t += dt
        bar.advance(n)
    bar.close()
    lines = buf.getvalue().split("\n")
    assert lines[-1] == "" and "\r" not in buf.getvalue()
    assert len(lines) == 4  # at 6 s, at 12 s (6 s after the first), at the end
    assert "20/100 chunks  20%" in lines[0] and "3.33 chunks/s" in lines[0]
    assert "40/100 chunks  40%" in lines[1] and "ETA 18.0 s" in lines[1]  # 60 at 40/12 per s
    assert "50/100 chunks  50%" in lines[2]


def test_on_a_terminal_one_updating_bar() -> None:
    term, clock = Terminal(), Clock()
    bar = Progress(4, "chunks", stream=term, clock=clock)
    clock.t += 1
    bar.advance(1)
    clock.t += 1
    bar.advance(3, label="voxels")
    bar.close()
    out = term.getvalue()
    assert out.startswith("\r[") and out.endswith("\n") and out.count("\n") == 1
    assert "4/4 voxels 100%" in out and "2 voxels/s" in out and "ETA 0.0 s" in out


def test_draws_counts_labels_and_finishes_the_line_on_a_given_stream() -> None:
    buf = io.StringIO()
    bar = Progress.from_arg(4, buf, "chunks")
    bar.advance(1)
    bar.advance(3, label="voxels")
    bar.close()
    out = buf.getvalue()
    assert "\r[" in out and "4/4 voxels 100%" in out and "ETA" in out and out.endswith("\n")
    assert bar.done == 4


def test_eta_and_rate_after_a_resume_count_only_this_runs_work() -> None:
    term, clock = Terminal(), Clock()
    bar = Progress(100, "chunks", stream=term, clock=clock)
    bar.resume(70, "resuming 7/10 chunks from 'out/chunks'")
    assert bar.rate() == 0.0 and bar.eta() == math.inf  # nothing done by this run yet
    assert "ETA ?" in bar.text()
    clock.t += 2.0
    bar.advance(10)
    assert bar.done == 80 and bar.resumed == 70
    assert bar.rate() == pytest.approx(5.0)  # 10 in 2 s, not 80 in 2 s
    assert bar.eta() == pytest.approx(4.0)   # 20 left at 5 per s, not 0.5 s
    out = term.getvalue()
    assert out.startswith("resuming 7/10 chunks from 'out/chunks'\n")
    assert "80/100 chunks  80%" in out and "5 chunks/s" in out and "ETA 4.0 s" in out


def test_resume_message_clears_a_drawn_bar_line() -> None:
    term = Terminal()
    bar = Progress(10, "chunks", stream=term)
    bar.advance(1)
    bar.note("hello")
    assert "\r\x1b[Khello\n" in term.getvalue()


def test_never_counts_past_total_and_disabled_writes_nothing() -> None:
    buf = io.StringIO()
    bar = Progress(3, enabled=False, stream=buf, force=True)
    bar.resume(2, "resuming")
    bar.advance(10)
    bar.close()
    assert bar.done == 3 and bar.resumed == 2 and buf.getvalue() == ""


@pytest.mark.parametrize(("seconds", "text"), [
    (0.04, "0.0 s"), (4.25, "4.2 s"), (59.94, "59.9 s"), (185, "3 min 05 s"),
    (7380, "2 h 03 min"), (math.inf, "?"), (math.nan, "?"),
])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text

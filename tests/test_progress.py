"""The progress bar: silent off a terminal, drawn on a given stream, labels and ETA."""

from __future__ import annotations

import io

from kinematics.progress import Progress


def test_silent_unless_terminal_or_forced() -> None:
    buf = io.StringIO()  # not a TTY
    with Progress(10, "steps", stream=buf) as bar:
        bar.advance(10)
    assert buf.getvalue() == ""


def test_draws_counts_labels_and_finishes_the_line() -> None:
    buf = io.StringIO()
    bar = Progress.from_arg(4, buf, "chunks")
    bar.advance(1)
    bar.advance(3, label="voxels")
    bar.close()
    out = buf.getvalue()
    assert "\r[" in out and "4/4 voxels 100%" in out and "ETA" in out and out.endswith("\n")
    assert bar.done == 4


def test_never_counts_past_total() -> None:
    bar = Progress(3, enabled=False)
    bar.advance(10)
    assert bar.done == 3

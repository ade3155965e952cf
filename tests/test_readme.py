"""Every Python block of the README runs as written, in order, in one namespace; a block
followed by a plain fenced block prints exactly that block."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```(?:\n\n```\n(.*?)```)?", README.read_text("utf-8"),
                    re.S)


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 3


@pytest.mark.slow
def test_readme_python_blocks_run_as_written() -> None:
    pytest.importorskip("xacro")
    pytest.importorskip("rtbdata")
    namespace: dict[str, object] = {"__name__": "readme"}
    for code, expected in BLOCKS:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
        if expected:
            assert out.getvalue() == expected, code

"""Reports looked at in a real headless browser (skipped without Chromium): every image is an
embedded PNG that loads, and nothing overflows the 1400 px window horizontally
(scripts/check_reports.py; it also writes report.png next to each report)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kinematics.cli import main

_SPEC = importlib.util.spec_from_file_location(
    "check_reports", Path(__file__).resolve().parents[1] / "scripts" / "check_reports.py")
assert _SPEC is not None and _SPEC.loader is not None
check_reports = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check_reports)

pytestmark = pytest.mark.skipif(check_reports.chromium() is None,
                                reason="chromium is not installed")


def test_check_images_catches_broken_pngs() -> None:
    n, problems = check_reports.check_images('<img src="data:image/png;base64,iVBORw0K">'
                                             '<img src="http://x/y.png">')
    assert n == 2 and len(problems) == 2


def test_check_report_catches_overflow(tmp_path: Path) -> None:
    import base64

    from matplotlib.figure import Figure

    from kinematics.report.page import figure_png, img, page

    png = figure_png(Figure(figsize=(1, 1)))
    assert base64.b64encode(png)
    f = tmp_path / "wide.html"
    f.write_text(page("t", img(png, "ok") + '<div style="width:3000px">wide</div>', ""))
    problems = check_reports.check_report(f, check_reports.chromium(), screenshot=False)
    assert any("wide" in p or "DIV" in p for p in problems)


@pytest.mark.parametrize("argv", [
    ["report", "ur5", "--samples", "300", "--no-render"],
    ["report", "planar2r", "--samples", "300"],
    ["reach", "ur5", "--voxel", "0.3", "--orientations", "2", "--no-estimate"],
    ["simulate", "ur5", "--duration", "0.5"],
], ids=["report-ur5", "report-planar2r", "reach", "simulate"])
def test_report_renders_in_chromium(argv: list[str], tmp_path: Path) -> None:
    if argv[0] == "simulate":
        pytest.importorskip("pybullet")
    assert main([*argv, "--quiet", "--out", str(tmp_path)]) in (0, 1)  # 1: a bar, not a crash
    html = tmp_path / "report.html"
    assert check_reports.check_report(html, check_reports.chromium()) == []
    assert (tmp_path / "report.png").stat().st_size > 10_000

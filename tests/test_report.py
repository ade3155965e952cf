"""Reports (kinematics.report): produced headless (Agg), HTML parsed for embedded figures and
the table, summary.json, trajectory files, the PyBullet rendering the CLI passes in, CLI exit
codes and bad-input messages."""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import kinematics as kin
from kinematics.cli import main
from kinematics.report import default_trajectory, load_trajectory, make_report


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src", ""))
        elif tag == "table":
            self.tables += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Parser:
    p = _Parser()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def check_report(out: Path, n_worst: int, render: bool) -> dict:
    page = parse(out / "report.html")
    pngs = [s for s in page.images if s.startswith("data:image/png;base64,")]
    assert len(pngs) == len(page.images) == 6 + render
    assert all(len(s) > 2000 for s in pngs)
    header = next(r for r in page.rows if "lost direction" in r)
    body = page.rows[page.rows.index(header) + 1:]
    assert len(body) == n_worst and all(len(r) == len(header) for r in body)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figures"][:6] == ["trajectory", "ellipsoids", "workspace", "histograms",
                                      "certificates", "uncertainty"]
    assert len(summary["worst"]) == n_worst
    return summary


def test_report_ur5_headless(tmp_path):
    ur5 = kin.load_robot("ur5")
    res = make_report(ur5, tmp_path / "r", samples=400, progress=False)
    s = check_report(tmp_path / "r", 8, render=False)
    assert res.html == tmp_path / "r" / "report.html" and res.summary == s
    assert "wrist" in s["trajectory"]["description"]
    assert s["trajectory"]["fraction_by_level"]["stop"] > 0
    assert s["trajectory"]["min_scale"] == 0.0
    assert s["monitor"]["metric"] == "sigma_min_scaled"
    assert all(w["converged"] for w in s["worst"][:3])
    text = res.html.read_text()
    assert "How to read this report" in text and "http" not in text.split("<body>")[1]


@pytest.mark.pybullet
def test_report_with_pybullet_render(tmp_path):
    pytest.importorskip("pybullet")
    from kinematics.sims.bullet import render_png

    res = make_report(kin.load_robot("planar2r"), tmp_path, samples=200, progress=False,
                      render=render_png)
    s = check_report(tmp_path, 8, render=True)
    assert s["render"]["included"] and "TinyRenderer" in s["render"]["note"]
    assert res.summary["figures"][-1] == "robot"


def test_report_without_pybullet_is_graceful(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pybullet(name, *args, **kwargs):
        if name == "pybullet":
            raise ImportError("no pybullet")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pybullet)
    monkeypatch.setitem(sys.modules, "kinematics.sims.bullet", None)  # as if not installed
    assert main(["report", "planar2r", "--samples", "50", "--out", str(tmp_path), "--quiet"]) == 0
    s = check_report(tmp_path, 8, render=False)
    assert not s["render"]["included"] and "not installed" in s["render"]["note"]
    assert "not installed" in (tmp_path / "report.html").read_text()


def test_report_urdf_without_known_sweep(tmp_path):
    from conftest import planar2r_urdf

    urdf = tmp_path / "arm.urdf"
    urdf.write_text(planar2r_urdf(0.5, 0.4))
    robot = kin.load_robot(str(urdf))
    q, t, what = default_trajectory(robot)
    assert "nearest singular configuration" in what
    # the default sweep passes through a singularity (q2 = 0 or ±π) on this arm too
    assert np.min(np.abs(np.sin(q[:, 1]))) < 0.02
    make_report(robot, tmp_path / "r", samples=100, progress=False)
    check_report(tmp_path / "r", 8, render=False)


def test_report_small_samples_and_user_trajectory(tmp_path):
    ur5 = kin.load_robot("ur5")
    q = np.tile([0.0, -1.0, 0.3, -0.7, 0.8, 0.2], (30, 1))
    q[:, 2] = np.linspace(0.3, -0.3, 30)  # through the elbow singularity q3 = 0
    make_report(ur5, tmp_path, trajectory=q, t=np.linspace(0, 3, 30), samples=3,
                progress=False)
    s = check_report(tmp_path, 3, render=False)
    assert s["trajectory"]["samples"] == 30 and s["trajectory"]["duration_s"] == 3.0


# ----------------------------------------------------------------------- files


def test_load_trajectory_formats(tmp_path):
    ur5 = kin.load_robot("ur5")
    q = ur5.random_q(5, seed=1)
    t = np.arange(5) * 0.2
    np.save(tmp_path / "q.npy", q)
    np.save(tmp_path / "tq.npy", np.column_stack([t, q]))
    np.savetxt(tmp_path / "q.csv", q, delimiter=",")
    names = ",".join(reversed(ur5.joint_names))
    np.savetxt(tmp_path / "h.csv", np.column_stack([q[:, ::-1], t]), delimiter=",",
               header=names + ",time", comments="")
    for f, want_t in (("q.npy", None), ("tq.npy", t), ("q.csv", None), ("h.csv", t)):
        qq, tt = load_trajectory(tmp_path / f, ur5)
        np.testing.assert_allclose(qq, q, rtol=1e-15, err_msg=f)
        if want_t is None:
            assert tt is None
        else:
            np.testing.assert_allclose(tt, want_t)


@pytest.mark.parametrize("name, content, exc, match", [
    ("q.txt", "1,2", kin.InvalidValueError, r"expected a \.csv or \.npy file"),
    ("missing.csv", None, kin.InvalidValueError, "does not exist"),
    ("bad.csv", "1,2,3,4,5,x\n", kin.InvalidValueError, "could not read it as numbers"),
    ("ragged.csv", "1,2,3,4,5,6\n1,2\n", kin.InvalidValueError, "could not read"),
    ("cols.csv", "1,2,3\n4,5,6\n", kin.ShapeError, r"\(N, 6\) joint values or \(N, 1 \+ 6\)"),
    ("hdr.csv", "foo,a,b,c,d,e\n1,2,3,4,5,6\n", kin.InvalidValueError, "unknown column 'foo'"),
    ("miss.csv", "t,shoulder_pan_joint\n0,1\n", kin.InvalidValueError,
     "missing joint columns"),
    ("hdrn.csv", "t,shoulder_pan_joint\n0,1,2\n", kin.ShapeError, "to match the header"),
    ("empty.csv", "# nothing\n", kin.ShapeError, r"trajectory: expected shape"),
])
def test_load_trajectory_bad_files(tmp_path, name, content, exc, match):
    if content is not None:
        (tmp_path / name).write_text(content)
    with pytest.raises(exc, match=match):
        load_trajectory(tmp_path / name, kin.load_robot("ur5"))


def test_load_trajectory_bad_npy(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((2, 3, 6)))
    with pytest.raises(kin.ShapeError, match=r"trajectory: expected shape"):
        load_trajectory(tmp_path / "a.npy", kin.load_robot("ur5"))


# ------------------------------------------------------------------------- CLI


def test_cli_report_ok(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["report", "planar2r", "--samples", "100", "--out", str(out),
                 "--no-render"]) == 0
    assert "report:" in capsys.readouterr().out
    check_report(out, 8, render=False)


@pytest.mark.pybullet
def test_cli_report_passes_the_pybullet_render(tmp_path):
    pytest.importorskip("pybullet")
    assert main(["report", "planar2r", "--samples", "50", "--out", str(tmp_path), "--quiet"]) == 0
    s = check_report(tmp_path, 8, render=True)
    assert s["render"]["included"] and "TinyRenderer" in s["render"]["note"]


def test_cli_report_with_trajectory_file(tmp_path, capsys):
    q = np.stack([np.zeros(20), np.linspace(1.0, -1.0, 20)], -1)
    np.save(tmp_path / "q.npy", q)
    assert main(["report", "planar2r", "--trajectory", str(tmp_path / "q.npy"), "--dt", "0.05",
                 "--samples", "50", "--out", str(tmp_path / "r"), "--no-render",
                 "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["trajectory"]["duration_s"] == pytest.approx(0.95)


@pytest.mark.parametrize("argv, match", [
    (["report", "nosuchrobot"], "neither a bundled robot nor an existing URDF"),
    (["report", "ur5", "--samples", "0"], r"--samples 0: expected a positive integer"),
    (["report", "ur5", "--trajectory", "nope.csv"], "does not exist"),
    (["report", "ur5", "--trajectory", "x.json"], r"expected a \.csv or \.npy"),
    (["report", "ur5", "--tip", "nolink"], "tip link 'nolink' does not exist"),
])
def test_cli_report_bad_input_exit_2(argv, match, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "kinematics report: error:" in err
    import re

    assert re.search(match, err), err


def test_cli_report_bad_dt_and_nan_trajectory(tmp_path, capsys):
    np.save(tmp_path / "q.npy", np.zeros((5, 2)))
    args = ["report", "planar2r", "--trajectory", str(tmp_path / "q.npy"), "--samples", "10",
            "--out", str(tmp_path / "o"), "--no-render"]
    assert main(args + ["--dt", "0"]) == 2
    assert "--dt 0.0: expected a positive step" in capsys.readouterr().err
    bad = np.zeros((5, 2))
    bad[2, 1] = np.nan
    np.save(tmp_path / "q.npy", bad)
    assert main(args) == 2
    assert "trajectory[2, 1]: joint 'joint2' is nan" in capsys.readouterr().err
    np.save(tmp_path / "q.npy", np.zeros((1, 2)))
    assert main(args) == 2
    assert "N >= 2 samples" in capsys.readouterr().err


def test_cli_report_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["report", "planar2r", "--samples", "10", "--no-render",
                 "--out", str(blocker / "sub")]) == 2
    assert f"--out '{blocker / 'sub'}' is not a writable folder" in capsys.readouterr().err


def test_cli_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", "ur5", "--samples", "many"])
    assert e.value.code == 2


@pytest.mark.slow
def test_report_100k_samples_of_a_7dof_arm(tmp_path):
    # speed is measured in benchmarks/, never as a timed test (a shared machine's load
    # decides wall times): here only that a large sweep runs through
    res = make_report(kin.load_robot("panda"), tmp_path, samples=100_000, progress=False)
    assert res.summary["workspace"]["samples"] == 100_000


# --- certificates, uncertainty ellipses, readable numbers (issues 13 and 14) ------------------


def test_report_certificates_match_certify_segments(tmp_path):
    from kinematics._certify import certify_segments

    arm = kin.load_robot("planar2r")
    res = make_report(arm, tmp_path, samples=300, progress=False)
    c = res.summary["certificates"]
    q, _, _ = default_trajectory(arm)
    ref = certify_segments(arm, q, rows=[0, 1])
    assert c["segments"] == len(q) - 1 == c["certified"] + c["possible"] + c["crossing"]
    assert c["certified"] == int(np.sum(ref.status == 0)) > 0.9 * c["segments"]
    np.testing.assert_allclose(c["radius_rad"], ref.radius)
    text = res.html.read_text()
    assert f"{c['certified']} of {c['segments']} segments certified" in text


def test_report_proven_crossing_between_samples(tmp_path):
    # UR5 wrist q5 through 0 between two samples 0.1 rad apart: a proven crossing
    ur5 = kin.load_robot("ur5")
    q = np.tile([0.3, -1.2, 1.3, -1.0, 0.0, 0.4], (8, 1))
    q[:, 4] = np.linspace(-0.35, 0.35, 8)  # samples at ±0.05, never 0
    res = make_report(ur5, tmp_path, trajectory=q, t=np.arange(8) * 0.1, samples=200,
                      progress=False)
    c = res.summary["certificates"]
    assert c["crossing"] == 1 and c["crossing_t_s"] == [pytest.approx(0.3)]
    assert "proven crossing at t = 0.30 s" in res.html.read_text()


def test_report_uncertainty_ellipses_match_pose_covariance(tmp_path):
    arm = kin.load_robot("planar2r")
    res = make_report(arm, tmp_path, samples=200, progress=False, encoder_noise=1e-3)
    u = res.summary["uncertainty"]
    assert u["noise_rad"] == 1e-3 and u["plane"] == "xy"
    q, t, _ = default_trajectory(arm)
    i = int(np.argmin(np.abs(t - u["t_s"][0])))
    C = kin.uncertainty.pose_covariance(arm, q[i], np.full(2, 1e-6))[:3, :3]
    assert u["sigma_max_m"][0] == pytest.approx(np.sqrt(np.linalg.eigvalsh(C).max()))
    # closed form at the stretched start q = (0, q2): sigma along y of joint-1 noise alone
    text = res.html.read_text()
    assert f"magnified &times;{u['magnification']:,.0f}" in text
    assert u["magnification"] in {m * 10.0**k for m in (1, 2, 5) for k in range(-2, 8)}
    with pytest.raises(kin.KinematicsError, match="encoder_noise=-1; expected"):
        make_report(arm, tmp_path, samples=10, progress=False, encoder_noise=-1)


def test_worst_table_has_real_distances(tmp_path):
    res = make_report(kin.load_robot("ur5"), tmp_path, samples=300, progress=False)
    page = parse(res.html)
    header = next(r for r in page.rows if "lost direction" in r)
    col = next(k for k, h in enumerate(header) if h.startswith("certified"))
    body = page.rows[page.rows.index(header) + 1:]
    values = [r[col] for r in body]
    assert all(v.endswith(" mrad") for v in values)
    radii = [w["certified_radius_rad"] for w in res.summary["worst"]]
    assert len(set(values)) > 1 and all(r > 0 for r in radii)
    import re

    text = re.sub(r'src="data:[^"]*"', "", res.html.read_text()).split("<body>")[1]
    assert "None" not in text
    # every number of ours is formatted (the explanation column is analysis' own prose)
    cells = [c for r in body for c in r[:-1]]
    assert not any(re.search(r"\de[-+]\d", c) for c in cells)


def test_num_formats_without_float_noise():
    from kinematics.report.page import label, num

    assert num(3.4560000000000001, "m") == "3.46 m"
    assert num(9.48e-14) == "9.48 × 10⁻¹⁴"
    assert num(None) == "—" and num(float("nan")) == "—" and num(True) == "yes"
    assert num(12345) == "12,345" and num(0.0, "s") == "0 s" and num(float("inf")) == "∞"
    assert label("dexterous_volume_m3") == ("dexterous volume", "m³")
    assert label("tracking_rms_m") == ("tracking rms", "m")


def test_planar_workspace_view_is_its_plane():
    from kinematics.report.singularity import _is_planar

    rng = np.random.default_rng(0)
    P = np.c_[rng.normal(size=(50, 2)), np.zeros(50)]
    assert _is_planar(P)
    P[:, 2] = rng.normal(size=50)
    assert not _is_planar(P)


def test_reach_report_of_a_planar_arm_shows_its_plane(tmp_path):
    import base64
    import io
    import re

    from matplotlib.image import imread

    assert main(["reach", "planar2r", "--voxel", "0.3", "--quiet", "--out", str(tmp_path)]) == 0
    text = (tmp_path / "report.html").read_text()
    assert "position-only map" in text and "dexterous volume" in text
    src = re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1)
    h, w = imread(io.BytesIO(base64.b64decode(src)), format="png").shape[:2]
    assert w < 1.2 * h  # one column (the arm's plane), not three side views of a strip

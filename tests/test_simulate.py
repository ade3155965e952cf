"""Closed-loop PyBullet scenarios (``kinematics simulate``), short versions, headless.

One short CLI run on the bundled Panda (both scenarios, 4 s each) is shared by the checks of
metrics, bars and the report; a pybullet_data URDF runs through :func:`simulate` directly.
"""

from __future__ import annotations

import base64
import json
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from conftest import pybullet_data_path

import kinematics as kin
from kinematics.cli import main

pytestmark = pytest.mark.pybullet
pytest.importorskip("pybullet")
pytest.importorskip("matplotlib")
from kinematics.sims.simulate import SCENARIOS, Bars, simulate, start_configuration  # noqa: E402

KEYS = ["fk_max_error_m", "jacobian_max_error", "twist_max_error", "tracking_rms_m",
        "tracking_max_m", "sigma_min_min", "max_joint_speed", "velocity_limit_violations",
        "monitor_levels", "steps", "dt"]
SHORT = "4"  # [s] per scenario: one circle lap; the Panda reaches 'stop' after ~3 s


@pytest.fixture(scope="module")
def panda_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    out = tmp_path_factory.mktemp("simulate") / "panda"
    code = main(["simulate", "panda", "--duration", SHORT, "--out", str(out), "--quiet"])
    return code, out


def _bars_met(m: dict) -> None:
    bars = Bars()
    assert m["fk_max_error_m"] < bars.fk_max_error_m
    assert m["jacobian_max_error"] < bars.jacobian_max_error
    assert m["twist_max_error"] < bars.twist_max_error
    assert m["velocity_limit_violations"] == 0


def test_panda_cli_exits_0_and_meets_every_bar(panda_run: tuple[int, Path]) -> None:
    code, out = panda_run
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in KEYS:
        assert key in m, key
        for name in SCENARIOS:
            assert key in m["scenarios"][name], (name, key)
    assert m["passed"] is True and m["failures"] == []
    assert m["dt"] == pytest.approx(1 / 240)
    _bars_met(m)
    circle, sing = m["scenarios"]["circle"], m["scenarios"]["singularity"]
    assert circle["tracking_rms_m"] < 1e-3
    assert circle["monitor_levels"]["stop"] == 0
    _bars_met(sing)
    # the monitor warns, then halts the approach at its stop threshold, before sigma_min = 0
    assert sing["monitor_levels"]["warn"] > 0 and sing["monitor_halted"]
    assert sing["first_warn_s"] < sing["halted_s"]
    assert sing["monitor_metric_min"] >= 0.99 * sing["monitor_stop_threshold"]
    assert sing["sigma_min_min"] > 0
    # commanded within the limits; measured within PyBullet's motor tracking of them
    assert sing["max_commanded_speed_ratio"] <= 1.0 + 1e-9
    assert sing["max_joint_speed_ratio"] <= 1.0 + 1e-2
    # the tool keeps the orientation the target holds while the monitor holds the arm
    assert sing["tracking_rotation_max_rad"] < 0.05
    # the undamped baseline on the same path spikes far over the limits
    assert m["scenarios"]["singularity_undamped"]["max_commanded_speed_ratio"] > 3.0


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs.append(dict(attrs).get("src") or "")


def test_report_is_self_contained_with_figures(panda_run: tuple[int, Path]) -> None:
    _, out = panda_run
    parser = _Images()
    parser.feed((out / "report.html").read_text(encoding="utf-8"))
    assert len(parser.srcs) >= 4
    for src in parser.srcs:
        head, _, data = src.partition(",")
        assert head == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "overview.png").read_bytes()[:4] == b"\x89PNG"


def test_pybullet_data_iiwa_both_scenarios() -> None:
    robot = kin.load_robot(pybullet_data_path("kuka_iiwa/model.urdf"),
                           base="lbr_iiwa_link_0", tip="lbr_iiwa_link_7")
    result = simulate(robot, duration=4.0)
    assert result.passed, result.failures
    m = result.metrics["scenarios"]
    _bars_met(m["circle"])
    _bars_met(m["singularity"])
    assert m["circle"]["tracking_rms_m"] < 1e-3
    assert m["singularity"]["monitor_halted"]
    assert m["singularity"]["sigma_min_min"] > 0


def test_impossible_bar_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "panda", "--scenario", "circle", "--duration", "0.5",
                 "--tracking-bar", "1e-12", "--out", str(tmp_path), "--quiet",
                 "--no-report"])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tracking_rms_m" in err[0]
    assert json.loads((tmp_path / "metrics.json").read_text())["passed"] is False


def test_unknown_robot_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "no_such_robot", "--out", str(tmp_path), "--quiet"]) == 2
    assert "no_such_robot" in capsys.readouterr().err
    assert not (tmp_path / "metrics.json").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"scenarios": ["square"]}, "scenario"),
    ({"duration": -1.0}, "duration"),
    ({"dt": 0.0}, "dt"),
])
def test_bad_arguments_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(kin.InvalidValueError, match=match):
        simulate(kin.load_robot("panda"), **kwargs)


def test_planar_arm_is_rejected_with_a_reason() -> None:
    with pytest.raises(kin.InvalidValueError, match="at least 6 joints"):
        simulate(kin.load_robot("planar2r"))


def test_deterministic_for_a_seed() -> None:
    robot = kin.load_robot("panda")
    np.testing.assert_array_equal(start_configuration(robot, 3), start_configuration(robot, 3))
    assert not np.array_equal(start_configuration(robot, 3), start_configuration(robot, 4))
    a, b = (simulate(robot, ["circle"], duration=0.25, seed=3) for _ in range(2))
    np.testing.assert_array_equal(a.traces["circle"].q, b.traces["circle"].q)


# --- PyBullet opens only meshes inside the URDF's own folder tree (issue 13) -----------------

_STL = """solid t
facet normal 0 0 1
outer loop
vertex 0 0 0
vertex 0.1 0 0
vertex 0 0.1 0
endloop
endfacet
endsolid t
"""


def _mesh_arm(tmp_path: Path, outside: list[str]) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "meshes").mkdir(parents=True)
    (pkg / "meshes" / "inside.stl").write_text(_STL)
    (tmp_path / "secret.stl").write_text(_STL)
    visuals = "".join(f'<visual><geometry><mesh filename="{f}"/></geometry></visual>'
                      for f in ["meshes/inside.stl", *outside])
    urdf = pkg / "arm.urdf"
    urdf.write_text(f"""<?xml version="1.0"?>
<robot name="meshy">
  <link name="base"/>
  <link name="l1"><inertial><mass value="1"/><inertia ixx="0.01" iyy="0.01" izz="0.01"
    ixy="0" ixz="0" iyz="0"/></inertial>{visuals}</link>
  <link name="tip"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="l1"/>
    <axis xyz="0 0 1"/><limit lower="-3" upper="3" effort="10" velocity="2"/></joint>
  <joint name="jt" type="fixed"><parent link="l1"/><child link="tip"/>
    <origin xyz="0.5 0 0"/></joint>
</robot>""")
    return urdf


def test_meshes_outside_the_urdf_tree_are_not_opened(tmp_path: Path) -> None:
    pytest.importorskip("pybullet")
    import pybullet as p
    from kinematics.sims.bullet import Sim, contained_urdf

    before = set(Path(tempfile.gettempdir()).glob("kinematics-contained-*"))
    secret = str(tmp_path / "secret.stl")
    escaping = ["../secret.stl", secret, "package://../secret.stl", "file://" + secret]
    urdf = _mesh_arm(tmp_path, escaping)
    path, stripped = contained_urdf(urdf)
    assert stripped == escaping and path != str(urdf)
    text = Path(path).read_text()
    assert "secret" not in text and str(tmp_path / "pkg" / "meshes" / "inside.stl") in text
    Path(path).unlink()
    clean, none = contained_urdf(_mesh_arm(tmp_path / "clean", []))  # always a checked copy
    assert none == [] and clean != str(tmp_path / "clean" / "pkg" / "arm.urdf")
    assert str(tmp_path / "clean" / "pkg" / "meshes" / "inside.stl") in Path(clean).read_text()
    Path(clean).unlink()
    robot = kin.load_robot(str(urdf))
    with Sim.open(robot) as sim:  # loads the stripped copy: one visual, the inside mesh
        shapes = p.getVisualShapeData(sim.body, physicsClientId=sim.client)
    files = [s[4].decode() for s in shapes]
    assert len(files) == 1 and files[0].endswith("inside.stl")
    # no copy left behind by this test (others' runs may leave theirs in a shared /tmp)
    assert set(Path(tempfile.gettempdir()).glob("kinematics-contained-*")) <= before

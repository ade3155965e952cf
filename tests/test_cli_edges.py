"""The command line's edges (issue 22, items 3-5): names, refusals, notes, --package-dir,
the same fields in text and JSON, one default chain for files with several tips, and no
claim of success after a Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import erd_path

import kinematics as kin
from kinematics.cli import main

PKGS = Path(__file__).parent / "data" / "xacro" / "pkgs"

# An arm (base -> arm_link1 -> arm_link2 -> tool) among many decorative links, and a
# camera on a pan joint off the base: a file with several tips.
_DECOR = "".join(f'<link name="decor_{i:02d}"/><joint name="decor_{i:02d}_joint" '
                 f'type="fixed"><parent link="base"/><child link="decor_{i:02d}"/></joint>'
                 for i in range(40))
BRANCHING = f"""<robot name="branchy">
  <link name="base"/><link name="arm_link1"/><link name="arm_link2"/><link name="tool"/>
  <link name="camera"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="arm_link1"/>
    <axis xyz="0 0 1"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint>
  <joint name="cam_joint" type="revolute"><parent link="base"/><child link="camera"/>
    <axis xyz="0 1 0"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint>
  <joint name="j2" type="revolute"><parent link="arm_link1"/><child link="arm_link2"/>
    <origin xyz="0.5 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-2" upper="2" velocity="1" effort="1"/></joint>
  <joint name="j3" type="prismatic"><parent link="arm_link2"/><child link="tool"/>
    <origin xyz="0.4 0 0"/><axis xyz="1 0 0"/>
    <limit lower="0" upper="0.1" velocity="0.2" effort="10"/></joint>
  {_DECOR}
</robot>"""


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# --- names ---------------------------------------------------------------------------

def test_nearest_names_helper() -> None:
    from kinematics.exceptions import did_you_mean, nearest_names

    assert nearest_names("pnada", kin.list_robots())[0] == "panda"
    assert did_you_mean("UR5", kin.list_robots()) == "ur5"
    assert did_you_mean("qwertyuiop", kin.list_robots()) is None


def test_bundled_names_are_case_insensitive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "UR5"]) == 0
    assert capsys.readouterr().out.startswith("ur5: 6 joints")
    assert kin.load_robot("Panda").name == "panda"


def test_unknown_robot_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "pnada"]) == 2
    err = _err(capsys)
    assert "Did you mean 'panda'?" in err and "Bundled robots: ['panda'," in err
    assert err.count("\n") == 1


def test_unknown_link_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fk", "panda", "--link", "panda_hnad"]) == 2
    err = _err(capsys)
    assert "Did you mean 'panda_hand'?" in err and "names: ['panda_hand'," in err


def test_unknown_link_list_keeps_the_arm_links(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "branchy.urdf"
    path.write_text(BRANCHING)
    assert main(["fk", str(path), "--link", "arm_link3"]) == 2
    err = _err(capsys)
    listed = err.split("names: [", 1)[1]
    assert listed.startswith("'arm_link1', 'arm_link2'") or listed.startswith(
        "'arm_link2', 'arm_link1'")
    assert main(["info", str(path), "--tip", "arm_lnk2"]) == 2
    err = _err(capsys)
    assert "did you mean 'arm_link2'?" in err and "available links: ['arm_link2'" in err


def test_library_unknown_link_lists_nearest_first() -> None:
    with pytest.raises(kin.UnknownLinkError, match=r"Did you mean 'wrist_2_link'\? Available "
                                                   r"link names: \['wrist_2_link', "):
        kin.fk(kin.load_robot("ur5"), np.zeros(6), "wrist2_link")


# --- refusals and notes ----------------------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    (["--quat", "1", "1", "0", "0"], "--quat 1 1 0 0: norm 1.41421; expected a unit quaternion"),
    (["--quat", "1.00001", "0", "0", "0"], "norm 1.00001"),
    (["--rpy", "180", "0", "0"], "--rpy 180 0 0: 180 is beyond 2π; expected radians"),
    (["--rpy", "0", "-7", "0"], "-7 is beyond 2π; expected radians"),
])
def test_ik_orientation_refused(extra: list[str], message: str,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ik", "ur5", "--xyz", "0.4", "0", "0.3", *extra]) == 2
    err = _err(capsys)
    assert message in err and err.count("\n") == 1 and err.startswith("kinematics ik: error:")


def test_joint_value_beyond_limit_is_noted(capsys: pytest.CaptureFixture[str]) -> None:
    q = ["0", "0", "0", "-1", "0", "1", "9"]
    for cmd in ("fk", "jacobian"):
        assert main([cmd, "panda", *q]) == 0
        captured = capsys.readouterr()
        assert "panda_joint7' = 9 rad is beyond its limits [-2.8973, 2.8973] rad" in captured.err
        assert "panda_joint1" not in captured.err
        assert captured.out.strip()  # the result is still printed
    assert main(["fk", "panda", "0", "0", "0", "-1", "0", "1", "0"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("cmd", [["fk", "panda", "0", "0", "0"],
                                 ["jacobian", "panda", "0", "0", "0"],
                                 ["ik", "panda", "--xyz", "0.3", "0", "0.5", "--position-only",
                                  "--q0", "0", "0", "0"]])
def test_joint_count_in_plain_words(cmd: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(cmd) == 2
    err = _err(capsys)
    assert ("panda has 7 joints (panda_joint1, panda_joint2, panda_joint3, panda_joint4, "
            "panda_joint5, panda_joint6, panda_joint7), got 3 values") in err
    assert "shape" not in err and err.count("\n") == 1


# --- --package-dir and ROS_PACKAGE_PATH ------------------------------------------------

def _xacro(tmp_path: Path) -> Path:
    path = tmp_path / "desc" / "arm.urdf.xacro"
    path.parent.mkdir()
    path.write_text("""<?xml version="1.0"?>
<robot name="xarm" xmlns:xacro="http://www.ros.org/wiki/xacro">
  <xacro:include filename="$(find demo_parts)/urdf/segment.xacro"/>
  <link name="base"/>
  <xacro:segment prefix="" parent="base" child="upper" length="0"/>
  <xacro:segment prefix="" parent="upper" child="fore" length="0.5"/>
</robot>""")
    return path


def test_package_dir_and_ros_package_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("xacro")
    path = _xacro(tmp_path)
    monkeypatch.delenv("ROS_PACKAGE_PATH", raising=False)
    assert main(["fk", str(path), "0", "0"]) == 2
    assert "--package-dir" in _err(capsys)
    assert main(["fk", str(path), "0", "0", "--json", "--package-dir", str(tmp_path),
                 "--package-dir", str(PKGS)]) == 0
    assert json.loads(capsys.readouterr().out)["T"][0][3] == pytest.approx(0.5)
    for cmd in ("info", "jacobian"):
        assert main([cmd, str(path), "--package-dir", str(PKGS)]) == 0
    capsys.readouterr()
    monkeypatch.setenv("ROS_PACKAGE_PATH", f"/no/such/folder:{PKGS}")
    assert main(["fk", str(path), "0", "0"]) == 0
    assert "T_base_fore" in capsys.readouterr().out
    assert main(["fk", str(path), "--package-dir", str(tmp_path / "nope")]) == 2
    assert "--package-dir" in _err(capsys)


@pytest.mark.parametrize("cmd", ["info", "fk", "jacobian", "ik", "reach", "report", "simulate"])
def test_every_robot_command_takes_package_dir(cmd: str) -> None:
    from kinematics.cli import build_parser

    args = build_parser().parse_args([cmd, "ur5", "--package-dir", "a", "--package-dir", "b"])
    assert args.package_dir == ["a", "b"]


# --- the same fields in text and JSON --------------------------------------------------

def test_list_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in data] == kin.list_robots()
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert all(d["name"] in text and d["summary"] in text for d in data)


def test_jacobian_json_has_the_singular_values(capsys: pytest.CaptureFixture[str]) -> None:
    q = ["0.1", "-0.5", "0.4", "0.2", "0.3", "-0.1"]
    assert main(["jacobian", "ur5", *q, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(data["sigma"], np.linalg.svd(np.array(data["J"]),
                                                            compute_uv=False), rtol=1e-12)
    assert main(["jacobian", "ur5", *q]) == 0
    text = capsys.readouterr().out.split("sigma:")[1].splitlines()[0].split()
    np.testing.assert_allclose([float(v) for v in text], data["sigma"], rtol=1e-5)


def test_ik_says_iterations_in_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    target = ["--xyz", "1.0", "0.5", "0", "--position-only"]
    assert main(["ik", "planar2r", *target, "--json"]) == 0
    n = json.loads(capsys.readouterr().out)["iterations"]
    assert main(["ik", "planar2r", *target]) == 0
    out = capsys.readouterr().out
    assert f"({n} iterations)" in out and "evaluations" not in out


def test_info_gives_units(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "branchy.urdf"
    path.write_text(BRANCHING)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("j")}
    assert rows["j1"].split()[4:] == ["rad", "1.000", "rad/s", "1.0", "N·m"]
    assert rows["j3"].split()[4:] == ["m", "0.200", "m/s", "10.0", "N"]
    assert "reach (upper bound): " in out and out.rstrip().endswith(" m")
    assert main(["info", str(path), "--json"]) == 0
    joints = json.loads(capsys.readouterr().out)["joints"]
    assert [j["unit"] for j in joints] == ["rad", "rad", "m"]


# --- one default chain -----------------------------------------------------------------

def _example_robot_data(rel: str) -> Path:
    return erd_path(rel)


@pytest.mark.parametrize("which", ["branchy", "ur5_robot", "panda"])
def test_one_default_chain_for_every_command(which: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    if which == "branchy":
        path = tmp_path / "branchy.urdf"
        path.write_text(BRANCHING)
        tip, other, dof = "tool", "camera", 3
    elif which == "ur5_robot":
        path = _example_robot_data("ur_description/urdf/ur5_robot.urdf")
        tip, other, dof = "ee_link", "tool0", 6
    else:  # the arm's tool frame, not a gripper finger
        path = _example_robot_data("panda_description/urdf/panda.urdf")
        tip, other, dof = "panda_hand_tcp", "panda_leftfinger", 7
    assert main(["info", str(path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["tip"] == tip and info["chain"][-1] == tip and info["dof"] == dof
    assert other in info["tips"] and "--tip" in info["default_chain"]
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(f" -> {tip}")
    assert f"chain:  {info['chain'][0]}" in out and out.split("chain:  ")[1].split("\n")[0] \
        .endswith(f"-> {tip}")
    how = out.split("default chain: ")[1].split("\n")[0]
    assert how.startswith(f"{info['chain'][0]} -> {tip}") and "--tip LINK (" in how
    assert other in how.split("--tip LINK (")[1]
    zeros = ["0"] * dof
    assert main(["fk", str(path), *zeros, "--json"]) == 0
    fk = json.loads(capsys.readouterr().out)
    assert fk["link"] == tip
    assert main(["jacobian", str(path), *zeros, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link"] == tip
    xyz = [str(v) for v in np.array(fk["T"])[:3, 3]]
    assert main(["ik", str(path), "--xyz", *xyz, "--position-only", "--json"]) == 0
    q = json.loads(capsys.readouterr().out)["q"]
    assert len(q) == dof
    # another chain on request
    assert main(["info", str(path), "--tip", other, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tip"] == other


def test_robot_repr_uses_the_attribute_names(tmp_path: Path) -> None:
    assert repr(kin.load_robot("ur5")) == ("Robot('ur5', dof=6, base_link='base_link', "
                                           "tip_link='tool0')")
    path = tmp_path / "branchy.urdf"
    path.write_text(BRANCHING)
    robot = kin.load_robot(path)
    assert repr(robot).endswith(f"tip_links={robot.tip_links!r})")
    assert "tip=" not in repr(robot) and "base=" not in repr(robot)


# --- interrupts --------------------------------------------------------------------------

def _interrupt_after(files: dict[str, str]):  # type: ignore[no-untyped-def]
    """A stand-in writer: writes ``files`` (a success claim) into ``out``, then Ctrl-C."""
    def writer(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = Path(next(a for a in args if isinstance(a, (str, Path))))
        for name, text in files.items():
            (out / name).write_text(text)
        raise KeyboardInterrupt
    return writer


def _assert_marked(out: Path, name: str) -> None:
    data = json.loads((out / name).read_text())
    assert data["interrupted"] is True and data.get("passed", False) is False
    if (out / "report.html").exists():
        assert "INTERRUPTED" in (out / "report.html").read_text()
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_simulate_interrupted_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import kinematics.sims.report as sims_report
    import kinematics.sims.simulate as sims_simulate

    monkeypatch.setattr(sims_simulate, "simulate", lambda *a, **k: object())
    monkeypatch.setattr(sims_report, "write_outputs",
                        lambda result, out, report=True: _interrupt_after(
                            {"metrics.json": '{"passed": true, "failures": []}'})(out))
    assert main(["simulate", "planar2r", "--out", str(tmp_path), "--quiet"]) == 130
    _assert_marked(tmp_path, "metrics.json")
    assert f"marked metrics.json in {tmp_path} as interrupted" in _err(capsys)
    # cut half-way through writing metrics.json: no claim survives either
    monkeypatch.setattr(sims_report, "write_outputs",
                        lambda result, out, report=True: _interrupt_after(
                            {"metrics.json": '{"passed": tr', "report.html":
                             "<html><body><p>PASS</p></body></html>"})(out))
    assert main(["simulate", "planar2r", "--out", str(tmp_path), "--quiet"]) == 130
    _assert_marked(tmp_path, "metrics.json")
    html = (tmp_path / "report.html").read_text()
    assert html.index("INTERRUPTED") < html.index("PASS")


def test_simulate_interrupted_leaves_old_results_marked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kinematics.sims.simulate as sims_simulate

    (tmp_path / "metrics.json").write_text('{"passed": true}')  # a previous run's

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(sims_simulate, "simulate", interrupted)
    assert main(["simulate", "planar2r", "--out", str(tmp_path), "--quiet"]) == 130
    _assert_marked(tmp_path, "metrics.json")


def test_report_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kinematics.report as report

    monkeypatch.setattr(report, "make_report", _interrupt_after(
        {"summary.json": '{"robot": "planar2r"}', "report.html": "<body>done</body>"}))
    assert main(["report", "planar2r", "--out", str(tmp_path), "--quiet", "--samples",
                 "10", "--no-render"]) == 130
    _assert_marked(tmp_path, "summary.json")


def test_reach_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import kinematics.reachability as reachability
    import kinematics.report as report

    monkeypatch.setattr(reachability, "reachability_map",
                        lambda *a, **k: type("Map", (), {"chunks_loaded": 0})())
    monkeypatch.setattr(report, "write_reach_report", _interrupt_after(
        {"summary.json": '{"voxels": 3}'}))
    assert main(["reach", "planar2r", "--out", str(tmp_path), "--quiet", "--no-estimate",
                 "--voxel", "0.5", "--orientations", "1"]) == 130
    _assert_marked(tmp_path, "summary.json")


def test_unknown_joint_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "traj.csv"
    csv.write_text("t,joint1,joitn2\n0,0,0\n0.1,0.1,0.1\n")
    assert main(["report", "planar2r", "--trajectory", str(csv), "--out",
                 str(tmp_path / "out"), "--quiet", "--no-render"]) == 2
    err = _err(capsys)
    assert "unknown column 'joitn2' (did you mean 'joint2'?)" in err
    assert "['joint2', 'joint1']" in err and err.count("\n") == 1


def test_negative_numbers_in_exponent_form_are_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fk", "planar2r", "-1e-3", "-2E+0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["q"] == [-1e-3, -2.0]
    assert main(["ik", "planar2r", "--xyz", "1.0", "-1.2e-14", "0", "--position-only"]) == 0


def test_text_shows_what_json_holds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fk", "planar2r", "0.25", "-0.5"]) == 0
    assert "q [rad or m]: +0.250000 -0.500000" in capsys.readouterr().out
    assert main(["jacobian", "planar2r", "0.25", "-0.5"]) == 0
    assert "q [rad or m]: +0.250000 -0.500000" in capsys.readouterr().out
    target = ["--xyz", "1.0", "0.5", "0", "--position-only"]
    assert main(["ik", "planar2r", *target, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert main(["ik", "planar2r", *target]) == 0
    out = capsys.readouterr().out
    assert "target T_base_tip (m):" in out and "converged: position error" in out
    rows = out.split("target T_base_tip (m):\n")[1].splitlines()[:4]
    np.testing.assert_allclose([[float(v) for v in r.split()] for r in rows], data["target_T"])

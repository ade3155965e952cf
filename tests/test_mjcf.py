"""MJCF robots through MuJoCo (kinematics.mjcf): closed forms on small fixtures written
here, MuJoCo's own mj_kinematics / mj_jacBody on every MJCF the installed pip packages ship
(dm_control, robosuite, gymnasium-robotics; each skipped when absent), finite differences,
the rest of the library on one arm, the CLI, and the refusals."""

from __future__ import annotations

import importlib.util
import math
import os
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kinematics as kin
from kinematics.exceptions import KinematicsError, URDFError

mujoco = pytest.importorskip("mujoco")

from kinematics.mjcf import parse_mjcf, read_mjcf, robot_from_mjcf  # noqa: E402


def _check_mujoco() -> Any:
    """``benchmarks/check_mujoco.py`` as a module (file list and comparison helpers)."""
    mod = sys.modules.get("check_mujoco")
    if mod is None:
        path = Path(__file__).parent.parent / "benchmarks" / "check_mujoco.py"
        spec = importlib.util.spec_from_file_location("check_mujoco", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["check_mujoco"] = mod
        spec.loader.exec_module(mod)
    return mod


cm = _check_mujoco()

# Two hinges in one body (the second off its anchor, with ref), a slide with ref, a free
# floating object first in the world (ignored by the default base), degrees.
FIXTURE = """
<mujoco model="fixture">
  <compiler angle="{angle}"/>
  <worldbody>
    <body name="floater" pos="5 0 0"><freejoint name="float"/><geom size=".1"/></body>
    <body name="base" pos="0 0 1">
      <geom size=".1"/>
      <body name="l1" pos="0 0 0.5">
        <joint name="yaw" type="hinge" axis="0 0 1" range="{yaw}"/>
        <joint name="pitch" type="hinge" axis="0 1 0" pos="0.2 0 0.3" ref="{ref}"
               range="{pitch}"/>
        <geom size=".1"/>
        <body name="l2" pos="1 0 0">
          <joint name="ext" type="slide" axis="1 0 0" ref="0.1" range="0 0.5"/>
          <geom size=".1"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""
DEGREES = FIXTURE.format(angle="degree", yaw="-90 90", ref="30", pitch="-45 120")
RADIANS = FIXTURE.format(angle="radian", yaw=f"{-math.pi / 2} {math.pi / 2}",
                         ref=f"{math.pi / 6}", pitch=f"{-math.pi / 4} {2 * math.pi / 3}")


def _rz(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _ry(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _closed_form(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose of l1 (R, p) and position of l2 in the frame of body ``base``."""
    yaw, pitch, ext = q
    anchor = np.array([0.2, 0, 0.3])
    R1 = _rz(yaw) @ _ry(pitch - math.pi / 6)  # ref = 30°: the model pose is at pitch = ref
    p1 = np.array([0, 0, 0.5]) + _rz(yaw) @ (anchor - _ry(pitch - math.pi / 6) @ anchor)
    p2 = p1 + R1 @ np.array([1 + ext - 0.1, 0, 0])
    return R1, p1, p2


@pytest.mark.parametrize("text", [DEGREES, RADIANS], ids=["degree", "radian"])
def test_fixture_closed_form(text: str) -> None:
    robot = robot_from_mjcf(text)
    assert (robot.base_link, robot.tip_link) == ("base", "l2")  # the free body is skipped
    assert robot.joint_names == ("yaw", "pitch", "ext")
    assert robot.joint_types == ("revolute", "revolute", "prismatic")
    np.testing.assert_allclose(robot.joint_limits, [[-math.pi / 2, math.pi / 2],
                                                    [-math.pi / 4, 2 * math.pi / 3], [0, 0.5]],
                               rtol=0, atol=1e-15)
    assert "l1:pitch" in robot.links  # the frame on the off-origin hinge axis
    for q in [np.array([0, math.pi / 6, 0.1]), *robot.random_q(5, seed=1)]:
        R1, p1, p2 = _closed_form(q)
        T1 = kin.fk(robot, q, link="l1")
        np.testing.assert_allclose(T1[:3, :3], R1, rtol=0, atol=1e-14)
        np.testing.assert_allclose(T1[:3, 3], p1, rtol=0, atol=1e-14)
        np.testing.assert_allclose(kin.fk(robot, q)[:3, 3], p2, rtol=0, atol=1e-14)
        assert cm.finite_difference(robot, q) < 1e-8
    # at qpos0 (q = ref) every body is in its model pose
    T = kin.fk(robot, [0, math.pi / 6, 0.1], link="l2")
    np.testing.assert_allclose(T, [[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 0.5], [0, 0, 0, 1]],
                               rtol=0, atol=1e-15)


def test_degree_and_radian_files_agree() -> None:
    a, b = robot_from_mjcf(DEGREES), robot_from_mjcf(RADIANS)
    q = a.random_q(4, seed=3)
    np.testing.assert_allclose(kin.fk(a, q), kin.fk(b, q), rtol=0, atol=1e-14)
    np.testing.assert_allclose(kin.jacobian(a, q), kin.jacobian(b, q), rtol=0, atol=1e-14)


def _against_mujoco(text: str, base: str | None = None, tip: Any = None) -> kin.Robot:
    mj = mujoco.MjModel.from_xml_string(text)
    model = parse_mjcf(text)
    robot = robot_from_mjcf(model, base, tip)
    data = mujoco.MjData(mj)
    for q in robot.random_q(4, seed=0):
        e_pose, e_jac = cm.compare_chain(robot, model, mj, data, q)
        assert e_pose < 1e-12 and e_jac < 1e-12, (e_pose, e_jac)
    return robot


def test_fixture_against_mujoco() -> None:
    _against_mujoco(DEGREES)
    _against_mujoco(RADIANS)


DEFAULTS_EULER = """
<mujoco model="classes">
  <compiler angle="radian" eulerseq="ZYX"/>
  <default>
    <joint type="hinge" axis="0 0 1" limited="true" range="-1 1"/>
    <default class="side"><joint axis="1 0 0" range="-2 0.5"/></default>
    <default class="rail"><joint type="slide" axis="0 1 0" range="-0.2 0.3"/></default>
  </default>
  <worldbody>
    <body name="root" euler="0.1 0.2 0.3">
      <joint name="j0"/><geom size=".05"/>
      <frame pos="0.1 0 0" euler="0.5 0 0">
        <body name="a" pos="0 0 0.4" euler="0.3 -0.7 1.1" childclass="side">
          <joint name="j1"/>
          <joint name="j2" class="rail"/>
          <joint name="j3" pos="0.05 0.1 0" axis="0 1 1"/><geom size=".05"/>
          <body name="b" pos="0.3 0 0" quat="0.5 0.5 -0.5 0.5">
            <joint name="j4" ref="0.4"/><geom size=".05"/>
            <body name="c" pos="0 0 0.2"/>
          </body>
        </body>
      </frame>
    </body>
  </worldbody>
</mujoco>
"""


def test_defaults_classes_euler_frames_against_mujoco() -> None:
    robot = _against_mujoco(DEFAULTS_EULER)
    assert robot.base_link == "world" and robot.tip_link == "c"  # j0 moves the first body
    assert robot.joint_names == ("j0", "j1", "j2", "j3", "j4")
    assert robot.joint_types == ("revolute", "revolute", "prismatic", "revolute", "revolute")
    np.testing.assert_allclose(robot.joint_limits[1:3], [[-2, 0.5], [-0.2, 0.3]])
    for q in robot.random_q(3, seed=5):
        assert cm.finite_difference(robot, q) < 1e-8
    # a chain between two bodies, and a tree
    _against_mujoco(DEFAULTS_EULER, base="a", tip="c")
    _against_mujoco(DEFAULTS_EULER, base="root", tip=["b", "c"])


BALL = """
<mujoco>
  <worldbody>
    <body name="torso"><freejoint/><geom size=".1"/>
      <body name="upper"><joint name="shoulder" type="ball"/><geom size=".1"/>
        <body name="lower" pos="0 0 -0.3"><joint name="elbow" axis="0 1 0"/><geom size=".1"/>
          <body name="hand" pos="0 0 -0.3"/>
        </body>
      </body>
      <body name="leg" pos="0 0 -1"><joint name="hip" axis="1 0 0" range="-1 1"/>
        <geom size=".1"/>
        <body name="foot" pos="0 0 -0.5"/>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def test_free_and_ball_joints_are_never_on_a_chain() -> None:
    robot = robot_from_mjcf(BALL)  # below the free joint; the ball joint cuts the arm off
    assert robot.base_link == "torso" and robot.tip_links == ("foot",)
    assert robot.joint_names == ("hip",)
    assert robot.joint_types == ("revolute",)
    with pytest.raises(URDFError, match=r"crosses the ball joint 'shoulder'.*'upper'"):
        robot_from_mjcf(BALL, "torso", "hand")
    with pytest.raises(URDFError, match=r"crosses the free joint"):
        robot_from_mjcf(BALL, "world", "foot")
    below = _against_mujoco(BALL, "upper", "hand")
    assert below.joint_names == ("elbow",)
    assert below.joint_types == ("continuous",)  # not limited
    assert np.isinf(below.joint_limits).all()


# --- every MJCF the installed packages ship ------------------------------------------------

FILES = cm.mjcf_files()
ARMS = [f for f in FILES if any(k in str(f[0]) for k in (
    "manipulator", "kinova", "robot_arm", "testing/assets/arm", "robosuite/models/assets/robots",
    "kitchen_env_model", "fetch/reach")) and f[0].name != "common.xml"]


@pytest.mark.skipif(not ARMS, reason="no MJCF arms installed (dm-control, robosuite, "
                                     "gymnasium-robotics)")
@pytest.mark.parametrize("path,dirs", ARMS, ids=[cm.short(f[0]) for f in ARMS])
def test_arm_agrees_with_mujoco(path: Path, dirs: list[Path]) -> None:
    res = cm.check_file(path, dirs, samples=2)
    assert res.status == "ok", res.reason
    assert res.chains
    for tip, _dof, e_pose, e_jac, e_fd in res.chains:
        assert e_pose < 1e-12 and e_jac < 1e-12, (tip, e_pose, e_jac)
        assert e_fd < 1e-7, (tip, e_fd)


@pytest.mark.slow
@pytest.mark.skipif(not FILES, reason="no MJCF files installed")
def test_every_shipped_file_agrees_or_is_refused_clearly() -> None:
    for path, dirs in FILES:
        res = cm.check_file(path, dirs, samples=1)
        if res.status == "we refuse":
            assert "no bodies" in res.reason, (path, res.reason)
        for tip, _dof, e_pose, e_jac, _fd in res.chains:
            assert e_pose < 1e-12 and e_jac < 1e-12, (path, tip, e_pose, e_jac)


def _panda() -> Path:
    for path, _ in ARMS:
        if str(path).endswith("robots/panda/robot.xml"):
            return path
    for path, _ in ARMS:
        if str(path).endswith("kinova/jaco_arm.xml"):
            return path
    pytest.skip("neither robosuite's Panda nor dm_control's Jaco is installed")


def test_library_runs_on_an_mjcf_arm() -> None:
    robot = kin.load_robot(_panda())
    assert robot.dof >= 6
    q = robot.random_q(seed=2, margin=0.1)
    T = kin.fk(robot, q)
    J = kin.jacobian(robot, q)
    assert J.shape == (6, robot.dof) and np.abs(J[:3]).max() > 0.01  # linear rows not zero
    np.testing.assert_allclose(kin.fk(robot, np.stack([q, q]))[1], T, rtol=0, atol=0)
    res = kin.ik.solve(robot, T, q0=robot.random_q(seed=3, margin=0.1))
    assert res.success
    np.testing.assert_allclose(kin.fk(robot, res.q), T, rtol=0, atol=1e-5)
    mon = kin.SingularityMonitor(robot)
    state = mon.update(q)
    assert state.value > 0
    ctrl = kin.ik.ResolvedRateController(robot, monitor=mon)
    target = kin.fk(robot, robot.random_q(seed=4, margin=0.3))
    qk = q
    for _ in range(5):
        qk = ctrl.step(qk, target, 0.01)
    assert qk.shape == (robot.dof,) and np.isfinite(qk).all()
    again = pickle.loads(pickle.dumps(robot))  # process pools rebuild from the model
    np.testing.assert_allclose(kin.fk(again, q), T, rtol=0, atol=0)
    assert kin.fk(robot.with_tool(np.eye(4)), q).shape == (4, 4)


def test_cli_info_and_simulate_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    from kinematics.cli import main

    path = str(_panda())
    assert main(["info", path]) == 0
    out = capsys.readouterr().out
    assert "joint1" in out or "joint_1" in out
    pytest.importorskip("pybullet")
    assert main(["simulate", path, "--quiet"]) == 2
    assert "PyBullet cannot load MJCF" in capsys.readouterr().err


# --- refusals --------------------------------------------------------------------------------


def test_sdf_and_other_roots_are_not_supported(tmp_path: Path) -> None:
    sdf = tmp_path / "arm.sdf"
    sdf.write_text('<?xml version="1.0"?><sdf version="1.6"><model name="m"/></sdf>')
    with pytest.raises(URDFError, match=r"format not supported.*SDF.*URDF.*xacro.*MJCF"):
        kin.load_robot(sdf)
    other = tmp_path / "scene.xml"
    other.write_text("<scene/>")
    with pytest.raises(URDFError, match=r"scene.xml: format not supported.*<scene>"):
        kin.load_robot(other)


def test_mujoco_compile_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<mujoco><worldbody><body name="a"><joint type="wobble"/></body>'
                   "</worldbody></mujoco>")
    with pytest.raises(URDFError, match=r"bad.xml: MuJoCo cannot compile the model: .*wobble"):
        kin.load_robot(bad)


def test_files_outside_the_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.xml").write_text('<mujoco><option timestep="0.01"/></mujoco>')
    sub = tmp_path / "robot"
    sub.mkdir()
    top = sub / "arm.xml"
    top.write_text('<mujoco><include file="../secret.xml"/><worldbody><body name="a">'
                   '<joint/><geom size=".1"/></body></worldbody></mujoco>')
    with pytest.raises(URDFError, match=r"arm.xml:1: <include file='../secret.xml'> is outside"):
        kin.load_robot(top)
    assert kin.load_robot(top, package_dirs=[tmp_path]).dof == 1  # allowed explicitly
    top.write_text('<mujoco><asset><mesh name="m" file="/etc/hostname.stl"/></asset>'
                   "<worldbody/></mujoco>")
    with pytest.raises(URDFError, match=r"<mesh file='/etc/hostname.stl'> resolves to"):
        kin.load_robot(top)
    with pytest.raises(URDFError, match=r"MJCF text cannot include files"):
        robot_from_mjcf('<mujoco><include file="x.xml"/></mujoco>')
    top.write_text('<!DOCTYPE m [<!ENTITY e "x">]><mujoco/>')
    with pytest.raises(URDFError, match=r"DOCTYPE"):
        read_mjcf(top)
    top.write_text("<mujoco>" + " " * 2000 + "</mujoco>")
    with pytest.raises(URDFError, match=r"cap of 1000 bytes"):
        read_mjcf(top, max_bytes=1000)


def test_missing_mujoco_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mujoco", None)
    with pytest.raises(KinematicsError, match=r'pip install "kinematics\[mjcf\]"'):
        robot_from_mjcf(DEGREES)


def test_unknown_bodies_and_empty_models() -> None:
    with pytest.raises(URDFError, match=r"tip link 'nope' is not a body.*'l2'"):
        robot_from_mjcf(DEGREES, tip="nope")
    with pytest.raises(URDFError, match=r"no bodies besides the world"):
        robot_from_mjcf("<mujoco/>")


UNNAMED = """
<mujoco>
  <worldbody>
    <body><geom size=".1"/><joint axis="0 1 0"/>
      <body name="body2" pos="0 0 1"><joint name="joint0" type="slide"/><geom size=".1"/>
        <body pos="1 0 0"><joint/><geom size=".1"/></body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def test_unnamed_bodies_and_joints_get_stable_unique_names() -> None:
    robot = _against_mujoco(UNNAMED)
    assert (robot.base_link, robot.tip_link) == ("world", "body3")
    assert robot.link_names == ("world", "body1", "body2", "body3")
    assert robot.joint_names == ("joint0_2", "joint0", "joint2")  # the given name wins
    assert robot_from_mjcf(UNNAMED).joint_names == robot.joint_names  # stable


@pytest.mark.slow
def test_cli_report_on_an_mjcf_arm(tmp_path: Path) -> None:
    import json

    from kinematics.cli import main

    out = tmp_path / "report"
    assert main(["report", str(_panda()), "--samples", "300", "--out", str(out),
                 "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert not summary["render"]["included"] and "MJCF" in summary["render"]["note"]


def test_batch_shapes_on_an_mjcf_robot() -> None:
    robot = robot_from_mjcf(DEFAULTS_EULER)
    q = robot.random_q((3, 1, 2), seed=7)
    T, J = kin.fk(robot, q), kin.jacobian(robot, q)
    assert T.shape == (3, 1, 2, 4, 4) and J.shape == (3, 1, 2, 6, robot.dof)
    np.testing.assert_allclose(J[2, 0, 1], kin.jacobian(robot, q[2, 0, 1]), rtol=0, atol=1e-15)


def test_reading_writes_no_mujoco_log(tmp_path: Path) -> None:
    import subprocess

    top = tmp_path / "old.xml"  # a deprecated attribute: MuJoCo warns while compiling
    top.write_text('<mujoco><compiler settotalmass="2"/><worldbody><body name="a">'
                   '<joint/><geom size=".1"/></body></worldbody></mujoco>')
    code = f"import kinematics as kin; print(kin.load_robot({str(top)!r}).dof)"
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, check=True,
                          env={**os.environ,
                               "PYTHONPATH": str(Path(__file__).parent.parent)})
    assert done.stdout.strip() == "1"
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()

"""Whole robots from real descriptions (issue 11): agreement with Pinocchio on every chain
of example-robot-data and pybullet_data, two-arm robots with one shared q, mimic leaders on
sibling branches, defects off the model, point Jacobians (finite differences and PyBullet's
``localPosition``), and Robotics Toolbox's arm xacros."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import check_pinocchio, rtb_aliases

import kinematics as kin
from kinematics.exceptions import InvalidValueError, URDFError, URDFWarning
from kinematics.numdiff import jacobian as numjac

pin = pytest.importorskip("pinocchio")


cp = check_pinocchio()
FILES = cp.real_urdfs()  # type: ignore[attr-defined]
BY_NAME = {cp.short(f): f for f in FILES}  # type: ignore[attr-defined]
needs_data = pytest.mark.skipif(len(FILES) < 100, reason="example-robot-data / pybullet_data "
                                "not installed")

# Chains of the real files we refuse, and why: each a real defect of the requested chain.
# (Pinocchio refuses alex_psyonic_hands.urdf with mimic=True for the same reason, and loads it
# without mimics, as free joints.)
REFUSED = {("cube_no_rotation.urdf", "baseLink"): "joint 'z_to_y': limit lower=1.0 > upper=-1.0",
           **{("alex_description/urdf/alex_psyonic_hands.urdf", f"{side}_{f}_anchor"):
              f"joint '{side}_{f}_q2': mimics '{f}_q1', which is not a joint in this URDF"
              for side in ("Left", "Right") for f in ("index", "middle", "ring", "pinky")}}

# Ten diverse files: mimic fingers with their leader off the chain (Panda, TALOS, TIAGo Pro),
# velocity="0" limits (Jaco, double pendulum, Romeo), continuous joints (PR2), a tree with
# many leaves (Baxter), a serial arm (iiwa), a file with a refused chain (cube_no_rotation).
FAST = ["franka_panda/panda.urdf", "kuka_iiwa/model.urdf", "cube_no_rotation.urdf",
        "kinova_description/robots/kinova.urdf",
        "double_pendulum_description/urdf/double_pendulum.urdf",
        "romeo_description/urdf/romeo_small.urdf", "talos_data/robots/talos_left_arm.urdf",
        "tiago_pro_description/robots/tiago_pro.urdf", "pr2_description/urdf/pr2.urdf",
        "baxter_description/urdf/baxter.urdf"]


def _assert_sweep(s: object, expect_refused: dict[tuple[str, str], str]) -> None:
    assert s.disagree == [] and s.file_refused == []  # type: ignore[attr-defined]
    refused = {(f, t): m for f, t, m in s.refused}  # type: ignore[attr-defined]
    assert set(refused) == set(expect_refused)
    for key, why in expect_refused.items():
        assert why in refused[key]
    assert s.loaded + len(s.refused) == s.chains  # type: ignore[attr-defined]
    assert s.agree == s.loaded > 0 and s.worst <= cp.TOL  # type: ignore[attr-defined]


@needs_data
def test_pinocchio_agreement_on_ten_diverse_files() -> None:
    files = [BY_NAME[k] for k in FAST if k in BY_NAME]
    assert len(files) >= 8, "expected files missing from the data packages"
    s = cp.sweep(files, samples=2)  # type: ignore[attr-defined]
    _assert_sweep(s, {k: v for k, v in REFUSED.items() if k[0] in FAST})
    assert s.mimic_chains >= 4  # Panda fingers, TALOS and TIAGo Pro fingertips


@pytest.mark.slow
@needs_data
def test_pinocchio_agreement_on_every_chain() -> None:
    s = cp.sweep(FILES, samples=3)  # type: ignore[attr-defined]
    _assert_sweep(s, REFUSED)
    assert s.pin_files > 1000 and s.chains > 700  # 1156 files, 740 chains when written
    assert s.warned_chains > 0  # chains of files with defects elsewhere load, with warnings


# -- two-arm robots: one q, every tip --------------------------------------------------------
TWO_ARMS = {
    "baxter_description/urdf/baxter.urdf": ["left_gripper", "right_gripper"],
    "talos_data/robots/talos_full_v2.urdf": ["gripper_left_fingertip_3_link",
                                             "gripper_right_fingertip_3_link"],
    "tiago_description/robots/tiago_dual.urdf": ["hand_left_grasping_frame",
                                                 "hand_right_grasping_frame"],
    "pr2_description/urdf/pr2.urdf": ["l_gripper_tool_frame", "r_gripper_tool_frame",
                                      "l_gripper_l_finger_tip_link"],
    "tiago_pro_description/robots/tiago_pro.urdf": ["gripper_left_fingertip_left_link",
                                                    "gripper_right_fingertip_right_link"],
}



def _every_link_agrees(model: object, robot: kin.Robot, q: np.ndarray) -> None:
    """fk and jacobian of every link of ``robot`` at ``q`` agree with Pinocchio to 1e-9."""
    for link in robot.links:
        T_pin, J_pin = cp.pin_frame(model, robot, q, link)  # type: ignore[attr-defined]
        np.testing.assert_allclose(kin.fk(robot, q, link), T_pin, rtol=0, atol=1e-9,
                                   err_msg=link)
        np.testing.assert_allclose(kin.jacobian(robot, q, link), J_pin, rtol=0, atol=1e-9,
                                   err_msg=link)

@needs_data
@pytest.mark.parametrize("rel", list(TWO_ARMS))
def test_two_arm_robot_agrees_with_pinocchio(rel: str) -> None:
    path, tips = BY_NAME[rel], TWO_ARMS[rel]
    robot = kin.load_robot(path, tip=tips)
    assert robot.tip_links == tuple(tips) and robot.tip_link == tips[0]
    model = cp.pin_model(path)  # type: ignore[attr-defined]
    q = robot.random_q(seed=3)
    # every tip, and every other link the model can evaluate, for the one shared q
    _every_link_agrees(model, robot, q)
    # the joint set is the union of the paths (+ off-path mimic leaders), no more
    singles = [kin.load_robot(path, tip=t) for t in tips]
    assert set(robot.joint_names) == set().union(*(s.joint_names for s in singles))
    # batched: one call over the tips' q values agrees with the single-sample calls
    Q = robot.random_q(4, seed=5)
    for t in tips:
        np.testing.assert_allclose(kin.jacobian(robot, Q, t)[2],
                                   kin.jacobian(robot, Q[2], t), rtol=0, atol=1e-12)


# -- small trees in closed form ------------------------------------------------------------
def _rev(name: str, parent: str, child: str, xyz: str = "0 0 0", axis: str = "0 0 1",
         extra: str = "") -> str:
    return (f'<joint name="{name}" type="revolute"><parent link="{parent}"/>'
            f'<child link="{child}"/><origin xyz="{xyz}"/><axis xyz="{axis}"/>'
            f'<limit lower="-3" upper="3" velocity="1" effort="1"/>{extra}</joint>')


def _fixed(name: str, parent: str, child: str, xyz: str) -> str:
    return (f'<joint name="{name}" type="fixed"><parent link="{parent}"/>'
            f'<child link="{child}"/><origin xyz="{xyz}"/></joint>')


def two_arm_urdf(extra: str = "") -> str:
    """A torso turning about z, with a planar 2R arm on each side (in the torso's x-y plane):
    left shoulder at (0, a, 0), right at (0, -a, 0), links l1, l2 along +x at q = 0."""
    links = "".join(f'<link name="{n}"/>' for n in (
        "base", "torso", "l_up", "l_low", "l_hand", "r_up", "r_low", "r_hand"))
    return "\n".join([  # one element a line, so that defects have distinct lines
        f'<?xml version="1.0"?><robot name="twoarm">{links}',
        _rev("torso_j", "base", "torso"),
        _rev("l_sh", "torso", "l_up", "0 0.3 0"), _rev("l_el", "l_up", "l_low", "0.5 0 0"),
        _fixed("l_tool", "l_low", "l_hand", "0.4 0 0"),
        _rev("r_sh", "torso", "r_up", "0 -0.3 0"), _rev("r_el", "r_up", "r_low", "0.5 0 0"),
        _fixed("r_tool", "r_low", "r_hand", "0.4 0 0"), extra, "</robot>"])


def _planar_hand(q0: float, q1: float, q2: float, side: float) -> np.ndarray:
    """Closed form: hand position of one arm (torso angle q0, shoulder q1, elbow q2)."""
    a, l1, l2 = 0.3, 0.5, 0.4
    local = np.array([l1 * np.cos(q1) + l2 * np.cos(q1 + q2),
                      side * a + l1 * np.sin(q1) + l2 * np.sin(q1 + q2)])
    c, s = np.cos(q0), np.sin(q0)
    return np.array([c * local[0] - s * local[1], s * local[0] + c * local[1], 0.0])


def test_two_arm_tree_in_closed_form() -> None:
    robot = kin.robot_from_urdf(two_arm_urdf(), tip=["l_hand", "r_hand"])
    assert robot.joint_names == ("torso_j", "l_sh", "l_el", "r_sh", "r_el")
    assert robot.tip_links == ("l_hand", "r_hand")
    q = np.array([0.3, 0.7, -1.1, -0.4, 0.9])
    np.testing.assert_allclose(kin.fk(robot, q, "l_hand")[:3, 3],
                               _planar_hand(q[0], q[1], q[2], 1.0), rtol=0, atol=1e-14)
    np.testing.assert_allclose(kin.fk(robot, q, "r_hand")[:3, 3],
                               _planar_hand(q[0], q[3], q[4], -1.0), rtol=0, atol=1e-14)
    # hand yaw = torso + shoulder + elbow
    T = kin.fk(robot, q, "r_hand")
    np.testing.assert_allclose(np.arctan2(T[1, 0], T[0, 0]), q[0] + q[3] + q[4], atol=1e-14)
    # Jacobian: zero columns for the other arm, the rest as the closed form's derivative
    Jl, Jr = kin.jacobian(robot, q, "l_hand"), kin.jacobian(robot, q, "r_hand")
    assert not Jl[:, 3:].any() and not Jr[:, 1:3].any()
    num = numjac(lambda x: _planar_hand(x[0], x[1], x[2], 1.0), q[:3])
    np.testing.assert_allclose(Jl[:3, :3], num, rtol=0, atol=1e-8)
    np.testing.assert_allclose(Jr[3:], [[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 1, 1]],
                               atol=0)
    # the whole subtree without tip=: the same robot; fk without a link lists the tips
    whole = kin.robot_from_urdf(two_arm_urdf())
    assert whole.joint_names == robot.joint_names and whole.tip_links == robot.tip_links
    with pytest.raises(InvalidValueError, match=r"2 tips \['l_hand', 'r_hand'\]; pass link="):
        kin.fk(whole, q)
    with pytest.raises(InvalidValueError, match=r"2 tips \['l_hand', 'r_hand'\]"):
        kin.jacobian(whole, q)
    # one arm only: the other arm's links are not part of it, and the error says why
    left = kin.robot_from_urdf(two_arm_urdf(), tip="l_hand")
    assert left.joint_names == ("torso_j", "l_sh", "l_el")
    np.testing.assert_allclose(kin.fk(left, q[:3]), kin.fk(robot, q, "l_hand"), atol=1e-15)
    with pytest.raises(kin.UnknownLinkError, match="'r_hand' is in .* but not part of this "
                       "model: its path moves joints"):
        kin.fk(left, q[:3], "r_hand")


def sibling_mimic_urdf(mimic: bool = True) -> str:
    """A base joint, then two branches: ``jL`` (leader, about z) to ``left``, and ``jR``
    (about y, ``θ_R = 2 θ_L + 0.1`` when ``mimic``) to ``right`` and a fixed ``tipR``."""
    links = "".join(f'<link name="{n}"/>' for n in ("base", "l1", "left", "right", "tipR"))
    tag = '<mimic joint="jL" multiplier="2" offset="0.1"/>' if mimic else ""
    return (f'<?xml version="1.0"?><robot name="sib">{links}'
            + _rev("j1", "base", "l1", axis="1 0 0")
            + _rev("jL", "l1", "left", "0.2 0 0")
            + _rev("jR", "l1", "right", "0 0.3 0.1", axis="0 1 0", extra=tag)
            + _fixed("jt", "right", "tipR", "0.5 0 0.2") + "</robot>")


def test_mimic_whose_leader_is_on_a_sibling_branch() -> None:
    robot = kin.robot_from_urdf(sibling_mimic_urdf(), tip="tipR")
    assert robot.joint_names == ("j1", "jL")  # the leader is a degree of freedom
    assert robot.mimic == {"jR": ("jL", 2.0, 0.1)}
    assert "left" in robot.links  # the leader's own link can be evaluated too
    free = kin.robot_from_urdf(sibling_mimic_urdf(mimic=False), tip="tipR")
    assert free.joint_names == ("j1", "jR")
    q = np.array([0.4, -0.7])
    qf = np.array([q[0], 2 * q[1] + 0.1])
    np.testing.assert_allclose(kin.fk(robot, q), kin.fk(free, qf), rtol=0, atol=1e-15)
    J, Jf = kin.jacobian(robot, q), kin.jacobian(free, qf)
    np.testing.assert_allclose(J[:, 0], Jf[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(J[:, 1], 2 * Jf[:, 1], rtol=0, atol=1e-15)  # multiplier × col
    assert np.abs(J[:, 1]).max() > 0.1
    num = numjac(lambda x: kin.fk(robot, x)[:3, 3], q)
    np.testing.assert_allclose(J[:3], num, rtol=0, atol=1e-8)
    # the leader's link: its column is the plain one
    JL = kin.jacobian(robot, q, "left")
    np.testing.assert_allclose(JL[3:, 1], kin.fk(robot, q, "l1")[:3, 2], atol=1e-15)


def defects_off_chain_urdf() -> str:
    """The two-arm tree with two defects on the right arm only: an inverted limit on
    ``r_el`` and a finger (on the right hand) that mimics a missing joint."""
    text = two_arm_urdf('<link name="finger"/>' + _rev(
        "finger_j", "r_hand", "finger", extra='<mimic joint="ghost"/>'))
    return text.replace('<child link="r_low"/><origin xyz="0.5 0 0"/><axis xyz="0 0 1"/>'
                        '<limit lower="-3" upper="3"',
                        '<child link="r_low"/><origin xyz="0.5 0 0"/><axis xyz="0 0 1"/>'
                        '<limit lower="3" upper="-3"')


def test_defects_off_the_chain_warn_once_each_and_the_chain_loads() -> None:
    text = defects_off_chain_urdf()
    with pytest.warns(URDFWarning) as record:
        robot = kin.robot_from_urdf(text, tip="l_hand")
    messages = sorted(str(w.message) for w in record)  # file:line first: line order
    assert len(messages) == 2, messages
    assert messages[0] == ("<string>:7: joint 'r_el': limit lower=3.0 > upper=-3.0 (joint "
                           "'r_el' is not part of the requested model; ignored)")
    assert messages[1].startswith("<string>:9: joint 'finger_j': mimics 'ghost'")
    assert robot.joint_names == ("torso_j", "l_sh", "l_el")
    q = np.array([0.3, 0.7, -1.1])
    np.testing.assert_allclose(kin.fk(robot, q)[:3, 3], _planar_hand(*q, 1.0), atol=1e-14)
    # the defective arm itself is still refused, strictly, with its file line
    with pytest.raises(URDFError, match=r"^<string>:7: joint 'r_el': limit lower=3.0 > "
                       r"upper=-3.0$"):
        kin.robot_from_urdf(text, tip="r_hand")
    with pytest.raises(URDFError, match="ghost"):
        kin.robot_from_urdf(text, tip="finger")


# -- point Jacobians -----------------------------------------------------------------------
@pytest.mark.parametrize("reference", ["base", "local", "spatial"])
def test_point_jacobian_matches_finite_differences(reference: str) -> None:
    robot = kin.robot_from_urdf(two_arm_urdf(), tip=["l_hand", "r_hand"])
    q, p = np.array([0.3, 0.7, -1.1, -0.4, 0.9]), np.array([0.05, -0.02, 0.1])
    T = kin.fk(robot, q, "r_low", point=p)
    T0 = kin.fk(robot, q, "r_low")
    np.testing.assert_allclose(T[:3, 3], T0[:3, 3] + T0[:3, :3] @ p, atol=1e-15)
    np.testing.assert_allclose(T[:3, :3], T0[:3, :3], atol=0)
    J = kin.jacobian(robot, q, "r_low", reference, point=p)
    if reference == "base":
        num = numjac(lambda x: kin.fk(robot, x, "r_low", point=p)[:3, 3], q)
        np.testing.assert_allclose(J[:3], num, rtol=0, atol=1e-8)
        np.testing.assert_allclose(J[3:], kin.jacobian(robot, q, "r_low")[3:], atol=0)
    elif reference == "local":  # base-frame rows rotated into the link frame
        Jb = kin.jacobian(robot, q, "r_low", point=p)
        R = T[:3, :3]
        np.testing.assert_allclose(J[:3], R.T @ Jb[:3], atol=1e-14)
        np.testing.assert_allclose(J[3:], R.T @ Jb[3:], atol=1e-14)
    else:  # spatial: the point does not change the spatial (base-origin) twist
        np.testing.assert_allclose(J, kin.jacobian(robot, q, "r_low", "spatial"), atol=1e-14)
    J_ref, _ = kin.fk_jacobian(robot, q, "r_low", reference, point=p)[::-1]
    np.testing.assert_allclose(J_ref, J, atol=1e-15)


def _com_rotated_urdf() -> str:
    """A 3-joint arm whose links' inertial frames are rotated (so PyBullet's COM axes differ
    from the link axes, which is what ``localPosition`` is expressed in)."""
    def link(name: str, rpy: str) -> str:
        return (f'<link name="{name}"><inertial><origin xyz="0.05 0.01 0.1" rpy="{rpy}"/>'
                '<mass value="1"/><inertia ixx="0.01" iyy="0.02" izz="0.03" ixy="0" ixz="0" '
                'iyz="0"/></inertial></link>')
    return ('<?xml version="1.0"?><robot name="comrot">' + link("base", "0 0 0")
            + link("a", "0.3 -0.2 0.5") + link("b", "1.0 0.4 -0.3") + link("c", "-0.6 0.2 0.9")
            + _rev("ja", "base", "a", "0 0 0.2") + _rev("jb", "a", "b", "0.1 0 0.4", "0 1 0")
            + _rev("jc", "b", "c", "0 0.1 0.3", "1 0 0") + "</robot>")


@pytest.mark.pybullet
def test_point_jacobian_matches_pybullet_local_position(tmp_path: Path) -> None:
    pytest.importorskip("pybullet")
    from kinematics.sims.bullet import Sim

    path = tmp_path / "comrot.urdf"
    path.write_text(_com_rotated_urdf())
    robot = kin.load_robot(path)
    p = np.array([0.07, -0.04, 0.12])
    with Sim.open(robot) as sim:
        for seed in range(3):
            q = robot.random_q(seed=seed)
            sim.reset_q(q)
            for link in ("b", "c"):
                R = sim.com_rotation_from_link(link)
                assert np.abs(R - np.eye(3)).max() > 0.1  # the conversion matters
                # PyBullet keeps the inertial frame's pose to ~1e-9 (its quaternion round
                # trip); ours agrees with finite differences and Pinocchio far below that
                np.testing.assert_allclose(kin.jacobian(robot, q, link, point=p),
                                           sim.jacobian(link, p), rtol=0, atol=1e-7)
                np.testing.assert_allclose(kin.fk(robot, q, link), sim.link_state(link)[0],
                                           rtol=0, atol=1e-6)  # via a float quaternion
                # without the COM-axes conversion PyBullet's answer is far off
                assert np.abs(kin.jacobian(robot, q, link, point=R @ p)[:3]
                              - sim.jacobian(link, p)[:3]).max() > 1e-3


# -- xacro: Robotics Toolbox's arm descriptions vs Pinocchio on the expanded URDF ------------
def _rtb_root() -> Path:
    rtbdata = pytest.importorskip("rtbdata")
    return Path(rtbdata.__file__).parent / "xacro"


XACRO_FAST = ["qut_frankie_description/robots/panda_arm_hand.urdf.xacro",
              "trossen_descriptions/urdf/px100.urdf.xacro",
              "unimation_puma560_description/urdf/puma560_robot.urdf.xacro",
              "abb_irb140_description/urdf/irb140.xacro",
              "kuka_description/kuka_lbr_iiwa/urdf/lbr_iiwa_14_r820.xacro"]
XACRO_SLOW = [
    "qut_frankie_description/robots/dual_panda_example.urdf.xacro",
    "qut_frankie_description/robots/frankie_arm_hand.urdf.xacro",
    "qut_frankie_description/robots/panda_arm.urdf.xacro",
    *(f"trossen_descriptions/urdf/{n}.urdf.xacro" for n in (
        "px150", "pxxls", "rx150", "rx200", "vx250", "vx300", "vx300s", "vxxmd", "vxxms",
        "wx200", "wx250", "wx250s", "wxxmd", "wxxms")),
    *(f"kuka_description/kuka_{k}.xacro" for k in (
        "kr10/urdf/kr10r1100sixx", "kr120/urdf/kr120r2500pro", "kr150/urdf/kr150_2",
        "kr16/urdf/kr16_2", "kr3/urdf/kr3r540", "kr5/urdf/kr5_arc", "kr6/urdf/kr6r700sixx",
        "kr6/urdf/kr6r900sixx"))]


def _check_xacro(rel: str, tmp_path: Path) -> None:
    pytest.importorskip("xacro")
    from kinematics._xacro import expand_xacro

    root = _rtb_root()
    dirs = rtb_aliases(root) if rel.startswith(("abb", "kuka")) else [root]
    robot = kin.load_robot(root / rel, package_dirs=dirs)  # type: ignore[arg-type]
    urdf = tmp_path / "expanded.urdf"
    urdf.write_text(expand_xacro(root / rel, package_dirs=dirs))  # type: ignore[arg-type]
    model = cp.pin_model(urdf)  # type: ignore[attr-defined]
    assert robot.dof >= 2  # the Trossen turrets (pxxls, vxxm*, wxxm*) are pan-tilt
    for seed in range(2):
        q = robot.random_q(seed=seed)
        for link in robot.links:
            T_pin, J_pin = cp.pin_frame(model, robot, q, link)  # type: ignore[attr-defined]
            np.testing.assert_allclose(kin.fk(robot, q, link), T_pin, rtol=0, atol=1e-9,
                                       err_msg=link)
            np.testing.assert_allclose(kin.jacobian(robot, q, link), J_pin, rtol=0, atol=1e-9,
                                       err_msg=link)


@pytest.mark.parametrize("rel", XACRO_FAST)
def test_rtb_xacro_agrees_with_pinocchio(rel: str, tmp_path: Path) -> None:
    _check_xacro(rel, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("rel", XACRO_SLOW)
def test_rtb_xacro_agrees_with_pinocchio_all(rel: str, tmp_path: Path) -> None:
    _check_xacro(rel, tmp_path)


def test_warnings_are_not_repeated_for_pickled_copies() -> None:
    import pickle

    with pytest.warns(URDFWarning):
        robot = kin.robot_from_urdf(defects_off_chain_urdf(), tip="l_hand")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = pickle.loads(pickle.dumps(robot))
    assert back.joint_names == robot.joint_names


@needs_data
def test_whole_subtree_without_tip_agrees_with_pinocchio_on_every_link() -> None:
    """Baxter without tip=: every leaf is a tip, one q over every moving joint of the file
    (both arms, both grippers, the head), every link agrees with Pinocchio."""
    path = BY_NAME["baxter_description/urdf/baxter.urdf"]
    robot = kin.load_robot(path)
    urdf = kin.read_urdf(path)
    model = cp.pin_model(path)  # type: ignore[attr-defined]
    leaves = [lk for lk in urdf.links if lk not in {j.parent for j in urdf.joints}]
    assert set(robot.tip_links) == set(leaves) and len(robot.tip_links) > 10
    assert set(robot.links) == set(urdf.links)
    assert set(robot.joint_names) | set(robot.mimic) == {
        j.name for j in urdf.joints if j.type != "fixed"}
    q = robot.random_q(seed=7)
    _every_link_agrees(model, robot, q)
    with pytest.raises(InvalidValueError, match=rf"{len(leaves)} tips \["):
        kin.fk(robot, q)

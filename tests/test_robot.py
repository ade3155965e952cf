"""Robot model, registry and input validation (bad q, links, references, poses)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import kinematics as kin

EXPECTED_DOF = {"planar2r": 2, "panda": 7, "iiwa14": 7, "ur5": 6, "puma560": 6}


def test_registry() -> None:
    assert kin.list_robots() == list(EXPECTED_DOF)
    for name, dof in EXPECTED_DOF.items():
        robot = kin.load_robot(name)
        assert robot.dof == dof and robot.name == name
        assert robot.joint_limits.shape == (dof, 2)
        assert np.all(robot.joint_limits[:, 0] < robot.joint_limits[:, 1])
        assert robot.velocity_limits.shape == (dof,) and np.all(robot.velocity_limits > 0)


def test_unknown_robot_lists_the_known_ones() -> None:
    with pytest.raises(kin.UnknownRobotError, match=r"robot 'pandas' is neither a bundled robot "
                                                    r"nor an existing URDF file\. Did you mean "
                                                    r"'panda'\? Bundled robots: \['panda', "):
        kin.load_robot("pandas")


def test_robot_is_frozen(robot: kin.Robot) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        robot.name = "x"  # type: ignore[misc]
    for arr in (robot.joint_limits, robot.velocity_limits, robot.joint_axes, robot.base_pose,
                robot.tool, robot.chain().steps, robot.chain().T0):
        assert not arr.flags.writeable


def test_random_q_inside_limits_and_deterministic(robot: kin.Robot) -> None:
    q = robot.random_q((100,), seed=1, margin=0.1)
    lo, hi = robot.joint_limits.T
    span = hi - lo
    assert np.all(q >= lo + 0.1 * span - 1e-12) and np.all(q <= hi - 0.1 * span + 1e-12)
    np.testing.assert_array_equal(q, robot.random_q((100,), seed=1, margin=0.1))


def test_panda_fingers() -> None:
    left = kin.load_robot("panda", tip="panda_leftfinger")
    assert left.dof == 8 and left.joint_names[-1] == "panda_finger_joint1"
    assert left.joint_types[-1] == "prismatic"
    # the right finger mimics the left one, on another branch: the leader joins q
    right = kin.load_robot("panda", tip="panda_rightfinger")
    assert right.joint_names == left.joint_names
    assert right.mimic == {"panda_finger_joint2": ("panda_finger_joint1", 1.0, 0.0)}
    q = np.r_[left.random_q(seed=3)[:7], 0.03]
    J = kin.jacobian(right, q, "panda_rightfinger")
    assert np.linalg.norm(J[:3, 7]) == pytest.approx(1.0)   # the leader moves this finger


@pytest.mark.parametrize("func", ["fk", "jacobian", "fk_jacobian"])
class TestBadQ:
    def test_wrong_length(self, func: str) -> None:
        robot = kin.load_robot("ur5")
        with pytest.raises(kin.ShapeError, match=r"q: expected shape \(\.\.\., 6\) for ur5's "
                                                 r"joints, got \(7,\)"):
            getattr(kin, func)(robot, np.zeros(7))

    def test_scalar(self, func: str) -> None:
        with pytest.raises(kin.ShapeError, match=r"got \(\)"):
            getattr(kin, func)(kin.load_robot("ur5"), 0.0)

    @pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
    def test_not_finite(self, func: str, bad: float) -> None:
        robot = kin.load_robot("ur5")
        q = np.zeros(6)
        q[2] = bad
        with pytest.raises(kin.InvalidValueError, match=rf"q\[2\]: joint 'elbow_joint' is "
                                                        rf"{bad}; expected finite"):
            getattr(kin, func)(robot, q)
        Q = np.zeros((4, 6))
        Q[3, 5] = bad
        with pytest.raises(kin.InvalidValueError, match=r"q\[3, 5\]: joint 'wrist_3_joint'"):
            getattr(kin, func)(robot, Q)

    def test_non_numeric(self, func: str) -> None:
        with pytest.raises(kin.InvalidValueError, match="expected numeric joint values for 6"):
            getattr(kin, func)(kin.load_robot("ur5"), ["a"] * 6)

    def test_unknown_link(self, func: str) -> None:
        with pytest.raises(kin.UnknownLinkError, match=r"link 'nolink' does not exist.*"
                                                       r"Available link names: \['"):
            getattr(kin, func)(kin.load_robot("ur5"), np.zeros(6), "nolink")


def test_huge_but_finite_q_is_accepted() -> None:
    robot = kin.load_robot("planar2r")
    assert np.isfinite(kin.fk(robot, [1e200, 1e200])).all()


def test_bad_reference_qd_and_wrench() -> None:
    robot = kin.load_robot("ur5")
    q = np.zeros(6)
    with pytest.raises(kin.InvalidValueError, match=r"reference='world'; expected one of "
                                                    r"\['base', 'local', 'spatial'\]"):
        kin.jacobian(robot, q, reference="world")  # type: ignore[arg-type]
    with pytest.raises(kin.ShapeError, match=r"qd: expected shape \(\.\.\., 6\)"):
        kin.twist(robot, q, np.zeros(5))
    with pytest.raises(kin.InvalidValueError, match=r"qd\[0\] is nan"):
        kin.jacobian_dot(robot, q, [np.nan] + [0.0] * 5)
    with pytest.raises(kin.ShapeError, match=r"wrench: expected shape \(\.\.\., 6\)"):
        kin.joint_torques(robot, q, np.zeros(3))


def test_bad_tool_and_base_pose() -> None:
    with pytest.raises(kin.ShapeError, match=r"tool: expected shape \(4, 4\), got \(3, 3\)"):
        kin.load_robot("ur5", tool=np.eye(3))
    bad = np.eye(4)
    bad[0, 0] = 2.0
    with pytest.raises(kin.InvalidValueError,
                       match="base_pose has a rotation block that is not orthonormal"):
        kin.load_robot("ur5", base_pose=bad)


def test_every_error_is_a_kinematics_error() -> None:
    for cls in (kin.URDFError, kin.ShapeError, kin.InvalidValueError, kin.UnknownLinkError,
                kin.UnknownRobotError, kin.JointLimitError):
        assert issubclass(cls, kin.KinematicsError)


def test_robot_pickles_for_process_pools(robot: kin.Robot) -> None:
    import pickle

    tooled = robot.with_tool(kin.spatial.transform(p=[0.0, 0.0, 0.05]))
    clone = pickle.loads(pickle.dumps(tooled))
    assert clone.joint_names == tooled.joint_names and clone.source == tooled.source
    q = robot.random_q((3,), seed=0)
    np.testing.assert_array_equal(kin.fk_jacobian(clone, q)[1], kin.fk_jacobian(tooled, q)[1])
    np.testing.assert_array_equal(clone.tool, tooled.tool)


def test_check_limits_names_the_joint() -> None:
    panda = kin.load_robot("panda")
    q = panda.random_q((3,), seed=0)
    np.testing.assert_array_equal(panda.check_limits(q), q)
    q[2, 3] = 0.5  # panda_joint4 must stay in [-3.0718, -0.0698]
    with pytest.raises(kin.JointLimitError, match=r"joint 'panda_joint4': value 0.5 is outside "
                                                  r"its limits \[-3.0718, -0.0698\]") as info:
        panda.check_limits(q)
    assert info.value.joint == "panda_joint4" and info.value.upper == pytest.approx(-0.0698)
    assert panda.check_limits(q[:2], tolerance=0.0).shape == (2, 7)
    q[2, 3] = -0.0698 + 1e-9
    panda.check_limits(q, tolerance=1e-6)


def _random_chain_urdf(n: int, seed: int) -> tuple[str, list[tuple]]:
    """A chain of ``n`` joints with random origins, random axes (among them ±z and ±x, the
    special cases of the axis alignment), every fourth joint fixed and some prismatic."""
    rng = np.random.default_rng(seed)
    special = [(0, 0, 1), (0, 0, -1), (1, 0, 0), (-1, 0, 0), (0, 1e-13, 1)]
    parts, spec = ['<?xml version="1.0"?><robot name="rc"><link name="l0"/>'], []
    for i in range(1, n + 1):
        kind = "fixed" if i % 4 == 0 else ("prismatic" if i % 5 == 0 else "revolute")
        axis = np.array(special[i % len(special)] if i % 3 == 0 else rng.normal(size=3))
        axis = (axis / np.linalg.norm(axis)).tolist()
        xyz, rpy = rng.uniform(-0.3, 0.3, 3).tolist(), rng.uniform(-np.pi, np.pi, 3).tolist()
        spec.append((kind, axis, xyz, rpy))
        parts.append(f'<link name="l{i}"/><joint name="j{i}" type="{kind}"><parent link='
                     f'"l{i - 1}"/><child link="l{i}"/><origin xyz="{" ".join(map(repr, xyz))}"'
                     f' rpy="{" ".join(map(repr, rpy))}"/><axis xyz="'
                     f'{" ".join(map(repr, axis))}"/><limit lower="-2" upper="2" velocity="1" '
                     'effort="1"/></joint>')
    return "".join(parts) + "</robot>", spec


def _naive_fk(spec: list[tuple], q: np.ndarray) -> np.ndarray:
    """Product of origin @ motion joint by joint, straight from the URDF's definition."""
    from kinematics.spatial import axis_angle_to_matrix, rpy_to_matrix, transform

    T, k = np.eye(4), 0
    for kind, axis, xyz, rpy in spec:
        T = T @ transform(rpy_to_matrix(rpy), xyz)
        if kind == "revolute":
            T = T @ transform(axis_angle_to_matrix(axis, q[k]))
            k += 1
        elif kind == "prismatic":
            T = T @ transform(None, np.asarray(axis) * q[k])
            k += 1
    return T


@pytest.mark.parametrize("n", [1, 7, 40, 2000])
def test_chain_builder_matches_the_urdf_definition(n: int) -> None:
    """The batched chain builder (axes aligned to +z in bulk, fixed joints folded in) against
    the URDF's definition composed joint by joint, long chains included."""
    text, spec = _random_chain_urdf(n, seed=n)
    robot = kin.robot_from_urdf(text)
    assert robot.dof == sum(kind != "fixed" for kind, *_ in spec)
    for seed in range(2):
        q = robot.random_q(seed=seed)
        tol = 1e-12 * max(1, n)
        np.testing.assert_allclose(kin.fk(robot, q), _naive_fk(spec, q), rtol=0, atol=tol)
        if n <= 40:  # the Jacobian too, against finite differences of the definition
            from kinematics.numdiff import jacobian as numjac

            num = numjac(lambda x: _naive_fk(spec, x)[:3, 3], q)
            np.testing.assert_allclose(kin.jacobian(robot, q)[:3], num, rtol=0, atol=1e-8)


def test_mimic_lists_off_path_mimic_joints_the_model_evaluates() -> None:
    # a finger hangs off the tip through a mimic of j1: its link is evaluable, and its
    # joint is in robot.mimic (certify and the CLI look mimic joints up there)
    from conftest import planar2r_urdf

    finger = ('<link name="finger"/><joint name="jf" type="prismatic"><parent link="l2"/>'
              '<child link="finger"/><axis xyz="0 1 0"/><mimic joint="j1" multiplier="0.5"/>'
              '<limit lower="-1" upper="1" velocity="1" effort="1"/></joint>')
    robot = kin.robot_from_urdf(planar2r_urdf(extra=finger), tip="tip")
    assert robot.joint_names == ("j1", "j2") and "finger" in robot.links
    assert dict(robot.mimic) == {"jf": ("j1", 0.5, 0.0)}
    q = np.array([0.4, -0.3])
    T = kin.fk(robot, q, "finger")
    T2 = kin.fk(robot, q, "l2")
    np.testing.assert_allclose(T[:3, 3], T2[:3, 3] + 0.5 * q[0] * T2[:3, 1], atol=1e-15)
    J = kin.jacobian(robot, q, "finger")
    np.testing.assert_allclose(J[:3, 0] - kin.jacobian(robot, q, "l2")[:3, 0]
                               - np.cross(J[3:, 0], T[:3, 3] - T2[:3, 3]), 0.5 * T2[:3, 1],
                               atol=1e-14)

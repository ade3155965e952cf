"""Forward kinematics: closed forms, batching, fixed links, fk_all."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import planar2r_urdf

import kinematics as kin

L1, L2 = 1.0, 0.8  # bundled planar2r link lengths [m]


def test_planar2r_closed_form(rng: np.random.Generator) -> None:
    arm = kin.load_robot("planar2r")
    q = rng.uniform(-np.pi, np.pi, size=(50, 2))
    T = kin.fk(arm, q)
    c1, s1 = np.cos(q[:, 0]), np.sin(q[:, 0])
    c12, s12 = np.cos(q.sum(1)), np.sin(q.sum(1))
    np.testing.assert_allclose(T[:, 0, 3], L1 * c1 + L2 * c12, atol=1e-14)
    np.testing.assert_allclose(T[:, 1, 3], L1 * s1 + L2 * s12, atol=1e-14)
    np.testing.assert_allclose(T[:, 2, 3], 0.0, atol=1e-14)
    np.testing.assert_allclose(T[:, :2, :2], np.stack([[c12, -s12], [s12, c12]]).transpose(2, 0, 1),
                               atol=1e-14)


def test_pose_is_rigid(robot: kin.Robot) -> None:
    T = kin.fk(robot, robot.random_q(20, seed=3))
    R = T[:, :3, :3]
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-13)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-13)
    np.testing.assert_array_equal(T[:, 3], np.broadcast_to([0.0, 0.0, 0.0, 1.0], (20, 4)))


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2), (257,)])
def test_batching_matches_single_calls(robot: kin.Robot, shape: tuple[int, ...]) -> None:
    """Small batches take the scan path, (257,) the column-wise path: both agree."""
    q = robot.random_q(shape, seed=7)
    T = kin.fk(robot, q)
    assert T.shape == shape + (4, 4)
    flat_q, flat_T = q.reshape(-1, robot.dof), T.reshape(-1, 4, 4)
    # identical for small batches; the numpy column-wise path (large batches) sums in
    # another order: equal to rounding
    atol = 0.0 if len(flat_q) <= 6 else 1e-14
    for qi, Ti in zip(flat_q, flat_T, strict=True):
        np.testing.assert_allclose(Ti, kin.fk(robot, qi), rtol=0, atol=atol)


def test_list_input_and_single_shape(robot: kin.Robot) -> None:
    q = [0.1] * robot.dof
    assert kin.fk(robot, q).shape == (4, 4)
    assert kin.fk(robot, np.array([q])).shape == (1, 4, 4)


def test_fk_all_matches_fk_per_link(robot: kin.Robot) -> None:
    q = robot.random_q((4,), seed=1)
    Ts = kin.fk_all(robot, q)
    assert Ts.shape == (4, len(robot.link_names), 4, 4)
    for i, link in enumerate(robot.link_names):
        np.testing.assert_allclose(Ts[:, i], kin.fk(robot, q, link), atol=1e-14)
    np.testing.assert_allclose(Ts[:, 0], np.broadcast_to(np.eye(4), (4, 4, 4)), atol=0)
    np.testing.assert_allclose(Ts[:, -1], kin.fk(robot, q), atol=1e-14)  # no tool set


def test_fixed_child_link_and_tool() -> None:
    panda = kin.load_robot("panda")
    q = panda.random_q(seed=2)
    T8, Thand = kin.fk(panda, q, "panda_link8"), kin.fk(panda, q, "panda_hand")
    # panda_hand is panda_link8 rotated by -45 deg about z (franka_description).
    c, s = np.cos(-np.pi / 4), np.sin(-np.pi / 4)
    Rz = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(Thand, T8 @ Rz, atol=1e-14)
    tool = kin.spatial.transform(p=[0.0, 0.0, 0.1])
    tooled = panda.with_tool(tool)
    np.testing.assert_allclose(kin.fk(tooled, q), kin.fk(panda, q) @ tool, atol=1e-14)
    np.testing.assert_allclose(kin.fk(tooled, q, panda.tip_link), kin.fk(panda, q), atol=0)


def test_base_pose_moves_everything() -> None:
    arm = kin.robot_from_urdf(planar2r_urdf())
    Tb = kin.spatial.transform(kin.spatial.rpy_to_matrix([0.3, -0.2, 1.0]), [0.5, -1.0, 2.0])
    placed = arm.with_base_pose(Tb)
    q = np.array([0.4, -1.1])
    np.testing.assert_allclose(kin.fk(placed, q), Tb @ kin.fk(arm, q), atol=1e-14)
    np.testing.assert_allclose(kin.fk(placed, q, "base"), Tb, atol=0)


def test_base_link_has_constant_pose(robot: kin.Robot) -> None:
    q = robot.random_q((3,), seed=4)
    np.testing.assert_array_equal(kin.fk(robot, q, robot.base_link),
                                  np.broadcast_to(robot.base_pose, (3, 4, 4)))

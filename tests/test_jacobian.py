"""Jacobians: closed forms, central finite differences (every robot, all references),
jacobian_dot, twist, joint_torques, prismatic and mimic joints, batching."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MIXED_URDF, planar2r_urdf

import kinematics as kin
from kinematics.numdiff import jacobian as num_jacobian

REFS = ("base", "local", "spatial")

@pytest.fixture(scope="module")
def mixed() -> kin.Robot:
    return kin.robot_from_urdf(MIXED_URDF, tip="g")


def fd_jacobian(robot: kin.Robot, q: np.ndarray, link: str | None, reference: str) -> np.ndarray:
    """Central-difference Jacobian of fk (independent of the library's Jacobian code)."""
    T = kin.fk(robot, q, link)
    dT = num_jacobian(lambda x: kin.fk(robot, x, link), q)  # (4, 4, dof)
    v = dT[:3, 3, :]
    W = np.einsum("ijk,lj->kil", dT[:3, :3, :], T[:3, :3])  # dR/dq_k Rᵀ, (dof, 3, 3)
    w = np.stack([W[:, 2, 1], W[:, 0, 2], W[:, 1, 0]])
    R, p = T[:3, :3], T[:3, 3]
    if reference == "local":
        v, w = R.T @ v, R.T @ w
    elif reference == "spatial":
        v = v - np.cross(w.T, p).T
    return np.vstack([v, w])


def test_planar2r_closed_form(rng: np.random.Generator) -> None:
    arm = kin.load_robot("planar2r")
    l1, l2 = 1.0, 0.8
    q = rng.uniform(-np.pi, np.pi, size=(100, 2))
    J = kin.jacobian(arm, q)
    s1, c1 = np.sin(q[:, 0]), np.cos(q[:, 0])
    s12, c12 = np.sin(q.sum(1)), np.cos(q.sum(1))
    expected = np.zeros((100, 6, 2))
    expected[:, 0] = np.stack([-l1 * s1 - l2 * s12, -l2 * s12], 1)
    expected[:, 1] = np.stack([l1 * c1 + l2 * c12, l2 * c12], 1)
    expected[:, 5] = 1.0
    np.testing.assert_allclose(J, expected, atol=1e-14)
    np.testing.assert_allclose(np.linalg.det(J[:, :2]), l1 * l2 * np.sin(q[:, 1]), atol=1e-14)


@pytest.mark.parametrize("reference", REFS)
def test_jacobian_vs_finite_differences(robot: kin.Robot, reference: str) -> None:
    for q in robot.random_q(5, seed=11, margin=0.02):
        J = kin.jacobian(robot, q, reference=reference)
        np.testing.assert_allclose(J, fd_jacobian(robot, q, None, reference), atol=1e-8)


@pytest.mark.parametrize("reference", REFS)
def test_foreign_urdf_vs_finite_differences(foreign_robot: kin.Robot, reference: str) -> None:
    for q in foreign_robot.random_q(3, seed=5, margin=0.02):
        J = kin.jacobian(foreign_robot, q, reference=reference)
        np.testing.assert_allclose(J, fd_jacobian(foreign_robot, q, None, reference), atol=1e-8)


@pytest.mark.parametrize("reference", REFS)
@pytest.mark.parametrize("link", [None, "g", "side", "c", "a", "base"])
def test_mixed_chain_vs_finite_differences(mixed: kin.Robot, link: str | None,
                                           reference: str) -> None:
    assert mixed.joint_names == ("j1", "j2", "j3", "j4")
    for q in mixed.random_q(4, seed=2, margin=0.05):
        J = kin.jacobian(mixed, q, link, reference)
        np.testing.assert_allclose(J, fd_jacobian(mixed, q, link, reference), atol=1e-8)


def test_columns_of_joints_after_the_link_are_zero(mixed: kin.Robot) -> None:
    J = kin.jacobian(mixed, mixed.random_q(seed=1), "side")
    np.testing.assert_array_equal(J[:, 3], 0.0)  # j4 comes after "side"
    assert np.abs(J[:, :3]).max() > 0.1


def test_mimic_joint_moves_with_its_leader(mixed: kin.Robot) -> None:
    """The mimic m1 = -0.7 j3 + 0.25: fk equals that of a copy where m1 is independent."""
    free = kin.robot_from_urdf(MIXED_URDF.replace(
        '<mimic joint="j3" multiplier="-0.7" offset="0.25"/>', ""), tip="g")
    assert free.joint_names == ("j1", "j2", "j3", "m1", "j4")
    q = np.array([0.3, 0.1, -0.8, 1.2])
    q_free = np.array([0.3, 0.1, -0.8, -0.7 * -0.8 + 0.25, 1.2])
    q_free_mim2 = q_free  # m2 still mimics j2 in both
    np.testing.assert_allclose(kin.fk(mixed, q), kin.fk(free, q_free_mim2), atol=1e-14)
    Jf = kin.jacobian(free, q_free)
    expected = Jf[:, [0, 1, 2, 4]].copy()
    expected[:, 2] += -0.7 * Jf[:, 3]
    np.testing.assert_allclose(kin.jacobian(mixed, q), expected, atol=1e-14)


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2), (300,)])
@pytest.mark.parametrize("reference", REFS)
def test_batching_matches_single_calls(robot: kin.Robot, shape: tuple[int, ...],
                                       reference: str) -> None:
    q = robot.random_q(shape, seed=9)
    J = kin.jacobian(robot, q, reference=reference)
    T, J2 = kin.fk_jacobian(robot, q, reference=reference)
    assert J.shape == shape + (6, robot.dof) and T.shape == shape + (4, 4)
    np.testing.assert_array_equal(J, J2)
    atol = 0.0 if q.size <= 6 * robot.dof else 1e-14  # small batches: identical numbers
    for qi, Ji in zip(q.reshape(-1, robot.dof), J.reshape(-1, 6, robot.dof), strict=True):
        np.testing.assert_allclose(Ji, kin.jacobian(robot, qi, reference=reference),
                                   rtol=0, atol=atol)


def test_mixed_batching_both_paths(mixed: kin.Robot) -> None:
    q = mixed.random_q(100, seed=3)
    J = kin.jacobian(mixed, q)
    for i in (0, 50, 99):
        np.testing.assert_allclose(J[i], kin.jacobian(mixed, q[i]), atol=1e-14)


@pytest.mark.parametrize("reference", REFS)
def test_jacobian_dot_vs_finite_differences(robot: kin.Robot, reference: str) -> None:
    rng = np.random.default_rng(4)
    for q in robot.random_q(3, seed=13, margin=0.05):
        qd = rng.uniform(-1, 1, robot.dof)
        Jd = kin.jacobian_dot(robot, q, qd, reference=reference)
        h = 1e-6
        fd = (kin.jacobian(robot, q + h * qd, reference=reference)
              - kin.jacobian(robot, q - h * qd, reference=reference)) / (2 * h)
        np.testing.assert_allclose(Jd, fd, atol=1e-8)


@pytest.mark.parametrize("reference", REFS)
@pytest.mark.parametrize("link", [None, "side", "d"])
def test_mixed_jacobian_dot(mixed: kin.Robot, reference: str, link: str | None) -> None:
    q = mixed.random_q(seed=6, margin=0.1)
    qd = np.array([0.7, -0.3, 0.5, -0.9])
    h = 1e-6
    fd = (kin.jacobian(mixed, q + h * qd, link, reference)
          - kin.jacobian(mixed, q - h * qd, link, reference)) / (2 * h)
    np.testing.assert_allclose(kin.jacobian_dot(mixed, q, qd, link, reference), fd, atol=1e-8)


def test_jacobian_dot_batched(robot: kin.Robot) -> None:
    q = robot.random_q((2, 3), seed=1)
    qd = np.random.default_rng(0).normal(size=(2, 3, robot.dof))
    Jd = kin.jacobian_dot(robot, q, qd)
    assert Jd.shape == (2, 3, 6, robot.dof)
    np.testing.assert_allclose(Jd[1, 2], kin.jacobian_dot(robot, q[1, 2], qd[1, 2]), atol=1e-14)
    np.testing.assert_array_equal(kin.jacobian_dot(robot, q[0, 0], np.zeros(robot.dof)), 0.0)


@pytest.mark.parametrize("reference", REFS)
def test_twist_and_torques_match_jacobian(robot: kin.Robot, reference: str) -> None:
    rng = np.random.default_rng(8)
    q = robot.random_q((4,), seed=8)
    qd = rng.normal(size=(4, robot.dof))
    w = rng.normal(size=(4, 6))
    J = kin.jacobian(robot, q, reference=reference)
    np.testing.assert_allclose(kin.twist(robot, q, qd, reference=reference),
                               (J @ qd[..., None])[..., 0], atol=1e-13)
    np.testing.assert_allclose(kin.joint_torques(robot, q, w, reference=reference),
                               (np.swapaxes(J, -1, -2) @ w[..., None])[..., 0], atol=1e-13)


@pytest.mark.parametrize("reference", REFS)
@pytest.mark.parametrize("link", [None, "side"])
def test_mixed_twist_and_torques(mixed: kin.Robot, reference: str, link: str | None) -> None:
    rng = np.random.default_rng(1)
    q, qd, w = mixed.random_q(seed=2), rng.normal(size=4), rng.normal(size=6)
    J = kin.jacobian(mixed, q, link, reference)
    np.testing.assert_allclose(kin.twist(mixed, q, qd, link, reference), J @ qd, atol=1e-13)
    np.testing.assert_allclose(kin.joint_torques(mixed, q, w, link, reference), J.T @ w,
                               atol=1e-13)


def test_statics_duality_power(robot: kin.Robot) -> None:
    """Power balance: τ·q̇ = w·V for the same reference."""
    rng = np.random.default_rng(3)
    q, qd, w = robot.random_q(seed=3), rng.normal(size=robot.dof), rng.normal(size=6)
    for ref in REFS:
        power_joint = kin.joint_torques(robot, q, w, reference=ref) @ qd
        power_task = w @ kin.twist(robot, q, qd, reference=ref)
        assert power_joint == pytest.approx(power_task, abs=1e-12)


def test_prismatic_only_arm() -> None:
    urdf = planar2r_urdf().replace('type="revolute"', 'type="prismatic"')
    arm = kin.robot_from_urdf(urdf)
    J = kin.jacobian(arm, [0.2, -0.1])
    np.testing.assert_allclose(J, [[0, 0], [0, 0], [1, 1], [0, 0], [0, 0], [0, 0]], atol=0)
    np.testing.assert_allclose(kin.fk(arm, [0.2, -0.1])[:3, 3], [1.8, 0, 0.1], atol=1e-15)

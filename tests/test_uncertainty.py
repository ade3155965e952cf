"""Uncertainty through the Jacobian: J Σ Jᵀ against Monte Carlo (10⁵ samples), the joint
tolerance box against the true (nonlinear) error at its vertices, the position Hessian
against finite differences, and the linearisation limit against Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from test_certify import MIXED_URDF

import kinematics as kin
from kinematics.numdiff import jacobian as num_jacobian
from kinematics.spatial import pose_error, so3_log
from kinematics.uncertainty import (
    joint_tolerance,
    linearization_limit,
    pose_covariance,
    position_hessian,
)


def random_cov(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """A correlated SPD covariance whose joint standard deviations are about ``sigma``."""
    A = rng.normal(size=(n, n))
    C = A @ A.T / n + 0.5 * np.eye(n)
    d = np.sqrt(np.diag(C))
    return sigma**2 * C / np.outer(d, d)


@pytest.mark.parametrize("name", ["panda", "ur5"])
def test_covariance_matches_monte_carlo(name: str) -> None:
    """10⁵ Gaussian samples, σ ≈ 1e-4 rad per joint, correlated. For Gaussian errors the
    sample covariance ``Ŝ`` (N samples) has ``Var(Ŝ_ab) = (C_aa C_bb + C_ab²) / (N − 1)``
    (Wishart); every entry must lie within 5 of those standard deviations (a false alarm
    has probability ~6e-7 per entry; the draws are seeded). The neglected second-order
    terms change the covariance by O(σ⁴), a relative 1e-8 here."""
    robot = kin.load_robot(name)
    rng = np.random.default_rng(23)
    q = robot.random_q(seed=24, margin=0.1)
    S = random_cov(rng, robot.dof, 1e-4)
    N = 100_000
    dq = rng.normal(size=(N, robot.dof)) @ np.linalg.cholesky(S).T
    T, T2 = kin.fk(robot, q), kin.fk(robot, q + dq)
    base = pose_error(T, T2)                                   # [p′ − p; log(R′ Rᵀ)]
    R = T[:3, :3]
    local = np.concatenate([(T2[:, :3, 3] - T[:3, 3]) @ R, so3_log(R.T @ T2[:, :3, :3])], -1)
    for reference, err in (("base", base), ("local", local)):
        C = pose_covariance(robot, q, S, reference=reference)
        Shat = np.cov(err, rowvar=False)
        sd = np.sqrt((np.outer(np.diag(C), np.diag(C)) + C**2) / (N - 1))
        assert np.all(np.abs(Shat - C) <= 5 * sd), reference
        # and the test has teeth: a 3 % error in one joint's gain would be caught
        Jb = kin.jacobian(robot, q, reference=reference)
        Jb[:, 0] *= 1.03
        assert np.any(np.abs(Shat - Jb @ S @ Jb.T) > 5 * sd)


def test_covariance_closed_form_and_diagonal_input() -> None:
    arm = kin.load_robot("planar2r")
    q = np.array([0.3, 0.9])
    var = np.array([4e-6, 1e-6])
    J = kin.jacobian(arm, q)
    np.testing.assert_allclose(pose_covariance(arm, q, var), J @ np.diag(var) @ J.T,
                               atol=1e-20)
    np.testing.assert_allclose(pose_covariance(arm, q, var), pose_covariance(arm, q,
                               np.diag(var)), atol=1e-20)
    # σ_y² of the tool = (l1 c1 + l2 c12)² σ1² + (l2 c12)² σ2²
    c1, c12 = np.cos(0.3), np.cos(1.2)
    np.testing.assert_allclose(pose_covariance(arm, q, var)[1, 1],
                               (c1 + 0.8 * c12) ** 2 * 4e-6 + (0.8 * c12) ** 2 * 1e-6,
                               rtol=1e-12)


@pytest.mark.parametrize("batch", [(), (1,), (3, 1, 2)])
def test_batch_shapes(batch: tuple[int, ...]) -> None:
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(batch, seed=25)
    S = random_cov(np.random.default_rng(26), 6, 1e-3)
    C = pose_covariance(ur5, Q, S)
    assert C.shape == batch + (6, 6)
    np.testing.assert_allclose(C, np.swapaxes(C, -1, -2), atol=0)
    assert joint_tolerance(ur5, Q, 1e-3).shape == batch + (6,)
    assert linearization_limit(ur5, Q).shape == batch
    assert position_hessian(ur5, Q).shape == batch + (6, 6, 3)
    # batched covariances broadcast against q
    Sb = np.broadcast_to(S, (3, 1, 2, 6, 6)) * np.arange(1, 7).reshape(3, 1, 2, 1, 1)
    Cb = pose_covariance(ur5, Q, Sb)
    assert Cb.shape == np.broadcast_shapes(batch, (3, 1, 2)) + (6, 6)
    J = kin.jacobian(ur5, Q)
    np.testing.assert_allclose(Cb, J @ Sb @ np.swapaxes(J, -1, -2), rtol=1e-12, atol=1e-20)


@pytest.mark.parametrize("name", ["panda", "ur5"])
def test_tolerance_box_holds_and_is_the_largest(name: str) -> None:
    """At every vertex and 2000 random points of the cube, the true position error stays
    within ``pos_tol (1 + 2 ρ₂)``, ``ρ₂ = ½ δ Σ_ij ‖H_ij‖ / g`` the second-order share
    (module docstring); the worst vertex reaches ``pos_tol (1 − 2 ρ₂)``: no larger cube."""
    robot = kin.load_robot(name)
    rng = np.random.default_rng(27)
    n = robot.dof
    vertices = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    for q in robot.random_q(5, seed=28, margin=0.1):
        for pos_tol in (1e-5, 1e-4):
            delta = joint_tolerance(robot, q, pos_tol)
            assert np.all(delta == delta[0])
            d = float(delta[0])
            H = position_hessian(robot, q)
            Jv = kin.jacobian(robot, q)[:3]
            g = np.linalg.norm(Jv @ vertices.T, axis=0).max()
            rho2 = 0.5 * d * np.linalg.norm(H, axis=-1).sum() / g
            assert rho2 < 1e-2
            pts = np.concatenate([vertices, rng.uniform(-1, 1, (2000, n))]) * d
            err = np.linalg.norm(kin.fk(robot, q + pts)[:, :3, 3] - kin.fk(robot, q)[:3, 3],
                                 axis=-1)
            assert err.max() <= pos_tol * (1 + 2 * rho2)
            assert err[: 2**n].max() >= pos_tol * (1 - 2 * rho2)


def test_rotation_tolerance_binds_when_position_is_loose() -> None:
    panda = kin.load_robot("panda")
    q = panda.random_q(seed=29, margin=0.1)
    n = panda.dof
    vertices = 1.0 - 2.0 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    rot_tol = 1e-5
    d = float(joint_tolerance(panda, q, pos_tol=1.0, rot_tol=rot_tol)[0])
    assert d < float(joint_tolerance(panda, q, pos_tol=1.0)[0])
    T, T2 = kin.fk(panda, q), kin.fk(panda, q + d * vertices)
    angle = np.linalg.norm(so3_log(T[:3, :3].T @ T2[:, :3, :3]), axis=-1)
    # second order of composed rotations: ≤ ½ δ² Σ_{i<j} |z_i × z_j| ≤ ½ δ² n² (relative
    # to the first-order worst case δ g_ω ≥ δ)
    slack = 0.5 * d * n * n
    assert angle.max() <= rot_tol * (1 + slack)
    assert angle.max() >= rot_tol * (1 - slack)


def test_tolerance_closed_form_on_planar2r() -> None:
    arm = kin.load_robot("planar2r")
    # q = (0, π/2): J_v columns (-0.8, 1) and (-0.8, 0): worst vertex u = (1, 1) → |(-1.6, 1)|
    d = joint_tolerance(arm, [0.0, np.pi / 2], pos_tol=1e-3)
    np.testing.assert_allclose(d, 1e-3 / np.hypot(1.6, 1.0), rtol=1e-12)


def test_position_hessian_matches_finite_differences(robot: kin.Robot) -> None:
    q = robot.random_q(seed=30, margin=0.1)
    H = position_hessian(robot, q)
    H_fd = num_jacobian(lambda x: kin.jacobian(robot, x)[:3], q)   # [x, j, i] = ∂J_xj/∂q_i
    np.testing.assert_allclose(H, np.transpose(H_fd, (2, 1, 0)), atol=1e-8)
    np.testing.assert_allclose(H, np.swapaxes(H, 0, 1), atol=1e-15)


def test_position_hessian_with_mimic_and_prismatic_joints() -> None:
    robot = kin.robot_from_urdf(MIXED_URDF, tip="g")
    q = robot.random_q(seed=31)
    H = position_hessian(robot, q)
    H_fd = num_jacobian(lambda x: kin.jacobian(robot, x)[:3], q)
    np.testing.assert_allclose(H, np.transpose(H_fd, (2, 1, 0)), atol=1e-8)


@pytest.mark.parametrize("name", ["panda", "ur5"])
def test_linearization_limit_matches_monte_carlo(name: str) -> None:
    """At ``σ_ρ`` (ρ = 1 %) the rms of the nonlinear residual ``δp − J_v δq`` is ρ times the
    rms of ``J_v δq`` (third-order terms add ~σ_ρ ≈ 1e-3 relative; sampling ~1 %)."""
    robot = kin.load_robot(name)
    rng = np.random.default_rng(32)
    q = robot.random_q(seed=33, margin=0.1)
    sigma = float(linearization_limit(robot, q, ratio=0.01))
    dq = rng.normal(scale=sigma, size=(40_000, robot.dof))
    Jv = kin.jacobian(robot, q)[:3]
    first = dq @ Jv.T
    resid = kin.fk(robot, q + dq)[:, :3, 3] - kin.fk(robot, q)[:3, 3] - first
    measured = np.sqrt(np.mean(np.sum(resid**2, -1)) / np.mean(np.sum(first**2, -1)))
    np.testing.assert_allclose(measured, 0.01, rtol=0.05)


def test_errors_name_the_bad_argument() -> None:
    ur5 = kin.load_robot("ur5")
    q = np.zeros(6)
    with pytest.raises(kin.ShapeError, match=r"joint_cov: expected shape \(6,\) variances"):
        pose_covariance(ur5, q, np.eye(5))
    with pytest.raises(kin.InvalidValueError, match="joint_cov\\[2\\] \\(variance of joint "
                                                    "'elbow_joint'\\) is -1.0"):
        pose_covariance(ur5, q, [1, 1, -1, 1, 1, 1])
    A = np.eye(6)
    A[0, 1] = 0.5
    with pytest.raises(kin.InvalidValueError, match="joint_cov: expected a symmetric"):
        pose_covariance(ur5, q, A)
    with pytest.raises(kin.InvalidValueError, match="positive semi-definite matrix, smallest "
                                                    "eigenvalue -1"):
        pose_covariance(ur5, q, np.diag([1.0, 1, 1, 1, 1, -1]))
    with pytest.raises(kin.InvalidValueError, match="joint_cov: expected finite"):
        pose_covariance(ur5, q, np.full(6, np.nan))
    with pytest.raises(kin.ShapeError, match="leading dims broadcastable"):
        pose_covariance(ur5, np.zeros((4, 6)), np.broadcast_to(np.eye(6), (3, 6, 6)))
    with pytest.raises(kin.InvalidValueError, match="reference='spatial'; expected 'base'"):
        pose_covariance(ur5, q, np.ones(6), reference="spatial")
    with pytest.raises(kin.InvalidValueError, match="pos_tol=0; expected a positive"):
        joint_tolerance(ur5, q, 0)
    with pytest.raises(kin.InvalidValueError, match="rot_tol='a'; expected a positive"):
        joint_tolerance(ur5, q, 1e-3, rot_tol="a")  # type: ignore[arg-type]
    with pytest.raises(kin.InvalidValueError, match="ratio=-0.1; expected a positive"):
        linearization_limit(ur5, q, ratio=-0.1)

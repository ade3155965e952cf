"""Property-based checks (hypothesis) over joint limits and batch shapes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import kinematics as kin

ROBOTS = {name: kin.load_robot(name) for name in kin.list_robots()}


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(ROBOTS)), shape=array_shapes(min_dims=0, max_dims=3,
                                                                 min_side=1, max_side=4),
       seed=st.integers(0, 2**32 - 1))
def test_any_batch_shape_matches_single_calls(name: str, shape: tuple[int, ...],
                                              seed: int) -> None:
    robot = ROBOTS[name]
    q = robot.random_q(shape, seed=seed)
    T, J = kin.fk_jacobian(robot, q)
    assert T.shape == shape + (4, 4) and J.shape == shape + (6, robot.dof)
    idx = tuple(s - 1 for s in shape)
    T1, J1 = kin.fk_jacobian(robot, q[idx])
    np.testing.assert_allclose(T[idx], T1, atol=1e-14)
    np.testing.assert_allclose(J[idx], J1, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(ROBOTS)), seed=st.integers(0, 2**32 - 1),
       margin=st.floats(0.0, 0.45))
def test_jacobian_is_the_derivative_of_fk(name: str, seed: int, margin: float) -> None:
    """J q̇ h ≈ fk(q + q̇ h) − fk(q − q̇ h) / 2 anywhere inside the limits."""
    robot = ROBOTS[name]
    q = robot.random_q(seed=seed, margin=margin)
    qd = np.random.default_rng(seed).uniform(-1, 1, robot.dof)
    h = 1e-6
    Tp, Tm = kin.fk(robot, q + h * qd), kin.fk(robot, q - h * qd)
    V = kin.twist(robot, q, qd)
    np.testing.assert_allclose((Tp[:3, 3] - Tm[:3, 3]) / (2 * h), V[:3], atol=1e-8)
    W = (Tp[:3, :3] - Tm[:3, :3]) / (2 * h) @ kin.fk(robot, q)[:3, :3].T
    np.testing.assert_allclose([W[2, 1], W[0, 2], W[1, 0]], V[3:], atol=1e-8)

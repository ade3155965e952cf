"""``spatial.interpolate`` (geodesic poses) and ``spatial.so3_exp``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

import kinematics as kin
from kinematics import spatial


def _random_pose(rng: np.random.Generator, shape: tuple[int, ...] = ()) -> np.ndarray:
    R = Rotation.random(int(np.prod(shape)) or 1, random_state=rng).as_matrix()
    T = np.zeros((R.shape[0], 4, 4))
    T[:, :3, :3], T[:, :3, 3], T[:, 3, 3] = R, rng.normal(size=(R.shape[0], 3)), 1.0
    return T.reshape(shape + (4, 4))


def test_so3_exp_inverts_so3_log() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(200, 3))
    w *= (rng.uniform(0, np.pi - 1e-3, 200) / np.linalg.norm(w, axis=1))[:, None]
    w[:5] *= 1e-9                                   # the Taylor branch
    R = spatial.so3_exp(w)
    np.testing.assert_allclose(R, Rotation.from_rotvec(w).as_matrix(), atol=1e-14)
    np.testing.assert_allclose(spatial.so3_log(R), w, atol=1e-12)


def test_endpoints_and_constant_rates() -> None:
    rng = np.random.default_rng(1)
    T0, T1 = _random_pose(rng), _random_pose(rng)
    s = np.linspace(0.0, 1.0, 101)
    T = spatial.interpolate(T0, T1, s)
    np.testing.assert_allclose(T[0], T0, atol=1e-14)
    np.testing.assert_allclose(T[-1], T1, atol=1e-12)
    step = np.array([spatial.so3_log(T[k, :3, :3].T @ T[k + 1, :3, :3]) for k in range(100)])
    np.testing.assert_allclose(step, np.broadcast_to(step[0], step.shape), rtol=0, atol=1e-11)
    dp = np.diff(T[:, :3, 3], axis=0)
    np.testing.assert_allclose(dp, np.broadcast_to(dp[0], dp.shape), rtol=0, atol=1e-14)
    # on SO(3): the shortest rotation, angle at most π
    assert np.linalg.norm(spatial.so3_log(T0[:3, :3].T @ T1[:3, :3])) <= np.pi


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2, 1)])
def test_batch_shapes_broadcast(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    T0 = _random_pose(rng, shape)
    T1 = _random_pose(rng)
    s = rng.uniform(size=shape[:-1] + (5,) if shape else ())
    T = spatial.interpolate(T0, T1, s)
    assert T.shape == np.broadcast_shapes(shape, np.shape(s)) + (4, 4)
    flat_s = np.broadcast_to(s, T.shape[:-2]).ravel()
    flat_T0 = np.broadcast_to(T0, T.shape).reshape(-1, 4, 4)
    for k in range(flat_s.size):
        one = spatial.interpolate(flat_T0[k], T1, flat_s[k])
        np.testing.assert_allclose(T.reshape(-1, 4, 4)[k], one, atol=1e-15)


def test_half_turn_and_bad_input() -> None:
    T0 = spatial.transform()
    T1 = spatial.transform(spatial.axis_angle_to_matrix([1.0, 0, 0], np.pi))
    mid = spatial.interpolate(T0, T1, 0.5)
    assert np.linalg.norm(spatial.so3_log(mid[:3, :3])) == pytest.approx(np.pi / 2, abs=1e-7)
    with pytest.raises(kin.ShapeError, match="s"):
        spatial.interpolate(T0[None].repeat(2, 0), T1, np.zeros(3))
    with pytest.raises(kin.InvalidValueError, match="T1"):
        spatial.interpolate(T0, np.eye(4) * 2, 0.5)
    with pytest.raises(kin.InvalidValueError):
        spatial.interpolate(T0, T1, np.nan)

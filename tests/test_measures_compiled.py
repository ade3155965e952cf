"""The compiled singularity measures (:func:`kinematics._kernels.measures_batch`) against
the numpy path: every bundled robot at random and at known singular configurations,
wide/square/tall and rank-deficient matrices, zeros, extreme magnitudes, single and
batched, scaled and unscaled; closed forms; threaded chunks; errors."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import both_backends
from kinematics.robots import REGISTRY

import kinematics as kin
from kinematics import _engine, singularity
from kinematics.singularity import SingularityMeasures, measures, measures_at

pytest.importorskip("numba")

FIELDS = tuple(SingularityMeasures.__dataclass_fields__)


def _separation(s: np.ndarray, other: int) -> np.ndarray:
    """Gap of ``σ_k`` to the rest of the spectrum on a side with ``other`` dimensions
    (``other > k``: zero singular values of the null space count), relative to ``σ_max``."""
    k = s.shape[-1]
    gap = np.full(s.shape[:-1], np.inf) if k == 1 else s[..., -2] - s[..., -1]
    if other > k:
        gap = np.minimum(gap, s[..., -1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(s[..., 0] > 0, gap / s[..., 0], 0.0)


def assert_same(fast: SingularityMeasures, slow: SingularityMeasures, J: np.ndarray) -> None:
    """The compiled measures equal the numpy ones wherever the quantity is unique."""
    m, n = J.shape[-2:]
    k = min(m, n)
    assert fast.shape == slow.shape == J.shape[:-2]
    for name in FIELDS:
        a, b = getattr(fast, name), getattr(slow, name)
        assert type(a) is type(b), name
        assert np.shape(a) == np.shape(b), name
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, name
    assert fast.length == slow.length
    s = slow.sigma
    smax = s[..., :1]
    for name in ("sigma", "sigma_scaled"):
        ref = getattr(slow, name)
        np.testing.assert_allclose(getattr(fast, name), ref, rtol=0,
                                   atol=1e-14 * max(1.0, float(np.max(ref, initial=0.0))))
    np.testing.assert_array_equal(fast.sigma_min, fast.sigma[..., -1])
    np.testing.assert_array_equal(fast.sigma_min_scaled, fast.sigma_scaled[..., -1])
    np.testing.assert_array_equal(fast.rank, slow.rank)
    np.testing.assert_allclose(fast.inverse_condition, slow.inverse_condition, rtol=0,
                               atol=1e-14)
    np.testing.assert_allclose(fast.inverse_condition_scaled, slow.inverse_condition_scaled,
                               rtol=0, atol=1e-14)
    for name in ("condition", "condition_scaled"):
        a, b = getattr(fast, name), getattr(slow, name)
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b), err_msg=name)
        fin = np.isfinite(b) & (1.0 / np.maximum(b, 1.0) > 1e-6)
        np.testing.assert_allclose(np.asarray(a)[fin], np.asarray(b)[fin], rtol=1e-8,
                                   err_msg=name)
    big = float(np.max(s, initial=0.0))
    for name in ("manipulability", "translational_manipulability",
                 "rotational_manipulability"):
        a, b = getattr(fast, name), getattr(slow, name)
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14 * max(1.0, big) ** k,
                                   err_msg=name)
    if m == n:   # det: signed; its sign is arbitrary only where it is rounding
        np.testing.assert_allclose(fast.det, slow.det, rtol=1e-10,
                                   atol=1e-14 * max(1.0, big) ** k)
        np.testing.assert_allclose(np.abs(fast.det), fast.manipulability, rtol=1e-10,
                                   atol=1e-14 * max(1.0, big) ** k)
    else:
        assert np.isnan(fast.det).all()
    # singular vectors: a singular pair of J always; equal to numpy's where unique
    u, v = fast.lost_twist, fast.joint_motion
    np.testing.assert_allclose(np.linalg.norm(u, axis=-1), 1.0, atol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-1), 1.0, atol=1e-13)
    tol = 1e-13 * np.maximum(smax, 1.0)
    Jv = (J @ v[..., None])[..., 0]
    Jtu = (np.swapaxes(J, -1, -2) @ u[..., None])[..., 0]
    assert (np.abs(Jv - fast.sigma_min[..., None] * u) <= 10 * tol).all()
    assert (np.abs(Jtu - fast.sigma_min[..., None] * v) <= 10 * tol).all()
    a = np.abs(v)
    first = np.argmax(a >= a.max(axis=-1, keepdims=True) * (1 - 1e-6), axis=-1)
    assert (np.take_along_axis(v, first[..., None], -1) > 0).all()
    sep_v, sep_u = _separation(s, n), _separation(s, m)
    ok_v = sep_v > 1e-5
    np.testing.assert_allclose(v[ok_v], slow.joint_motion[ok_v], rtol=0,
                               atol=1e-13 / max(1e-5, float(np.min(sep_v[ok_v], initial=1))))
    # u's sign follows v's through J v = σ u while σ_k is not rounding; else a direction
    tied = ok_v & (sep_u > 1e-5) & (s[..., -1] > 1e-8 * s[..., 0])
    np.testing.assert_allclose(u[tied], slow.lost_twist[tied], rtol=0, atol=1e-8)
    unique_u = sep_u > 1e-5
    dots = np.abs(np.sum(u * slow.lost_twist, axis=-1))
    np.testing.assert_allclose(dots[unique_u], 1.0, atol=1e-10)


def compare(J: np.ndarray, **kw: object) -> tuple[SingularityMeasures, SingularityMeasures]:
    fast, slow = both_backends(measures, J, **kw)
    assert_same(fast, slow, J)
    return fast, slow


@pytest.mark.parametrize("name", list(REGISTRY))
def test_robots_random_and_singular(name: str) -> None:
    robot = kin.load_robot(name)
    entry = REGISTRY[name]
    q = robot.random_q((40,), seed=11)
    sing = np.array([s.q for s in entry.singular_sets], dtype=float).reshape(-1, robot.dof)
    # on the singular sets, and a little off them (nearly singular, well separated)
    qs = np.concatenate([q, sing, sing + 1e-6, sing - 1e-3])
    J = kin.jacobian(robot, qs)
    rows = np.array(singularity.default_rows(robot))
    for length in (1.0, robot.reach, 0.05):
        compare(J, length=length)
        compare(J[..., rows, :], length=length, linear=rows < 3)
        for i in range(len(q), len(qs)):   # single Jacobians: the fast path
            compare(J[i], length=length)
            compare(J[i][rows], length=length, linear=rows < 3)
    fast, slow = both_backends(measures_at, robot, sing)
    assert_same(fast, slow, kin.jacobian(robot, sing)[..., rows, :])
    # exactly on a known singular set: rank-deficient, condition inf
    assert (fast.rank < min(len(rows), robot.dof)).all()
    assert np.isinf(fast.condition).all()


SHAPES = [(6, 7), (6, 6), (7, 6), (3, 7), (6, 2), (2, 2), (1, 4), (4, 1), (5, 5), (1, 1),
          (2, 6), (9, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_random_matrices_wide_square_tall(shape: tuple[int, int], rng: np.random.Generator
                                          ) -> None:
    J = rng.normal(size=(30,) + shape)
    compare(J, length=0.7)
    compare(J)
    compare(J[3], length=0.7)
    compare(J.reshape((3, 10) + shape), length=2.0)
    m = shape[0]
    lin = np.arange(m) % 2 == 0
    compare(J, length=1.3, linear=lin)
    compare(J[0], length=1.3, linear=lin)
    compare(J, length=100.0, linear=np.zeros(m, bool))   # no linear rows: trans NaN


@pytest.mark.parametrize("shape, rank", [(s, r) for s in SHAPES for r in (0, 1, 2)
                                         if r < min(s)])
def test_rank_deficient_and_zero(shape: tuple[int, int], rank: int,
                                 rng: np.random.Generator) -> None:
    m, n = shape
    J = rng.normal(size=(20, m, rank)) @ rng.normal(size=(20, rank, n))
    fast, _ = compare(J, length=0.5)
    np.testing.assert_array_equal(fast.rank, rank)
    assert np.isinf(fast.condition).all() and np.isinf(fast.condition_scaled).all()
    fast, _ = compare(J[0], length=0.5)
    assert fast.rank == rank
    # exact zeros in place: a zero column, a zero row
    J2 = rng.normal(size=(10, m, n))
    J2[:, :, 0] = 0.0
    compare(J2)
    J2[:, 0, :] = 0.0
    compare(J2)


def test_zeros_and_repeated_singular_values() -> None:
    for shape in [(6, 7), (6, 6), (7, 6), (2, 2), (1, 3)]:
        Z = np.zeros(shape)
        fast, slow = compare(Z)
        assert fast.rank == 0 and fast.sigma_min == 0.0 and fast.manipulability == 0.0
        assert np.isinf(fast.condition) and fast.inverse_condition == 0.0
        compare(np.zeros((3,) + shape), length=0.3)
        # every singular value equal (orthogonal rows): vectors not unique
        Q = np.linalg.qr(np.random.default_rng(1).normal(size=(max(shape), max(shape))))[0]
        compare(Q[: shape[0], : shape[1]] * 2.5)
    compare(np.eye(6))


@pytest.mark.parametrize("scale", [1e-200, 1e-150, 1e-20, 1e20, 1e45])
def test_extreme_magnitudes(scale: float, rng: np.random.Generator) -> None:
    J = rng.normal(size=(5, 6, 7))
    fast, slow = both_backends(measures, J * scale)
    base = measures(J)
    np.testing.assert_allclose(fast.sigma, base.sigma * scale, rtol=1e-13)
    np.testing.assert_allclose(fast.sigma, slow.sigma, rtol=1e-13)
    np.testing.assert_allclose(fast.joint_motion, base.joint_motion, atol=1e-12)
    np.testing.assert_array_equal(fast.rank, 6)


def test_planar2r_det_closed_form() -> None:
    arm = kin.load_robot("planar2r")   # l1 = 1.0 m, l2 = 0.8 m
    q = arm.random_q((200,), seed=5)
    q = np.concatenate([q, [[0.3, 0.0], [0.3, np.pi], [-1.0, 1e-9]]])
    J = kin.jacobian(arm, q)[..., :2, :]
    fast, slow = both_backends(measures, J)
    np.testing.assert_allclose(fast.det, 1.0 * 0.8 * np.sin(q[:, 1]), rtol=0, atol=1e-14)
    np.testing.assert_allclose(fast.manipulability, np.abs(fast.det), rtol=0, atol=1e-14)
    for i in range(len(q)):
        one = measures(J[i])
        assert abs(one.det - 0.8 * np.sin(q[i, 1])) < 1e-14
    stretched = measures(J[-3])
    assert stretched.rank == 1 and np.isinf(stretched.condition)


def test_monitor_state_measures_compiled(robot: kin.Robot) -> None:
    q = robot.random_q((), seed=2)
    qd = np.full(robot.dof, 0.1)

    def run() -> SingularityMeasures:
        return singularity.SingularityMonitor(robot).update(q, qd, dt=0.01).measures

    fast, slow = both_backends(run)
    rows = np.array(singularity.default_rows(robot))
    assert_same(fast, slow, kin.jacobian(robot, q)[rows])
    ref = measures_at(robot, q)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(fast, name), getattr(ref, name), err_msg=name)


def test_threaded_chunks_are_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    robot = kin.load_robot("panda")
    J = kin.jacobian(robot, robot.random_q((700,), seed=3))
    one = measures(J, length=0.9)
    monkeypatch.setattr(sys.modules['kinematics.singularity.values'], "_THREADED", 10)
    monkeypatch.setattr(sys.modules['kinematics.singularity.values'], "_TASK", 64)
    previous = _engine.set_threads(3)
    try:
        many = measures(J, length=0.9)
    finally:
        _engine.set_threads(previous)
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(many, name), getattr(one, name), err_msg=name)


def test_empty_batch() -> None:
    fast, slow = both_backends(measures, np.zeros((0, 6, 7)))
    for name in FIELDS:
        assert np.shape(getattr(fast, name)) == np.shape(getattr(slow, name)), name


@pytest.mark.parametrize("J, kw", [
    (np.full((6, 7), np.nan), {}),
    (np.full((2, 6, 7), np.inf), {}),
    (np.full((6, 7), 1e101), {}),
    (np.ones((6, 7)), {"length": 0.0}),
    (np.ones((6, 7)), {"length": float("nan")}),
    (np.ones((6, 7)), {"length": "a"}),
    (np.ones((6, 7)), {"linear": [True] * 5}),
    (np.ones((6, 7)), {"linear": np.ones(6)}),
    (np.full((6, 7), np.nan), {"linear": [True] * 5}),
    (np.ones((6, 0)), {}),
    (np.ones(6), {}),
    (np.ones((6, 7)) + 0j, {}),
])
def test_errors_are_the_numpy_paths(J: np.ndarray, kw: dict[str, object]) -> None:
    errors = []
    for on in (True, False):
        previous = kin.accel.enable(on)
        try:
            with pytest.raises(kin.KinematicsError) as info:
                measures(J, **kw)
            errors.append((type(info.value), str(info.value)))
        finally:
            kin.accel.enable(previous)
    assert errors[0] == errors[1]


def test_numpy_path_does_not_import_numba() -> None:
    code = ("import sys, numpy as np, kinematics as kin\n"
            "m = kin.measures(np.arange(42.0).reshape(6, 7) % 5)\n"
            "m = kin.measures(np.ones((3, 6, 7)))\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    env = {**os.environ, "KINEMATICS_ACCEL": "0"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)

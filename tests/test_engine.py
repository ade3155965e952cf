"""The compiled path equals the numpy oracle on every function, robot, reference and batch
shape; chunked and threaded batches equal one chunk bit for bit; the compiled path's
errors (non-finite joint values, impossible allocations) are the documented ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import MIXED_URDF, both_backends, planar2r_urdf

import kinematics as kin
from kinematics import _engine, accel

pytest.importorskip("numba")

REFS = ("base", "local", "spatial")
SHAPES = [(), (1,), (3, 1, 2)]
TOL = {"rtol": 1e-12, "atol": 1e-12}

# A prismatic joint driven by a mimic of j2 (the planar2r helper plus a slider).
SLIDER = planar2r_urdf(extra="""
  <link name="s"/>
  <joint name="slide" type="prismatic"><parent link="tip"/><child link="s"/>
    <origin xyz="0 0.1 0" rpy="0.3 0 0"/><axis xyz="0 1 1"/>
    <limit lower="-1" upper="1" velocity="1" effort="1"/>
    <mimic joint="j2" multiplier="-0.5" offset="0.1"/></joint>""")


def _same(func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    fast, slow = both_backends(func, *args, **kwargs)
    for a, b in zip(fast if isinstance(fast, tuple) else (fast,),
                    slow if isinstance(slow, tuple) else (slow,), strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype == np.float64
        np.testing.assert_allclose(a, b, **TOL)


def _all_functions(robot: kin.Robot, shape: tuple[int, ...], link: str | None,
                   reference: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    q = robot.random_q(shape, seed=seed)
    qd = rng.normal(size=shape + (robot.dof,))
    w = rng.normal(size=shape + (6,))
    point = rng.normal(size=3) * 0.2
    _same(kin.fk, robot, q, link)
    _same(kin.fk, robot, q, link, point=point)
    for p in (None, point):
        _same(kin.jacobian, robot, q, link, reference, point=p)
        _same(kin.fk_jacobian, robot, q, link, reference, point=p)
        _same(kin.jacobian_dot, robot, q, qd, link, reference, point=p)
        _same(kin.twist, robot, q, qd, link, reference, point=p)
        _same(kin.joint_torques, robot, q, w, link, reference, point=p)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("reference", REFS)
def test_compiled_equals_numpy_on_bundled_robots(robot: kin.Robot, shape: tuple[int, ...],
                                                 reference: str) -> None:
    _all_functions(robot, shape, None, reference, seed=7)
    _same(kin.fk_all, robot, robot.random_q(shape, seed=2))


@pytest.mark.parametrize("reference", REFS)
def test_compiled_equals_numpy_on_prismatic_and_mimic_chains(reference: str) -> None:

    mixed = kin.robot_from_urdf(MIXED_URDF, tip="g")
    for link in (None, "side", "a", "e", "base"):
        for shape in SHAPES:
            _all_functions(mixed, shape, link, reference, seed=11)
    slider = kin.robot_from_urdf(SLIDER, tip="s")
    for shape in SHAPES:
        _all_functions(slider, shape, None, reference, seed=5)
        _all_functions(slider, shape, "l2", reference, seed=6)
    _same(kin.fk_all, mixed, mixed.random_q((4,), seed=1))


def test_compiled_broadcasts_q_and_its_partner_like_numpy() -> None:
    arm = kin.load_robot("panda")
    q = arm.random_q(seed=1)
    qd = np.random.default_rng(0).normal(size=(4, 1, arm.dof))
    _same(kin.jacobian_dot, arm, q, qd)
    _same(kin.twist, arm, arm.random_q((3,), seed=2), qd)
    _same(kin.joint_torques, arm, q, np.ones((2, 6)))


def test_single_configuration_fast_path_equals_batch_path() -> None:
    arm = kin.load_robot("iiwa14")
    q = arm.random_q(seed=3)
    for reference in REFS:
        T1, J1 = kin.fk_jacobian(arm, q, reference=reference)        # fast path
        T2, J2 = kin.fk_jacobian(arm, q[None], reference=reference)  # batch kernel
        np.testing.assert_array_equal(T1, T2[0])
        np.testing.assert_array_equal(J1, J2[0])
        np.testing.assert_array_equal(kin.jacobian(arm, q, reference=reference), J1)
    np.testing.assert_array_equal(kin.fk(arm, q), kin.fk(arm, q[None])[0])
    np.testing.assert_allclose(kin.fk(arm, q), both_backends(kin.fk, arm, q)[1], **TOL)


@pytest.mark.parametrize("func", ["fk", "fk_jacobian", "jacobian_dot", "twist",
                                  "joint_torques"])
def test_threaded_chunks_equal_one_chunk_bit_for_bit(
        func: str, monkeypatch: pytest.MonkeyPatch) -> None:
    arm = kin.load_robot("panda")
    rng = np.random.default_rng(4)
    q = arm.random_q((5, 41), seed=4)
    second = {"jacobian_dot": rng.normal(size=q.shape), "twist": rng.normal(size=q.shape),
              "joint_torques": rng.normal(size=(5, 41, 6))}.get(func)
    f = getattr(kin, func)
    args = (arm, q) if second is None else (arm, q, second)
    previous = accel.set_threads(1)
    try:
        one = f(*args, reference="local") if func != "fk" else f(*args)
        monkeypatch.setattr(_engine, "THRESHOLD", 10)
        monkeypatch.setattr(_engine, "_TASK", 7)
        accel.set_threads(2)
        many = f(*args, reference="local") if func != "fk" else f(*args)
    finally:
        accel.set_threads(previous)
    for a, b in zip(one if isinstance(one, tuple) else (one,),
                    many if isinstance(many, tuple) else (many,), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_threads_validates_and_restores() -> None:
    previous = accel.set_threads(3)
    try:
        assert accel.threads() == 3
        with pytest.raises(kin.InvalidValueError, match=r"threads=0; expected an integer >= 1"):
            accel.set_threads(0)
    finally:
        accel.set_threads(previous)
    assert accel.threads() == previous


def test_non_finite_q_on_the_fast_path_names_the_joint() -> None:
    arm = kin.load_robot("panda")
    q = arm.random_q(seed=1)
    q[3] = np.nan
    for f in (kin.fk_jacobian, kin.jacobian, kin.fk):
        with pytest.raises(kin.InvalidValueError,
                           match=r"q\[3\]: joint 'panda_joint4' is nan; expected finite"):
            f(arm, q)


def test_impossible_allocation_is_an_error_with_the_size() -> None:
    with pytest.raises(kin.InvalidValueError,
                       match=r"Jacobian output of shape \(10000000000000, 6, 7\) needs "
                             r"3129243\.9 GiB, more than this machine's memory"):
        _engine.allocate((10**13, 6, 7), "Jacobian output")


def test_large_batches_stay_bounded_on_the_numpy_path() -> None:
    """The numpy path runs over chunks: a batch of several chunks equals chunk-sized
    calls, row for row."""
    arm = kin.load_robot("ur5")
    n = _engine.CHUNK * 2 + 5
    q = arm.random_q((n,), seed=9)
    qd = np.random.default_rng(1).normal(size=(n, arm.dof))
    previous = accel.enable(False)
    try:
        whole = kin.jacobian_dot(arm, q, qd)
        parts = np.concatenate([kin.jacobian_dot(arm, q[a:a + 1000], qd[a:a + 1000])
                                for a in range(0, n, 1000)])
    finally:
        accel.enable(previous)
    np.testing.assert_allclose(whole, parts, rtol=0, atol=1e-15)

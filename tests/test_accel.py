"""The optional compiled kernels (numba) and the numpy implementation agree everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import MIXED_URDF, both_backends

import kinematics as kin
from kinematics import accel

pytest.importorskip("numba")

REFS = ("base", "local", "spatial")


@pytest.fixture
def numpy_only():  # type: ignore[no-untyped-def]
    previous = accel.enable(False)
    yield
    accel.enable(previous)


@pytest.mark.parametrize("shape", [(), (3,), (2, 60)])
@pytest.mark.parametrize("reference", REFS)
def test_kernels_match_numpy(robot: kin.Robot, shape: tuple[int, ...], reference: str) -> None:
    q = robot.random_q(shape, seed=4)
    (T1, J1), (T2, J2) = both_backends(kin.fk_jacobian, robot, q, reference=reference)
    assert T1.shape == T2.shape == shape + (4, 4) and J1.shape == J2.shape
    np.testing.assert_allclose(T1, T2, rtol=0, atol=1e-14)
    np.testing.assert_allclose(J1, J2, rtol=0, atol=1e-14)
    fk1, fk2 = both_backends(kin.fk, robot, q)
    np.testing.assert_allclose(fk1, fk2, rtol=0, atol=1e-14)


def test_kernels_on_prismatic_mimic_and_branch_links() -> None:

    mixed = kin.robot_from_urdf(MIXED_URDF, tip="g")
    q = mixed.random_q((70,), seed=1)
    for link in (None, "side", "a", "base"):
        (T1, J1), (T2, J2) = both_backends(kin.fk_jacobian, mixed, q, link)
        np.testing.assert_allclose(T1, T2, rtol=0, atol=1e-14)
        np.testing.assert_allclose(J1, J2, rtol=0, atol=1e-14)


def test_enable_switch(numpy_only: None) -> None:
    assert not accel.enabled()
    assert accel.enable(True) is False and accel.enabled()

"""Cross-checks against PyBullet (DIRECT mode) on every bundled robot and on URDFs this
project did not write (pybullet_data's Panda and iiwa).

PyBullet reports link poses rounded to single precision: poses agree to ~3e-7 (tolerance
2e-6); ``calculateJacobian`` works in double from q: Jacobians agree to ~1e-15 (tolerance
1e-12).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import BUNDLED, PYBULLET_DATA_ARMS, pybullet_data_path

import kinematics as kin

pytestmark = pytest.mark.pybullet
pytest.importorskip("pybullet")
from kinematics.sims.bullet import Sim  # noqa: E402

CASES = [(name, None, None) for name in BUNDLED] + PYBULLET_DATA_ARMS


def _robot(case: tuple[str, str | None, str | None]) -> kin.Robot:
    name, base, tip = case
    if name in BUNDLED:
        return kin.load_robot(name)
    return kin.load_robot(pybullet_data_path(name), base=base, tip=tip)


@pytest.fixture(params=CASES, ids=[c[0] for c in CASES], scope="module")
def sim(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with Sim.open(_robot(request.param)) as s:
        yield s


def test_fk_matches_link_frames(sim: Sim) -> None:
    robot = sim.robot
    links = [link for link in robot.link_names if link in sim.link_index]
    for q in robot.random_q(10, seed=21):
        sim.reset_q(q)
        for link in links:
            T_pb, _ = sim.link_state(link)
            T = kin.fk(robot, q, link)
            np.testing.assert_allclose(T[:3, 3], T_pb[:3, 3], atol=2e-6, err_msg=link)
            np.testing.assert_allclose(T[:3, :3], T_pb[:3, :3], atol=2e-6, err_msg=link)


def test_jacobian_matches_calculate_jacobian(sim: Sim) -> None:
    robot = sim.robot
    for q in robot.random_q(10, seed=22):
        sim.reset_q(q)
        J_pb = sim.jacobian(robot.tip_link)
        J = kin.jacobian(robot, q, robot.tip_link)
        # calculateJacobian recomputes kinematics in double precision from q: measured
        # agreement ~1e-15 (PyBullet 3.2.7), far inside the 1e-9 bar.
        np.testing.assert_allclose(J, J_pb, rtol=0, atol=1e-12)


def test_jacobian_of_a_point_off_the_link_origin(sim: Sim) -> None:
    """``localPosition`` is an offset from the link origin in COM-frame axes (the boundary
    convention converted in ``sims/bullet.py``): the Jacobian of the link's COM point is
    ``J_o`` with ``v += ω × (c − o)``."""
    import pybullet as p

    robot = sim.robot
    q = robot.random_q(seed=5)
    sim.reset_q(q)
    li = sim.link_index[robot.tip_link]
    T = kin.fk(robot, q, robot.tip_link)
    com = np.array(p.getLinkState(sim.body, li, computeForwardKinematics=1,
                                  physicsClientId=sim.client)[0])
    r = com - T[:3, 3]
    J = kin.jacobian(robot, q, robot.tip_link)
    J_com = J.copy()
    J_com[:3] += np.cross(J[3:].T, r).T
    np.testing.assert_allclose(sim.jacobian(robot.tip_link, T[:3, :3].T @ r), J_com, atol=1e-6)
    point = np.array([0.05, -0.02, 0.1])
    J_pt = J.copy()
    J_pt[:3] += np.cross(J[3:].T, T[:3, :3] @ point).T
    np.testing.assert_allclose(sim.jacobian(robot.tip_link, point), J_pt, atol=1e-6)


def test_twist_matches_link_velocity(sim: Sim) -> None:
    robot = sim.robot
    rng = np.random.default_rng(3)
    for q in robot.random_q(5, seed=23, margin=0.1):
        qd = rng.uniform(-1, 1, robot.dof)
        sim.reset_q(q, qd)
        _, V_pb = sim.link_state(robot.tip_link)
        np.testing.assert_allclose(kin.twist(robot, q, qd, robot.tip_link), V_pb, atol=1e-5)

"""Resolved-rate control in a loop: explicit periods, limits at any rate, and a monitor that
never freezes a motion that leaves a singularity (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest

import kinematics as kin
from kinematics import ik
from kinematics.exceptions import InvalidValueError
from kinematics.singularity import SingularityMonitor

UR5_HOME = np.array([0.0, -np.pi / 2, 0.0, -np.pi / 2, 0.0, 0.0])  # elbow and wrist singular


def _pose_error(robot: kin.Robot, q: np.ndarray, target: np.ndarray) -> float:
    e = kin.spatial.pose_error(kin.fk(robot, q), target)
    return float(np.linalg.norm(e))


def test_controller_without_a_period_refuses() -> None:
    robot = kin.load_robot("panda")
    q = robot.random_q(seed=0, margin=0.2)
    ctrl = ik.ResolvedRateController(robot)
    with pytest.raises(InvalidValueError, match="dt: no control period given"):
        ctrl.velocity(q, kin.fk(robot, q))
    with pytest.raises(InvalidValueError, match="dt: no control period given"):
        ctrl.step(q, kin.fk(robot, q))
    for bad in (0.0, -1e-3, float("nan"), "x"):
        with pytest.raises(InvalidValueError, match="dt="):
            ctrl.velocity(q, kin.fk(robot, q), dt=bad)


@pytest.mark.parametrize("rate_hz", [10, 50, 250, 1000])
@pytest.mark.parametrize("name", ["panda", "ur5"])
def test_servo_never_crosses_a_joint_limit(name: str, rate_hz: int) -> None:
    """10 s of servoing toward targets beyond the joint limits, at the caller's rate."""
    robot = kin.load_robot(name)
    lo, hi = robot.joint_limits.T
    dt = 1.0 / rate_hz
    ctrl = ik.ResolvedRateController(robot, gain=3.0, monitor=SingularityMonitor(robot))
    rng = np.random.default_rng(rate_hz)
    q = robot.random_q(seed=rate_hz, margin=0.05)
    steps = int(10.0 * rate_hz)
    targets = []
    for _ in range(4):  # poses of configurations beyond the limits
        q_out = np.clip(q + rng.normal(scale=1.5, size=robot.dof), lo - 1.0, hi + 1.0)
        targets.append(kin.fk(robot, q_out))
    worst = 0.0
    for k in range(steps):
        target = targets[(4 * k) // steps]
        qd = ctrl.velocity(q, target, dt=dt)
        q = q + qd * dt                       # the caller integrates with its own period
        worst = max(worst, float(np.max(lo - q)), float(np.max(q - hi)))
    assert worst <= 1e-12, f"{name} at {rate_hz} Hz crossed a limit by {worst:.3g}"


def test_monitored_controller_leaves_the_ur5_home_singularity() -> None:
    """From the exact double singularity at home, every reachable target is reached."""
    ur5 = kin.load_robot("ur5")
    rng = np.random.default_rng(7)
    for trial in range(20):
        ctrl = ik.ResolvedRateController(ur5, gain=4.0, monitor=SingularityMonitor(ur5))
        q_goal = UR5_HOME + rng.uniform(-0.6, 0.6, size=6)
        target = kin.fk(ur5, q_goal)
        q = UR5_HOME.copy()
        for _ in range(3000):
            q = ctrl.step(q, target, dt=2e-3)
        assert _pose_error(ur5, q, target) < 1e-4, trial


@pytest.mark.parametrize("offset", [0.0, 1e-6])
def test_monitor_never_scales_motion_that_leaves(offset: float) -> None:
    """At and near the UR5's wrist/elbow singularities, a command that increases the metric
    over the period is never scaled; one that decreases it inside the stop zone is halted."""
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    rng = np.random.default_rng(3)
    dt = 1e-3
    q0 = UR5_HOME + offset
    for _ in range(200):
        qd = rng.normal(size=6)
        st = mon.update(q0, qd, dt=dt)
        after = mon.update(q0 + qd * dt, dt=dt).value
        mon.reset()
        if after > st.value:
            assert st.scale == 1.0 and not st.approaching
            assert np.isinf(st.time_to_singularity)
        elif st.value < mon.stop and after < st.value - 1e-9:
            assert st.scale == 0.0 and st.level == "stop"


def test_monitor_levels_do_not_depend_on_the_backend() -> None:
    ur5 = kin.load_robot("ur5")
    rng = np.random.default_rng(5)
    qds = rng.normal(size=(100, 6))
    out = []
    for compiled in (True, False):
        previous = kin.accel.enable(compiled) if kin.accel.available() or not compiled else None
        try:
            mon = SingularityMonitor(ur5)
            out.append([(s.level, s.scale) for s in
                        (mon.update(UR5_HOME, qd, dt=1e-3) for qd in qds)])
        finally:
            if previous is not None:
                kin.accel.enable(previous)
    assert out[0] == out[1]

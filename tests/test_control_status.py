"""The controller's status: pose error, level, limited, stalled and the step's events."""

from __future__ import annotations

import numpy as np
import pytest

import kinematics as kin
from kinematics import ik
from kinematics.singularity import SingularityMonitor


def _run(ctrl: ik.ResolvedRateController, q: np.ndarray, T: np.ndarray, steps: int,
         dt: float = 4e-3) -> tuple[np.ndarray, list[tuple[float, tuple[str, ...]]]]:
    events = []
    for k in range(steps):
        q = ctrl.step(q, T, dt)
        st = ctrl.status
        assert st is not None
        if st.events:
            events.append((k * dt, st.events))
    return q, events


@pytest.mark.parametrize("compiled", [True, False])
def test_beyond_reach_is_reported_constrained_then_stalled(compiled: bool) -> None:
    """A fixed target 0.5 m beyond the UR5's reach: the status says warn, constrained,
    then stalled (once), with the pose error it reports equal to the true one."""
    robot = kin.load_robot("ur5")
    q0 = np.array([0.2, -1.6, 1.9, -1.9, -1.57, 0.0])
    T = kin.fk(robot, q0).copy()
    T[:3, 3] *= (robot.reach + 0.5) / np.linalg.norm(T[:3, 3])
    previous = kin.accel.enable(compiled)
    try:
        ctrl = ik.ResolvedRateController(robot, gain=4.0, monitor=SingularityMonitor(robot))
        assert ctrl.status is None
        q, events = _run(ctrl, q0, T, 1000)
    finally:
        kin.accel.enable(previous)
    flat = [e for _, ev in events for e in ev]
    assert "warn" in flat and "constrained" in flat
    assert flat.count("stalled") == 1 and "reached" not in flat
    stalled_at = next(t for t, ev in events if "stalled" in ev)
    constrained_at = next(t for t, ev in events if "constrained" in ev)
    assert constrained_at < stalled_at
    st = ctrl.status
    assert st.stalled and st.level in ("warn", "stop") and st.monitor is ctrl.monitor_state
    # the status's error is at the q the last step started from
    e = kin.spatial.pose_error(kin.fk(robot, st.q), T)
    np.testing.assert_allclose(st.error, e, atol=1e-12)
    assert st.error_norm == pytest.approx(float(np.linalg.norm(e)))


def test_reachable_target_is_reached_once_and_never_stalls() -> None:
    robot = kin.load_robot("panda")
    q0 = robot.random_q(seed=2, margin=0.3)
    T = kin.fk(robot, robot.random_q(seed=3, margin=0.3))
    ctrl = ik.ResolvedRateController(robot, gain=5.0)
    _, events = _run(ctrl, q0, T, 2000)
    flat = [e for _, ev in events for e in ev]
    assert flat.count("reached") == 1 and "stalled" not in flat
    assert ctrl.status.level is None and ctrl.status.monitor is None
    assert ctrl.status.error_norm < 1e-4


def test_velocity_limits_are_reported() -> None:
    robot = kin.load_robot("panda")
    q0 = robot.random_q(seed=5, margin=0.3)
    T = kin.fk(robot, robot.random_q(seed=6, margin=0.3))
    ctrl = ik.ResolvedRateController(robot, gain=50.0)     # fast: the limits bind
    ctrl.velocity(q0, T, dt=1e-3)
    assert ctrl.status.limited and "limit" in ctrl.status.events
    ratio = np.abs(ctrl.status.qd) / robot.velocity_limits
    assert ratio.max() == pytest.approx(1.0)


def test_status_parameters_are_checked() -> None:
    robot = kin.load_robot("ur5")
    with pytest.raises(kin.InvalidValueError, match="stall_time"):
        ik.ResolvedRateController(robot, stall_time=-1.0)
    with pytest.raises(kin.InvalidValueError, match="tolerance"):
        ik.ResolvedRateController(robot, tolerance=float("nan"))

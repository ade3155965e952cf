"""The monitor's safe command: the best task motion the singularity constraint allows.

Checked against the oracle in ``tests/reference/safe_command.py`` (finite-difference
gradients, a QP solved by working-set enumeration), and as properties on and near every
known singular set of every bundled arm and on descriptions this project did not write:
a constrained command never increases the task's weighted error to first order, never lets
the metric enter the stop zone, never touches a command that leaves, and keeps serving the
part of the task the constraint does not block.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import erd_path
from reference import safe_command as oracle

import kinematics as kin
from kinematics import _engine, ik
from kinematics.singularity import SingularityMonitor, Task

SINGULAR_STARTS = [(name, s.name, np.array(s.q)) for name in kin.list_robots()
                   for s in kin.robots.REGISTRY[name].singular_sets]
IDS = [f"{n}-{s}" for n, s, _ in SINGULAR_STARTS]


def _erd(rel: str, base: str, tip: str) -> kin.Robot:
    return kin.load_robot(str(erd_path(rel)), base=base, tip=tip)


FOREIGN = [("ur_description/urdf/ur5_robot.urdf", "base_link", "tool0"),
           ("panda_description/urdf/panda.urdf", "panda_link0", "panda_link8")]


def _near(q_set: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return q_set + rng.normal(size=q_set.size) * 10 ** rng.uniform(-3.0, -1.3)


def _task(robot: kin.Robot, q: np.ndarray, T: np.ndarray, gain: float = 4.0
          ) -> tuple[np.ndarray, np.ndarray]:
    """The default controller's task rows at ``q`` toward ``T``: ``(J, K e)``."""
    return kin.jacobian(robot, q), gain * kin.spatial.pose_error(kin.fk(robot, q), T)


def _kernel_gradients(mon: SingularityMonitor, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kern = _engine.kernels()
    J = kin.jacobian(mon.robot, q)
    g, sv = np.empty((max(6, q.size), q.size)), np.empty(max(6, q.size))
    a = kern.sv_gradients(q, J, *_engine.pack(mon.robot.chain(None)), mon.metric_parameters,
                          mon.warn, g, sv)
    return sv[:a], g[:a]


@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS, ids=IDS)
def test_singular_value_gradients_match_finite_differences(name: str, set_name: str,
                                                           q_set: np.ndarray) -> None:
    """The exact gradients ∂σ/∂q (from J̇(q, e_c)) of the near-singular values agree with
    central differences of LAPACK's singular values, where the values are distinct."""
    robot = kin.load_robot(name)
    mon = SingularityMonitor(robot)
    rng = np.random.default_rng(len(set_name) + robot.dof)
    checked = 0
    for _ in range(20):
        q = _near(q_set, rng)
        s_ref, g_ref = oracle.sv_gradients(mon, q)
        s, g = _kernel_gradients(mon, q)
        assert s.shape == s_ref.shape
        np.testing.assert_allclose(s, s_ref, rtol=1e-9, atol=1e-12)
        gaps = np.diff(np.concatenate([[0.0], oracle.np.sort(s_ref)]))
        if s.size and gaps.min() > 1e-4:
            np.testing.assert_allclose(g, g_ref, rtol=0, atol=2e-6 * max(1, np.abs(g).max()))
            checked += 1
    assert checked >= 5


def _band_cases(robot: kin.Robot, q_set: np.ndarray, seed: int, count: int = 16):
    """States inside the warn band whose command approaches (0.15 < scale < 1)."""
    rng = np.random.default_rng(seed)
    probe = SingularityMonitor(robot)
    low = probe.stop + 0.2 * (probe.warn - probe.stop)
    for _ in range(count):
        u = rng.normal(size=q_set.size)
        band = [q for t in np.geomspace(1e-3, 1.0, 40) for q in [q_set + t * u]
                if low < probe.update(q).value < probe.warn]
        if not band:
            continue
        q = band[rng.integers(len(band))]
        mon = SingularityMonitor(robot)
        qd = rng.normal(size=robot.dof)
        A = kin.jacobian(robot, q)
        y = A @ qd + rng.normal(size=6) * 0.1
        state = mon.update(q, qd, dt=1e-3)
        if 0.15 < state.scale < 1.0:
            yield mon, q, qd, state, A, y


@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS, ids=IDS)
def test_safe_command_is_the_constrained_task_optimum(name: str, set_name: str,
                                                      q_set: np.ndarray) -> None:
    """In the warn band the compiled command equals the oracle's QP solution (the damped
    least squares of the task under the monitor's rows and the velocity bounds)."""
    robot = kin.load_robot(name)
    damping = np.array([1.0, 0.05 ** 2, 0.05 ** 2, 0.0])
    v = robot.velocity_limits
    compared = 0
    for mon, q, qd, state, A, y in _band_cases(robot, q_set, seed=robot.dof + len(set_name)):
        lower, upper = -v, v
        x = mon.command(state, Task(A, y, damping, lower, upper))
        ref = oracle.safe_command(mon, q, qd, state.scale, A, y, damping, lower, upper)
        np.testing.assert_allclose(x, ref, rtol=0, atol=1e-5 * max(1.0, np.abs(ref).max()))
        compared += 1
    assert compared >= 3, f"only {compared} constrained states"


@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS, ids=IDS)
def test_joint_space_command_is_the_projection(name: str, set_name: str,
                                               q_set: np.ndarray) -> None:
    """Without a task, ``state.command`` is the nearest command to ``qd`` (Euclidean) that
    meets the monitor's rows."""
    robot = kin.load_robot(name)
    n = robot.dof
    compared = 0
    for mon, q, qd, state, _, _ in _band_cases(robot, q_set, seed=7 + robot.dof):
        ref = oracle.safe_command(mon, q, qd, state.scale, np.eye(n), qd,
                                  np.zeros(4), np.full(n, -np.inf), np.full(n, np.inf))
        np.testing.assert_allclose(state.command, ref, rtol=0,
                                   atol=1e-5 * max(1.0, np.abs(ref).max()))
        compared += 1
    assert compared >= 3


def _servo(robot: kin.Robot, q0: np.ndarray, T: np.ndarray, monitored: bool, steps: int,
           dt: float = 4e-3, check: bool = False) -> tuple[np.ndarray, dict[str, int]]:
    """Servo toward the fixed target ``T``; with ``check`` assert on every constrained step
    that the command does not increase the pose error to first order and that the metric
    never enters the stop zone (nor falls inside it)."""
    mon = SingularityMonitor(robot) if monitored else None
    ctrl = ik.ResolvedRateController(robot, gain=4.0, monitor=mon)
    q = q0.copy()
    counts = {"constrained": 0, "halted": 0}
    for _ in range(steps):
        qd = ctrl.velocity(q, T, dt=dt)
        q1 = q + qd * dt
        if mon is not None and check:
            st = ctrl.monitor_state
            if st.constrained:
                counts["constrained"] += 1
                counts["halted"] += st.scale == 0.0
                A, y = _task(robot, q, T)
                progress = float(y @ (A @ qd))
                assert progress >= -1e-9 * (1.0 + float(np.linalg.norm(y)) ** 2), progress
                after = SingularityMonitor(robot).update(q1).value
                assert after >= min(st.value, mon.stop) * (1 - 1e-9), (st.value, after)
        q = q1
    return q, counts


def _beyond_reach(robot: kin.Robot, q0: np.ndarray) -> np.ndarray:
    T = kin.fk(robot, q0).copy()
    p = T[:3, 3]
    T[:3, 3] = p / np.linalg.norm(p) * (robot.reach + 0.5)
    return T


REACH_STARTS = {"panda": [0.0, -0.3, 0.0, -1.8, 0.0, 1.6, 0.8],
                "iiwa14": [0.0, 0.3, 0.0, -0.4, 0.0, 0.4, 0.0],
                "ur5": [0.2, -1.6, 1.9, -1.9, -1.57, 0.0],
                "puma560": [0.0, 0.5, -0.5, 0.0, 0.5, 0.0]}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REACH_STARTS))
def test_unreachable_position_does_not_cost_the_orientation(name: str) -> None:
    """A target 0.5 m beyond the reach, orientation held: with the monitor the rotation
    error stays within a small margin of the unmonitored one's (the part of the task the
    constraint does not block keeps converging), the metric stays out of the stop zone,
    and no constrained step increases the pose error to first order."""
    robot = kin.load_robot(name)
    q0 = np.array(REACH_STARTS[name])
    T = _beyond_reach(robot, q0)
    free, _ = _servo(robot, q0, T, monitored=False, steps=750)
    held, counts = _servo(robot, q0, T, monitored=True, steps=750, check=True)
    assert counts["constrained"] > 50, counts
    e_free = kin.spatial.pose_error(kin.fk(robot, free), T)
    e_held = kin.spatial.pose_error(kin.fk(robot, held), T)
    assert np.linalg.norm(e_held[3:]) <= np.linalg.norm(e_free[3:]) + 0.05, (e_free, e_held)
    assert np.linalg.norm(e_held[:3]) <= np.linalg.norm(e_free[:3]) + 0.1


@pytest.mark.parametrize(("rel", "base", "tip"), FOREIGN, ids=["erd-ur5", "erd-panda"])
def test_foreign_arm_beyond_reach_keeps_its_orientation(rel: str, base: str, tip: str
                                                        ) -> None:
    """The same on example-robot-data's arms (descriptions this project did not write)."""
    robot = _erd(rel, base, tip)
    q0 = robot.random_q(seed=4, margin=0.3)
    T = _beyond_reach(robot, q0)
    free, _ = _servo(robot, q0, T, monitored=False, steps=500)
    held, counts = _servo(robot, q0, T, monitored=True, steps=500, check=True)
    assert counts["constrained"] > 20, counts
    e_free = kin.spatial.pose_error(kin.fk(robot, free), T)
    e_held = kin.spatial.pose_error(kin.fk(robot, held), T)
    assert np.linalg.norm(e_held[3:]) <= np.linalg.norm(e_free[3:]) + 0.05


@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS, ids=IDS)
def test_constrained_steps_near_singular_sets_keep_both_promises(
        name: str, set_name: str, q_set: np.ndarray) -> None:
    """From on and near every known singular set, servoing toward targets on the far side
    (through the singularity): every constrained step keeps the pose error from growing to
    first order and keeps the metric out of the stop zone (or from falling inside it)."""
    robot = kin.load_robot(name)
    rng = np.random.default_rng(robot.dof + 3 * len(set_name))
    total = {"constrained": 0, "halted": 0}
    for k in range(4):
        q0 = q_set + (0.0 if k == 0 else rng.normal(size=robot.dof) * 0.02)
        away = q_set + rng.normal(size=robot.dof) * 0.3
        through = q_set - (away - q_set)            # the mirror image: approach, then cross
        _, counts = _servo(robot, away, kin.fk(robot, through), monitored=True, steps=300,
                           check=True)
        _, counts2 = _servo(robot, q0, kin.fk(robot, away), monitored=True, steps=150,
                            check=True)
        for c in (counts, counts2):
            for key in total:
                total[key] += c[key]
    assert total["constrained"] > 0, total


@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS, ids=IDS)
def test_command_that_leaves_is_never_constrained(name: str, set_name: str,
                                                  q_set: np.ndarray) -> None:
    """Exactly on and near each singular set, a command that raises the metric over the
    period is returned untouched by the controller (scale 1, not constrained)."""
    robot = kin.load_robot(name)
    rng = np.random.default_rng(11 + robot.dof)
    dt = 2e-3
    seen = 0
    for k in range(60):
        q = q_set.copy() if k % 3 == 0 else _near(q_set, rng)
        qd = rng.normal(size=robot.dof)
        mon = SingularityMonitor(robot)
        st = mon.update(q, qd, dt=dt)
        after = SingularityMonitor(robot).update(q + qd * dt).value
        if after > st.value:
            seen += 1
            assert st.scale == 1.0 and not st.constrained
            np.testing.assert_array_equal(st.command, qd)
    assert seen >= 5


def test_task_shapes_are_checked() -> None:
    robot = kin.load_robot("ur5")
    mon = SingularityMonitor(robot)
    q = np.array([0.0, -1.2, 1.5, -0.3, 0.02, 0.0])
    st = mon.update(q, np.array([0, 0, 0, 0, -0.1, 0.0]), dt=1e-3)
    assert st.constrained
    with pytest.raises(kin.ShapeError, match="task.A"):
        mon.command(st, Task(np.eye(5), np.zeros(5), np.zeros(4), -np.ones(6), np.ones(6)))
    with pytest.raises(kin.InvalidValueError, match="lower <= 0 <= upper"):
        mon.command(st, Task(np.eye(6), np.zeros(6), np.zeros(4), np.ones(6), np.ones(6)))
    with pytest.raises(kin.InvalidValueError, match="this monitor"):
        SingularityMonitor(robot).command(st)

"""Resolved-rate control in a loop: explicit periods, limits at any rate, and a monitor that
never freezes a motion that leaves a singularity (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import both_backends

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


def _leaving_targets(robot: kin.Robot, q_s: np.ndarray, count: int, seed: int
                     ) -> list[np.ndarray]:
    """Goal configurations whose straight joint path from ``q_s`` leaves the singularity
    (the monitored metric grows along its first half) and ends outside the stop zone."""
    lo, hi = robot.joint_limits.T
    lo, hi = np.where(np.isfinite(lo), lo, -np.pi), np.where(np.isfinite(hi), hi, np.pi)
    mon = SingularityMonitor(robot)
    rng = np.random.default_rng(seed)
    goals: list[np.ndarray] = []
    for _ in range(400):
        q_g = np.clip(q_s + rng.uniform(-0.8, 0.8, robot.dof), lo + 0.05, hi - 0.05)
        path = q_s + (q_g - q_s) * np.linspace(0.0, 1.0, 11)[:, None]
        values = kin.analysis.analyze_trajectory(robot, path, monitor=mon).value
        if values[-1] > 2 * mon.stop and np.all(np.diff(values[:6]) > 0):
            goals.append(q_g)
            if len(goals) == count:
                break
    return goals


SINGULAR_STARTS = [(name, s.name, s.q) for name in kin.list_robots()
                   for s in kin.robots.REGISTRY[name].singular_sets]


@pytest.mark.parametrize("offset", [0.0, 1e-6])
@pytest.mark.parametrize(("name", "set_name", "q_set"), SINGULAR_STARTS,
                         ids=[f"{n}-{s}" for n, s, _ in SINGULAR_STARTS])
def test_monitored_controller_leaves_every_known_singular_set(
        name: str, set_name: str, q_set: tuple[float, ...], offset: float) -> None:
    """From exactly on (and 1e-6 off) each known singular set of every bundled arm, the
    monitored controller reaches targets that require leaving the singularity."""
    robot = kin.load_robot(name)
    q_s = np.array(q_set) + offset
    goals = _leaving_targets(robot, q_s, 3, seed=len(set_name))
    assert goals, f"no leaving target found for {name} {set_name}"
    rows = list(kin.singularity.default_rows(robot))
    reached = 0
    for q_g in goals:
        mon = SingularityMonitor(robot)
        ctrl = ik.ResolvedRateController(robot, gain=4.0, monitor=mon,
                                         task_weights=np.isin(np.arange(6), rows) * 1.0)
        target = kin.fk(robot, q_g)
        q = q_s.copy()
        for _ in range(1500):
            q = ctrl.step(q, target, dt=4e-3)
        err = kin.spatial.pose_error(kin.fk(robot, q), target)[rows]
        reached += bool(np.linalg.norm(err) < 1e-4)
        # never frozen: whatever the target, the arm has left the stop zone
        assert mon.update(q).value > mon.stop, (name, set_name, q_g)
    assert reached >= len(goals) - 1, (name, set_name, reached, len(goals))


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


def _two_arm_urdf() -> str:
    urdf = '<robot name="two"><link name="torso"/>'
    for side, y in (("l", 0.2), ("r", -0.2)):
        prev = "torso"
        for i in range(6):
            axis = ("0 1 0", "1 0 0", "0 1 0")[i % 3] if i else "0 0 1"
            urdf += (f'<link name="{side}{i}"/><joint name="{side}j{i}" type="revolute">'
                     f'<parent link="{prev}"/><child link="{side}{i}"/>'
                     f'<origin xyz="0 {y if i == 0 else 0} {0.3 if i else 0.0}"/>'
                     f'<axis xyz="{axis}"/>'
                     '<limit lower="-3" upper="3" velocity="2" effort="1"/></joint>')
            prev = f"{side}{i}"
    return urdf + "</robot>"


def test_solve_and_servo_several_links_of_a_tree() -> None:
    """Both hands of a two-arm tree, one q: ik.solve({link: T}) and the controller."""
    robot = kin.robot_from_urdf(_two_arm_urdf(), tip=["l5", "r5"])
    assert robot.dof == 12 and robot.tip_links == ("l5", "r5")
    q_goal = robot.random_q(seed=3, margin=0.2)
    targets = {k: kin.fk(robot, q_goal, k) for k in robot.tip_links}
    res = ik.solve(robot, targets)
    assert res.success and res.pos_error < 1e-6 and res.rot_error < 1e-6
    for k, T in targets.items():
        err = kin.spatial.pose_error(kin.fk(robot, res.q, k), T)
        assert np.linalg.norm(err) < 2e-6
    # one hand position-only through a per-link mask
    res = ik.solve(robot, targets, mask={"r5": [1, 1, 1, 0, 0, 0]})
    assert res.success
    ctrl = ik.ResolvedRateController(robot, gain=5.0, link="l5")
    q = robot.random_q(seed=4, margin=0.3)
    for _ in range(4000):
        q = ctrl.step(q, targets, dt=2e-3)
    for k, T in targets.items():
        assert np.linalg.norm(kin.spatial.pose_error(kin.fk(robot, q, k), T)) < 1e-4
    with pytest.raises(InvalidValueError, match="empty mapping"):
        ik.solve(robot, {})
    with pytest.raises(kin.UnknownLinkError):
        ik.solve(robot, {"nope": targets["l5"]})


@pytest.mark.parametrize("damping", ["adaptive", "selective", 0.01])
def test_compiled_and_numpy_control_steps_agree(damping: object) -> None:
    if not kin.accel.available():
        pytest.skip("numba not installed")
    robot = kin.load_robot("panda")
    target = kin.fk(robot, np.array([0.3, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8]) + 0.05)
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, damping=damping)  # type: ignore[arg-type]
    for q in (np.array([0.3, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8]),       # far from singular
              np.array([0.0, 0.0, 0.0, -0.1, 0.0, 0.1, 0.0])):       # nearly stretched
        fast, slow = both_backends(ctrl.velocity, q, target)
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-10)


# ------------------------------------------------------------- the compiled control step
STEP_OPTIONS = [
    {},
    {"task_weights": [1, 1, 1, 0, 0, 0]},
    {"task_weights": [1, 1, 1, 0.5, 0.5, 0], "task_frame": "tool", "gain": [2, 2, 2, 1, 1, 1]},
    {"nullspace": "centering", "damping": "selective"},
    {"damping": 0.02, "limit_margin": 0.5},
]


def _step_configurations(robot: kin.Robot) -> list[np.ndarray]:
    """Random in-limit configurations, configurations near the limits, and every known
    singular set exactly and 1e-6 off."""
    qs = list(robot.random_q(6, seed=11))
    lo, hi = robot.joint_limits.T
    finite = np.isfinite(lo) & np.isfinite(hi)
    near = np.where(finite, np.where(np.arange(robot.dof) % 2, hi - 0.05, lo + 0.05), 0.3)
    qs.append(near)
    for s in kin.robots.REGISTRY[robot.name].singular_sets:
        qs += [np.array(s.q), np.array(s.q) + 1e-6]
    return qs


@pytest.mark.parametrize("name", kin.list_robots())
def test_compiled_control_step_matches_the_numpy_step(name: str) -> None:
    """The one-call compiled step (``rate_step``) and the numpy step give the same q̇ (to
    1e-9 of its size) and the same monitor level and scale, on every bundled arm, for every
    task option, at random, near-limit and exactly singular configurations and several
    periods; and the compiled call really is the path taken (not a fallback)."""
    if not kin.accel.available():
        pytest.skip("numba not installed")
    robot = kin.load_robot(name)
    rng = np.random.default_rng(len(name))
    taken = total = 0
    for opts in STEP_OPTIONS:
        targets = kin.fk(robot, robot.random_q(3, seed=5))
        for monitored in (False, True):
            for k, q in enumerate(_step_configurations(robot)):
                T = targets[k % 3]
                ff = rng.normal(size=6) * 0.05 if k % 2 else None
                dt = (1e-3, 2e-2, 0.1)[k % 3]
                out = []
                for compiled in (True, False):
                    mon = SingularityMonitor(robot) if monitored else None
                    ctrl = ik.ResolvedRateController(robot, monitor=mon, **opts)  # type: ignore[arg-type]
                    previous = kin.accel.enable(compiled)
                    try:
                        if compiled:
                            taken += ctrl._compiled_velocity(q, T, ff, dt) is not None
                            total += 1
                            ctrl.monitor_state = None
                            if mon is not None:
                                mon.reset()
                        qd = ctrl.velocity(q, T, dt, ff)
                    finally:
                        kin.accel.enable(previous)
                    st = ctrl.monitor_state
                    out.append((qd, None if st is None else (st.level, st.scale)))
                (fast, fast_state), (slow, slow_state) = out
                assert np.isfinite(fast).all()
                np.testing.assert_allclose(fast, slow, rtol=0,
                                           atol=1e-9 * max(1.0, np.abs(slow).max()))
                assert fast_state == slow_state or (
                    fast_state[0] == slow_state[0]
                    and abs(fast_state[1] - slow_state[1]) < 1e-9), (q, fast_state, slow_state)
    assert taken >= 0.8 * total, f"compiled step taken {taken} of {total} times"


def test_compiled_step_hands_bad_input_to_the_checked_path() -> None:
    """Bad q or target through the compiled path: the same errors as the numpy path."""
    robot = kin.load_robot("panda")
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, monitor=SingularityMonitor(robot))
    q = robot.random_q(seed=1)
    T = kin.fk(robot, q)
    bad_q = q.copy()
    bad_q[2] = np.nan
    with pytest.raises(InvalidValueError, match=robot.joint_names[2]):
        ctrl.velocity(bad_q, T)
    bad_T = T.copy()
    bad_T[0, 0] = 2.0
    with pytest.raises(InvalidValueError, match="rigid"):
        ctrl.velocity(q, bad_T)
    huge = q.copy()
    huge[0] = 1e200
    with pytest.raises(InvalidValueError):
        ctrl.velocity(huge, T)
    # rotation errors of π and just below (the log map's eigenvector branch): the compiled
    # and numpy steps agree (that branch is accurate to ~1e-8 rad)
    plain = ik.ResolvedRateController(robot, dt=1e-3, velocity_scale=1e3)
    for angle in (np.pi, np.pi - 1e-7, np.pi - 1e-3):
        flip = T @ kin.spatial.transform(R=kin.spatial.axis_angle_to_matrix([1.0, 0, 0], angle))
        fast, slow = both_backends(plain.velocity, q, flip)
        assert np.isfinite(fast).all()
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-6 * np.abs(slow).max())


@pytest.mark.parametrize("shape", [(6, 7), (6, 6), (3, 7), (6, 5), (2, 2), (6, 1)])
def test_jacobi_singular_values_match_lapack(shape: tuple[int, int]) -> None:
    """The kernels' one-sided Jacobi SVD (monitor metric, DLS) against LAPACK: random,
    rank-deficient, badly scaled and zero matrices."""
    if not kin.accel.available():
        pytest.skip("numba not installed")
    kern = kin._engine.compiled_kernels() or pytest.skip("compiled backend off")
    rng = np.random.default_rng(sum(shape))
    m, n = shape
    for trial in range(60):
        A = rng.normal(size=(6, n))
        if trial % 3 == 1:
            A[:, -1] = A[:, 0] * 2.0          # rank deficient
        if trial % 3 == 2:
            A[1] *= 1e-9                       # badly scaled
        if trial == 59:
            A[:] = 0.0
        rows = rng.choice(6, m, replace=False)
        w = rng.uniform(0.2, 3.0, 6)
        ref = np.linalg.svd(A[np.sort(rows)] * w[np.sort(rows)][:, None], compute_uv=False)
        for code, expect in ((1, ref.min()), (3, ref.min() / ref.max() if ref.max() else 0.0),
                             (4, np.prod(ref))):
            mon = np.zeros(7)
            mon[0] = code
            mon[1 + rows] = w[rows]
            got = kern.metric(A, mon)
            assert abs(got - expect) <= 1e-14 * max(1.0, ref.max() ** (n if code == 4 else 1))
        if m <= n:
            x = rng.normal(size=m)
            Jm = A[:m]
            qd, s2, U = kern.dls(Jm, x, 1, 0.0025, 0.0025, 0.0, 1e-12)
            s_ref, U_ref = np.linalg.eigh(Jm @ Jm.T)
            np.testing.assert_allclose(s2, np.maximum(s_ref, 0), rtol=0, atol=1e-12)
            assert (np.diff(s2) >= 0).all()
            np.testing.assert_allclose(U.T @ U, np.eye(m), atol=1e-12)


def test_a_monitor_subclass_with_its_own_update_is_called() -> None:
    """The compiled step computes the monitor's metric itself only for a plain
    SingularityMonitor; a subclass that overrides update() is called through it."""
    robot = kin.load_robot("ur5")
    calls = []

    class Logged(SingularityMonitor):
        def update(self, q, qd=None, *, J=None, dt=None):  # type: ignore[no-untyped-def]
            calls.append(dt)
            return super().update(q, qd, J=J, dt=dt)

    ctrl = ik.ResolvedRateController(robot, monitor=Logged(robot))
    q = robot.random_q(seed=2)
    ctrl.velocity(q, kin.fk(robot, q + 0.1), dt=2e-3)
    assert calls == [2e-3] and ctrl.monitor_state is not None


def test_monitor_diagnostics_do_not_follow_in_place_updates_of_q() -> None:
    """A loop doing ``q += qd * dt`` in place, then reading the state's lazy diagnostics,
    gets the diagnostics of the q the state was made at."""
    robot = kin.load_robot("ur5")
    q = np.array([0.0, -1.2, 1.5, -0.3, 0.02, 0.0])
    qd = np.array([0.0, 0.0, 0.0, 0.0, -0.1, 0.0])
    fresh = SingularityMonitor(robot).update(q.copy(), qd.copy(), dt=1e-3)
    mon = SingularityMonitor(robot)
    state = mon.update(q, qd, dt=1e-3)
    q += 0.5
    qd *= -3.0
    assert state.time_to_singularity == fresh.time_to_singularity
    assert state.certified_time == fresh.certified_time


def test_velocity_and_step_take_their_arguments_in_one_order() -> None:
    """``velocity(q, T, dt, target_twist)`` like ``step``; a twist passed where the period
    goes (the old order) is refused with the order in the message."""
    robot = kin.load_robot("ur5")
    q = np.array([0.2, -1.6, 1.9, -1.9, -1.57, 0.0])
    T = kin.fk(robot, q + 0.05)
    ff = np.array([0.0, 0.0, 0.1, 0.0, 0.0, 0.0])
    ctrl = ik.ResolvedRateController(robot, gain=2.0)
    qd = ctrl.velocity(q, T, 2e-3, ff)
    np.testing.assert_allclose(q + qd * 2e-3, ctrl.step(q, T, 2e-3, ff), atol=1e-15)
    with pytest.raises(kin.InvalidValueError, match=r"velocity\(q, target_T, dt, target_twist\)"):
        ik.ResolvedRateController(robot, dt=2e-3).velocity(q, T, ff)

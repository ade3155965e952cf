"""Singularity measures and monitor: exact against numpy's SVD, closed-form determinants and
known singular configurations of the bundled arms, hysteresis, approach-only scaling, and
the time to singularity against a constant-velocity sweep with known timing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import planar2r_urdf
from scipy.optimize import brentq

import kinematics as kin
from kinematics.jacobian import jacobian_dot_from
from kinematics.singularity import (
    METRICS,
    MonitorState,
    SingularityMeasures,
    SingularityMonitor,
    default_rows,
    default_thresholds,
    measures,
    measures_at,
)

UR5_A2, UR5_A3, UR5_D5 = -0.425, -0.39225, 0.09465
PUMA_A2, PUMA_A3, PUMA_D4 = 0.4318, 0.0203, 0.4318
BATCHES = [(), (1,), (3, 1, 2)]


def ur5_det(q: np.ndarray) -> np.ndarray:
    """a2·a3·s3·s5·(a2·c2 + a3·c23 + d5·s234), UR standard DH (a2, a3 < 0), offsets 0."""
    q2, q3, q4, q5 = q[..., 1], q[..., 2], q[..., 3], q[..., 4]
    return (UR5_A2 * UR5_A3 * np.sin(q3) * np.sin(q5)
            * (UR5_A2 * np.cos(q2) + UR5_A3 * np.cos(q2 + q3) + UR5_D5 * np.sin(q2 + q3 + q4)))


def puma_det(q: np.ndarray) -> np.ndarray:
    """a2·s5·(d4·c3 + a3·s3)·(a2·c2 + a3·c23 − d4·s23), Corke's standard DH (fitted sign
    convention of this model, checked against random configurations)."""
    q2, q3, q5 = q[..., 1], q[..., 2], q[..., 4]
    return (PUMA_A2 * np.sin(q5) * (PUMA_D4 * np.cos(q3) + PUMA_A3 * np.sin(q3))
            * (PUMA_A2 * np.cos(q2) + PUMA_A3 * np.cos(q2 + q3) - PUMA_D4 * np.sin(q2 + q3)))


def sigma_min(robot: kin.Robot, q: np.ndarray) -> float:
    return float(np.linalg.svd(kin.jacobian(robot, q), compute_uv=False)[-1])


def check_against_svd(J: np.ndarray, m: SingularityMeasures, length: float = 1.0,
                      linear: np.ndarray | None = None) -> None:
    rows, cols = J.shape[-2:]
    k = min(rows, cols)
    U, s, Vt = np.linalg.svd(J, full_matrices=False)
    tol = 1e-9
    np.testing.assert_allclose(m.sigma, s, rtol=0, atol=tol)
    np.testing.assert_allclose(m.sigma_min, s[..., -1], rtol=0, atol=tol)
    np.testing.assert_allclose(m.manipulability, np.prod(s, axis=-1), rtol=1e-9, atol=tol)
    np.testing.assert_allclose(m.inverse_condition, s[..., -1] / s[..., 0], rtol=1e-9, atol=tol)
    np.testing.assert_allclose(m.condition, s[..., 0] / s[..., -1], rtol=1e-9)
    np.testing.assert_array_equal(m.rank, np.linalg.matrix_rank(J))
    if rows == cols:
        np.testing.assert_allclose(m.det, np.linalg.det(J), rtol=1e-9, atol=tol)
        np.testing.assert_allclose(np.abs(m.det), m.manipulability, rtol=1e-9, atol=tol)
    else:
        assert np.isnan(m.det).all()
    # singular vectors agree up to sign, and J v = σ u
    u_ref, v_ref = U[..., :, k - 1], Vt[..., k - 1, :]
    sign = np.sign(np.sum(m.joint_motion * v_ref, axis=-1))[..., None]
    np.testing.assert_allclose(m.joint_motion, sign * v_ref, atol=1e-9)
    np.testing.assert_allclose(m.lost_twist, sign * u_ref, atol=1e-9)
    np.testing.assert_allclose((J @ m.joint_motion[..., None])[..., 0],
                               m.sigma_min[..., None] * m.lost_twist, atol=1e-9)
    big = np.take_along_axis(m.joint_motion,
                             np.argmax(np.abs(m.joint_motion), -1)[..., None], -1)
    assert (big > 0).all()
    lin = (np.arange(rows) < 3 if rows == 6 else np.ones(rows, bool)) if linear is None \
        else linear
    if lin.any():
        s_lin = np.linalg.svd(J[..., lin, :], compute_uv=False)
        np.testing.assert_allclose(m.translational_manipulability, np.prod(s_lin, -1),
                                   rtol=1e-9, atol=tol)
    else:
        assert np.isnan(m.translational_manipulability).all()
    if (~lin).any():
        s_rot = np.linalg.svd(J[..., ~lin, :], compute_uv=False)
        np.testing.assert_allclose(m.rotational_manipulability, np.prod(s_rot, -1),
                                   rtol=1e-9, atol=tol)
    else:
        assert np.isnan(m.rotational_manipulability).all()
    s_scaled = np.linalg.svd(J * np.where(lin, 1 / length, 1.0)[:, None], compute_uv=False)
    np.testing.assert_allclose(m.sigma_scaled, s_scaled, atol=tol)
    np.testing.assert_allclose(m.sigma_min_scaled, s_scaled[..., -1], atol=tol)
    np.testing.assert_allclose(m.condition_scaled, s_scaled[..., 0] / s_scaled[..., -1],
                               rtol=1e-9)
    np.testing.assert_allclose(m.inverse_condition_scaled,
                               s_scaled[..., -1] / s_scaled[..., 0], rtol=1e-9, atol=tol)
    assert m.length == length
    assert m.shape == J.shape[:-2]


# --------------------------------------------------------------------------- measures


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("shape", [(6, 7), (6, 6), (6, 2), (3, 7), (2, 2), (1, 4)])
def test_measures_match_svd_on_random_matrices(batch, shape, rng):
    J = rng.normal(size=batch + shape)
    check_against_svd(J, measures(J, length=0.7), length=0.7)


def test_measures_with_explicit_linear_rows(rng):
    J = rng.normal(size=(5, 6, 7))
    for lin in (np.array([True, False, True, False, True, False]), np.zeros(6, bool),
                np.ones(6, bool)):
        check_against_svd(J, measures(J, length=1.3, linear=lin), length=1.3, linear=lin)
        check_against_svd(J[2], measures(J[2], length=1.3, linear=lin), length=1.3, linear=lin)


def test_measures_match_svd_on_robots(robot):
    q = robot.random_q((40,), seed=7)
    J = kin.jacobian(robot, q)
    check_against_svd(J, measures(J, length=robot.reach), length=robot.reach)
    check_against_svd(J[3], measures(J[3], length=robot.reach), length=robot.reach)
    rows = np.array(default_rows(robot))
    m = measures_at(robot, q)
    check_against_svd(J[..., rows, :], m, length=robot.reach, linear=rows < 3)


def test_single_equals_batched(rng):
    J = rng.normal(size=(4, 6, 7))
    J[1, :, 2] = J[1, :, 3]  # a singular one
    mb = measures(J)
    for i in range(4):
        mi, mbi = measures(J[i]), mb[i]
        for name in SingularityMeasures.__dataclass_fields__:
            np.testing.assert_allclose(getattr(mi, name), getattr(mbi, name), rtol=1e-12,
                                       atol=1e-15, err_msg=name)


def test_measures_at_exact_singularities_are_inf_without_warnings():
    J = np.zeros((2, 6, 6))
    J[1, 0, 0] = 2.0
    m = measures(J)  # filterwarnings=error: any division warning fails the test
    assert np.isinf(m.condition).all() and np.isinf(m.condition_scaled).all()
    np.testing.assert_array_equal(m.inverse_condition, [0.0, 0.0])
    np.testing.assert_array_equal(m.rank, [0, 1])
    np.testing.assert_array_equal(m.manipulability, [0.0, 0.0])
    m1 = measures(J[1])
    assert math.isinf(m1.condition) and m1.rank == 1 and m1.sigma_min == 0.0
    # numerically singular (σ_min ~ 1e-17, not exactly 0): still inf, rank drops
    ur5 = kin.load_robot("ur5")
    m = measures_at(ur5, [0.0, -1.2, 1.5, -0.3, 0.0, 0.0])
    assert math.isinf(m.condition) and m.rank == 5 and m.inverse_condition < 1e-15


def test_planar2r_det_is_l1_l2_sin_q2(rng):
    arm = kin.load_robot("planar2r")
    q = arm.random_q((50,), seed=3)
    m = measures(kin.jacobian(arm, q)[..., :2, :])
    np.testing.assert_allclose(m.det, 1.0 * 0.8 * np.sin(q[:, 1]), atol=1e-12)
    np.testing.assert_allclose(m.manipulability, np.abs(m.det), atol=1e-12)
    # 6-row Jacobian: position rows [vx vy vz] give the same translational manipulability
    m6 = measures(kin.jacobian(arm, q))
    np.testing.assert_allclose(m6.translational_manipulability, np.abs(m.det), atol=1e-12)
    for q2 in (0.0, np.pi, -np.pi):
        assert measures_at(arm, [0.4, q2]).sigma_min < 1e-12
        assert measures_at(arm, [0.4, q2 + 0.05]).sigma_min > 1e-3


def test_ur5_det_formula_signed():
    ur5 = kin.load_robot("ur5")
    q = ur5.random_q((100,), seed=11)
    m = measures(kin.jacobian(ur5, q))
    np.testing.assert_allclose(m.det, ur5_det(q), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(m.manipulability, np.abs(ur5_det(q)), rtol=1e-9, atol=1e-13)


def _ur5_shoulder(q2: float, q3: float) -> np.ndarray:
    s234 = -(UR5_A2 * np.cos(q2) + UR5_A3 * np.cos(q2 + q3)) / UR5_D5
    assert abs(s234) < 1
    q4 = np.arcsin(s234) - q2 - q3
    return np.array([0.3, q2, q3, q4, 0.8, -0.4])


@pytest.mark.parametrize("name, q", [
    ("elbow q3=0", [0.3, -1.0, 0.0, -0.7, 0.8, 0.2]),
    ("elbow q3=pi", [0.3, -1.0, np.pi, -0.7, 0.8, 0.2]),
    ("wrist q5=0", [0.3, -1.0, 1.4, -0.7, 0.0, 0.2]),
    ("wrist q5=pi", [0.3, -1.0, 1.4, -0.7, np.pi, 0.2]),
    ("shoulder", _ur5_shoulder(-np.pi / 2, 0.1)),
    ("shoulder 2", _ur5_shoulder(-1.3, -0.6)),
])
def test_ur5_known_singularities(name, q):
    ur5 = kin.load_robot("ur5")
    q = np.asarray(q, dtype=float)
    assert abs(ur5_det(q)) < 1e-12
    m = measures_at(ur5, q)
    assert m.sigma_min < 1e-9, name
    assert m.rank == 5
    J = kin.jacobian(ur5, q)
    np.testing.assert_allclose(m.lost_twist @ J, 0.0, atol=1e-9)  # u in the left null space
    np.testing.assert_allclose(J @ m.joint_motion, 0.0, atol=1e-9)
    for dq in (0.05, -0.05):  # near it, not at it
        assert sigma_min(ur5, q + dq * np.array([0, 1, 1, 1, 1, 0])) > 1e-4, name


def test_ur5_wrist_lost_direction_and_joints():
    ur5 = kin.load_robot("ur5")
    m = measures_at(ur5, [0.0, -1.2, 1.5, -0.3, 0.0, 0.0])
    # axes 4 and 6 align: their opposite rotation is the null motion, a rotation is lost
    assert np.linalg.norm(m.lost_twist[:3]) < 1e-9
    w = np.abs(m.joint_motion)
    assert set(np.argsort(w)[-2:]) <= {1, 2, 3, 5}  # involves the parallel-axis joints
    assert w[4] < 1e-9 and w[0] < 1e-9


def test_puma560_det_formula_and_singularities():
    puma = kin.load_robot("puma560")
    q = puma.random_q((100,), seed=5)
    np.testing.assert_allclose(np.linalg.det(kin.jacobian(puma, q)), puma_det(q), rtol=1e-9,
                               atol=1e-13)
    base = np.array([0.3, 0.6, -0.4, 0.5, 0.7, -0.2])
    q3_elbow = math.atan2(-PUMA_D4, PUMA_A3)  # d4 c3 + a3 s3 = 0

    def shoulder_q2(q3: float) -> float:  # a2 c2 + a3 c23 - d4 s23 = 0
        return math.atan2(PUMA_A2 + PUMA_A3 * math.cos(q3) - PUMA_D4 * math.sin(q3),
                          PUMA_D4 * math.cos(q3) + PUMA_A3 * math.sin(q3))

    cases = {
        "wrist q5=0": {4: 0.0}, "wrist q5=pi": {4: np.pi}, "elbow": {2: q3_elbow},
        "shoulder": {1: shoulder_q2(-0.4)},
    }
    for name, change in cases.items():
        qs = base.copy()
        for i, v in change.items():
            qs[i] = v
        assert abs(puma_det(qs)) < 1e-12, name
        assert measures_at(puma, qs).sigma_min < 1e-9, name
        j = next(iter(change))
        near = qs.copy()
        near[j] += 0.05
        assert sigma_min(puma, near) > 1e-4, name


@pytest.mark.parametrize("q, singular", [
    ([0.3, 0.5, 0.2, 0.0, 0.4, 0.6, 0.1], True),    # q4 = 0: stretched elbow
    ([0.3, 0.0, 0.2, 0.7, 0.4, 0.0, 0.1], True),    # q2 = q6 = 0: axes 1-3 and 5-7 coaxial
    ([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], True),    # all zero (upright)
    ([0.3, 0.0, 0.2, 0.7, 0.4, 0.6, 0.1], False),   # q2 = 0 alone: redundancy absorbs it
    ([0.3, 0.5, 0.2, 0.7, 0.4, 0.0, 0.1], False),   # q6 = 0 alone
])
def test_iiwa_known_singularities(q, singular):
    iiwa = kin.load_robot("iiwa14")
    s = measures_at(iiwa, q).sigma_min
    assert (s < 1e-9) == singular, s
    if singular:
        assert sigma_min(iiwa, np.asarray(q) + 0.05) > 1e-4


def test_measures_getitem():
    J = np.random.default_rng(0).normal(size=(5, 6, 7))
    m = measures(J)
    sub = m[np.array([4, 1])]
    assert sub.shape == (2,)
    np.testing.assert_array_equal(sub.sigma, m.sigma[[4, 1]])
    with pytest.raises(kin.InvalidValueError, match="cannot index the measures of a single"):
        measures(J[0])[0]


@pytest.mark.parametrize("J, kw, exc, match", [
    ("abc", {}, kin.InvalidValueError, "J=.abc.; expected a real"),
    (np.ones(6), {}, kin.ShapeError, r"J: expected shape \(\.\.\., m, n\)"),
    (np.ones((6, 0)), {}, kin.ShapeError, r"m, n >= 1"),
    (np.full((6, 7), np.nan), {}, kin.InvalidValueError, r"J\[0, 0\] is nan"),
    (np.ones((6, 7)), {"length": 0.0}, kin.InvalidValueError,
     r"length=.*expected a finite number > 0 \[m\]"),
    (np.ones((6, 7)), {"length": "x"}, kin.InvalidValueError,
     r"length='x'; expected a real number"),
    (np.ones((6, 7)), {"linear": [True, False]}, kin.ShapeError, r"linear: expected shape"),
    (np.ones((6, 7)), {"linear": np.ones(6)}, kin.ShapeError, r"\(6,\) bool"),
])
def test_measures_bad_input(J, kw, exc, match):
    with pytest.raises(exc, match=match):
        measures(J, **kw)


def test_measures_at_bad_rows():
    panda = kin.load_robot("panda")
    for rows in ([6], [0, 0], [], [0.5], [[0, 1]]):
        with pytest.raises(kin.InvalidValueError, match="expected distinct Jacobian row"):
            measures_at(panda, np.zeros(7), rows=rows)
    with pytest.raises(kin.UnknownLinkError, match="Available link names"):
        measures_at(panda, np.zeros(7), link="nope")


# ----------------------------------------------------------------- J̇ and rates


def test_fast_jacobian_dot_equals_jacobian_dot(robot, rng):
    q = robot.random_q((2, 3), seed=1)
    qd = rng.normal(size=(2, 3, robot.dof))
    J = kin.jacobian(robot, q)
    ref = kin.jacobian_dot(robot, q, qd)
    np.testing.assert_allclose(jacobian_dot_from(J, qd), ref, atol=1e-12)
    np.testing.assert_allclose(jacobian_dot_from(J[1, 2], qd[1, 2]), ref[1, 2], atol=1e-12)


def test_fast_jacobian_dot_on_foreign_robots(foreign_robot, rng):
    q = foreign_robot.random_q((4,), seed=2)
    qd = rng.normal(size=(4, foreign_robot.dof))
    np.testing.assert_allclose(jacobian_dot_from(kin.jacobian(foreign_robot, q), qd),
                               kin.jacobian_dot(foreign_robot, q, qd), atol=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_monitor_rate_matches_finite_differences(robot, metric, rng):
    mon = SingularityMonitor(robot, warn=1e-6, stop=0.0, metric=metric)
    for seed in range(3):
        q = robot.random_q(seed=seed, margin=0.1)
        qd = rng.normal(size=robot.dof)
        st = mon.update(q, qd)
        h = 1e-6
        fd = (mon.update(q + h * qd).value - mon.update(q - h * qd).value) / (2 * h)
        np.testing.assert_allclose(st.rate, fd, rtol=1e-5, atol=1e-7, err_msg=metric)


MIMIC_URDF = planar2r_urdf(extra="""
  <link name="l3"/>
  <joint name="j3" type="revolute"><parent link="tip"/><child link="l3"/>
    <origin xyz="0 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-3" upper="3" velocity="2" effort="10"/>
    <mimic joint="j2" multiplier="0.5" offset="0.1"/></joint>""")


def test_monitor_with_mimic_joints_uses_exact_jacobian_dot():
    robot = kin.robot_from_urdf(MIMIC_URDF, tip="l3")
    mon = SingularityMonitor(robot, warn=0.5, stop=0.1, metric="sigma_min", rows=[0, 1])
    assert not mon._fast_dot
    q, qd = np.array([0.2, 0.7]), np.array([0.3, -0.8])
    st = mon.update(q, qd)
    h = 1e-6
    fd = (mon.update(q + h * qd).value - mon.update(q - h * qd).value) / (2 * h)
    np.testing.assert_allclose(st.rate, fd, rtol=1e-6)


# ----------------------------------------------------------------------- monitor


def test_default_thresholds_table():
    expected = {"planar2r": 2.0, "panda": 2.175, "iiwa14": math.radians(75),
                "ur5": math.pi, "puma560": 1.5}
    for name, slowest in expected.items():
        warn, stop = default_thresholds(kin.load_robot(name))
        assert stop == pytest.approx(0.03 / slowest, rel=1e-12)
        assert warn == pytest.approx(4 * stop, rel=1e-12)


HOMES = {
    "planar2r": [0.0, 1.0],
    "panda": [0, -np.pi / 4, 0, -3 * np.pi / 4, 0, np.pi / 2, np.pi / 4],
    "iiwa14": [0, 0.5, 0, -1.2, 0, 0.8, 0],
    "ur5": [0, -np.pi / 2, np.pi / 2, -np.pi / 2, -np.pi / 2, 0],
    "puma560": [0, np.pi / 4, -np.pi, 0, np.pi / 4, 0],
}


def test_defaults_leave_home_poses_ok(robot):
    mon = SingularityMonitor(robot)
    st = mon.update(HOMES[robot.name], np.zeros(robot.dof))
    assert st.level == "ok" and st.scale == 1.0
    assert st.value > 1.5 * mon.warn
    assert isinstance(st, MonitorState) and math.isinf(st.time_to_singularity)


def _planar_q_with_value(mon: SingularityMonitor, value: float) -> np.ndarray:
    """Planar 2R configuration whose monitored metric equals ``value`` (q2 in (0, 1.5))."""
    f = lambda q2: mon.update([0.0, q2]).value - value  # noqa: E731
    q = np.array([0.0, brentq(f, 1e-9, 1.5, xtol=1e-14)])
    mon.reset()
    return q


def test_hysteresis_does_not_chatter():
    arm = kin.load_robot("planar2r")
    mon = SingularityMonitor(arm, warn=0.2, stop=0.05, metric="sigma_min", hysteresis=0.2)
    seq = [0.35, 0.19, 0.21, 0.19, 0.23, 0.25, 0.19, 0.049, 0.055, 0.049, 0.059, 0.061, 0.3]
    want = ["ok", "warn", "warn", "warn", "warn", "ok", "warn", "stop", "stop", "stop",
            "stop", "warn", "ok"]
    qs = [_planar_q_with_value(mon, v) for v in seq]
    got = [mon.update(q).level for q in qs]
    assert got == want
    # straight from stop to far above warn: ok
    mon.reset()
    assert [mon.update(q).level for q in (qs[7], qs[0])] == ["stop", "ok"]


def test_hysteresis_zero_switches_at_thresholds():
    arm = kin.load_robot("planar2r")
    mon = SingularityMonitor(arm, warn=0.2, stop=0.05, metric="sigma_min", hysteresis=0.0)
    qs = [_planar_q_with_value(mon, v) for v in (0.19, 0.201, 0.049, 0.051)]
    assert [mon.update(q).level for q in qs] == ["warn", "ok", "stop", "warn"]


UR5_NEAR_WRIST = np.array([0.0, -1.2, 1.5, -0.3, 0.02, 0.0])
TOWARD = np.array([0, 0, 0, 0, -0.1, 0])


def test_scale_only_when_approaching():
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    st = mon.update(UR5_NEAR_WRIST, TOWARD)
    assert st.level == "warn" and st.approaching and st.rate < 0
    expected = (st.value - mon.stop) / (mon.warn - mon.stop)
    assert 0 < st.scale < 1 and st.scale == pytest.approx(expected, rel=1e-12)
    away = mon.update(UR5_NEAR_WRIST, -TOWARD)
    assert away.scale == 1.0 and not away.approaching and math.isinf(away.time_to_singularity)
    assert mon.update(UR5_NEAR_WRIST, np.zeros(6)).scale == 1.0
    # motion that leaves σ unchanged (base rotation): not approaching
    assert mon.update(UR5_NEAR_WRIST, [0.7, 0, 0, 0, 0, 0]).scale == 1.0
    # inside the stop zone: approaching is halted, leaving is at full speed
    q_stop = UR5_NEAR_WRIST.copy()
    q_stop[4] = 0.005
    mon2 = SingularityMonitor(ur5)  # starts inside the stop zone: must not freeze
    leave = mon2.update(q_stop, -TOWARD)
    assert leave.level == "stop" and leave.scale == 1.0
    assert mon2.update(q_stop, TOWARD).scale == 0.0


def test_scale_falls_from_one_at_warn_to_zero_at_stop():
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    scales, values = [], []
    for q5 in np.linspace(0.2, 0.001, 200):  # (at exactly 0, σ = |f| can only grow)
        q = UR5_NEAR_WRIST.copy()
        q[4] = q5
        st = mon.update(q, TOWARD)
        scales.append(st.scale)
        values.append(st.value)
    scales, values = np.array(scales), np.array(values)
    assert np.all(np.diff(scales) <= 1e-12)  # monotone while approaching
    np.testing.assert_array_equal(scales[values >= mon.warn], 1.0)
    np.testing.assert_array_equal(scales[values <= mon.stop], 0.0)
    band = (values > mon.stop) & (values < mon.warn)
    assert band.sum() > 5 and np.all((scales[band] > 0) & (scales[band] < 1))


def test_monitor_without_qd_uses_trend():
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    first = mon.update(UR5_NEAR_WRIST)
    assert first.approaching and first.scale < 1 and math.isinf(first.time_to_singularity)
    assert mon.update(UR5_NEAR_WRIST).scale == 1.0  # not moving: not approaching
    q = UR5_NEAR_WRIST.copy()
    q[4] = 0.018
    assert mon.update(q).approaching
    q[4] = 0.019
    assert mon.update(q).scale == 1.0


def test_time_to_singularity_against_ur5_wrist_sweep():
    """Constant velocity into q5 = 0 (with base and tool rotation, which leave σ unchanged):
    the singularity is reached at exactly T = 0.3 / 0.25 = 1.2 s."""
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    q0 = np.array([0.2, -1.2, 1.5, -0.3, 0.3, 0.1])
    qd = np.array([0.5, 0.0, 0.0, 0.0, -0.25, 0.7])
    T = 1.2
    t = np.linspace(0.0, T, 241)[:-1]
    tts = np.array([mon.update(q0 + qd * ti, qd).time_to_singularity for ti in t])
    remaining = T - t
    rel = (tts - remaining) / remaining
    assert np.all(rel[remaining <= 0.6] < 0.11) and np.all(rel[remaining <= 0.6] > -0.01)
    assert np.all(np.abs(rel[remaining <= 0.3]) < 0.03)
    assert np.all(np.abs(rel[remaining <= 0.1]) < 0.005)
    # first-order: the relative error vanishes (quadratically) as the singularity nears
    assert abs(rel[-1]) < 5e-4  # 5 ms before the singularity
    assert np.all(np.diff(tts[remaining <= 0.6]) < 0)
    # levels along the way: ok -> warn -> stop, and the arm would be halted before T
    levels = [mon.update(q0 + qd * ti, qd).level for ti in t]
    assert levels[0] == "ok" and levels[-1] == "stop" and "warn" in levels
    # past the singularity, moving away: inf
    after = mon.update(q0 + qd * (T + 0.05), qd)
    assert math.isinf(after.time_to_singularity) and after.scale == 1.0


def test_time_to_singularity_estimates_crossing_with_several_joints():
    """Elbow sweep of the UR5 (q3 -> 0) with other joints moving too: the estimate converges
    to the true crossing time found by root finding on det J."""
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    q0 = np.array([0.1, -1.0, 0.4, -0.8, 1.1, 0.0])
    qd = np.array([0.2, 0.1, -0.5, 0.15, 0.05, 0.3])
    t_cross = brentq(lambda t: ur5_det(q0 + qd * t), 0.0, 0.9)
    assert t_cross == pytest.approx(0.8, abs=1e-12)  # q3 = 0.4 - 0.5 t
    for frac, tol in ((0.5, 0.1), (0.9, 0.01), (0.99, 1e-3)):
        t = frac * t_cross
        st = mon.update(q0 + qd * t, qd)
        assert st.time_to_singularity == pytest.approx(t_cross - t, rel=tol)


def test_monitor_rows_and_planar_default():
    arm = kin.load_robot("planar2r")
    mon = SingularityMonitor(arm)
    assert mon.rows == (0, 1) == default_rows(arm)
    st = mon.update([0.0, 1e-12], [0.0, -1.0])
    assert st.level == "stop" and st.measures.sigma.shape == (2,)
    # the full 6-row Jacobian of the planar arm never loses column rank (ω_z row)
    full = SingularityMonitor(arm, rows=range(6))
    assert full.update([0.0, 0.0]).measures.sigma_min > 0.1


def test_monitor_state_measures_equal_measures_at(robot):
    mon = SingularityMonitor(robot)
    q = robot.random_q(seed=4)
    st = mon.update(q, np.ones(robot.dof))
    ref = measures_at(robot, q)
    for name in SingularityMeasures.__dataclass_fields__:
        np.testing.assert_allclose(getattr(st.measures, name), getattr(ref, name),
                                   rtol=1e-12, atol=1e-15, err_msg=name)


def test_monitor_with_resolved_rate_controller():
    ik = pytest.importorskip("kinematics.ik")
    if not hasattr(ik, "ResolvedRateController"):
        pytest.skip("no ResolvedRateController")
    ur5 = kin.load_robot("ur5")
    mon = SingularityMonitor(ur5)
    ctrl = ik.ResolvedRateController(ur5, monitor=mon, dt=0.01)
    q = np.array([0.0, -1.2, 1.5, -0.3, 0.2, 0.0])
    # target: the pose at the wrist singularity, so the controller drives straight into it
    target = kin.fk(ur5, [0.0, -1.2, 1.5, -0.3, -0.2, 0.0])
    dt, values = 0.01, []
    for _ in range(300):
        qd = ctrl.velocity(q, target)
        q = q + dt * qd
        values.append(mon.update(q).value)
    assert min(values) > 0.5 * mon.stop  # slowed down and never crossed into the singularity


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"metric": "nope"}, kin.InvalidValueError, r"metric='nope'; expected one of \["),
    ({"metric": "manipulability"}, kin.InvalidValueError, "has no default thresholds"),
    ({"warn": 0.01, "stop": 0.02}, kin.InvalidValueError, "0 <= stop < warn"),
    ({"warn": 0.01, "stop": -0.1}, kin.InvalidValueError, "0 <= stop < warn"),
    ({"warn": math.nan, "stop": 0.0}, kin.InvalidValueError, "warn=nan; expected a finite number"),
    ({"warn": "a", "stop": 0.0}, kin.InvalidValueError, "warn=.a.; expected a real number"),
    ({"hysteresis": -0.1}, kin.InvalidValueError, r"hysteresis=-0.1; expected"),
    ({"hysteresis": None}, kin.InvalidValueError, "hysteresis=None; expected a real number"),
    ({"rows": [7]}, kin.InvalidValueError, "distinct Jacobian row indices"),
    ({"length": -1}, kin.InvalidValueError, r"length=.*expected a finite number > 0 \[m\]"),
    ({"link": "nope"}, kin.UnknownLinkError, "'nope' does not exist"),
])
def test_monitor_bad_construction(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        SingularityMonitor(kin.load_robot("panda"), **kwargs)


def test_monitor_bad_update():
    mon = SingularityMonitor(kin.load_robot("panda"))
    with pytest.raises(kin.ShapeError, match=r"update\(\) takes one configuration"):
        mon.update(np.zeros((2, 7)))
    with pytest.raises(kin.ShapeError, match=r"q: expected shape \(\.\.\., 7\)"):
        mon.update(np.zeros(6))
    with pytest.raises(kin.ShapeError, match=r"qd: expected shape \(\.\.\., 7\)"):
        mon.update(np.zeros(7), np.zeros(6))
    with pytest.raises(kin.InvalidValueError, match=r"qd\[0\] is inf; expected finite"):
        mon.update(np.zeros(7), np.full(7, np.inf))
    with pytest.raises(kin.InvalidValueError, match="qd=.fast.; expected numeric"):
        mon.update(np.zeros(7), "fast")
    with pytest.raises(kin.InvalidValueError, match="expected finite values"):
        mon.update(np.full(7, np.nan))
    with pytest.raises(kin.InvalidValueError, match="jog: expected a positive"):
        default_thresholds(mon.robot, jog=0)


def test_default_rows_detects_planar_arms(tmp_path):
    p2 = kin.robot_from_urdf(planar2r_urdf(0.5, 0.4))
    assert default_rows(p2) == (0, 1)
    assert default_rows(kin.load_robot("ur5")) == (0, 1, 2, 3, 4, 5)
    mon = SingularityMonitor(p2)
    assert mon.update([0.1, 0.0]).level == "stop"


def test_update_with_a_precomputed_jacobian_is_the_same():
    ur5 = kin.load_robot("ur5")
    q = np.array([0.0, -1.2, 1.5, -0.3, 0.05, 0.0])
    qd = np.array([0.0, 0.0, 0.0, 0.0, -0.1, 0.0])
    a = SingularityMonitor(ur5).update(q, qd)
    b = SingularityMonitor(ur5).update(q, qd, J=kin.jacobian(ur5, q))
    assert (a.level, a.scale, a.time_to_singularity) == (b.level, b.scale, b.time_to_singularity)
    np.testing.assert_array_equal(a.measures.sigma, b.measures.sigma)
    with pytest.raises(kin.ShapeError, match=r"J: expected shape \(6, 6\) Jacobian at q"):
        SingularityMonitor(ur5).update(q, qd, J=np.zeros((6, 5)))

"""Tests of kinematics.ik: position IK (solve) and resolved-rate control."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from conftest import BUNDLED, MIXED_URDF, planar2r_urdf
from reference import ik_lm

import kinematics as kin
from kinematics import ik
from kinematics.exceptions import InvalidValueError, ShapeError, UnknownLinkError


def errors(robot: kin.Robot, q: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position and rotation errors recomputed independently with spatial.pose_error."""
    e = kin.spatial.pose_error(kin.fk(robot, q), T)
    return np.linalg.norm(e[..., :3], axis=-1), np.linalg.norm(e[..., 3:], axis=-1)


def inside(robot: kin.Robot, q: np.ndarray) -> np.ndarray:
    lim = robot.joint_limits
    return np.all((q >= lim[:, 0]) & (q <= lim[:, 1]), axis=-1)


def tight_2r(lo: float, hi: float) -> kin.Robot:
    """Planar 2R (l1 = 1.0 m, l2 = 0.8 m) with both joints limited to [lo, hi]."""
    text = planar2r_urdf().replace('lower="-3.14" upper="3.14"', f'lower="{lo}" upper="{hi}"')
    return kin.robot_from_urdf(text)


# --------------------------------------------------------------------------- solve


def test_solve_converges_from_default_seed(robot: kin.Robot) -> None:
    Q = robot.random_q(20, seed=3)
    T = kin.fk(robot, Q)
    res = ik.solve(robot, T)
    assert res.success.all()
    pos, rot = errors(robot, res.q, T)
    assert (pos <= 1e-6).all() and (rot <= 1e-6).all()
    assert inside(robot, res.q).all()


def test_solve_converges_from_near_seed(robot: kin.Robot) -> None:
    Q = robot.random_q(10, seed=4, margin=0.05)
    q0 = Q + np.random.default_rng(0).normal(scale=0.05, size=Q.shape)
    res = ik.solve(robot, kin.fk(robot, Q), np.clip(q0, *robot.joint_limits.T), restarts=0)
    assert res.success.all()
    assert (res.iterations <= 10).all()  # quadratic-ish convergence near the solution


def test_solve_converges_from_far_seed(robot: kin.Robot) -> None:
    Q = robot.random_q(10, seed=5)
    far = robot.random_q(10, seed=6)  # unrelated configurations
    res = ik.solve(robot, kin.fk(robot, Q), far)
    assert res.success.all()
    assert inside(robot, res.q).all()


def test_solve_foreign_urdf(foreign_robot: kin.Robot) -> None:
    T = kin.fk(foreign_robot, foreign_robot.random_q(10, seed=7))
    res = ik.solve(foreign_robot, T)
    assert res.success.all()


def test_single_target_returns_scalars() -> None:
    robot = kin.load_robot("panda")
    res = ik.solve(robot, kin.fk(robot, robot.random_q(seed=1)))
    assert res.q.shape == (7,)
    assert isinstance(res.success, bool) and res.success
    assert isinstance(res.pos_error, float) and isinstance(res.rot_error, float)
    assert isinstance(res.iterations, int)
    assert not res.q.flags.writeable
    with pytest.raises(AttributeError):
        res.success = False  # type: ignore[misc]


def test_unreachable_target_fails_quickly() -> None:
    robot = kin.load_robot("panda")
    T = kin.spatial.transform(p=[10.0, 0.0, 0.0])
    res = ik.solve(robot, T)
    assert res.success is False
    assert res.iterations <= 60  # beyond reach: one attempt, no restarts
    assert 10.0 - robot.reach <= res.pos_error <= 10.0
    assert inside(robot, res.q)
    # the answer is the arm stretched toward the target
    pos, _ = errors(robot, res.q, T)
    assert pos == pytest.approx(res.pos_error, abs=1e-12)


def test_target_needing_joints_outside_limits_is_not_a_success() -> None:
    robot = tight_2r(-0.5, 0.5)
    # q2 = ±1.2 (both elbow branches) are outside [-0.5, 0.5]: unreachable inside the limits
    T = kin.fk(robot, [0.3, 1.2])
    res = ik.solve(robot, T, restarts=10)
    assert res.success is False
    assert inside(robot, res.q)
    assert res.pos_error > 1e-2
    # without limits the same target is solved
    free = tight_2r(-3.14, 3.14)
    assert ik.solve(free, T).success


def test_success_is_honest_in_a_mixed_batch() -> None:
    robot = kin.load_robot("ur5")
    T = kin.fk(robot, robot.random_q(6, seed=8))
    T[2, :3, 3] = [5.0, 0.0, 0.0]      # unreachable
    T[4, :3, 3] *= 1.6                  # probably outside the workspace shell
    res = ik.solve(robot, T, restarts=8, tol_pos=1e-7, tol_rot=1e-7)
    pos, rot = errors(robot, res.q, T)
    np.testing.assert_allclose(res.pos_error, pos, atol=1e-12)
    np.testing.assert_allclose(res.rot_error, rot, atol=1e-12)
    np.testing.assert_array_equal(res.success, (pos <= 1e-7) & (rot <= 1e-7))
    assert not res.success[2]
    assert res.success[[0, 1, 3, 5]].all()
    assert inside(robot, res.q).all()


def test_batched_matches_per_target() -> None:
    robot = kin.load_robot("panda")
    T = kin.fk(robot, robot.random_q(8, seed=9))
    T[5, :3, 3] = [0.0, 0.0, 3.0]
    batched = ik.solve(robot, T, restarts=10)
    singles = [ik.solve(robot, Tk, restarts=10) for Tk in T]
    assert batched.q.shape == (8, 7)
    for f in ("success", "pos_error", "rot_error", "iterations"):
        assert getattr(batched, f).shape == (8,)
    np.testing.assert_array_equal(batched.success, [s.success for s in singles])
    np.testing.assert_array_equal(batched.iterations, [s.iterations for s in singles])
    np.testing.assert_allclose(batched.q, [s.q for s in singles], atol=1e-8)


def test_batch_shape_is_kept_and_q0_broadcasts() -> None:
    robot = kin.load_robot("iiwa14")
    Q = robot.random_q((2, 3), seed=10)
    res = ik.solve(robot, kin.fk(robot, Q), q0=np.zeros(7))
    assert res.q.shape == (2, 3, 7)
    assert res.success.shape == res.pos_error.shape == res.iterations.shape == (2, 3)
    assert res.success.all()


def test_deterministic_given_seed() -> None:
    robot = kin.load_robot("puma560")
    T = kin.fk(robot, robot.random_q(10, seed=11))
    a = ik.solve(robot, T, robot.random_q(10, seed=12), seed=3)
    b = ik.solve(robot, T, robot.random_q(10, seed=12), seed=3)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.iterations, b.iterations)


def test_restarts_use_the_seed() -> None:
    robot = tight_2r(-0.5, 0.5)
    T = kin.fk(robot, [0.3, 1.2])  # never converges: every restart is used
    a = ik.solve(robot, T, seed=1, restarts=5)
    b = ik.solve(robot, T, seed=2, restarts=5)
    assert a.iterations > 5 and b.iterations > 5
    assert not np.array_equal(a.q, b.q) or a.iterations != b.iterations


def test_solve_other_link() -> None:
    robot = kin.load_robot("panda")
    q = robot.random_q(seed=13)
    T = kin.fk(robot, q, link="panda_link7")
    res = ik.solve(robot, T, link="panda_link7")
    assert res.success
    e = kin.spatial.pose_error(kin.fk(robot, res.q, link="panda_link7"), T)
    assert np.linalg.norm(e) <= 2e-6


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"target_T": np.eye(3)}, ShapeError, r"target_T: expected shape \(4, 4\) or \(\.\.\., 4, 4\)"),
    ({"target_T": np.full((4, 4), np.nan)}, InvalidValueError, "target_T is not finite"),
    ({"target_T": np.diag([2.0, 1.0, 1.0, 1.0])}, InvalidValueError, "not orthonormal"),
    ({"target_T": np.diag([1.0, 1.0, -1.0, 1.0])}, InvalidValueError, "det \\+1"),
    ({"target_T": np.ones((4, 4))}, InvalidValueError, "last row"),
    ({"target_T": np.stack([np.eye(4), np.diag([1.0, 2, 1, 1])])}, InvalidValueError,
     r"target_T\[1\] has a rotation block"),
    ({"target_T": "eye"}, InvalidValueError, "expected a numeric"),
    ({"q0": np.zeros(6)}, ShapeError, r"q0: expected shape \(\.\.\., 7\)"),
    ({"q0": np.zeros((3, 7))}, ShapeError, "q0: expected shape .*broadcastable"),
    ({"q0": [np.nan] * 7}, InvalidValueError, "q0.*expected finite"),
    ({"tol_pos": 0.0}, InvalidValueError, "tol_pos=0.0; expected a finite number > 0"),
    ({"tol_rot": np.inf}, InvalidValueError, "tol_rot=inf"),
    ({"max_iter": 0}, InvalidValueError, "max_iter=0; expected an integer >= 1"),
    ({"restarts": -1}, InvalidValueError, "restarts=-1"),
    ({"restarts": 2.5}, InvalidValueError, "restarts=2.5"),
    ({"damping_bias": -1.0}, InvalidValueError, "damping_bias=-1.0"),
    ({"damping_bias": 0.0}, InvalidValueError, "damping_bias=0.0; expected a finite number > 0"),
    ({"link": "nope"}, UnknownLinkError, "link 'nope' does not exist"),
    # issue 15: refused up front, whether or not a restart would have needed the seed
    ({"seed": -1}, InvalidValueError, "seed=-1; expected an integer >= 0"),
    ({"seed": 1.5}, InvalidValueError, "seed=1.5; expected an integer >= 0"),
    ({"seed": None}, InvalidValueError, "seed=None; expected an integer >= 0"),
    ({"seed": True}, InvalidValueError, "seed=True; expected an integer"),
    ({"tol_pos": "abc"}, InvalidValueError, "tol_pos='abc'; expected a real number"),
    ({"tol_rot": np.nan}, InvalidValueError, "tol_rot=nan; expected a finite number > 0"),
    ({"patience": 0}, InvalidValueError, "patience=0; expected an integer >= 1"),
    ({"max_time": -1}, InvalidValueError, "max_time=-1; expected a finite number > 0"),
    ({"max_time": 0.0}, InvalidValueError, "max_time=0.0; expected a finite number > 0"),
    ({"max_time": "1"}, InvalidValueError, "max_time='1'; expected a real number"),
    ({"max_time": np.inf}, InvalidValueError, "max_time=inf; expected a finite number"),
    ({"mask": [1, 1, 1, 0, 0]}, ShapeError, r"mask: expected shape \(\) or \(6,\)"),
    ({"mask": np.ones((2, 6))}, ShapeError, r"mask: expected shape .* got \(2, 6\)"),
    ({"mask": [1, 1, 1, -1, 0, 0]}, InvalidValueError,
     r"mask=\[1.0, 1.0, 1.0, -1.0, 0.0, 0.0\]; expected finite weights >= 0"),
    ({"mask": [1, 1, np.nan, 0, 0, 0]}, InvalidValueError, r"mask=\[1.0, 1.0, nan, .*finite"),
    ({"mask": [0, 0, 0, 0, 0, 0]}, InvalidValueError,
     r"mask=\[0.0, .*\]; expected at least one weight > 0"),
    ({"mask": 0.0}, InvalidValueError, "expected at least one weight > 0"),
    ({"mask": "xyz"}, InvalidValueError, "mask='xyz'; expected weights >= 0"),
    ({"mask": np.ma.masked_array(np.ones(6))}, InvalidValueError, "mask: masked arrays"),
    ({"mask": [1j, 1, 1, 1, 1, 1]}, InvalidValueError, "mask: complex values"),
    ({"nearest": "yes"}, InvalidValueError, "nearest='yes'; expected True or False"),
    ({"nearest": 1}, InvalidValueError, "nearest=1; expected True or False"),
])
def test_solve_bad_input(kwargs: dict, exc: type, match: str) -> None:
    robot = kin.load_robot("panda")
    args = {"target_T": np.eye(4), **kwargs}
    T = args.pop("target_T")
    with pytest.raises(exc, match=match):
        ik.solve(robot, T, **args)


def test_bad_arguments_are_refused_even_when_the_first_attempt_converges() -> None:
    robot = kin.load_robot("panda")
    q = robot.random_q(seed=2)
    T = kin.fk(robot, q)
    assert ik.solve(robot, T, q).iterations == 1          # no restart needs the seed
    for kwargs in ({"seed": -1}, {"seed": 1.5}, {"max_time": -1.0}, {"mask": [1] * 5}):
        with pytest.raises((InvalidValueError, ShapeError), match=next(iter(kwargs))):
            ik.solve(robot, T, q, **kwargs)


@pytest.mark.parametrize("angle", [0.0, 1e-8, 0.5, 3.0, np.pi - 1e-4, np.pi - 2e-6,
                                   np.pi - 1e-6, np.pi - 5e-7, np.pi - 1e-9, np.pi])
def test_rotation_error_is_the_angle_up_to_pi(angle: float) -> None:
    """With one evaluation (max_iter=1) the answer is q0 and rot_error is the angle between
    the target and fk(q0): closed form, including the log map's branch near π."""
    robot = kin.load_robot("panda")
    q0 = robot.random_q(seed=34)
    T0 = kin.fk(robot, q0)
    axes = np.random.default_rng(35).normal(size=(5, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    T = np.repeat(T0[None], 5, axis=0)
    T[:, :3, :3] = kin.spatial.axis_angle_to_matrix(axes, angle) @ T0[:3, :3]
    res = ik.solve(robot, T, q0, max_iter=1, restarts=0)
    np.testing.assert_array_equal(res.q, np.broadcast_to(q0, (5, 7)))
    np.testing.assert_array_equal(res.iterations, 1)
    np.testing.assert_allclose(res.rot_error, angle, rtol=0, atol=2e-9)
    assert (res.pos_error == 0.0).all()
    for k in range(5):
        one = ik.solve(robot, T[k], q0, max_iter=1, restarts=0)
        assert one.rot_error == res.rot_error[k]


# --------------------------------------------------------------------------- solve: mask


def random_orientations(robot: kin.Robot, positions: np.ndarray, seed: int) -> np.ndarray:
    """Targets at ``positions`` (n, 3) with the orientations of unrelated configurations."""
    T = kin.fk(robot, robot.random_q(len(positions), seed=seed)).copy()
    T[:, :3, 3] = positions
    return T


@pytest.mark.parametrize(("tip", "dof"), [("wrist_2_link", 5), ("wrist_1_link", 4)])
def test_position_only_ik_for_4_and_5_dof_arms(tip: str, dof: int) -> None:
    robot = kin.load_robot("ur5", tip=tip)
    assert robot.dof == dof
    p = kin.fk(robot, robot.random_q(30, seed=20))[:, :3, 3]     # reachable positions
    T = random_orientations(robot, p, seed=21)                  # orientations it cannot reach
    full = ik.solve(robot, T, restarts=5)
    assert not full.success.any() and np.median(full.pos_error) > 1e-3   # 6-D: impossible
    res = ik.solve(robot, T, mask=[1, 1, 1, 0, 0, 0])
    assert res.success.all()
    pos = np.linalg.norm(kin.fk(robot, res.q)[:, :3, 3] - p, axis=1)    # recomputed
    assert (pos <= 1e-6).all()
    np.testing.assert_allclose(res.pos_error, pos, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(res.rot_error, 0.0)          # no rotation axis is kept
    assert inside(robot, res.q).all()


def test_planar_2r_mask_keeps_x_and_y_only() -> None:
    robot = kin.load_robot("planar2r")                         # l1 = 1.0 m, l2 = 0.8 m
    rng = np.random.default_rng(22)
    radius = rng.uniform(0.3, 1.75, 20)                         # inside the annulus
    angle = rng.uniform(-np.pi, np.pi, 20)
    p = np.stack([radius * np.cos(angle), radius * np.sin(angle), rng.uniform(-1, 1, 20)], 1)
    T = random_orientations(robot, p, seed=23)                  # z and rotation: ignored
    res = ik.solve(robot, T, mask=[1, 1, 0, 0, 0, 0], tol_pos=1e-9)
    assert res.success.all()
    xy = kin.fk(robot, res.q)[:, :2, 3]
    np.testing.assert_allclose(xy, p[:, :2], atol=1e-9)
    # closed form: |p_xy| = |l1 + l2 e^{i q2}| fixes cos q2
    c2 = (radius**2 - 1.0 - 0.64) / (2 * 0.8)
    np.testing.assert_allclose(np.cos(res.q[:, 1]), c2, atol=1e-8)
    np.testing.assert_array_equal(res.rot_error, 0.0)


def test_mask_weights_scale_rows_but_success_ignores_them() -> None:
    robot = kin.load_robot("iiwa14")
    T = kin.fk(robot, robot.random_q(20, seed=24))
    plain = ik.solve(robot, T)
    weighted = ik.solve(robot, T, mask=[2.0, 2.0, 2.0, 0.5, 0.5, 0.5])
    assert plain.success.all() and weighted.success.all()
    pos, rot = errors(robot, weighted.q, T)
    assert (pos <= 1e-6).all() and (rot <= 1e-6).all()
    # a mask of ones is no mask: the same bits
    ones = ik.solve(robot, T, mask=np.ones(6))
    np.testing.assert_array_equal(ones.q, plain.q)


def test_dropping_one_rotation_axis() -> None:
    """Tool axis pointing: keep x, y, z and the rotation about base x and y."""
    robot = kin.load_robot("panda")
    Q = robot.random_q(10, seed=25)
    T = kin.fk(robot, Q)
    spun = T.copy()                                # orientation turned about base z
    spun[:, :3, :3] = kin.spatial.axis_angle_to_matrix([0, 0, 1], 0.7) @ T[:, :3, :3]
    res = ik.solve(robot, spun, mask=[1, 1, 1, 1, 1, 0])
    e = kin.spatial.pose_error(kin.fk(robot, res.q), spun)
    assert res.success.all()
    assert (np.linalg.norm(e[:, :3], axis=1) <= 1e-6).all()
    assert (np.linalg.norm(e[:, 3:5], axis=1) <= 1e-6).all()
    np.testing.assert_allclose(res.rot_error, np.linalg.norm(e[:, 3:5], axis=1), atol=1e-12)
    assert (np.abs(e[:, 5]) > 1e-3).any()          # the dropped axis was not solved for


# --------------------------------------------------------------------------- solve: joints


def continuous_2r() -> kin.Robot:
    return kin.robot_from_urdf(planar2r_urdf().replace('type="revolute"', 'type="continuous"'))


@pytest.mark.parametrize("q0", [[-3.0, 0.5], [-3.1, 0.4], [2.5, 0.6]])
def test_continuous_joints_come_back_wrapped(q0: list[float]) -> None:
    robot = continuous_2r()
    assert np.isinf(robot.joint_limits).all()
    T = kin.fk(robot, [3.0, 0.5])
    res = ik.solve(robot, T, q0=q0, tol_pos=1e-12, tol_rot=1e-12)
    assert res.success
    np.testing.assert_allclose(res.q, [3.0, 0.5], atol=1e-9)   # not 3.0 − 2π = −3.283
    pos, rot = errors(robot, res.q, T)
    assert pos <= 1e-12 and rot <= 1e-12


def test_wrap_range_is_half_open_at_pi() -> None:
    robot = continuous_2r()
    Q = np.array([[np.pi, -np.pi], [-np.pi + 1e-3, 2.0], [0.1, -3.0]])
    res = ik.solve(robot, kin.fk(robot, Q), q0=Q)              # q0 is the answer
    assert res.success.all()
    assert ((res.q > -np.pi) & (res.q <= np.pi)).all()
    np.testing.assert_allclose(res.q[0], [np.pi, np.pi], atol=1e-12)
    np.testing.assert_allclose(res.q[1:], Q[1:], atol=1e-12)


def test_reach_bound_counts_prismatic_travel() -> None:
    extra = """<link name="slide"/>
  <joint name="j3" type="prismatic"><parent link="tip"/><child link="slide"/>
    <axis xyz="1 0 0"/><limit lower="0" upper="1.5" velocity="1" effort="10"/></joint>"""
    robot = kin.robot_from_urdf(planar2r_urdf(extra=extra), tip="slide")
    q = np.array([0.2, 0.1, 1.4])                               # 3.2 m out: beyond l1 + l2
    res = ik.solve(robot, kin.fk(robot, q), q0=[0.0, 0.0, 0.0])
    assert res.success
    assert np.linalg.norm(kin.fk(robot, res.q)[:3, 3]) > 1.8


def test_position_only_on_a_chain_with_mimic_prismatic_and_continuous_joints() -> None:
    robot = kin.robot_from_urdf(MIXED_URDF, tip="g")   # continuous, prismatic, mimics
    assert robot.dof == 4 and robot.joint_types[0] == "continuous"
    p = kin.fk(robot, robot.random_q(20, seed=32))[:, :3, 3]
    T = random_orientations(robot, p, seed=33)
    res = ik.solve(robot, T, mask=[1, 1, 1, 0, 0, 0])
    assert res.success.all()
    np.testing.assert_allclose(kin.fk(robot, res.q)[:, :3, 3], p, atol=1e-6)
    assert ((res.q[:, 0] > -np.pi) & (res.q[:, 0] <= np.pi)).all()
    assert inside(robot, res.q).all()
    alone = np.array([ik.solve(robot, Tk, mask=[1, 1, 1, 0, 0, 0]).q for Tk in T])
    np.testing.assert_array_equal(alone, res.q)


# --------------------------------------------------------------------------- solve: options


def test_max_time_stops_a_hopeless_search() -> None:
    robot = tight_2r(-0.5, 0.5)
    T = kin.fk(robot, [0.3, 1.2])                  # needs q2 = ±1.2: never converges
    res = ik.solve(robot, T, restarts=10**6, max_time=0.05)
    assert res.success is False
    assert 1 <= res.iterations < 10**6             # far from the 60 · 10⁶ the budget allows
    assert inside(robot, res.q)
    pos, _ = errors(robot, res.q, T)
    assert pos == pytest.approx(res.pos_error, abs=1e-12)


def test_max_time_not_reached_changes_nothing() -> None:
    robot = kin.load_robot("ur5")
    T = kin.fk(robot, robot.random_q(20, seed=26))
    a = ik.solve(robot, T)
    b = ik.solve(robot, T, max_time=1e6)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.iterations, b.iterations)
    c = ik.solve(robot, T[3], max_time=1e6)
    np.testing.assert_array_equal(c.q, a.q[3])


def test_max_time_in_a_batch_returns_every_target() -> None:
    robot = tight_2r(-0.5, 0.5)
    T = kin.fk(robot, np.array([[0.3, 1.2], [0.2, 0.3], [0.1, -1.0]]))
    res = ik.solve(robot, T, restarts=10**6, max_time=0.05)
    assert res.q.shape == (3, 2)
    assert not res.success[0] and not res.success[2]
    assert inside(robot, res.q).all()
    pos, rot = errors(robot, res.q, T)
    np.testing.assert_allclose(res.pos_error, pos, atol=1e-12)


def two_r_solutions(p: np.ndarray) -> np.ndarray:
    """Both (elbow up / down) joint solutions ``(2, 2)`` of the planar 2R for point ``p``."""
    r2 = p[0] ** 2 + p[1] ** 2
    q2 = np.arccos((r2 - 1.0 - 0.64) / 1.6)
    out = []
    for s in (q2, -q2):
        q1 = np.arctan2(p[1], p[0]) - np.arctan2(0.8 * np.sin(s), 1.0 + 0.8 * np.cos(s))
        out.append([np.angle(np.exp(1j * q1)), s])
    return np.array(out)


def test_nearest_returns_the_solution_closest_to_q0() -> None:
    robot = kin.load_robot("planar2r")
    rng = np.random.default_rng(27)
    radius = rng.uniform(0.5, 1.7, 25)
    angle = rng.uniform(-2.0, 2.0, 25)
    p = np.stack([radius * np.cos(angle), radius * np.sin(angle), np.zeros(25)], 1)
    T = random_orientations(robot, p, seed=28)
    q0 = rng.uniform(-2.5, 2.5, (25, 2))
    res = ik.solve(robot, T, q0, mask=[1, 1, 0, 0, 0, 0], nearest=True, tol_pos=1e-10)
    first = ik.solve(robot, T, q0, mask=[1, 1, 0, 0, 0, 0], tol_pos=1e-10)
    assert res.success.all() and first.success.all()
    for k in range(25):
        sols = two_r_solutions(p[k])
        d = np.linalg.norm(sols - q0[k], axis=1)
        np.testing.assert_allclose(res.q[k], sols[np.argmin(d)], atol=1e-7)
    d_near = np.linalg.norm(res.q - q0, axis=1)
    d_first = np.linalg.norm(first.q - q0, axis=1)
    assert (d_near <= d_first + 1e-9).all()
    assert (d_near < d_first - 1e-3).any()                     # the option changes answers
    assert (res.iterations > first.iterations).all()           # it runs every restart


def test_nearest_on_a_redundant_arm_is_never_farther() -> None:
    robot = kin.load_robot("panda")
    T = kin.fk(robot, robot.random_q(5, seed=29))
    q0 = robot.random_q(5, seed=30, margin=0.1)
    res = ik.solve(robot, T, q0, nearest=True, restarts=16)
    first = ik.solve(robot, T, q0, restarts=16)
    assert res.success.all()
    assert (np.linalg.norm(res.q - q0, axis=1)
            <= np.linalg.norm(first.q - q0, axis=1) + 1e-12).all()
    single = ik.solve(robot, T[2], q0[2], nearest=True, restarts=16)
    np.testing.assert_array_equal(single.q, res.q[2])


# --------------------------------------------------------------------------- solve: invariance


@pytest.mark.parametrize("name", ["panda", "ur5", "iiwa14"])
def test_result_does_not_depend_on_batch_and_agrees_with_the_oracle(name: str) -> None:
    """200 random reachable targets: alone, batched, batched shuffled among other targets:
    bitwise the same. Against the numpy oracle (tests/reference/ik_lm.py: lockstep rows, LU
    steps; the kinematics differ by rounding): the same success and evaluation counts, q
    within 1e-9."""
    robot = kin.load_robot(name)
    T = kin.fk(robot, robot.random_q(200, seed=0))
    perm = np.random.default_rng(1).permutation(200)
    other = kin.fk(robot, robot.random_q(40, seed=31))
    T_mixed = np.concatenate([other[:20], T[perm], other[20:]])
    alone = [ik.solve(robot, Tk) for Tk in T]
    q_alone = np.array([r.q for r in alone])
    batched = ik.solve(robot, T)
    mixed = ik.solve(robot, T_mixed)
    q_mixed = np.empty_like(q_alone)
    q_mixed[perm] = mixed.q[20:220]
    np.testing.assert_array_equal(batched.q, q_alone)
    np.testing.assert_array_equal(q_mixed, q_alone)
    np.testing.assert_array_equal(batched.success, [r.success for r in alone])
    np.testing.assert_array_equal(batched.iterations, [r.iterations for r in alone])
    np.testing.assert_array_equal(batched.pos_error, [r.pos_error for r in alone])
    assert batched.success.all()
    oracle = ik_lm.solve(robot, T)
    np.testing.assert_array_equal(batched.success, oracle.success)
    np.testing.assert_array_equal(batched.iterations, oracle.iterations)
    np.testing.assert_allclose(batched.q, oracle.q, rtol=0, atol=1e-9)


def kernel_case(name: str) -> tuple[kin.Robot, list[float] | None]:
    """A bundled robot with the mask its targets need, or ``"mixed"``: the conftest chain
    with continuous, prismatic and mimic joints (4 joints: position only)."""
    if name == "mixed":
        return kin.robot_from_urdf(MIXED_URDF, tip="g"), [1, 1, 1, 0, 0, 0]
    robot = kin.load_robot(name)
    return robot, (None if robot.dof >= 6 else [1, 1, 0, 0, 0, 0])


def assert_agree(res: ik.IKResult, oracle: object, atol_q: float = 1e-9) -> None:
    """The kernels' answer against the oracle's: same success and evaluation counts, q
    within ``atol_q``, position errors within 1e-12 m and rotation errors within 1e-10 rad
    (the rounding the paths carry along)."""
    np.testing.assert_array_equal(res.success, oracle.success)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(res.iterations, oracle.iterations)  # type: ignore[attr-defined]
    np.testing.assert_allclose(res.q, oracle.q, rtol=0, atol=atol_q)  # type: ignore[attr-defined]
    np.testing.assert_allclose(res.pos_error, oracle.pos_error,  # type: ignore[attr-defined]
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.rot_error, oracle.rot_error,  # type: ignore[attr-defined]
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", [*BUNDLED, "mixed"])
def test_kernels_agree_with_the_oracle(name: str) -> None:
    """The compiled attempts and restarts (kinematics.ik._lm) against the numpy oracle, from
    the default seed and from far seeds (restarts happen): the same success and evaluation
    counts (the restart waves are simulated, not run in lockstep), q within 1e-9; a single
    target gives the same bits as in the batch."""
    robot, mask = kernel_case(name)
    T = kin.fk(robot, robot.random_q(40, seed=40))
    far = robot.random_q(40, seed=41)
    for q0 in (None, far):
        fast = ik.solve(robot, T, q0, mask=mask, restarts=20)
        assert fast.success.all()
        assert_agree(fast, ik_lm.solve(robot, T, q0, mask=mask, restarts=20))
    one = ik.solve(robot, T[7], far[7], mask=mask, restarts=20)
    np.testing.assert_array_equal(one.q, fast.q[7])
    assert one.iterations == fast.iterations[7]


@pytest.mark.parametrize("name", ["panda", "ur5", "puma560"])
def test_kernels_agree_with_the_oracle_on_masked_and_failing_targets(name: str) -> None:
    """Weighted masks (one rotation axis dropped, others scaled), unreachable targets (the
    lowest-E attempt is returned), nearest: the kernels and the oracle agree."""
    robot = kin.load_robot(name)
    T = kin.fk(robot, robot.random_q(12, seed=42))
    T[3, :3, 3] *= 1.5                       # probably outside the workspace shell
    T[8, :3, 3] = [3.0, 0.0, 0.0]            # beyond reach: no restart
    mask = [1, 1, 0.5, 2, 1, 0]
    fast = ik.solve(robot, T, mask=mask, restarts=6)
    assert_agree(fast, ik_lm.solve(robot, T, mask=mask, restarts=6))
    assert fast.success.sum() >= 6 and not fast.success[8]
    q0 = robot.random_q(12, seed=43, margin=0.1)
    fast = ik.solve(robot, T, q0, nearest=True, restarts=6)
    assert_agree(fast, ik_lm.solve(robot, T, q0, nearest=True, restarts=6))


def two_arm_tree() -> kin.Robot:
    """A torso with two 6-joint arms (links l0..l5, r0..r5): 12 joints, two tips."""
    urdf = '<?xml version="1.0"?><robot name="two"><link name="torso"/>'
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
    return kin.robot_from_urdf(urdf + "</robot>", tip=["l5", "r5"])


def test_several_links_run_the_same_kernels_and_agree_with_the_oracle() -> None:
    """Both hands of a tree with one q (stacked rows): batched targets, a per-link mask,
    far seeds (restarts), nearest: the kernels agree with the oracle and a target gives the
    same bits alone and in the batch; a one-link mapping is the one-link solve."""
    robot = two_arm_tree()
    Q = robot.random_q(12, seed=50, margin=0.2)
    targets = {k: kin.fk(robot, Q, k) for k in ("l5", "r5")}
    mask = {"r5": [1, 1, 1, 0, 0, 0]}
    for kwargs in ({}, {"mask": mask}, {"nearest": True, "restarts": 6}):
        res = ik.solve(robot, targets, **kwargs)
        assert res.success.sum() >= 10 and res.q.shape == (12, 12)
        assert (res.iterations > 60).any()          # restarts ran
        assert_agree(res, ik_lm.solve(robot, targets, **kwargs))
        one = ik.solve(robot, {k: T[4] for k, T in targets.items()}, **kwargs)
        np.testing.assert_array_equal(one.q, res.q[4])
        assert one.iterations == res.iterations[4]
    for k, T in targets.items():
        e = kin.spatial.pose_error(kin.fk(robot, res.q, k), T)
        assert (np.linalg.norm(e, axis=-1)[res.success] <= 2e-6).all()
    far = robot.random_q(12, seed=51)
    alone = ik.solve(robot, {"l5": targets["l5"]}, far)
    np.testing.assert_array_equal(alone.q, ik.solve(robot, targets["l5"], far, link="l5").q)
    with pytest.raises(InvalidValueError, match="link='l5' with a mapping"):
        ik.solve(robot, targets, link="l5")


def long_chain(n: int) -> kin.Robot:
    """A chain of ``n`` revolute joints (z, y, x axes in turn), 1 cm apart."""
    axes = ("0 0 1", "0 1 0", "1 0 0")
    body = "".join(
        f'<link name="b{i + 1}"/><joint name="j{i}" type="revolute"><parent link="b{i}"/>'
        f'<child link="b{i + 1}"/><origin xyz="0 0 0.01"/><axis xyz="{axes[i % 3]}"/>'
        '<limit lower="-1" upper="1" velocity="1" effort="1"/></joint>' for i in range(n))
    return kin.robot_from_urdf(f'<robot name="long"><link name="b0"/>{body}</robot>')


def test_a_long_chain_is_solved_in_task_space_and_keeps_its_time_budget() -> None:
    """Issue 21: on 3,000 joints the step is solved in task space (no 3000 × 3000 matrix:
    today's joint-space step needs ~5 s per evaluation), so the solve converges quickly,
    and max_time is read between evaluations (a 10⁶-restart search stops on time)."""
    import time

    robot = long_chain(3000)
    T = kin.fk(robot, robot.random_q(seed=60, margin=0.4))
    res = ik.solve(robot, T, mask=[1, 1, 1, 0, 0, 0], restarts=0)
    assert res.success and res.iterations < 60
    hopeless = kin.spatial.transform(p=[0.0, 0.0, -29.0])   # inside the reach, not reachable
    start = time.perf_counter()
    res = ik.solve(robot, hopeless, restarts=10**4, max_time=0.3)
    assert time.perf_counter() - start < 3.0               # 2 × 0.3 s, loaded machines aside
    assert not res.success and res.iterations >= 1


def test_restart_seeds_beyond_the_cap_are_refused_with_their_size() -> None:
    robot = long_chain(2000)
    with pytest.raises(InvalidValueError, match=r"restarts=100000: .* need 1.5 GiB"):
        ik.solve(robot, np.eye(4), restarts=100_000)


# --------------------------------------------------------------------------- hessian


def test_jacobian_hessian_and_manipulability_gradient_match_finite_differences(
        robot: kin.Robot) -> None:
    q = robot.random_q(seed=14, margin=0.1)
    H = ik.jacobian_hessian(robot, q)
    H_fd = np.moveaxis(kin.numdiff.jacobian(lambda x: kin.jacobian(robot, x), q), -1, 0)
    np.testing.assert_allclose(H, H_fd, atol=1e-8)
    g = ik.manipulability_gradient(robot, q)
    g_fd = kin.numdiff.jacobian(lambda x: ik.manipulability(kin.jacobian(robot, x)), q)
    np.testing.assert_allclose(g, g_fd, atol=1e-8)


def test_jacobian_hessian_general_path_on_a_prismatic_chain() -> None:
    extra = """<link name="slide"/>
  <joint name="j3" type="prismatic"><parent link="tip"/><child link="slide"/>
    <axis xyz="1 0 0"/><limit lower="0" upper="0.5" velocity="1" effort="10"/></joint>"""
    robot = kin.robot_from_urdf(planar2r_urdf(extra=extra), tip="slide")
    q = np.array([0.3, 0.7, 0.2])
    H = ik.jacobian_hessian(robot, q)
    H_fd = np.moveaxis(kin.numdiff.jacobian(lambda x: kin.jacobian(robot, x), q), -1, 0)
    np.testing.assert_allclose(H, H_fd, atol=1e-8)


# --------------------------------------------------------------------------- controller


def far_from_limits(robot: kin.Robot, seed: int) -> np.ndarray:
    return robot.random_q(seed=seed, margin=0.25)


def test_tracking_is_exact_away_from_singularities(robot: kin.Robot) -> None:
    if robot.dof < 6:
        pytest.skip("a full 6-D task needs 6 joints")
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, gain=[2, 2, 2, 1, 1, 1], velocity_scale=1e6,
                                     limit_margin=0.0)
    Q = robot.random_q(50, seed=15, margin=0.25)
    sigma_min = np.linalg.svd(kin.jacobian(robot, Q), compute_uv=False)[:, -1]
    q = Q[np.argmax(sigma_min > 2 * ctrl.sigma_threshold)]   # a well-conditioned one
    T, J = kin.fk_jacobian(robot, q)
    target = kin.fk(robot, q + 0.01)
    ff = np.array([0.01, -0.02, 0.0, 0.05, 0.0, -0.01])
    qd = ctrl.velocity(q, target, target_twist=ff)
    x = np.array([2, 2, 2, 1, 1, 1]) * kin.spatial.pose_error(T, target) + ff
    assert np.linalg.svd(J, compute_uv=False)[-1] > ctrl.sigma_threshold
    np.testing.assert_allclose(J @ qd, x, atol=1e-10)


def test_velocity_limit_scaling_keeps_direction() -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 16)
    target = kin.fk(robot, far_from_limits(robot, 17))
    free = ik.ResolvedRateController(robot, gain=20.0, velocity_scale=1e6, dt=1e-6)
    limited = ik.ResolvedRateController(robot, gain=20.0, velocity_scale=0.5, dt=1e-6)
    qd_free, qd = free.velocity(q, target), limited.velocity(q, target)
    ratio = np.abs(qd) / (0.5 * robot.velocity_limits)
    assert ratio.max() == pytest.approx(1.0)
    cos = qd @ qd_free / (np.linalg.norm(qd) * np.linalg.norm(qd_free))
    assert cos == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", ["panda", "ur5"])
def test_position_limits_never_crossed_in_a_long_servo_run(name: str) -> None:
    robot = kin.load_robot(name)
    hi = robot.joint_limits[:, 1]
    q = hi - 0.05
    target = kin.fk(robot, hi + 0.4)  # every joint 0.4 rad beyond its upper limit
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, gain=10.0, nullspace="centering")
    hit = np.zeros(robot.dof, dtype=bool)
    for _ in range(2000):
        q = ctrl.step(q, target, 1e-3)
        assert inside(robot, q), q
        hit |= np.isclose(q, robot.joint_limits[:, 1], atol=1e-3)
    assert hit.any()  # the run did press against a limit


def test_position_limit_saturation_keeps_tracking_with_the_other_joints() -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 19)
    q[0] = robot.joint_limits[0, 1] - 1e-5           # joint 1 at its upper limit
    target = kin.fk(robot, q)
    target[:3, 3] += [0.0, 0.01, 0.0]                 # a small move that joint 1 would help
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, velocity_scale=1e6, limit_margin=0.0)
    qd = ctrl.velocity(q, target)
    assert q[0] + qd[0] * ctrl.dt <= robot.joint_limits[0, 1]
    J = kin.jacobian(robot, q)
    x = kin.spatial.pose_error(kin.fk(robot, q), target)
    np.testing.assert_allclose(J @ qd, x, atol=1e-6)  # 6 free joints still track the twist


def test_adaptive_damping_bounds_velocity_at_exact_singularities() -> None:
    ur5 = kin.load_robot("ur5")
    q = np.array([0.3, -1.2, 1.4, -0.8, 0.0, 0.5])   # q5 = 0: wrist singularity
    J = kin.jacobian(ur5, q)
    assert np.linalg.svd(J, compute_uv=False)[-1] < 1e-12
    target = kin.fk(ur5, q + [0, 0, 0, 0.2, 0.0, -0.3])
    for damping in ("adaptive", "selective"):
        ctrl = ik.ResolvedRateController(ur5, dt=1e-3, gain=1.0, damping=damping,
                                         velocity_scale=1e6)
        qd = ctrl.velocity(q, target)
        x = kin.spatial.pose_error(kin.fk(ur5, q), target)
        bound = np.linalg.norm(x) * max(1 / ctrl.sigma_threshold, 1 / (2 * ctrl.damping_max))
        assert np.isfinite(qd).all()
        assert np.linalg.norm(qd) <= bound
    arm = kin.load_robot("planar2r")
    ctrl = ik.ResolvedRateController(arm, dt=1e-3, task_weights=[1, 1, 0, 0, 0, 0],
                                     velocity_scale=1e6)
    target = kin.spatial.transform(p=[2.5, 0.3, 0.0])  # outside reach, along the singular arm
    for q2 in (0.0, 1e-9):
        qd = ctrl.velocity([0.0, q2], target)
        assert np.isfinite(qd).all()
        assert np.linalg.norm(qd) <= np.linalg.norm([0.7, 0.3]) / 0.05
    undamped = ik.ResolvedRateController(arm, task_weights=[1, 1, 0, 0, 0, 0], damping=0.0,
                                         velocity_scale=1e6, dt=1e-9)
    assert np.linalg.norm(undamped.velocity([0.0, 1e-4], target)) > 1e3  # what DLS prevents


@pytest.mark.parametrize("objective", ["centering", "manipulability", "user"])
def test_null_space_motion_leaves_the_task_unchanged(objective: str) -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 20)
    target = kin.fk(robot, q)  # task velocity 0: all motion comes from the null space
    nullspace = (lambda x: x - 0.3) if objective == "user" else objective
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, nullspace=nullspace, nullspace_gain=1.0)
    qd = ctrl.velocity(q, target)
    J = kin.jacobian(robot, q)
    assert np.linalg.norm(qd) > 1e-4
    assert np.linalg.norm(J @ qd) <= 1e-12 * max(1.0, np.linalg.norm(qd))


def test_manipulability_objective_increases_manipulability() -> None:
    robot = kin.load_robot("iiwa14")
    q = far_from_limits(robot, 21)
    target = kin.fk(robot, q)
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, gain=5.0, nullspace="manipulability",
                                     nullspace_gain=50.0)
    w0 = ik.manipulability(kin.jacobian(robot, q))
    for _ in range(200):
        q = ctrl.step(q, target, 1e-2)
    assert ik.manipulability(kin.jacobian(robot, q)) > 1.05 * w0
    # the pose stays put up to the O(dt²) drift of the null-space motion
    assert np.linalg.norm(kin.spatial.pose_error(kin.fk(robot, q), target)) < 1e-5


def test_joint_limit_spring_pushes_away_in_the_null_space() -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 22)
    q[2] = robot.joint_limits[2, 1] - 0.02            # inside the 0.1 rad margin
    ctrl = ik.ResolvedRateController(robot, dt=1e-3)
    qd = ctrl.velocity(q, kin.fk(robot, q))
    assert qd[2] < 0
    assert np.linalg.norm(kin.jacobian(robot, q) @ qd) < 1e-12


def test_position_only_and_tool_axis_masks() -> None:
    robot = kin.load_robot("ur5")
    q = far_from_limits(robot, 23)
    T, J = kin.fk_jacobian(robot, q)
    target = kin.fk(robot, q + 0.05)
    x = kin.spatial.pose_error(T, target)
    pos_only = ik.ResolvedRateController(robot, dt=1e-3, task_weights=[1, 1, 1, 0, 0, 0],
                                         velocity_scale=1e6, limit_margin=0.0)
    qd = pos_only.velocity(q, target)
    np.testing.assert_allclose(J[:3] @ qd, x[:3], atol=1e-10)
    assert np.linalg.norm(qd) < np.linalg.norm(np.linalg.solve(J, x))  # least-norm
    no_roll = ik.ResolvedRateController(robot, dt=1e-3, task_weights=[1, 1, 1, 1, 1, 0],
                                        task_frame="tool", velocity_scale=1e6,
                                        limit_margin=0.0)
    qd = no_roll.velocity(q, target)
    R = T[:3, :3]
    tool = np.concatenate([R.T @ (J[:3] @ qd), R.T @ (J[3:] @ qd)])
    x_tool = np.concatenate([R.T @ x[:3], R.T @ x[3:]])
    np.testing.assert_allclose(tool[:5], x_tool[:5], atol=1e-10)


def test_servo_converges_to_a_reachable_target(robot: kin.Robot) -> None:
    weights = None if robot.dof >= 6 else [1, 1, 0, 0, 0, 1]
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, gain=10.0, task_weights=weights)
    # a goal away from singularities (near one, damping slows the last digits by design)
    Q = robot.random_q(50, seed=24, margin=0.2)
    sigma_min = np.linalg.svd(kin.jacobian(robot, Q), compute_uv=False)[:, -1]
    q_goal = Q[np.argmax(sigma_min > 3 * ctrl.sigma_threshold)]
    q = q_goal + np.random.default_rng(1).normal(scale=0.2, size=robot.dof)
    q = np.clip(q, robot.joint_limits[:, 0], robot.joint_limits[:, 1])
    target = kin.fk(robot, q_goal)
    for _ in range(1000):
        q = ctrl.step(q, target, 2e-3)
    e = kin.spatial.pose_error(kin.fk(robot, q), target)
    assert np.linalg.norm(e) < 1e-6


def test_monitor_scales_the_velocity() -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 25)
    target = kin.fk(robot, q + 0.02)
    calls = []

    class Monitor:
        def update(self, q: np.ndarray, qd: np.ndarray | None = None) -> SimpleNamespace:
            calls.append((q.copy(), None if qd is None else qd.copy()))
            return SimpleNamespace(level="warning", scale=0.25, measures=None,
                                   time_to_singularity=np.inf)

    plain = ik.ResolvedRateController(robot, dt=1e-3).velocity(q, target)
    scaled = ik.ResolvedRateController(robot, dt=1e-3, monitor=Monitor()).velocity(q, target)
    np.testing.assert_allclose(scaled, 0.25 * plain, atol=1e-15)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0][0], q)
    np.testing.assert_allclose(calls[0][1], plain)


@pytest.mark.parametrize(("kwargs", "exc", "match"), [
    ({"gain": [1, 2]}, ShapeError, r"gain: expected shape \(\) or \(6,\)"),
    ({"gain": -1.0}, InvalidValueError, "gain=.*expected finite gains >= 0"),
    ({"dt": 0.0}, InvalidValueError, r"dt=0.0; expected a finite number > 0"),
    ({"damping": "strong"}, InvalidValueError, r"damping='strong'; expected one of \['adaptive'"),
    ({"damping": -0.1}, InvalidValueError, "damping=-0.1"),
    ({"sigma_threshold": 0}, InvalidValueError, "sigma_threshold=0"),
    ({"velocity_scale": np.nan}, InvalidValueError, "velocity_scale=nan"),
    ({"nullspace": "joy"}, InvalidValueError, r"nullspace='joy'; expected None, one of"),
    ({"task_weights": [0] * 6}, InvalidValueError, "at least one weight > 0"),
    ({"task_weights": [1, 1]}, ShapeError, "task_weights: expected shape"),
    ({"task_frame": "world"}, InvalidValueError, r"task_frame='world'; expected one of"),
    ({"monitor": object()}, InvalidValueError, "monitor=.*expected an object with update"),
    ({"link": "nope"}, UnknownLinkError, "link 'nope' does not exist"),
])
def test_controller_bad_parameters(kwargs: dict, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        ik.ResolvedRateController(kin.load_robot("panda"), **kwargs)


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda c, q, T: c.velocity(q[:6], T), ShapeError, r"q: expected shape \(\.\.\., 7\)"),
    (lambda c, q, T: c.velocity(np.stack([q, q]), T), ShapeError, r"q: expected shape \(7,\)"),
    (lambda c, q, T: c.velocity(q * np.nan, T), InvalidValueError, "expected finite values"),
    (lambda c, q, T: c.velocity(q, T[:3]), ShapeError, r"target_T: expected shape \(4, 4\)"),
    (lambda c, q, T: c.velocity(q, np.stack([T, T])), ShapeError, "target_T: expected shape"),
    (lambda c, q, T: c.velocity(q, T * 2), InvalidValueError, "target_T has"),
    (lambda c, q, T: c.velocity(q, T + np.nan), InvalidValueError, "target_T is not finite"),
    (lambda c, q, T: c.velocity(q, T, target_twist=np.zeros(3)), ShapeError,
     r"target_twist: expected"),
    (lambda c, q, T: c.velocity(q, T, target_twist=[np.inf] * 6), InvalidValueError,
     r"target_twist\[0\] is inf"),
    (lambda c, q, T: c.step(q, T, dt=-1e-3), InvalidValueError, "dt=-0.001"),
])
def test_controller_bad_inputs(call, exc: type, match: str) -> None:  # noqa: ANN001
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 26)
    with pytest.raises(exc, match=match):
        call(ik.ResolvedRateController(robot, dt=1e-3), q, kin.fk(robot, q))


def test_user_gradient_is_validated() -> None:
    robot = kin.load_robot("panda")
    q = far_from_limits(robot, 27)
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, nullspace=lambda x: np.zeros(3))
    with pytest.raises(ShapeError, match=r"nullspace gradient: expected shape \(7,\)"):
        ctrl.velocity(q, kin.fk(robot, q))
    ctrl = ik.ResolvedRateController(robot, dt=1e-3, nullspace=lambda x: x * np.nan)
    with pytest.raises(InvalidValueError, match="nullspace gradient returned"):
        ctrl.velocity(q, kin.fk(robot, q))

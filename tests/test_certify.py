"""Certified singularity radius and trajectory certificates: the Lipschitz bound against the
exact Hessian, soundness on thousands of configurations of every robot (sign of det J and
σ_min over the certified boxes), the UR5's known singular sets, closed forms, usefulness."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import MIXED_URDF

import kinematics as kin
from kinematics._certify import (
    CERTIFIED,
    CROSSING,
    POSSIBLE,
    certified_radius,
    certify_segments,
    jacobian_lipschitz,
)

BUNDLED = kin.list_robots()
UR5_A2, UR5_A3, UR5_D5 = -0.425, -0.39225, 0.09465  # DH, robots/ur5.urdf

def jacobian_hessian(robot: kin.Robot, q: np.ndarray) -> np.ndarray:
    """``(dof, 6, dof)``, ``H[i, :, j] = ∂J[:, j]/∂q_i`` (wherever the library keeps it)."""
    try:
        from kinematics.jacobian import jacobian_hessian as h  # type: ignore[attr-defined]
    except ImportError:
        from kinematics.ik import jacobian_hessian as h
    return h(robot, q)


def default_rows(robot: kin.Robot) -> np.ndarray:
    return np.array(kin.singularity.default_rows(robot))


def scaled_J(robot: kin.Robot, q: np.ndarray, rows: np.ndarray, L: float) -> np.ndarray:
    return kin.jacobian(robot, q)[..., rows, :] * np.where(rows < 3, 1 / L, 1.0)[:, None]


def sigma_min(robot: kin.Robot, q: np.ndarray, rows: np.ndarray, L: float) -> np.ndarray:
    return np.linalg.svd(scaled_J(robot, q, rows, L), compute_uv=False)[..., -1]


def box_samples(rng: np.random.Generator, q: np.ndarray, half: np.ndarray, k: int = 16
                ) -> np.ndarray:
    """``(N, k, dof)``: ``k/2`` random vertices and ``k/2`` random interior points of the
    boxes ``|q′ − q| ≤ half`` (``half`` ``(N, dof)``)."""
    n, dof = q.shape
    vert = rng.choice([-1.0, 1.0], size=(n, k // 2, dof))
    inner = rng.uniform(-1.0, 1.0, size=(n, k - k // 2, dof))
    return q[:, None] + half[:, None] * np.concatenate([vert, inner], axis=1)


def stress_configurations(robot: kin.Robot, n: int, seed: int) -> np.ndarray:
    """Random configurations, a third of them with one joint pushed near 0 (many arms are
    singular at a zero joint: elbows stretched, wrists aligned)."""
    rng = np.random.default_rng(seed)
    Q = robot.random_q(n, seed=seed)
    near = rng.random(n) < 1 / 3
    j = rng.integers(0, robot.dof, n)
    Q[near, j[near]] = rng.uniform(-0.05, 0.05, near.sum())
    return Q


def ur5_distance_upper(Q: np.ndarray) -> np.ndarray:
    """Upper bound of the ∞-norm distance to the UR5's singular set (exact for the wrist
    and the elbow; the shoulder part is a witness: a box that contains a sign change of the
    shoulder factor contains a zero of it, by the intermediate value theorem on the segment
    between the two sample points)."""

    def pi_dist(x: np.ndarray) -> np.ndarray:
        return np.abs(x - np.pi * np.round(x / np.pi))

    def shoulder(q2, q3, q4):  # noqa: ANN001, ANN202
        return UR5_A2 * np.cos(q2) + UR5_A3 * np.cos(q2 + q3) + UR5_D5 * np.sin(q2 + q3 + q4)

    g = np.linspace(-1.0, 1.0, 9)
    G = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    lo, hi = np.zeros(len(Q)), np.full(len(Q), np.pi)
    for _ in range(22):  # π 2^-22 < 1e-6 rad
        mid = 0.5 * (lo + hi)
        P = Q[:, None, 1:4] + mid[:, None, None] * G
        v = shoulder(P[..., 0], P[..., 1], P[..., 2])
        change = (v.min(axis=1) <= 0) & (v.max(axis=1) >= 0)
        hi, lo = np.where(change, mid, hi), np.where(change, lo, mid)
    return np.minimum(np.minimum(pi_dist(Q[:, 2]), pi_dist(Q[:, 4])), hi)


def first_joint_dropped(robot: kin.Robot, rows: np.ndarray) -> bool:
    """Mirror of the module's rule: rotations about joint 1's axis keep the row blocks."""
    z = kin.fk(robot, np.zeros(robot.dof), robot.link_names[1])[:3, :3] @ robot.joint_axes[0]
    K = np.cross(np.eye(3), z)
    for block in (rows[rows < 3], rows[rows >= 3] - 3):
        P = np.zeros((3, 3))
        P[block, block] = 1.0
        if np.abs((np.eye(3) - P) @ np.hstack([K @ P, K @ K @ P])).max() > 1e-12:
            return False
    return True


# --------------------------------------------------------------------------- Lipschitz


def worst_directional_derivative(robot: kin.Robot, q: np.ndarray, rows: np.ndarray, L: float,
                                 drop_first: bool, scale: np.ndarray | None = None) -> float:
    """Exact ``max_{|u| ≤ 1} ‖W Σ_i u_i s_i ∂J/∂q_i‖_F`` at ``q`` (a convex function of
    ``u``: its maximum over the cube is at a vertex)."""
    W = np.where(rows < 3, 1 / L, 1.0)
    H = jacobian_hessian(robot, q)[:, rows, :] * W[None, :, None]
    if scale is not None:
        H = H * scale[:, None, None]
    U = np.array(list(itertools.product([-1.0, 1.0], repeat=robot.dof)))
    if drop_first:
        U[:, 0] = 0.0
    return float(np.linalg.norm(np.einsum("ui,imj->umj", U, H), axis=(1, 2)).max())


@pytest.mark.parametrize("name", BUNDLED)
def test_lipschitz_bound_dominates_the_hessian_inside_the_box(name: str) -> None:
    robot = kin.load_robot(name)
    rows = default_rows(robot)
    drop = first_joint_dropped(robot, rows)
    assert drop  # every bundled arm: joint 1 is revolute and the rows are invariant
    rng = np.random.default_rng(1)
    Q = robot.random_q(40, seed=2)
    for r in (0.0, 0.05, 0.3):
        lip = jacobian_lipschitz(robot, Q, r)
        inside = box_samples(rng, Q, np.full(Q.shape, r), k=2)
        for q_in, bound in zip(inside.reshape(-1, robot.dof), np.repeat(lip, 2), strict=True):
            exact = worst_directional_derivative(robot, q_in, rows, robot.reach, drop)
            assert exact <= bound * (1 + 1e-9), (name, r, exact, bound)
    # the bound is not vacuous: within a factor 2 of the exact local constant at r = 0
    exact = [worst_directional_derivative(robot, q, rows, robot.reach, drop) for q in Q]
    assert np.median(exact / jacobian_lipschitz(robot, Q, 0.0)) > 0.5


def test_lipschitz_bound_with_mimic_prismatic_scale_length_and_first_joint_kept() -> None:
    mixed = kin.robot_from_urdf(MIXED_URDF, tip="g")
    ur5 = kin.load_robot("ur5")
    rows_x = np.array([0, 2, 3, 4, 5])  # x, z rows: not invariant about the vertical axis 1
    assert not first_joint_dropped(ur5, rows_x)
    cases = [(mixed, np.arange(6), 0.7, None), (ur5, rows_x, 0.4, None),
             (ur5, np.arange(6), 2.0, np.array([0.5, 1.0, 2.0, 1.5, 0.7, 3.0]))]
    rng = np.random.default_rng(3)
    for robot, rows, L, scale in cases:
        drop = first_joint_dropped(robot, rows)
        Q = robot.random_q(30, seed=4)
        for r in (0.0, 0.1):
            lip = jacobian_lipschitz(robot, Q, r, metric=L, rows=rows, scale=scale)
            half = np.full(Q.shape, r) * (1.0 if scale is None else scale)
            for q_in, bound in zip(box_samples(rng, Q, half, k=2).reshape(-1, robot.dof),
                                   np.repeat(lip, 2), strict=True):
                exact = worst_directional_derivative(robot, q_in, rows, L, drop, scale)
                assert exact <= bound * (1 + 1e-9)


def test_singular_values_do_not_depend_on_the_first_joint(robot: kin.Robot) -> None:
    """The premise for leaving joint 1 out of the bound."""
    rows = default_rows(robot)
    Q = robot.random_q(50, seed=5)
    Q2 = Q.copy()
    Q2[:, 0] += np.random.default_rng(6).uniform(-3, 3, 50)
    W = np.where(rows < 3, 1 / robot.reach, 1.0)[:, None]
    s1 = np.linalg.svd(kin.jacobian(robot, Q)[:, rows] * W, compute_uv=False)
    s2 = np.linalg.svd(kin.jacobian(robot, Q2)[:, rows] * W, compute_uv=False)
    np.testing.assert_allclose(s1, s2, atol=1e-12)


# --------------------------------------------------------------------------- soundness


def sign_or_sigma_changes(robot: kin.Robot, Q: np.ndarray, half: np.ndarray,
                          rng: np.random.Generator) -> np.ndarray:
    """``(N,)`` True where a sample of the box ``|q′ − q| ≤ half`` is singular: σ_min ≤ 0,
    or (square J) ``det`` of the other sign than at ``q`` (a singular point lies between:
    the box is connected)."""
    rows = default_rows(robot)
    S = box_samples(rng, Q, half)
    Jq, JS = scaled_J(robot, Q, rows, 1.0), scaled_J(robot, S, rows, 1.0)
    bad = np.linalg.svd(JS, compute_uv=False)[..., -1].min(axis=-1) <= 0
    if len(rows) == robot.dof:
        bad |= np.any(np.sign(np.linalg.det(JS)) != np.sign(np.linalg.det(Jq))[:, None], axis=1)
    return bad


@pytest.mark.parametrize("name", BUNDLED)
def test_no_singularity_inside_certified_boxes_of_thousands_of_configurations(name: str
                                                                           ) -> None:
    robot = kin.load_robot(name)
    rng = np.random.default_rng(7)
    Q = stress_configurations(robot, 2000, seed=8)
    r = certified_radius(robot, Q)
    assert np.all(r > 0)
    assert not sign_or_sigma_changes(robot, Q, np.repeat(r[:, None], robot.dof, 1), rng).any()
    # scaled boxes (velocity limits: r is a time)
    v = robot.velocity_limits
    t = certified_radius(robot, Q[:500], scale=v)
    assert not sign_or_sigma_changes(robot, Q[:500], t[:, None] * v, rng).any()


def test_the_soundness_check_catches_boxes_that_are_too_large() -> None:
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(200, seed=9)
    Q[:, 4] = np.random.default_rng(10).uniform(0.01, 0.05, 200)  # near the wrist set
    r = certified_radius(ur5, Q)
    big = np.repeat((Q[:, 4] * 1.5)[:, None], 6, 1)  # reaches q5 = 0 and beyond
    assert np.all(r < Q[:, 4])
    assert sign_or_sigma_changes(ur5, Q, big, np.random.default_rng(11)).mean() > 0.9


@pytest.mark.parametrize("name", BUNDLED)
def test_sigma_min_change_never_exceeds_the_lipschitz_bound(name: str) -> None:
    robot = kin.load_robot(name)
    rows, L = default_rows(robot), robot.reach
    rng = np.random.default_rng(12)
    Q = stress_configurations(robot, 1000, seed=13)
    r = certified_radius(robot, Q, metric="unit")
    lip = jacobian_lipschitz(robot, Q, r)
    S = box_samples(rng, Q, np.repeat(r[:, None], robot.dof, 1))
    s0, s1 = sigma_min(robot, Q, rows, L), sigma_min(robot, S, rows, L)
    step = np.abs(S - Q[:, None]).max(axis=-1)
    assert np.all(np.abs(s1 - s0[:, None]) <= lip[:, None] * step + 1e-12)
    assert np.all(s1 > 0)
    # the radius is at least the root of σ_min(q) = r Lip(r) for the link origin (the
    # largest box of this bound; another reference point may give a larger one)
    assert np.all(r * lip >= s0 * (1 - 1e-6))


def test_mimic_and_prismatic_chain_is_certified_soundly() -> None:
    robot = kin.robot_from_urdf(MIXED_URDF, tip="g")
    Q = robot.random_q(1000, seed=14)
    r = certified_radius(robot, Q)
    assert np.all(np.isfinite(r)) and np.median(r) > 0
    assert not sign_or_sigma_changes(robot, Q, np.repeat(r[:, None], robot.dof, 1),
                                     np.random.default_rng(15)).any()


# --------------------------------------------------------------------------- closed forms


def test_planar2r_closed_form() -> None:
    """Rows (x, y): Lip = √2 l2 / L for every r (column 1 changes through joint 2 only,
    column 2 has |a_2| = l2), so r = σ_min(J_xy) / (√2 l2), and r ≤ |q2| (mod π)."""
    arm = kin.load_robot("planar2r")
    Q = arm.random_q(500, seed=16)
    r = certified_radius(arm, Q)
    s = np.linalg.svd(kin.jacobian(arm, Q)[:, :2], compute_uv=False)[:, -1]
    np.testing.assert_allclose(r, s / (np.sqrt(2) * 0.8), rtol=1e-10)
    np.testing.assert_allclose(jacobian_lipschitz(arm, Q, 1.0), np.sqrt(2) * 0.8 / arm.reach,
                               rtol=1e-10)
    assert np.all(r <= np.abs(Q[:, 1] - np.pi * np.round(Q[:, 1] / np.pi)))
    assert certified_radius(arm, [0.4, 0.0]) == 0.0


def test_uniform_scale_divides_the_radius() -> None:
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(20, seed=17)
    np.testing.assert_allclose(certified_radius(ur5, Q, scale=np.full(6, np.pi)) * np.pi,
                               certified_radius(ur5, Q), rtol=1e-9)


def test_a_jacobian_that_cannot_change_has_infinite_radius() -> None:
    urdf = """<robot name="xy"><link name="b"/><link name="x"/><link name="y"/>
      <joint name="jx" type="prismatic"><parent link="b"/><child link="x"/><axis xyz="1 0 0"/>
        <limit lower="-1" upper="1" velocity="1" effort="1"/></joint>
      <joint name="jy" type="prismatic"><parent link="x"/><child link="y"/><axis xyz="0 1 0"/>
        <limit lower="-1" upper="1" velocity="1" effort="1"/></joint></robot>"""
    robot = kin.robot_from_urdf(urdf)
    np.testing.assert_array_equal(certified_radius(robot, np.zeros((2, 2)), rows=(0, 1)),
                                  [np.inf, np.inf])


# --------------------------------------------------------------------------- UR5


def test_ur5_singular_set_is_wrist_elbow_and_shoulder() -> None:
    """det J = s3 s5 a2 a3 (a2 c2 + a3 c23 + d5 s234): the three known sets are all."""
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(1000, seed=18)
    q2, q3, q4, q5 = Q[:, 1], Q[:, 2], Q[:, 3], Q[:, 4]
    det = (np.sin(q3) * np.sin(q5) * UR5_A2 * UR5_A3
           * (UR5_A2 * np.cos(q2) + UR5_A3 * np.cos(q2 + q3) + UR5_D5 * np.sin(q2 + q3 + q4)))
    np.testing.assert_allclose(np.linalg.det(kin.jacobian(ur5, Q)), det, atol=1e-14)


def test_ur5_radius_never_exceeds_the_distance_to_its_singular_sets() -> None:
    ur5 = kin.load_robot("ur5")
    rng = np.random.default_rng(19)
    Q = ur5.random_q(1500, seed=20)
    for k in (2, 4):  # a third near the elbow / wrist set
        pick = rng.random(1500) < 1 / 6
        Q[pick, k] = rng.choice([0.0, np.pi, -np.pi], pick.sum()) + rng.normal(0, 0.02,
                                                                                 pick.sum())
    d = ur5_distance_upper(Q)
    for metric in ("auto", 0.1):
        r = certified_radius(ur5, Q, metric=metric)
        assert np.all(r <= d), metric


def test_ur5_radius_is_a_useful_fraction_of_the_true_distance() -> None:
    """Measured on these 1000 configurations (uniform in the limits): median r / d =
    11.0 % ("auto"; 10.5 % where d > 0.1 rad), 5.1 % ("unit"); over 5000: 10.7 %, 5.0 %.
    d is an upper bound of the true distance, so the true ratios are at least these."""
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(1000, seed=7)
    d = ur5_distance_upper(Q)
    away = d > 0.1
    auto = certified_radius(ur5, Q) / d
    unit = certified_radius(ur5, Q, metric="unit") / d
    assert np.median(auto) >= 0.10 and np.median(auto[away]) >= 0.10
    assert np.median(unit) >= 0.045


# --------------------------------------------------------------------------- segments


def test_a_crossing_between_samples_is_proven() -> None:
    ur5 = kin.load_robot("ur5")
    q0 = np.array([0.3, -1.2, 1.5, -0.3, 0.0, 0.4])
    Q = np.repeat(q0[None], 6, axis=0)
    Q[:, 4] = [-0.25, -0.15, -0.05, 0.05, 0.15, 0.25]  # q5 = 0 between samples 2 and 3
    c = certify_segments(ur5, Q)
    assert c.status[2] == CROSSING and c.status_names[2] == "crossing"
    assert np.all(c.radius > 0) and np.all(c.radius < 0.25)
    assert np.sign(c.det[2]) == -np.sign(c.det[3])
    assert np.all(c.status[[0, 1, 3, 4]] != CROSSING)
    # without a square J (5 rows) no sign argument: the segment is only "possible"
    c5 = certify_segments(ur5, Q, rows=(0, 1, 2, 3, 4))
    assert np.isnan(c5.det).all() and c5.status[2] == POSSIBLE


def test_a_path_away_from_singularities_is_certified_everywhere() -> None:
    ur5 = kin.load_robot("ur5")
    a = np.array([0.0, -1.0, 1.6, -0.9, 1.3, 0.0])
    b = np.array([1.0, -1.5, 1.9, -0.6, 1.6, 2.0])
    Q = a + np.linspace(0, 1, 80)[:, None] * (b - a)
    c = certify_segments(ur5, Q)
    assert c.status.shape == (79,) and c.radius.shape == (80,)
    assert np.all(c.status == CERTIFIED)
    assert np.all(c.radius[:-1] + c.radius[1:] >= c.step)
    # one sample only: no segment
    assert certify_segments(ur5, Q[:1]).status.shape == (0,)


def test_box_certified_means_one_box_holds_the_hull() -> None:
    arm = kin.load_robot("planar2r")
    Q = np.array([[0.0, 1.0], [0.05, 1.05], [0.0, 1.0 + 2.0]])
    c = certify_segments(arm, Q)
    r = c.radius
    assert c.box_certified[0] == (max(r[0], r[1]) >= 0.05)
    assert c.status[1] == POSSIBLE and not c.box_certified[1]


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize("batch", [(), (1,), (3, 1, 2)])
def test_batch_shapes(batch: tuple[int, ...]) -> None:
    ur5 = kin.load_robot("ur5")
    Q = ur5.random_q(batch, seed=21)
    r = certified_radius(ur5, Q)
    assert np.shape(r) == batch
    assert np.shape(jacobian_lipschitz(ur5, Q, 0.1)) == batch
    flat = certified_radius(ur5, Q.reshape(-1, 6))
    np.testing.assert_array_equal(np.reshape(r, -1), flat)


def test_errors_name_the_bad_argument() -> None:
    ur5 = kin.load_robot("ur5")
    q = np.zeros(6)
    with pytest.raises(kin.InvalidValueError, match="metric='reach'; expected 'unit', 'auto'"):
        certified_radius(ur5, q, metric="reach")
    with pytest.raises(kin.InvalidValueError, match="metric=-1.0; expected a positive"):
        certified_radius(ur5, q, metric=-1.0)
    with pytest.raises(kin.InvalidValueError, match="metric='auto'; expected 'unit' or"):
        jacobian_lipschitz(ur5, q, 0.1, metric="auto")
    with pytest.raises(kin.InvalidValueError, match=r"rows=\(0, 7\); expected distinct"):
        certified_radius(ur5, q, rows=(0, 7))
    with pytest.raises(kin.ShapeError, match=r"scale: expected shape \(6,\)"):
        certified_radius(ur5, q, scale=[1.0, 2.0])
    with pytest.raises(kin.InvalidValueError, match="scale\\[2\\] \\(joint 'elbow_joint'\\)"):
        certified_radius(ur5, q, scale=[1, 1, 0, 1, 1, 1])
    with pytest.raises(kin.UnknownLinkError, match="link 'hand' does not exist"):
        certified_radius(ur5, q, link="hand")
    with pytest.raises(kin.InvalidValueError, match="radius: expected values >= 0"):
        jacobian_lipschitz(ur5, q, -0.1)
    with pytest.raises(kin.ShapeError, match=r"point: expected shape \(3,\)"):
        jacobian_lipschitz(ur5, q, 0.1, point=[0.0, 0.0])
    with pytest.raises(kin.ShapeError, match=r"q: expected shape \(\.\.\., 6\)"):
        certified_radius(ur5, np.zeros(5))
    with pytest.raises(kin.ShapeError, match=r"Q: expected shape \(N, 6\)"):
        certify_segments(ur5, q)


def test_a_reference_point_equals_a_tool_there() -> None:
    """``point`` moves the linear rows' reference point, like a tool frame at that point."""
    ur5 = kin.load_robot("ur5")
    c = np.array([0.02, -0.05, -0.0823])   # in tool0's frame
    T = np.eye(4)
    T[:3, 3] = c
    Q = ur5.random_q(10, seed=22)
    L = ur5.reach  # the tool changes robot.reach: fix the length
    np.testing.assert_allclose(jacobian_lipschitz(ur5, Q, 0.2, metric=L, point=c),
                               jacobian_lipschitz(ur5.with_tool(T), Q, 0.2, metric=L),
                               rtol=1e-12)

"""Closed-form IK (kin.ik.solve_all): FK round trips, completeness, batch invariance,
singular sets, locked joints, refusals, and EAIK's counts where eaik is installed."""

from __future__ import annotations

import importlib.metadata
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import erd_path

import kinematics as kin
from kinematics.exceptions import InvalidValueError, KinematicsError, ShapeError
from kinematics.ik.closed_form import _geometry

TWO_PI = 2.0 * np.pi


def _erd(rel: str, base: str = "base_link", tip: str = "tool0") -> kin.Robot:
    path = erd_path(rel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return kin.load_robot(str(path), base=base, tip=tip)


def _robot(name: str) -> kin.Robot:
    if name.endswith(".urdf"):
        return _erd(name)
    return kin.load_robot(name)


ROBOTS = ["puma560", "ur5",
          "ur_description/urdf/ur5_robot.urdf",
          "ur_description/urdf/ur3_robot.urdf",
          "ur_description/urdf/ur10_robot.urdf",
          "ur_description/urdf/ur5_joint_limited_robot.urdf",
          "ur_description/urdf/ur3_joint_limited_robot.urdf",
          "ur_description/urdf/ur10_joint_limited_robot.urdf"]


def _sample(robot: kin.Robot, n: int, seed: int, fixed: dict[str, float] | None = None
            ) -> np.ndarray:
    lo, hi = robot.joint_limits.T
    q = np.random.default_rng(seed).uniform(np.maximum(lo, -TWO_PI), np.minimum(hi, TWO_PI),
                                            (n, robot.dof))
    for name, v in (fixed or {}).items():
        q[:, robot.joint_names.index(name)] = v
    return q


def _angle_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((a - b + np.pi) % TWO_PI - np.pi)


def _check_round_trip(robot: kin.Robot, q: np.ndarray, fixed: dict[str, float] | None = None
                      ) -> kin.ik.IKSolutions:
    """Every solution reproduces T to 1e-10; q is among them to 1e-9 (after wrapping)
    wherever the pose determines q that well (σ_min(J) ≥ 1e-3: at a fold the joint values
    are fixed by T only to ~√ε)."""
    T = kin.fk(robot, q)
    sol = kin.ik.solve_all(robot, T, fixed=fixed)
    assert sol.q.shape == (len(q), 8, robot.dof)
    valid = ~np.isnan(sol.q[..., 0])
    np.testing.assert_array_equal(valid.sum(-1), sol.count)
    np.testing.assert_array_equal(valid, np.arange(8) < sol.count[:, None])
    Ts = kin.fk(robot, np.where(valid[..., None], sol.q, 0.0))
    res = np.abs(Ts - T[:, None]).max(axis=(-1, -2))[valid]
    assert res.max() < 1e-10
    lo, hi = robot.joint_limits.T
    assert np.all(sol.q[valid] >= lo) and np.all(sol.q[valid] <= hi)
    gap = np.where(valid, _angle_gap(sol.q, q[:, None]).max(-1), np.inf).min(-1)
    J = kin.jacobian(robot, q)
    free = [i for i, n in enumerate(robot.joint_names) if n not in (fixed or {})]
    s_min = np.linalg.svd(J[..., free], compute_uv=False)[..., -1]
    well = s_min >= 1e-3
    assert well.mean() > 0.9
    assert gap[well].max() < 1e-9, (q[well][np.argmax(gap[well])], gap[well].max())
    # de-duplicated; branch labels unique per pose, −1 padding
    for k in range(len(q)):
        qs = sol.q[k, :sol.count[k]]
        if len(qs) > 1:
            d = np.abs(qs[:, None] - qs[None]).max(-1) + np.eye(len(qs))
            assert d.min() > 1e-9
        b = sol.branch[k]
        assert np.all(b[sol.count[k]:] == -1)
        assert len(set(b[:sol.count[k]].tolist())) == sol.count[k]
        assert np.all((b[:sol.count[k]] >= 0) & (b[:sol.count[k]] < 8))
    return sol


@pytest.mark.parametrize("name", ROBOTS)
def test_round_trip_contains_q_and_reproduces_T(name: str) -> None:
    robot = _robot(name)
    sol = _check_round_trip(robot, _sample(robot, 400, seed=3))
    expected = ("spherical wrist, two parallel axes" if name == "puma560"
                else "three parallel axes (UR-type)")
    assert sol.family == expected


RTB_SPHERICAL = ["kuka_description/kuka_kr16/urdf/kr16_2.urdf",
                 "kuka_description/kuka_kr120/urdf/kr120r2500pro.urdf",
                 "kuka_description/kuka_kr210/urdf/kr210l150.urdf"]


@pytest.mark.parametrize("rel", RTB_SPHERICAL)
def test_round_trip_industrial_spherical_wrists(rel: str) -> None:
    """Other arms of the spherical-wrist class (rtb-data's KUKA descriptions)."""
    try:
        root = importlib.metadata.distribution("rtb-data").locate_file("rtbdata/xacro")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("rtb-data not installed")
    path = Path(str(root)) / rel
    if not path.exists():
        pytest.skip(f"{rel} not in rtb-data")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        robot = kin.load_robot(str(path), base="base_link", tip="tool0")
    sol = _check_round_trip(robot, _sample(robot, 300, seed=13))
    assert sol.family == "spherical wrist, two parallel axes"


@pytest.mark.parametrize("name, lock", [("panda", "panda_joint7"), ("panda", "panda_joint6"),
                                        ("iiwa14", "iiwa_joint_3"), ("iiwa14", "iiwa_joint_1")])
def test_fixed_reduces_a_redundant_arm(name: str, lock: str) -> None:
    robot = kin.load_robot(name)
    fixed = {lock: 0.4}
    sol = _check_round_trip(robot, _sample(robot, 300, seed=5, fixed=fixed), fixed=fixed)
    assert "spherical wrist" in sol.family
    j = robot.joint_names.index(lock)
    valid = sol.count[:, None] > np.arange(8)
    np.testing.assert_array_equal(sol.q[..., j][valid], 0.4)


@pytest.mark.parametrize("shape", [(), (1,), (3, 1, 2)])
def test_batch_invariance(shape: tuple[int, ...]) -> None:
    robot = kin.load_robot("ur5")
    q = _sample(robot, int(np.prod(shape, dtype=int)), seed=7).reshape(shape + (6,))
    T = kin.fk(robot, q)
    sol = kin.ik.solve_all(robot, T)
    assert sol.q.shape == shape + (8, 6)
    assert sol.count.shape == shape and sol.singular.shape == shape
    assert sol.branch.shape == shape + (8,)
    Tf = T.reshape(-1, 4, 4)
    for k, idx in enumerate(np.ndindex(*shape)):
        one = kin.ik.solve_all(robot, Tf[k])
        np.testing.assert_array_equal(one.q, sol.q[idx])
        np.testing.assert_array_equal(one.branch, sol.branch[idx])
        assert one.count == sol.count[idx] and one.singular == sol.singular[idx]


def test_ur_wrist_singularity_is_flagged_with_representatives() -> None:
    robot = kin.load_robot("ur5")
    q = np.array([0.3, -1.1, 1.4, -0.5, 0.0, 0.7])   # q5 = 0: axes 4 and 6 aligned
    T = kin.fk(robot, q)
    sol = kin.ik.solve_all(robot, T)
    assert sol.singular and sol.count >= 1
    Ts = kin.fk(robot, sol.q[:sol.count])
    np.testing.assert_allclose(Ts, np.broadcast_to(T, Ts.shape), atol=1e-10)
    # near (not at) the set: exact solutions, and q among them
    for eps in (1e-4, 1e-2):
        q2 = q.copy()
        q2[4] = eps
        sol2 = kin.ik.solve_all(robot, kin.fk(robot, q2))
        assert _angle_gap(sol2.q[:sol2.count], q2).max(-1).min() < 1e-9


def test_puma_wrist_singularity_is_flagged() -> None:
    robot = kin.load_robot("puma560")
    q = np.array([0.2, -0.4, 0.3, 0.5, 0.0, -0.6])   # q5 = 0: axes 4 and 6 aligned
    T = kin.fk(robot, q)
    sol = kin.ik.solve_all(robot, T)
    assert sol.singular and sol.count >= 1
    Ts = kin.fk(robot, sol.q[:sol.count])
    np.testing.assert_allclose(Ts, np.broadcast_to(T, Ts.shape), atol=1e-10)
    q2 = q.copy()
    q2[4] = 1e-3
    sol2 = kin.ik.solve_all(robot, kin.fk(robot, q2))
    assert _angle_gap(sol2.q[:sol2.count], q2).max(-1).min() < 1e-9


def test_result_is_a_frozen_dataclass_exported_from_ik() -> None:
    import dataclasses

    robot = kin.load_robot("puma560")
    sol = kin.ik.solve_all(robot, kin.fk(robot, np.zeros(6)))
    assert isinstance(sol, kin.ik.IKSolutions)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sol.family = "x"  # type: ignore[misc]
    assert sol.q.shape == (8, 6) and sol.count.shape == () and sol.branch.shape == (8,)


def test_unreachable_pose_has_no_solution() -> None:
    robot = kin.load_robot("ur5")
    T = np.eye(4)
    T[:3, 3] = [5.0, 0.0, 0.0]
    sol = kin.ik.solve_all(robot, T)
    assert sol.count == 0 and np.isnan(sol.q).all() and (sol.branch == -1).all()


def test_refusals_name_the_geometry_and_the_families() -> None:
    with pytest.raises(KinematicsError, match="7 free joints.*fixed="):
        kin.ik.solve_all(kin.load_robot("iiwa14"), np.eye(4))
    panda = kin.load_robot("panda")
    with pytest.raises(KinematicsError, match=r"no closed-form family.*axes: .*Supported"):
        kin.ik.solve_all(panda, np.eye(4), fixed={"panda_joint1": 0.0})
    with pytest.raises(KinematicsError, match="no closed-form family"):
        kin.ik.solve_all(kin.load_robot("iiwa14"), np.eye(4), fixed={"iiwa_joint_4": -1.0})
    with pytest.raises(KinematicsError, match="2 free joints"):
        kin.ik.solve_all(kin.load_robot("planar2r"), np.eye(4))
    ur5 = kin.load_robot("ur5")
    with pytest.raises(InvalidValueError, match="unknown joint 'elbow'"):
        kin.ik.solve_all(ur5, np.eye(4), fixed={"elbow": 0.0})
    with pytest.raises(InvalidValueError, match="outside the joint limits"):
        kin.ik.solve_all(panda, np.eye(4), fixed={"panda_joint7": 9.0})
    with pytest.raises(ShapeError):
        kin.ik.solve_all(ur5, np.eye(3))
    bad = np.eye(4)
    bad[0, 0] = np.nan
    with pytest.raises(InvalidValueError, match="not finite"):
        kin.ik.solve_all(ur5, bad)
    skew = np.eye(4)
    skew[0, 1] = 0.1
    with pytest.raises(InvalidValueError, match="orthonormal"):
        kin.ik.solve_all(ur5, skew)


# ---- EAIK's counts (anchor; eaik is never imported by the library) --------------------


def _eaik_solutions(robot: kin.Robot, T: np.ndarray) -> list[list[np.ndarray]]:
    """Real solutions EAIK finds per pose, moved into the limits by solve_all's rule,
    verified by FK, de-duplicated."""
    from eaik.IK_HP import HPRobot

    g = _geometry(robot, None, None)
    chain = robot.chain(None)
    A = np.array(chain.T0)
    axes, origins = [], []
    for k in range(chain.n):
        axes.append(A[:3, 2])
        origins.append(A[:3, 3])
        A = A @ chain.steps[k]
    H, pts = np.array(axes), np.array(origins)
    P = np.vstack([pts[0], np.diff(pts, axis=0), A[:3, 3] - pts[-1]])
    eaik = HPRobot(H, P)
    lo, hi = robot.joint_limits.T
    out: list[list[np.ndarray]] = []
    for Tk in T:
        Te = Tk.copy()
        Te[:3, :3] = Tk[:3, :3] @ A[:3, :3].T
        s = eaik.IK(Te)
        kept: list[np.ndarray] = []
        for qk, ls in zip(np.atleast_2d(s.Q), np.atleast_1d(s.is_LS), strict=False):
            if ls or qk.size == 0:
                continue
            qk = (qk + np.pi) % TWO_PI - np.pi
            qk = np.where(qk < lo, qk + TWO_PI, np.where(qk > hi, qk - TWO_PI, qk))
            if np.any(qk < lo) or np.any(qk > hi):
                continue
            if np.abs(kin.fk(robot, qk) - Tk).max() > 1e-9:
                continue
            if all(np.abs(qk - o).max() > 1e-6 for o in kept):
                kept.append(qk)
        out.append(kept)
    assert g.family in (1, 2, 3)
    return out


@pytest.mark.parametrize("name", ["puma560", "ur5", "ur_description/urdf/ur5_robot.urdf",
                                  "ur_description/urdf/ur10_robot.urdf"])
def test_counts_match_eaik(name: str) -> None:
    pytest.importorskip("eaik")
    robot = _robot(name)
    T = kin.fk(robot, _sample(robot, 300, seed=11))
    sol = kin.ik.solve_all(robot, T)
    theirs = _eaik_solutions(robot, T)
    regular = ~sol.singular
    counts = np.array([len(t) for t in theirs])
    np.testing.assert_array_equal(sol.count[regular], counts[regular])
    for k in np.flatnonzero(regular):   # every EAIK solution is one of ours
        for qe in theirs[k]:
            assert np.abs(sol.q[k, :sol.count[k]] - qe).max(-1).min() < 1e-8

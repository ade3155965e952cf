"""Analysis: trajectory measures (batched rates and replayed hysteresis equal the monitor's
step by step), chunked workspace sweeps, progress bar, nearest singularity and its
classification on known singularities."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import kinematics as kin
from kinematics.analysis import (
    analyze_trajectory,
    classify,
    nearest_singularity,
    workspace_sweep,
)
from kinematics.singularity import SingularityMonitor, measures_at


def ur5_wrist_sweep(n: int = 41) -> np.ndarray:
    q = np.tile([0.0, -1.2, 1.5, -0.3, 0.0, 0.0], (n, 1))
    q[:, 4] = np.linspace(0.3, -0.2, n)
    return q


def test_trajectory_matches_monitor_step_by_step():
    ur5 = kin.load_robot("ur5")
    q = ur5_wrist_sweep()
    t = np.linspace(0.0, 2.0, len(q))
    a = analyze_trajectory(ur5, q, t=t)
    mon = SingularityMonitor(ur5)
    for i in range(len(q)):
        st = mon.update(q[i], a.qd[i])
        assert a.level_names[i] == st.level
        assert a.scale[i] == pytest.approx(st.scale, abs=1e-12)
        assert a.value[i] == pytest.approx(st.value, rel=1e-12)
        assert a.rate[i] == pytest.approx(st.rate, rel=1e-9, abs=1e-12)
        if math.isinf(st.time_to_singularity):
            assert math.isinf(a.time_to_singularity[i])
        else:
            assert a.time_to_singularity[i] == pytest.approx(st.time_to_singularity, rel=1e-9)
    np.testing.assert_allclose(a.qd[:, 4], -0.25, rtol=1e-12)  # constant-velocity sweep
    assert a.measures.shape == (len(q),)
    assert "stop" in a.level_names and a.level_names[0] == "ok"
    assert abs(a.q[a.worst_index, 4]) < 0.013


def test_trajectory_with_mimic_joints_and_dt():
    from test_singularity import MIMIC_URDF

    robot = kin.robot_from_urdf(MIMIC_URDF, tip="l3")
    mon = SingularityMonitor(robot, warn=0.5, stop=0.1, metric="sigma_min", rows=[0, 1])
    q = np.stack([np.zeros(5), np.linspace(1.0, 0.2, 5)], -1)
    a = analyze_trajectory(robot, q, dt=0.1, monitor=mon)
    np.testing.assert_allclose(a.t, np.arange(5) * 0.1)
    np.testing.assert_allclose(a.qd[:, 1], -2.0, rtol=1e-12)
    two = analyze_trajectory(robot, q[:2], dt=0.1, monitor=mon)  # 2 samples: one difference
    np.testing.assert_allclose(two.qd[:, 1], -2.0, rtol=1e-12)


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"q": np.zeros((1, 6))}, kin.ShapeError, r"N >= 2 samples"),
    ({"q": np.zeros(6)}, kin.ShapeError, r"\(N, 6\) trajectory"),
    ({"q": np.zeros((3, 5))}, kin.ShapeError, r"q: expected shape \(\.\.\., 6\)"),
    ({"t": [0, 1]}, kin.ShapeError, r"t: expected shape \(3,\)"),
    ({"t": [0, 1, 1]}, kin.InvalidValueError, "strictly increasing"),
    ({"t": [0, 1, 2], "dt": 0.1}, kin.InvalidValueError, "not both"),
    ({"dt": -1.0}, kin.InvalidValueError, "dt=-1.0; expected a positive step"),
])
def test_trajectory_bad_input(kwargs, exc, match):
    ur5 = kin.load_robot("ur5")
    args = {"q": np.zeros((3, 6))} | kwargs
    q = args.pop("q")
    with pytest.raises(exc, match=match):
        analyze_trajectory(ur5, q, **args)


def test_workspace_sweep_chunked_equals_one_batch():
    panda = kin.load_robot("panda")
    a = workspace_sweep(panda, 1000, seed=3, chunk=128, progress=False)
    b = workspace_sweep(panda, 1000, seed=3, chunk=5000, progress=False)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_allclose(a.measures.sigma, b.measures.sigma, atol=1e-12)
    np.testing.assert_allclose(a.position, kin.fk(panda, a.q)[:, :3, 3], atol=1e-12)
    ref = measures_at(panda, a.q[:50])
    np.testing.assert_allclose(a.measures.sigma_min_scaled[:50], ref.sigma_min_scaled,
                               atol=1e-12)
    w = a.worst(5)
    assert list(a.measures.sigma_min_scaled[w]) == sorted(a.measures.sigma_min_scaled)[:5]
    assert len(a.worst(5000)) == 1000


def test_progress_bar_silent_unless_terminal_or_stream(capsys):
    ur5 = kin.load_robot("ur5")
    workspace_sweep(ur5, 300, chunk=100)  # stderr is not a TTY under pytest: silent
    workspace_sweep(ur5, 300, chunk=100, progress=False)
    assert capsys.readouterr().err == ""
    buf = io.StringIO()
    workspace_sweep(ur5, 300, chunk=100, progress=buf)
    out = buf.getvalue()
    assert "300/300 samples (workspace) 100%" in out and out.endswith("\n") and "\r" in out


@pytest.mark.parametrize("kwargs, match", [
    ({"samples": 0}, r"samples=0; expected a positive integer"),
    ({"samples": 2.5}, r"samples=2.5; expected a positive integer"),
    ({"chunk": 0}, r"chunk=0; expected a positive integer"),
    ({"margin": 0.5}, r"margin=0.5; expected 0 <= margin < 0.5"),
    ({"rows": [9]}, "distinct Jacobian row indices"),
])
def test_workspace_sweep_bad_input(kwargs, match):
    with pytest.raises(kin.InvalidValueError, match=match):
        workspace_sweep(kin.load_robot("ur5"), **({"samples": 10} | kwargs))


def test_nearest_singularity_ur5_wrist():
    ur5 = kin.load_robot("ur5")
    q0 = np.array([0.0, -1.2, 1.5, -0.3, 0.2, 0.0])
    s = nearest_singularity(ur5, q0)
    assert s.converged and s.sigma_min < 1e-10
    assert abs(s.q[4]) < 1e-8  # the wrist, 0.2 rad away along q5
    assert s.distance < 0.202  # (min-norm Newton steps: within 1 % of the 0.2 rad along q5)
    c = s.classification
    assert c.kind == "rotation" and c.involved == ("wrist_1_joint", "wrist_3_joint")
    assert ("wrist_1_joint", "wrist_3_joint") in c.parallel_axes
    assert "wrist_1_joint" in c.description and "parallel axes" in c.description


def test_nearest_singularity_puma_wrist_is_coaxial():
    puma = kin.load_robot("puma560")
    s = nearest_singularity(puma, [0.3, 0.6, -0.4, 0.5, 0.15, -0.2])
    assert s.converged and abs(s.q[4]) < 1e-8
    c = s.classification
    assert ("joint4", "joint6") in c.coaxial_axes
    assert set(c.involved) == {"joint4", "joint6"}
    np.testing.assert_allclose(np.abs(c.weights), np.sqrt(0.5), atol=1e-6)


def test_nearest_singularity_planar_elbow():
    arm = kin.load_robot("planar2r")
    s = nearest_singularity(arm, [0.4, 0.3])
    assert s.converged and abs(s.q[1]) < 1e-9 and s.q[0] == pytest.approx(0.4)
    assert s.classification.kind == "translation"
    # the lost direction is radial: along the stretched arm
    np.testing.assert_allclose(np.abs(s.classification.lost_linear[:2]),
                               [math.cos(0.4), math.sin(0.4)], atol=1e-6)


@pytest.mark.parametrize("name", ["panda", "iiwa14", "ur5", "puma560"])
def test_nearest_singularity_converges_and_stays_in_limits(name):
    robot = kin.load_robot(name)
    found = [nearest_singularity(robot, robot.random_q(seed=s, margin=0.1)) for s in range(3)]
    assert any(f.converged for f in found)
    for f in found:
        lo, hi = robot.joint_limits.T
        assert np.all(f.q >= lo) and np.all(f.q <= hi)
        if f.converged:
            assert measures_at(robot, f.q).sigma_min < 1e-9


def test_nearest_singularity_respects_a_blocking_limit():
    panda = kin.load_robot("panda")  # q4 <= -0.0698: the stretched elbow is out of reach
    q0 = np.array([0.0, 0.0, 0.0, -0.3, 0.0, 1.5, 0.0])
    s = nearest_singularity(panda, q0, rows=[0, 1, 2])  # position only
    assert s.q[3] <= -0.0698 + 1e-12


def test_classify_and_search_bad_input():
    ur5 = kin.load_robot("ur5")
    with pytest.raises(kin.ShapeError, match=r"q0: expected shape \(6,\) one configuration"):
        nearest_singularity(ur5, np.zeros((2, 6)))
    with pytest.raises(kin.InvalidValueError, match="tol=0; expected a positive"):
        nearest_singularity(ur5, np.zeros(6), tol=0)
    with pytest.raises(kin.InvalidValueError, match="max_iter=0; expected a positive"):
        nearest_singularity(ur5, np.zeros(6), max_iter=0)
    with pytest.raises(kin.ShapeError, match=r"q: expected shape \(6,\) one configuration"):
        classify(ur5, np.zeros((1, 6)))
    with pytest.raises(kin.InvalidValueError, match="threshold=0; expected"):
        classify(ur5, np.zeros(6), threshold=0)


def test_analysis_leaves_the_callers_monitor_alone() -> None:
    """analyze_trajectory replays the monitor's hysteresis on a copy: the level a caller's
    monitor holds (e.g. in a running control loop) is the same before and after."""
    ur5 = kin.load_robot("ur5")
    mon = kin.SingularityMonitor(ur5)
    q = np.array([0.0, -1.2, 1.5, -0.3, 0.002, 0.0])       # inside the stop zone
    assert mon.update(q, np.zeros(6)).level == "stop"
    Q = np.linspace([0.0, -1.2, 1.5, -0.3, 1.0, 0.0], [0.0, -1.2, 1.5, -0.3, 1.2, 0.0], 5)
    result = kin.analysis.analyze_trajectory(ur5, Q, dt=0.1, monitor=mon)
    assert result.level.max() == 0            # the replay starts from "ok"
    assert mon.level == "stop"

"""What the singularity monitor costs the task: tracking beyond reach, with and without it.

Two cases (issue 28), each run without a monitor and with the default
:class:`~kinematics.singularity.SingularityMonitor`, ``ResolvedRateController(gain=4)``:

1. **line**: example-robot-data's UR5 (``base_link`` → ``tool0``) from
   ``q = [0.2, -1.6, 1.9, -1.9, -1.57, 0]`` at 500 Hz, the target moving straight up at
   0.1 m/s for 1.3 m (feed-forward twist), its orientation held: it leaves the workspace
   after about 4.5 s.
2. **beyond reach**: the bundled arms from a bent pose, a fixed target 0.5 m beyond the
   reach (``robot.reach``) in the tool's direction from the base, orientation held, 6 s
   at 500 Hz.

3. **liveness**: from the UR5's doubly singular home pose, 20 targets
   ``fk(home + U(±0.6))``, reached or not in 20 s, by the zone of the goal's metric.

Prints position / rotation errors at a few times, the lowest monitored metric, and how
many constrained steps increased the pose error to first order (``yᵀ J q̇ < 0`` with
``y = K e + ẋ_ff`` the controller's task velocity);
writes ``benchmarks/results/monitor_tracking.md``.

    python benchmarks/monitor_tracking.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

import kinematics as kin
from kinematics.ik import ResolvedRateController

RESULTS = Path(__file__).parent / "results" / "monitor_tracking.md"


def _ur5_erd() -> kin.Robot | None:
    try:
        import example_robot_data  # noqa: F401
    except ImportError:
        pass
    for root in sys.path:
        path = Path(root) / "cmeel.prefix/share/example-robot-data/robots/ur_description/urdf"
        if (path / "ur5_robot.urdf").exists():
            return kin.load_robot(str(path / "ur5_robot.urdf"), base="base_link", tip="tool0")
    return None


def _errors(robot: kin.Robot, q: np.ndarray, T: np.ndarray) -> tuple[float, float]:
    e = kin.spatial.pose_error(kin.fk(robot, q), T)
    return float(np.linalg.norm(e[:3])), float(np.linalg.norm(e[3:]))


def run(robot: kin.Robot, q0: np.ndarray, target, twist, seconds: float, monitored: bool,
        dt: float = 2e-3) -> dict[str, object]:
    """Run the loop; ``target(t)`` gives the (4, 4) target, ``twist(t)`` its (6,) twist."""
    mon = kin.SingularityMonitor(robot) if monitored else None
    ctrl = ResolvedRateController(robot, gain=4.0, monitor=mon)
    q = q0.copy()
    n = int(round(seconds / dt))
    samples: dict[float, tuple[float, float]] = {}
    lowest, worse, constrained, below = np.inf, 0, 0, 0
    for i in range(n + 1):
        t = i * dt
        T = target(t)
        if i % int(round(1.0 / dt)) == 0:
            samples[round(t, 3)] = _errors(robot, q, T)
        if i == n:
            break
        ff = twist(t)
        qd = ctrl.velocity(q, T, dt, ff)
        if mon is not None:
            st = ctrl.monitor_state
            lowest = min(lowest, st.value)
            below += st.value < mon.stop
            if st.scale < 1.0:
                constrained += 1
                # the controller's task velocity y = K e + ẋ_ff: y·(J q̇) < 0 makes the
                # pose error grow to first order
                y = 4.0 * kin.spatial.pose_error(kin.fk(robot, q), T)
                y = y if ff is None else y + ff
                if float(y @ (kin.jacobian(robot, q) @ qd)) < -1e-9 * (1 + y @ y):
                    worse += 1
        q = q + qd * dt
    return {"samples": samples, "lowest": lowest, "worse": worse, "constrained": constrained,
            "below": below, "stop": mon.stop if mon else None}


def _note(name: str, m: dict[str, object]) -> str:
    return (f"{name}: lowest σ_min_scaled {m['lowest']:.5f} (stop {m['stop']:.5f}, "
            f"{m['below']} steps below it); {m['worse']} of {m['constrained']} constrained "
            "steps increased the pose error to first order")


def line_case() -> tuple[str, list[str]] | None:
    robot = _ur5_erd()
    if robot is None:
        return None
    q0 = np.array([0.2, -1.6, 1.9, -1.9, -1.57, 0.0])
    T0 = kin.fk(robot, q0)
    v = 0.1

    def target(t: float) -> np.ndarray:
        T = T0.copy()
        T[2, 3] += v * min(t, 13.0)
        return T

    def twist(t: float) -> np.ndarray:
        return np.array([0, 0, v if t < 13.0 else 0.0, 0, 0, 0])

    rows = []
    res = {m: run(robot, q0, target, twist, 13.0, m) for m in (False, True)}
    for t in (3.0, 5.0, 8.0, 11.0, 13.0):
        (p0, r0), (p1, r1) = res[False]["samples"][t], res[True]["samples"][t]
        rows.append(f"| UR5 line (erd) | {t:.0f} | {p0:.3f} / {r0:.3f} | {p1:.3f} / {r1:.3f} |")
    m = res[True]
    note = _note("UR5 line", m)
    return note, rows


def reach_case(name: str) -> tuple[str, list[str]]:
    robot = kin.load_robot(name)
    q0 = {"panda": [0.0, -0.3, 0.0, -1.8, 0.0, 1.6, 0.8],
          "iiwa14": [0.0, 0.3, 0.0, -0.4, 0.0, 0.4, 0.0],
          "ur5": [0.2, -1.6, 1.9, -1.9, -1.57, 0.0],
          "puma560": [0.0, 0.5, -0.5, 0.0, 0.5, 0.0]}[name]
    q0 = np.asarray(q0, dtype=float)
    T = kin.fk(robot, q0).copy()
    p = T[:3, 3]
    T[:3, 3] = p / np.linalg.norm(p) * (robot.reach + 0.5)   # 0.5 m beyond the reach
    res = {m: run(robot, q0, lambda t: T, lambda t: None, 6.0, m) for m in (False, True)}
    rows = []
    for t in (1.0, 3.0, 6.0):
        (p0, r0), (p1, r1) = res[False]["samples"][t], res[True]["samples"][t]
        rows.append(f"| {name} beyond reach | {t:.0f} | {p0:.3f} / {r0:.3f} | "
                    f"{p1:.3f} / {r1:.3f} |")
    m = res[True]
    note = _note(name, m)
    return note, rows


def liveness_case(count: int = 20, seconds: float = 20.0, dt: float = 2e-3,
                  seed: int = 0) -> tuple[str, list[str]]:
    """From the UR5's doubly singular home pose, ``count`` targets ``fk(home + U(±0.6))``:
    how many are reached (pose error < 1e-4) with and without the monitor, by where the
    goal configuration's metric lies (outside the warn zone, in the band, in the stop
    zone)."""
    robot = kin.load_robot("ur5")
    home = np.array([0.0, -np.pi / 2, 0.0, -np.pi / 2, 0.0, 0.0])
    rng = np.random.default_rng(seed)
    probe = kin.SingularityMonitor(robot)
    zones = {"outside warn": [0, 0, 0], "warn band": [0, 0, 0], "stop zone": [0, 0, 0]}
    for _ in range(count):
        goal = home + rng.uniform(-0.6, 0.6, 6)
        value = probe.update(goal).value
        zone = ("outside warn" if value >= probe.warn else
                "warn band" if value >= probe.stop else "stop zone")
        zones[zone][0] += 1
        T = kin.fk(robot, goal)
        for col, monitored in ((1, False), (2, True)):
            mon = kin.SingularityMonitor(robot) if monitored else None
            ctrl = ResolvedRateController(robot, gain=4.0, monitor=mon)
            q = home.copy()
            for _ in range(int(seconds / dt)):
                q = ctrl.step(q, T, dt)
            zones[zone][col] += bool(np.linalg.norm(kin.spatial.pose_error(
                kin.fk(robot, q), T)) < 1e-4)
    rows = [f"| {z} | {n} | {a} | {b} |" for z, (n, a, b) in zones.items()]
    reached = sum(v[2] for v in zones.values())
    return f"UR5 home liveness: {reached} of {count} reached with the monitor", rows


def main() -> None:
    head = ["| case | t [s] | no monitor: position [m] / rotation [rad] | "
            "monitor: position [m] / rotation [rad] |", "|---|--:|---|---|"]
    rows, notes = [], []
    line = line_case()
    if line is not None:
        notes.append(line[0])
        rows += line[1]
    for name in ("panda", "iiwa14", "ur5", "puma560"):
        note, r = reach_case(name)
        notes.append(note)
        rows += r
    live_note, live_rows = liveness_case()
    notes.append(live_note)
    load = os.getloadavg()[0]
    text = "\n".join(["# Tracking beyond reach, with and without the monitor", "",
                      f"`python benchmarks/monitor_tracking.py`, load {load:.1f}", "",
                      *head, *rows, "", *[f"- {n}" for n in notes], "",
                      "## Liveness: from the UR5's home pose (elbow and wrist singular), "
                      "20 targets fk(home + U(±0.6)), 20 s each", "",
                      "| goal's metric | targets | reached, no monitor | reached, monitor |",
                      "|---|--:|--:|--:|", *live_rows, ""])
    print(text)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()

"""One resolved-rate control step on the Panda, side by side with Pinocchio's FK+J.

A control step is FK + J + damped least squares + velocity and position limits (+ the
singularity monitor): :meth:`kinematics.ik.ResolvedRateController.velocity`. Medians of
single calls in a Python loop, in one process; ratios to Pinocchio's single FK+J
(``computeJointJacobians`` + ``updateFramePlacements`` + ``getFrameJacobian``), the bar being
a monitored step ≤ 30 µs, ≤ 25× Pinocchio.

    python benchmarks/bench_control.py        # writes benchmarks/results/control.md
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

import kinematics as kin
from kinematics import ik
from kinematics.singularity import SingularityMonitor

RESULTS = Path(__file__).resolve().parent / "results"
REPEAT, ROUNDS = 500, 15


def interleaved(calls: dict[str, object]) -> dict[str, list[float]]:
    """µs per call of each callable, ``ROUNDS`` rounds of ``REPEAT`` calls, the callables
    interleaved within each round (so a burst of load hits every row alike)."""
    for fn in calls.values():
        for _ in range(200):
            fn()  # type: ignore[operator]
    out: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(ROUNDS):
        for name, fn in calls.items():
            t = time.perf_counter()
            for _ in range(REPEAT):
                fn()  # type: ignore[operator]
            out[name].append((time.perf_counter() - t) / REPEAT * 1e6)
    return out


def pinocchio_fkj(robot: kin.Robot, q: np.ndarray):  # type: ignore[no-untyped-def]
    try:
        import pinocchio as pin
    except ImportError:
        return None
    model = pin.buildModelFromUrdf(robot.source)
    data = model.createData()
    fid = model.getFrameId(robot.tip_link)
    names = [model.names[i] for i in range(1, model.njoints)]
    qp = pin.neutral(model)
    for name, v in zip(robot.joint_names, q, strict=True):
        qp[model.joints[model.getJointId(name)].idx_q] = v
    assert all(n in names for n in robot.joint_names)

    def step() -> None:
        pin.computeJointJacobians(model, data, qp)
        pin.updateFramePlacements(model, data)
        pin.getFrameJacobian(model, data, fid, pin.LOCAL_WORLD_ALIGNED)

    return step


def main() -> None:
    robot = kin.load_robot("panda")
    q_far = np.array([0.3, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8])           # well conditioned
    mon0 = SingularityMonitor(robot)
    q_band = q_far.copy()                                               # inside the warn band
    for q4 in np.linspace(-2.2, -0.08, 200):
        q_band[3] = q4
        if mon0.update(q_band).value < mon0.warn:
            break
    target = kin.fk(robot, q_far + 0.05)
    plain = ik.ResolvedRateController(robot, dt=1e-3)
    monitored = ik.ResolvedRateController(robot, dt=1e-3, monitor=SingularityMonitor(robot))
    mon = SingularityMonitor(robot)
    J = kin.jacobian(robot, q_far)
    qd = plain.velocity(q_far, target)
    J_band = kin.jacobian(robot, q_band)
    qd_in = np.zeros(robot.dof)
    qd_in[3] = 0.5            # q4 toward 0: toward the stretched singularity
    assert mon.update(q_band, qd_in, J=J_band, dt=1e-3).scale < 1.0
    target_toward = kin.fk(robot, q_band).copy()
    target_toward[:3, 3] *= 1.5      # beyond the reach: the step approaches, constrained
    monitored.velocity(q_band, target_toward)
    assert monitored.monitor_state.constrained
    pin_step = pinocchio_fkj(robot, q_far)
    calls = {"Pinocchio FK+J (computeJointJacobians, frame J)": pin_step} if pin_step else {}
    calls.update({
        "kinematics fk_jacobian": lambda: kin.fk_jacobian(robot, q_far),
        "control step, no monitor": lambda: plain.velocity(q_far, target),
        "control step + monitor (outside warn zone)": lambda: monitored.velocity(q_far, target),
        "control step + monitor (inside warn band)": lambda: monitored.velocity(q_band, target),
        "monitor.update(q, qd, J=J) alone": lambda: mon.update(q_far, qd, J=J, dt=1e-3),
        "control step + monitor, constrained (the safe command: task QP)":
            lambda: monitored.velocity(q_band, target_toward),
        "monitor.update(...).command, an approach in the warn band (joint-space command)":
            lambda: mon.update(q_band, qd_in, J=J_band, dt=1e-3).command,
        "measures(J) (full diagnostics)": lambda: kin.measures(J),
    })
    load0 = os.getloadavg()[0]
    times = interleaved(calls)
    pin = times.get("Pinocchio FK+J (computeJointJacobians, frame J)")
    lines = ["# Control step (Panda, median of single calls, one process)", "",
             f"Load average at start / end: {load0:.1f} / {os.getloadavg()[0]:.1f} (2 cores, "
             f"shared machine). {ROUNDS} rounds of {REPEAT} calls, the rows interleaved "
             "within each round; × Pinocchio is the median of the per-round ratios.", "",
             "| call | µs, median (IQR) | × Pinocchio FK+J |", "|---|--:|--:|"]
    for name, ts in times.items():
        q1, med, q3 = np.percentile(ts, [25, 50, 75])
        ratio = (f"{statistics.median(t / p for t, p in zip(ts, pin, strict=True)):.1f}×"
                 if pin else "–")
        lines.append(f"| {name} | {med:.1f} ({q1:.1f}–{q3:.1f}) | {ratio} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "control.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

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
REPEAT, ROUNDS = 2000, 5


def median_us(fn) -> float:  # type: ignore[no-untyped-def]
    for _ in range(200):
        fn()
    rounds = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(REPEAT):
            fn()
        rounds.append((time.perf_counter() - t) / REPEAT * 1e6)
    return statistics.median(rounds)


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
    rows = []
    pin_step = pinocchio_fkj(robot, q_far)
    pin_us = median_us(pin_step) if pin_step else float("nan")
    rows.append(("Pinocchio FK+J (computeJointJacobians, frame J)", pin_us))
    rows.append(("kinematics fk_jacobian", median_us(lambda: kin.fk_jacobian(robot, q_far))))
    rows.append(("control step, no monitor", median_us(lambda: plain.velocity(q_far, target))))
    rows.append(("control step + monitor (outside warn zone)",
                 median_us(lambda: monitored.velocity(q_far, target))))
    rows.append(("control step + monitor (inside warn band)",
                 median_us(lambda: monitored.velocity(q_band, target))))
    rows.append(("monitor.update(q, qd, J=J) alone",
                 median_us(lambda: mon.update(q_far, qd, J=J, dt=1e-3))))
    rows.append(("measures(J) (full diagnostics)", median_us(lambda: kin.measures(J))))
    load = os.getloadavg()[0]
    lines = ["# Control step (Panda, median of single calls, one process)", "",
             f"Load average during the run: {load:.1f} (2 cores, shared machine).", "",
             "| call | µs | × Pinocchio FK+J |", "|---|--:|--:|"]
    for name, us in rows:
        lines.append(f"| {name} | {us:.1f} | {us / pin_us:.1f}× |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "control.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()

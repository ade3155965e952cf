"""Speed of :func:`kinematics.measures`, numpy path vs compiled kernel (run by hand).

    python benchmarks/bench_measures.py [robot ...]     # writes benchmarks/results/measures.md

One Jacobian (the whole call, argument checks included) and a batch of 10,000, with the
robot's reach as the length (the scaled fields then differ from the mixed ones). Cases are
timed interleaved and the median is reported (:mod:`common`); batches run on
``KINEMATICS_THREADS`` threads (default: every CPU).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from common import RESULTS_DIR, Case, machine_info, run_interleaved

import kinematics as kin
from kinematics.singularity import measures

N = 10_000


def cases_for(name: str) -> list[Case]:
    robot = kin.load_robot(name)
    J = kin.jacobian(robot, robot.random_q((N,), seed=1))
    J1 = J[0].copy()
    L = float(robot.reach)
    out = []
    for backend in ("numpy", "compiled"):
        on = backend == "compiled"

        def single(on: bool = on, calls: int = 300 if not on else 3000) -> float:
            previous = kin.accel.enable(on)
            try:
                t = time.perf_counter()
                for _ in range(calls):
                    measures(J1, length=L)
                return (time.perf_counter() - t) / calls
            finally:
                kin.accel.enable(previous)

        def batch(on: bool = on) -> float:
            previous = kin.accel.enable(on)
            try:
                t = time.perf_counter()
                measures(J, length=L)
                return (time.perf_counter() - t) / N
            finally:
                kin.accel.enable(previous)

        out += [Case(f"{name}/{backend}/single", single), Case(f"{name}/{backend}/batch", batch,
                                                                 per="config")]
    return out


def main() -> None:
    names = sys.argv[1:] or kin.list_robots()
    info = machine_info(("numpy", "numba", "kinematics"))
    load = ", ".join(f"{x:.2f}" for x in info["loadavg_at_start"] or [])
    lines = ["# `kinematics.measures`: numpy path vs compiled kernel", "",
             f"{info['date_utc']} · {info['cpu_model']} ({info['cpus_usable']} CPUs usable, "
             f"load {load} at start) · Python {info['python']} · "
             + " · ".join(f"{k} {v}" for k, v in info["versions"].items()), "",
             f"One Jacobian per call (argument checks included) and one call on {N:,} "
             "Jacobians (threads: every CPU); length = the robot's reach; medians of 9 "
             "interleaved repeats.", "",
             "| robot | J | single, numpy [µs] | single, compiled [µs] | batch, numpy [J/s] "
             "| batch, compiled [J/s] | batch speed-up |", "|---|---|--:|--:|--:|--:|--:|"]
    for name in names:
        cases = cases_for(name)
        run_interleaved(cases, repeats=9)
        med = {c.key.split("/", 1)[1]: c.median for c in cases}
        robot = kin.load_robot(name)
        shape = kin.jacobian(robot, np.zeros(robot.dof)).shape
        lines.append(f"| {name} | {shape[0]}×{shape[1]} | {med['numpy/single'] * 1e6:.1f} | "
                     f"{med['compiled/single'] * 1e6:.1f} | {1 / med['numpy/batch']:,.0f} | "
                     f"{1 / med['compiled/batch']:,.0f} | "
                     f"{med['numpy/batch'] / med['compiled/batch']:.1f}× |")
        print(lines[-1], flush=True)
    (RESULTS_DIR / "measures.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

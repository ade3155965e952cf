"""Speed of the singularity monitor and analysis (not a test; run by hand).

    python benchmarks/bench_singularity.py

Prints the cost of one ``SingularityMonitor.update`` on every bundled arm (with and without
``qd``), of its building blocks, of ``measures`` on batches, and of a 100,000-sample
workspace sweep and full report of the Panda. Timings are the best of several repeats
(the machine may be shared).
"""

from __future__ import annotations

import tempfile
import time
import timeit

import numpy as np

import kinematics as kin
from kinematics.analysis import workspace_sweep
from kinematics.jacobian import jacobian_dot_from
from kinematics.report import make_report
from kinematics.singularity import SingularityMonitor, measures


def best_us(f, number: int = 2000, repeat: int = 7) -> float:
    return min(timeit.repeat(f, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    print("SingularityMonitor.update, one configuration [us] (best of 7 x 2000)")
    for name in kin.list_robots():
        r = kin.load_robot(name)
        mon = SingularityMonitor(r)
        q = r.random_q(seed=3)
        qd = np.full(r.dof, 0.1)
        with_qd = best_us(lambda m=mon, q=q, qd=qd: m.update(q, qd))
        without = best_us(lambda m=mon, q=q: m.update(q))
        print(f"  {name:<9} update(q, qd) {with_qd:6.1f}   update(q) {without:6.1f}")
    r = kin.load_robot("panda")
    q, qd = r.random_q(seed=3), np.full(7, 0.1)
    J = kin.jacobian(r, q)
    print("panda building blocks [us]:")
    print(f"  fk_jacobian          {best_us(lambda: kin.fk_jacobian(r, q)):6.1f}")
    print(f"  measures(J)          {best_us(lambda: measures(J)):6.1f}")
    print(f"  J-dot from J (fast)  {best_us(lambda: jacobian_dot_from(J, qd)):6.1f}")
    print(f"  kin.jacobian_dot     {best_us(lambda: kin.jacobian_dot(r, q, qd)):6.1f}")
    Q = r.random_q(100_000)
    JJ = kin.jacobian(r, Q)
    t = time.perf_counter()
    measures(JJ)
    print(f"measures on 100,000 Jacobians: {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    workspace_sweep(r, 100_000, progress=False)
    print(f"workspace_sweep, 100,000 samples: {time.perf_counter() - t:.2f} s")
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        res = make_report(r, d, samples=100_000, progress=False)
        print(f"make_report, 100,000 samples of the Panda: {time.perf_counter() - t:.2f} s "
              f"({', '.join(f'{k} {v:.2f}' for k, v in res.summary['timings'].items())})")


if __name__ == "__main__":
    main()

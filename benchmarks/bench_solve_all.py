#!/usr/bin/env python
"""Every IK solution in closed form, side by side: ``kinematics.ik.solve_all`` vs EAIK 1.2.2
(C++, subproblem decomposition; ``pip install eaik``, optional: without it only our rows).

Same poses for both, per robot: ``fk(q_i)`` of ``N`` random in-limit configurations (seed
0; ranges cut to ±2π). EAIK gets the same chain (axes and joint points at q = 0 read from
our model, as ``eaik.IK_HP.HPRobot``; the tool rotation folded into its target).

- **single**: median over repeats of one pass over 200 poses, one call per pose
  (``solve_all(robot, T_i)`` / ``HPRobot.IK(T_i)``), reported per pose;
- **batched**: one call on all ``N`` poses (``solve_all(robot, T)`` /
  ``HPRobot.IK_batched(T, 1)``, one worker thread: the same core count), per pose;
- **solutions**: total over the poses of the real solutions inside the joint limits (EAIK's
  moved into the limits by solve_all's rule, FK-verified to 1e-9, de-duplicated), and the
  largest FK residual (max abs entry of ``fk(q) − T``) of each side's returned solutions.

Timing: interleaved repeats, medians (benchmarks/common.py). Load average at start and end.

Run:  python benchmarks/bench_solve_all.py [--poses N] [--repeats R] [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    RESULTS_DIR,
    Case,
    fmt_ratio,
    fmt_us,
    machine_info,
    markdown_table,
    run_interleaved,
    time_loop,
    write_json,
)

import kinematics as kin  # noqa: E402

TWO_PI = 2 * np.pi


def _robots() -> list[tuple[str, kin.Robot]]:
    out = [("puma560 (bundled)", kin.load_robot("puma560")),
           ("ur5 (bundled)", kin.load_robot("ur5"))]
    try:
        root = Path(str(importlib.metadata.distribution("example-robot-data").locate_file(
            "cmeel.prefix/share/example-robot-data/robots")))
        for rel in ("ur_description/urdf/ur5_robot.urdf", "ur_description/urdf/ur10_robot.urdf"):
            if (root / rel).exists():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = kin.load_robot(str(root / rel), base="base_link", tip="tool0")
                out.append((f"{rel.split('/')[-1]} (example-robot-data)", r))
    except importlib.metadata.PackageNotFoundError:
        pass
    return out


def _eaik_for(robot: kin.Robot):  # type: ignore[no-untyped-def]
    """EAIK robot of the same chain and the rotation to fold into its targets."""
    from eaik.IK_HP import HPRobot

    chain = robot.chain(None)
    A = np.array(chain.T0)
    axes, pts = [], []
    for k in range(chain.n):
        axes.append(A[:3, 2])
        pts.append(A[:3, 3])
        A = A @ chain.steps[k]
    p = np.array(pts)
    P = np.vstack([p[0], np.diff(p, axis=0), A[:3, 3] - p[-1]])
    return HPRobot(np.array(axes), P), A[:3, :3]


def _eaik_solutions(robot: kin.Robot, eaik, R6T, T: np.ndarray) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    lo, hi = robot.joint_limits.T
    total, worst = 0, 0.0
    for Tk in T:
        Te = Tk.copy()
        Te[:3, :3] = Tk[:3, :3] @ R6T.T
        s = eaik.IK(Te)
        kept: list[np.ndarray] = []
        for qk, ls in zip(np.atleast_2d(s.Q), np.atleast_1d(s.is_LS), strict=False):
            if ls or qk.size == 0:
                continue
            err = float(np.abs(kin.fk(robot, qk) - Tk).max())
            worst = max(worst, err)
            qk = (qk + np.pi) % TWO_PI - np.pi
            qk = np.where(qk < lo, qk + TWO_PI, np.where(qk > hi, qk - TWO_PI, qk))
            if np.any(qk < lo) or np.any(qk > hi) or err > 1e-9:
                continue
            if all(np.abs(qk - o).max() > 1e-6 for o in kept):
                kept.append(qk)
        total += len(kept)
    return total, worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--poses", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = ap.parse_args()
    try:
        import eaik  # noqa: F401

        have_eaik = True
    except ImportError:
        have_eaik = False
    info = machine_info(["numpy", "numba", "eaik", "example-robot-data"])
    rows, record = [], {"machine": info, "robots": {}}
    for label, robot in _robots():
        lo, hi = robot.joint_limits.T
        q = np.random.default_rng(0).uniform(np.maximum(lo, -TWO_PI), np.minimum(hi, TWO_PI),
                                             (args.poses, robot.dof))
        T = np.ascontiguousarray(kin.fk(robot, q))
        singles = list(T[:200])
        sol = kin.ik.solve_all(robot, T)
        valid = ~np.isnan(sol.q[..., 0])
        Ts = kin.fk(robot, np.where(valid[..., None], sol.q, 0.0))
        ours_res = float(np.abs(Ts - T[:, None]).max(axis=(-1, -2))[valid].max())
        ours_n = int(sol.count.sum())
        cases = [
            Case("ours_single", lambda r=robot, s=singles: time_loop(
                lambda x: kin.ik.solve_all(r, x), s) / len(s), "pose"),
            Case("ours_batched", lambda r=robot, t=T: time_loop(
                lambda x: kin.ik.solve_all(r, x), [t]) / len(t), "pose"),
        ]
        eaik_n, eaik_res = None, None
        if have_eaik:
            e, R6T = _eaik_for(robot)
            Te = T.copy()
            Te[:, :3, :3] = T[:, :3, :3] @ R6T.T
            te_single = list(Te[:200])
            cases += [
                Case("eaik_single", lambda e=e, s=te_single: time_loop(e.IK, s) / len(s),
                     "pose"),
                Case("eaik_batched", lambda e=e, t=Te: time_loop(
                    lambda x: e.IK_batched(x, 1), [t]) / len(t), "pose"),
            ]
            eaik_n, eaik_res = _eaik_solutions(robot, e, R6T, T)
        run_interleaved(cases, args.repeats)
        med = {c.key: c.median for c in cases}
        record["robots"][label] = {"family": sol.family, "poses": args.poses,
                                   "solutions_ours": ours_n, "solutions_eaik": eaik_n,
                                   "max_residual_ours": ours_res,
                                   "max_residual_eaik": eaik_res,
                                   "singular_poses": int(sol.singular.sum()),
                                   **{c.key: c.stats() for c in cases}}
        ratio_s = fmt_ratio(med["ours_single"] / med["eaik_single"]) if have_eaik else "–"
        ratio_b = fmt_ratio(med["ours_batched"] / med["eaik_batched"]) if have_eaik else "–"
        rows.append([label, sol.family, fmt_us(med["ours_single"]),
                     fmt_us(med["eaik_single"]) if have_eaik else "–", ratio_s,
                     fmt_us(med["ours_batched"]),
                     fmt_us(med["eaik_batched"]) if have_eaik else "–", ratio_b,
                     f"{ours_n} / {eaik_n if eaik_n is not None else '–'}",
                     f"{ours_res:.1e} / {eaik_res:.1e}" if eaik_res is not None
                     else f"{ours_res:.1e} / –"])
    load_end = list(os.getloadavg())
    record["machine"]["loadavg_at_end"] = load_end
    table = markdown_table(
        ["robot", "family", "ours single µs", "EAIK single µs", "ratio", "ours batched µs",
         "EAIK batched µs", "ratio", "solutions ours / EAIK", "max FK residual ours / EAIK"],
        rows, "llrrrrrrrr")
    la0 = info["loadavg_at_start"]
    text = (f"# solve_all vs EAIK\n\n{args.poses} random in-limit poses per robot, "
            f"{args.repeats} interleaved repeats, medians per pose. Single: one call per pose "
            "(200 poses); batched: one call on all poses (EAIK: IK_batched, 1 thread).\n\n"
            f"{table}\n\n"
            f"Machine: {info['cpu_model']}, {info['cpus_usable']} usable CPUs; load average "
            f"{la0[0]:.2f} / {la0[1]:.2f} / {la0[2]:.2f} at start, "
            f"{load_end[0]:.2f} / {load_end[1]:.2f} / {load_end[2]:.2f} at end. "
            f"Versions: {info['versions']}. Git: {info['git']['head']}.\n")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "solve_all.md").write_text(text)
    write_json(args.out / "solve_all.json", record)
    print(text)


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""How ``kin.fk_jacobian`` scales with chain length (6 → 100 joints) and batch size
(1 → 1 M configurations), on 1 and 2 threads, and how far each point is from the
memory-bandwidth limit.

The chains are generated URDFs: ``n`` revolute joints, axes alternating z / y, a 0.1 m
offset between joints. Per configuration the call writes the pose (16 doubles) and the
Jacobian (6·n doubles): ``128 + 48 n`` bytes (464 B for 7 joints) and reads ``8 n`` bytes
of joint values. The bandwidth limit is the machine's copy bandwidth (bytes written per
second by a large ``np.copyto``, measured here) divided by the bytes written per
configuration: no batched FK+J can beat it once its output leaves the caches.

Batches of ``N·n > 3e7`` are skipped (their output alone would be ≥ 12 GB); batch 1 is a
Python loop of single calls (the fast path). Threads: ``kinematics.accel.set_threads(1|2)``;
batches below ``kinematics._engine.THRESHOLD`` run on one thread whatever the setting.

Writes ``results/scaling.md``, ``results/scaling.json`` and ``results/scaling.png``.

Run:  python benchmarks/bench_scaling.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import RESULTS_DIR, machine_info, markdown_table, write_json

import kinematics as kin
from kinematics import _engine, accel

LENGTHS = (6, 12, 25, 50, 100)
BATCHES = (1, 100, 10_000, 100_000, 1_000_000)
MAX_WORK = 3e7  # N · n above which a point is skipped


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def chain_urdf(n: int) -> str:
    """A serial chain of ``n`` revolute joints (axes z, y, z, y, ...), links 0.1 m apart."""
    links = "".join(f'<link name="l{i}"/>' for i in range(n + 1))
    joints = "".join(
        f'<joint name="j{i}" type="revolute"><parent link="l{i}"/><child link="l{i + 1}"/>'
        f'<origin xyz="0 0 0.1" rpy="0 0 {0.1 * i:.3f}"/><axis xyz="0 {i % 2} {1 - i % 2}"/>'
        '<limit lower="-3" upper="3" velocity="1" effort="1"/></joint>' for i in range(n))
    return f'<?xml version="1.0"?><robot name="chain{n}">{links}{joints}</robot>'


def copy_bandwidth(mb: int = 512, repeats: int = 5) -> float:
    """Bytes written per second by ``np.copyto`` of ``mb`` MB (median of ``repeats``)."""
    src = np.ones(mb * 2**20 // 8)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return src.nbytes / statistics.median(times)


def time_point(robot: kin.Robot, N: int, repeats: int, budget_s: float) -> float:
    """Median seconds per configuration of ``kin.fk_jacobian`` at batch ``N``."""
    if N == 1:
        qs = list(robot.random_q(500, seed=1))
        kin.fk_jacobian(robot, qs[0])
        samples = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            for q in qs:
                kin.fk_jacobian(robot, q)
            samples.append((time.perf_counter() - t0) / len(qs))
        return statistics.median(samples)
    Q = robot.random_q(N, seed=2)
    t0 = time.perf_counter()
    kin.fk_jacobian(robot, Q)  # warm-up (first touch of the output pages)
    first = time.perf_counter() - t0
    reps = max(1, min(repeats, int(budget_s / max(first, 1e-9))))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        kin.fk_jacobian(robot, Q)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) / N


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller grid (smoke run)")
    p.add_argument("--out", type=Path, default=RESULTS_DIR)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    lengths = (6, 25) if args.quick else LENGTHS
    batches = (1, 100, 10_000) if args.quick else BATCHES
    if not accel.enabled():
        sys.exit("the compiled backend is off (KINEMATICS_ACCEL=0?): nothing to scale")
    info = machine_info(("numpy", "numba", "kinematics", "matplotlib"))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    bw = copy_bandwidth()
    log(f"copy bandwidth {bw / 1e9:.1f} GB/s written; {cpus} CPUs; load {os.getloadavg()}")
    thread_counts = (1, 2) if (cpus or 1) >= 2 else (1,)
    previous = accel.threads()
    points: list[dict[str, Any]] = []
    try:
        for n in lengths:
            robot = kin.robot_from_urdf(chain_urdf(n), tip=f"l{n}")
            bytes_out = 128 + 48 * n
            for N in batches:
                if N * n > MAX_WORK:
                    continue
                for t in thread_counts:
                    if t > 1 and N < _engine.THRESHOLD:
                        continue
                    accel.set_threads(t)
                    s = time_point(robot, N, args.repeats, budget_s=3.0)
                    rate = 1 / s
                    limit = bw / bytes_out
                    points.append({"joints": n, "batch": N, "threads": t,
                                   "s_per_config": s, "configs_per_s": rate,
                                   "bytes_written_per_config": bytes_out,
                                   "bandwidth_limit_configs_per_s": limit,
                                   "fraction_of_limit": rate / limit})
                    log(f"  n={n:3d} N={N:>9,} threads={t}: {s * 1e9:10.1f} ns/config "
                        f"{rate:>14,.0f} configs/s  {rate / limit:6.1%} of the bandwidth limit")
    finally:
        accel.set_threads(previous)

    rows = []
    for pt in points:
        rows.append([str(pt["joints"]), f"{pt['batch']:,}", str(pt["threads"]),
                     f"{pt['s_per_config'] * 1e6:.3g}", f"{pt['configs_per_s']:,.0f}",
                     str(pt["bytes_written_per_config"]),
                     f"{pt['bandwidth_limit_configs_per_s']:,.0f}",
                     f"{pt['fraction_of_limit']:.1%}",
                     f"{1 / pt['fraction_of_limit']:.1f}×"])
    table = markdown_table(
        ["joints", "batch", "threads", "µs / config", "configs/s", "bytes written / config",
         "bandwidth limit, configs/s", "% of limit", "distance from limit"], rows, "rrrrrrrrr")
    speedup_rows = []
    for n in lengths:
        for N in batches:
            one = [p for p in points if p["joints"] == n and p["batch"] == N
                   and p["threads"] == 1]
            two = [p for p in points if p["joints"] == n and p["batch"] == N
                   and p["threads"] == 2]
            if one and two:
                speedup_rows.append([str(n), f"{N:,}",
                                     f"{one[0]['configs_per_s']:,.0f}",
                                     f"{two[0]['configs_per_s']:,.0f}",
                                     f"{two[0]['configs_per_s'] / one[0]['configs_per_s']:.2f}×"])
    speedup = markdown_table(["joints", "batch", "1 thread, configs/s", "2 threads, configs/s",
                              "2 / 1"], speedup_rows, "rrrrr")
    suffix = "_quick" if args.quick else ""
    png = args.out / f"scaling{suffix}.png"
    plot(points, lengths, png)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    md = "\n".join([
        "# Scaling of `kin.fk_jacobian`: chain length × batch size × threads", "",
        f"{info['date_utc']} · {info['cpu_model']} ({cpus} CPUs, shared; load {load} at "
        f"the end) · numpy {info['versions']['numpy']} · numba {info['versions']['numba']}"
        + (" · **--quick**" if args.quick else ""), "",
        f"Copy bandwidth of this machine: **{bw / 1e9:.1f} GB/s** written (`np.copyto` of "
        "512 MB, median of 5). Bandwidth limit of a point = copy bandwidth / bytes written "
        "per configuration (pose 128 B + Jacobian 48·n B; 464 B at 7 joints); "
        "'distance from limit' = limit / measured rate.", "",
        f"![scaling](scaling{suffix}.png)", "",
        "## All points", "", table, "",
        "## 1 vs 2 threads", "",
        speedup if speedup_rows else "(no batch at or above the threading threshold)", "",
        "## Notes", "",
        "- Generated chains: revolute joints, axes alternating z / y, 0.1 m apart; tool = "
        "last link.",
        "- Batch 1 is a Python loop of single calls `kin.fk_jacobian(robot, q)` (the "
        "single-configuration fast path); its time is dominated by the Python call, so its "
        "distance from the bandwidth limit says nothing about the kernel.",
        f"- Batches of N·n > {MAX_WORK:.0e} are skipped (output ≥ 12 GB).",
        f"- Threads: `kinematics.accel.set_threads(1|2)`; batches under "
        f"{_engine.THRESHOLD:,} configurations always run on one thread.",
        f"- Median of up to {args.repeats} calls per point (fewer when one call takes "
        "more than ~0.6 s); the machine is shared by other jobs, so absolute figures vary "
        "by tens of percent between runs.",
        ""])
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"scaling{suffix}.md").write_text(md)
    write_json(args.out / f"scaling{suffix}.json",
               {"benchmark": "scaling", "machine": info, "copy_bandwidth_bytes_per_s": bw,
                "threshold": _engine.THRESHOLD, "points": points})
    log(f"Wrote {args.out / f'scaling{suffix}.md'}, .json and {png}")


def plot(points: list[dict[str, Any]], lengths: tuple[int, ...], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, n in enumerate(lengths):
        c = colors[i % len(colors)]
        for t, style in ((1, "-o"), (2, "--s")):
            pts = [p for p in points if p["joints"] == n and (p["threads"] == t or (
                t == 2 and p["threads"] == 1 and p["batch"] < _engine.THRESHOLD))]
            if t == 2 and not any(p["threads"] == 2 for p in pts):
                continue
            xs = [p["batch"] for p in pts]
            ax1.plot(xs, [p["configs_per_s"] for p in pts], style, color=c,
                     label=f"{n} joints, {t} thread{'s' if t > 1 else ''}")
            ax2.plot(xs, [100 * p["fraction_of_limit"] for p in pts], style, color=c)
        limit = [p["bandwidth_limit_configs_per_s"] for p in points if p["joints"] == n]
        if limit:
            ax1.axhline(limit[0], color=c, lw=0.8, ls=":")
    ax1.set(xscale="log", yscale="log", xlabel="configurations per call",
            ylabel="configurations / s",
            title="kin.fk_jacobian throughput (dotted: bandwidth limit)")
    ax2.set(xscale="log", yscale="log", xlabel="configurations per call",
            ylabel="% of the memory-bandwidth limit", title="Distance from the limit")
    ax1.legend(fontsize=7, ncol=2)
    for ax in (ax1, ax2):
        ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()

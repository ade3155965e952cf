"""Reachability-map throughput: in-process vs a local Dask cluster of 2 workers.

Same map, same seed, one run: IK solves per second for each executor, the speed-up, and a
check that both maps are identical. Then a paper estimate of a full map's wall time.

    python benchmarks/bench_reach.py [--robot panda] [--voxel 0.1] [--orientations 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import kinematics as kin
from kinematics.reachability import reachability_map, voxel_centers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--robot", default="panda")
    ap.add_argument("--voxel", type=float, default=0.12)
    ap.add_argument("--orientations", type=int, default=20)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    from distributed import Client, LocalCluster

    robot = kin.load_robot(args.robot)
    kw = {"voxel": args.voxel, "orientations": args.orientations, "chunk": args.chunk,
          "progress": False}
    t = time.perf_counter()
    local = reachability_map(robot, **kw)
    t_local = time.perf_counter() - t
    def on_dask(environ: dict[str, str] | None) -> tuple[float, object]:
        import dask

        settings = {} if environ is None else {"distributed.nanny.pre-spawn-environ": environ}
        with dask.config.set(settings), LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("kinematics.ik"))  # warm the workers' imports
            reachability_map(robot, client=client, **{**kw, "voxel": 0.5})  # and the kernels
            t = time.perf_counter()
            m = reachability_map(robot, client=client, **kw)
            return time.perf_counter() - t, m

    # Dask's nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536, which returns freed
    # memory to the OS at once: every large temporary of the batched solver then costs
    # page faults. Run with Dask's default, and with glibc keeping its memory.
    t_dask, dist = on_dask(None)
    from kinematics.chunks import WORKER_ENVIRON

    t_tuned, tuned = on_dask(WORKER_ENVIRON)
    rate_local, rate_dask = local.solves / t_local, local.solves / t_dask
    rate_tuned = local.solves / t_tuned
    # Paper estimate: a full map at 2 cm and 50 orientations.
    R = robot.reach
    centers = voxel_centers([[-R, R]] * 3, 0.02)
    inside = (centers**2).sum(1) <= (R + 0.02) ** 2
    full = int(inside.sum()) * 50
    lines = [
        f"# Reachability map throughput ({args.robot}, {args.voxel} m voxels, "
        f"{args.orientations} orientations, {local.solves} IK problems)",
        "",
        "| executor | wall time [s] | IK solves/s | speed-up |",
        "|---|---|---|---|",
        f"| in-process (1 core) | {t_local:.1f} | {rate_local:,.0f} | 1.00× |",
        f"| Dask LocalCluster, 2 workers (Dask's default worker environment) | {t_dask:.1f} "
        f"| {rate_dask:,.0f} | {rate_dask / rate_local:.2f}× |",
        f"| Dask LocalCluster, 2 workers, `MALLOC_TRIM_THRESHOLD_=268435456 "
        f"MALLOC_MMAP_THRESHOLD_=33554432` | {t_tuned:.1f} | {rate_tuned:,.0f} | "
        f"{rate_tuned / rate_local:.2f}× |",
        "",
        f"Maps identical (in-process, Dask, Dask tuned): "
        f"{local.equals(dist) and local.equals(tuned)}.",
        "",
        f"Paper estimate, full {args.robot} map at 2 cm voxels × 50 orientations: "
        f"{full:,} IK problems → {full / rate_local / 3600:.1f} h in-process; with N Dask "
        f"workers (tuned environment, {rate_tuned / 2:,.0f} solves/s each) ≈ "
        f"{full / (rate_tuned / 2) / 3600:.1f} h / N, e.g. 32 workers: "
        f"{full / (rate_tuned / 2 * 32) / 60:.0f} min (solve time scales with the share of "
        f"unreachable targets, which need every restart).",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reach.md").write_text(text + "\n")
    (out / "reach.json").write_text(json.dumps({
        "robot": args.robot, "solves": local.solves, "t_local_s": t_local, "t_dask_s": t_dask,
        "t_dask_tuned_s": t_tuned, "speedup": rate_dask / rate_local,
        "speedup_tuned": rate_tuned / rate_local,
        "identical": bool(local.equals(dist) and local.equals(tuned)),
        "full_map_problems": full, "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d"),
    }, indent=2))


if __name__ == "__main__":
    main()

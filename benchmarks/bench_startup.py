#!/usr/bin/env python
"""Start-up: a new user's first calls, each in a fresh process with an empty kernel cache.

Every probe runs in a new interpreter with ``NUMBA_CACHE_DIR`` pointed at a new empty
temporary folder (cold: every kernel the probe uses compiles), then once more on that
folder (warm: the kernels load from the cache). Wall time of the probe's code in the
process (``import kinematics`` included), and the process's CPU time (user + system),
which moves less with the load of a shared machine; medians over ``--runs``. The load
average is read before and after each probe.

Probes and their budgets (issue 19, cold, a quiet moment of the 2-core machine):

- ``import``: ``import kinematics`` (≤ 0.3 s).
- ``fk_jacobian``: ``load_robot("panda")`` and the first ``fk_jacobian`` (≤ 2 s; warm ≤ 0.6 s).
- ``readme``: the README's snippet, ``fk_jacobian`` + ``measures`` + ``ik.solve`` (≤ 8 s).
- ``control``: the first monitored control step (``ResolvedRateController.velocity`` with a
  ``SingularityMonitor``) (≤ 5 s).
- ``simulate`` (``--simulate``): ``kinematics simulate panda`` end to end, as a command
  (≤ 30 s); needs PyBullet.

    python benchmarks/bench_startup.py [--runs 3] [--simulate]   # writes results/startup.md
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent

PANDA_Q = "np.array([0.3, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8])"
PROBES = {
    "import": ("import kinematics", 0.3),
    "fk_jacobian": ("import numpy as np, kinematics as kin\n"
                    "r = kin.load_robot('panda')\n"
                    f"kin.fk_jacobian(r, {PANDA_Q})", 2.0),
    "readme": ("import numpy as np, kinematics as kin\n"
               "r = kin.load_robot('panda')\n"
               f"T, J = kin.fk_jacobian(r, {PANDA_Q})\n"
               "kin.measures(J).sigma_min\n"
               "kin.ik.solve(r, T)", 8.0),
    "control": ("import numpy as np, kinematics as kin\n"
                "r = kin.load_robot('panda')\n"
                f"q = {PANDA_Q}\n"
                "c = kin.ik.ResolvedRateController(r, dt=1e-3, "
                "monitor=kin.SingularityMonitor(r))\n"
                "c.velocity(q, kin.fk(r, q + 0.05))", 5.0),
}
SIMULATE_BUDGET = 30.0

WRAPPER = """
import resource, time, json, sys
t = time.perf_counter()
exec(compile(sys.argv[1], "<probe>", "exec"))
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": ru.ru_utime + ru.ru_stime}))
"""


def _env(cache: str) -> dict[str, str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env.pop("KINEMATICS_ACCEL", None)
    return env


def probe(code: str, cache: str) -> dict[str, float]:
    """Wall and CPU seconds of ``code`` in a fresh interpreter using ``cache``."""
    done = subprocess.run([sys.executable, "-c", WRAPPER, code], env=_env(cache),
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def simulate(cache: str, out: str) -> dict[str, float]:
    """``kinematics simulate panda`` as a command: wall and children's CPU seconds."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kinematics.cli", "simulate", "panda", "--out", out],
                   env=_env(cache), capture_output=True, text=True, check=True,
                   cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t
    after = os.times()
    return {"wall": wall, "cpu": (after.children_user - before.children_user)
            + (after.children_system - before.children_system)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="fresh caches per probe (median)")
    ap.add_argument("--simulate", action="store_true", help="also time kinematics simulate")
    ap.add_argument("--only", nargs="*", help="probes to run (default: all)")
    args = ap.parse_args()
    rows = []
    names = args.only or list(PROBES)
    for name in names + (["simulate"] if args.simulate else []):
        cold: list[dict[str, float]] = []
        warm: list[dict[str, float]] = []
        loads = [os.getloadavg()[0]]
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="kinematics-startup-") as cache:
                if name == "simulate":
                    cold.append(simulate(cache, os.path.join(cache, "out")))
                    warm.append(simulate(cache, os.path.join(cache, "out")))
                else:
                    cold.append(probe(PROBES[name][0], cache))
                    warm.append(probe(PROBES[name][0], cache))
            loads.append(os.getloadavg()[0])
        budget = SIMULATE_BUDGET if name == "simulate" else PROBES[name][1]
        row = {"probe": name, "budget": budget,
               "cold_wall": statistics.median(r["wall"] for r in cold),
               "cold_cpu": statistics.median(r["cpu"] for r in cold),
               "warm_wall": statistics.median(r["wall"] for r in warm),
               "warm_cpu": statistics.median(r["cpu"] for r in warm),
               "cold_all": [round(r["wall"], 2) for r in cold],
               "load": (min(loads), max(loads))}
        rows.append(row)
        print(f"{name:12s} cold {row['cold_wall']:6.2f} s (cpu {row['cold_cpu']:6.2f}) "
              f"warm {row['warm_wall']:5.2f} s  budget {budget:g} s  runs {row['cold_all']}  "
              f"load {row['load'][0]:.1f}-{row['load'][1]:.1f}", flush=True)
    write(rows, args.runs)


def write(rows: list[dict[str, object]], runs: int) -> None:
    RESULTS.mkdir(exist_ok=True)
    lines = [
        "# Start-up: first calls in a fresh process, empty kernel cache",
        "",
        f"`python benchmarks/bench_startup.py` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())},"
        f" {os.cpu_count()} cores, Python {sys.version.split()[0]}; median of {runs} fresh "
        "caches each). Cold: `NUMBA_CACHE_DIR` a new empty folder, so every kernel the probe "
        "uses compiles; warm: the same probe again on that folder (kernels loaded). Wall "
        "time of the probe in its process, `import kinematics` included; CPU = user + "
        "system seconds of that process (moves less with the machine's load). Load average "
        "(1 min) over the probe's runs in the last column.",
        "",
        "| probe | budget (cold) [s] | cold wall [s] | cold CPU [s] | warm wall [s] | "
        "warm CPU [s] | load |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        lo, hi = r["load"]  # type: ignore[misc]
        lines.append(f"| {r['probe']} | {r['budget']:g} | {r['cold_wall']:.2f} | "
                     f"{r['cold_cpu']:.2f} | {r['warm_wall']:.2f} | {r['warm_cpu']:.2f} | "
                     f"{lo:.1f}–{hi:.1f} |")
    (RESULTS / "startup.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'startup.md'}")


if __name__ == "__main__":
    main()

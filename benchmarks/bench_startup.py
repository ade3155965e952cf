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
    python benchmarks/bench_startup.py --before /path/to/old/checkout   # + "before" columns

``--before`` runs every probe on another checkout too (its ``kinematics`` first on the
path), interleaved with this one run by run, so that both see the same load.
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


def _env(cache: str, repo: Path = REPO) -> dict[str, str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(repo), env.get("PYTHONPATH", "")])
    env.pop("KINEMATICS_ACCEL", None)
    return env


def probe(code: str, cache: str, repo: Path = REPO) -> dict[str, float]:
    """Wall and CPU seconds of ``code`` in a fresh interpreter using ``cache``."""
    done = subprocess.run([sys.executable, "-c", WRAPPER, code], env=_env(cache, repo),
                          capture_output=True, text=True, check=True, cwd=tempfile.gettempdir())
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def simulate(cache: str, out: str, repo: Path = REPO) -> dict[str, float]:
    """``kinematics simulate panda`` as a command: wall and children's CPU seconds."""
    before = os.times()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kinematics.cli", "simulate", "panda", "--out", out],
                   env=_env(cache, repo), capture_output=True, text=True, check=True,
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
    ap.add_argument("--before", type=Path, help="another checkout to measure alongside")
    args = ap.parse_args()
    rows = []
    names = args.only or list(PROBES)
    repos = {"after": REPO} if args.before is None else {"before": args.before, "after": REPO}
    for name in names + (["simulate"] if args.simulate else []):
        res: dict[str, dict[str, list[dict[str, float]]]] = {
            k: {"cold": [], "warm": []} for k in repos}
        loads = [os.getloadavg()[0]]
        for _ in range(args.runs):
            for key, repo in repos.items():
                with tempfile.TemporaryDirectory(prefix="kinematics-startup-") as cache:
                    for phase in ("cold", "warm"):
                        if name == "simulate":
                            r = simulate(cache, os.path.join(cache, "out"), repo)
                        else:
                            r = probe(PROBES[name][0], cache, repo)
                        res[key][phase].append(r)
            loads.append(os.getloadavg()[0])
        budget = SIMULATE_BUDGET if name == "simulate" else PROBES[name][1]
        row: dict[str, object] = {"probe": name, "budget": budget,
                                  "load": (min(loads), max(loads))}
        for key in repos:
            for phase in ("cold", "warm"):
                for what in ("wall", "cpu"):
                    row[f"{key}_{phase}_{what}"] = statistics.median(
                        r[what] for r in res[key][phase])
        rows.append(row)
        print(f"{name:12s} " + "  ".join(
            f"{key}: cold {row[f'{key}_cold_wall']:6.2f} s (cpu {row[f'{key}_cold_cpu']:6.2f}) "
            f"warm {row[f'{key}_warm_wall']:5.2f} s" for key in repos)
            + f"  budget {budget:g} s  load {min(loads):.1f}-{max(loads):.1f}", flush=True)
    write(rows, args.runs, list(repos))


def write(rows: list[dict[str, object]], runs: int, keys: list[str]) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "# Start-up: first calls in a fresh process, empty kernel cache",
        "",
        f"`python benchmarks/bench_startup.py` ({stamp}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}; median of {runs} fresh caches each). Cold: "
        "`NUMBA_CACHE_DIR` a new empty folder, so every kernel the probe uses compiles; "
        "warm: the same probe again on that folder (kernels loaded). Wall time of the "
        "probe in its process, `import kinematics` included (`simulate`: the whole "
        "command); CPU = user + system seconds of that process, which moves less with "
        "the machine's load. Load average (1 min) over the probe's runs in the last "
        "column." + (" *before*: the other checkout (`--before`), run interleaved."
                     if "before" in keys else ""),
        "",
    ]
    head = "| probe | budget (cold) [s] |"
    rule = "|---|--:|"
    for key in keys:
        tag = "" if key == "after" else f" {key}"
        head += (f" cold wall{tag} [s] | cold CPU{tag} [s] | warm wall{tag} [s] |")
        rule += "--:|--:|--:|"
    lines += [head + " load |", rule + "--:|"]
    for r in rows:
        lo, hi = r["load"]  # type: ignore[misc]
        line = f"| {r['probe']} | {r['budget']:g} |"
        for key in keys:
            line += (f" {r[f'{key}_cold_wall']:.2f} | {r[f'{key}_cold_cpu']:.2f} | "
                     f"{r[f'{key}_warm_wall']:.2f} |")
        lines.append(line + f" {lo:.1f}–{hi:.1f} |")
    (RESULTS / "startup.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS / 'startup.md'}")


if __name__ == "__main__":
    main()

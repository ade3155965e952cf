"""Shared helpers for the speed benchmarks: timing, statistics, machine info, tables.

Timing rules used by every benchmark here:

- ``time.perf_counter``; the garbage collector is off inside a timed region (as ``timeit``).
- Every case is warmed up once, then the cases are timed *interleaved* (repeat 1 of every
  case, then repeat 2, ..., with the order rotated each round), so that a burst of load on a
  shared machine hits all contenders alike instead of one of them.
- The figure reported is the **median** over the repeats; the quartiles go along with it.
"""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"

# Environment variables that change numeric speed; recorded verbatim (None when unset).
ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MALLOC_ARENA_MAX",
            "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MKL_NUM_THREADS",
            "NUMEXPR_NUM_THREADS", "PYTHONHASHSEED")


# --------------------------------------------------------------------------- timing


def time_loop(step: Callable[[Any], object], inputs: Sequence[Any]) -> float:
    """Seconds for one pass of ``for x in inputs: step(x)`` (GC disabled)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for x in inputs:
            step(x)
        t1 = time.perf_counter()
    finally:
        if gc_was_enabled:
            gc.enable()
    return t1 - t0


def time_calls(fn: Callable[[Any], object], arg: Any, number: int) -> float:
    """Seconds per call of ``fn(arg)``, averaged over ``number`` back-to-back calls."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn(arg)
        t1 = time.perf_counter()
    finally:
        if gc_was_enabled:
            gc.enable()
    return (t1 - t0) / number


def calls_for(fn: Callable[[Any], object], arg: Any, target_s: float) -> int:
    """How many back-to-back calls of ``fn(arg)`` take about ``target_s`` (at least 1)."""
    per_call = time_calls(fn, arg, 1)
    return max(1, round(target_s / max(per_call, 1e-9)))


@dataclass
class Case:
    """One timed thing.

    Attributes:
        key: Identifier (JSON key).
        sample: Runs once and returns the measured quantity of one repeat, already divided by
            ``per`` (e.g. seconds per configuration).
        per: What one measured unit is (``"call"``, ``"config"``), for the record.
        samples: Filled by :func:`run_interleaved`.
    """

    key: str
    sample: Callable[[], float]
    per: str = "call"
    info: dict[str, Any] = field(default_factory=dict)
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def stats(self) -> dict[str, Any]:
        return {"per": self.per, **summarize(self.samples), **self.info}


def summarize(samples: Sequence[float]) -> dict[str, Any]:
    """Median, quartiles, extremes and the raw samples (seconds)."""
    s = sorted(samples)
    q1, _, q3 = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else (s * 3)
    return {"median_s": statistics.median(s), "q1_s": q1, "q3_s": q3, "min_s": s[0],
            "max_s": s[-1], "repeats": len(s), "samples_s": list(samples)}


def run_interleaved(cases: Sequence[Case], repeats: int, warmup: int = 1,
                    progress: Callable[[str], None] | None = None) -> None:
    """Warm every case up, then take ``repeats`` samples of each, interleaved (rotating)."""
    for c in cases:
        for _ in range(warmup):
            c.sample()
    k = len(cases)
    for r in range(repeats):
        for c in list(cases[r % k:]) + list(cases[: r % k]):
            c.samples.append(c.sample())
        if progress is not None:
            progress(f"  repeat {r + 1}/{repeats} done")


# --------------------------------------------------------------------------- machine info


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    path = Path("/proc/cpuinfo")
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Installed distribution versions (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state() -> dict[str, Any]:
    """HEAD of the repository and whether the library sources have uncommitted changes."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True,
                               text=True, check=False)
        except FileNotFoundError:  # no git on this machine
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    status = git("status", "--porcelain", "--", "kinematics")
    return {"head": git("rev-parse", "HEAD"),
            "kinematics_uncommitted_changes": None if status is None else bool(status)}


def blas_info() -> dict[str, Any]:
    """numpy's BLAS as numpy reports it."""
    import numpy as np

    cfg = np.show_config(mode="dicts")
    blas = cfg.get("Build Dependencies", {}).get("blas", {})
    return {k: blas.get(k) for k in ("name", "version", "openblas configuration")}


def machine_info(packages: Iterable[str]) -> dict[str, Any]:
    """Everything that explains a number: CPU, load, Python, versions, environment."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(affinity) if affinity is not None else None,
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "versions": package_versions(packages),
        "env": {k: os.environ.get(k) for k in ENV_VARS},
        "blas": blas_info(),
        "git": git_state(),
    }


# --------------------------------------------------------------------------- output


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]],
                   align: str | None = None) -> str:
    """A GitHub markdown table; ``align`` is one of ``l``/``r`` per column."""
    rows = [list(map(str, r)) for r in rows]
    align = align or "l" * len(headers)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def fmt(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if a == "r" else c.ljust(w)
                                 for c, w, a in zip(cells, widths, align, strict=True)) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else ("-" * (w + 2))
                          for w, a in zip(widths, align, strict=True)) + "|"
    return "\n".join([fmt(headers), rule, *map(fmt, rows)])


def fmt_us(seconds: float) -> str:
    """Microseconds with three significant digits."""
    us = seconds * 1e6
    return f"{us:.3g}" if us < 100 else f"{us:.0f}"


def fmt_rate(per_s: float) -> str:
    """A rate with thousands separators, three significant digits."""
    return f"{float(f'{per_s:.3g}'):,.0f}"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}×" if x < 10 else f"{x:.1f}×"


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")

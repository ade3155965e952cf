"""URDF parse time and peak memory for generated serial chains of 1,000 … 10,000 joints.

Times :func:`kinematics.parse_urdf` alone (XML → links, joints, defects; no ``Robot``): the
median of a few runs, with the garbage collector off while timing, and the peak of Python
allocations during one parse (``tracemalloc``). Writes ``results/load.md``.

    python benchmarks/bench_load.py [--sizes 1000 10000] [--repeats 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

import kinematics as kin


def chain_urdf(n: int) -> str:
    """A serial chain of ``n`` revolute joints (alternating z / y axes, 0.1 m apart)."""
    parts = ['<?xml version="1.0"?>\n<robot name="chain">\n  <link name="l0"/>\n']
    for i in range(1, n + 1):
        axis = "0 0 1" if i % 2 else "0 1 0"
        parts.append(
            f'  <link name="l{i}"><inertial><mass value="1"/></inertial></link>\n'
            f'  <joint name="j{i}" type="revolute"><parent link="l{i - 1}"/>'
            f'<child link="l{i}"/>\n    <origin xyz="0 0 0.1" rpy="0 0 0"/>'
            f'<axis xyz="{axis}"/>\n    <limit lower="-3" upper="3" velocity="2" effort="10"/>'
            "</joint>\n")
    parts.append("</robot>\n")
    return "".join(parts)


def expat_only(text: str) -> None:
    """The floor: expat over the same document with a no-op Python start-element handler."""
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda tag, attrib: None
    parser.Parse(text, True)


def time_calls(fn: Callable[[str], object], text: str, repeats: int) -> list[float]:
    fn(text)  # warm-up
    out = []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn(text)
            out.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return out


def peak_bytes(text: str) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        kin.parse_urdf(text)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        text = chain_urdf(n)
        model = kin.parse_urdf(text)
        if len(model.joints) != n or model.defects:  # check before timing
            raise SystemExit(f"chain of {n}: parsed {len(model.joints)} joints, "
                             f"{len(model.defects)} defects")
        times = time_calls(kin.parse_urdf, text, args.repeats)
        floor = statistics.median(time_calls(expat_only, text, args.repeats))
        q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
        rows.append((n, len(text.encode()), statistics.median(times), q1, q3, floor,
                     peak_bytes(text)))
        print(f"{n:>6} joints: median {statistics.median(times) * 1e3:8.1f} ms "
              f"(expat alone {floor * 1e3:.1f} ms)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# URDF parse: generated serial chains",
        "",
        "`kin.parse_urdf` on a chain of n revolute joints (one `<link>` with an `<inertial>`",
        f"and one `<joint>` with origin, axis and limit per joint). Median of {args.repeats} "
        "runs after one warm-up, GC off while timing; peak = largest Python allocation total "
        "during one parse (tracemalloc, includes the parser's own nodes and the model).",
        "",
        "\"expat alone\" is the floor for any expat-based reader: the same document through "
        "expat with a no-op Python start-element handler.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end of the run (other jobs share it), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}.",
        "",
        "| joints | document | median | quartiles | per joint | expat alone | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, size, med, q1, q3, floor, peak in rows:
        lines.append(f"| {n:,} | {size / 1e6:.2f} MB | {med * 1e3:.1f} ms | "
                     f"{q1 * 1e3:.1f}–{q3 * 1e3:.1f} ms | {med / n * 1e6:.1f} µs | "
                     f"{floor * 1e3:.1f} ms | {peak / 1e6:.1f} MB |")
    if len(rows) > 1:
        (n0, _, t0, *_, m0), (n1, _, t1, *_, m1) = rows[0], rows[-1]
        lines += ["", f"From {n0:,} to {n1:,} joints (×{n1 / n0:g}): time ×{t1 / t0:.1f}, "
                      f"peak memory ×{m1 / m0:.1f} (linear would be ×{n1 / n0:g})."]
    (out / "load.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'load.md'}")


if __name__ == "__main__":
    main()

"""Load time and peak memory for generated serial chains of 1,000 … 10,000 joints.

Times, from a file on disk, :func:`kinematics.parse_urdf` alone (XML → links, joints,
defects; no ``Robot``), the full :func:`kinematics.load_robot` (read + parse + ``Robot``),
and ``load_robot`` plus building the tip's evaluation chain (what the first ``fk`` call adds;
chains are built lazily): the median of a few runs, with the garbage collector off while
timing, and the peak of Python allocations during one call (``tracemalloc``). The bar of
issue 11: a 10,000-joint chain loads in ≤ 2 s. Writes ``results/load.md``.

    python benchmarks/bench_load.py [--sizes 1000 10000] [--repeats 5] [--out DIR]
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from xml.parsers import expat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package
import kinematics as kin  # noqa: E402


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


def load(path: str) -> kin.Robot:
    """The full load: ``load_robot`` from the file."""
    return kin.load_robot(path)


def load_and_chain(path: str) -> kin.Robot:
    """``load_robot`` plus the tip's evaluation chain (built at the first ``fk``)."""
    robot = kin.load_robot(path)
    robot.chain()
    return robot


CPU: dict[int, list[float]] = {}
"""Process CPU time of each timed call of :func:`time_calls`, by ``id`` of its wall list."""


def time_calls(fn: Callable[[str], object], text: str, repeats: int) -> list[float]:
    """Wall times of ``repeats`` calls (CPU times go to :data:`CPU`)."""
    fn(text)  # warm-up
    out, cpu = [], []
    for _ in range(repeats):
        gc.collect()
        gc.disable()
        try:
            c0, t0 = time.process_time(), time.perf_counter()
            fn(text)
            out.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        finally:
            gc.enable()
    CPU[id(out)] = cpu
    return out


def peak_bytes(fn: Callable[[str], object], arg: str) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        fn(arg)
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
    tmp = tempfile.TemporaryDirectory()
    for n in args.sizes:
        text = chain_urdf(n)
        path = os.path.join(tmp.name, f"chain{n}.urdf")
        Path(path).write_text(text)
        model = kin.parse_urdf(text)
        if len(model.joints) != n or model.defects:  # check before timing
            raise SystemExit(f"chain of {n}: parsed {len(model.joints)} joints, "
                             f"{len(model.defects)} defects")
        robot = load_and_chain(path)
        if robot.dof != n or robot.chain().n != n:
            raise SystemExit(f"chain of {n}: loaded {robot.dof} joints")
        times = time_calls(kin.parse_urdf, text, args.repeats)
        floor = statistics.median(time_calls(expat_only, text, args.repeats))
        t_load = time_calls(load, path, args.repeats)
        t_ready = time_calls(load_and_chain, path, args.repeats)
        q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
        rows.append((n, len(text.encode()), statistics.median(times), q1, q3, floor,
                     peak_bytes(kin.parse_urdf, text), t_load, t_ready,
                     peak_bytes(load, path), peak_bytes(load_and_chain, path)))
        print(f"{n:>6} joints: parse {statistics.median(times) * 1e3:8.1f} ms "
              f"(expat alone {floor * 1e3:.1f} ms), load_robot "
              f"{statistics.median(t_load) * 1e3:.1f} ms, + chain "
              f"{statistics.median(t_ready) * 1e3:.1f} ms")
    tmp.cleanup()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def ms(ts: list[float]) -> str:
        q1, med, q3 = statistics.quantiles(ts, n=4) if len(ts) > 1 else (ts[0],) * 3
        return f"{statistics.median(ts) * 1e3:.1f} ms ({q1 * 1e3:.0f}–{q3 * 1e3:.0f})"

    lines = [
        "# Loading generated serial chains",
        "",
        "A chain of n revolute joints (one `<link>` with an `<inertial>` and one `<joint>` "
        "with origin, axis and limit per joint), read from a file. Median of "
        f"{args.repeats} runs after one warm-up, GC off while timing (quartiles in "
        "parentheses); peak = largest Python allocation total during one call (tracemalloc, "
        "includes the parser's own nodes and the model).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end of the run (other jobs share it), Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}.",
        "",
        "## Full load: `kin.load_robot(path)`",
        "",
        "\"+ chain\" adds building the tip's evaluation chain, which the first `fk`/`jacobian` "
        "call does (chains are built lazily, once per link). The bar of issue 11: a "
        "10,000-joint chain loads in ≤ 2 s, with memory linear in size.",
        "",
        "CPU = process CPU time of the same calls (median): on a shared machine, wall time "
        "includes waiting for a core; CPU time is the cost of the work itself.",
        "",
        "| joints | load_robot | CPU | per joint | peak memory | load_robot + chain | CPU | "
        "peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, _, _, _, _, _, _, t_load, t_ready, m_load, m_ready in rows:
        c_load, c_ready = (statistics.median(CPU[id(t)]) for t in (t_load, t_ready))
        lines.append(f"| {n:,} | {ms(t_load)} | {c_load * 1e3:.1f} ms | "
                     f"{statistics.median(t_load) / n * 1e6:.1f} µs | {m_load / 1e6:.1f} MB | "
                     f"{ms(t_ready)} | {c_ready * 1e3:.1f} ms | {m_ready / 1e6:.1f} MB |")
    if len(rows) > 1:
        r0, r1 = rows[0], rows[-1]
        k = r1[0] / r0[0]
        lines += ["", f"From {r0[0]:,} to {r1[0]:,} joints (×{k:g}): load_robot + chain time "
                      f"×{statistics.median(r1[8]) / statistics.median(r0[8]):.1f}, peak "
                      f"memory ×{r1[10] / r0[10]:.1f} (linear would be ×{k:g})."]
    lines += [
        "",
        "## Parse only: `kin.parse_urdf(text)`",
        "",
        "\"expat alone\" is the floor for any expat-based reader: the same document through "
        "expat with a no-op Python start-element handler.",
        "",
        "| joints | document | median | quartiles | per joint | expat alone | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, size, med, q1, q3, floor, peak, *_ in rows:
        lines.append(f"| {n:,} | {size / 1e6:.2f} MB | {med * 1e3:.1f} ms | "
                     f"{q1 * 1e3:.1f}–{q3 * 1e3:.1f} ms | {med / n * 1e6:.1f} µs | "
                     f"{floor * 1e3:.1f} ms | {peak / 1e6:.1f} MB |")
    if len(rows) > 1:
        (n0, _, t0, *_, m0), (n1, _, t1, *_, m1) = ([r[0], r[1], r[2], r[6]] for r in
                                                    (rows[0], rows[-1]))
        lines += ["", f"From {n0:,} to {n1:,} joints (×{n1 / n0:g}): time ×{t1 / t0:.1f}, "
                      f"peak memory ×{m1 / m0:.1f} (linear would be ×{n1 / n0:g})."]
    (out / "load.md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out / 'load.md'}")


if __name__ == "__main__":
    main()

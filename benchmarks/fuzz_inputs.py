"""Fuzz the URDF reader, the model builder and the public API with hostile input, and report
every exception that is not a :class:`kinematics.KinematicsError` (and every warning that is
not a ``URDFWarning``, every non-finite result of a loaded model).

Two parts:

- **URDF mutations**: real files (the bundled robots, example-robot-data, a sample of
  pybullet_data, a 2R arm) mutated byte- and token-wise (flips, cuts, duplications,
  hostile tokens: encodings, DOCTYPEs, NaN/1e400/1e-320, missing limits, self-parenting
  joints, BOMs, ...). Each mutant is parsed; when it parses, robots are built on the
  default chain and on random base/tip pairs (``base == tip`` included), and ``fk``,
  ``jacobian`` and ``ik.solve`` run on random ``q``.
- **API**: every entry of the public-API call table of ``tests/test_contract.py``, with each
  argument replaced by each of its wrong variants, the generic junk values and this issue's
  values (booleans, 0-d arrays, subnormals, ±1e308, huge integers, empty arrays), on
  ``planar2r``, ``panda`` and a 0-DoF chain; a 0-d array given where a float is must behave
  as the float.

Usage::

    python benchmarks/fuzz_inputs.py                       # 10,000 mutations + the API sweep
    python benchmarks/fuzz_inputs.py --mutations 5000 --seed 3 --no-api

Exit code 0 when nothing escaped, 1 otherwise (the report lists each class once, with a
reproducer).
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import random
import re
import sys
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import kinematics as kin
from kinematics import robots

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- findings

@dataclass
class Report:
    """Outcome of one fuzz part: cases run, escaped exceptions by class, one example each."""

    name: str
    cases: int = 0
    errors: int = 0  # KinematicsErrors (the expected refusals)
    escapes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def escape(self, key: str, example: str) -> None:
        self.escapes[key] += 1
        self.examples.setdefault(key, example)

    @property
    def escaped(self) -> int:
        return sum(self.escapes.values())

    def lines(self) -> list[str]:
        out = [f"{self.name}: {self.cases:,} cases in {self.seconds:.1f} s, "
               f"{self.errors:,} refused with a KinematicsError, {self.escaped} escaped "
               f"({len(self.escapes)} classes)"]
        for key, n in self.escapes.most_common():
            out.append(f"  {n:6d} × {key}\n         e.g. {self.examples[key]}")
        return out


def _where(exc: BaseException) -> str:
    """``Type at file:line`` of the innermost frame inside ``kinematics`` (the class key)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "kinematics" in f.filename]
    last = frames[-1] if frames else None
    where = f"{Path(last.filename).name}:{last.lineno}" if last else "?"
    return f"{type(exc).__name__} at {where}"


def _call(report: Report, what: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
    """Run ``fn``: ``(True, result)``; a KinematicsError counts as a refusal; anything else
    (exception, or a warning other than a URDFWarning) is recorded as an escape."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn()
        except kin.KinematicsError:
            report.errors += 1
            return False, None
        except Exception as exc:  # noqa: BLE001 - this is what the fuzz looks for
            report.escape(_where(exc), f"{what}: {type(exc).__name__}: {str(exc)[:200]}")
            return False, None
    for w in caught:
        if not issubclass(w.category, kin.URDFWarning):
            report.escape(f"{w.category.__name__} ({Path(w.filename).name}:{w.lineno})",
                          f"{what}: {str(w.message)[:200]}")
    return True, result


# --------------------------------------------------------------------------- URDF corpus

def corpus(seed: int = 0, pybullet_sample: int = 120, max_bytes: int = 300_000
           ) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of real URDF files: bundled robots, example-robot-data, a sample of
    pybullet_data (all under ``max_bytes``), and a 2R arm."""
    paths: list[Path] = sorted(Path(robots.urdf_path(n)) for n in robots.names())
    try:
        import example_robot_data  # noqa: F401

        share = Path(sys.prefix) / "lib"
        found = sorted(share.glob("python3*/site-packages/cmeel.prefix/share/"
                                  "example-robot-data/robots/**/*.urdf"))
        paths += found
    except ImportError:
        pass
    try:
        import pybullet_data

        pb = sorted(Path(pybullet_data.getDataPath()).rglob("*.urdf"))
        random.Random(seed).shuffle(pb)
        paths += pb[:pybullet_sample]
    except ImportError:
        pass
    out = [(str(p), p.read_bytes()) for p in paths if p.stat().st_size <= max_bytes]
    out.append(("planar2r", Path(robots.urdf_path("planar2r")).read_bytes()))
    return out


TOKENS = [
    b' encoding="bogus"', b'<?xml version="1.0" encoding="UTF-32"?>', b"<!DOCTYPE r []>",
    b'<!DOCTYPE r [<!ENTITY a "aaaa">]>&a;', b"nan", b"inf", b"-inf", b"1e400", b"-1e400",
    b"1e-320", b"1e308", b"-0", b"0x10", b"1_0", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf",
    b"\xc3\x28", b"<limit/>", b'<limit lower="1" upper="-1"/>', b'<limit lower="nan"/>',
    b'<mimic joint="j"/>', b"<mimic/>", b'type="planar"', b'type="floating"',
    b'type="continuous"', b'type="prismatic"', b'type="revolute"', b'type=""',
    b'<axis xyz="0 0 0"/>', b'<axis xyz="1e308 1e308 1e308"/>', b'<origin xyz="1 2"/>',
    b'<origin rpy="1e308 0 0"/>', b'<link name=""/>', b'<link name="x"/>',
    b'<joint name="z" type="fixed"><parent link="x"/><child link="x"/></joint>',
    b"   \n\t", b"<robot>", b"</robot>", b"&amp;", b"&#0;", b"&#x110000;", b"]]>",
    b"<![CDATA[x]]>", b"<?pi x?>", b"<!-- -->", b'multiplier="1e308"', b'offset="-1e400"',
    b'velocity="-1"', b'effort="0"', b"<joint/>", b"<link/>", b'name="a"',
]
_ATTR = re.compile(rb'="[^"]*"')
_TAG = re.compile(rb"<(limit|axis|origin|mimic|parent|child|link|joint)\b[^>]*/?>")


def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One to three random mutations of ``data``; returns the mutant and what was done."""
    done = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        n = len(data)
        op = rng.randrange(10)
        i = rng.randrange(n + 1)
        if op == 0 and n:  # flip a byte
            data = data[:i % n] + bytes([rng.randrange(256)]) + data[i % n + 1:]
            done.append(f"byte {i % n}")
        elif op == 1 and n:  # cut a span
            j = min(n, i + rng.choice((1, 5, 50, 500)))
            data = data[:i] + data[j:]
            done.append(f"cut {i}:{j}")
        elif op == 2 and n:  # duplicate a span
            j = min(n, i + rng.choice((10, 100, 1000)))
            data = data[:j] + data[i:j] + data[j:]
            done.append(f"dup {i}:{j}")
        elif op in (3, 4):  # insert a hostile token
            tok = rng.choice(TOKENS)
            data = data[:i] + tok + data[i:]
            done.append(f"insert {tok[:30]!r} at {i}")
        elif op == 5:  # replace an attribute value
            spans = list(_ATTR.finditer(data))
            if spans:
                m = rng.choice(spans)
                val = rng.choice([b"", b"nan", b"1e400", b"-1", b"0 0 0", b"1e-320",
                                  b"1 2 3 4", b"x", b"1e308 -1e308 0", b"base_link"])
                data = data[:m.start() + 2] + val + data[m.end() - 1:]
                done.append(f"attr {m.group()[:30]!r} -> {val!r}")
        elif op == 6:  # remove an element
            spans = list(_TAG.finditer(data))
            if spans:
                m = rng.choice(spans)
                data = data[:m.start()] + data[m.end():]
                done.append(f"remove {m.group()[:40]!r}")
        elif op == 7:  # prefix (blank lines, BOM, declarations)
            pre = rng.choice([b"\n\n  ", b"\xef\xbb\xbf", b'<?xml version="1.0" encoding="x"?>',
                              b"\x00"])
            data = pre + data
            done.append(f"prefix {pre!r}")
        elif op == 8:  # truncate
            data = data[:i]
            done.append(f"truncate at {i}")
        else:  # swap parent and child of a joint
            m = re.search(rb'<parent link="([^"]*)"/>\s*<child link="([^"]*)"/>',
                          data[i:] + data[:i])
            if m:
                a, b = m.group(1), m.group(2)
                data = data.replace(m.group(0), m.group(0).replace(a, b"\x01").replace(
                    b, a).replace(b"\x01", b), 1)
                done.append(f"swap {a[:20]!r}/{b[:20]!r}")
    return data, "; ".join(done) or "none"


def _exercise(report: Report, robot: kin.Robot, what: str, rng: random.Random) -> None:
    ok, q = _call(report, f"{what} random_q", lambda: robot.random_q(2, seed=rng.randrange(99)))
    if not ok:
        return
    for name, fn in (("fk", lambda: kin.fk(robot, q, robot.tip_link)),
                     ("jacobian", lambda: kin.jacobian(robot, q, robot.tip_link))):
        ok, out = _call(report, f"{what} {name}", fn)
        if ok and not np.isfinite(out).all():
            report.escape(f"non-finite {name}", f"{what}: q={q.tolist()}")
    if robot.dof <= 12 and len(robot.tip_links) == 1:
        ok, T = _call(report, f"{what} fk", lambda: kin.fk(robot, q[0]))
        if ok:
            _call(report, f"{what} ik", lambda: kin.ik.solve(robot, T, restarts=0, max_iter=10))


def urdf_fuzz(n: int, seed: int = 0, budget: float | None = None,
              files: list[tuple[str, bytes]] | None = None) -> Report:
    """``n`` mutations (or fewer when ``budget`` seconds pass) of the corpus."""
    report = Report("URDF mutations")
    rng = random.Random(seed)
    files = corpus(seed) if files is None else files
    t0 = time.perf_counter()
    for k in range(n):
        if budget is not None and time.perf_counter() - t0 > budget:
            break
        name, original = files[k % len(files)] if k < len(files) else rng.choice(files)
        data, how = mutate(original, rng)
        what = f"{Path(name).name} [{how}]"
        report.cases += 1
        ok, model = _call(report, f"{what} parse",
                          lambda data=data, name=name: kin.parse_urdf(data, name))
        if not ok:
            continue
        links = list(model.links)
        tries: list[tuple[str | None, str | None]] = [(None, None)]
        for _ in range(2):
            b = rng.choice(links)
            tries.append((b, rng.choice(links) if rng.random() < 0.8 else b))
        for base, tip in tries:
            ok, robot = _call(report, f"{what} build base={base} tip={tip}",
                              lambda base=base, tip=tip, model=model: kin.robot_from_urdf(
                                  model, base, tip))
            if ok:
                _exercise(report, robot, f"{what} base={base} tip={tip}", rng)
    report.seconds = time.perf_counter() - t0
    return report


# --------------------------------------------------------------------------- API sweep

EXTRA: list[Any] = [
    np.array(0.5), np.array(True), np.bool_(True), np.ones(7, bool), [True, False], 1e-320,
    5e-324, -0.0, np.float64(2.0), 2**63, np.uint64(2**64 - 1), -(2**70), np.array([]),
    np.zeros((2, 0)), np.zeros((0, 0)), np.array(np.nan), np.full(7, 1e-320),
    np.broadcast_to(0.1, (3, 7)), np.float16(1.0), np.longdouble(0.5),
]


def _contract() -> Any:
    spec = importlib.util.spec_from_file_location("fuzz_contract", ROOT / "tests" /
                                                  "test_contract.py")
    assert spec is not None and spec.loader is not None
    sys.path.insert(0, str(ROOT / "tests"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_contract"] = mod
    spec.loader.exec_module(mod)
    return mod


def _cases(contract: Any, entry: Any, args: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for slot, value in args.items():
        if slot in entry.fixed:
            continue
        for bad in contract.variants(value, slot in entry.broadcast) + contract.GENERIC + EXTRA:
            yield slot, bad


def api_fuzz(budget: float | None = None, only: str = "", robots: tuple[str, ...] = (
        "planar2r", "panda", "panda 0-DoF")) -> Report:
    """Every public entry (whose name matches the regex ``only``) × every argument × every
    hostile value, on ``robots`` (``"panda 0-DoF"``: the Panda with ``base == tip``)."""
    report = Report("API")
    contract = _contract()
    every = {"planar2r": lambda: kin.load_robot("planar2r"), "panda": lambda: kin.load_robot(
        "panda"), "panda 0-DoF": lambda: kin.load_robot("panda", base="panda_link3",
                                                        tip="panda_link3")}
    robots_ = {name: every[name]() for name in robots}
    t0 = time.perf_counter()
    for entry in contract.ENTRIES:
        if only and not re.search(only, entry.name):
            continue
        for rname, robot in robots_.items():
            made, pair = _call(report, f"{entry.name} on {rname}: valid call",
                               lambda robot=robot, entry=entry: entry.make(robot))
            if not made:
                continue
            fn, args = pair
            for slot, bad in _cases(contract, entry, args):
                if budget is not None and time.perf_counter() - t0 > budget:
                    report.seconds = time.perf_counter() - t0
                    return report
                report.cases += 1
                call = dict(args, **{slot: bad})
                what = f"{entry.name}({slot}={_show(bad)}) on {rname}"
                ok, res = _call(report, what, lambda call=call, fn=fn: fn(**call))
                if ok and _nonfinite(res):
                    report.escape(f"non-finite result of {entry.name}", what)
                value = args[slot]
                if isinstance(value, float) and isinstance(bad, float) and math.isfinite(bad):
                    # a 0-d array is a float: same outcome
                    ok0, _ = _call(report, what + " as 0-d",
                                   lambda call=call, fn=fn, slot=slot, bad=bad:
                                   fn(**dict(call, **{slot: np.array(bad)})))
                    if ok0 != ok:
                        report.escape(f"0-d array differs from float in {entry.name}.{slot}",
                                      what)
    report.seconds = time.perf_counter() - t0
    return report


def _show(v: Any) -> str:
    text = repr(v).replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"


def _nonfinite(res: Any) -> bool:
    """A NaN/inf in a plain float array result (documented NaN fields live in dataclasses
    and NaN-padded solution sets, which the contract test checks)."""
    return (isinstance(res, np.ndarray) and res.dtype.kind == "f" and res.size > 0
            and not np.isfinite(res).all())


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutations", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-api", action="store_true", help="skip the API sweep")
    ap.add_argument("--only", default="", help="API entries matching this regex only")
    ap.add_argument("--compiled", action="store_true",
                    help="use the compiled backend (default numpy: no compile time)")
    args = ap.parse_args(argv)
    kin.accel.enable(args.compiled)
    reports = [urdf_fuzz(args.mutations, args.seed)]
    if not args.no_api:
        reports.append(api_fuzz(only=args.only))
    for r in reports:
        print("\n".join(r.lines()))
    return 0 if all(r.escaped == 0 for r in reports) else 1


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())

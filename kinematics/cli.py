"""Command-line interface: ``kinematics {list,info,fk,jacobian,ik,reach,report,simulate,compile}``.

The top of the project: every subcommand's parser and the shared robot arguments live here,
and each command calls plain functions of the library (:mod:`kinematics.report`) or of the
PyBullet harness (:mod:`kinematics.sims`). Nothing else imports this module.

Options may come anywhere after the subcommand, also between the robot and its joint values
(``kinematics fk panda --json 0 -0.3 0 -2.2 0 2 0.8``); negative numbers are values.

Exit codes (one policy, enforced in :func:`main`):

====  ==========================================================================
code  meaning
====  ==========================================================================
0     success
1     a validation bar failed (``simulate``), IK did not converge (``ik``)
2     bad input or environment: usage errors, bad robot/joint values, an unwritable
      ``--out``, ``--gui`` without a display, an unreachable ``--scheduler``, a map
      too large for memory, a missing optional dependency
3     internal error (a bug): one line on stderr; ``--debug`` shows the traceback
130   interrupted (Ctrl-C)
141   stdout closed early (``kinematics list | head -1``): output stops quietly, as a
      program killed by SIGPIPE would (128 + 13)
====  ==========================================================================

No traceback reaches the user unless ``--debug`` is given. Messages of the ``kinematics``
logger (e.g. that a first use compiles the kernels) go to stderr as ``kinematics CMD: ...``
lines, on a line of their own above any progress bar.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__, progress, robots
from .exceptions import InvalidValueError, KinematicsError
from .forward import fk
from .jacobian import jacobian
from .robot import Robot, list_robots, load_robot
from .sims.simulate import SCENARIOS, Bars

__all__ = ["main", "build_parser", "add_robot_arguments", "robot_from_args",
           "EXIT_OK", "EXIT_FAIL", "EXIT_USAGE", "EXIT_INTERNAL", "EXIT_INTERRUPTED",
           "EXIT_BROKEN_PIPE"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
# optional dependencies -> the extra that installs them
_EXTRAS = {"pybullet": "sim", "pybullet_data": "sim", "matplotlib": "sim", "dask": "dist",
           "distributed": "dist", "numba": "fast"}


class _IntermixedParser(argparse.ArgumentParser):
    """A subcommand parser that accepts options between (and after) positionals."""

    _intermixing = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # negative numbers are values, also in exponent form (-1e-14, as printed by fk)
        self._negative_number_matcher = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def add_robot_arguments(p: argparse.ArgumentParser) -> None:
    """``ROBOT`` (bundled name or URDF path), ``--base``, ``--tip`` and ``--package-dir``:
    every command's robot, read back by :func:`robot_from_args`."""
    p.add_argument("robot", help=f"bundled robot ({', '.join(list_robots())}; any case) or a "
                   "URDF/xacro path")
    p.add_argument("--base", help="base link (default: registry / URDF root)")
    p.add_argument("--tip", help="tip link (default: registry / the single leaf; a file with "
                   "several leaves: the default chain that `info` names)")
    p.add_argument("--package-dir", action="append", default=[], metavar="DIR",
                   help="folder holding ROS packages for a xacro's $(find pkg) and package:// "
                   "(repeatable; ROS_PACKAGE_PATH is searched after these)")


def _package_dirs(args: argparse.Namespace) -> list[str]:
    """``--package-dir`` folders, then those of ``ROS_PACKAGE_PATH`` (``os.pathsep``
    separated, as ROS sets it), without repeats."""
    dirs = list(getattr(args, "package_dir", None) or [])
    for d in dirs:
        if not os.path.isdir(d):
            raise InvalidValueError(f"--package-dir {d!r} is not a folder; expected a folder "
                                    "holding ROS packages")
    env = os.environ.get("ROS_PACKAGE_PATH", "").split(os.pathsep)
    dirs += [d for d in env if d.strip() and os.path.isdir(d)]  # stale entries are common
    return list(dict.fromkeys(dirs))


def _default_tip(robot: Robot) -> str:
    """The tip of the default chain of a robot with several tips (a file whose tree
    branches, loaded without ``--tip``); one rule for every command: the tip moved by the
    most revolute joints, then by the fewest prismatic ones (a gripper's sliding fingers do
    not lengthen an arm; a robot of prismatic joints only takes the most), then the first in
    the file's depth-first order."""
    if len(robot.tip_links) == 1:
        return robot.tip_link

    def key(tip: str) -> tuple[int, int]:
        moved = set(robot.chain(tip).q_index.tolist())
        revolute = sum(robot.joint_types[i] != "prismatic" for i in moved)
        prismatic = len(moved) - revolute
        return revolute, prismatic if revolute == 0 else -prismatic

    keys = [key(t) for t in robot.tip_links]
    return robot.tip_links[keys.index(max(keys))]


def robot_from_args(args: argparse.Namespace) -> Robot:
    """The robot named by :func:`add_robot_arguments`' options: one chain, the default one
    (:func:`_default_tip`) when the file has several tips and no ``--tip`` is given."""
    return _robot_and_tips(args)[0]


def _robot_and_tips(args: argparse.Namespace) -> tuple[Robot, tuple[str, ...]]:
    """:func:`robot_from_args` and every tip the file offers below the base."""
    kw: dict[str, Any] = {}
    dirs = _package_dirs(args)
    if dirs and str(args.robot).endswith(".xacro"):
        kw["package_dirs"] = dirs
    robot = load_robot(args.robot, base=args.base, tip=args.tip, **kw)
    tips = robot.tip_links
    if args.tip is None and len(tips) > 1:
        with warnings.catch_warnings():  # the file's warnings were shown by the first load
            warnings.simplefilter("ignore")
            robot = load_robot(args.robot, base=robot.base_link, tip=_default_tip(robot), **kw)
    return robot, tips


_API_WORDS = re.compile(r"(?<![\w-])(tip|base|link|voxel|orientations|samples|workers|chunk)="
                        r"(\[\.\.\.\])?(?!\.\.\.>)(?!\")")


_PACKAGE_WORDS = (("no package_dirs were given", "no --package-dir was given and "
                   "ROS_PACKAGE_PATH finds none"),
                  ("in package_dirs", "with --package-dir DIR (or ROS_PACKAGE_PATH)"),
                  ("searched package_dirs", "searched --package-dir/ROS_PACKAGE_PATH"))


def _cli_words(message: str) -> str:
    """An API error message in CLI words: ``tip=`` -> ``--tip``, ``link=`` -> ``--link``,
    ``package_dirs`` -> ``--package-dir``."""
    for api, cli in _PACKAGE_WORDS:
        message = message.replace(api, cli)
    return _API_WORDS.sub(lambda m: f"--{m.group(1)}" + (" " if m.end() < len(message)
                                                          and message[m.end()] not in " )"
                                                          else ""), message)


def _check_out(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Create the output folder now and prove it writable, before any work.

    Raises:
        InvalidValueError: ``path`` is a file, or the folder cannot be created or written.
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise InvalidValueError(f"{option} {str(out)!r} is a file; expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".kinematics-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidValueError(f"{option} {str(out)!r} is not a writable folder "
                                f"({exc.strerror or exc})") from None
    return out


#: Files whose presence says a run succeeded, per command; an interrupted run marks them.
_CLAIMS = {"simulate": ("metrics.json", "report.html"),
           "report": ("summary.json", "report.html"),
           "reach": ("summary.json", "report.html")}
_INTERRUPTED_BANNER = ("<p style='background:#fdd;border:2px solid #c00;padding:.5em'>"
                       "<b>INTERRUPTED</b>: this run was stopped (Ctrl-C) before it finished; "
                       "its numbers are incomplete and claim nothing.</p>")


@contextlib.contextmanager
def _marked_if_interrupted(out: Path, command: str) -> Iterator[None]:
    """Run a command that writes into ``out``; on Ctrl-C (at any point, also half-way
    through a write) mark every result file of :data:`_CLAIMS` present in ``out`` as
    interrupted before re-raising: JSON gets ``"interrupted": true`` (and ``"passed":
    false``), HTML a banner. Each mark is written atomically (temporary file, rename);
    a second Ctrl-C waits until the marks are written."""
    try:
        yield
    except KeyboardInterrupt:
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
        try:
            marked = [name for name in _CLAIMS[command] if _mark_interrupted(out / name)]
            if marked:
                print(f"\nkinematics {command}: marked {', '.join(marked)} in {out} as "
                      "interrupted", file=sys.stderr)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
        raise


def _mark_interrupted(path: Path) -> bool:
    """Mark one result file as coming from an interrupted run (see
    :func:`_marked_if_interrupted`); missing files stay missing. Returns whether a file was
    marked (or, when it could not be rewritten, removed)."""
    if not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError:  # cut half-way through the write
            data = None
        data = data if isinstance(data, dict) else {}
        data["interrupted"] = True
        if "passed" in data:
            data["passed"] = False
        text = json.dumps(data, indent=2) + "\n"
    elif _INTERRUPTED_BANNER not in text:
        m = re.search(r"<body[^>]*>", text)
        at = m.end() if m else 0
        text = text[:at] + _INTERRUPTED_BANNER + text[at:]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        with contextlib.suppress(OSError):
            path.unlink()  # better no file than a claim of success
    return True


def _check_display(option: str = "--gui") -> None:
    """Raise when a GUI window cannot open (Linux without ``DISPLAY``/``WAYLAND_DISPLAY``)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        raise InvalidValueError(f"{option} needs a display, but DISPLAY is not set "
                                "(headless session); run without --gui")


@contextlib.contextmanager
def _one_line_warnings(prog: str) -> Iterator[None]:
    """Show warnings (e.g. :class:`~kinematics.chunks.CheckpointWarning`) as one line each on
    stderr instead of Python's two-line ``file:line: Category`` form."""
    def show(message: Any, category: Any, filename: Any, lineno: Any, file: Any = None,
             line: Any = None) -> None:
        print(f"{prog}: warning: {message}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


def _q_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("q", nargs="*", type=float, metavar="Q",
                   help="joint values [rad or m], one per joint (default: all zero)")
    p.add_argument("--link", help="link to evaluate (default: the tip/tool frame)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _q(robot: Robot, values: list[float] | None, option: str = "") -> np.ndarray:
    """Joint values from the command line (none: all zero); a wrong count is said in plain
    words: ``panda has 7 joints (panda_joint1, ...), got 3 values``."""
    if values and len(values) != robot.dof:
        names = ", ".join(robot.joint_names)
        raise InvalidValueError(
            f"{option + ': ' if option else ''}{robot.name} has {robot.dof} "
            f"joint{'s' if robot.dof != 1 else ''} ({names}), got {len(values)} "
            f"value{'s' if len(values) != 1 else ''}; expected one value per joint "
            "[rad or m]")
    return robot.check_q(np.zeros(robot.dof) if not values else np.array(values),
                         option or "q")


def _note_limits(robot: Robot, q: np.ndarray, prog: str) -> None:
    """One stderr note per joint value beyond its limit (the result is still printed)."""
    lo, hi = robot.joint_limits[:, 0], robot.joint_limits[:, 1]
    for i in np.flatnonzero((q < lo) | (q > hi)):
        unit = "m" if robot.joint_types[i] == "prismatic" else "rad"
        print(f"{prog}: note: joint {robot.joint_names[i]!r} = {q[i]:g} {unit} is beyond its "
              f"limits [{lo[i]:g}, {hi[i]:g}] {unit}; computed anyway", file=sys.stderr)


def _fmt_matrix(M: np.ndarray) -> str:
    return "\n".join("  " + " ".join(f"{v:+.6f}" for v in row) for row in M)


def _unit(robot: Robot, i: int, per: str = "") -> str:
    return ("m" if robot.joint_types[i] == "prismatic" else "rad") + per


def cmd_info(args: argparse.Namespace) -> int:
    robot, tips = _robot_and_tips(args)
    others = [t for t in tips if t != robot.tip_link] if len(tips) > 1 else []
    how = (f"{robot.base_link} -> {robot.tip_link}, the tip moved by the most revolute "
           f"joints of the file's {len(tips)} tips ({', '.join(tips)}); choose another with "
           f"--tip LINK ({', '.join(others)})" if others else None)
    if args.json:
        print(json.dumps({
            "name": robot.name, "source": robot.source, "dof": robot.dof,
            "base": robot.base_link, "tip": robot.tip_link,
            "tips": list(tips), "default_chain": how,
            "chain": list(robot.link_names),
            "joints": [{"name": n, "type": t, "lower": lo, "upper": hi, "velocity": v,
                        "effort": e, "unit": "m" if t == "prismatic" else "rad"}
                       for n, t, (lo, hi), v, e in zip(robot.joint_names, robot.joint_types,
                                                       robot.joint_limits.tolist(),
                                                       robot.velocity_limits.tolist(),
                                                       robot.effort_limits.tolist(), strict=True)],
            "mimic": {k: list(v) for k, v in robot.mimic.items()},
            "reach_m": robot.reach,
        }, indent=2))
        return EXIT_OK
    print(f"{robot.name}: {robot.dof} joints, {robot.base_link} -> {robot.tip_link}")
    if how:
        print(f"default chain: {how}")
    print(f"source: {robot.source}")
    print(f"chain:  {' -> '.join(robot.link_names)}")
    print(f"{'joint':<24} {'type':<11} {'lower':>9} {'upper':>9} {'unit':<4} "
          f"{'velocity':>10} {'effort':>10}")
    for i, (n, t, (lo, hi), v, e) in enumerate(zip(
            robot.joint_names, robot.joint_types, robot.joint_limits, robot.velocity_limits,
            robot.effort_limits, strict=True)):
        print(f"{n:<24} {t:<11} {lo:>9.4f} {hi:>9.4f} {_unit(robot, i):<4} "
              f"{v:>6.3f} {_unit(robot, i, '/s'):<5} {e:>6.1f} "
              f"{'N' if t == 'prismatic' else 'N·m'}")
    for k, (leader, m, o) in robot.mimic.items():
        j = robot.joint_names.index(leader)
        print(f"mimic: {k} = {m:g} * {leader} + {o:g} {_unit(robot, j)}")
    print(f"reach (upper bound): {robot.reach:.4f} m")
    return EXIT_OK


def cmd_fk(args: argparse.Namespace) -> int:
    robot = robot_from_args(args)
    q = _q(robot, args.q)
    T = fk(robot, q, args.link)
    _note_limits(robot, q, "kinematics fk")
    if args.json:
        print(json.dumps({"link": args.link or robot.tip_link, "q": q.tolist(),
                          "T": T.tolist()}))
    else:
        print(f"T_base_{args.link or robot.tip_link} (m):")
        print(_fmt_matrix(T))
        print(f"q [rad or m]: {' '.join(f'{v:+.6f}' for v in q)}")
    return EXIT_OK


def cmd_jacobian(args: argparse.Namespace) -> int:
    robot = robot_from_args(args)
    q = _q(robot, args.q)
    J = jacobian(robot, q, args.link, args.reference)
    _note_limits(robot, q, "kinematics jacobian")
    s = np.linalg.svd(J, compute_uv=False)
    if args.json:
        print(json.dumps({"link": args.link or robot.tip_link, "reference": args.reference,
                          "q": q.tolist(), "J": J.tolist(),
                          "rows": ["vx", "vy", "vz", "wx", "wy", "wz"],
                          "columns": list(robot.joint_names), "sigma": s.tolist()}))
    else:
        print(f"J ({args.reference} reference, rows vx vy vz wx wy wz; "
              f"columns {', '.join(robot.joint_names)}):")
        print(_fmt_matrix(J))
        print(f"sigma: {' '.join(f'{v:.6g}' for v in s)}")
        print(f"q [rad or m]: {' '.join(f'{v:+.6f}' for v in q)}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps([{"name": name, "summary": robots.REGISTRY[name].summary}
                          for name in list_robots()], indent=2))
        return EXIT_OK
    for name in list_robots():
        print(f"{name:<10} {robots.REGISTRY[name].summary}")
    return EXIT_OK


def _target_from_args(args: argparse.Namespace) -> np.ndarray:
    from .spatial import rpy_to_matrix

    if args.pose is not None:
        if args.xyz is not None or args.rpy is not None or args.quat is not None:
            raise InvalidValueError("--pose gives the whole target; do not combine it with "
                                    "--xyz, --rpy or --quat")
        T = np.array(args.pose, dtype=float).reshape(4, 4)
        if not np.allclose(T[3], [0, 0, 0, 1]) or not np.allclose(T[:3, :3] @ T[:3, :3].T,
                                                                  np.eye(3), atol=1e-6):
            raise InvalidValueError("--pose: expected 16 numbers of a homogeneous transform "
                                    "(row-major, last row 0 0 0 1, orthonormal rotation)")
        return T
    if args.xyz is None:
        raise InvalidValueError("give the target position with --xyz X Y Z (or --pose)")
    if args.rpy is not None and args.quat is not None:
        raise InvalidValueError("give the orientation with one of --rpy or --quat, not both")
    T = np.eye(4)
    T[:3, 3] = args.xyz
    if args.rpy is not None:
        big = [v for v in args.rpy if math.isfinite(v) and abs(v) > 2 * math.pi]
        if big:
            raise InvalidValueError(f"--rpy {' '.join(f'{v:g}' for v in args.rpy)}: "
                                    f"{big[0]:g} is beyond 2π; expected radians (degrees? "
                                    f"{big[0]:g}° = {math.radians(big[0]):.6g} rad)")
        T[:3, :3] = rpy_to_matrix(np.array(args.rpy, dtype=float))
    elif args.quat is not None:
        w, x, y, z = args.quat
        n = math.sqrt(w * w + x * x + y * y + z * z)
        if not (math.isfinite(n) and abs(n - 1.0) <= 1e-6):
            raise InvalidValueError(f"--quat {' '.join(f'{v:g}' for v in args.quat)}: norm "
                                    f"{n:.6g}; expected a unit quaternion W X Y Z (norm 1 "
                                    "within 1e-6)")
        w, x, y, z = w / n, x / n, y / n, z / n
        T[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]]
    elif not args.position_only:
        raise InvalidValueError("give the tool orientation with --rpy R P Y or --quat W X Y Z "
                                "(or pass --position-only)")
    if not np.all(np.isfinite(T)):
        raise InvalidValueError("--xyz/--rpy/--quat: expected finite numbers")
    return T


def cmd_ik(args: argparse.Namespace) -> int:
    """``kinematics ik``: 0 converged to tolerance, 1 not converged (a bar failed)."""
    from .ik import solve

    robot = robot_from_args(args)
    T = _target_from_args(args)
    q0 = None if args.q0 is None else _q(robot, args.q0, "--q0")
    kw: dict[str, Any] = {}
    if args.position_only:
        kw["mask"] = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    res = solve(robot, T, q0, seed=args.seed, tol_pos=args.tol_pos, tol_rot=args.tol_rot,
                link=args.link, **kw)
    ok = bool(res.success)
    if args.json:
        print(json.dumps({"q": res.q.tolist(), "joints": list(robot.joint_names),
                          "success": ok, "pos_error_m": float(res.pos_error),
                          "rot_error_rad": float(res.rot_error),
                          "iterations": int(res.iterations), "target_T": T.tolist()}))
    else:
        print(f"q [rad or m] ({', '.join(robot.joint_names)}):")
        print("  " + " ".join(f"{v:+.6f}" for v in res.q))
        print(f"{'converged' if ok else 'NOT converged'}: position error "
              f"{float(res.pos_error):.3g} m, orientation error {float(res.rot_error):.3g} rad "
              f"({int(res.iterations)} iterations)")
        print(f"target T_base_{args.link or robot.tip_link} (m):")
        print(_fmt_matrix(T))
    if not ok:
        print(f"kinematics ik: not converged to --tol-pos {args.tol_pos:g} m / --tol-rot "
              f"{args.tol_rot:g} rad (target out of reach or limits?)", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_reach(args: argparse.Namespace) -> int:
    """``kinematics reach``; an interrupted run marks its results (see
    :func:`_marked_if_interrupted`)."""
    robot = robot_from_args(args)
    out = _check_out(args.out)
    with _marked_if_interrupted(out, "reach"):
        return _reach(args, robot, out)


def _reach(args: argparse.Namespace, robot: Robot, out: Path) -> int:
    from .reachability import estimate, reachability_map
    from .report import write_reach_report

    est = estimate(robot, voxel=args.voxel, orientations=args.orientations,
                   workers=args.workers or (None if args.scheduler is None else 1),
                   seed=args.seed, calibration=0 if args.no_estimate else 200)
    if not args.quiet:
        text = str(est)
        if args.no_estimate:
            text = text.rsplit(", about", 1)[0] + ", time not estimated (--no-estimate)"
        print(f"kinematics reach: {text}", file=sys.stderr)
    client = None
    if args.scheduler:
        from .chunks import check_worker_environ, connect

        client = connect(args.scheduler, timeout=args.scheduler_timeout)
        advice = check_worker_environ(client)
        if advice and not args.quiet:
            print(advice, file=sys.stderr)
    start = time.perf_counter()
    try:
        with _one_line_warnings("kinematics reach"):
            m = reachability_map(robot, voxel=args.voxel, orientations=args.orientations,
                                 client=client, workers=args.workers, seed=args.seed,
                                 checkpoint=out / "chunks", progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    page = write_reach_report(m, out, {"wall_time_s": round(seconds, 2),
                                       "chunks_resumed": m.chunks_loaded})
    if not args.quiet:
        print(f"{m.solves} IK problems in {seconds:.1f} s ({m.solves / seconds:.0f}/s); "
              f"{int((m.reach_fraction > 0).sum())} of {len(m.centers)} voxels reached; "
              f"report: {page}")
    return EXIT_OK


def _no_render(robot: Robot, q: np.ndarray) -> tuple[bytes | None, str]:
    return None, "PyBullet is not installed (pip install 'kinematics[sim]'): no rendering"


def cmd_report(args: argparse.Namespace) -> int:
    """``kinematics report``: 0 ok; bad input raises a :class:`~kinematics.KinematicsError`;
    an interrupted run marks its results (see :func:`_marked_if_interrupted`)."""
    robot = robot_from_args(args)
    if args.samples < 1:
        raise InvalidValueError(f"--samples {args.samples}: expected a positive integer")
    if not (math.isfinite(args.encoder_noise) and args.encoder_noise >= 0):
        raise InvalidValueError(f"--encoder-noise {args.encoder_noise}: expected a standard "
                                "deviation >= 0 [rad]")
    out = _check_out(args.out)
    with _marked_if_interrupted(out, "report"):
        return _report(args, robot, out)


def _report(args: argparse.Namespace, robot: Robot, out: Path) -> int:
    from .report import load_trajectory, make_report
    from .report.singularity import Renderer

    q = t = None
    if args.trajectory is not None:
        q, t = load_trajectory(args.trajectory, robot)
        if t is None:
            if not (math.isfinite(args.dt) and args.dt > 0):
                raise InvalidValueError(f"--dt {args.dt}: expected a positive step [s]")
            t = np.arange(len(q)) * args.dt
    render: Renderer | None = None
    if not args.no_render:
        try:  # the robot's picture comes from PyBullet, when it is installed
            from .sims.bullet import render_png

            render = render_png
        except ImportError:
            render = _no_render
    res = make_report(robot, out, trajectory=q, t=t, samples=args.samples,
                      seed=args.seed, render=render, progress=not args.quiet,
                      encoder_noise=args.encoder_noise)
    if not args.quiet:
        print(f"report: {res.html} ({args.samples} samples, {res.seconds:.1f} s); "
              f"numbers: {res.summary_json}")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """``kinematics simulate``: 0 every bar met, 1 a bar failed; bad input raises a
    :class:`~kinematics.KinematicsError`; an interrupted run marks its results (see
    :func:`_marked_if_interrupted`)."""
    robot = robot_from_args(args)
    if args.gui:
        _check_display()
    out = _check_out(args.out or Path("out") / "simulate" / Path(args.robot).stem)
    with _marked_if_interrupted(out, "simulate"):
        return _simulate(args, robot, out)


def _simulate(args: argparse.Namespace, robot: Robot, out: Path) -> int:
    from .sims.report import write_outputs
    from .sims.simulate import format_summary, simulate

    scenarios = SCENARIOS if args.scenario == "all" else (args.scenario,)
    result = simulate(robot, scenarios, duration=args.duration, dt=args.dt, seed=args.seed,
                      gui=args.gui, bars=Bars(tracking_rms_m=args.tracking_bar),
                      progress=not args.quiet and sys.stderr.isatty())
    written = write_outputs(result, out, report=args.report)
    if not args.quiet:
        print(format_summary(result))
        print(f"wrote {', '.join(str(w) for w in written if w.suffix != '.png')}")
    if result.failures:
        print(f"kinematics simulate: FAILED {result.failures[0]}"
              + (f" (+{len(result.failures) - 1} more in {out / 'metrics.json'})"
                 if len(result.failures) > 1 else ""), file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def cmd_compile(args: argparse.Namespace) -> int:
    """``kinematics compile``: every kernel compiled (or loaded from the cache) ahead of
    time; 0 when done, 130 when interrupted (the cache stays valid)."""
    from .accel import compile as compile_kernels

    rep = compile_kernels(progress=not args.quiet)
    where = rep.cache_dir or "memory only (no writable cache folder)"
    if rep.kernels == 0:
        print("nothing compiled: the compiled backend is off (KINEMATICS_ACCEL=0 or numba "
              "missing)")
    else:
        how = (f"{rep.compiled} functions compiled now" if rep.compiled
               else "all loaded from the cache")
        print(f"{rep.kernels} kernels ready in {rep.seconds:.1f} s ({how}); cache: {where}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The ``kinematics`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kinematics",
        description="Forward kinematics, Jacobians, IK and singularity analysis of URDF arms.",
        epilog="Exit codes: 0 ok, 1 a validation bar failed, 2 bad input or environment, "
               "3 internal error, 130 interrupted, 141 stdout closed (broken pipe).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = _IntermixedParser(add_help=False)
    common.add_argument("--debug", action="store_true",
                        help="show Python tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=_IntermixedParser)

    def add(name: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    p = add("list", help="list the bundled robots")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_list)

    p = add("info", help="joints, limits and chain of a robot")
    add_robot_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    p = add("fk", help="pose of the tip (or --link) at joint values q")
    add_robot_arguments(p)
    _q_arg(p)
    p.set_defaults(func=cmd_fk)

    p = add("jacobian", help="Jacobian of the tip (or --link) at joint values q")
    add_robot_arguments(p)
    _q_arg(p)
    p.add_argument("--reference", choices=["base", "local", "spatial"], default="base")
    p.set_defaults(func=cmd_jacobian)

    p = add("ik", help="joint values that put the tip (or --link) at a pose",
            usage="kinematics ik ROBOT --xyz X Y Z [--rpy R P Y | --quat W X Y Z] "
                  "[--pose T11 ... T44] [--q0 Q ...] [--seed N] [--link LINK] "
                  "[--position-only] [--tol-pos M] [--tol-rot RAD] [--json]",
            description="Solve inverse kinematics (bounded Levenberg-Marquardt with restarts, "
            "inside the joint limits). Exit code 0: converged to the tolerances; 1: not "
            "converged (the best q is printed); 2: bad input.")
    add_robot_arguments(p)
    p.add_argument("--xyz", nargs=3, type=float, metavar=("X", "Y", "Z"),
                   help="target position [m] in the base frame")
    p.add_argument("--rpy", nargs=3, type=float, metavar=("R", "P", "Y"),
                   help="target orientation, URDF roll-pitch-yaw [rad] (Rz(Y) Ry(P) Rx(R))")
    p.add_argument("--quat", nargs=4, type=float, metavar=("W", "X", "Y", "Z"),
                   help="target orientation as a unit quaternion, scalar first")
    p.add_argument("--pose", nargs=16, type=float, metavar="T",
                   help="target pose T_base_tip: 16 numbers, row-major 4x4")
    p.add_argument("--q0", nargs="+", type=float, metavar="Q",
                   help="first guess, one value per joint [rad or m] (default: mid-range)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random restarts")
    p.add_argument("--link", help="link to place (default: the tip/tool frame)")
    p.add_argument("--position-only", action="store_true",
                   help="ignore the orientation (kinematics.ik.solve(mask=[1, 1, 1, 0, 0, 0]))")
    p.add_argument("--tol-pos", type=float, default=1e-6, help="position tolerance [m]")
    p.add_argument("--tol-rot", type=float, default=1e-6, help="orientation tolerance [rad]")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_ik)

    p = add("reach", help="reachability map (voxels x orientations), HTML report",
            description="Print the map's size and estimated time, then solve it. Robots with "
            "fewer than 6 joints get a position-only map. Quick example: kinematics reach "
            "ur5 --voxel 0.15 --orientations 4")
    add_robot_arguments(p)
    p.add_argument("--voxel", type=float, default=0.05, help="voxel edge [m] (default 0.05)")
    p.add_argument("--orientations", type=int, default=50,
                   help="tool orientations per voxel (default 50)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="Dask scheduler address, e.g. tcp://HOST:8786 (needs the dist extra)")
    p.add_argument("--scheduler-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler before giving up (default 10)")
    p.add_argument("--workers", type=int, help="local worker processes (default: in-process)")
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same map)")
    p.add_argument("--out", default="out/reach", help="output folder (default out/reach); "
                   "an interrupted run in the same folder resumes")
    p.add_argument("--no-estimate", action="store_true",
                   help="skip the timing calibration (size and memory are still printed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_reach)

    p = add("report", help="singularity analysis report (HTML + JSON)",
            description="Write DIR/report.html (self-contained) and "
            "DIR/summary.json: singular values and certificates along a trajectory, "
            "uncertainty and manipulability ellipsoids, workspace maps, worst configurations.")
    add_robot_arguments(p)
    p.add_argument("--trajectory", metavar="FILE",
                   help="joint trajectory .csv or .npy: N x dof, or N x (1 + dof) with time "
                   "first (default: a sweep through a known singularity)")
    p.add_argument("--dt", type=float, default=0.01,
                   help="sample step [s] of a trajectory without a time column (default 0.01)")
    p.add_argument("--samples", type=int, default=100_000,
                   help="workspace samples (default 100000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the workspace samples")
    p.add_argument("--encoder-noise", type=float, default=1e-4, metavar="RAD",
                   help="joint encoder noise (standard deviation) [rad] of the tool-position "
                   "uncertainty ellipses (default 1e-4)")
    p.add_argument("--out", default="out/report", metavar="DIR",
                   help="output folder (default out/report)")
    p.add_argument("--no-render", action="store_true", help="skip the PyBullet picture")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary line")
    p.set_defaults(func=cmd_report)

    p = add(
        "simulate", help="closed-loop validation in PyBullet (metrics.json + report.html)",
        description="Drive the robot in PyBullet with the resolved-rate controller and the "
        "singularity monitor; check FK, Jacobian and twist against the simulator every step. "
        "Exit code 0: every bar passed; 1: a bar failed; 2: bad input.")
    add_robot_arguments(p)
    p.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all",
                   help="scenario to run (default: all = circle then singularity)")
    p.add_argument("--out", type=Path, help="output directory (default: out/simulate/ROBOT)")
    p.add_argument("--duration", type=float, metavar="S",
                   help="simulated seconds per scenario (default: circle 12 s = 3 laps; "
                   "singularity reach/0.15 m/s); the singularity run ends 0.5 s after the "
                   "monitor stops the arm")
    p.add_argument("--seed", type=int, default=0, help="seed of the start configuration")
    p.add_argument("--dt", type=float, default=1.0 / 240.0,
                   help="physics and control step [s] (default 1/240)")
    p.add_argument("--gui", action="store_true", help="show PyBullet's GUI (real time)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary")
    p.add_argument("--no-report", dest="report", action="store_false",
                   help="write metrics.json only")
    p.add_argument("--tracking-bar", type=float, default=Bars.tracking_rms_m,
                   help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_simulate)

    p = add("compile", help="compile every kernel ahead of time (Docker images, CI, lab "
            "machines) and print where the cache is",
            description="Compile (or load from the per-user cache) every numba kernel, with a "
            "progress bar, so that no later call waits for a compile. Idempotent; an "
            "interrupted run (exit 130) leaves the cache valid. The cache folder is "
            "NUMBA_CACHE_DIR when set, else the platform's user cache folder.")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compile)
    return parser


class _LogToStderr(logging.Handler):
    """The ``kinematics`` logger on stderr during a command: ``kinematics CMD: message``, on
    a line of its own (a progress bar on a terminal is cleared first and redrawn at its
    next update)."""

    def __init__(self, prog: str) -> None:
        super().__init__(logging.INFO)
        self.prog = prog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            clear = "\r\033[K" if sys.stderr.isatty() else ""
            sys.stderr.write(f"{clear}{self.prog}: {record.getMessage()}\n")
            sys.stderr.flush()
        except Exception:  # pragma: no cover - a closed stderr
            self.handleError(record)


@contextlib.contextmanager
def _logging_to_stderr(prog: str) -> Iterator[None]:
    log = logging.getLogger("kinematics")
    handler, propagate = _LogToStderr(prog), log.propagate
    log.addHandler(handler)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.propagate = propagate


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. captured)
        pass


def _on_ctrl_c(signum: int, frame: object) -> None:
    """SIGINT: raise KeyboardInterrupt as Python does, and note it for the progress bars
    (:func:`kinematics.progress.interrupt`), which raise it again should a compiled
    library's callback swallow this one."""
    progress.interrupt()
    raise KeyboardInterrupt


def _unraisable(hook_args: Any) -> None:
    """``sys.unraisablehook`` of a CLI run: a Ctrl-C raised where Python cannot propagate it
    (numba's compiler callbacks) is noted (:func:`_on_ctrl_c`'s flag), not printed as a
    traceback; anything else goes to Python's hook."""
    if isinstance(hook_args.exc_value, KeyboardInterrupt):
        progress.interrupt()
        return
    sys.__unraisablehook__(hook_args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kinematics`` console script; returns the exit code (module
    docstring: 0 ok, 1 a bar failed, 2 bad input or environment, 3 internal error, 130
    interrupted, 141 broken pipe)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prog = f"kinematics {args.command}"
    debug = bool(getattr(args, "debug", False))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_ctrl_c)
        sys.unraisablehook = _unraisable
    try:
        with _logging_to_stderr(prog):
            code = int(args.func(args))
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        if debug:
            raise
        if threading.current_thread() is threading.main_thread():
            # a second Ctrl-C while the interpreter shuts down (threads joining) would end
            # the process by the signal (-2) instead of with the documented 130
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KinematicsError as exc:
        if debug:
            raise
        print(f"{prog}: error: {_cli_words(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        if debug:
            raise
        if extra is None:
            print(f"{prog}: internal error: {type(exc).__name__}: {exc} (run with --debug "
                  "for the traceback)", file=sys.stderr)
            return EXIT_INTERNAL
        print(f"{prog}: error: this command needs {exc.name}, which is not "
              f"installed: pip install 'kinematics[{extra}]'", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        if debug:
            raise
        if progress.interrupted():   # a Ctrl-C that a compiled library turned into an error
            print(f"\n{prog}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"{prog}: internal error: {type(exc).__name__}: {exc} (run with --debug for "
              "the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

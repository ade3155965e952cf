"""Command-line interface: ``kinematics {list,info,fk,jacobian,reach,report,simulate} ...``.

The top of the project: every subcommand's parser and the shared robot arguments live here,
and each command calls plain functions of the library (:mod:`kinematics.report`) or of the
PyBullet harness (:mod:`kinematics.sims`). Nothing else imports this module.

Exit codes: 0 success, 1 a validation bar failed (simulate/report), 2 bad usage or input
(argparse's convention; every :class:`~kinematics.KinematicsError` lands here with its
message on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__, robots
from .exceptions import InvalidValueError, KinematicsError
from .forward import fk
from .jacobian import jacobian
from .robot import Robot, list_robots, load_robot
from .sims.simulate import SCENARIOS, Bars

__all__ = ["main", "build_parser", "add_robot_arguments", "robot_from_args"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
# optional dependencies -> the extra that installs them
_EXTRAS = {"pybullet": "sim", "pybullet_data": "sim", "matplotlib": "sim", "dask": "dist",
           "distributed": "dist", "numba": "fast"}


def add_robot_arguments(p: argparse.ArgumentParser) -> None:
    """``ROBOT`` (bundled name or URDF path), ``--base`` and ``--tip``: every command's
    robot, read back by :func:`robot_from_args`."""
    p.add_argument("robot", help=f"bundled robot ({', '.join(list_robots())}) or a URDF path")
    p.add_argument("--base", help="base link (default: registry / URDF root)")
    p.add_argument("--tip", help="tip link (default: registry / the single leaf)")


def robot_from_args(args: argparse.Namespace) -> Robot:
    """The robot named by :func:`add_robot_arguments`' options."""
    return load_robot(args.robot, base=args.base, tip=args.tip)


def _q_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("q", nargs="*", type=float, metavar="Q",
                   help="joint values [rad or m], one per joint (default: all zero)")
    p.add_argument("--link", help="link to evaluate (default: the tip/tool frame)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _q(robot: Robot, values: list[float]) -> np.ndarray:
    return robot.check_q(np.zeros(robot.dof) if not values else np.array(values))


def _fmt_matrix(M: np.ndarray) -> str:
    return "\n".join("  " + " ".join(f"{v:+.6f}" for v in row) for row in M)


def cmd_info(args: argparse.Namespace) -> int:
    robot = robot_from_args(args)
    if args.json:
        print(json.dumps({
            "name": robot.name, "source": robot.source, "dof": robot.dof,
            "base": robot.base_link, "tip": robot.tip_link,
            "chain": list(robot.link_names),
            "joints": [{"name": n, "type": t, "lower": lo, "upper": hi, "velocity": v,
                        "effort": e}
                       for n, t, (lo, hi), v, e in zip(robot.joint_names, robot.joint_types,
                                                       robot.joint_limits.tolist(),
                                                       robot.velocity_limits.tolist(),
                                                       robot.effort_limits.tolist(), strict=True)],
            "mimic": {k: list(v) for k, v in robot.mimic.items()},
            "reach_m": robot.reach,
        }, indent=2))
        return EXIT_OK
    print(f"{robot.name}: {robot.dof} joints, {robot.base_link} -> {robot.tip_link}")
    print(f"source: {robot.source}")
    print(f"chain:  {' -> '.join(robot.link_names)}")
    print(f"{'joint':<24} {'type':<11} {'lower':>9} {'upper':>9} {'vel':>8} {'effort':>8}")
    for n, t, (lo, hi), v, e in zip(robot.joint_names, robot.joint_types, robot.joint_limits,
                                    robot.velocity_limits, robot.effort_limits, strict=True):
        print(f"{n:<24} {t:<11} {lo:>9.4f} {hi:>9.4f} {v:>8.3f} {e:>8.1f}")
    for k, (leader, m, o) in robot.mimic.items():
        print(f"mimic: {k} = {m:g} * {leader} + {o:g}")
    print(f"reach (upper bound): {robot.reach:.4f} m")
    return EXIT_OK


def cmd_fk(args: argparse.Namespace) -> int:
    robot = robot_from_args(args)
    q = _q(robot, args.q)
    T = fk(robot, q, args.link)
    if args.json:
        print(json.dumps({"link": args.link or robot.tip_link, "q": q.tolist(),
                          "T": T.tolist()}))
    else:
        print(f"T_base_{args.link or robot.tip_link} (m):")
        print(_fmt_matrix(T))
    return EXIT_OK


def cmd_jacobian(args: argparse.Namespace) -> int:
    robot = robot_from_args(args)
    q = _q(robot, args.q)
    J = jacobian(robot, q, args.link, args.reference)
    if args.json:
        print(json.dumps({"link": args.link or robot.tip_link, "reference": args.reference,
                          "q": q.tolist(), "J": J.tolist(),
                          "rows": ["vx", "vy", "vz", "wx", "wy", "wz"],
                          "columns": list(robot.joint_names)}))
    else:
        print(f"J ({args.reference} reference, rows vx vy vz wx wy wz; "
              f"columns {', '.join(robot.joint_names)}):")
        print(_fmt_matrix(J))
        s = np.linalg.svd(J, compute_uv=False)
        print(f"sigma: {' '.join(f'{v:.6g}' for v in s)}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    for name in list_robots():
        print(f"{name:<10} {robots.REGISTRY[name].summary}")
    return EXIT_OK


def cmd_reach(args: argparse.Namespace) -> int:
    from .reachability import reachability_map
    from .report import write_reach_report

    robot = robot_from_args(args)
    client = None
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            print("kinematics reach: error: --scheduler needs dask.distributed "
                  "(pip install 'kinematics[dist]')", file=sys.stderr)
            return EXIT_USAGE
        client = Client(args.scheduler)
        from .chunks import check_worker_environ

        advice = check_worker_environ(client)
        if advice and not args.quiet:
            print(advice, file=sys.stderr)
    start = time.perf_counter()
    try:
        m = reachability_map(robot, voxel=args.voxel, orientations=args.orientations,
                             client=client, workers=args.workers, seed=args.seed,
                             checkpoint=f"{args.out}/chunks", progress=not args.quiet)
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    page = write_reach_report(m, args.out, {"wall_time_s": round(seconds, 2),
                                            "chunks_resumed": m.chunks_loaded})
    if not args.quiet:
        print(f"{m.solves} IK problems in {seconds:.1f} s ({m.solves / seconds:.0f}/s); "
              f"{int((m.reach_fraction > 0).sum())} of {len(m.centers)} voxels reached; "
              f"report: {page}")
    return EXIT_OK


def _no_render(robot: Robot, q: np.ndarray) -> tuple[bytes | None, str]:
    return None, "PyBullet is not installed (pip install 'kinematics[sim]'): no rendering"


def cmd_report(args: argparse.Namespace) -> int:
    """``kinematics report``: 0 ok; bad input raises a :class:`~kinematics.KinematicsError`."""
    from .report import load_trajectory, make_report
    from .report.singularity import Renderer

    robot = robot_from_args(args)
    if args.samples < 1:
        raise InvalidValueError(f"--samples {args.samples}: expected a positive integer")
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
    res = make_report(robot, args.out, trajectory=q, t=t, samples=args.samples,
                      seed=args.seed, render=render, progress=not args.quiet)
    if not args.quiet:
        print(f"report: {res.html} ({args.samples} samples, {res.seconds:.1f} s); "
              f"numbers: {res.summary_json}")
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace) -> int:
    """``kinematics simulate``: 0 every bar met, 1 a bar failed; bad input raises a
    :class:`~kinematics.KinematicsError`."""
    from .sims.report import write_outputs
    from .sims.simulate import format_summary, simulate

    robot = robot_from_args(args)
    scenarios = SCENARIOS if args.scenario == "all" else (args.scenario,)
    out = args.out or Path("out") / "simulate" / Path(args.robot).stem
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


def build_parser() -> argparse.ArgumentParser:
    """The ``kinematics`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="kinematics",
        description="Forward kinematics, Jacobians, IK and singularity analysis of URDF arms.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="list the bundled robots")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="joints, limits and chain of a robot")
    add_robot_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("fk", help="pose of the tip (or --link) at joint values q")
    add_robot_arguments(p)
    _q_arg(p)
    p.set_defaults(func=cmd_fk)

    p = sub.add_parser("jacobian", help="Jacobian of the tip (or --link) at joint values q")
    add_robot_arguments(p)
    _q_arg(p)
    p.add_argument("--reference", choices=["base", "local", "spatial"], default="base")
    p.set_defaults(func=cmd_jacobian)

    p = sub.add_parser("reach", help="reachability map (voxels x orientations), HTML report")
    add_robot_arguments(p)
    p.add_argument("--voxel", type=float, default=0.05, help="voxel edge [m] (default 0.05)")
    p.add_argument("--orientations", type=int, default=50,
                   help="tool orientations per voxel (default 50)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="Dask scheduler address, e.g. tcp://HOST:8786 (needs the dist extra)")
    p.add_argument("--workers", type=int, help="local worker processes (default: in-process)")
    p.add_argument("--seed", type=int, default=0, help="seed (same seed, same map)")
    p.add_argument("--out", default="out/reach", help="output folder (default out/reach); "
                   "an interrupted run in the same folder resumes")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_reach)

    p = sub.add_parser("report", help="singularity analysis report (HTML + JSON)",
                       description="Write DIR/report.html (self-contained) and "
                       "DIR/summary.json: singular values along a trajectory, manipulability "
                       "ellipsoids, workspace maps, worst configurations.")
    add_robot_arguments(p)
    p.add_argument("--trajectory", metavar="FILE",
                   help="joint trajectory .csv or .npy: N x dof, or N x (1 + dof) with time "
                   "first (default: a sweep through a known singularity)")
    p.add_argument("--dt", type=float, default=0.01,
                   help="sample step [s] of a trajectory without a time column (default 0.01)")
    p.add_argument("--samples", type=int, default=100_000,
                   help="workspace samples (default 100000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the workspace samples")
    p.add_argument("--out", default="out/report", metavar="DIR",
                   help="output folder (default out/report)")
    p.add_argument("--no-render", action="store_true", help="skip the PyBullet picture")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no summary line")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kinematics`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KinematicsError as exc:
        print(f"kinematics {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        extra = _EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"kinematics {args.command}: error: this command needs {exc.name}, which is not "
              f"installed: pip install 'kinematics[{extra}]'", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

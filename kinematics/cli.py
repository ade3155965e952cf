"""Command-line interface: ``kinematics {info,fk,jacobian,report,simulate} ...``.

Exit codes: 0 success, 1 a validation bar failed (simulate/report), 2 bad usage or input
(argparse's convention; every :class:`~kinematics.KinematicsError` lands here with its
message on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from . import __version__
from .exceptions import KinematicsError
from .forward import fk
from .jacobian import jacobian
from .robot import Robot, list_robots, load_robot

__all__ = ["main"]

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


def build_parser() -> argparse.ArgumentParser:
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

    _add_optional_commands(sub)
    return parser


def cmd_list(args: argparse.Namespace) -> int:
    import robots

    for name in list_robots():
        e = robots.REGISTRY[name]
        print(f"{name:<10} {e.summary}")
    return EXIT_OK


def cmd_reach(args: argparse.Namespace) -> int:
    import time

    from .reach_report import write_reach_report
    from .reachability import reachability_map

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


def _add_optional_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Commands implemented in other modules (imported lazily when run)."""
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
    try:
        from .report import add_report_parser
    except ImportError:
        pass
    else:
        add_report_parser(sub)
    try:
        from sims.simulate import add_simulate_parser
    except ImportError:
        pass
    else:
        add_simulate_parser(sub)


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

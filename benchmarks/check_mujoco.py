"""Agreement with MuJoCo's own kinematics on every MJCF model that pip packages ship.

For every MJCF file of dm_control (``suite/``, ``third_party/kinova/``, its jaco test
arms), robosuite (``models/assets/robots/*/robot.xml``, ``grippers/``) and
gymnasium-robotics (``envs/assets/``), whichever are installed: load it with
:func:`kinematics.mjcf.read_mjcf`, and for every chain default base → leaf compare, at
``qpos0`` and a few random ``q`` inside the ranges, :func:`kinematics.fk` of every body on
the chain with MuJoCo's ``xpos``/``xmat`` after ``mj_kinematics`` (expressed in the base
body's frame), and :func:`kinematics.jacobian` (``reference="base"``) with ``mj_jacBody``'s
``[jacp; jacr]`` at the body origin, rotated into base axes, columns of the chain's dofs.
A central finite difference of ``kin.fk`` checks the Jacobian too. Files MuJoCo itself does
not compile (fragments meant to be included) are listed apart. Writes
``results/mujoco.md``. Not a timed benchmark: a cross-check, also used by
``tests/test_mjcf.py``.

    python benchmarks/check_mujoco.py [--out DIR] [--samples 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package
import kinematics as kin  # noqa: E402
from kinematics.exceptions import KinematicsError  # noqa: E402

TOL = 1e-12
"""Largest absolute difference allowed against MuJoCo [m, rad, or Jacobian units]."""
FD_TOL = 1e-7
"""Largest difference allowed against the central finite difference."""


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def mjcf_files() -> list[tuple[Path, list[Path]]]:
    """``(file, package_dirs)`` of every MJCF the installed packages ship (empty when none
    is installed). ``package_dirs`` is the asset root the file's includes reach into."""
    out: list[tuple[Path, list[Path]]] = []
    dmc = _package_dir("dm_control")
    if dmc is not None:
        for f in sorted((dmc / "suite").glob("*.xml")):
            out.append((f, []))
        for f in sorted((dmc / "third_party" / "kinova").glob("*.xml")):
            out.append((f, []))
        for f in (dmc / "mjcf" / "test_assets" / "robot_arm.xml",
                  dmc / "mujoco" / "testing" / "assets" / "arm.xml"):
            if f.is_file():
                out.append((f, []))
    rs = _package_dir("robosuite")
    if rs is not None:
        assets = rs / "models" / "assets"
        for f in sorted((assets / "robots").glob("*/robot.xml")):
            out.append((f, []))
        for f in sorted((assets / "grippers").glob("*.xml")):
            out.append((f, [assets]))
    gr = _package_dir("gymnasium_robotics")
    if gr is not None:
        assets = gr / "envs" / "assets"
        for f in sorted(assets.rglob("*.xml")):
            out.append((f, [assets]))
    return out


def short(path: Path | str) -> str:
    """A file's path below ``site-packages``."""
    s = str(path)
    return s.split("site-packages/", 1)[1] if "site-packages/" in s else s


def _vee(W: np.ndarray) -> np.ndarray:
    return 0.5 * np.array([W[2, 1] - W[1, 2], W[0, 2] - W[2, 0], W[1, 0] - W[0, 1]])


def compare_chain(robot: kin.Robot, model: Any, mj: Any, data: Any, q: np.ndarray
                  ) -> tuple[float, float]:
    """Largest |difference| of pose and of Jacobian, over the bodies of ``robot``'s links,
    between this library and MuJoCo at ``q`` (``model``: the robot's MJCFModel; ``mj``,
    ``data``: MuJoCo's compiled model and a data for it)."""
    import mujoco

    body = {nm: i for i, nm in enumerate(model.bodies)}
    data.qpos[:] = mj.qpos0
    for j, v in zip(robot.joint_names, q, strict=True):
        data.qpos[model.qpos_index[j]] = v
    mujoco.mj_kinematics(mj, data)
    mujoco.mj_comPos(mj, data)
    b = body[robot.base_link]
    R_wb, p_wb = data.xmat[b].reshape(3, 3), data.xpos[b]
    cols = [model.dof_index[j] for j in robot.joint_names]
    jacp, jacr = np.zeros((3, mj.nv)), np.zeros((3, mj.nv))
    e_pose = e_jac = 0.0
    for link in robot.links:
        if link not in body:  # the frame after one joint of a multi-joint body
            continue
        i = body[link]
        T = kin.fk(robot, q, link=link)
        R = R_wb.T @ data.xmat[i].reshape(3, 3)
        p = R_wb.T @ (data.xpos[i] - p_wb)
        e_pose = max(e_pose, float(np.abs(T[:3, :3] - R).max()), float(np.abs(T[:3, 3] - p).max()))
        mujoco.mj_jacBody(mj, data, jacp, jacr, i)
        J_mj = np.vstack([R_wb.T @ jacp[:, cols], R_wb.T @ jacr[:, cols]])
        J = kin.jacobian(robot, q, link=link)
        if J.size:
            e_jac = max(e_jac, float(np.abs(J - J_mj).max()))
    return e_pose, e_jac


def finite_difference(robot: kin.Robot, q: np.ndarray, link: str | None = None,
                      h: float = 1e-6) -> float:
    """Largest |kin.jacobian − central difference of kin.fk| at ``q`` (``link``: default
    tip)."""
    J = kin.jacobian(robot, q, link=link)
    J_fd = np.zeros_like(J)
    for k in range(robot.dof):
        dq = np.zeros(robot.dof)
        dq[k] = h
        Tp, Tm = kin.fk(robot, q + dq, link=link), kin.fk(robot, q - dq, link=link)
        J_fd[:3, k] = (Tp[:3, 3] - Tm[:3, 3]) / (2 * h)
        R = kin.fk(robot, q, link=link)[:3, :3]
        J_fd[3:, k] = _vee((Tp[:3, :3] - Tm[:3, :3]) / (2 * h) @ R.T)
    return float(np.abs(J - J_fd).max()) if robot.dof else 0.0


@dataclass
class FileResult:
    """What one file gave: how it loaded and the largest differences over its chains."""

    path: Path
    status: str                      # "ok", "mujoco refuses", "we refuse"
    reason: str = ""
    robot: str = ""
    chains: list[tuple[str, int, float, float, float]] = field(default_factory=list)
    # (tip, dof, pose error, jacobian error, finite-difference error)


def check_file(path: Path, package_dirs: list[Path], samples: int = 3, seed: int = 0
               ) -> FileResult:
    """Load ``path`` and compare every chain default base → leaf with MuJoCo."""
    import mujoco

    from kinematics.mjcf import read_mjcf, robot_from_mjcf

    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(lambda _msg: None)  # no MUJOCO_LOG.TXT in the working folder
    try:
        mj = mujoco.MjModel.from_xml_path(str(path))
    except Exception as exc:  # a fragment, or a file MuJoCo refuses
        return FileResult(path, "mujoco refuses", " ".join(str(exc).split())[:160])
    finally:
        mujoco.set_mju_user_warning(previous)
    data = mujoco.MjData(mj)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = read_mjcf(path, package_dirs=package_dirs)
            whole = robot_from_mjcf(model)
    except KinematicsError as exc:
        return FileResult(path, "we refuse", str(exc).split(": ", 1)[-1][:200])
    res = FileResult(path, "ok", robot=repr(whole))
    for t, tip in enumerate(whole.tip_links):
        robot = robot_from_mjcf(model, whole.base_link, tip)
        q0 = np.array([mj.qpos0[model.qpos_index[j]] for j in robot.joint_names])
        qs = [q0, *robot.random_q(samples, seed=seed + t)]
        e_pose = e_jac = e_fd = 0.0
        for q in qs:
            a, b = compare_chain(robot, model, mj, data, q)
            e_pose, e_jac = max(e_pose, a), max(e_jac, b)
            e_fd = max(e_fd, finite_difference(robot, q))
        res.chains.append((tip, robot.dof, e_pose, e_jac, e_fd))
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import mujoco
    except ImportError:
        print('needs MuJoCo: pip install "kinematics[mjcf]"', file=sys.stderr)
        return 2
    files = mjcf_files()
    if not files:
        print("no MJCF files found: install dm-control, robosuite or gymnasium-robotics",
              file=sys.stderr)
        return 2
    results = []
    for path, dirs in files:
        r = check_file(path, dirs, args.samples)
        results.append(r)
        worst = max((max(c[2], c[3]) for c in r.chains), default=float("nan"))
        print(f"{short(path):80s} {r.status:15s} chains={len(r.chains):3d} "
              f"max|diff|={worst:.1e} {r.reason[:80]}", flush=True)
    ok = [r for r in results if r.status == "ok"]
    chains = [c for r in ok for c in r.chains]
    worst_pose = max((c[2] for c in chains), default=0.0)
    worst_jac = max((c[3] for c in chains), default=0.0)
    worst_fd = max((c[4] for c in chains), default=0.0)
    agree = sum(c[2] <= TOL and c[3] <= TOL for c in chains)
    lines = [
        "# Agreement with MuJoCo on MJCF models from pip packages", "",
        "Every MJCF file of dm_control (suite, kinova), robosuite (robots, grippers) and "
        "gymnasium-robotics (envs/assets) installed here; every chain default base → leaf; "
        f"`qpos0` and {args.samples} random q inside the ranges. Compared: `kin.fk` of every "
        "body on the chain vs MuJoCo's `xpos`/`xmat` after `mj_kinematics` (in the base "
        "body's frame), `kin.jacobian(reference=\"base\")` vs `mj_jacBody` `[jacp; jacr]` "
        "rotated into base axes (the chain's dof columns), and `kin.jacobian` vs a central "
        f"difference of `kin.fk` (h = 1e-6). Tolerance {TOL:g} (absolute). MuJoCo "
        f"{mujoco.__version__}. Written by `benchmarks/check_mujoco.py`.", "",
        "| | count |", "|---|---:|",
        f"| MJCF files | {len(results)} |",
        f"| files MuJoCo does not compile alone (fragments) | "
        f"{sum(r.status == 'mujoco refuses' for r in results)} |",
        f"| files we refuse that MuJoCo compiles | "
        f"{sum(r.status == 'we refuse' for r in results)} |",
        f"| files loaded | {len(ok)} |",
        f"| chains compared | {len(chains)} |",
        f"| ... agreeing to {TOL:g} | {agree} |",
        f"| largest pose difference | {worst_pose:.1e} |",
        f"| largest Jacobian difference | {worst_jac:.1e} |",
        f"| largest finite-difference residual | {worst_fd:.1e} |", "",
        "## Files", "",
        "| file | robot (default base, tips) | chains | dof (max) | pose | Jacobian |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in ok:
        lines.append(f"| {short(r.path)} | `{r.robot}` | {len(r.chains)} | "
                     f"{max((c[1] for c in r.chains), default=0)} | "
                     f"{max((c[2] for c in r.chains), default=0.0):.1e} | "
                     f"{max((c[3] for c in r.chains), default=0.0):.1e} |")
    refused = [r for r in results if r.status == "we refuse"]
    if refused:
        lines += ["", "## Files we refuse (MuJoCo compiles them)", "",
                  "| file | reason |", "|---|---|"]
        lines += [f"| {short(r.path)} | {r.reason} |" for r in refused]
    frag = [r for r in results if r.status == "mujoco refuses"]
    if frag:
        lines += ["", "## Files MuJoCo does not compile on their own", "",
                  "| file | MuJoCo's message |", "|---|---|"]
        lines += [f"| {short(r.path)} | {r.reason.replace('|', '/')} |" for r in frag]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "mujoco.md").write_text("\n".join(lines) + "\n")
    print(f"{len(chains)} chains, {agree} agree to {TOL:g}; largest pose {worst_pose:.1e}, "
          f"Jacobian {worst_jac:.1e}, finite difference {worst_fd:.1e}")
    return 0 if agree == len(chains) else 1


if __name__ == "__main__":
    sys.exit(main())

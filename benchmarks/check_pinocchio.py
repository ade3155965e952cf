"""Agreement with Pinocchio on every chain of example-robot-data and pybullet_data.

For every URDF the two packages ship, and every chain ``root → leaf`` of it whose path has
a moving joint, compare :func:`kinematics.fk` with Pinocchio's ``oMf`` of the leaf's body
frame and :func:`kinematics.jacobian` (``reference="base"``) with Pinocchio's
``LOCAL_WORLD_ALIGNED`` frame Jacobian, at a few random ``q`` inside the limits (joints
mapped by name; Pinocchio built with ``mimic=True`` so that mimic followers follow their
leaders). Writes ``results/pinocchio_agreement.md``. Not a timed benchmark: a
cross-check, also used by ``tests/test_whole_robots.py``.

    python benchmarks/check_pinocchio.py [--out DIR] [--samples 3]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's package
import kinematics as kin  # noqa: E402
from kinematics.exceptions import URDFError, URDFWarning  # noqa: E402

TOL = 1e-9
"""Largest absolute difference allowed [m, rad, or Jacobian units]."""


def real_urdfs() -> list[Path]:
    """Every ``.urdf`` of pybullet_data and example-robot-data (empty when not installed)."""
    files: list[Path] = []
    try:
        import pybullet_data

        files += sorted(Path(pybullet_data.getDataPath()).rglob("*.urdf"))
    except ImportError:
        pass
    try:
        erd = importlib.metadata.distribution("example-robot-data").locate_file(
            "cmeel.prefix/share/example-robot-data/robots")
        files += sorted(Path(str(erd)).rglob("*.urdf"))
    except importlib.metadata.PackageNotFoundError:
        pass
    return files


def short(path: Path | str) -> str:
    """A file's path below ``pybullet_data`` or ``example-robot-data/robots``."""
    s = str(path)
    for mark in ("/pybullet_data/", "/example-robot-data/robots/"):
        if mark in s:
            return s.split(mark, 1)[1]
    return s


def pin_model(path: Path | str) -> Any:
    """Pinocchio's fixed-base model of a file, with ``mimic=True`` when Pinocchio accepts it
    (``model.kin_mimic`` True), else without (mimic joints then are free joints of the model,
    set from their leaders here); raises what Pinocchio raises."""
    import pinocchio as pin

    try:
        model = pin.buildModelFromUrdf(str(path), mimic=True)
        model.kin_mimic = True
    except Exception:  # e.g. "The parent joint of the mimic joint is not in the kinematic tree"
        model = pin.buildModelFromUrdf(str(path))
        model.kin_mimic = False
    return model


def _followers(model: Any, robot: kin.Robot) -> list[tuple[Any, int, float, float]]:
    """Mimic joints of ``robot`` that are free joints of Pinocchio's model:
    ``(joint model, index of the leader in q, multiplier, offset)``."""
    out = []
    for name, (leader, m, o) in robot.mimic.items():
        jid = model.getJointId(name)
        if jid < model.njoints and model.joints[jid].nv == 1 and model.joints[jid].nq >= 1:
            out.append((model.joints[jid], robot.joint_names.index(leader), m, o))
    return out


def _set(qp: np.ndarray, j: Any, value: float, name: str) -> None:
    if j.nq == 1:
        qp[j.idx_q] = value
    elif j.nq == 2:  # continuous: (cos θ, sin θ)
        qp[j.idx_q:j.idx_q + 2] = np.cos(value), np.sin(value)
    else:
        raise AssertionError(f"joint {name}: nq={j.nq} in Pinocchio")


def pin_q(model: Any, robot: kin.Robot, q: np.ndarray) -> np.ndarray:
    """Pinocchio's configuration with ``robot``'s joints set from ``q`` (mimic joints that
    are free in Pinocchio's model from their leaders; others neutral)."""
    import pinocchio as pin

    qp = pin.neutral(model)
    for name, value in zip(robot.joint_names, q, strict=True):
        _set(qp, model.joints[model.getJointId(name)], value, name)
    for j, i, m, o in _followers(model, robot):
        _set(qp, j, m * q[i] + o, "mimic")
    return qp


def pin_frame(model: Any, robot: kin.Robot, q: np.ndarray, link: str
              ) -> tuple[np.ndarray, np.ndarray]:
    """Pinocchio's ``(4, 4)`` pose and ``(6, dof)`` LOCAL_WORLD_ALIGNED Jacobian of a link,
    columns in ``robot.joint_names`` order (``[v; ω]`` rows)."""
    import pinocchio as pin

    data = model.createData()
    qp = pin_q(model, robot, q)
    fid = model.getFrameId(link, pin.FrameType.BODY)
    if fid >= model.nframes:
        raise KeyError(f"no BODY frame {link!r} in Pinocchio's model")
    pin.framesForwardKinematics(model, data, qp)
    T = data.oMf[fid].homogeneous.copy()
    pin.computeJointJacobians(model, data, qp)
    Jp = pin.getFrameJacobian(model, data, fid, pin.ReferenceFrame.LOCAL_WORLD_ALIGNED)
    Jp = np.asarray(Jp).reshape(6, model.nv)  # eigenpy gives (6,) for nv=1
    cols = [model.joints[model.getJointId(n)].idx_v for n in robot.joint_names]
    J = Jp[:, cols].copy()
    for j, i, m, _ in _followers(model, robot):  # chain rule for mimics Pinocchio left free
        J[:, i] += m * Jp[:, j.idx_v]
    return T, J


def compare(model: Any, robot: kin.Robot, link: str, q: np.ndarray) -> float:
    """Largest absolute difference of pose and Jacobian of ``link`` at ``q``."""
    T_pin, J_pin = pin_frame(model, robot, q, link)
    T, J = kin.fk(robot, q, link), kin.jacobian(robot, q, link)
    return float(max(np.abs(T - T_pin).max(), np.abs(J - J_pin).max(initial=0.0)))


def leaves_with_motion(urdf: kin.URDFModel) -> list[str]:
    """Leaves of the tree whose path from the root has a non-fixed joint (file order)."""
    by_child = {j.child: j for j in urdf.joints}
    parents = {j.parent for j in urdf.joints}
    out = []
    for link in urdf.links:
        if link in parents or link not in by_child:
            continue
        cur, moving = link, False
        while cur in by_child:
            j = by_child[cur]
            moving |= j.type != "fixed"
            cur = j.parent
        if moving:
            out.append(link)
    return out


@dataclass
class Sweep:
    """Counts and findings of a sweep (see :func:`sweep`)."""

    files: int = 0
    pin_files: int = 0                      # files Pinocchio builds a model of
    pin_no_mimic: int = 0                   # ... only with mimic=False (mimics set here)
    chains: int = 0                         # chains root → leaf of those files
    loaded: int = 0                         # ... that we load
    agree: int = 0                          # ... that agree to TOL at every sample
    refused: list[tuple[str, str, str]] = field(default_factory=list)   # file, tip, message
    disagree: list[tuple[str, str, float]] = field(default_factory=list)
    pin_refused: list[tuple[str, str]] = field(default_factory=list)    # file, message
    file_refused: list[tuple[str, str]] = field(default_factory=list)   # we refuse the file
    warned_chains: int = 0                  # chains that loaded with URDFWarnings
    mimic_chains: int = 0                   # chains whose model has a mimic joint
    worst: float = 0.0


def sweep(files: list[Path], samples: int = 3, seed: int = 0) -> Sweep:
    """Compare every chain root → moving leaf of ``files`` with Pinocchio."""
    out = Sweep()
    for f in files:
        out.files += 1
        try:
            model = pin_model(f)
        except Exception as exc:  # Pinocchio raises std::exception subclasses
            out.pin_refused.append((short(f), " ".join(str(exc).split())[:160]))
            continue
        out.pin_files += 1
        out.pin_no_mimic += not model.kin_mimic
        try:
            urdf = kin.read_urdf(f)
        except URDFError as exc:
            out.file_refused.append((short(f), str(exc)))
            continue
        for leaf in leaves_with_motion(urdf):
            out.chains += 1
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", URDFWarning)
                    robot = kin.robot_from_urdf(urdf, tip=leaf)
            except URDFError as exc:
                out.refused.append((short(f), leaf, str(exc)))
                continue
            out.loaded += 1
            out.warned_chains += bool(caught)
            out.mimic_chains += bool(robot.mimic)
            rng = np.random.default_rng(seed)
            err = max(compare(model, robot, leaf, robot.random_q(seed=int(rng.integers(1 << 30))))
                      for _ in range(samples))
            out.worst = max(out.worst, err)
            if err <= TOL:
                out.agree += 1
            else:
                out.disagree.append((short(f), leaf, err))
    return out


def refusal_reason(message: str) -> str:
    """The class of one of our refusals (for the table)."""
    if " is floating;" in message or " is planar;" in message:
        return "floating/planar joint on the chain"
    return "defect of the chain: " + message.split(": ", 1)[-1][:120]


def report(s: Sweep, samples: int) -> str:
    lines = [
        "# Agreement with Pinocchio on real URDFs",
        "",
        "Every `.urdf` of pybullet_data and example-robot-data; every chain root → leaf whose "
        "path has a moving joint, in the files Pinocchio builds a model of "
        "(`pin.buildModelFromUrdf(file, mimic=True)`, fixed base; where Pinocchio refuses "
        "`mimic=True`, the model without it, with each mimic joint set to multiplier × "
        "leader + offset and its Jacobian column added, times the multiplier, to its "
        "leader's). Compared: `kin.fk` vs "
        "`oMf` of the leaf's BODY frame, and `kin.jacobian(reference=\"base\")` vs "
        "`LOCAL_WORLD_ALIGNED` frame Jacobian (joints mapped by name; continuous joints as "
        f"(cos, sin); mimic followers set by Pinocchio from their leaders) at {samples} "
        f"random q inside the limits. Tolerance {TOL:g} (absolute). Written by "
        "`benchmarks/check_pinocchio.py`.",
        "",
        "| | count |",
        "|---|---:|",
        f"| URDF files | {s.files} |",
        f"| files Pinocchio loads | {s.pin_files} |",
        f"| ... only with mimic=False (mimic followers set from leaders by this script) | "
        f"{s.pin_no_mimic} |",
        f"| files Pinocchio refuses | {len(s.pin_refused)} |",
        f"| chains in the files Pinocchio loads | {s.chains} |",
        f"| chains we load | {s.loaded} |",
        f"| ... of which agree to {TOL:g} | {s.agree} |",
        f"| ... of which have a mimic joint | {s.mimic_chains} |",
        f"| ... of which loaded with URDFWarnings (defects off the chain) | {s.warned_chains} |",
        f"| chains we refuse | {len(s.refused)} |",
        f"| files we refuse that Pinocchio loads | {len(s.file_refused)} |",
        f"| largest difference | {s.worst:.1e} |",
        "",
    ]
    if s.refused:
        lines += ["## Chains we refuse", "", "| file | tip | reason |", "|---|---|---|"]
        reasons = Counter()
        for f, tip, msg in s.refused:
            r = refusal_reason(msg)
            reasons[r.split(":")[0]] += 1
            lines.append(f"| {f} | {tip} | {r.replace('|', '/')} |")
        lines += ["", "By reason: " + ", ".join(f"{k}: {v}" for k, v in reasons.items()), ""]
    if s.file_refused:
        lines += ["## Files we refuse that Pinocchio loads", "", "| file | message |",
                  "|---|---|"]
        lines += [f"| {f} | {m[:160].replace('|', '/')} |" for f, m in s.file_refused]
        lines.append("")
    if s.disagree:
        lines += ["## Chains that disagree", "", "| file | tip | difference |", "|---|---|---:|"]
        lines += [f"| {f} | {t} | {e:.1e} |" for f, t, e in s.disagree]
        lines.append("")
    if s.pin_refused:
        lines += ["## Files Pinocchio refuses", "", "| file | Pinocchio's message |", "|---|---|"]
        lines += [f"| {f} | {m.replace('|', '/')} |" for f, m in s.pin_refused]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument("--samples", type=int, default=3)
    args = ap.parse_args()
    files = real_urdfs()
    if not files:
        raise SystemExit("pybullet_data / example-robot-data not installed")
    s = sweep(files, args.samples)
    text = report(s, args.samples)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pinocchio_agreement.md").write_text(text)
    print(text.split("## ")[0])
    print(f"wrote {out / 'pinocchio_agreement.md'}")


if __name__ == "__main__":
    main()

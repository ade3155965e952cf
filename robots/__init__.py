"""Bundled URDF arm descriptions and their registry.

Each description is a plain URDF file in this package, written from published kinematic
parameters (the source is cited in the file's header comment and in ``RobotEntry.source``),
with primitive-shape geometry and plausible inertials so that PyBullet can simulate it.

Robot-specific knowledge lives here, never in library code: the Jacobian rows the
singularity monitor watches (:func:`monitor_rows`), the report's default sweep through a
known singularity (``RobotEntry.singular_sweep``) and configurations exactly on known
singular sets (``RobotEntry.singular_sets``, checked in the tests).

Standard library only, and imports nothing from ``kinematics``: installed as
``kinematics.robots``, it sits below every library module.

>>> names()
['planar2r', 'panda', 'iiwa14', 'ur5', 'puma560']
>>> REGISTRY["panda"].tip
'panda_hand_tcp'
>>> urdf_path("ur5").name
'ur5.urdf'
>>> monitor_rows("planar2r"), monitor_rows("panda")
((0, 1), None)
"""

from __future__ import annotations

import math
import pathlib
import types
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["REGISTRY", "RobotEntry", "SingularSet", "SingularSweep", "monitor_rows", "names",
           "urdf_path"]

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


@dataclass(frozen=True)
class SingularSweep:
    """A constant-velocity joint sweep through a known singularity.

    Attributes:
        start: ``(dof,)`` joint values [rad or m]; every joint but ``joint`` stays here.
        joint: Index of the joint that moves.
        begin, end: Its first and last value [rad or m]; the singularity lies between.
        description: What the sweep passes through, e.g. ``"wrist singularity (q5 = 0)"``.
    """

    start: tuple[float, ...]
    joint: int
    begin: float
    end: float
    description: str


@dataclass(frozen=True)
class SingularSet:
    """A known singular set and one configuration exactly on it.

    Attributes:
        name: Short name, e.g. ``"wrist"``.
        q: ``(dof,)`` joint values [rad or m] on the set: the smallest singular value of the
            Jacobian (its :func:`monitor_rows`, default all six) is zero to rounding.
        description: The geometric condition, e.g. ``"q5 = 0: joints 4 and 6 aligned"``.
    """

    name: str
    q: tuple[float, ...]
    description: str


@dataclass(frozen=True)
class RobotEntry:
    """One bundled robot description.

    Attributes:
        name: Registry key, e.g. ``"panda"``.
        urdf: File name of the URDF inside this package, e.g. ``"panda.urdf"``.
        base: Name of the base link (the frame poses are expressed in).
        tip: Name of the default tip link (tool/flange frame).
        summary: One-line description, e.g. ``"Franka Emika Panda, 7-DoF"``.
        source: One-line citation of the kinematic parameters.
        monitor_rows: Jacobian rows ``[vx vy vz wx wy wz]`` the singularity monitor watches,
            ``None`` for all six (e.g. ``(0, 1)`` for a planar arm: only ``vx, vy`` can be
            lost).
        singular_sweep: The singularity report's default trajectory, ``None`` to search one.
        singular_sets: Known singular sets, each with a configuration exactly on it.
    """

    name: str
    urdf: str
    base: str
    tip: str
    summary: str
    source: str
    monitor_rows: tuple[int, ...] | None = None
    singular_sweep: SingularSweep | None = None
    singular_sets: tuple[SingularSet, ...] = ()


_ENTRIES = (
    RobotEntry(
        name="planar2r",
        urdf="planar2r.urdf",
        base="base_link",
        tip="tip",
        summary="Planar two-link (2R) arm, l1 = 1.0 m, l2 = 0.8 m, joints about +z",
        source="Textbook planar 2R arm (DH a_i = l_i, alpha_i = d_i = 0; e.g. Spong et al., "
        "Robot Modeling and Control, 2006)",
        monitor_rows=(0, 1),
        singular_sweep=SingularSweep((0.3, 0.0), 1, 1.2, -0.6, "elbow stretched (q2 = 0)"),
        singular_sets=(
            SingularSet("stretched", (0.3, 0.0), "q2 = 0: the arm stretched, reach l1 + l2"),
            SingularSet("folded", (0.3, math.pi), "q2 = pi: the arm folded back, reach l1 - l2"),
        ),
    ),
    RobotEntry(
        name="panda",
        urdf="panda.urdf",
        base="panda_link0",
        tip="panda_hand_tcp",
        summary="Franka Emika Panda, 7-DoF, with Franka Hand",
        source="Franka Emika FCI docs, Robot and interface specifications: modified DH "
        "parameters and joint limits",
        singular_sets=(
            SingularSet("stretched", (0.4, 0.0, -0.3, 0.0, 0.5, 0.0, 0.7),
                        "q2 = q4 = q6 = 0: joints 1, 3, 5, 7 vertical and 2, 4, 6 parallel, no "
                        "rotation about the horizontal normal to them (q4 = 0 lies just past "
                        "its upper limit -0.0698 rad)"),
        ),
    ),
    RobotEntry(
        name="iiwa14",
        urdf="iiwa14.urdf",
        base="iiwa_link_0",
        tip="iiwa_link_ee",
        summary="KUKA LBR iiwa 14 R820, 7-DoF",
        source="KUKA LBR iiwa 7 R800 / 14 R820 Specification (0.36/0.42/0.40/0.126 m, axis "
        "data); frames as iiwa_stack",
        singular_sweep=SingularSweep((0.0, 0.5, 0.0, 0.0, 0.0, 0.8, 0.0), 3, -0.9, 0.5,
                                     "stretched elbow (q4 = 0)"),
        singular_sets=(
            SingularSet("stretched", (0.4, 0.0, -0.3, 0.0, 0.5, 0.0, 0.7),
                        "q2 = q4 = q6 = 0: the arm straight up, joints 1, 3, 5, 7 on one "
                        "vertical line"),
        ),
    ),
    RobotEntry(
        name="ur5",
        urdf="ur5.urdf",
        base="base_link",
        tip="tool0",
        summary="Universal Robots UR5, 6-DoF",
        source="Universal Robots, DH parameters for calculations of kinematics and dynamics "
        "(UR5 standard DH)",
        singular_sweep=SingularSweep((0.0, -1.2, 1.5, -0.3, 0.0, 0.0), 4, 0.6, -0.4,
                                     "wrist singularity (q5 = 0)"),
        singular_sets=(
            SingularSet("wrist", (0.3, -1.2, 1.5, -0.3, 0.0, 0.4),
                        "q5 = 0: the axes of joints 4 and 6 parallel"),
            SingularSet("elbow", (0.3, -1.2, 0.0, -0.3, 0.9, 0.4),
                        "q3 = 0: upper arm and forearm in line"),
            # q2 is the root of det J = 0 with the other joints fixed (brentq, then rounded
            # to the nearest double)
            SingularSet("shoulder", (0.3, 0.7083004488155681, 1.5, -0.3, 0.9, 0.4),
                        "the wrist point (wrist_3 origin, on joint 6's axis) on the line that "
                        "meets joint 1's axis parallel to joint 2's axis"),
        ),
    ),
    RobotEntry(
        name="puma560",
        urdf="puma560.urdf",
        base="base_link",
        tip="tool0",
        summary="Unimation PUMA 560, 6-DoF, on its 0.67183 m pedestal",
        source="Corke & Armstrong-Helouvry, ICRA 1994 standard DH, as "
        "roboticstoolbox.models.DH.Puma560",
        singular_sweep=SingularSweep((0.3, 0.6, -0.4, 0.5, 0.0, -0.2), 4, 0.6, -0.4,
                                     "wrist singularity (theta5 = 0)"),
        singular_sets=(
            SingularSet("wrist", (0.3, 0.6, -0.4, 0.5, 0.0, -0.2),
                        "theta5 = 0: the axes of joints 4 and 6 aligned"),
            # theta3 is the root of det J = 0 with the other joints fixed (brentq)
            SingularSet("elbow", (0.3, 0.6, -1.5238184104468133, 0.5, 0.8, -0.2),
                        "theta3 = atan(a3 / d4) - pi/2: shoulder, elbow and wrist centre in "
                        "line, the arm stretched"),
        ),
    ),
)

REGISTRY: Mapping[str, RobotEntry] = types.MappingProxyType(
    {entry.name: entry for entry in _ENTRIES}
)
"""Read-only mapping from robot name to its :class:`RobotEntry`, in a fixed order."""


def names() -> list[str]:
    """Names of the bundled robot descriptions, in registry order.

    Returns:
        A new list, e.g. ``['planar2r', 'panda', 'iiwa14', 'ur5', 'puma560']``.
    """
    return list(REGISTRY)


def monitor_rows(name: str) -> tuple[int, ...] | None:
    """Jacobian rows the singularity monitor of a bundled robot watches.

    Args:
        name: A robot name (``Robot.name``); names that are not bundled are allowed.

    Returns:
        Row indices into ``[vx vy vz wx wy wz]``, or ``None``: all six rows (the default for
        every robot without an entry, and for names that are not bundled).
    """
    entry = REGISTRY.get(name)
    return None if entry is None else entry.monitor_rows


def urdf_path(name: str) -> pathlib.Path:
    """Absolute path of a bundled URDF file.

    Args:
        name: Registry key, one of :func:`names`.

    Returns:
        The absolute path of the URDF file shipped in this package.

    Raises:
        KeyError: If ``name`` is not a bundled robot; the message lists the valid names.
    """
    try:
        entry = REGISTRY[name]
    except KeyError:
        raise KeyError(f"Unknown robot {name!r}. Available robot names: {names()}") from None
    return _PACKAGE_DIR / entry.urdf

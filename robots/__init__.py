"""Bundled URDF arm descriptions and their registry.

Each description is a plain URDF file in this package, written from published kinematic
parameters (the source is cited in the file's header comment and in ``RobotEntry.source``),
with primitive-shape geometry and plausible inertials so that PyBullet can simulate it.

Standard library only: this module is imported by ``kinematics`` and by the PyBullet
harness alike.

>>> names()
['planar2r', 'panda', 'iiwa14', 'ur5', 'puma560']
>>> REGISTRY["panda"].tip
'panda_hand_tcp'
>>> urdf_path("ur5").name
'ur5.urdf'
"""

from __future__ import annotations

import pathlib
import types
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["REGISTRY", "RobotEntry", "names", "urdf_path"]

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


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
    """

    name: str
    urdf: str
    base: str
    tip: str
    summary: str
    source: str


_ENTRIES = (
    RobotEntry(
        name="planar2r",
        urdf="planar2r.urdf",
        base="base_link",
        tip="tip",
        summary="Planar two-link (2R) arm, l1 = 1.0 m, l2 = 0.8 m, joints about +z",
        source="Textbook planar 2R arm (DH a_i = l_i, alpha_i = d_i = 0; e.g. Spong et al., "
        "Robot Modeling and Control, 2006)",
    ),
    RobotEntry(
        name="panda",
        urdf="panda.urdf",
        base="panda_link0",
        tip="panda_hand_tcp",
        summary="Franka Emika Panda, 7-DoF, with Franka Hand",
        source="Franka Emika FCI docs, Robot and interface specifications: modified DH "
        "parameters and joint limits",
    ),
    RobotEntry(
        name="iiwa14",
        urdf="iiwa14.urdf",
        base="iiwa_link_0",
        tip="iiwa_link_ee",
        summary="KUKA LBR iiwa 14 R820, 7-DoF",
        source="KUKA LBR iiwa 7 R800 / 14 R820 Specification (0.36/0.42/0.40/0.126 m, axis "
        "data); frames as iiwa_stack",
    ),
    RobotEntry(
        name="ur5",
        urdf="ur5.urdf",
        base="base_link",
        tip="tool0",
        summary="Universal Robots UR5, 6-DoF",
        source="Universal Robots, DH parameters for calculations of kinematics and dynamics "
        "(UR5 standard DH)",
    ),
    RobotEntry(
        name="puma560",
        urdf="puma560.urdf",
        base="base_link",
        tip="tool0",
        summary="Unimation PUMA 560, 6-DoF, on its 0.67183 m pedestal",
        source="Corke & Armstrong-Helouvry, ICRA 1994 standard DH, as "
        "roboticstoolbox.models.DH.Puma560",
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

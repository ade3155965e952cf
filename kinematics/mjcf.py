"""MJCF (MuJoCo XML) robots, compiled by MuJoCo itself (optional extra ``mjcf``).

There is no hand-written MJCF parser: :func:`read_mjcf` hands the file to
``mujoco.MjModel.from_xml_path`` (includes, defaults and classes, ``<compiler angle/euler
...>``, ``<frame>``, ``meshdir`` are all resolved by MuJoCo) and builds the same tree
:class:`~kinematics.urdf.URDFModel` the URDF reader produces, from the *compiled* model
(``body_pos``, ``body_quat``, ``jnt_pos``, ``jnt_axis``, ``jnt_range``, ``qpos0``). The
:class:`~kinematics.Robot` is then built by :func:`~kinematics.robot_from_urdf`, so every
function of the library takes an MJCF robot.

**Semantics.** Bodies are links (named by MuJoCo's names; an unnamed body is ``body<id>``,
an unnamed joint ``joint<id>``; the world body is ``world``). A hinge joint is revolute
(``continuous`` when not ``limited``), a slide joint prismatic. A body with several joints
is a chain of joints in MuJoCo's order; the frame after each joint but the last is an extra
link ``<body>:<joint>``, and so is the frame on a hinge's axis when the hinge's anchor
(``pos``) is off the body origin (a fixed joint ``<body>:anchor`` then leads to the body).
``q`` is MuJoCo's ``qpos`` of the chain's joints: ``ref`` is honoured (the body is in its
model pose at ``q = ref``). Limits come from ``range`` where the joint is limited.
Free and ball joints are never on a chain: a chain starts below them, and a path through one
is an error naming the joint. Equality constraints (couplings, welds) are not kinematic and
are ignored; so are tendons and actuators (the effort limit is ``actuatorfrcrange`` when
given).

**Defaults.** The base is the first body below the world whose subtree moves: that body
itself when it is fixed to the world or carries a free/ball joint, or ``world`` when its
own joints are hinges/slides. The tips are the leaves below it (several leaves: a tree with
one ``q``, as for URDF).

**Untrusted files.** Only the given file and the files it references are read, and only
inside its folder (or the given ``package_dirs``): before MuJoCo sees the file, its XML and
that of every ``<include>`` is scanned (expat; DOCTYPE and entities refused) for ``file*``
attributes and ``<compiler meshdir/texturedir/assetdir>``; a path that resolves outside
those folders is refused, naming it. XML text (:func:`parse_mjcf`) may not reference files
at all. The XML is capped in size (:data:`~kinematics.urdf.DEFAULT_MAX_BYTES`, env
``KINEMATICS_URDF_MAX_BYTES``; the sum of the top file and its includes), as is every
referenced asset file, and includes nest at most :data:`MAX_INCLUDE_DEPTH` deep. MuJoCo
itself then reads those XML files and the meshes, textures, height fields and skins they
name (its own STL/OBJ/MSH/PNG readers; MuJoCo runs no code from a model file, and loads
plugins only when the program registered them). MuJoCo's compile time is not capped.
MuJoCo's compiler warnings (deprecated attributes) are dropped rather than appended to
``MUJOCO_LOG.TXT`` in the working folder: reading a file writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from numpy.typing import ArrayLike

from . import _checks
from ._mjcf import (
    INSTALL_HINT,
    MAX_INCLUDE_DEPTH,
    SUPPORTED,
    MJCFModel,
    file_format,
    model_from_mjmodel,
    parse_mjcf,
    read_mjcf,
)
from .exceptions import InvalidValueError
from .robot import Robot, robot_from_urdf

__all__ = ["INSTALL_HINT", "MAX_INCLUDE_DEPTH", "SUPPORTED", "MJCFModel", "file_format",
           "model_from_mjmodel", "parse_mjcf", "read_mjcf", "robot_from_mjcf"]


def robot_from_mjcf(
    mjcf: str | bytes | os.PathLike[str] | MJCFModel | Any,
    base: str | None = None,
    tip: str | Sequence[str] | None = None,
    *,
    base_pose: ArrayLike | None = None,
    tool: ArrayLike | None = None,
    name: str | None = None,
    package_dirs: Sequence[str | os.PathLike[str]] | None = None,
    max_bytes: int | None = None,
) -> Robot:
    """Build a :class:`~kinematics.Robot` from an MJCF file, MJCF text, a compiled
    ``mujoco.MjModel`` or an :class:`MJCFModel`.

    Args:
        mjcf: A path, the XML text (starts with ``<``), an ``MjModel`` or an ``MJCFModel``.
        base: Base body (default: see the module docstring).
        tip: Tip body or list of tips (default: the leaves below the base).
        base_pose: ``(4, 4)`` pose of ``base`` in the frame results are expressed in.
        tool: ``(4, 4)`` tool frame relative to the (single) tip.
        name: Robot name (default: the model's, else the file's stem).
        package_dirs: Further folders a file may read from (see :func:`read_mjcf`).
        max_bytes: Size cap (see :func:`read_mjcf`).

    Returns:
        A robot whose ``q`` is MuJoCo's ``qpos`` of its joints.

    Raises:
        KinematicsError: MuJoCo is not installed.
        URDFError: As :func:`read_mjcf`; a path base → tip through a free or ball joint; an
            unknown body.
        InvalidValueError: Arguments of the wrong type.
    """
    if isinstance(mjcf, MJCFModel):
        model = mjcf
    elif isinstance(mjcf, bytes) or (isinstance(mjcf, str) and mjcf.lstrip().startswith("<")):
        model = parse_mjcf(mjcf, max_bytes=max_bytes)
    elif isinstance(mjcf, (str, os.PathLike)):
        model = read_mjcf(mjcf, max_bytes=max_bytes, package_dirs=package_dirs)
    elif type(mjcf).__name__ == "MjModel":
        model = model_from_mjmodel(mjcf)
    else:
        raise InvalidValueError(f"mjcf={_checks.show(mjcf)}; expected an MJCF file path, MJCF "
                                "text, a mujoco.MjModel or an MJCFModel")
    if base is not None:
        _checks.name(base, "base")
    if tip is not None and not isinstance(tip, str) and not (
            isinstance(tip, Sequence) and tip and all(isinstance(t, str) for t in tip)):
        raise InvalidValueError(f"tip={_checks.show(tip)}; expected a body name, a non-empty "
                                "list of body names, or None")
    base_, tip_ = model.ends(base, tip)
    return robot_from_urdf(model, base_, tip_, base_pose=base_pose, tool=tool,
                           name=name or model.name or None)

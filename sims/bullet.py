"""The one boundary between :mod:`kinematics` and PyBullet.

PyBullet differs from the library in three ways, all converted here and nowhere else:

- Quaternions are ``xyzw``.
- ``getLinkState(...)[0:2]`` is the link's **centre-of-mass** frame; ``[4:6]`` is the URDF
  link frame; the reported linear velocity is the COM's.
- ``calculateJacobian``'s ``localPosition`` is an offset **from the URDF link origin**,
  expressed in the **COM frame's axes** (measured here with PyBullet 3.2.7; its docs say
  "around its center of mass", see bullet3 issue #4668). So ``[0, 0, 0]`` is the link
  origin, and a point ``r`` given in link axes is ``R_com_link @ r``.
- Joints are indexed, fixed joints included; ``calculateJacobian`` wants values for every
  movable joint (fingers too) and returns columns for each.

Link index ``i`` in PyBullet is the child link of joint ``i``; the base link is ``-1``.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pybullet_data

from kinematics import KinematicsError, Robot, URDFError, fk_all, spatial


def _import_pybullet():  # type: ignore[no-untyped-def]
    """Import pybullet without its "pybullet build time: ..." banner (written by its C code
    to file descriptor 2 at import)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr is not a real file (captured)
        import pybullet

        return pybullet
    sys.stderr.flush()
    saved, devnull = os.dup(fd), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        import pybullet
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)
    return pybullet


p = _import_pybullet()

__all__ = ["Sim", "pose_from_pybullet", "data_path", "render_png", "contained_urdf", "GRAVITY"]

GRAVITY = (0.0, 0.0, -9.81)
"""Gravity used by :meth:`Sim.start_velocity_control` [m/s²], world frame."""

DEFAULT_MOTOR_FORCE = 1000.0
"""Motor force/torque bound [N·m or N] for joints whose URDF gives no effort limit."""


def data_path(rel: str) -> str:
    """Path of a file shipped in ``pybullet_data``."""
    import os

    return os.path.join(pybullet_data.getDataPath(), rel)


def _mesh_path(filename: str, root: Path) -> Path:
    """Where PyBullet would look for a URDF ``filename=``: ``package://pkg/rel`` and
    relative names resolve under the URDF's folder, ``file://`` and absolute names as is."""
    name = filename
    for prefix in ("package://", "file://"):
        if name.startswith(prefix):
            name = name[len(prefix):]
            if prefix == "file://":
                return Path(os.path.realpath(name))
            break
    p = Path(name)
    return Path(os.path.realpath(p if p.is_absolute() else root / p))


def contained_urdf(source: str | os.PathLike[str], package_dirs: tuple[str, ...] = ()
                   ) -> tuple[str, list[str]]:
    """The URDF PyBullet (or any renderer) gets: always a temporary copy of the file that the
    library's reader parsed and rewrote, never the file itself.

    The file is read once (a regular file, within the URDF size cap), checked by
    :func:`kinematics.parse_urdf` (no DOCTYPE/entities, well-formed, a valid tree; a stray
    blank before ``<?xml`` is forgiven exactly as the reader forgives it), and every
    ``filename=`` it holds (meshes, textures) is resolved. Files outside the description's
    package (the URDF's folder, or its nearest ancestor holding a ``package.xml``) and
    ``package_dirs`` — ``../`` out of the tree, absolute paths elsewhere, symlinks out —
    are never opened: their ``<visual>``/``<collision>`` (or the element itself) is removed
    from the copy, and the remaining file names are made absolute.

    Args:
        source: Path of the URDF.
        package_dirs: Further folders whose files are allowed.

    Returns:
        ``(path of the copy, [the file names that were removed])``; the caller deletes the
        copy.

    Raises:
        URDFError: The file cannot be read or is not a URDF the reader accepts: containment
            cannot be established, so nothing is handed to the renderer.
    """
    from kinematics._xacro_sandbox import package_root
    from kinematics.urdf import DEFAULT_MAX_BYTES, _prepare, parse_urdf

    src = Path(source)
    try:
        st = os.stat(src)
        if not stat.S_ISREG(st.st_mode):
            raise URDFError("is not a regular file; the renderer gets only a URDF file the "
                            "reader parsed", str(src))
        if st.st_size > DEFAULT_MAX_BYTES:
            raise URDFError(f"file is {st.st_size} bytes, more than the cap of "
                            f"{DEFAULT_MAX_BYTES} bytes", str(src))
        data = src.read_bytes()
    except OSError as exc:
        raise URDFError(f"cannot read the file for the renderer ({exc.strerror}); nothing is "
                        "loaded", str(src)) from None
    parse_urdf(data, str(src))  # DOCTYPE, encoding, malformed XML, not a tree: refused here
    try:
        root_el = ET.fromstring(_prepare(data, str(src), DEFAULT_MAX_BYTES))
    except (ET.ParseError, ValueError, LookupError) as exc:  # pragma: no cover - parse_urdf
        raise URDFError(f"cannot rewrite the URDF for the renderer: {exc}", str(src)) from None
    folder = Path(os.path.realpath(src)).parent
    allowed = [Path(package_root(str(src))), *(Path(os.path.realpath(d)) for d in package_dirs)]
    stripped: list[str] = []
    parents = {c: el for el in root_el.iter() for c in el}
    for el in list(root_el.iter()):
        fname = el.get("filename")
        if fname is None:
            continue
        path = _mesh_path(fname, folder)
        if any(path == a or a in path.parents for a in allowed):
            el.set("filename", str(path))
            continue
        stripped.append(fname)
        doomed = el
        while doomed.tag not in ("visual", "collision") and parents.get(doomed) is not None \
                and parents[doomed] is not root_el:
            doomed = parents[doomed]
        if doomed.tag not in ("visual", "collision"):
            doomed = el
        holder = parents.get(doomed)
        if holder is not None and doomed in list(holder):
            holder.remove(doomed)
    fd, tmp = tempfile.mkstemp(suffix=".urdf", prefix="kinematics-contained-")
    with os.fdopen(fd, "wb") as fh:
        ET.ElementTree(root_el).write(fh, encoding="utf-8", xml_declaration=True)
    return tmp, stripped


def pose_from_pybullet(pos: Any, quat_xyzw: Any) -> np.ndarray:
    """``(4, 4)`` transform from a PyBullet position and ``xyzw`` quaternion."""
    R = np.array(p.getMatrixFromQuaternion(quat_xyzw)).reshape(3, 3)
    return spatial.transform(R, pos)


@dataclass
class Sim:
    """A robot loaded in its own PyBullet physics client (fixed base).

    Attributes:
        robot: The library's model of the same URDF.
        client: PyBullet physics client id.
        body: Body unique id.
        joint_index: ``(dof,)`` PyBullet joint index of each joint in ``robot.joint_names``.
        movable: PyBullet indices of every non-fixed joint (order of ``calculateJacobian``).
        link_index: ``{link name: PyBullet link index}`` (base link: -1).
        forces: ``(dof,)`` motor force bounds of :meth:`command_velocity` [N·m or N]
            (set by :meth:`start_velocity_control`).
    """

    robot: Robot
    client: int
    body: int
    joint_index: np.ndarray
    movable: list[int]
    link_index: dict[str, int]
    forces: np.ndarray | None = None

    @classmethod
    def open(cls, robot: Robot, gui: bool = False, dt: float = 1.0 / 240.0) -> Sim:
        """Connect (DIRECT unless ``gui``), load ``robot.source`` with a fixed base.

        The base is placed at ``robot.base_pose``; joints are mapped by name.
        """
        if _is_mjcf(robot):
            raise KinematicsError(
                f"{robot.source}: PyBullet cannot load MJCF robots in general (its loadMJCF "
                "reads a small subset of MuJoCo's format); simulate a URDF of this robot, or "
                "use MuJoCo itself")
        client = p.connect(p.GUI if gui else p.DIRECT)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        p.setTimeStep(dt, physicsClientId=client)
        Tb = np.asarray(robot.base_pose)
        quat = _quat_xyzw(Tb[:3, :3])
        try:
            path, _ = contained_urdf(robot.source)
        except URDFError:
            p.disconnect(client)
            raise
        try:
            body = p.loadURDF(path, Tb[:3, 3].tolist(), quat, useFixedBase=True,
                              flags=p.URDF_USE_INERTIA_FROM_FILE, physicsClientId=client)
        except p.error:
            p.disconnect(client)
            raise
        finally:
            os.unlink(path)
        names, links, movable = {}, {}, []
        base_name = p.getBodyInfo(body, physicsClientId=client)[0].decode()
        links[base_name] = -1
        for i in range(p.getNumJoints(body, physicsClientId=client)):
            info = p.getJointInfo(body, i, physicsClientId=client)
            names[info[1].decode()] = i
            links[info[12].decode()] = i
            if info[2] != p.JOINT_FIXED:
                movable.append(i)
        missing = [n for n in robot.joint_names if n not in names]
        if missing:
            p.disconnect(client)
            raise KeyError(f"joints {missing} of {robot.name} not found in PyBullet's model")
        idx = np.array([names[n] for n in robot.joint_names])
        return cls(robot, client, body, idx, movable, links)

    def close(self) -> None:
        """Disconnect the physics client."""
        if p.isConnected(self.client):
            p.disconnect(self.client)

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------
    def reset_q(self, q: np.ndarray, qd: np.ndarray | None = None) -> None:
        """Teleport joints to ``q`` (and velocities ``qd``); other joints are left as is."""
        qd = np.zeros_like(q) if qd is None else qd
        for i, qi, vi in zip(self.joint_index, q, qd, strict=True):
            p.resetJointState(self.body, int(i), float(qi), float(vi), physicsClientId=self.client)

    def q(self) -> tuple[np.ndarray, np.ndarray]:
        """Measured joint positions and velocities, ``(dof,)`` each."""
        states = p.getJointStates(self.body, self.joint_index.tolist(), physicsClientId=self.client)
        return np.array([s[0] for s in states]), np.array([s[1] for s in states])

    def all_movable_q(self) -> list[float]:
        """Values of every movable joint, in PyBullet order (for ``calculateJacobian``)."""
        states = p.getJointStates(self.body, self.movable, physicsClientId=self.client)
        return [s[0] for s in states]

    # -- control -----------------------------------------------------------------------
    def start_velocity_control(self, gravity: tuple[float, float, float] = GRAVITY,
                               forces: np.ndarray | None = None) -> None:
        """Prepare the closed loop: gravity, no passive damping, fingers held in place.

        Sets ``gravity`` [m/s²]; zeroes PyBullet's default link damping (linear, angular
        0.04) and the URDF joint damping on every link so that only the motors act; holds
        every movable joint that is *not* in ``robot.joint_names`` (fingers) at its current
        value with ``POSITION_CONTROL``. The chain's joints are then driven by
        :meth:`command_velocity`.

        Args:
            gravity: ``(3,)`` world-frame gravity [m/s²].
            forces: ``(dof,)`` motor bounds [N·m or N] for :meth:`command_velocity`
                (default: the URDF effort limits, :data:`DEFAULT_MOTOR_FORCE` where none).
        """
        c = self.client
        p.setGravity(*gravity, physicsClientId=c)
        for li in [-1, *range(p.getNumJoints(self.body, physicsClientId=c))]:
            p.changeDynamics(self.body, li, linearDamping=0.0, angularDamping=0.0,
                             jointDamping=0.0, physicsClientId=c)
        if forces is None:
            eff = np.asarray(self.robot.effort_limits, dtype=float)
            forces = np.where(np.isfinite(eff) & (eff > 0), eff, DEFAULT_MOTOR_FORCE)
        self.forces = np.asarray(forces, dtype=float)
        chain = {int(i) for i in self.joint_index}
        others = [i for i in self.movable if i not in chain]
        if others:
            held = [s[0] for s in p.getJointStates(self.body, others, physicsClientId=c)]
            p.setJointMotorControlArray(self.body, others, p.POSITION_CONTROL,
                                        targetPositions=held,
                                        forces=[DEFAULT_MOTOR_FORCE] * len(others),
                                        physicsClientId=c)
        self.command_velocity(np.zeros(self.robot.dof))

    def command_velocity(self, qd: np.ndarray) -> None:
        """Target joint velocities ``(dof,)`` [rad/s or m/s] (``VELOCITY_CONTROL``) for the
        chain's joints, bounded by the motor forces of :meth:`start_velocity_control`."""
        forces = self.forces
        if forces is None:
            forces = np.full(self.robot.dof, DEFAULT_MOTOR_FORCE)
        p.setJointMotorControlArray(self.body, self.joint_index.tolist(), p.VELOCITY_CONTROL,
                                    targetVelocities=np.asarray(qd, dtype=float).tolist(),
                                    forces=forces.tolist(), physicsClientId=self.client)

    def step(self) -> None:
        """Advance the physics by one time step (``dt`` of :meth:`open`)."""
        p.stepSimulation(physicsClientId=self.client)

    def draw_polyline(self, points: np.ndarray, color: tuple[float, float, float] = (1, 0, 0)
                      ) -> None:
        """Draw ``(n, 3)`` world points as debug lines (visible with ``gui=True`` only)."""
        for a, b in zip(points[:-1], points[1:], strict=True):
            p.addUserDebugLine(a.tolist(), b.tolist(), list(color), 2.0,
                               physicsClientId=self.client)

    def snapshot(self, target: np.ndarray, distance: float, width: int = 480,
                 height: int = 360, yaw: float = 50.0, pitch: float = -25.0) -> np.ndarray:
        """``(height, width, 3)`` uint8 RGB image from PyBullet's TinyRenderer (works in
        DIRECT mode), camera looking at ``target`` (world, m) from ``distance`` [m]."""
        c = self.client
        view = p.computeViewMatrixFromYawPitchRoll(np.asarray(target, float).tolist(), distance,
                                                   yaw, pitch, 0.0, 2, physicsClientId=c)
        proj = p.computeProjectionMatrixFOV(50.0, width / height, 0.01, 20.0, physicsClientId=c)
        img = p.getCameraImage(width, height, view, proj, renderer=p.ER_TINY_RENDERER,
                               physicsClientId=c)
        rgba = np.asarray(img[2], dtype=np.uint8).reshape(height, width, 4)
        return rgba[:, :, :3].copy()

    # -- frames ------------------------------------------------------------------------
    def link_state(self, link: str) -> tuple[np.ndarray, np.ndarray]:
        """URDF-frame pose ``(4, 4)`` and twist ``(6,)`` ``[v; ω]`` of a link (world frame).

        The linear velocity PyBullet reports is that of the COM; it is moved to the link
        origin here (``v_o = v_com + ω × (o − c)``).
        """
        li = self.link_index[link]
        if li == -1:  # base: PyBullet reports the COM frame only
            pos, orn = p.getBasePositionAndOrientation(self.body, physicsClientId=self.client)
            dyn = p.getDynamicsInfo(self.body, -1, physicsClientId=self.client)
            T_com = pose_from_pybullet(pos, orn)
            T_link = T_com @ spatial.inverse(pose_from_pybullet(dyn[3], dyn[4]))
            v, w = p.getBaseVelocity(self.body, physicsClientId=self.client)
            com, v_com, w = T_com[:3, 3], np.array(v), np.array(w)
        else:
            s = p.getLinkState(self.body, li, computeLinkVelocity=1, computeForwardKinematics=1,
                               physicsClientId=self.client)
            T_link = pose_from_pybullet(s[4], s[5])
            com, v_com, w = np.array(s[0]), np.array(s[6]), np.array(s[7])
        v_o = v_com + np.cross(w, T_link[:3, 3] - com)
        return T_link, np.concatenate([v_o, w])

    def com_rotation_from_link(self, link: str) -> np.ndarray:
        """``(3, 3)`` ``R_com_link``: link axes → COM-frame axes (constant)."""
        li = self.link_index[link]
        s = p.getLinkState(self.body, li, computeForwardKinematics=1, physicsClientId=self.client)
        R_com = pose_from_pybullet(s[0], s[1])[:3, :3]
        R_link = pose_from_pybullet(s[4], s[5])[:3, :3]
        return R_com.T @ R_link

    def jacobian(self, link: str, point: np.ndarray | None = None) -> np.ndarray:
        """``(6, dof)`` PyBullet's Jacobian of a point of a link, ``robot``'s joint columns.

        Args:
            link: Link name.
            point: ``(3,)`` offset from the URDF link origin in link axes [m]; default the
                origin itself (the library's ``reference="base"`` Jacobian).
        """
        li = self.link_index[link]
        local = [0.0, 0.0, 0.0]
        if point is not None:
            local = (self.com_rotation_from_link(link) @ np.asarray(point, float)).tolist()
        qs = self.all_movable_q()
        zeros = [0.0] * len(qs)
        Jv, Jw = p.calculateJacobian(self.body, li, local, qs, zeros, zeros,
                                     physicsClientId=self.client)
        J = np.vstack([np.array(Jv), np.array(Jw)])
        cols = [self.movable.index(int(i)) for i in self.joint_index]
        return J[:, cols]


def render_png(robot: Robot, q: Any, width: int = 640, height: int = 480
               ) -> tuple[bytes | None, str]:
    """PNG picture of the arm at ``q`` from PyBullet's TinyRenderer in DIRECT mode, framed
    on the arm (the renderer :func:`kinematics.report.make_report` takes).

    Args:
        robot: The model; ``robot.source`` is the URDF PyBullet loads.
        q: ``(dof,)`` joint values [rad or m].
        width, height: Image size [px].

    Returns:
        ``(PNG bytes, note)``, or ``(None, reason)`` when PyBullet cannot load
        ``robot.source``.
    """
    if not Path(robot.source).is_file():
        return None, f"robot source {robot.source!r} is not a file PyBullet can load"
    if _is_mjcf(robot):
        return None, f"robot source {robot.source!r} is MJCF, which PyBullet does not load"
    qa = robot.check_q(q)
    P = fk_all(robot, qa)[:, :3, 3]
    target = 0.5 * (P.min(0) + P.max(0))
    distance = 1.1 * max(float(np.ptp(P, 0).max()), 0.3) + 0.6
    try:
        with Sim.open(robot) as sim:
            sim.reset_q(qa)
            rgb = sim.snapshot(target, distance, width, height, yaw=40.0, pitch=-25.0)
    except (p.error, KeyError) as exc:
        return None, f"PyBullet could not load {robot.source}: {exc}"
    from matplotlib.image import imsave

    buf = io.BytesIO()
    imsave(buf, rgb, format="png")
    copy, stripped = contained_urdf(robot.source)
    os.unlink(copy)
    note = "PyBullet TinyRenderer (DIRECT)"
    if stripped:
        note += (f"; {len(stripped)} mesh(es) outside the description's package not rendered: "
                 + ", ".join(stripped[:3]))
    return buf.getvalue(), note


def _is_mjcf(robot: Robot) -> bool:
    """The robot was read from MJCF (:mod:`kinematics.mjcf`), not from a URDF."""
    from kinematics._mjcf import MJCFModel

    return isinstance(robot.model, MJCFModel)


def _quat_xyzw(R: np.ndarray) -> list[float]:
    """``xyzw`` quaternion of a rotation matrix (PyBullet order)."""
    w = np.sqrt(max(0.0, 1.0 + R[0, 0] + R[1, 1] + R[2, 2])) / 2
    x = np.sqrt(max(0.0, 1.0 + R[0, 0] - R[1, 1] - R[2, 2])) / 2
    y = np.sqrt(max(0.0, 1.0 - R[0, 0] + R[1, 1] - R[2, 2])) / 2
    z = np.sqrt(max(0.0, 1.0 - R[0, 0] - R[1, 1] + R[2, 2])) / 2
    x = np.copysign(x, R[2, 1] - R[1, 2])
    y = np.copysign(y, R[0, 2] - R[2, 0])
    z = np.copysign(z, R[1, 0] - R[0, 1])
    return [float(x), float(y), float(z), float(w)]

"""The one boundary between :mod:`kinematics` and PyBullet.

PyBullet differs from the library in three ways, all converted here and nowhere else:

- Quaternions are ``xyzw``.
- ``getLinkState(...)[0:2]`` is the link's **centre-of-mass** frame; ``[4:6]`` is the URDF
  link frame. ``calculateJacobian``'s ``localPosition`` is a point in the **COM** frame, so
  the Jacobian at the URDF link origin needs ``localPosition = T_com_link.translation``.
- Joints are indexed, fixed joints included; ``calculateJacobian`` wants values for every
  movable joint (fingers too) and returns columns for each.

Link index ``i`` in PyBullet is the child link of joint ``i``; the base link is ``-1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pybullet as p
import pybullet_data

from kinematics import Robot, spatial

__all__ = ["Sim", "pose_from_pybullet", "data_path"]


def data_path(rel: str) -> str:
    """Path of a file shipped in ``pybullet_data``."""
    import os

    return os.path.join(pybullet_data.getDataPath(), rel)


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
    """

    robot: Robot
    client: int
    body: int
    joint_index: np.ndarray
    movable: list[int]
    link_index: dict[str, int]

    @classmethod
    def open(cls, robot: Robot, gui: bool = False, dt: float = 1.0 / 240.0) -> Sim:
        """Connect (DIRECT unless ``gui``), load ``robot.source`` with a fixed base.

        The base is placed at ``robot.base_pose``; joints are mapped by name.
        """
        client = p.connect(p.GUI if gui else p.DIRECT)
        p.setAdditionalSearchPath(pybullet_data.getDataPath(), physicsClientId=client)
        p.setTimeStep(dt, physicsClientId=client)
        Tb = np.asarray(robot.base_pose)
        quat = _quat_xyzw(Tb[:3, :3])
        body = p.loadURDF(robot.source, Tb[:3, 3].tolist(), quat, useFixedBase=True,
                          flags=p.URDF_USE_INERTIA_FROM_FILE, physicsClientId=client)
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

    # -- frames ------------------------------------------------------------------------
    def link_state(self, link: str) -> tuple[np.ndarray, np.ndarray]:
        """URDF-frame pose ``(4, 4)`` and twist ``(6,)`` ``[v; ω]`` of a link (world frame).

        The linear velocity PyBullet reports is that of the COM; it is moved to the link
        origin here (``v_o = v_com + ω × (o − c)``).
        """
        li = self.link_index[link]
        s = p.getLinkState(self.body, li, computeLinkVelocity=1, computeForwardKinematics=1,
                           physicsClientId=self.client)
        T_link = pose_from_pybullet(s[4], s[5])
        com = np.array(s[0])
        v_com, w = np.array(s[6]), np.array(s[7])
        v_o = v_com + np.cross(w, T_link[:3, 3] - com)
        return T_link, np.concatenate([v_o, w])

    def com_from_link(self, link: str) -> np.ndarray:
        """``(3,)`` the URDF link origin expressed in the link's COM frame (constant)."""
        li = self.link_index[link]
        s = p.getLinkState(self.body, li, computeForwardKinematics=1, physicsClientId=self.client)
        T_com, T_link = pose_from_pybullet(s[0], s[1]), pose_from_pybullet(s[4], s[5])
        return (spatial.inverse(T_com) @ T_link)[:3, 3]

    def jacobian(self, link: str) -> np.ndarray:
        """``(6, dof)`` PyBullet's Jacobian at the URDF link origin, columns of ``robot``'s
        joints, at the current state."""
        li = self.link_index[link]
        qs = self.all_movable_q()
        zeros = [0.0] * len(qs)
        Jv, Jw = p.calculateJacobian(self.body, li, self.com_from_link(link).tolist(), qs,
                                     zeros, zeros, physicsClientId=self.client)
        J = np.vstack([np.array(Jv), np.array(Jw)])
        cols = [self.movable.index(int(i)) for i in self.joint_index]
        return J[:, cols]


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

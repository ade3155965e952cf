"""Geometric Jacobians, their time derivative, ``J q̇`` and ``Jᵀ w``; exact and batched.

Twists are ``[v; ω]`` (linear first), wrenches ``[f; m]``. The ``reference`` argument says
which twist a Jacobian column is (DESIGN.md):

- ``"base"``: velocity of the link origin and angular velocity, in base axes
  (Pinocchio ``LOCAL_WORLD_ALIGNED``, Robotics Toolbox ``jacob0``, PyBullet
  ``calculateJacobian`` at the link-frame origin).
- ``"local"``: the same twist in the link's own axes (Pinocchio ``LOCAL``, ``jacobe``).
- ``"spatial"``: the space Jacobian, velocity of the point at the base origin moving with
  the link (Pinocchio ``WORLD``).

Column ``i`` for a revolute joint with axis ``z_i`` through ``o_i`` is
``[z_i × (p − o_i); z_i]``; for a prismatic joint ``[z_i; 0]`` (``p`` the link origin, all in
base axes). Mimic joints add their column, times the multiplier, to their leader's.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import accel
from .exceptions import InvalidValueError, ShapeError
from .forward import (
    _SCAN_MAX,
    Frames,
    chain_frames,
    chain_theta,
    columnwise_jacobian,
    prefix_scan_single,
)
from .robot import Chain, Robot

__all__ = ["jacobian", "fk_jacobian", "jacobian_dot", "jacobian_dot_from", "twist",
           "joint_torques", "cross"]

Array = NDArray[np.float64]
Reference = Literal["base", "local", "spatial"]
REFERENCES = ("base", "local", "spatial")

_LEVI = np.zeros((9, 3))  # outer(a, b).ravel() @ _LEVI == cross(a, b)
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _LEVI[3 * _i + _j, _k], _LEVI[3 * _j + _i, _k] = 1.0, -1.0


# (36, 6): outer(η, ξ).ravel() @ _BRACKET is the twist bracket
# [η, ξ] = [ω_η × v_ξ + v_η × ω_ξ; ω_η × ω_ξ] for twists [v; ω]
_BRACKET: Array = np.zeros((36, 6))
_b = _BRACKET.reshape(6, 6, 6)
_b[3:, :3, :3] = _b[:3, 3:, :3] = _b[3:, 3:, 3:] = _LEVI.reshape(3, 3, 3)


def cross(a: Array, b: Array) -> Array:
    """Cross product over the last axis, broadcasting (several times faster than np.cross
    on small arrays)."""
    outer = a[..., :, None] * b[..., None, :]
    return outer.reshape(outer.shape[:-2] + (9,)) @ _LEVI


def _check_reference(reference: str) -> None:
    if reference not in REFERENCES:
        raise InvalidValueError(f"reference={reference!r}; expected one of {list(REFERENCES)}")


def _vector(robot: Robot, x: ArrayLike, name: str, size: int, what: str) -> Array:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}: expected numeric {what}, got {x!r}") from None
    if a.ndim == 0 or a.shape[-1] != size:
        raise ShapeError(name, f"(..., {size}) {what}", a.shape)
    if not np.isfinite(a).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise InvalidValueError(f"{name}{list(idx)} is {a[idx]}; expected finite values")
    return a


def _with_velocity(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None,
                   reference: str) -> tuple[Chain, Array, Array]:
    """Validate ``(q, qd, link, reference)``; ``q`` and ``qd`` broadcast together."""
    chain = robot.chain(link)
    _check_reference(reference)
    qa = robot.check_q(q)
    qda = _vector(robot, qd, "qd", robot.dof, f"joint velocities for {robot.name}")
    qa, qda = np.broadcast_arrays(qa, qda)
    return chain, qa, qda


def _to_dof(robot: Robot, chain: Chain, Jc: Array) -> Array:
    """Map ``(..., k, n)`` chain columns to ``(..., k, dof)`` joint columns."""
    if chain.simple and chain.n == robot.dof:
        return Jc
    M = np.zeros((chain.n, robot.dof))
    M[np.arange(chain.n), chain.q_index] = chain.multiplier
    return Jc @ M


def _theta_dot(chain: Chain, qd: Array) -> Array:
    if chain.simple:
        return qd[..., : chain.n]
    return qd[..., chain.q_index] * chain.multiplier


def _columns(chain: Chain, F: Frames) -> Array:
    """``(..., n, 6)`` base-reference Jacobian columns (transposed) from chain frames."""
    z = F.z
    d = F.T[..., None, :3, 3] - F.o
    Jt = np.empty(z.shape[:-1] + (6,))
    Jt[..., :3] = cross(z, d)
    Jt[..., 3:] = z
    if chain.prismatic_any:
        pri = ~chain.revolute
        Jt[..., pri, :3] = z[..., pri, :]
        Jt[..., pri, 3:] = 0.0
    return Jt


def _pose_and_jacobian(chain: Chain, theta: Array) -> tuple[Array, Array]:
    """Link pose ``(..., 4, 4)`` and base-reference Jacobian ``(..., 6, n)`` of the chain."""
    batch = theta.shape[:-1]
    n = chain.n
    if n and accel.enabled():
        return accel.pose_jacobian(chain, theta)  # type: ignore[return-value]
    if n and theta.ndim == 1:  # one configuration: fewest numpy calls
        P = prefix_scan_single(chain, theta)
        z = P[:n, :3, 2]
        d = P[n, :3, 3] - P[:n, :3, 3]
        J = np.empty((6, n))
        J[:3] = ((z[:, :, None] * d[:, None, :]).reshape(n, 9) @ _LEVI).T
        J[3:] = z.T
        if chain.prismatic_any:
            pri = ~chain.revolute
            J[:3, pri] = J[3:, pri]
            J[3:, pri] = 0.0
        return P[n], J
    if n and math.prod(batch) > _SCAN_MAX:
        T, Jc = columnwise_jacobian(chain, theta.reshape(-1, n))
        return T.reshape(batch + (4, 4)), Jc.reshape(batch + (6, n))
    F = chain_frames(chain, theta)
    return F.T, np.ascontiguousarray(np.swapaxes(_columns(chain, F), -1, -2))


def _rereference(J: Array, T: Array, reference: str) -> Array:
    """Change the reference of a base-reference ``(..., 6, n)`` Jacobian."""
    if reference == "local":
        Rt = np.swapaxes(T[..., None, :3, :3], -1, -2)
        shape = J.shape
        return (Rt @ J.reshape(shape[:-2] + (2, 3, shape[-1]))).reshape(shape)
    if reference == "spatial":
        p = T[..., None, :3, 3]
        out = J.copy()
        out[..., :3, :] -= np.swapaxes(cross(np.swapaxes(J[..., 3:, :], -1, -2), p), -1, -2)
        return out
    return J


def jacobian(robot: Robot, q: ArrayLike, link: str | None = None,
             reference: Reference = "base") -> Array:
    """Geometric Jacobian of a link.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        link: A name from ``robot.links``; ``None`` (default) is the tool frame.
        reference: ``"base"`` (default), ``"local"`` or ``"spatial"`` (module docstring).

    Returns:
        ``(..., 6, dof)``: rows ``[vx vy vz ωx ωy ωz]`` per unit joint velocity
        ([m/rad], [1]; prismatic columns [1], [1/m]). Columns of joints that do not move the
        link are zero.

    Raises:
        ShapeError: ``q``'s last axis is not ``dof``.
        InvalidValueError: ``q`` not finite, or an unknown ``reference``.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")          # l1 = 1.0 m, l2 = 0.8 m
    >>> J = kin.jacobian(arm, [0.0, np.pi / 2])
    >>> np.round(J[:2], 12) + 0.0                 # [-l1 s1 - l2 s12, -l2 s12; ...]
    array([[-0.8, -0.8],
           [ 1. ,  0. ]])
    >>> round(float(np.linalg.det(J[:2])), 12)    # l1 l2 sin q2
    0.8
    """
    chain = robot.chain(link)
    _check_reference(reference)
    qa = robot.check_q(q)
    T, J = _pose_and_jacobian(chain, chain_theta(chain, qa))
    return _to_dof(robot, chain, _rereference(J, T, reference))


def fk_jacobian(robot: Robot, q: ArrayLike, link: str | None = None,
                reference: Reference = "base") -> tuple[Array, Array]:
    """Pose and Jacobian of a link in one pass (what a controller needs each cycle).

    Args:
        robot, q, link, reference: As :func:`jacobian`.

    Returns:
        ``(T, J)``: ``(..., 4, 4)`` as :func:`~kinematics.fk` and ``(..., 6, dof)`` as
        :func:`jacobian`, from the same evaluation.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    chain = robot.chain(link)
    _check_reference(reference)
    qa = robot.check_q(q)
    T, J = _pose_and_jacobian(chain, chain_theta(chain, qa))
    return T, _to_dof(robot, chain, _rereference(J, T, reference))


def jacobian_dot(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None = None,
                 reference: Reference = "base") -> Array:
    """Time derivative ``dJ/dt`` of :func:`jacobian` along the joint velocity ``qd``.

    Exact (analytic): ``ż_i = ω_{i−1} × z_i``, ``ȯ_i`` from the joints before ``i``.
    Acceleration-level control uses ``a = J q̈ + J̇ q̇``; for ``reference="base"`` ``a`` is
    ``[p̈; ω̇]`` of the link origin.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        qd: ``(..., dof)`` joint velocities [rad/s or m/s]; broadcast with ``q``.
        link: As :func:`jacobian`.
        reference: As :func:`jacobian`.

    Returns:
        ``(..., 6, dof)`` [per second].

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    chain, qa, qda = _with_velocity(robot, q, qd, link, reference)
    n = chain.n
    F = chain_frames(chain, chain_theta(chain, qa))
    thd = _theta_dot(chain, qda)[..., None]  # (..., n, 1)
    rev = chain.revolute[:, None]
    z, o, p = F.z, F.o, F.T[..., None, :3, 3]
    Jt = _columns(chain, F)  # (..., n, 6)
    # Exclusive prefix sums over joints: angular velocity and origin velocity at joint i.
    w_j = np.where(rev, thd * z, 0.0)
    w_cum = np.cumsum(w_j, axis=-2)
    w_before = w_cum - w_j
    m_j = np.where(rev, thd * cross(z, o), 0.0)
    s_j = np.where(rev, 0.0, thd * z)
    o_dot = cross(w_before, o) - (np.cumsum(m_j, axis=-2) - m_j) + (np.cumsum(s_j, axis=-2) - s_j)
    z_dot = cross(w_before, z)
    p_dot = np.sum(Jt[..., :3] * thd, axis=-2, keepdims=True)  # (..., 1, 3)
    Jdt = np.empty_like(Jt)
    Jdt[..., :3] = np.where(rev, cross(z_dot, p - o) + cross(z, p_dot - o_dot), z_dot)
    Jdt[..., 3:] = np.where(rev, z_dot, 0.0)
    omega = w_cum[..., -1:, :]  # (..., 1, 3) angular velocity of the link
    if reference == "local":
        # J_l = Rᵀ J  ⇒  J̇_l = Rᵀ (J̇ − [ω]× J)
        R = F.T[..., :3, :3]
        A = Jdt.copy()
        A[..., :3] -= cross(omega, Jt[..., :3])
        A[..., 3:] -= cross(omega, Jt[..., 3:])
        shape = A.shape
        Jdt = (A.reshape(shape[:-2] + (2 * n, 3)) @ R).reshape(shape)
    elif reference == "spatial":
        # J_s: v_s = v − ω_col × p  ⇒  v̇_s = v̇ − ω̇_col × p − ω_col × ṗ
        Jdt[..., :3] -= cross(Jdt[..., 3:], p) + cross(Jt[..., 3:], p_dot)
    return _to_dof(robot, chain, np.swapaxes(Jdt, -1, -2))


def jacobian_dot_from(J: Array, qd: Array) -> Array:
    """``J̇`` of a base-reference geometric Jacobian of a simple chain, from ``J`` itself.

    The columns ``ξ_i = [v_i; ω_i]``, read as twists about the (momentarily fixed) tool
    point ``p``, obey ``∂ξ_i/∂q_j = [ξ_j, ξ_i]`` for ``j < i`` (product of exponentials), so
    ``dξ_i/dt = [η_i, ξ_i]`` with ``η_i = Σ_{j<i} q̇_j ξ_j``; the motion ``ṗ = J_v q̇`` of the
    reference point adds ``ω_i × ṗ`` to the linear rows. Equals :func:`jacobian_dot` (tested
    on every robot) at a fraction of its cost when ``J`` is at hand (the singularity
    monitor). Not for chains with mimic joints, whose columns are sums of joint twists.

    Args:
        J: ``(..., 6, n)`` base-reference Jacobian.
        qd: ``(..., n)`` joint velocities.

    Returns:
        ``(..., 6, n)``.
    """
    X = np.swapaxes(J, -1, -2)  # (..., n, 6)
    qx = qd[..., :, None] * X
    E = np.cumsum(qx, axis=-2)
    E -= qx  # exclusive prefix sums η_i
    outer = E[..., :, :, None] * X[..., :, None, :]
    D = outer.reshape(outer.shape[:-2] + (36,)) @ _BRACKET  # (..., n, 6)
    pdot = (J[..., :3, :] @ qd[..., :, None])[..., 0]
    D[..., :3] += cross(X[..., 3:], pdot[..., None, :])
    return np.swapaxes(D, -1, -2)


def twist(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None = None,
          reference: Reference = "base") -> Array:
    """``J(q) q̇`` by a forward pass, without forming ``J``.

    ``ω = Σ θ̇_i z_i`` (revolute), ``v = ω × p − Σ θ̇_i z_i × o_i + Σ θ̇_j z_j`` (prismatic).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        qd: ``(..., dof)`` joint velocities [rad/s or m/s]; broadcast with ``q``.
        link, reference: As :func:`jacobian`.

    Returns:
        ``(..., 6)`` twist ``[v [m/s]; ω [rad/s]]``.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    chain, qa, qda = _with_velocity(robot, q, qd, link, reference)
    F = chain_frames(chain, chain_theta(chain, qa))
    thd = _theta_dot(chain, qda)[..., None]
    rev = chain.revolute[:, None]
    z, o, p = F.z, F.o, F.T[..., :3, 3]
    tz = thd * z
    if chain.prismatic_any:
        w = np.sum(np.where(rev, tz, 0.0), axis=-2)
        v = cross(w, p) - np.sum(np.where(rev, cross(tz, o), 0.0), axis=-2) \
            + np.sum(np.where(rev, 0.0, tz), axis=-2)
    else:
        w = np.sum(tz, axis=-2)
        v = cross(w, p) - np.sum(cross(tz, o), axis=-2)
    if reference == "local":
        R = F.T[..., :3, :3]
        v = (v[..., None, :] @ R)[..., 0, :]
        w = (w[..., None, :] @ R)[..., 0, :]
    elif reference == "spatial":
        v = v - cross(w, p)
    return np.concatenate([v, w], axis=-1)


def joint_torques(robot: Robot, q: ArrayLike, wrench: ArrayLike, link: str | None = None,
                  reference: Reference = "base") -> Array:
    """Joint torques ``Jᵀ w`` balancing a wrench at a link (statics), without forming ``J``.

    ``τ_i = z_i · ((p − o_i) × f + m)`` (revolute), ``z_i · f`` (prismatic).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        wrench: ``(..., 6)`` ``[f [N]; m [N·m]]``: for ``"base"`` force at the link origin
            and moment about it, in base axes; ``"local"`` the same in link axes;
            ``"spatial"`` moment about the base origin. Broadcast with ``q``.
        link, reference: As :func:`jacobian`.

    Returns:
        ``(..., dof)`` [N·m or N].

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    chain = robot.chain(link)
    _check_reference(reference)
    qa = robot.check_q(q)
    wa = _vector(robot, wrench, "wrench", 6, "wrench [fx fy fz mx my mz]")
    F = chain_frames(chain, chain_theta(chain, qa))
    f, m = wa[..., :3], wa[..., 3:]
    p = F.T[..., :3, 3]
    if reference == "local":
        R = F.T[..., :3, :3]
        f, m = (R @ f[..., None])[..., 0], (R @ m[..., None])[..., 0]
    elif reference == "spatial":
        m = m - cross(p, f)
    f, m, p = f[..., None, :], m[..., None, :], p[..., None, :]
    z, o = F.z, F.o
    tau = np.sum(z * (cross(p - o, f) + m), axis=-1)
    if chain.prismatic_any:
        tau = np.where(chain.revolute, tau, np.sum(z * f, axis=-1))
    return _to_dof(robot, chain, tau[..., None, :])[..., 0, :]

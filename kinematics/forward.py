"""Forward kinematics: link poses from joint values, batched over leading dimensions.

Algorithm: each step's local transform is linear in ``[1, sin θ, cos θ, θ]`` (see
:class:`~kinematics.robot.Chain`), so all of them come from one small matrix product. The
chain product is then a prefix product of ``n + 1`` transforms: a log-depth scan for a single
configuration (fewest numpy calls), a sequential loop of batched products for many.
Exact to floating-point rounding (~1e-15 relative); no approximation anywhere.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .robot import Chain, Robot

__all__ = ["fk", "fk_all", "chain_frames", "chain_theta", "Frames"]

Array = NDArray[np.float64]
_SIN_COS = np.array([0.0, np.pi / 2])  # sin(θ + [0, π/2]) = [sin θ, cos θ]
_SCAN_MAX = 48  # batch sizes up to this use the log-depth scan, larger ones go column-wise


def chain_theta(chain: Chain, q: Array) -> Array:
    """Values ``(..., n)`` of the chain's moving joints (mimic joints expanded)."""
    if chain.simple:
        return q[..., : chain.n]
    return q[..., chain.q_index] * chain.multiplier + chain.offset


class Frames(NamedTuple):
    """Joint axes and origins of a chain, and the link pose (all in the base frame).

    Attributes:
        z: ``(..., n, 3)`` unit axis of each moving joint on the path.
        o: ``(..., n, 3)`` a point on each axis (the joint frame origin) [m].
        T: ``(..., 4, 4)`` pose of the link.
        columnwise: ``z`` and ``o`` are views of ``(n, 3, N)`` arrays (large batches),
            which :func:`~kinematics.jacobian.jacobian` uses directly.
    """

    z: Array
    o: Array
    T: Array
    columnwise: bool = False


def chain_frames(chain: Chain, theta: Array) -> Frames:
    """Evaluate a chain: joint axes, joint origins and the link pose.

    Args:
        chain: Precomputed chain.
        theta: ``(..., n)`` values of the chain's moving joints [rad or m].

    Returns:
        :class:`Frames` with leading dimensions ``theta.shape[:-1]``.
    """
    batch = theta.shape[:-1]
    size = math.prod(batch)
    if chain.n == 0:
        T = np.broadcast_to(chain.T0, batch + (4, 4)).copy()
        return Frames(np.zeros(batch + (0, 3)), np.zeros(batch + (0, 3)), T)
    if size <= _SCAN_MAX:
        P = _prefix_scan(chain, theta)
        n = chain.n
        return Frames(P[..., :n, :3, 2], P[..., :n, :3, 3], P[..., n, :, :])
    Z, O, T = _columnwise(chain, theta.reshape(size, chain.n))
    shape = batch + (chain.n, 3)
    return Frames(Z.transpose(2, 0, 1).reshape(shape), O.transpose(2, 0, 1).reshape(shape),
                  T.reshape(batch + (4, 4)), True)


def _prefix_scan(chain: Chain, theta: Array) -> Array:
    """Few-configuration path: ``(..., n + 1, 4, 4)`` prefix products by a log-depth scan.

    The local transforms come from one product ``[sin θ, cos θ] @ basis`` plus constants,
    then ``ceil(log2(n + 1))`` batched products give all prefixes (Hillis–Steele scan):
    about a dozen numpy calls whatever the number of joints.
    """
    n = chain.n
    batch = theta.shape[:-1]
    P = np.empty(batch + (n + 1, 4, 4))
    P[..., 0, :, :] = chain.T0
    L = P[..., 1:, :, :].reshape(batch + (n, 1, 16))
    sc = np.sin(theta[..., None] + _SIN_COS)
    np.matmul(sc[..., None, :], chain.basis_sc, out=L)
    L += chain.basis_1
    if chain.prismatic_any:
        L += theta[..., None, None] * chain.basis_theta
    d = 1
    while d <= n:
        P[..., d:, :, :] = P[..., :-d, :, :] @ P[..., d:, :, :]
        d *= 2
    return P


def _columnwise(chain: Chain, theta: Array) -> tuple[Array, Array, Array]:
    """Many-configuration path, ``theta`` ``(N, n)``: frames stored column-wise.

    Returns ``Z``, ``O`` ``(n, 3, N)`` (joint axes and origins) and ``T`` ``(N, 4, 4)``.

    A frame is kept as ``X`` ``(4, 3, N)``: its x, y, z axes and origin, each ``(3, N)``,
    contiguous over the batch. A joint's motion mixes two columns (``Rz``) or shifts the
    origin (``Tz``); the constant step after it is one GEMM ``(4, 4) @ (4, 3N)``.
    """
    N, n = theta.shape
    theta = np.ascontiguousarray(theta.T)  # (n, N)
    s, c = np.sin(theta), np.cos(theta)
    X = np.empty((4, 3, N))
    X[...] = chain.T0[:3, :].T[:, :, None]
    Z = np.empty((n, 3, N))
    O = np.empty((n, 3, N))
    for k in range(n):
        Z[k] = X[2]
        O[k] = X[3]
        if chain.revolute[k]:
            x0, x1 = X[0] * c[k], X[1] * c[k]
            x0 += X[1] * s[k]
            x1 -= X[0] * s[k]
            X[0], X[1] = x0, x1
        else:
            X[3] += X[2] * theta[k]
        X = (chain.steps_T[k] @ X.reshape(4, 3 * N)).reshape(4, 3, N)
    T = np.zeros((N, 4, 4))
    T[:, :3, :] = X.transpose(2, 1, 0)
    T[:, 3, 3] = 1.0
    return Z, O, T


def fk(robot: Robot, q: ArrayLike, link: str | None = None) -> Array:
    """Pose of a link in the base frame.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        link: A name from ``robot.links``; ``None`` (default) is the tool frame at the tip
            (``tip_link`` pose times ``robot.tool``).

    Returns:
        ``(..., 4, 4)`` homogeneous transform ``T_base_link`` (translation in m).

    Raises:
        ShapeError: ``q``'s last axis is not ``dof``.
        InvalidValueError: ``q`` is non-numeric or not finite.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")          # l1 = 1.0 m, l2 = 0.8 m
    >>> np.round(kin.fk(arm, [0.0, np.pi / 2])[:3, 3], 12) + 0.0
    array([1. , 0.8, 0. ])
    """
    chain = robot.chain(link)
    qa = robot.check_q(q)
    return chain_frames(chain, chain_theta(chain, qa)).T


def fk_all(robot: Robot, q: ArrayLike) -> Array:
    """Poses of every link on the path base → tip, in one pass.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values.

    Returns:
        ``(..., len(robot.link_names), 4, 4)``, in the order of ``robot.link_names``
        (``[0]`` is the base link, ``[-1]`` the tip link, without the tool).

    Raises:
        ShapeError, InvalidValueError: As :func:`fk`.
    """
    qa = robot.check_q(q)
    return np.stack([fk(robot, qa, link) for link in robot.link_names], axis=-3)

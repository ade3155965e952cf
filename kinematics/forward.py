"""Forward kinematics: link poses from joint values, batched over leading dimensions.

Algorithm: each step's local transform is linear in ``[1, sin θ, cos θ, θ]`` (see
:class:`~kinematics.robot.Chain`), so all of them come from one small matrix product. The
chain product is then a prefix product of ``n + 1`` transforms: a log-depth scan for a single
configuration (fewest numpy calls), a sequential loop of batched products for many.
Exact to floating-point rounding (~1e-15 relative); no approximation anywhere.
"""

from __future__ import annotations

import math
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import accel
from .robot import Chain, Robot

__all__ = ["fk", "fk_all", "chain_frames", "chain_theta", "Frames"]

Array = NDArray[np.float64]
_SIN_COS = np.array([0.0, np.pi / 2])  # sin(θ + [0, π/2]) = [sin θ, cos θ]
_SCAN_MAX = 48  # batch sizes up to this use the log-depth scan, larger ones go column-wise
_CHUNK = 1024  # configurations per chunk in the column-wise path (workspace ~1 MB)


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
    """

    z: Array
    o: Array
    T: Array


def chain_frames(chain: Chain, theta: Array) -> Frames:
    """Evaluate a chain: joint axes, joint origins and the link pose.

    Args:
        chain: Precomputed chain.
        theta: ``(..., n)`` values of the chain's moving joints [rad or m].

    Returns:
        :class:`Frames` with leading dimensions ``theta.shape[:-1]``.
    """
    batch = theta.shape[:-1]
    n = chain.n
    if n == 0:
        T = np.broadcast_to(chain.T0, batch + (4, 4)).copy()
        return Frames(np.zeros(batch + (0, 3)), np.zeros(batch + (0, 3)), T)
    if theta.ndim == 1:
        P = prefix_scan_single(chain, theta)
        return Frames(P[:n, :3, 2], P[:n, :3, 3], P[n])
    if math.prod(batch) <= _SCAN_MAX:
        P = _prefix_scan(chain, theta)
        return Frames(P[..., :n, :3, 2], P[..., :n, :3, 3], P[..., n, :, :])
    T, z, o = columnwise_frames(chain, theta.reshape(-1, n))
    return Frames(z.reshape(batch + (n, 3)), o.reshape(batch + (n, 3)), T.reshape(batch + (4, 4)))


def prefix_scan_single(chain: Chain, theta: Array) -> Array:
    """:func:`_prefix_scan` for one configuration ``theta`` ``(n,)`` (the control-loop
    case), with plain slices instead of ``...`` indexing: ``(n + 1, 4, 4)``."""
    n = chain.n
    P = np.empty((n + 1, 4, 4))
    P[0] = chain.T0
    sc = np.sin(theta[:, None] + _SIN_COS)[:, None, :]
    if chain.prismatic_any:
        L = P[1:].reshape(n, 1, 16)
        np.matmul(sc, chain.basis_sc, out=L)
        L += chain.basis_1
        L += theta[:, None, None] * chain.basis_theta
    else:  # Rz(θ) X changes rows 0-1 only: rows 2-3 are constant, one product for 0-1
        P[1:, 2:] = chain.rows23
        np.matmul(sc, chain.basis_sc01, out=P[1:, :2].reshape(n, 1, 8))
    P[1:] = P[:-1] @ P[1:]
    P[2:] = P[:-2] @ P[2:]
    d = 4
    while d <= n:
        P[d:] = P[:-d] @ P[d:]
        d *= 2
    return P


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


def columnwise_frames(chain: Chain, theta: Array) -> tuple[Array, Array, Array]:
    """:func:`_columnwise` for frames: ``T`` ``(N, 4, 4)``, ``z``, ``o`` ``(N, n, 3)``."""
    T, _, z, o = _columnwise(chain, theta, jacobian=False)
    return T, cast(Array, z), cast(Array, o)


def columnwise_jacobian(chain: Chain, theta: Array) -> tuple[Array, Array]:
    """:func:`_columnwise` for the pose ``(N, 4, 4)`` and base Jacobian ``(N, 6, n)``."""
    T, J, _, _ = _columnwise(chain, theta, jacobian=True)
    return T, cast(Array, J)


def _columnwise(chain: Chain, theta: Array, jacobian: bool) -> tuple[Array, Array | None,
                                                                       Array | None, Array | None]:
    """Many-configuration path, ``theta`` ``(N, n)``, in cache-sized chunks.

    A frame is kept column-wise as ``X`` ``(4, 3, m)``: its x, y, z axes and origin, each
    ``(3, m)`` and contiguous over a chunk of ``m`` configurations. A joint's motion mixes
    two columns (``Rz``) or shifts the origin (``Tz``); the constant step after it is one
    GEMM ``(4, 4) @ (4, 3m)``. Chunks of ``_CHUNK`` configurations reuse one workspace, so
    temporaries stay in cache and large batches cost no page faults.

    Returns:
        ``T`` ``(N, 4, 4)``; with ``jacobian`` the base-reference Jacobian ``(N, 6, n)`` of
        the chain joints and ``None, None``; otherwise ``None`` and the joint axes and
        origins ``z``, ``o`` ``(N, n, 3)``.
    """
    N, n = theta.shape
    th = np.ascontiguousarray(theta.T)  # (n, N)
    S, C = np.sin(th), np.cos(th)
    T = np.empty((N, 4, 4))
    T[:, 3] = (0.0, 0.0, 0.0, 1.0)
    J = np.empty((N, 6, n)) if jacobian else None
    z = None if jacobian else np.empty((N, n, 3))
    o = None if jacobian else np.empty((N, n, 3))
    m_max = min(N, _CHUNK)
    buf = np.empty((2, 12 * m_max))
    tmp = np.empty((2, 3 * m_max))
    zc_buf, oc_buf = np.empty(n * 3 * m_max), np.empty(n * 3 * m_max)
    jc_buf, d_buf = np.empty(6 * n * m_max), np.empty(n * 3 * m_max)
    init = chain.T0[:3, :].T[:, :, None]
    for a in range(0, N, m_max):
        b = min(a + m_max, N)
        m = b - a
        X, Y = buf[0, : 12 * m].reshape(4, 3, m), buf[1, : 12 * m].reshape(4, 3, m)
        t0, t1 = tmp[0, : 3 * m].reshape(3, m), tmp[1, : 3 * m].reshape(3, m)
        Zc, Oc = zc_buf[: n * 3 * m].reshape(n, 3, m), oc_buf[: n * 3 * m].reshape(n, 3, m)
        X[...] = init
        for k in range(n):
            Zc[k] = X[2]
            Oc[k] = X[3]
            s, c = S[k, a:b], C[k, a:b]
            if chain.revolute[k]:  # X Rz(θ): x' = c x + s y,  y' = c y − s x
                np.multiply(X[0], c, out=t0)
                np.multiply(X[1], s, out=t1)
                t0 += t1
                np.multiply(X[1], c, out=t1)
                np.multiply(X[0], s, out=X[0])
                np.subtract(t1, X[0], out=X[1])
                X[0] = t0
            else:  # X Tz(θ): origin += θ z
                np.multiply(X[2], th[k, a:b], out=t0)
                X[3] += t0
            np.matmul(chain.steps[k].T, X.reshape(4, 3 * m), out=Y.reshape(4, 3 * m))
            X, Y = Y, X
        T[a:b, :3, :] = X.transpose(2, 1, 0)
        if J is None:
            z[a:b] = Zc.transpose(2, 0, 1)  # type: ignore[index]
            o[a:b] = Oc.transpose(2, 0, 1)  # type: ignore[index]
            continue
        d = d_buf[: n * 3 * m].reshape(n, 3, m)
        np.subtract(X[3], Oc, out=d)  # tip − joint origin
        Jc = jc_buf[: 6 * n * m].reshape(6, n, m)
        for i, (u, v) in enumerate(((1, 2), (2, 0), (0, 1))):  # z × d
            np.multiply(Zc[:, u], d[:, v], out=Jc[i])
            np.multiply(Zc[:, v], d[:, u], out=Oc[:, i])  # Oc is free now: scratch
            Jc[i] -= Oc[:, i]
        Jc[3:] = Zc.transpose(1, 0, 2)
        if chain.prismatic_any:
            pri = ~chain.revolute
            Jc[:3, pri] = Jc[3:, pri]
            Jc[3:, pri] = 0.0
        J[a:b].transpose(1, 2, 0)[...] = Jc
    return T, J, z, o


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
    if chain.n and accel.enabled():
        return accel.pose_jacobian(chain, chain_theta(chain, qa), want_j=False)[0]
    return chain_frames(chain, chain_theta(chain, qa)).T


def fk_all(robot: Robot, q: ArrayLike) -> Array:
    """Poses of every link on the path base → tip, stacked (one :func:`fk` evaluation per
    link; for reports and drawing, not control loops).

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

"""Rigid-body transforms and rotations as pure functions over batched arrays.

Shapes follow numpy broadcasting with batch axes first: a rotation is ``(..., 3, 3)``, a
homogeneous transform ``(..., 4, 4)``, a twist ``(..., 6)`` ordered ``[v; ω]`` (linear
first). Names read right to left: ``T_a_b`` maps coordinates in frame ``b`` to frame ``a``.
Angles in radians, lengths in metres.

Every argument is validated (:mod:`kinematics._checks`): a non-numeric, masked or complex
array, a NaN or inf, an entry above ``_checks.MAX_MAGNITUDE`` (1e100) raises
:class:`~kinematics.InvalidValueError`; wrong trailing axes, or batch axes of two arguments
that do not broadcast, raise :class:`~kinematics.ShapeError`. Rotations are not checked to
be orthonormal (that is :func:`kinematics._checks.pose`'s job at the model's edges).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from .exceptions import InvalidValueError, ShapeError

__all__ = [
    "rpy_to_matrix",
    "matrix_to_rpy",
    "axis_angle_to_matrix",
    "transform",
    "inverse",
    "skew",
    "so3_log",
    "pose_error",
    "pose_error_one",
    "adjoint",
    "so3_exp",
    "interpolate",
]

Array = NDArray[np.float64]


def rpy_to_matrix(rpy: ArrayLike) -> Array:
    """Rotation matrix of URDF roll-pitch-yaw angles.

    URDF's convention: ``R = Rz(yaw) @ Ry(pitch) @ Rx(roll)`` (fixed-axis x, y, z).

    Args:
        rpy: ``(..., 3)`` roll, pitch, yaw [rad].

    Returns:
        ``(..., 3, 3)`` rotation matrix.

    >>> np.round(rpy_to_matrix([0.0, 0.0, np.pi / 2]), 12) + 0.0
    array([[ 0., -1.,  0.],
           [ 1.,  0.,  0.],
           [ 0.,  0.,  1.]])
    """
    rpy = _checks.shaped(rpy, "rpy", (3,), "roll, pitch, yaw [rad]")
    cr, cp, cy = np.cos(rpy[..., 0]), np.cos(rpy[..., 1]), np.cos(rpy[..., 2])
    sr, sp, sy = np.sin(rpy[..., 0]), np.sin(rpy[..., 1]), np.sin(rpy[..., 2])
    R = np.empty(rpy.shape[:-1] + (3, 3))
    R[..., 0, 0] = cy * cp
    R[..., 0, 1] = cy * sp * sr - sy * cr
    R[..., 0, 2] = cy * sp * cr + sy * sr
    R[..., 1, 0] = sy * cp
    R[..., 1, 1] = sy * sp * sr + cy * cr
    R[..., 1, 2] = sy * sp * cr - cy * sr
    R[..., 2, 0] = -sp
    R[..., 2, 1] = cp * sr
    R[..., 2, 2] = cp * cr
    return R


def matrix_to_rpy(R: ArrayLike) -> Array:
    """URDF roll-pitch-yaw of a rotation matrix (inverse of :func:`rpy_to_matrix`).

    Args:
        R: ``(..., 3, 3)`` rotation matrix.

    Returns:
        ``(..., 3)`` roll, pitch, yaw [rad], pitch in ``[-π/2, π/2]``.
    """
    R = _checks.shaped(R, "R", (3, 3), "rotation matrix")
    pitch = np.arctan2(-R[..., 2, 0], np.hypot(R[..., 0, 0], R[..., 1, 0]))
    roll = np.arctan2(R[..., 2, 1], R[..., 2, 2])
    yaw = np.arctan2(R[..., 1, 0], R[..., 0, 0])
    return np.stack([roll, pitch, yaw], axis=-1)


def skew(v: ArrayLike) -> Array:
    """Skew-symmetric matrix ``[v]×`` with ``skew(a) @ b == cross(a, b)``.

    Args:
        v: ``(..., 3)``.

    Returns:
        ``(..., 3, 3)``.
    """
    v = _checks.shaped(v, "v", (3,), "vector")
    S = np.zeros(v.shape[:-1] + (3, 3))
    S[..., 0, 1], S[..., 0, 2] = -v[..., 2], v[..., 1]
    S[..., 1, 0], S[..., 1, 2] = v[..., 2], -v[..., 0]
    S[..., 2, 0], S[..., 2, 1] = -v[..., 1], v[..., 0]
    return S


def axis_angle_to_matrix(axis: ArrayLike, angle: ArrayLike) -> Array:
    """Rodrigues' formula.

    Args:
        axis: ``(..., 3)`` unit axis.
        angle: ``(...)`` angle [rad].

    Returns:
        ``(..., 3, 3)`` rotation by ``angle`` about ``axis``.
    """
    ax = _checks.shaped(axis, "axis", (3,), "unit axis")
    a = _checks.shaped(angle, "angle", (), "angle [rad]")
    ax, a = _checks.broadcast("axis", ax, "angle", a, 1, 0)
    K = skew(ax)
    a = a[..., None, None]
    return np.eye(3) + np.sin(a) * K + (1.0 - np.cos(a)) * (K @ K)


def transform(R: ArrayLike | None = None, p: ArrayLike | None = None) -> Array:
    """Homogeneous transform from a rotation and a translation.

    Args:
        R: ``(..., 3, 3)`` rotation (identity when None).
        p: ``(..., 3)`` translation [m] (zero when None).

    Returns:
        ``(..., 4, 4)``.
    """
    R = np.eye(3) if R is None else _checks.shaped(R, "R", (3, 3), "rotation matrix")
    p = np.zeros(3) if p is None else _checks.shaped(p, "p", (3,), "translation [m]")
    R, p = _checks.broadcast("R", R, "p", p, 2, 1)
    batch = p.shape[:-1]
    T = np.zeros(batch + (4, 4))
    T[..., :3, :3] = R
    T[..., :3, 3] = p
    T[..., 3, 3] = 1.0
    return T


def inverse(T: ArrayLike) -> Array:
    """Inverse of a rigid transform, exactly (transpose, no general matrix inverse).

    Args:
        T: ``(..., 4, 4)``.

    Returns:
        ``(..., 4, 4)``.
    """
    T = _checks.shaped(T, "T", (4, 4), "transform")
    Rt = np.swapaxes(T[..., :3, :3], -1, -2)
    return transform(Rt, -(Rt @ T[..., :3, 3, None])[..., 0])


def so3_log(R: ArrayLike) -> Array:
    """Rotation vector ``ω θ`` of a rotation matrix (the SO(3) log map).

    Accurate to ~1e-15 rad near the identity (Taylor branch below 1e-6 rad) and to
    ~1e-8 rad at θ = π (eigenvector branch above π − 1e-6 rad).

    Args:
        R: ``(..., 3, 3)`` rotation matrix.

    Returns:
        ``(..., 3)`` rotation vector [rad], norm in ``[0, π]``.

    >>> np.round(so3_log(axis_angle_to_matrix([0.0, 0.0, 1.0], 0.5)), 12) + 0.0
    array([0. , 0. , 0.5])
    """
    R = _checks.shaped(R, "R", (3, 3), "rotation matrix")
    cos = np.clip((np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    theta = np.arccos(cos)
    vee = np.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]],
        axis=-1,
    )
    sin = np.sin(theta)
    small = theta < 1e-6
    # theta / (2 sin theta) -> 1/2 + theta^2/12 near zero.
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(small, 0.5 + theta**2 / 12.0, theta / (2.0 * sin))
    out = factor[..., None] * vee
    near_pi = theta > np.pi - 1e-6
    if np.any(near_pi):
        # axis from the diagonal of (R + I) / 2 = a aᵀ; sign fixed by the (tiny) vee part.
        Rp = R[near_pi]
        B = (Rp + np.eye(3)) / 2.0
        k = np.argmax(np.diagonal(B, axis1=-2, axis2=-1), axis=-1)
        col = np.take_along_axis(B, k[:, None, None], axis=-1)[..., 0]
        norm = np.linalg.norm(col, axis=-1, keepdims=True)
        if not (norm > 0.1).all():  # a rotation has |col| >= 1/√3 here; -I has 0
            bad = Rp[int(np.argmin(norm[:, 0]))]
            raise InvalidValueError(f"R is not a rotation matrix (orthonormal, det +1): "
                                    f"{np.round(bad, 6).tolist()}")
        axis = col / norm
        v = vee[near_pi]
        sign = np.where(np.sum(axis * v, axis=-1) < 0, -1.0, 1.0)
        out[near_pi] = axis * (sign * theta[near_pi])[..., None]
    return out


def pose_error(T_current: ArrayLike, T_target: ArrayLike) -> Array:
    """Pose error ``[p_target − p; log(R_target Rᵀ)]`` expressed in base axes.

    The rotational part is the rotation vector that takes the current orientation to the
    target, in the base frame; for small errors it is the angular velocity × 1 s that would
    close the gap, which is what a resolved-rate controller wants. Written with few numpy
    calls (the IK solver evaluates it every iteration); same accuracy as :func:`so3_log`,
    which it calls near θ = π.

    Args:
        T_current: ``(..., 4, 4)`` current pose in base frame.
        T_target: ``(..., 4, 4)`` target pose in base frame (broadcast with ``T_current``).

    Returns:
        ``(..., 6)`` error ``[dp [m]; dθ [rad]]``, base axes.
    """
    Tc = _checks.shaped(T_current, "T_current", (4, 4), "pose")
    Tt = _checks.shaped(T_target, "T_target", (4, 4), "pose")
    Tc, Tt = _checks.broadcast("T_current", Tc, "T_target", Tt, 2, 2)
    Re = Tt[..., :3, :3] @ np.swapaxes(Tc[..., :3, :3], -1, -2)
    e = np.empty(Re.shape[:-2] + (6,))
    e[..., :3] = Tt[..., :3, 3] - Tc[..., :3, 3]
    v = e[..., 3:]
    v[..., 0] = Re[..., 2, 1] - Re[..., 1, 2]
    v[..., 1] = Re[..., 0, 2] - Re[..., 2, 0]
    v[..., 2] = Re[..., 1, 0] - Re[..., 0, 1]
    c = np.clip((Re[..., 0, 0] + Re[..., 1, 1] + Re[..., 2, 2] - 1.0) * 0.5, -1.0, 1.0)
    theta = np.arccos(c)
    small = theta < 1e-6
    factor = np.array(0.5 + theta * theta / 12.0)  # θ / (2 sin θ), Taylor near 0
    np.divide(theta, 2.0 * np.sin(theta), out=factor, where=~small)
    v *= factor[..., None]
    near_pi = theta > np.pi - 1e-6
    if near_pi.any():
        v[near_pi] = so3_log(Re[near_pi])
    return e


def pose_error_one(T_current: Array, T_target: Array) -> Array:
    """:func:`pose_error` for one ``(4, 4)`` pair with scalar math (the same quantity, about
    3× fewer µs inside a control loop; tested equal to :func:`pose_error`).

    Args:
        T_current, T_target: ``(4, 4)`` poses in the base frame.

    Returns:
        ``(6,)`` error ``[dp [m]; dθ [rad]]``, base axes.
    """
    if not (type(T_current) is np.ndarray and type(T_target) is np.ndarray
            and T_current.dtype == np.float64 and T_target.dtype == np.float64
            and T_current.shape == (4, 4) and T_target.shape == (4, 4)):
        T_current = _checks.shaped(T_current, "T_current", (4, 4), "pose")
        T_target = _checks.shaped(T_target, "T_target", (4, 4), "pose")
        if T_current.shape != (4, 4) or T_target.shape != (4, 4):
            raise ShapeError("T_current" if T_current.shape != (4, 4) else "T_target",
                             "(4, 4)", T_current.shape if T_current.shape != (4, 4)
                             else T_target.shape)
    Re = T_target[:3, :3] @ T_current[:3, :3].T
    r = Re.tolist()
    c = (r[0][0] + r[1][1] + r[2][2] - 1.0) * 0.5
    total = c + T_current[0, 3] + T_current[1, 3] + T_current[2, 3] + T_target[0, 3] \
        + T_target[1, 3] + T_target[2, 3]
    if not total - total == 0.0:  # a NaN or inf anywhere (cheap, control-loop path)
        _checks.finite(T_current, "T_current")
        _checks.finite(T_target, "T_target")
    c = 1.0 if c > 1.0 else -1.0 if c < -1.0 else c
    theta = math.acos(c)
    e = np.empty(6)
    e[:3] = T_target[:3, 3] - T_current[:3, 3]
    if theta > math.pi - 1e-6:
        e[3:] = so3_log(Re)
        return e
    f = 0.5 + theta * theta / 12.0 if theta < 1e-6 else theta / (2.0 * math.sqrt(1.0 - c * c))
    e[3:] = (f * (r[2][1] - r[1][2]), f * (r[0][2] - r[2][0]), f * (r[1][0] - r[0][1]))
    return e


def adjoint(T: ArrayLike) -> Array:
    """Adjoint of a transform for twists ordered ``[v; ω]``.

    ``V_a = adjoint(T_a_b) @ V_b`` with ``Ad = [[R, [p]× R], [0, R]]``.

    Args:
        T: ``(..., 4, 4)``.

    Returns:
        ``(..., 6, 6)``.
    """
    T = _checks.shaped(T, "T", (4, 4), "transform")
    R, p = T[..., :3, :3], T[..., :3, 3]
    Ad = np.zeros(T.shape[:-2] + (6, 6))
    Ad[..., :3, :3] = R
    Ad[..., 3:, 3:] = R
    Ad[..., :3, 3:] = skew(p) @ R
    return Ad


def so3_exp(w: ArrayLike) -> Array:
    """Rotation matrix of a rotation vector (the SO(3) exp map, inverse of :func:`so3_log`).

    ``R = I + (sin θ / θ) [w]× + ((1 − cos θ) / θ²) [w]×²`` with ``θ = ‖w‖``; Taylor
    coefficients below ``θ = 1e-4`` rad (relative error ~1e-17).

    Args:
        w: ``(..., 3)`` rotation vector [rad].

    Returns:
        ``(..., 3, 3)``.

    >>> np.allclose(so3_exp([0.0, 0.0, 0.5]), axis_angle_to_matrix([0.0, 0.0, 1.0], 0.5))
    True
    """
    v = _checks.shaped(w, "w", (3,), "rotation vector [rad]")
    theta = np.linalg.norm(v, axis=-1)
    small = theta < 1e-4
    t = np.where(small, 1.0, theta)
    t2 = theta * theta
    a = np.where(small, 1.0 - t2 / 6.0 + t2 * t2 / 120.0, np.sin(t) / t)
    b = np.where(small, 0.5 - t2 / 24.0 + t2 * t2 / 720.0, (1.0 - np.cos(t)) / (t * t))
    K = skew(v)
    return np.eye(3) + a[..., None, None] * K + b[..., None, None] * (K @ K)


def interpolate(T0: ArrayLike, T1: ArrayLike, s: ArrayLike) -> Array:
    """Poses along the geodesic from ``T0`` to ``T1``: the translation linear in ``s``, the
    rotation at a constant rate about one axis, ``R(s) = R0 exp(s log(R0ᵀ R1))``.

    ``s = 0`` gives ``T0``, ``s = 1`` gives ``T1`` (to rounding); values outside ``[0, 1]``
    extrapolate along the same screw-free path. For a Cartesian straight line at speed,
    use ``s = t / duration`` and the feed-forward twist ``[(p1 − p0), R0 log(R0ᵀ R1)] /
    duration`` (base axes).

    Args:
        T0, T1: ``(..., 4, 4)`` rigid transforms.
        s: ``(...)`` path parameter; every argument broadcasts with the others.

    Returns:
        ``(..., 4, 4)`` with the broadcast batch shape.

    Raises:
        ShapeError: Shapes that do not broadcast or are not ``(..., 4, 4)``.
        InvalidValueError: A pose that is not rigid, a non-finite ``s``.

    >>> T0, T1 = transform(), transform(axis_angle_to_matrix([0, 0, 1], 1.0), [1, 0, 0])
    >>> T = interpolate(T0, T1, [0.0, 0.5, 1.0])
    >>> T.shape, np.round(T[1, :3, 3], 12) + 0.0, np.round(so3_log(T[1, :3, :3]), 12) + 0.0
    ((3, 4, 4), array([0.5, 0. , 0. ]), array([0. , 0. , 0.5]))
    """
    A = _checks.pose(T0, "T0")
    B = _checks.pose(T1, "T1")
    u = _checks.shaped(s, "s", (), "path parameter")
    try:
        batch = np.broadcast_shapes(A.shape[:-2], B.shape[:-2], u.shape)
    except ValueError:
        raise ShapeError("s", f"batch shapes that broadcast with T0's {A.shape[:-2]} and "
                         f"T1's {B.shape[:-2]}", u.shape) from None
    A = np.broadcast_to(A, batch + (4, 4))
    B = np.broadcast_to(B, batch + (4, 4))
    u = np.broadcast_to(u, batch)
    R0 = A[..., :3, :3]
    w = so3_log(np.swapaxes(R0, -1, -2) @ B[..., :3, :3])
    T = np.zeros(batch + (4, 4))
    T[..., :3, :3] = R0 @ so3_exp(w * u[..., None])
    T[..., :3, 3] = A[..., :3, 3] + u[..., None] * (B[..., :3, 3] - A[..., :3, 3])
    T[..., 3, 3] = 1.0
    return T

"""Helpers shared by the IK solver and the resolved-rate controller: target validation and a
scalar pose error for one pose pair (the same quantity as
:func:`kinematics.spatial.pose_error`, fewer µs inside a 1 kHz loop)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import InvalidValueError, ShapeError
from .spatial import so3_log

Array = NDArray[np.float64]

#: Tolerance on ``‖R Rᵀ − I‖`` and ``|det R − 1|`` for a target pose to count as rigid
#: (loose enough for poses computed in float32 or read from a file with 6 decimals).
RIGID_TOL = 1e-5

_LAST_ROW = np.array([0.0, 0.0, 0.0, 1.0])


def check_pose(T: ArrayLike, name: str = "target_T", single: bool = False) -> Array:
    """Validate a (batch of) homogeneous rigid transform(s).

    Args:
        T: ``(..., 4, 4)`` pose(s) (``(4, 4)`` only, when ``single``).
        name: Argument name for messages.
        single: Accept only one pose.

    Returns:
        ``T`` as a float array.

    Raises:
        InvalidValueError: Non-numeric, non-finite, or not a rigid transform (rotation
            block not orthonormal with det 1 within ``RIGID_TOL``, last row not
            ``[0 0 0 1]``); the first offending pose is named.
        ShapeError: Not ``(..., 4, 4)``.
    """
    try:
        A = np.asarray(T, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}: expected a numeric (..., 4, 4) pose, got {T!r}") from None
    if A.ndim < 2 or A.shape[-2:] != (4, 4) or (single and A.ndim != 2):
        raise ShapeError(name, "(4, 4)" if single else "(4, 4) or (..., 4, 4)", A.shape)
    flat = A.reshape(-1, 4, 4)
    finite = np.isfinite(flat).all(axis=(1, 2))
    R = flat[:, :3, :3]
    with np.errstate(invalid="ignore", over="ignore"):
        ortho = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max(axis=(1, 2)) <= RIGID_TOL
        det_ok = np.abs(np.linalg.det(np.where(finite[:, None, None], R, 0.0)) - 1.0) <= RIGID_TOL
    row_ok = (flat[:, 3] == _LAST_ROW).all(axis=1)
    ok = finite & ortho & det_ok & row_ok
    if not ok.all():
        k = int(np.argmin(ok))
        where = "" if A.ndim == 2 else str([int(i) for i in np.unravel_index(k, A.shape[:-2])])
        why = ("is not finite" if not finite[k] else
               "has a last row other than [0 0 0 1]" if not row_ok[k] else
               "has a rotation block that is not orthonormal with det +1")
        raise InvalidValueError(
            f"{name}{where} {why}; expected a rigid transform [[R, p], [0, 0, 0, 1]] with "
            f"R orthonormal (tolerance {RIGID_TOL:g}), got\n{flat[k]}")
    return A


def pose_error_single(Tc: Array, Tt: Array) -> Array:
    """:func:`kinematics.spatial.pose_error` for one ``(4, 4)`` pair, scalar math (≈3× fewer
    µs)."""
    Re = Tt[:3, :3] @ Tc[:3, :3].T
    r = Re.tolist()
    c = (r[0][0] + r[1][1] + r[2][2] - 1.0) * 0.5
    c = 1.0 if c > 1.0 else -1.0 if c < -1.0 else c
    theta = math.acos(c)
    e = np.empty(6)
    e[:3] = Tt[:3, 3] - Tc[:3, 3]
    if theta > math.pi - 1e-6:
        e[3:] = so3_log(Re)
        return e
    f = 0.5 + theta * theta / 12.0 if theta < 1e-6 else theta / (2.0 * math.sqrt(1.0 - c * c))
    e[3:] = (f * (r[2][1] - r[1][2]), f * (r[0][2] - r[2][0]), f * (r[1][0] - r[0][1]))
    return e


def check_pose_single(T: ArrayLike, name: str = "target_T") -> Array:
    """:func:`check_pose` for one ``(4, 4)`` pose, fast when it is valid (control loops)."""
    try:
        A = np.asarray(T, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}: expected a numeric (4, 4) pose, got {T!r}") from None
    if A.shape != (4, 4):
        raise ShapeError(name, "(4, 4)", A.shape)
    a = A.tolist()
    s = sum(a[0]) + sum(a[1]) + sum(a[2]) + sum(a[3])
    if s - s == 0.0 and a[3] == [0.0, 0.0, 0.0, 1.0]:  # finite, last row exact
        r0, r1, r2 = a[0][:3], a[1][:3], a[2][:3]
        dev = max(abs(r0[0] * r0[0] + r0[1] * r0[1] + r0[2] * r0[2] - 1.0),
                  abs(r1[0] * r1[0] + r1[1] * r1[1] + r1[2] * r1[2] - 1.0),
                  abs(r2[0] * r2[0] + r2[1] * r2[1] + r2[2] * r2[2] - 1.0),
                  abs(r0[0] * r1[0] + r0[1] * r1[1] + r0[2] * r1[2]),
                  abs(r0[0] * r2[0] + r0[1] * r2[1] + r0[2] * r2[2]),
                  abs(r1[0] * r2[0] + r1[1] * r2[1] + r1[2] * r2[2]))
        det = (r0[0] * (r1[1] * r2[2] - r1[2] * r2[1]) - r0[1] * (r1[0] * r2[2] - r1[2] * r2[0])
               + r0[2] * (r1[0] * r2[1] - r1[1] * r2[0]))
        if dev <= RIGID_TOL and abs(det - 1.0) <= RIGID_TOL:
            return A
    return check_pose(A, name, single=True)  # raises with the full diagnosis

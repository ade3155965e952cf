"""Forward kinematics: link poses from joint values, batched over leading dimensions.

Thin public functions over :mod:`kinematics._engine` (which evaluates the chain and picks
the backend). Exact to floating-point rounding (~1e-15 relative); no approximation.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks, _engine
from .robot import Chain, Robot

__all__ = ["fk", "fk_all", "prepare", "point_offset"]

Array = NDArray[np.float64]
_F64 = np.dtype(np.float64)


def prepare(robot: Robot, q: ArrayLike, link: str | None) -> tuple[Chain, NDArray[np.generic]]:
    """Validate ``(q, link)`` of a public call: the link's chain and ``q`` as an array
    (complex ``q`` is kept for complex-step differentiation)."""
    _checks.robot(robot)
    chain = robot.chain(link)
    return chain, robot.check_q(q, complex_ok=True)


def point_offset(point: ArrayLike | None) -> Array | None:
    """Validate a point offset ``(3,)`` [m] in a link's frame (``None``: the link origin)."""
    if point is None:
        return None
    p = _checks.vector(point, "point", 3, "offset [m] in the link frame")
    _checks.bounded(p, "point")
    if p.ndim != 1:
        from .exceptions import ShapeError

        raise ShapeError("point", "(3,) offset [m] in the link frame", p.shape)
    return p


def fk(robot: Robot, q: ArrayLike, link: str | None = None, *,
       point: ArrayLike | None = None) -> Array:
    """Pose of a link (or of a point on it) in the base frame.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m]. Complex values are evaluated exactly
            (complex-step differentiation: ``Im fk(q + i h e_k) / h`` is ``∂fk/∂q_k``).
        link: A name from ``robot.links``; ``None`` (default) is the tool frame at the tip
            (``tip_link`` pose times ``robot.tool``).
        point: ``(3,)`` offset [m] in the link's frame: the pose returned is that of the
            link frame translated to the point (``T @ transform(p=point)``).

    Returns:
        ``(..., 4, 4)`` homogeneous transform ``T_base_link`` (translation in m).

    Raises:
        ShapeError: ``q``'s last axis is not ``dof``; ``point`` not ``(3,)``.
        InvalidValueError: ``q`` is non-numeric or not finite; ``link=None`` on a robot with
            several tips.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")          # l1 = 1.0 m, l2 = 0.8 m
    >>> np.round(kin.fk(arm, [0.0, np.pi / 2])[:3, 3], 12) + 0.0
    array([1. , 0.8, 0. ])
    """
    if (point is None and type(q) is np.ndarray and q.dtype is _F64 and q.ndim == 1
            and _engine._ENABLED and q.shape[0] == robot.dof):
        T1 = _engine.fk_single(robot.chain(link), q)  # None: not finite, raised below
        if T1 is not None:
            return T1
    chain, qa = prepare(robot, q, link)
    p = point_offset(point)
    if _engine.compiled(qa):
        batch = qa.shape[:-1]
        T = _engine.allocate((math.prod(batch), 4, 4), "fk output")
        _engine.run_q("fk_batch", chain, [_engine.flat(qa, batch, robot.dof)],
                      (_engine._ZERO3 if p is None else np.ascontiguousarray(p, np.float64),), [T])
        return T.reshape(batch + (4, 4))
    T = _engine.pose(chain, _engine.chain_theta(chain, qa))
    if p is not None:
        T = T.copy() if not T.flags.writeable else T
        T[..., :3, 3] += T[..., :3, :3] @ p
    return T


def fk_all(robot: Robot, q: ArrayLike) -> Array:
    """Poses of every link in ``robot.link_names``, stacked (one evaluation per link; for
    reports and drawing, not control loops).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values.

    Returns:
        ``(..., len(robot.link_names), 4, 4)``, in the order of ``robot.link_names``
        (``[0]`` is the base link; for one tip ``[-1]`` is the tip link, without the tool).

    Raises:
        ShapeError, InvalidValueError: As :func:`fk`.
    """
    _checks.robot(robot)
    _, qa = prepare(robot, q, robot.base_link)
    batch, L = qa.shape[:-1], len(robot.link_names)
    shape = (math.prod(batch), L, 4, 4)
    out = (_engine.allocate(shape, "fk_all output") if qa.dtype == np.float64
           else np.empty(shape, dtype=qa.dtype))
    for i, link in enumerate(robot.link_names):  # one link's poses at a time: bounded
        out[:, i] = fk(robot, qa, link).reshape(-1, 4, 4)
    return out.reshape(batch + (L, 4, 4))

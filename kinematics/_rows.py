"""Which rows of a Jacobian a singularity measure watches (shared by the monitor and the
certificates): the robot's registered rows, the plane of a planar arm, or all six."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks, _engine, robots
from .exceptions import InvalidValueError
from .robot import Robot

__all__ = ["default_rows", "task_rows"]


def default_rows(robot: Robot) -> tuple[int, ...]:
    """Task rows monitored by default: the registry's rows of a bundled robot
    (:func:`kinematics.robots.monitor_rows`), else all six, except for planar arms.

    A planar arm (at most 3 joints, all revolute with axes along the same base axis ``e_k``
    at ``q = 0``) works in the plane normal to ``e_k``: its rows are the two in-plane linear
    velocities, plus ``ω_k`` for three joints. (Its 6-row Jacobian never loses column rank:
    the ``ω_k`` row keeps two joints apart even when the arm is stretched.) The bundled
    planar 2R arm gets ``(0, 1)``.
    """
    registered = robots.monitor_rows(robot.name)
    if registered is not None:
        return registered
    if len(robot.tip_links) != 1:
        return (0, 1, 2, 3, 4, 5)
    chain = robot.chain(None)
    if 2 <= chain.n <= 3 and chain.simple and bool(np.all(chain.revolute)):
        z = _engine.frames(chain, np.zeros(chain.n)).z
        k = int(np.argmax(np.abs(z[0])))
        if np.allclose(np.abs(z[:, k]), 1.0, atol=1e-9):
            plane = tuple(i for i in range(3) if i != k)
            return plane + ((3 + k,) if chain.n == 3 else ())
    return (0, 1, 2, 3, 4, 5)


def task_rows(robot: Robot, rows: ArrayLike | None) -> NDArray[np.intp]:
    """Validated Jacobian row indices (``None``: :func:`default_rows`).

    Raises:
        InvalidValueError: Not distinct integers in 0..5.
    """
    if rows is None:
        return np.array(default_rows(robot), dtype=np.intp)
    if isinstance(rows, (str, bytes, np.ma.MaskedArray)):
        raise InvalidValueError(f"rows={_checks.show(rows)}; expected distinct Jacobian row "
                                "indices in 0..5 (0-2 vx vy vz, 3-5 wx wy wz)")
    try:
        r = np.asarray(rows)
    except (TypeError, ValueError):
        raise InvalidValueError(f"rows={_checks.show(rows)}; expected distinct Jacobian row "
                                "indices in 0..5 (0-2 vx vy vz, 3-5 wx wy wz)") from None
    if (r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer)
            or np.any((r < 0) | (r > 5)) or len(set(r.tolist())) != r.size):
        raise InvalidValueError(f"rows={rows!r}; expected distinct Jacobian row indices in "
                                "0..5 (0-2 vx vy vz, 3-5 wx wy wz)")
    return r.astype(np.intp)

"""Inverse kinematics: position IK (:func:`solve`) and resolved-rate control
(:class:`ResolvedRateController`).

- :func:`solve` finds joint values inside the limits that put a link at a pose, for one
  target or a batch solved together (bounded Levenberg–Marquardt, deterministic restarts).
- :class:`ResolvedRateController` turns a pose error into joint velocities every control
  period (adaptive damped least squares, velocity and position limits, null-space
  objectives, task weights, optional singularity monitor).
- :func:`manipulability_gradient` and :func:`jacobian_hessian` are the exact derivatives the
  manipulability objective uses.
"""

from ._ik_nullspace import jacobian_hessian, manipulability, manipulability_gradient
from ._ik_rate import ResolvedRateController
from ._ik_solve import IKResult, solve

__all__ = [
    "IKResult",
    "ResolvedRateController",
    "jacobian_hessian",
    "manipulability",
    "manipulability_gradient",
    "solve",
]

"""Inverse kinematics: position IK (:func:`solve`) and resolved-rate control
(:class:`ResolvedRateController`).

- :func:`solve` (:mod:`kinematics.ik.solver`) finds joint values inside the limits that put
  a link at a pose, for one target or a batch solved together (bounded
  Levenberg–Marquardt, deterministic restarts).
- :class:`ResolvedRateController` (:mod:`kinematics.ik.rate`) turns a pose error into joint
  velocities every control period (adaptive damped least squares, velocity and position
  limits, null-space objectives, task weights, optional singularity monitor).
- :func:`solve_all` (:mod:`kinematics.ik.closed_form`) lists every solution of a 6R arm
  whose geometry has a closed form (spherical wrist, three parallel axes), compiled.
- :mod:`kinematics.ik.objectives`: gradients of the null-space objectives.
"""

from ..jacobian import jacobian_hessian
from ..singularity import manipulability
from .closed_form import IKSolutions, solve_all
from .objectives import manipulability_gradient
from .rate import ResolvedRateController
from .solver import IKResult, solve
from .status import ControlStatus

__all__ = [
    "ControlStatus",
    "IKResult",
    "IKSolutions",
    "ResolvedRateController",
    "jacobian_hessian",
    "manipulability",
    "manipulability_gradient",
    "solve",
    "solve_all",
]

"""Secondary objectives for redundant arms: gradients of costs ``h(q)`` that a resolved-rate
controller descends in the null space of its task (``q̇₀ = −k ∇h``).

- joint centering: ``h = ½ Σ ((q_i − mid_i) / half_range_i)²`` (continuous joints excluded);
- manipulability (Yoshikawa) ``w = √det(J Jᵀ)`` of the full ``6 × dof`` base Jacobian, to be
  maximised (``h = −w``). ``∂w/∂q_i = w ⟨(J Jᵀ)⁻¹ J, ∂J/∂q_i⟩_F`` (``(JᵀJ)`` form when
  ``dof < 6``), with the Jacobian's derivative ``∂J/∂q_i`` from
  :func:`kinematics.jacobian.jacobian_hessian`;
- joint-limit repulsion: a spring ``h = ½ Σ pen_i²`` active within ``margin`` of a limit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..jacobian import fk_jacobian, jacobian_hessian
from ..robot import Robot

__all__ = ["manipulability_gradient", "centering_gradient", "limit_penetration"]

Array = NDArray[np.float64]


def manipulability_gradient(robot: Robot, q: ArrayLike, J: Array | None = None,
                            link: str | None = None) -> Array:
    """``∇w`` ``(dof,)`` of Yoshikawa's manipulability of the ``6 × dof`` base Jacobian.

    ``∂w/∂q_i = w ⟨(J Jᵀ)⁻¹ J, ∂J/∂q_i⟩`` (``J (JᵀJ)⁻¹`` when dof < 6); 0 at ``w = 0``.

    Args:
        robot, q, link: As :func:`jacobian_hessian`.
        J: ``(6, dof)`` base Jacobian at ``q`` if already computed.

    Returns:
        ``(dof,)`` [m³/rad per rad for a 6-row J with 3 length rows; units follow J].
    """
    qa = robot.check_q(q)
    if J is None:
        J = fk_jacobian(robot, qa, link)[1]
    H = jacobian_hessian(robot, qa, J, link)
    wide = J.shape[0] <= J.shape[1]
    A = J @ J.T if wide else J.T @ J
    det = float(np.linalg.det(A))
    if det <= 0.0:
        return np.zeros(robot.dof)
    M = np.linalg.solve(A, J) if wide else np.linalg.solve(A, J.T).T   # (6, dof)
    return np.sqrt(det) * np.einsum("aj,iaj->i", M, H)


def centering_gradient(q: Array, mid: Array, inv_half_range2: Array) -> Array:
    """``∇h`` of ``h = ½ Σ ((q − mid) / half_range)²`` (``inv_half_range2`` is 0 for
    continuous joints)."""
    return (q - mid) * inv_half_range2


def limit_penetration(q: Array, lo: Array, hi: Array, margin: float) -> Array:
    """``(dof,)`` depth [rad or m] of ``q`` inside the margin zone of a limit, signed:
    positive toward the upper limit, negative toward the lower one, 0 elsewhere."""
    return np.maximum(q - (hi - margin), 0.0) - np.maximum((lo + margin) - q, 0.0)

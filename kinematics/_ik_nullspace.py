"""Secondary objectives for redundant arms: gradients of costs ``h(q)`` that a resolved-rate
controller descends in the null space of its task (``q̇₀ = −k ∇h``).

- joint centering: ``h = ½ Σ ((q_i − mid_i) / half_range_i)²`` (continuous joints excluded);
- manipulability (Yoshikawa) ``w = √det(J Jᵀ)`` of the full ``6 × dof`` base Jacobian, to be
  maximised (``h = −w``). ``∂w/∂q_i = w ⟨(J Jᵀ)⁻¹ J, ∂J/∂q_i⟩_F`` (``(JᵀJ)`` form when
  ``dof < 6``), with the Jacobian's derivative ``∂J/∂q_i`` from :func:`jacobian_hessian`;
- joint-limit repulsion: a spring ``h = ½ Σ pen_i²`` active within ``margin`` of a limit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .jacobian import cross, fk_jacobian, jacobian_dot
from .robot import Robot

__all__ = ["jacobian_hessian", "manipulability", "manipulability_gradient",
           "centering_gradient", "limit_penetration"]

Array = NDArray[np.float64]


def jacobian_hessian(robot: Robot, q: ArrayLike, J: Array | None = None,
                     link: str | None = None) -> Array:
    """Derivative of the base Jacobian with respect to each joint, ``H[i] = ∂J/∂q_i``.

    All-revolute chains without mimic joints use the closed form (Haviland & Corke, "A
    systematic approach to computing the manipulator Jacobian and Hessian using the
    elementary transform sequence", 2020) from ``J`` alone:
    ``∂J_ω,j/∂q_i = J_ω,i × J_ω,j`` (``i < j``, else 0) and
    ``∂J_v,j/∂q_i = J_ω,min(i,j) × J_v,max(i,j)``. Other chains use
    ``∂J/∂q_i = J̇(q, e_i)`` (:func:`~kinematics.jacobian_dot`, exact).

    Args:
        robot: The model.
        q: ``(dof,)`` joint values [rad or m].
        J: ``(6, dof)`` base Jacobian at ``q`` if already computed (closed form only).
        link: As :func:`~kinematics.jacobian`.

    Returns:
        ``(dof, 6, dof)``: ``H[i, :, j] = ∂J[:, j]/∂q_i`` [m/rad², 1/rad, ...].
    """
    chain = robot.chain(link)
    qa = robot.check_q(q)
    dof = robot.dof
    if not (chain.simple and not chain.prismatic_any and chain.n == dof):
        return jacobian_dot(robot, np.broadcast_to(qa, (dof, dof)), np.eye(dof), link)
    if J is None:
        J = fk_jacobian(robot, qa, link)[1]
    Jv, Jw = J[:3].T, J[3:].T                               # (dof, 3)
    ww = cross(Jw[:, None, :], Jw[None, :, :])              # [i, j] = Jω_i × Jω_j
    wv = cross(Jw[:, None, :], Jv[None, :, :])              # [i, j] = Jω_i × Jv_j
    upper = np.triu(np.ones((dof, dof), dtype=bool))        # i <= j
    H = np.empty((dof, 6, dof))
    H[:, :3, :] = np.where(upper[..., None], wv, np.swapaxes(wv, 0, 1)).transpose(0, 2, 1)
    H[:, 3:, :] = np.where(np.triu(upper, 1)[..., None], ww, 0.0).transpose(0, 2, 1)
    return H


def manipulability(J: Array) -> float:
    """Yoshikawa's ``w = √det(J Jᵀ)`` (``√det(JᵀJ)`` for fewer columns than rows)."""
    A = J @ J.T if J.shape[0] <= J.shape[1] else J.T @ J
    return float(np.sqrt(max(np.linalg.det(A), 0.0)))


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

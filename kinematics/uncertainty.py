"""Joint uncertainty through the Jacobian: pose covariance, joint tolerances, and where the
linearisation stops being accurate.

**First order.** The pose moves by ``δx = J δq + ½ Σ_ij H_ij δq_i δq_j + O(δq³)`` with
``δx = [δp; δφ]`` (``reference="base"``: ``δp = p′ − p`` and ``δφ = log(R′ Rᵀ)``, base
axes; ``"local"``: ``Rᵀ δp`` and ``log(Rᵀ R′)``) and ``H_ij = ∂²p/∂q_i∂q_j`` the kinematic
Hessian of the position (:func:`position_hessian`). For joint noise with covariance ``Σ_q``
the pose covariance is ``Σ_x = J Σ_q Jᵀ`` (:func:`pose_covariance`).

**Tolerance box.** For ``|δq_j| ≤ δ`` (a cube in joint space) the first-order position error
``‖J_v δq‖₂`` is convex in ``δq``, so its maximum over the cube is attained at a vertex:
``δ g_v`` with ``g_v = max_{u ∈ {±1}^n} ‖J_v u‖₂`` (computed exactly by enumerating the
``2^(n−1)`` sign patterns up to 12 joints; beyond, the conservative ``g_v ≤ Σ_j ‖J_v,j‖₂``).
:func:`joint_tolerance` returns the largest cube, ``δ = min(pos_tol / g_v, rot_tol / g_ω)``
(same for the angular rows): exact to first order, so some vertex reaches the tolerance.

**Where the linearisation breaks.** Over the cube the second-order term is at most
``½ δ² h`` with ``h = Σ_ij ‖H_ij‖₂``; relative to the first-order worst case it is
``≤ ½ δ h / g_v``, which reaches a fraction ``ρ`` (10 %: ``ρ = 0.1``) at
``δ_ρ = 2 ρ g_v / h``. For Gaussian noise ``δq ~ N(0, σ² I)`` the first-order part has rms
``σ ‖J_v‖_F`` and (Isserlis) the second-order part has rms
``½ σ² √(‖Σ_i H_ii‖² + 2 Σ_ij ‖H_ij‖²)``; their ratio reaches ``ρ`` at

    σ_ρ = 2 ρ ‖J_v‖_F / √(‖Σ_i H_ii‖² + 2 Σ_ij ‖H_ij‖²)       (:func:`linearization_limit`).

Odd moments of a Gaussian vanish, so ``J Σ_q Jᵀ`` is off by ``O(σ⁴)``: a relative error
of order ``(σ/σ_1)²`` (``σ_1 = σ_ρ`` at ``ρ = 1``). On the bundled arms ``σ_0.1`` is
0.06-0.1 rad at typical configurations: encoder noise (1e-5-1e-3 rad) is deep inside.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._certify import _chain, _frames
from .exceptions import InvalidValueError, ShapeError
from .jacobian import jacobian
from .robot import Robot

__all__ = ["pose_covariance", "joint_tolerance", "position_hessian", "linearization_limit"]

Array = NDArray[np.float64]
_MAX_ENUMERATED = 12  # joints up to which the worst box vertex is found by enumeration


def _check_cov(robot: Robot, joint_cov: ArrayLike) -> Array:
    S = _checks.array(joint_cov, "joint_cov", "a numeric covariance [rad², m²]")
    n = robot.dof
    if not (S.shape == (n,) or (S.ndim >= 2 and S.shape[-2:] == (n, n))):
        raise ShapeError("joint_cov", f"({n},) variances or (..., {n}, {n}) covariances "
                         f"[rad², m²]", S.shape)
    if not np.isfinite(S).all():
        raise InvalidValueError("joint_cov: expected finite values")
    _checks.bounded(S, "joint_cov")
    if S.size == 0:  # 0 DoF: nothing uncertain
        return S
    if S.ndim == 1:
        if np.any(S < 0):
            j = int(np.argmax(S < 0))
            raise InvalidValueError(f"joint_cov[{j}] (variance of joint "
                                    f"{robot.joint_names[j]!r}) is {S[j]}; expected >= 0")
        return S
    scale = np.abs(S).max(axis=(-2, -1), keepdims=True)
    tol = 1e-9 * np.maximum(scale, np.finfo(float).tiny)
    if np.any(np.abs(S - np.swapaxes(S, -1, -2)) > tol):
        raise InvalidValueError("joint_cov: expected a symmetric matrix (|Σ − Σᵀ| ≤ 1e-9 "
                                "max|Σ|)")
    low = np.linalg.eigvalsh(0.5 * (S + np.swapaxes(S, -1, -2)))[..., 0]
    if np.any(low < -tol[..., 0, 0]):
        raise InvalidValueError(f"joint_cov: expected a positive semi-definite matrix, "
                                f"smallest eigenvalue {float(low.min()):.3g}")
    return S


def pose_covariance(robot: Robot, q: ArrayLike, joint_cov: ArrayLike,
                    link: str | None = None, reference: str = "base") -> Array:
    """First-order covariance of the pose error from joint noise, ``Σ_x = J Σ_q Jᵀ``.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        joint_cov: ``(dof,)`` joint variances (diagonal ``Σ_q``) or ``(..., dof, dof)``
            covariances [rad², m²], broadcast with ``q``'s leading dims.
        link: A name from ``robot.links`` (default: the tool frame).
        reference: ``"base"`` or ``"local"`` (:mod:`kinematics.jacobian`): the error is
            ``[δp; δφ]`` in base axes or in the link's axes (module docstring).

    Returns:
        ``(..., 6, 6)`` covariance of ``[δp [m]; δφ [rad]]``; symmetric.

    Raises:
        ShapeError: Bad ``q`` or ``joint_cov`` shape, or batch shapes that do not broadcast.
        InvalidValueError: Non-finite values, negative variances, a non-symmetric or not
            positive semi-definite ``joint_cov`` (tolerance 1e-9 relative), bad ``reference``.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")              # stretched along x: l1 + l2 = 1.8 m
    >>> C = pose_covariance(arm, [0.0, 0.0], [1e-6, 0.0])   # σ = 1 mrad on joint 1 only
    >>> float(np.sqrt(C[1, 1]))                       # σ_y = 1.8 m × 1 mrad
    0.0018
    """
    _checks.robot(robot)
    if not isinstance(reference, str) or reference not in ("base", "local"):
        raise InvalidValueError(f"reference={reference!r}; expected 'base' or 'local'")
    J = jacobian(robot, robot.check_q(q), link, reference)  # type: ignore[arg-type]
    S = _check_cov(robot, joint_cov)
    if S.ndim == 1:
        C = (J * S) @ np.swapaxes(J, -1, -2)  # (6, n) @ (n,) diagonal
    else:
        try:
            np.broadcast_shapes(J.shape[:-2], S.shape[:-2])
        except ValueError:
            raise ShapeError("joint_cov", f"(..., {robot.dof}, {robot.dof}) with leading dims "
                             f"broadcastable to q's {J.shape[:-2]}", S.shape) from None
        C = J @ S @ np.swapaxes(J, -1, -2)
    return 0.5 * (C + np.swapaxes(C, -1, -2))


def _worst_gain(A: Array) -> Array:
    """``max_{|u_j| ≤ 1} ‖A u‖₂`` of ``(..., k, n)`` (exact up to 12 columns)."""
    n = A.shape[-1]
    if n == 0:
        return np.zeros(A.shape[:-2])
    if n > _MAX_ENUMERATED:
        return np.linalg.norm(A, axis=-2).sum(axis=-1)
    signs = 1.0 - 2.0 * ((np.arange(2 ** (n - 1))[:, None] >> np.arange(n)) & 1)
    return np.linalg.norm(A @ signs.T, axis=-2).max(axis=-1)


def _positive(value: float, name: str, unit: str) -> float:
    return _checks.positive(value, name, expected=f"a positive finite tolerance [{unit}] (a "
                                                  "real number)")


def joint_tolerance(robot: Robot, q: ArrayLike, pos_tol: float, rot_tol: float | None = None,
                    link: str | None = None) -> Array:
    """Largest joint error cube that keeps the link within tolerance, to first order.

    Every ``δq`` with ``|δq_j| ≤ δ`` moves the link origin by at most ``pos_tol`` (and turns
    it by at most ``rot_tol``) to first order, and some vertex of the cube reaches the
    binding tolerance (module docstring). Accurate while ``δ ≪ 2 ρ g_v / Σ_ij ‖H_ij‖``
    (second-order share ``ρ``).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        pos_tol: Position tolerance [m].
        rot_tol: Orientation tolerance [rad] (default: none).
        link: A name from ``robot.links`` (default: the tool frame).

    Returns:
        ``(..., dof)`` per-joint half widths ``δ · ones`` [rad, or m for prismatic joints];
        ``inf`` when no joint moves the link in the constrained rows.

    Raises:
        ShapeError, InvalidValueError: Bad ``q`` or a tolerance that is not positive.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")          # q = 0: J_v = [[0, 0], [1.8, 0.8]]
    >>> joint_tolerance(arm, [0.0, 0.0], pos_tol=1e-3)   # 1 mm / (1.8 + 0.8) m
    array([0.00038462, 0.00038462])
    """
    _checks.robot(robot)
    _checks.moving(robot, "joint_tolerance")
    tol_p = _positive(pos_tol, "pos_tol", "m")
    J = jacobian(robot, robot.check_q(q), link)
    with np.errstate(divide="ignore"):
        delta = tol_p / _worst_gain(J[..., :3, :])
        if rot_tol is not None:
            delta = np.minimum(delta, _positive(rot_tol, "rot_tol", "rad")
                               / _worst_gain(J[..., 3:, :]))
    return np.repeat(delta[..., None], robot.dof, axis=-1)


def position_hessian(robot: Robot, q: ArrayLike, link: str | None = None) -> Array:
    """Kinematic Hessian of the link origin, ``H[..., i, j, :] = ∂²p/∂q_i∂q_j``.

    Closed form from the joint axes ``z`` (through ``o``) and ``a_j = z_j × (p − o_j)``:
    ``z_i × a_j`` for revolute ``i ≤ j``, ``z_i × z_j`` for revolute ``i`` before prismatic
    ``j``, 0 otherwise (symmetric); mimic joints enter through their leader's multiplier.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        link: A name from ``robot.links`` (default: the tool frame).

    Returns:
        ``(..., dof, dof, 3)`` [m/rad², 1/rad, ...], base axes.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: Bad ``q`` or ``link``.
    """
    _checks.robot(robot)
    _checks.moving(robot, "position_hessian")
    qa = robot.check_q(q)
    ch = _chain(robot, link)
    z, o, T = _frames(robot, ch, link, qa)
    a = np.cross(z, T[..., None, :3, 3] - o)
    rev = ch.revolute
    Hr = np.cross(z[..., :, None, :], a[..., None, :, :])        # [i, j] = z_i × a_j
    Hp = np.cross(z[..., :, None, :], z[..., None, :, :])        # [i, j] = z_i × z_j
    n = len(rev)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    up = np.where(((rev[:, None] & rev[None, :]) & (i <= j))[..., None], Hr,
                  np.where((rev[:, None] & ~rev[None, :] & (i < j))[..., None], Hp, 0.0))
    H = up + np.swapaxes(up, -2, -3) * (i != j)[..., None]
    M = np.zeros((n, robot.dof))
    M[np.arange(n), ch.leader] = ch.mult
    return np.einsum("ki,...klx,lj->...ijx", M, H, M)


def linearization_limit(robot: Robot, q: ArrayLike, ratio: float = 0.1,
                        link: str | None = None) -> Array:
    """Joint noise level ``σ_ρ`` at which the second-order position error has ``ratio``
    times the rms of the first-order one (isotropic Gaussian noise ``N(0, σ² I)``).

    ``σ_ρ = 2 ρ ‖J_v‖_F / √(‖Σ_i H_ii‖² + 2 Σ_ij ‖H_ij‖²)`` (module docstring).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        ratio: ``ρ > 0``.
        link: A name from ``robot.links`` (default: the tool frame).

    Returns:
        ``(...)`` ``σ_ρ`` [rad]; ``inf`` where the position is linear in ``q``.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: Bad ``q``, ``ratio`` or ``link``.
    """
    _checks.robot(robot)
    _checks.moving(robot, "linearization_limit")
    rho = _positive(ratio, "ratio", "dimensionless")
    qa = robot.check_q(q)
    H = position_hessian(robot, qa, link)
    Jv = jacobian(robot, qa, link)[..., :3, :]
    trace = np.einsum("...iix->...x", H)
    second = np.sqrt(np.sum(trace**2, axis=-1) + 2.0 * np.sum(H**2, axis=(-3, -2, -1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 2.0 * rho * np.linalg.norm(Jv, axis=(-2, -1)) / second
    return np.where(second == 0.0, np.inf, out)  # linear in q (0/0 when J_v is 0 too)

"""Singularity measures of a Jacobian and a monitor that predicts, explains and scales.

A Jacobian ``J`` (``m × n``) with SVD ``J = U diag(σ) Vᵀ`` (``σ`` descending,
``k = min(m, n)`` values) is singular when ``σ_k = σ_min = 0``: the tool then cannot move
along ``u_k`` (:attr:`SingularityMeasures.lost_twist`), and the joint motion ``v_k``
(:attr:`SingularityMeasures.joint_motion`) moves nothing in that direction.

**Units.** Rows ``[vx vy vz]`` of a geometric Jacobian are [m/rad], rows ``[ωx ωy ωz]`` are
[rad/rad] = [1]. Every quantity computed from the whole ``J`` (``sigma``, ``sigma_min``,
``manipulability``, ``det``, ``condition``) therefore *mixes metres and radians*: its value
changes when you change the length unit. The ``*_scaled`` fields are unit-consistent: they
are computed from ``diag(1/L, 1/L, 1/L, 1, 1, 1) J`` with a characteristic length ``L``
(default for a robot: :attr:`~kinematics.Robot.reach`), i.e. a tool translation of one
reach counts as much as a rotation of one radian. They are dimensionless.

**Monitor.** :class:`SingularityMonitor` watches one metric (default ``sigma_min_scaled``)
with two thresholds ``warn > stop``. It reports a level (``"ok"``, ``"warn"``, ``"stop"``,
with hysteresis), a velocity ``scale`` in [0, 1] that falls linearly from 1 at ``warn`` to
0 at ``stop`` *only while the commanded motion decreases the metric*, and a first-order
``time_to_singularity`` ``σ_min / (−dσ_min/dt)`` from the exact rate
``dσ_min/dt = u_kᵀ J̇ v_k``.

>>> import kinematics as kin
>>> arm = kin.load_robot("planar2r")                  # l1 = 1.0 m, l2 = 0.8 m
>>> J = kin.jacobian(arm, [0.3, 0.5])[:2]             # planar position rows x, y
>>> m = measures(J)
>>> bool(abs(m.det - 1.0 * 0.8 * np.sin(0.5)) < 1e-12)   # l1 l2 sin q2
True
>>> bool(abs(m.manipulability - abs(m.det)) < 1e-12)
True
>>> int(measures(kin.jacobian(arm, [0.3, 0.0])[:2]).rank)  # stretched: rank 1
1
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks, _engine
from ._certify import certified_radius
from ._rows import default_rows, task_rows
from .exceptions import InvalidValueError, ShapeError
from .jacobian import fk_jacobian, jacobian_dot, jacobian_dot_from, jacobian_hessian
from .robot import Robot

__all__ = [
    "SingularityMeasures",
    "measures",
    "measures_at",
    "MonitorState",
    "SingularityMonitor",
    "default_thresholds",
    "default_rows",
    "certified_radius",
    "singular_value_rates",
    "scaled_svd",
    "row_scale",
    "approaches",
    "metric_value",
    "metric_rate",
    "task_rows",
    "manipulability",
    "Monitor",
    "METRICS",
    "LEVELS",
    "HALT_SCALE",
]

Array = NDArray[np.float64]
Level = Literal["ok", "warn", "stop"]
LEVELS: tuple[str, ...] = ("ok", "warn", "stop")
METRICS: tuple[str, ...] = (
    "sigma_min_scaled",
    "sigma_min",
    "inverse_condition_scaled",
    "inverse_condition",
    "manipulability",
)

#: Tool speed of the reference jog used for the default thresholds, as a fraction of the
#: characteristic length per second (linear) or rad/s (angular): 3 % of the reach per second
#: is 36-50 mm/s on the bundled arms, an ordinary jogging speed.
JOG_SPEED = 0.03
#: ``warn = WARN_FACTOR * stop``: at ``warn`` the reference jog uses a quarter of the joint
#: velocity limit, which leaves the scaling band room to slow the arm progressively.
WARN_FACTOR = 4.0

_SMALL_BATCH = 64  # batches up to this size take one stacked SVD call
_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True, eq=False)
class SingularityMeasures:
    """Singularity measures of a batch of Jacobians, shape ``(...)`` of leading dims.

    ``J`` is ``(..., m, n)``, ``k = min(m, n)``. "Mixed" means the value combines rows in
    [m/rad] and rows in [rad/rad] (module docstring); "scaled" values are dimensionless.

    Attributes:
        sigma: ``(..., k)`` singular values of ``J``, descending. Mixed units.
        sigma_min: ``(...)`` smallest singular value ``σ_k``. Mixed ([m/rad] when the weakest
            direction is a translation, [1] when it is a rotation).
        manipulability: ``(...)`` Yoshikawa ``√det(J Jᵀ)`` (wide ``J``) = ``∏ σ``; for tall
            ``J`` the product of its ``k`` singular values, ``√det(Jᵀ J)``. Mixed.
        det: ``(...)`` ``det J`` for square ``J`` (signed; ``|det| = manipulability``), NaN
            otherwise. Mixed.
        condition: ``(...)`` ``σ_max / σ_min`` ≥ 1; ``inf`` at a singularity, i.e. when
            ``rank < k`` (``σ_min`` at or below the rank tolerance). Mixed.
        inverse_condition: ``(...)`` ``σ_min / σ_max`` in [0, 1]; 0 at a singularity. Mixed.
        rank: ``(...)`` int, number of ``σ > σ_max · max(m, n) · 2.2e-16`` (numpy's
            ``matrix_rank`` tolerance).
        translational_manipulability: ``(...)`` product of the singular values of the linear
            rows ``J_v`` [m/rad per value]; NaN when ``J`` has no linear rows.
        rotational_manipulability: ``(...)`` product of the singular values of the angular
            rows ``J_ω`` [1]; NaN when ``J`` has no angular rows.
        lost_twist: ``(..., m)`` unit left singular vector ``u_k``: the tool motion that
            needs the largest joint speeds and is lost at a singularity (same rows as ``J``:
            ``[vx vy vz ωx ωy ωz]`` for a full geometric Jacobian).
        joint_motion: ``(..., n)`` unit right singular vector ``v_k`` (``J v_k = σ_k u_k``):
            the joint motion that moves the tool least, and moves nothing in the lost
            direction at a singularity. Signs are normalised so that the largest component
            of ``joint_motion`` is positive (``lost_twist`` flips with it); among components
            equal to within 1e-6 (e.g. two coaxial joints) the first one counts. At an
            exact singularity (``σ_k = 0``) ``J v_k = 0`` no longer ties the sign of
            ``lost_twist`` to ``joint_motion``: read it as a direction.
        length: Characteristic length ``L`` [m] of the scaled fields.
        sigma_scaled: ``(..., k)`` singular values of ``diag(1/L on linear rows, 1) J``,
            descending. Dimensionless.
        sigma_min_scaled: ``(...)`` ``sigma_scaled[..., -1]``: the unit-consistent distance
            to a singularity (``1/σ`` is the worst-case joint speed [rad/s] per unit of tool
            speed, in reaches/s or rad/s). Dimensionless; the monitor's default metric.
        condition_scaled: ``(...)`` unit-consistent condition number ``σ_max / σ_min`` of
            ``sigma_scaled`` (``inf`` when numerically singular, as ``condition``).
            Dimensionless.
        inverse_condition_scaled: ``(...)`` ``σ_min / σ_max`` of ``sigma_scaled``, in
            [0, 1].
    """

    sigma: Array
    sigma_min: Array
    manipulability: Array
    det: Array
    condition: Array
    inverse_condition: Array
    rank: NDArray[np.intp]
    translational_manipulability: Array
    rotational_manipulability: Array
    lost_twist: Array
    joint_motion: Array
    length: float
    sigma_scaled: Array
    sigma_min_scaled: Array
    condition_scaled: Array
    inverse_condition_scaled: Array

    @property
    def shape(self) -> tuple[int, ...]:
        """Leading (batch) shape."""
        return tuple(np.shape(self.sigma_min))

    def __getitem__(self, index: object) -> SingularityMeasures:
        """Index the batch dimensions, e.g. ``m[order[:10]]``."""
        if not self.shape:
            raise InvalidValueError("cannot index the measures of a single Jacobian "
                                    "(shape ()); index a batch")
        values = {}
        for f in fields(self):
            v = getattr(self, f.name)
            values[f.name] = v if f.name == "length" else np.asarray(v)[index]  # type: ignore[call-overload]
        return SingularityMeasures(**values)


def _check_J(J: ArrayLike) -> Array:
    a = _checks.array(J, "J", "a real (..., m, n) Jacobian")
    if a.ndim >= 2 and a.size and np.isfinite(a).all():
        _checks.bounded(a, "J")
    if a.ndim < 2 or a.shape[-1] == 0 or a.shape[-2] == 0:
        raise ShapeError("J", "(..., m, n) with m, n >= 1", a.shape)
    if not np.isfinite(a).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise InvalidValueError(f"J{list(idx)} is {a[idx]}; expected finite values")
    return a


def _linear_mask(linear: ArrayLike | None, m: int) -> NDArray[np.bool_]:
    if linear is None:
        return np.arange(m) < 3 if m == 6 else np.ones(m, dtype=bool)
    if isinstance(linear, np.ma.MaskedArray):
        raise InvalidValueError("linear: masked arrays are not supported; expected "
                                f"({m},) bool flags")
    try:
        mask = np.asarray(linear)
    except (TypeError, ValueError):
        raise InvalidValueError(f"linear={_checks.show(linear)}; expected ({m},) bool "
                                "flags") from None
    if mask.shape != (m,) or mask.dtype != np.bool_:
        raise ShapeError("linear", f"({m},) bool (one flag per Jacobian row)", mask.shape)
    return mask


# compiled path of :func:`measures` (:func:`kinematics._kernels.measures_batch`)
_DEFAULT_LINEAR: dict[int, Array] = {}  # m -> its default linear-row flags, as 1.0 / 0.0
_THREADED = 2048  # Jacobians from which a compiled batch is cut in tasks run on threads
_TASK = 1024      # Jacobians per threaded task


def _new_measures(values: dict[str, Any]) -> SingularityMeasures:
    """A :class:`SingularityMeasures` from its complete field values without the frozen
    dataclass's ``__init__`` (16 guarded ``setattr`` calls cost about as much as the
    compiled evaluation of one Jacobian). No ``__post_init__`` is skipped: there is none."""
    out = object.__new__(SingularityMeasures)
    out.__dict__.update(values)
    return out


def _measures_compiled(kern: Any, J: ArrayLike, length: object,
                       linear: ArrayLike | None) -> SingularityMeasures | None:
    """:func:`measures` by the compiled kernel, or ``None`` when an argument is not valid
    (the numpy path then raises the error, in its order of checks)."""
    a = _checks.array(J, "J", "a real (..., m, n) Jacobian")
    if a.ndim < 2 or a.shape[-1] == 0 or a.shape[-2] == 0:
        return None
    if type(length) is float and _checks.MIN_MAGNITUDE <= length <= _checks.MAX_MAGNITUDE:
        L = length
    else:
        try:
            L = _checks.positive(length, "length", " [m]")
        except InvalidValueError:
            return None
    m, n = a.shape[-2:]
    if linear is None:
        lin = _DEFAULT_LINEAR.get(m)
        if lin is None:
            lin = _DEFAULT_LINEAR[m] = _linear_mask(None, m).astype(np.float64)
    else:
        try:
            lin = _linear_mask(linear, m).astype(np.float64)
        except (InvalidValueError, ShapeError):
            return None
    k = min(m, n)
    batch = a.shape[:-2]
    N = math.prod(batch)
    J3 = np.ascontiguousarray(a).reshape(N, m, n)
    width = 2 * k + m + n + 11
    out = np.empty(width) if not batch else _engine.allocate((N * width,), "measures output")
    nt = _engine.threads()
    if N < _THREADED or nt <= 1:
        rank = kern.measures_batch(J3, lin, L, _checks.MAX_MAGNITUDE, out, 0, N)
    else:
        step = max(_TASK, -(-N // (4 * nt)))

        def task(s: int) -> int:
            return int(kern.measures_batch(J3[s:s + step], lin, L, _checks.MAX_MAGNITUDE,
                                           out, s, N))

        # the engine's worker pool (its q-level batches are threaded the same way)
        futures = [_engine.pool(nt).submit(task, s) for s in range(0, N, step)]
        rank = min([f.result() for f in futures])
    if rank < 0:
        _check_J(a)   # raises, naming the first bad entry
        return None   # pragma: no cover - the kernel and _check_J agree
    o_u = 2 * N * k
    o_v = o_u + N * m
    F = out[o_v + N * n:]
    if not batch:   # numpy scalars, and the arrays as views of the one output buffer
        return _new_measures({
            "sigma": out[:k], "sigma_min": F[0], "manipulability": F[1], "det": F[2],
            "condition": F[3], "inverse_condition": F[4], "rank": np.intp(rank),
            "translational_manipulability": F[6], "rotational_manipulability": F[7],
            "lost_twist": out[o_u:o_u + m], "joint_motion": out[o_v:o_v + n],
            "length": L, "sigma_scaled": out[k:2 * k], "sigma_min_scaled": F[8],
            "condition_scaled": F[9], "inverse_condition_scaled": F[10]})
    values = {name: F[i * N:(i + 1) * N].reshape(batch)
              for i, name in enumerate(kern.MEASURES_SCALARS)}
    values["rank"] = values["rank"].astype(np.intp)
    return _new_measures({
        **values, "sigma": out[:N * k].reshape(batch + (k,)),
        "sigma_scaled": out[N * k:2 * N * k].reshape(batch + (k,)),
        "lost_twist": out[o_u:o_v].reshape(batch + (m,)),
        "joint_motion": out[o_v:o_v + N * n].reshape(batch + (n,)), "length": L})


def _divide(num: Array, den: Array, at_zero: float) -> Array:
    out = np.full(np.broadcast(num, den).shape, at_zero)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        np.divide(num, den, out=out, where=den > 0)
    return out


def _product_sv(A: Array) -> Array:
    """Product of singular values of ``(..., r, n)``; NaN when ``r == 0``."""
    if A.shape[-2] == 0:
        return np.full(A.shape[:-2], np.nan)
    return np.prod(np.linalg.svd(A, compute_uv=False), axis=-1)


def _assemble(J: Array, U: Array, s: Array, Vt: Array, s_scaled: Array, length: float,
              linear: NDArray[np.bool_]) -> SingularityMeasures:
    m, n = J.shape[-2:]
    k = min(m, n)
    u = U[..., :, k - 1]
    v = Vt[..., k - 1, :]
    # deterministic signs: largest |component| of v positive
    a = np.abs(v)  # first component within 1e-6 of the largest (ties: coaxial joints)
    first = np.argmax(a >= a.max(axis=-1, keepdims=True) * (1 - 1e-6), axis=-1)
    big = np.take_along_axis(v, first[..., None], axis=-1)
    sign = np.where(big < 0, -1.0, 1.0)
    s_max, s_min = s[..., 0], s[..., -1]
    ss_max, ss_min = s_scaled[..., 0], s_scaled[..., -1]
    tol = s_max * max(m, n) * _EPS
    tol_s = ss_max * max(m, n) * _EPS
    if m == n:
        det = np.linalg.det(J)
    else:
        det = np.full(J.shape[:-2], np.nan)
    if linear.all():
        trans, rot = np.prod(s, axis=-1), np.full(J.shape[:-2], np.nan)
    elif not linear.any():
        trans, rot = np.full(J.shape[:-2], np.nan), np.prod(s, axis=-1)
    elif J.ndim == 2 or math.prod(J.shape[:-2]) <= _SMALL_BATCH and linear.sum() * 2 == m:
        parts = np.linalg.svd(np.stack([J[..., linear, :], J[..., ~linear, :]]),
                              compute_uv=False)
        trans, rot = np.prod(parts[0], axis=-1), np.prod(parts[1], axis=-1)
    else:
        trans, rot = _product_sv(J[..., linear, :]), _product_sv(J[..., ~linear, :])
    inv_s = _divide(ss_min, ss_max, 0.0)
    return SingularityMeasures(
        sigma=s,
        sigma_min=s_min,
        manipulability=np.prod(s, axis=-1),
        det=det,
        condition=_divide(s_max, np.where(s_min > tol, s_min, 0.0), np.inf),
        inverse_condition=_divide(s_min, s_max, 0.0),
        rank=np.sum(s > tol[..., None], axis=-1),
        translational_manipulability=trans,
        rotational_manipulability=rot,
        lost_twist=u * sign,
        joint_motion=v * sign,
        length=length,
        sigma_scaled=s_scaled,
        sigma_min_scaled=ss_min,
        condition_scaled=_divide(ss_max, np.where(ss_min > tol_s, ss_min, 0.0), np.inf),
        inverse_condition_scaled=inv_s,
    )


def _scalar(x: float) -> Array:
    """A numpy scalar for a field of a single Jacobian's measures (shape ``()``)."""
    return np.float64(x)  # type: ignore[return-value]


def _assemble_one(J: Array, U: Array, s: Array, Vt: Array, s_scaled: Array, length: float,
                  linear: NDArray[np.bool_]) -> SingularityMeasures:
    """:func:`_assemble` for one ``(m, n)`` Jacobian, with scalar arithmetic (fast path).

    On the compiled backend the measures come from the kernel, as :func:`measures`'s
    (the SVD passed in is then not used: the monitor computes it for the rates)."""
    kern = _engine.compiled_kernels()
    if kern is not None:
        fast = _measures_compiled(kern, J, length, linear)
        if fast is not None:
            return fast
    m, n = J.shape
    k = min(m, n)
    v = Vt[k - 1]
    u = U[:, k - 1]
    a = np.abs(v)
    i = int(np.argmax(a >= a.max() * (1 - 1e-6)))  # as in _assemble: ties broken by order
    if v[i] < 0:
        u, v = -u, -v
    s_max, s_min = float(s[0]), float(s[-1])
    ss_max, ss_min = float(s_scaled[0]), float(s_scaled[-1])
    tol = s_max * max(m, n) * _EPS
    n_lin = int(linear.sum())
    if n_lin == m:
        trans, rot = float(np.prod(s)), math.nan
    elif n_lin == 0:
        trans, rot = math.nan, float(np.prod(s))
    elif 2 * n_lin == m:
        halves = (J.reshape(2, n_lin, n) if linear[:n_lin].all()  # [v; ω]: no gather
                  else np.stack([J[linear], J[~linear]]))
        parts = np.linalg.svd(halves, compute_uv=False)
        trans, rot = float(np.prod(parts[0])), float(np.prod(parts[1]))
    else:
        trans, rot = float(_product_sv(J[linear])), float(_product_sv(J[~linear]))
    f = _scalar
    return SingularityMeasures(
        sigma=s,
        sigma_min=f(s_min),
        manipulability=f(float(np.prod(s))),
        det=f(float(np.linalg.det(J))) if m == n else f(math.nan),
        condition=f(s_max / s_min if s_min > tol else math.inf),
        inverse_condition=f(s_min / s_max if s_max > 0 else 0.0),
        rank=np.intp(np.count_nonzero(s > tol)),  # type: ignore[arg-type]
        translational_manipulability=f(trans),
        rotational_manipulability=f(rot),
        lost_twist=u,
        joint_motion=v,
        length=length,
        sigma_scaled=s_scaled,
        sigma_min_scaled=f(ss_min),
        condition_scaled=f(ss_max / ss_min if ss_min > ss_max * max(m, n) * _EPS
                           else math.inf),
        inverse_condition_scaled=f(ss_min / ss_max if ss_max > 0 else 0.0),
    )


def row_scale(linear: NDArray[np.bool_], length: float) -> Array:
    """``(m,)`` row weights of the unit-consistent Jacobian: ``1/L`` on linear rows, 1 on
    angular ones."""
    return np.where(linear, 1.0 / length, 1.0)


def scaled_svd(J: Array, scale: Array) -> tuple[Array, Array, Array, Array, Array, Array]:
    """SVD of ``J`` and of ``diag(scale) J`` (one stacked LAPACK call for small batches)."""
    Js = J * scale[:, None]
    if J.ndim == 2 or math.prod(J.shape[:-2]) <= _SMALL_BATCH:
        U2, s2, Vt2 = np.linalg.svd(np.stack([J, Js]), full_matrices=False)
        return U2[0], s2[0], Vt2[0], U2[1], s2[1], Vt2[1]
    U, s, Vt = np.linalg.svd(J, full_matrices=False)
    Us, ss, Vts = np.linalg.svd(Js, full_matrices=False)
    return U, s, Vt, Us, ss, Vts


def measures(J: ArrayLike, *, length: float = 1.0,
             linear: ArrayLike | None = None) -> SingularityMeasures:
    """Singularity measures of Jacobians, batched over leading dimensions.

    Args:
        J: ``(..., m, n)`` Jacobians; for a geometric Jacobian rows ``[vx vy vz ωx ωy ωz]``
            ([m/rad], [1]) and one column per joint.
        length: Characteristic length ``L`` [m] of the ``*_scaled`` fields (linear rows are
            divided by it). Default 1 m; :func:`measures_at` and the monitor use the robot's
            reach.
        linear: ``(m,)`` bool, which rows are linear velocities. Default: rows 0-2 when
            ``m == 6``, every row otherwise (e.g. a position-only Jacobian).

    Returns:
        :class:`SingularityMeasures` with leading shape ``J.shape[:-2]``.

    On the compiled backend (the default) one kernel computes every field of every
    Jacobian (:func:`kinematics._kernels.measures_batch`: a one-sided Jacobi SVD; batches
    from 2048 Jacobians run on threads); the numpy path (LAPACK's SVD) gives the same
    values to rounding, and the same singular vectors wherever they are unique.

    Raises:
        ShapeError: ``J`` is not ``(..., m, n)``, or ``linear`` is not ``(m,)`` bool.
        InvalidValueError: ``J`` is not numeric or not finite; ``length`` not positive.

    >>> import kinematics as kin
    >>> J = kin.jacobian(kin.load_robot("ur5"), [0.0, -1.2, 1.5, -0.3, 0.0, 0.0])
    >>> m = measures(J)                  # wrist singularity: q5 = 0
    >>> bool(m.sigma_min < 1e-12), int(m.rank), bool(np.isinf(m.condition))
    (True, 5, True)
    >>> np.round(np.abs(m.lost_twist), 6) + 0.0   # the tool cannot rotate about base x
    array([0., 0., 0., 1., 0., 0.])
    """
    kern = _engine.compiled_kernels()
    if kern is not None:
        fast = _measures_compiled(kern, J, length, linear)
        if fast is not None:
            return fast
    Ja = _check_J(J)
    L = _checks.positive(length, "length", " [m]")
    mask = _linear_mask(linear, Ja.shape[-1 - 1])
    U, s, Vt, _, ss, _ = scaled_svd(Ja, row_scale(mask, L))
    if Ja.ndim == 2:
        return _assemble_one(Ja, U, s, Vt, ss, L, mask)
    return _assemble(Ja, U, s, Vt, ss, L, mask)


def measures_at(robot: Robot, q: ArrayLike, *, link: str | None = None,
                rows: ArrayLike | None = None, length: float | None = None
                ) -> SingularityMeasures:
    """:func:`measures` of the base-reference Jacobian of ``robot`` at ``q``.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        link: Link whose Jacobian is used (default: the tool frame).
        rows: Task rows of ``J`` to use (default :func:`default_rows`).
        length: Characteristic length [m] (default ``robot.reach``).

    Returns:
        :class:`SingularityMeasures`, leading shape ``q.shape[:-1]``.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: Bad ``q``, ``rows``, ``length`` or
            ``link``.
    """
    _checks.robot(robot)
    _checks.moving(robot, "singularity analysis")
    sel = task_rows(robot, rows)
    q = robot.check_q(q)
    _, J = fk_jacobian(robot, q, link)
    L = robot.reach if length is None else _checks.positive(length, "length", " [m]")
    return measures(J[..., sel, :], length=L, linear=sel < 3)


def default_thresholds(robot: Robot, *, length: float | None = None,
                       jog: float = JOG_SPEED) -> tuple[float, float]:
    """Default ``(warn, stop)`` thresholds on ``sigma_min_scaled`` for any robot.

    Reasoning: ``1 / σ_min_scaled`` is the worst-case joint speed [rad/s] per unit of tool
    speed (reaches/s or rad/s). ``stop`` is where a slow jog of ``jog`` (3 % of the reach
    per second, or 0.03 rad/s) in the worst direction needs the slowest joint's full
    velocity limit: ``stop = jog / min(velocity_limits)``. ``warn = 4 · stop``: there the
    same jog needs a quarter of the limit, and the scaling band between the two slows the
    arm down progressively. Joints without a velocity limit count as 1 rad/s.

    For the bundled arms (their ``sigma_min_scaled`` at a typical home pose is 0.14-0.19):

    ========  ===========  =======  =======
    robot     q̇_min [r/s]  warn     stop
    ========  ===========  =======  =======
    planar2r  2.0          0.06     0.015
    panda     2.175        0.0552   0.0138
    iiwa14    1.309        0.0917   0.0229
    ur5       3.1416       0.0382   0.00955
    puma560   1.5          0.08     0.02
    ========  ===========  =======  =======

    >>> import kinematics as kin
    >>> [round(x, 5) for x in default_thresholds(kin.load_robot("panda"))]
    [0.05517, 0.01379]
    """
    if not (isinstance(jog, (int, float)) and math.isfinite(jog) and jog > 0):
        raise InvalidValueError(f"jog: expected a positive speed, got {jog!r}")
    v = np.asarray(robot.velocity_limits, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    slowest = float(v.min()) if v.size else 1.0
    stop = jog / slowest
    return WARN_FACTOR * stop, stop


def metric_value(metric: str, s: Array, ss: Array) -> Array:
    """A monitor metric (:data:`METRICS`) from singular values ``s`` (mixed) and ``ss``
    (scaled), both ``(..., k)`` descending; returns ``(...)``."""
    if metric == "sigma_min_scaled":
        return ss[..., -1]
    if metric == "sigma_min":
        return s[..., -1]
    if metric in ("inverse_condition_scaled", "inverse_condition"):
        a = ss if metric == "inverse_condition_scaled" else s
        return _divide(a[..., -1], a[..., 0], 0.0)
    return np.prod(s, axis=-1)


def metric_rate(metric: str, s: Array, ss: Array, ds: Array, dss: Array) -> Array:
    """Time derivative of :func:`_metric_value` from ``dσ_i/dt``, batched."""
    if metric == "sigma_min_scaled":
        return dss[..., -1]
    if metric == "sigma_min":
        return ds[..., -1]
    if metric in ("inverse_condition_scaled", "inverse_condition"):
        a, da = (ss, dss) if metric == "inverse_condition_scaled" else (s, ds)
        num = da[..., -1] * a[..., 0] - a[..., -1] * da[..., 0]
        return _divide(num, a[..., 0] ** 2, 0.0)
    # manipulability w = ∏σ_i: dw/dt = Σ dσ_i ∏_{j≠i} σ_j
    k = s.shape[-1]
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(k)], -1)
    return np.sum(ds * others, axis=-1)


def singular_value_rates(U: Array, Vt: Array, Jd: Array) -> Array:
    """``dσ_i/dt = u_iᵀ J̇ v_i`` for every singular value, batched.

    Args:
        U: ``(..., m, k)`` left singular vectors of ``J``.
        Vt: ``(..., k, n)`` right singular vectors (transposed).
        Jd: ``(..., m, n)`` ``J̇`` (e.g. :func:`~kinematics.jacobian_dot`).

    Returns:
        ``(..., k)`` [per second]; exact where the singular values are distinct.
    """
    return np.einsum("...mi,...mn,...in->...i", U, Jd, Vt)


def manipulability(J: Array) -> float:
    """Yoshikawa's ``w = √det(J Jᵀ)`` (``√det(JᵀJ)`` for fewer columns than rows) of one
    ``(m, n)`` Jacobian (same value as ``measures(J).manipulability``, cheaper)."""
    A = J @ J.T if J.shape[0] <= J.shape[1] else J.T @ J
    return float(np.sqrt(max(np.linalg.det(A), 0.0)))


# ---------------------------------------------------------------------------------------
# monitor


class MonitorState:
    """What :meth:`SingularityMonitor.update` reports for one configuration.

    ``level``, ``scale``, ``value`` and ``command`` are decided in the control step; the
    diagnostics (``measures``, ``rate``, ``time_to_singularity``, ``certified_time``, and
    ``approaching`` outside the warn zone) are computed on first access, so a control loop
    that does not read them does not pay for them.

    Attributes:
        level: ``"ok"``, ``"warn"`` or ``"stop"`` (with hysteresis).
        scale: Factor in [0, 1] for the approaching part of the command: 1 unless the
            command approaches the singularity over the period inside the warn zone, then
            falling linearly to 0 at ``stop``.
        value: The monitored metric.
        command: ``(dof,)`` the safe joint velocity [rad/s or m/s] to send instead of
            ``qd`` (``None`` without ``qd``): ``qd`` itself unless it approaches inside the
            warn zone; then only its approaching part is scaled by ``scale`` (the part
            along the near-singular values' gradients), so the rest of the motion goes on.
        approaching: Whether the motion decreases the metric (over the period inside the
            warn zone; from the exact rate outside it).
        measures: :class:`SingularityMeasures` of the monitored Jacobian rows.
        rate: The metric's time derivative along ``qd`` [1/s] (0 without ``qd``), exact
            where the singular values involved are distinct.
        time_to_singularity: First-order estimate [s] ``σ_min / (−dσ_min/dt)`` (mixed-unit
            ``σ_min``); ``inf`` when not approaching or without ``qd``.
        certified_time: Time [s] during which no singularity is *possible* at the joint
            velocity limits (:func:`certified_radius` with ``scale = velocity_limits``;
            joints without a limit count at 1 rad/s or m/s): a proven lower bound, unlike
            ``time_to_singularity``. A few ms.
    """

    __slots__ = ("level", "scale", "value", "command", "_lazy", "_cache")

    def __init__(self, level: Level, scale: float, value: float, command: Array | None,
                 lazy: Any) -> None:
        self.level = level
        self.scale = scale
        self.value = value
        self.command = command
        self._lazy = lazy
        self._cache: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        if name not in self._cache:
            self._cache.update(self._lazy(name))
        return self._cache[name]

    @property
    def measures(self) -> SingularityMeasures:
        return self._get("measures")  # type: ignore[no-any-return]

    @property
    def rate(self) -> float:
        return self._get("rate")  # type: ignore[no-any-return]

    @property
    def time_to_singularity(self) -> float:
        return self._get("time_to_singularity")  # type: ignore[no-any-return]

    @property
    def approaching(self) -> bool:
        return self._get("approaching")  # type: ignore[no-any-return]

    @property
    def certified_time(self) -> float:
        return self._get("certified_time")  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (f"MonitorState(level={self.level!r}, scale={self.scale:.3g}, "
                f"value={self.value:.4g})")


class Monitor(Protocol):
    """What :class:`~kinematics.ik.ResolvedRateController` needs of a monitor.

    ``update(q, qd, *, J=None, dt=None)`` is called once per control period with the
    configuration, the command about to be sent and the period; it returns a state whose
    ``scale`` in [0, 1] multiplies the command. When the monitor's ``robot`` and ``link``
    attributes are the controller's, the controller passes its base Jacobian at ``q`` as
    ``J`` (one kinematics evaluation per period).
    """

    def update(self, q: Array, qd: Array | None = None, *, J: Array | None = None,
               dt: float | None = None) -> Any: ...


_SEVERITY = {"ok": 0, "warn": 1, "stop": 2}
#: Change of the metric (absolute plus relative) below which a motion counts as neither
#: approaching nor leaving (motion along a singular set; rounding).
_FLAT = 1e-12
#: Outward rate the safe command keeps along each near-singular value's gradient while it
#: removes an approach, as a fraction of ``‖g‖ ‖q̇‖``.
_PUSH = 0.05
HALT_SCALE = 0.01  # an approach scaled to ≤ 1 % of the command is halted: level "stop"


class SingularityMonitor:
    """Watch one configuration per control cycle; warn, scale and predict.

    ``update(q, qd)`` evaluates ``J`` (one :func:`~kinematics.fk_jacobian` pass), its SVD
    and the exact ``dσ/dt = uᵀ J̇ v`` along ``qd``. In the loop only the metric is computed
    (a one-sided Jacobi SVD, compiled; inside the warn zone one more evaluation at
    ``q + qd·dt``): 10–20 µs on the Panda standalone, ~5 µs inside the controller's
    compiled step; the diagnostics are computed when read.
    Resolved-rate use: ``qd = controller_velocity * monitor.update(q, qd).scale``.

    Args:
        robot: The model.
        warn: Threshold on the metric below which the level is ``"warn"`` and the velocity
            scaling starts. Default :func:`default_thresholds` (``sigma_min_scaled`` only).
        stop: Threshold below which the level is ``"stop"`` and approaching motion is
            scaled to 0. ``0 <= stop < warn``. The level is also ``"stop"`` while an
            approach is halted (``scale <= HALT_SCALE``, 1 %): in closed loop the scaling
            holds the metric just above ``stop``, and that state is a stop.
        metric: One of :data:`METRICS`; the higher, the farther from singular.
            ``"sigma_min_scaled"`` (default, dimensionless), ``"sigma_min"`` (mixed),
            ``"inverse_condition_scaled"``, ``"inverse_condition"``, ``"manipulability"``.
        hysteresis: Relative release band: a level is left only when the metric exceeds
            its threshold times ``1 + hysteresis`` (default 0.2).
        link: Link whose Jacobian is monitored (default: the tool frame).
        rows: Task rows of ``J`` (default :func:`default_rows`).
        length: Characteristic length [m] of the scaled metrics (default ``robot.reach``).

    Raises:
        InvalidValueError: Unknown metric, thresholds missing (a non-default metric) or not
            ``0 <= stop < warn``, negative hysteresis, bad rows or length.
        UnknownLinkError: ``link`` is not in the model.

    Without ``qd`` the monitor cannot tell the direction of motion from the Jacobian, so it
    uses the trend of the metric since the previous call (the first call counts as
    approaching); ``time_to_singularity`` is then ``inf``.

    >>> import kinematics as kin
    >>> ur5 = kin.load_robot("ur5")
    >>> mon = SingularityMonitor(ur5)
    >>> q = np.array([0.0, -1.2, 1.5, -0.3, 0.02, 0.0])        # q5 = 0.02 rad from the wrist
    >>> s = mon.update(q, qd=[0, 0, 0, 0, -0.1, 0])            # q5 -> 0 at 0.1 rad/s
    >>> s.level, round(s.scale, 2), round(s.time_to_singularity, 3)   # true time: 0.2 s
    ('warn', 0.12, 0.201)
    >>> s = mon.update(q, qd=[0, 0, 0, 0, +0.1, 0])            # moving away: full speed
    >>> s.level, s.scale, s.time_to_singularity
    ('warn', 1.0, inf)
    """

    def __init__(self, robot: Robot, warn: float | None = None, stop: float | None = None,
                 metric: str = "sigma_min_scaled", *, hysteresis: float = 0.2,
                 link: str | None = None, rows: ArrayLike | None = None,
                 length: float | None = None):
        _checks.robot(robot)
        _checks.moving(robot, "SingularityMonitor")
        metric = _checks.choice(metric, "metric", METRICS)
        if (warn is None or stop is None) and metric != "sigma_min_scaled":
            raise InvalidValueError(f"metric={metric!r} has no default thresholds; pass both "
                                    "warn= and stop= (only 'sigma_min_scaled' has defaults)")
        dwarn, dstop = default_thresholds(robot)
        w = dwarn if warn is None else _checks.number(warn, "warn")
        s = dstop if stop is None else _checks.number(stop, "stop")
        if not 0 <= s < w:
            raise InvalidValueError(f"thresholds warn={w}, stop={s}; expected finite "
                                    "0 <= stop < warn (the metric grows away from singular)")
        h = _checks.nonnegative(hysteresis, "hysteresis")
        self.robot = robot
        self.metric = metric
        self.warn, self.stop, self.hysteresis = w, s, h
        self.link = link
        chain = robot.chain(link)  # raises UnknownLinkError
        self._fast_dot = chain.simple
        self.rows = tuple(int(r) for r in task_rows(robot, rows))
        self._sel = np.array(self.rows, dtype=np.intp)
        self._all_rows = self.rows == (0, 1, 2, 3, 4, 5)
        self._linear = self._sel < 3
        self.length = robot.reach if length is None else _checks.positive(length, "length", " [m]")
        self._scale_rows = row_scale(self._linear, self.length)
        self._ones = np.ones(len(self._sel))
        self._dof = robot.dof
        weights = np.zeros(7)
        weights[0] = METRICS.index(metric)
        weights[1 + self._sel] = self._scale_rows if metric.endswith("_scaled") else 1.0
        weights.setflags(write=False)
        self._mon = weights
        self.reset()

    def reset(self) -> None:
        """Forget the level and trend (e.g. after the robot was moved by other means)."""
        self.level: Level = "ok"
        self._last_value: float | None = None

    def __repr__(self) -> str:
        return (f"SingularityMonitor({self.robot.name!r}, warn={self.warn:.4g}, "
                f"stop={self.stop:.4g}, metric={self.metric!r})")

    def _check_qd(self, qd: ArrayLike) -> Array:
        if type(qd) is np.ndarray and qd.dtype == np.float64 and qd.shape == (self._dof,) \
                and np.isfinite(qd).all() and (np.abs(qd) <= _checks.MAX_MAGNITUDE).all():
            return qd  # the control loop's case
        a = _checks.vector(qd, "qd", self._dof, "joint velocities [rad/s or m/s]")
        if a.shape != (self._dof,):
            raise ShapeError("qd", f"({self._dof},) joint velocities of one configuration",
                             a.shape)
        _checks.bounded(a, "qd")
        return a

    def update(self, q: ArrayLike, qd: ArrayLike | None = None, *,
               J: Array | None = None, dt: float | None = None) -> MonitorState:
        """Assess one configuration and the commanded joint velocity.

        Whether the command *approaches* the singularity is decided over the coming
        control period: inside the warn zone the metric is evaluated at ``q + qd·dt`` and
        compared with its value at ``q`` (a change below ``1e-12 (1 + value)`` counts as flat,
        not approaching). That is well defined everywhere, including exactly at a singularity
        where the singular vectors are arbitrary: there the metric can only grow, so a
        command that leaves is never scaled, and the same numbers come out of either
        backend. Without ``dt`` the period is a vanishing step (the one-sided directional
        derivative). Outside the warn zone the exact rate ``uᵀ J̇ v`` decides (no extra
        evaluation).

        Args:
            q: ``(dof,)`` joint values [rad or m].
            qd: ``(dof,)`` commanded joint velocities [rad/s or m/s], or ``None``.
            J: ``(6, dof)`` base-reference Jacobian of the monitored link at ``q``, when the
                caller has already computed it (the resolved-rate controller does): saves
                one evaluation. Trusted to belong to ``q``; only its shape is checked.
            dt: The control period [s] over which ``qd`` will be applied (``> 0``).

        Returns:
            :class:`MonitorState`.

        Raises:
            ShapeError: ``q``, ``qd`` or ``J`` of the wrong shape (the monitor is stateful:
                one configuration per call).
            InvalidValueError: Non-finite ``q``, ``qd`` or ``J``; a bad ``dt``.
        """
        qa = self.robot.check_q(q)
        if qa.ndim != 1:
            raise ShapeError("q", f"({self._dof},): update() takes one configuration",
                             qa.shape)
        h = None if dt is None else _checks.positive(dt, "dt", " [s]")
        if J is None:
            J = fk_jacobian(self.robot, qa, self.link)[1]
        elif not (type(J) is np.ndarray and J.dtype == np.float64
                  and J.shape == (6, self._dof) and np.isfinite(J).all()):
            J = _checks.array(J, "J", f"a (6, {self._dof}) Jacobian at q")
            if J.shape != (6, self._dof):
                raise ShapeError("J", f"(6, {self._dof}) Jacobian at q", J.shape)
            _checks.finite(J, "J")
        qda = None if qd is None else self._check_qd(qd)
        return self._assess(qa, qda, J, self._value(J), h)

    def _kernel_parameters(self) -> Array | None:
        """The metric's parameters for the compiled kernels (:func:`kinematics._kernels
        ._metric`: code, then the weight of each of the 6 rows, 0 when not monitored), or
        ``None`` for a subclass with its own :meth:`update` (the controller must call it)."""
        if type(self).update is not SingularityMonitor.update:
            return None
        return self._mon

    def _assess(self, qa: Array, qda: Array | None, J: Array, value: float,
                h: float | None) -> MonitorState:
        """:meth:`update` once the arguments are checked and the metric ``value`` at ``qa``
        is known (the compiled control step computes it with the step)."""
        Jm = J if self._all_rows else J[self._sel]
        known: dict[str, Any] = {}
        if qda is None:
            approaching = self._last_value is None or value < self._last_value
            known.update(approaching=approaching, rate=0.0, time_to_singularity=math.inf)
        elif value < self.warn:
            approaching = bool(approaches(self, qa, qda, np.float64(value), dt=h))
            known["approaching"] = approaching
        else:
            approaching = False  # outside the warn zone the scale is 1 either way
        self._last_value = value
        level, scale = self.step(value, approaching)
        command = None
        if qda is not None:
            command = qda if scale >= 1.0 else self._safe_command(qa, qda, J, Jm, value,
                                                                  scale, h)
        # the diagnostics are computed later: from copies, in case the caller then updates
        # q or q̇ in place (``q += qd * dt``)
        return MonitorState(level, scale, value, command, functools.partial(
            self._diagnose, qa.copy(), None if qda is None else qda.copy(), J, Jm, known))

    def _value(self, J: Array) -> float:
        """The metric of the base Jacobian ``J`` ``(6, dof)`` from singular values only
        (compiled: a one-sided Jacobi SVD of the weighted rows; numpy: LAPACK's)."""
        kern = _engine.compiled_kernels()
        if kern is not None:
            return float(kern.metric(np.ascontiguousarray(J, dtype=np.float64), self._mon))
        Jm = J if self._all_rows else J[self._sel]
        scale = self._scale_rows if self.metric.endswith("_scaled") else self._ones
        sv = np.linalg.svd(Jm * scale[:, None], compute_uv=False)
        return float(metric_value(self.metric, sv, sv))

    def _diagnose(self, q: Array, qd: Array | None, J: Array, Jm: Array,
                  known: dict[str, Any], name: str) -> dict[str, Any]:
        """The state's lazy fields (everything, on the first access of any)."""
        if name == "certified_time":
            return {"certified_time": self._certified_time(q)}
        U, s, Vt, Us, ss, Vts = scaled_svd(Jm, self._scale_rows)
        out: dict[str, Any] = {"measures": _assemble_one(Jm, U, s, Vt, ss, self.length,
                                                         self._linear)}
        if qd is None:
            return {**out, **known}
        Jd = jacobian_dot_from(J, qd) if self._fast_dot else jacobian_dot(
            self.robot, q, qd, self.link)
        Jd = Jd if self._all_rows else Jd[self._sel]
        # dσ_i/dt = u_iᵀ J̇ v_i for the mixed and the scaled Jacobian
        ds = np.einsum("mi,mn,in->i", U, Jd, Vt)
        dss = np.einsum("mi,mn,in->i", Us, Jd * self._scale_rows[:, None], Vts)
        rate = float(metric_rate(self.metric, s, ss, ds, dss))
        approaching = known.get("approaching", rate < 0.0)
        ds_min = float(ds[-1])
        tts = float(s[-1]) / -ds_min if approaching and ds_min < 0.0 else math.inf
        return {**out, "rate": rate, "approaching": bool(approaching),
                "time_to_singularity": tts}

    def _certified_time(self, q: Array) -> float:
        v = np.asarray(self.robot.velocity_limits, dtype=float)
        v = np.where(np.isfinite(v) & (v > 0), v, 1.0)
        return float(certified_radius(self.robot, q, link=self.link, rows=self._sel, scale=v))

    def _safe_command(self, q: Array, qd: Array, J: Array, Jm: Array, value: float,
                      scale: float, dt: float | None) -> Array:
        """The command nearest to ``qd`` whose approaching part is scaled by ``scale``.

        Every singular value ``σ_i`` of the monitored (scaled) Jacobian inside the warn zone
        gives a constraint on the rate ``g_iᵀ x`` (``g_i = ∂σ_i/∂q``, from the exact
        ``∂J/∂q``): ``g_iᵀ x ≥ scale · min(g_iᵀ qd, 0)``. ``x`` is the Euclidean projection of
        ``qd`` on those half-spaces (active set, at most ``k`` constraints). Inside the stop
        zone (``scale = 0``) the constraints ask for a small outward rate, and ``x`` is
        shortened (halved up to 8 times) until the metric over the period does not
        decrease; ``0`` when no length works. Motion that leaves stays untouched; the rest
        of the command goes on. Compiled (:func:`kinematics._kernels.safe_command`, the
        same rule) unless the monitored rows outnumber the joints."""
        kern = _engine.compiled_kernels()
        if kern is not None and qd.dtype == np.float64:
            x = np.empty(self._dof)
            if kern.safe_command(q, qd, np.ascontiguousarray(J, dtype=np.float64),
                                 *_engine.pack(self.robot.chain(self.link)), self._mon,
                                 float(self.warn), float(scale), float(value),
                                 -1.0 if dt is None else float(dt), _PUSH, _FLAT, x):
                return x
        U, s, Vt, Us, ss, Vts = scaled_svd(Jm, self._scale_rows)
        active_rows = np.flatnonzero(ss < self.warn) if self.metric.endswith("_scaled") \
            else np.flatnonzero(s < self.warn)
        if active_rows.size == 0:
            return qd * scale
        H = jacobian_hessian(self.robot, q, J, self.link)[:, self._sel, :]  # (dof, m, dof)
        scaled = self.metric.endswith("_scaled")
        Uu, Vv = (Us, Vts) if scaled else (U, Vt)
        Hs = H * self._scale_rows[:, None] if scaled else H
        G = np.einsum("mk,imn,kn->ki", Uu[:, active_rows], Hs, Vv[active_rows])  # (a, dof)
        # approaching rates scaled by ``scale``; inside the stop zone (scale 0) a little
        # outward rate (5 % of the command along each gradient) so that the metric grows
        # over the period despite the curvature the first-order rates ignore
        push = (1.0 - scale) * _PUSH * np.linalg.norm(G, axis=1) * float(np.linalg.norm(qd))
        b = np.where(G @ qd < 0.0, scale * (G @ qd) + push, -np.inf)
        x = qd.copy()
        act = np.zeros(len(b), dtype=bool)
        for _ in range(len(b)):
            viol = (G @ x < b - 1e-15) & ~act
            if not viol.any():
                break
            act |= viol
            Ga = G[act]
            lam = np.linalg.lstsq(Ga @ Ga.T, Ga @ qd - b[act], rcond=None)[0]
            x = qd - Ga.T @ lam
        if scale > 0.0:
            return x          # in the band: approach allowed at the scaled rate
        step = 1.0
        for _ in range(9):
            if not approaches(self, q, x * step, np.float64(value), dt=dt):
                return x * step
            step *= 0.5
        return qd * 0.0

    def step(self, value: float, approaching: bool) -> tuple[Level, float]:
        """Advance the level (hysteresis) with a metric value; return ``(level, scale)``.

        The decision part of :meth:`update`, for callers that computed the metric and its
        rate themselves (e.g. :func:`kinematics.analysis.analyze_trajectory`, batched).
        """
        level = self._next_level(value)
        if approaching and value < self.warn:
            scale = min(max((value - self.stop) / (self.warn - self.stop), 0.0), 1.0)
        else:
            scale = 1.0
        if approaching and scale <= HALT_SCALE:
            # The scaling holds the metric just above ``stop`` in closed loop (it reaches 0
            # *at* the threshold), so a halted approach is reported as "stop" too, like
            # MoveIt Servo's HALT; leaving it needs the hysteresis band above ``stop``.
            level = "stop"
        self.level = level
        return self.level, float(scale)

    def _severity(self, value: float, release: float) -> int:
        if value < self.stop * release:
            return 2
        if value < self.warn * release:
            return 1
        return 0

    def _next_level(self, value: float) -> Level:
        prev = _SEVERITY[self.level]
        raw = self._severity(value, 1.0)
        if raw >= prev:
            new = raw
        else:
            new = min(prev, self._severity(value, 1.0 + self.hysteresis))
        return LEVELS[new]  # type: ignore[return-value]


def approaches(monitor: SingularityMonitor, q: Array, qd: Array, value: Array, *,
               dt: float | None = None) -> NDArray[np.bool_]:
    """Whether applying ``qd`` for ``dt`` lowers the monitor's metric, batched.

    The metric is evaluated at ``q + qd·dt`` and compared with ``value`` (its value at
    ``q``); a change below ``1e-12 (1 + value)`` is flat (motion along a singular set,
    rounding), not approaching. ``dt=None`` takes a vanishing step (1e-7 rad on the
    fastest joint), i.e. the sign of the one-sided directional derivative, which exists
    even where the singular values are not differentiable.

    Args:
        monitor: Its robot, link, rows, metric and length are used.
        q: ``(..., dof)`` configurations; ``qd`` ``(..., dof)`` velocities [rad/s or m/s].
        value: ``(...)`` the metric at ``q``.
        dt: The period [s] the command is applied for.

    Returns:
        ``(...)`` bool.
    """
    chain = monitor.robot.chain(monitor.link)
    kern = _engine.compiled_kernels()
    if kern is not None and q.ndim == 1:   # the control loop's case: one configuration
        return np.bool_(kern.approaches(q, qd, -1.0 if dt is None else dt,
                                        *_engine.pack(chain), monitor._mon, float(value),
                                        _FLAT))
    speed = np.max(np.abs(qd), axis=-1)
    h = np.divide(1e-7, speed, out=np.zeros_like(speed), where=speed > 0) if dt is None \
        else np.full_like(speed, dt)
    q1 = q + qd * h[..., None]
    J1 = _engine.to_dof(monitor.robot, chain, _engine.pose_jacobian(
        chain, _engine.chain_theta(chain, q1))[1])
    J1 = J1[..., monitor._sel, :]
    if monitor.metric.endswith("_scaled"):
        J1 = J1 * monitor._scale_rows[:, None]
    s1 = np.linalg.svd(J1, compute_uv=False)
    after = metric_value(monitor.metric, s1, s1)
    return (after < value - _FLAT * (1.0 + value)) & (speed > 0)

"""Singularity measures of a Jacobian: what its singular values say, batched.

:func:`measures` (compiled: :func:`kinematics._kernels.measures_batch`) and the numpy
helpers the monitor and the analyses share (:func:`scaled_svd`, :func:`metric_value`,
:func:`metric_rate`, :func:`singular_value_rates`). Units and the scaled fields: see
:mod:`kinematics.singularity`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from .._rows import task_rows
from ..exceptions import InvalidValueError, ShapeError
from ..jacobian import fk_jacobian
from ..robot import Robot

__all__ = ["SingularityMeasures", "measures", "measures_at", "default_thresholds",
           "singular_value_rates", "scaled_svd", "row_scale", "metric_value", "metric_rate",
           "manipulability", "measures_from_svd", "METRICS", "JOG_SPEED", "WARN_FACTOR"]

Array = NDArray[np.float64]
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


def measures_from_svd(J: Array, U: Array, s: Array, Vt: Array, s_scaled: Array, length: float,
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
        return measures_from_svd(Ja, U, s, Vt, ss, L, mask)
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

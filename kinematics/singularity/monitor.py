"""The singularity monitor: one configuration per control period, its level, its velocity
scale, and its safe command (the best task motion its constraint allows).

See :class:`SingularityMonitor` and :mod:`kinematics.singularity`.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from .._certify import certified_radius
from .._rows import task_rows
from ..exceptions import InvalidValueError, ShapeError
from ..jacobian import fk_jacobian, jacobian_dot, jacobian_dot_from
from ..robot import Robot
from .values import (
    METRICS,
    SingularityMeasures,
    default_thresholds,
    measures_from_svd,
    metric_rate,
    metric_value,
    row_scale,
    scaled_svd,
)

__all__ = ["MonitorState", "Monitor", "ConstrainingMonitor", "Task", "SingularityMonitor",
           "approaches", "LEVELS", "HALT_SCALE"]

Array = NDArray[np.float64]
Level = Literal["ok", "warn", "stop"]
LEVELS: tuple[str, ...] = ("ok", "warn", "stop")


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
        command: ``(dof,)`` the safe joint velocity [rad/s or m/s] nearest to ``qd``
            (``None`` without ``qd``): ``qd`` itself unless it approaches inside the warn
            zone (see :meth:`SingularityMonitor.command`; computed on first access).
        constrained: ``scale < 1``: the monitor constrains the command.
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

    __slots__ = ("level", "scale", "value", "_context", "_lazy", "_cache")

    def __init__(self, level: Level, scale: float, value: float, context: Any,
                 lazy: Any) -> None:
        self.level = level
        self.scale = scale
        self.value = value
        # (monitor, q, qd, J, dt) for :meth:`SingularityMonitor.command`; None without qd
        self._context = context
        self._lazy = lazy
        self._cache: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        if name not in self._cache:
            self._cache.update(self._lazy(name))
        return self._cache[name]

    @property
    def constrained(self) -> bool:
        """Whether the monitor constrains the command (it approaches inside the warn
        zone: ``scale < 1``)."""
        return self.scale < 1.0

    @property
    def command(self) -> Array | None:
        """``(dof,)`` the safe joint velocity [rad/s or m/s] nearest to ``qd`` (joint
        space) under the monitor's constraint (:meth:`SingularityMonitor.command` without a
        task); ``qd`` itself when not constrained; ``None`` without ``qd``. A controller
        passes its task instead, and gets the best task motion the constraint allows."""
        if self._context is None:
            return None
        if "command" not in self._cache:
            self._cache["command"] = self._context[0].command(self)
        return self._cache["command"]  # type: ignore[no-any-return]

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
    ``scale`` in [0, 1] says whether (``< 1``) and how much the monitor restrains the
    command. A monitor with only ``update`` gets ``qd · scale`` (MoveIt Servo's rule). A
    :class:`ConstrainingMonitor` also has ``command(state, task)``: the controller then
    sends the best motion for its task under the monitor's constraint. When the monitor's
    ``robot`` and ``link`` attributes are the controller's, the controller passes its base
    Jacobian at ``q`` as ``J`` (one kinematics evaluation per period).
    """

    def update(self, q: Array, qd: Array | None = None, *, J: Array | None = None,
               dt: float | None = None) -> Any: ...


class ConstrainingMonitor(Monitor, Protocol):
    """A :class:`Monitor` that constrains rather than scales: ``command(state, task)``
    returns the best motion for ``task`` that the constraint allows
    (:meth:`SingularityMonitor.command`)."""

    def command(self, state: Any, task: Task | None = None) -> Array: ...


class Task(NamedTuple):
    """A resolved-rate controller's task for one period, as the safe command optimises it:
    ``min ‖A x − y‖² + xᵀ (D + μ I) x`` over joint velocities ``x`` with
    ``lower ≤ x ≤ upper`` (``μ``: :meth:`SingularityMonitor.command`).

    Attributes:
        A: ``(m, dof)`` the weighted task rows (``√W J`` in the task frame).
        y: ``(m,)`` the weighted task velocity (``√W (K e + ẋ_ff)``, already scaled for the
            velocity limits).
        damping: ``(4,)`` ``[mode, ε², λ²_max, λ²]``: the controller's damping rule ``D``
            (mode 0 constant ``λ²``, 1 adaptive, 2 selective).
        lower, upper: ``(dof,)`` velocity bounds [rad/s or m/s] for the period (position
            and velocity limits; ``±inf`` for none; ``lower ≤ 0 ≤ upper``).
    """

    A: Array
    y: Array
    damping: Array
    lower: Array
    upper: Array

    def checked(self, dof: int) -> tuple[Array, Array, Array, Array, Array]:
        """The fields as contiguous float64 arrays of the right shapes, or ShapeError."""
        A = np.ascontiguousarray(self.A, dtype=np.float64)
        m = A.shape[0] if A.ndim == 2 else -1
        parts = (A, np.ascontiguousarray(self.y, dtype=np.float64),
                 np.ascontiguousarray(self.damping, dtype=np.float64),
                 np.ascontiguousarray(self.lower, dtype=np.float64),
                 np.ascontiguousarray(self.upper, dtype=np.float64))
        shapes = ((m, dof), (m,), (4,), (dof,), (dof,))
        for name, a, shape in zip(self._fields, parts, shapes, strict=True):
            if a.shape != shape or m < 1:
                raise ShapeError(f"task.{name}", f"{shape} (m task rows, {dof} joints)",
                                 a.shape)
        if not (np.isfinite(A).all() and np.isfinite(parts[1]).all()
                and (parts[3] <= 0.0).all() and (parts[4] >= 0.0).all()):
            raise InvalidValueError("task: expected finite A and y and lower <= 0 <= upper")
        return parts

_SEVERITY = {"ok": 0, "warn": 1, "stop": 2}
#: Change of the metric (absolute plus relative) below which a motion counts as neither
#: approaching nor leaving (motion along a singular set; rounding).
_FLAT = 1e-12
#: Outward rate a halted command keeps along each near-singular value's gradient, as a
#: fraction of ``‖g‖ ‖q̇‖`` (the first-order constraint alone lets curvature lower it).
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
        return self.assess(qa, qda, J, self._value(J), h)

    @property
    def metric_parameters(self) -> Array | None:
        """``(7,)`` read-only: the metric's parameters for the compiled kernels (code, then
        the weight of each of the 6 rows, 0 when not monitored), so a compiled control step
        can compute the metric with its own SVD and call :meth:`assess`; ``None`` for a
        subclass with its own :meth:`update` (a controller must then call ``update``)."""
        if type(self).update is not SingularityMonitor.update:
            return None
        return self._mon

    def assess(self, q: Array, qd: Array | None, J: Array, value: float,
               dt: float | None) -> MonitorState:
        """:meth:`update` for a caller that has checked its arguments and computed the
        metric ``value`` at ``q`` with :attr:`metric_parameters` (the resolved-rate
        controller's compiled step): ``q`` ``(dof,)``, ``qd`` ``(dof,)`` or ``None``,
        ``J`` ``(6, dof)`` at ``q``, finite float64 arrays; ``dt > 0`` or ``None``. Nothing
        is checked."""
        qa, qda, h = q, qd, dt
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
        # copies: the caller may then update q or q̇ in place (``q += qd * dt``)
        q_c, qd_c = qa.copy(), None if qda is None else qda.copy()
        context = None if qd_c is None else (self, q_c, qd_c, J, h)
        return MonitorState(level, scale, value, context, functools.partial(
            self._diagnose, q_c, qd_c, J, Jm, known))

    def _value(self, J: Array) -> float:
        """The metric of the base Jacobian ``J`` ``(6, dof)`` from singular values only
        (compiled: a one-sided Jacobi SVD of the weighted rows; numpy: LAPACK's)."""
        kern = _engine.compiled_kernels()
        if kern is not None:
            return float(kern.metric(np.ascontiguousarray(J, dtype=np.float64), self._mon))
        Jm = J if self._all_rows else J[self._sel]
        scale = self._scale_rows if self.metric.endswith("_scaled") else self._ones
        sv = np.linalg.svd(Jm * scale[:, None], compute_uv=False).astype(np.float64)
        return float(metric_value(self.metric, sv, sv))

    def _diagnose(self, q: Array, qd: Array | None, J: Array, Jm: Array,
                  known: dict[str, Any], name: str) -> dict[str, Any]:
        """The state's lazy fields (everything, on the first access of any)."""
        if name == "certified_time":
            return {"certified_time": self._certified_time(q)}
        U, s, Vt, Us, ss, Vts = scaled_svd(Jm, self._scale_rows)
        out: dict[str, Any] = {"measures": measures_from_svd(Jm, U, s, Vt, ss, self.length,
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

    def command(self, state: MonitorState, task: Task | None = None) -> Array:
        """The safe command for the period ``state`` describes: the best motion for
        ``task`` that the singularity constraint allows.

        Every monitored singular value ``σ_a`` below ``warn`` (of the scaled rows for a
        ``*_scaled`` metric) gives one linear constraint on the command ``x``:
        ``g_aᵀ x ≥ scale · min(g_aᵀ q̇, 0)``, with ``g_a = ∂σ_a/∂q`` exact (from ``∂J/∂q``)
        and ``q̇`` the command the state was computed for: no near-singular value may
        decrease faster than ``scale`` times the nominal command decreases it, and none
        that the nominal keeps may decrease. ``x`` minimises the task's damped weighted
        least squares ``‖A x − y‖² + xᵀ (D + μ I) x`` with ``μ = max(10⁻⁸ σ²_max(A),
        λ²_max)`` (a constrained command pays for joint speed as much as the damping at a
        singularity: a redundant arm does not buy a sliver of task with fast self-motion)
        under those constraints and ``task.lower ≤ x ≤ task.upper``: an exact active-set
        solve, compiled (:func:`kinematics._kernels.safe_command`). Since ``x = 0`` is
        feasible the task's weighted error never grows to first order
        (``yᵀ A x ≥ ½ xᵀ (AᵀA + D + μ I) x ≥ 0``). Halted (``scale = 0``) each active row
        asks for a small outward rate (5 % of ``‖g‖ ‖q̇‖``) together with task progress
        ``(Aᵀ y)ᵀ x ≥ 0`` (when such a command exists), then ``x`` is halved (up to 8
        times) until the metric does not decrease over the period, else 0; in the band it
        is halved the same way while the metric would fall below ``stop`` over the period
        (curvature). Without a task (``A = I``, ``y = q̇``, no damping) ``x`` is the
        nearest command to ``q̇`` that meets the rows.

        Args:
            state: What :meth:`update` returned for ``(q, q̇)`` (with ``q̇``).
            task: The controller's task (:class:`Task`); ``None``: the nearest command to
                ``q̇`` in joint space (``A = I``, ``y = q̇``), no bounds.

        Returns:
            ``(dof,)`` joint velocities [rad/s or m/s]: ``q̇`` itself when the state does
            not constrain (``scale == 1``).

        Raises:
            InvalidValueError: A state without ``q̇`` or from another monitor.
            ShapeError: A task of the wrong shape.
        """
        context = state._context
        if context is None or context[0] is not self:
            raise InvalidValueError("state: expected a MonitorState from this monitor's "
                                    "update(q, qd) with qd")
        _, q, qd, J, dt = context
        if state.scale >= 1.0:
            return qd
        dof = self._dof
        if task is None:
            A, y, damping = np.eye(dof), qd, np.zeros(4)
            lower, upper = np.full(dof, -np.inf), np.full(dof, np.inf)
        else:
            A, y, damping, lower, upper = task.checked(dof)
        x = np.empty(dof)
        _engine.kernels().safe_command(
            q, qd, J, *_engine.pack(self.robot.chain(self.link)), self._mon,
            float(self.warn), float(self.stop), float(state.scale), float(state.value),
            -1.0 if dt is None else float(dt), _FLAT, _PUSH, A, y, damping, lower, upper, x)
        return x

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


def approaches(monitor: SingularityMonitor, q: Array, qd: Array, value: Array | float, *,
               dt: float | None = None) -> NDArray[np.bool_] | np.bool_:
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

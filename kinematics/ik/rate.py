"""Resolved-rate motion control: joint velocities that drive a link toward a target pose.

One call of :meth:`ResolvedRateController.velocity`, for ``q`` ``(dof,)``:

1. Task twist ``x = K e + ẋ_ff`` with ``e = [p_t − p; log(R_t Rᵀ)]`` (base axes, per-axis
   gain ``K`` [1/s]) and an optional feed-forward twist ``ẋ_ff``.
2. Task weighting: rows of ``[J; x]`` expressed in ``task_frame`` (base or tool axes), rows
   with weight 0 dropped, the others scaled by ``√w``.
3. Damped least squares ``q̇ = Jᵀ (J Jᵀ + Λ)⁻¹ x = Σ v_i σ_i/(σ_i² + λ_i²) u_iᵀ x`` from
   the SVD ``J = U diag(σ) Vᵀ`` (numpy path: the eigen-decomposition of ``J Jᵀ``, or
   ``JᵀJ`` when there are fewer joints than task rows; compiled path: a one-sided Jacobi
   SVD of ``J``), with the
   adaptive damping rule of Nakamura & Hanafusa (1986) / Chiaverini (1997):
   ``λ² = (1 − (σ_min/ε)²) λ_max²`` when ``σ_min < ε``, else ``0``. ``"adaptive"`` applies it
   to every direction, ``"selective"`` applies it per singular direction with its own
   ``σ_i`` (only the near-singular directions are damped). Away from singularities
   (``σ_min ≥ ε``) the task is tracked exactly, ``J q̇ = x``; near them the gain
   ``σ/(σ² + λ²)`` is bounded by ``max(1/ε, 1/(2 λ_max))``.
4. Null space: ``q̇ += (I − J⁺J) q̇₀`` with ``q̇₀ = −k ∇h`` (centering, manipulability or a
   user gradient) minus a joint-limit spring active within ``limit_margin`` of a limit.
   ``I − J⁺J`` is the exact projector of the task Jacobian: ``J q̇₀`` adds nothing to the
   task.
5. Velocity limits: ``q̇`` scaled uniformly (direction kept) so that
   ``|q̇_i| ≤ velocity_scale · v_max,i``.
6. Position limits: a joint whose velocity would carry it past a limit within ``dt`` is
   saturated at the velocity that lands on the limit and the task is re-solved with the
   other joints (saturation in the null space, Flacco et al. 2012); finally ``q̇`` is clipped
   so that ``q + q̇ dt`` stays inside the limits, and re-scaled for velocity limits.
7. An optional singularity monitor (``monitor.update(q, q̇) -> state`` with a ``scale`` in
   [0, 1]): when it constrains (``scale < 1``), a monitor with ``command(state, task)``
   (:class:`~kinematics.singularity.SingularityMonitor`) returns the best motion for this
   task (weighted rows, damping, velocity and position bounds) under its constraint; a
   monitor with only ``update`` gets ``q̇ · scale``.
8. :attr:`ResolvedRateController.status` reports the step (:class:`~kinematics.ik.status
   .ControlStatus`: pose error, level, limited, stalled, events).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from ..exceptions import InvalidValueError, ShapeError
from ..robot import Robot
from ..singularity import Task
from ..spatial import pose_error_one
from .objectives import centering_gradient, limit_penetration, manipulability_gradient
from .status import ControlStatus, StatusRecorder

__all__ = ["ResolvedRateController"]

Array = NDArray[np.float64]
Gradient = Callable[[Array], ArrayLike]
NULLSPACE = ("centering", "manipulability")
DAMPING = ("adaptive", "selective")
TASK_FRAMES = ("base", "tool")
_RANK_TOL = 1e-12   # σ² below this × σ²_max: direction outside the task's row space


_DSYEVD: Any = None


def _dsyevd() -> Any:
    """LAPACK's symmetric eigen-solver, imported on first use (scipy.linalg costs ~0.4 s
    to import; ``import kinematics`` does not pay it)."""
    global _DSYEVD
    if _DSYEVD is None:
        from scipy.linalg.lapack import dsyevd

        _DSYEVD = dsyevd
    return _DSYEVD


def _keywords(fn: Callable[..., Any], names: tuple[str, ...]) -> tuple[str, ...]:
    """Which of ``names`` the callable accepts as keywords."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return ()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return names
    return tuple(n for n in names if n in params)


class ResolvedRateController:
    """Resolved-rate (velocity-level) IK for a control loop; the algorithm is in the module
    docstring. On the compiled backend a call is one compiled kernel
    (:func:`kinematics._kernels.rate_step`: FK + J, pose error, a one-sided Jacobi SVD of the
    task Jacobian for the damped least squares and the null space, the limits, and the
    monitor's metric), 8–20 µs on the Panda with a :class:`~kinematics.singularity
    .SingularityMonitor` (``benchmarks/bench_control.py``); the numpy backend, a callable or
    manipulability null-space objective and several targets take the numpy path, the same
    rule to rounding.

    Args:
        robot: The model.
        gain: Proportional gain ``K`` [1/s] on the pose error, scalar or ``(6,)`` per axis
            ``[x y z rx ry rz]`` of ``task_frame``. Default 1.0.
        dt: Default control period [s] for :meth:`velocity` and :meth:`step` calls that
            give none. Default ``None``: every call must give its own ``dt`` (nothing assumes
            a rate; the position-limit bound and the monitor's prediction use the period
            the caller will actually apply ``q̇`` for).
        damping: ``"adaptive"`` (default), ``"selective"`` or a constant ``λ ≥ 0``.
        sigma_threshold: ``ε``, the smallest singular value of the (weighted) task Jacobian
            below which damping starts. Default 0.05.
        damping_max: ``λ_max``, the damping reached at ``σ_min = 0``. Default 0.05.
        velocity_scale: Fraction of ``robot.velocity_limits`` allowed. Default 1.0.
        limit_margin: Width [rad or m] of the zone near each position limit where the
            null-space spring pushes away. Default 0.1.
        limit_gain: Stiffness [1/s] of that spring. Default 5.0.
        nullspace: Secondary objective for redundant directions: ``None`` (default),
            ``"centering"``, ``"manipulability"`` or a callable ``grad(q) -> (dof,)``, the
            gradient of a cost to *minimise*.
        nullspace_gain: ``k`` of ``q̇₀ = −k ∇h``. Default 1.0.
        task_weights: ``(6,)`` weights ``≥ 0`` of ``[x y z rx ry rz]`` in ``task_frame``;
            0 drops the axis from the task (its motion becomes free, e.g. ``[1, 1, 1, 0, 0,
            0]`` position-only, ``[1, 1, 1, 1, 1, 0]`` with ``task_frame="tool"`` ignores
            rotation about the tool z axis). Default all ones.
        task_frame: ``"base"`` (default) or ``"tool"``: axes of ``gain`` and
            ``task_weights``.
        monitor: Optional singularity monitor with ``update(q, qd) -> state`` where
            ``state.scale`` in [0, 1] multiplies ``q̇`` (e.g.
            ``kinematics.singularity.SingularityMonitor``).
        link: Controlled link (``None``: the tool frame).
        tolerance: Pose error norm [m and rad combined] below which :attr:`status` reports
            the target ``"reached"``. Default 1e-4.
        stall_time: Seconds [s] of constrained or limited periods without a 1 % fall of the
            pose error after which :attr:`status` reports ``stalled``. Default 1.0.

    Raises:
        InvalidValueError: A parameter out of range, an unknown mode, or a ``monitor``
            without ``update``.
        ShapeError: ``gain``/``task_weights`` not scalar or ``(6,)``.
        UnknownLinkError: ``link`` not in ``robot.links``.

    >>> import kinematics as kin
    >>> from kinematics import ik
    >>> arm = kin.load_robot("planar2r")                  # l1 = 1.0 m, l2 = 0.8 m
    >>> ctrl = ik.ResolvedRateController(arm, gain=5.0, task_weights=[1, 1, 0, 0, 0, 0])
    >>> target = kin.spatial.transform(p=[1.0, 0.8, 0.0])  # reached at q = (0, π/2)
    >>> q = np.array([0.1, 1.4])
    >>> for _ in range(3000):                             # 3 s at 1 kHz
    ...     q = ctrl.step(q, target, dt=1e-3)
    >>> np.round(q, 4) + 0.0
    array([0.    , 1.5708])
    """

    def __init__(
        self,
        robot: Robot,
        *,
        gain: float | ArrayLike = 1.0,
        dt: float | None = None,
        damping: str | float = "adaptive",
        sigma_threshold: float = 0.05,
        damping_max: float = 0.05,
        velocity_scale: float = 1.0,
        limit_margin: float = 0.1,
        limit_gain: float = 5.0,
        nullspace: str | Gradient | None = None,
        nullspace_gain: float = 1.0,
        task_weights: ArrayLike | None = None,
        task_frame: str = "base",
        monitor: Any = None,
        link: str | None = None,
        tolerance: float = 1e-4,
        stall_time: float = 1.0,
    ) -> None:
        _checks.robot(robot)
        _checks.moving(robot, "ResolvedRateController")
        self._chain = robot.chain(link)
        self.robot = robot
        self.link = link
        self.gain = _checks.weights6(gain, "gain", "gains >= 0 [1/s]")
        self.dt = None if dt is None else _checks.positive(dt, "dt", " [s]")
        if isinstance(damping, str):
            if damping not in DAMPING:
                raise InvalidValueError(f"damping={damping!r}; expected one of "
                                        f"{list(DAMPING)} or a constant λ >= 0")
            self.damping: str | float = damping
        else:
            self.damping = _checks.nonnegative(damping, "damping")
        self.sigma_threshold = _checks.positive(sigma_threshold, "sigma_threshold")
        self.damping_max = _checks.nonnegative(damping_max, "damping_max")
        self.velocity_scale = _checks.positive(velocity_scale, "velocity_scale")
        self.limit_margin = _checks.nonnegative(limit_margin, "limit_margin")
        self.limit_gain = _checks.nonnegative(limit_gain, "limit_gain")
        if not (nullspace is None or callable(nullspace)
                or (isinstance(nullspace, str) and nullspace in NULLSPACE)):
            raise InvalidValueError(f"nullspace={nullspace!r}; expected None, one of "
                                    f"{list(NULLSPACE)} or a callable grad(q) -> (dof,)")
        self.nullspace = nullspace
        self.nullspace_gain = _checks.nonnegative(nullspace_gain, "nullspace_gain")
        w = np.ones(6) if task_weights is None else _checks.weights6(
            task_weights, "task_weights")
        if not (w > 0).any():
            raise InvalidValueError(f"task_weights={w.tolist()}; expected at least one "
                                    "weight > 0")
        self.task_weights = w
        self.task_frame = _checks.choice(task_frame, "task_frame", TASK_FRAMES)
        if monitor is not None and (isinstance(monitor, (dict, list, tuple, str))
                                    or not callable(getattr(monitor, "update", None))):
            raise InvalidValueError(f"monitor={_checks.show(monitor)}; expected an object "
                                    "with update(q, qd, *, J=None) -> state (state.scale in "
                                    "[0, 1]); see kinematics.singularity.Monitor")
        self.monitor = monitor
        # keywords the monitor takes: the period, and (a monitor of this robot's controlled
        # link) the Jacobian computed here
        self._monitor_kw: tuple[str, ...] = ()
        if monitor is not None:
            self._monitor_kw = _keywords(monitor.update, ("dt", "J"))
            if not (getattr(monitor, "robot", None) is robot
                    and getattr(monitor, "link", 0) == link):
                self._monitor_kw = tuple(k for k in self._monitor_kw if k != "J")
        #: The monitor's state at the last :meth:`velocity` call (``None`` before or without
        #: a monitor): level, scale, measures, time to singularity.
        self.monitor_state: Any = None
        self._recorder = StatusRecorder(
            _checks.nonnegative(tolerance, "tolerance", " [m and rad]"),
            _checks.nonnegative(stall_time, "stall_time", " [s]"))
        for a in (self.gain, self.task_weights):
            a.setflags(write=False)
        # precomputed
        lim = robot.joint_limits
        self._lo, self._hi = lim[:, 0], lim[:, 1]
        finite = np.isfinite(lim).all(axis=1)
        lo_f, hi_f = np.where(finite, self._lo, 0.0), np.where(finite, self._hi, 0.0)
        self._mid = 0.5 * (lo_f + hi_f)                            # 0 for continuous joints
        half = np.where(finite, 0.5 * (hi_f - lo_f), 1.0)
        self._inv_half2 = np.where(finite, 1.0 / half**2, 0.0)
        self._half = np.where(finite, half, np.inf)                # |q − mid| ≤ half: inside
        self._inner = self._half - self.limit_margin               # outside: spring active
        v = robot.velocity_limits
        self._vmax = np.where(v > 0, v * self.velocity_scale, np.inf)  # 0: not given
        self._inv_vmax = 1.0 / self._vmax
        self._rows = np.flatnonzero(w > 0)
        self._sqrt_w = np.sqrt(w[self._rows])
        self._full = self._rows.size == 6 and bool((w == 1.0).all())
        d = self.damping
        self._damping_rule = np.array([
            0.0 if not isinstance(d, str) else (1.0 if d == "adaptive" else 2.0),
            self.sigma_threshold ** 2, self.damping_max ** 2,
            0.0 if isinstance(d, str) else d * d])   # writable like every Task array: one
        # compiled safe command for the controller's task and the joint-space one
        self._fused = self._fused_parameters()

    def _fused_parameters(self) -> tuple[Any, ...] | None:
        """The parameters of the compiled step (:func:`kinematics._kernels.rate_step`), or
        ``None`` when the configuration needs the numpy path (a manipulability or callable
        null-space objective)."""
        if self.nullspace not in (None, "centering"):
            return None
        d = self.damping
        mode = 0 if not isinstance(d, str) else (1 if d == "adaptive" else 2)
        cfg = np.concatenate([
            self.gain,
            [1.0 if self.task_frame == "tool" else 0.0, mode, self.sigma_threshold ** 2,
             self.damping_max ** 2, 0.0 if isinstance(d, str) else d * d, _RANK_TOL,
             1.0 if self.nullspace == "centering" else 0.0, self.nullspace_gain,
             self.limit_gain, self.limit_margin, _checks.RIGID_TOL, _checks.MAX_MAGNITUDE],
            self._sqrt_w])
        lim = np.ascontiguousarray(np.stack([self._lo, self._hi, self._mid, self._half,
                                             self._inner, self._inv_half2, self._inv_vmax]))
        G, P = _engine.pack(self._chain)
        # a SingularityMonitor of this link: its metric computed in the step, then assess()
        mon = getattr(self.monitor, "metric_parameters", None) if "J" in self._monitor_kw \
            and callable(getattr(self.monitor, "assess", None)) else None
        if mon is None:   # no monitor, or its own update() runs; read-only as the
            mon = np.array([-1.0])   # monitor's: one compiled rate_step for both
            mon.setflags(write=False)
        m = self._rows.size
        return (G, P, cfg, self._rows.astype(np.int64), lim, mon, np.zeros(6),
                np.empty((m, self.robot.dof)), np.empty(m), np.empty(10))

    # ------------------------------------------------------------------------- public
    @property
    def status(self) -> ControlStatus | None:
        """The last :meth:`velocity` / :meth:`step` call: pose error, the monitor's level
        and state, whether a limit shaped the command, whether the controller is stalled,
        and the events of the step (:class:`~kinematics.ik.status.ControlStatus`); ``None``
        before the first call."""
        return self._recorder.status()

    def reset(self) -> None:
        """Forget the status history (stall timer, last level), e.g. for a new target."""
        self._recorder.reset()
        self.monitor_state = None

    def velocity(self, q: ArrayLike, target_T: ArrayLike, dt: float | None = None,
                 target_twist: ArrayLike | None = None) -> Array:
        """Joint velocities toward ``target_T`` for one control period ``dt``.

        Args:
            q: ``(dof,)`` current joint values [rad or m].
            target_T: ``(4, 4)`` target pose of the link in the base frame.
            target_twist: ``(6,)`` feed-forward twist ``[v [m/s]; ω [rad/s]]`` of the
                target in base axes (the target trajectory's velocity), or None.
            dt: The control period [s]: ``q̇`` will be applied for ``dt`` (``> 0``;
                default the constructor's ``dt``, required when that is ``None``).

        Returns:
            ``(dof,)`` joint velocities [rad/s or m/s] within the velocity limits, keeping
            ``q + q̇ dt`` inside the position limits.

        Raises:
            ShapeError: ``q`` not ``(dof,)``, ``target_T`` not ``(4, 4)``, ``target_twist``
                not ``(6,)``.
            InvalidValueError: Non-finite values, ``target_T`` not a rigid transform, no
                or a bad ``dt``, a monitor whose scale is not a number in [0, 1].
        """
        h = self._period(dt)
        qd = self._compiled_velocity(q, target_T, target_twist, h)
        if qd is None:
            qd = self._velocity(self._check_q(q), target_T, target_twist, h)
        return qd

    def step(self, q: ArrayLike, target_T: ArrayLike, dt: float | None = None,
             target_twist: ArrayLike | None = None) -> Array:
        """Integrate one control period: ``q + q̇ dt`` with ``q̇`` from :meth:`velocity`.

        Args:
            q, target_T, target_twist: As :meth:`velocity`.
            dt: Period [s] (default the constructor's ``dt``, required when that is
                ``None``).

        Returns:
            ``(dof,)`` next joint values, inside the limits (when ``q`` was).

        Raises:
            As :meth:`velocity`.
        """
        h = self._period(dt)
        qd = self._compiled_velocity(q, target_T, target_twist, h)
        if qd is None:
            q = self._check_q(q)
            qd = self._velocity(q, target_T, target_twist, h)
        qa = cast(Array, q)
        q_next = qa + qd * h
        # qd keeps q + qd·dt inside; this only removes the last ulp of rounding
        inside = (qa >= self._lo) & (qa <= self._hi)
        return np.where(inside, np.minimum(np.maximum(q_next, self._lo), self._hi), q_next)

    def _task(self, qa: Array, link: str | None, chain: Any, Tt: Array,
              target_twist: ArrayLike | None) -> tuple[Array, Array, Array, Array, float]:
        """Weighted task rows ``(J_task, x)`` of one link, its base Jacobian ``J``, its
        pose error ``e`` (6,) (base axes) and the norm of ``e`` over the task's axes in the
        task frame."""
        T, J = _engine.pose_jacobian(chain, _engine.chain_theta(chain, qa))
        J = _engine.to_dof(self.robot, chain, J)
        x = e = pose_error_one(T, Tt)
        if target_twist is not None:
            ff = _checks.vector(target_twist, "target_twist", 6, "twist [vx vy vz wx wy wz]")
            _checks.bounded(ff, "target_twist")
            if ff.shape != (6,):
                raise ShapeError("target_twist", "(6,) [vx vy vz wx wy wz]", ff.shape)
        Jt = J
        if self.task_frame == "tool":
            R = T[:3, :3]
            x = np.concatenate([x[:3] @ R, x[3:] @ R])   # Rᵀ x
            Jt = np.concatenate([R.T @ J[:3], R.T @ J[3:]])
            if target_twist is not None:
                ff = np.concatenate([ff[:3] @ R, ff[3:] @ R])
        norm = math.sqrt(float(np.sum(x[self._rows] ** 2)))
        x = self.gain * x
        if target_twist is not None:
            x = x + ff
        if not self._full:
            Jt = Jt[self._rows] * self._sqrt_w[:, None]
            x = x[self._rows] * self._sqrt_w
        return Jt, x, J, e, norm

    def _several(self, qa: Array, targets: Mapping[Any, ArrayLike],
                 twists: ArrayLike | None) -> tuple[Array, Array, Array, Array, float]:
        """Stacked task rows of several links ``{link: target}`` (each with the controller's
        gain, weights and frame; twists, if any, as ``{link: (6,)}``)."""
        if not targets:
            raise InvalidValueError("target_T: an empty mapping; expected {link: (4, 4)}")
        if twists is not None and not (isinstance(twists, Mapping)
                                       and set(twists) <= set(targets)):
            raise InvalidValueError("target_twist: with several targets, expected a mapping "
                                    "{link: (6,) twist} over the targets' links")
        rows, xs, J0, e0, n0 = [], [], None, None, 0.0
        for link, T in targets.items():
            Tt = _checks.pose(T, f"target_T[{link!r}]", single=True)
            ff = None if twists is None else twists.get(link)  # type: ignore[union-attr]
            Jt, x, J, e, norm = self._task(qa, link, self.robot.chain(link), Tt, ff)
            e0, n0 = (e, norm) if e0 is None else (e0, n0)
            rows.append(Jt)
            xs.append(x)
            if link == self.link:
                J0 = J
        if J0 is None:  # the controller's own link (monitor, null space) is not a target
            J0 = _engine.to_dof(self.robot, self._chain, _engine.pose_jacobian(
                self._chain, _engine.chain_theta(self._chain, qa))[1])
        return np.concatenate(rows), np.concatenate(xs), J0, cast(Array, e0), n0

    def _period(self, dt: float | None) -> float:
        if type(dt) is float and _checks.MIN_MAGNITUDE <= dt <= _checks.MAX_MAGNITUDE:
            return dt    # the control loop's case (the same bounds as _checks.positive)
        if isinstance(dt, (list, tuple)) or (isinstance(dt, np.ndarray) and dt.ndim > 0):
            raise InvalidValueError(
                f"dt={_checks.show(dt)}: expected the control period [s]; the arguments are "
                "velocity(q, target_T, dt, target_twist), in step()'s order")
        if dt is None:
            if self.dt is None:
                raise InvalidValueError(
                    "dt: no control period given; pass dt= [s] (the period q̇ is applied for) "
                    "to velocity()/step() or to the constructor")
            return self.dt
        return _checks.positive(dt, "dt", " [s]")

    # ------------------------------------------------------------------------ helpers
    def _check_q(self, q: ArrayLike) -> Array:
        qa = self.robot.check_q(q)
        _checks.bounded(qa, "q")
        if qa.ndim != 1:
            raise ShapeError("q", f"({self.robot.dof},) one configuration", qa.shape)
        return qa

    def _compiled_velocity(self, q: Any, target_T: Any, target_twist: Any,
                           dt: float) -> Array | None:
        """:meth:`velocity` in one compiled call (:func:`kinematics._kernels.rate_step`), or
        ``None`` when the numpy path must run: the compiled backend is off, the arguments
        are not plain float64 arrays of the right shapes, or the kernel hands the case back
        (an invalid argument, whose error the numpy path raises). The same rule and numbers
        as the numpy path, to rounding (``tests/test_control.py`` compares them on every
        bundled arm)."""
        fused = self._fused
        kern = _engine.compiled_kernels()
        if fused is None or kern is None:
            return None
        G, P, cfg, rows, lim, mon, ff, A, x, out = fused
        dof = lim.shape[1]
        if not (type(q) is np.ndarray and q.dtype == np.float64 and q.shape == (dof,)
                and type(target_T) is np.ndarray and target_T.dtype == np.float64
                and target_T.shape == (4, 4)):
            return None
        if target_twist is not None:
            if not (type(target_twist) is np.ndarray and target_twist.dtype == np.float64
                    and target_twist.shape == (6,)
                    and bool((np.abs(target_twist) <= _checks.MAX_MAGNITUDE).all())):
                return None
            ff = target_twist
        qd = np.empty(dof)
        J = np.empty((6, dof))
        if kern.rate_step(q, G, P, target_T, ff, cfg, rows, lim, mon, dt, qd, J, A, x, out):
            return None
        limited = out[1] < 1.0 or out[2] != 0.0
        state = None
        if self.monitor is not None:
            if mon[0] >= 0.0:
                state = self.monitor.assess(q, qd, J, float(out[0]), dt)
            else:
                given = {"dt": dt, "J": J}
                state = self.monitor.update(q, qd, **{k: given[k] for k in self._monitor_kw})
            qd, limited = self._monitored(q, qd, dt, state, A, x, float(out[1]), limited)
        self._recorder.record(q.copy(), qd, out[3:9].copy(), float(out[9]), state, limited,
                              dt)
        return qd

    def _monitored(self, qa: Array, qd: Array, dt: float, state: Any, A: Array,
                   x: Array, k: float, limited: bool) -> tuple[Array, bool]:
        """Apply the monitor's ``state`` to the command ``qd``: unchanged when it does not
        constrain (``scale == 1``); else the monitor's ``command(state, task)`` for this
        controller's task (``A q̇ ≈ k x``, its damping, the velocity and position limits over
        ``dt``), or ``qd · scale`` from a monitor that only scales. Returns the command and
        whether a limit shaped it (``limited``: the nominal's, or a safe command at one of
        its velocity bounds)."""
        self.monitor_state = state
        scale = getattr(state, "scale", None)
        if (isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating))
                or not 0.0 <= float(scale) <= 1.0):
            raise InvalidValueError(f"monitor returned scale={_checks.show(scale)}; "
                                    "expected a number in [0, 1]")
        if scale >= 1.0:
            return qd, limited
        command = getattr(self.monitor, "command", None)
        if not callable(command):
            return qd * float(scale), limited
        lower = np.maximum(np.minimum((self._lo - qa) / dt, 0.0), -self._vmax)
        upper = np.minimum(np.maximum((self._hi - qa) / dt, 0.0), self._vmax)
        # the task velocity scaled like q̇ for the velocity limits: built only when needed
        task = Task(A, x * k, self._damping_rule, lower, upper)
        safe = _checks.vector(command(state, task), "monitor command", self.robot.dof,
                              "joint velocities")
        return safe, bool((np.abs(safe) >= self._vmax * (1.0 - 1e-9)).any())

    def _velocity(self, qa: Array, target_T: ArrayLike, target_twist: ArrayLike | None,
                  dt: float) -> Array:
        if isinstance(target_T, Mapping):
            Jt, x, J, e, norm = self._several(qa, target_T, target_twist)
        else:
            Jt, x, J, e, norm = self._task(qa, self.link, self._chain,
                                           _checks.pose(target_T, "target_T", single=True),
                                           target_twist)
        qd, null = self._dls(Jt, x)
        z = self._nullspace_velocity(qa, J)
        if z is not None:
            qd = qd + null(z)
        qd, k = self._scale_to_velocity_limits(qd)
        nominal = qd
        qd = self._respect_position_limits(qa, qd, Jt, k * x, dt)
        limited = k < 1.0 or not np.array_equal(qd, nominal)
        state = None
        if self.monitor is not None:
            given = {"dt": dt, "J": J}
            state = self.monitor.update(qa, qd, **{k: given[k] for k in self._monitor_kw})
            qd, limited = self._monitored(qa, qd, dt, state, Jt, x, k, limited)
        self._recorder.record(qa.copy(), qd, e, norm, state, limited, dt)
        return qd

    def _damping(self, s: Array) -> Array | float:
        """``λ²`` (per direction, or one for all) from the eigenvalues ``s = σ²``
        (ascending)."""
        d = self.damping
        if not isinstance(d, str):
            return d * d
        eps2, lmax2 = self.sigma_threshold**2, self.damping_max**2
        if d == "adaptive":
            s0 = float(s[0])
            return (1.0 - s0 / eps2) * lmax2 if s0 < eps2 else 0.0
        return np.where(s < eps2, (1.0 - s / eps2) * lmax2, 0.0)

    def _dls(self, J: Array, x: Array) -> tuple[Array, Callable[[Array], Array]]:
        """Damped least squares ``q̇`` and the null-space projection ``z -> (I − J⁺J) z``."""
        m, n = J.shape
        wide = m <= n
        kern = _engine.compiled_kernels()
        if wide and kern is not None:  # the same rule, compiled (one call)
            d = self.damping
            mode = 0 if not isinstance(d, str) else (1 if d == "adaptive" else 2)
            qd, s, U = kern.dls(np.ascontiguousarray(J), np.ascontiguousarray(x), mode,
                                self.sigma_threshold ** 2, self.damping_max ** 2,
                                0.0 if isinstance(d, str) else d * d, _RANK_TOL)
            tiny = _RANK_TOL * max(float(s[-1]), 1e-300)
        else:
            A = J @ J.T if wide else J.T @ J
            s, U, _ = _dsyevd()(A)              # ascending σ², orthonormal eigenvectors
            s = np.maximum(s, 0.0)
            den = s + self._damping(s)
            tiny = _RANK_TOL * max(float(s[-1]), 1e-300)
            if float(den.min()) > tiny:
                inv = 1.0 / den
            else:  # exactly singular and undamped: truncated pseudo-inverse
                inv = np.divide(1.0, den, out=np.zeros_like(den), where=den > tiny)
            if wide:
                qd = J.T @ (U @ (inv * (U.T @ x)))
        if wide:

            def null(z: Array) -> Array:
                rank = s > tiny
                Ur = U[:, rank]
                return z - J.T @ (Ur @ ((Ur.T @ (J @ z)) / s[rank]))
        else:
            qd = U @ (inv * (U.T @ (J.T @ x)))

            def null(z: Array) -> Array:
                V0 = U[:, s <= tiny]
                return V0 @ (V0.T @ z)
        return qd, null

    def _nullspace_velocity(self, q: Array, J: Array) -> Array | None:
        """``q̇₀`` (before projection): objective descent plus the joint-limit spring."""
        z = None
        if self.nullspace is not None and self.nullspace_gain > 0:
            if self.nullspace == "centering":
                g = centering_gradient(q, self._mid, self._inv_half2)
            elif self.nullspace == "manipulability":
                g = -manipulability_gradient(self.robot, q, J, self.link)
            else:
                g = self._user_gradient(q)
            z = -self.nullspace_gain * g
        if self.limit_gain > 0 and not (np.abs(q - self._mid) < self._inner).all():
            pen = limit_penetration(q, self._lo, self._hi, self.limit_margin)
            if pen.any():
                z = -self.limit_gain * pen if z is None else z - self.limit_gain * pen
        return z

    def _user_gradient(self, q: Array) -> Array:
        grad = cast(Gradient, self.nullspace)
        try:
            g = np.asarray(grad(q.copy()), dtype=float)
        except (TypeError, ValueError):
            raise InvalidValueError("nullspace gradient: expected a numeric (dof,) array "
                                    "from the callable") from None
        if g.shape != (self.robot.dof,):
            raise ShapeError("nullspace gradient", f"({self.robot.dof},)", g.shape)
        if not np.isfinite(g).all():
            raise InvalidValueError(f"nullspace gradient returned {g.tolist()}; expected "
                                    "finite values")
        return g

    def _scale_to_velocity_limits(self, qd: Array) -> tuple[Array, float]:
        """``(k q̇, k)`` with the largest ``k ≤ 1`` that meets every velocity limit."""
        ratio = float((np.abs(qd) * self._inv_vmax).max())
        return (qd / ratio, 1.0 / ratio) if ratio > 1.0 else (qd, 1.0)

    def _respect_position_limits(self, q: Array, qd: Array, J: Array, x: Array,
                                 dt: float) -> Array:
        # Allowed velocities: q + q̇ dt within [lo, hi]; a joint already outside may only
        # move back (or stay).
        if (np.abs(q + qd * dt - self._mid) <= self._half).all():
            return qd  # the common case: the step lands inside the limits
        lo_b = np.minimum((self._lo - q) / dt, 0.0)
        hi_b = np.maximum((self._hi - q) / dt, 0.0)
        bad = (qd < lo_b) | (qd > hi_b)
        if not bad.any():
            return qd
        # Saturation in the null space: fix violating joints on their bound, re-solve the
        # (velocity-scaled) task with the others.
        vmax = self._vmax
        free = np.ones(qd.size, dtype=bool)
        out = qd.copy()
        for _ in range(qd.size):
            sat = bad & free
            out[sat] = np.clip(out[sat], lo_b[sat], hi_b[sat])
            free &= ~sat
            if not free.any():
                break
            x_free = x - J[:, ~free] @ out[~free]
            out[free] = self._dls(J[:, free], x_free)[0]
            r = float(np.max(np.abs(out[free]) / vmax[free]))
            if r > 1.0:
                out[free] /= r
            bad = (out < lo_b) | (out > hi_b)
            if not (bad & free).any():
                break
        out = np.minimum(np.maximum(out, lo_b), hi_b)
        return self._scale_to_velocity_limits(out)[0]

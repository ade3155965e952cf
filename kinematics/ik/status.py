"""What a resolved-rate controller reports about its last step (:class:`ControlStatus`).

:class:`~kinematics.ik.ResolvedRateController` records every :meth:`velocity` /
:meth:`step` call in a :class:`StatusRecorder` (a few scalar operations per call) and
builds the :class:`ControlStatus` only when ``controller.status`` is read.

>>> import numpy as np, kinematics as kin
>>> from kinematics import ik
>>> arm = kin.load_robot("planar2r")                   # l1 = 1.0 m, l2 = 0.8 m
>>> ctrl = ik.ResolvedRateController(arm, gain=5.0, task_weights=[1, 1, 0, 0, 0, 0])
>>> target = kin.spatial.transform(p=[1.0, 0.8, 0.0])
>>> q = np.array([0.1, 1.4])
>>> for _ in range(3000):
...     q = ctrl.step(q, target, dt=1e-3)
>>> ctrl.status.error_norm < 1e-6, ctrl.status.stalled, ctrl.status.events
(True, False, ())
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["ControlStatus", "StatusRecorder", "EVENTS"]

Array = NDArray[np.float64]

#: Event names, in the order they are reported.
EVENTS = ("ok", "warn", "stop", "limit", "constrained", "stalled", "reached")


class ControlStatus(NamedTuple):
    """The controller's last step.

    Attributes:
        q: ``(dof,)`` the joint values the step started from [rad or m].
        qd: ``(dof,)`` the command it returned [rad/s or m/s].
        error: ``(6,)`` pose error ``[p_t − p; log(R_t Rᵀ)]`` at ``q`` (base axes) [m, rad]
            of the controlled link (with several targets: the first target's link).
        error_norm: ``‖error‖`` over the task's axes (weight > 0), in the task frame [m and
            rad combined]: what ``reached`` and ``stalled`` are decided on.
        level: The monitor's level (``"ok"``, ``"warn"``, ``"stop"``), ``None`` without a
            monitor.
        monitor: The monitor's state (``None`` without one).
        limited: A velocity or position limit shaped the command (uniform velocity
            scaling, position-limit saturation, or a safe command at a velocity bound).
        stalled: For at least ``stall_time`` seconds of control periods, every command
            was constrained by the monitor or limited, and the pose error did not fall by
            1 %: the target cannot be reached from here (beyond the reach, behind a
            singularity or a joint limit).
        events: What changed at this step, in :data:`EVENTS` order: ``"ok"``, ``"warn"``,
            ``"stop"`` (the monitor's level entered), ``"limit"`` (limited, and not at the
            previous step), ``"constrained"`` (the monitor changed the command, and did not
            at the previous step), ``"stalled"`` (became stalled), ``"reached"``
            (``error_norm`` fell below ``tolerance``).
    """

    q: Array
    qd: Array
    error: Array
    error_norm: float
    level: str | None
    monitor: Any
    limited: bool
    stalled: bool
    events: tuple[str, ...]


class StatusRecorder:
    """Records the controller's steps and decides the events and the stall (scalar
    operations only: it runs every control period).

    Args:
        tolerance: ``error_norm`` [m and rad combined] below which the target counts as
            reached.
        stall_time: Seconds [s] of constrained or limited periods without a 1 % fall of the
            error after which the controller reports ``stalled``.
    """

    __slots__ = ("tolerance", "stall_time", "_last", "_level", "_limited", "_constrained",
                 "_stalled", "_reached", "_best", "_since", "_events")

    def __init__(self, tolerance: float, stall_time: float) -> None:
        self.tolerance = tolerance
        self.stall_time = stall_time
        self.reset()

    def reset(self) -> None:
        """Forget the history (a new target or a robot moved by other means)."""
        self._last: tuple[Array, Array, Array, float, Any, bool] | None = None
        self._level: str | None = None
        self._limited = self._constrained = self._stalled = self._reached = False
        self._best = math.inf
        self._since = 0.0
        self._events: tuple[str, ...] = ()

    def record(self, q: Array, qd: Array, error: Array, norm: float, state: Any,
               limited: bool, dt: float) -> None:
        """One step: ``q`` it started from, the command ``qd``, the pose ``error`` (6,) at
        ``q`` and its ``norm`` over the task's axes, the monitor's ``state`` (or ``None``),
        whether a limit shaped the command, and the period ``dt`` [s]. The arrays are kept
        as given (the caller passes copies)."""
        level = None if state is None else state.level
        constrained = state is not None and state.scale < 1.0
        if norm < self._best * 0.99 or not (constrained or limited):
            self._best = norm
            self._since = 0.0
        else:
            self._since += dt
        stalled = self._since >= self.stall_time and norm > self.tolerance
        reached = norm <= self.tolerance
        if (level != self._level or (limited and not self._limited)
                or (constrained and not self._constrained) or (stalled and not self._stalled)
                or (reached and not self._reached)):
            events: list[str] = []
            if level is not None and level != self._level:
                events.append(level)
            if limited and not self._limited:
                events.append("limit")
            if constrained and not self._constrained:
                events.append("constrained")
            if stalled and not self._stalled:
                events.append("stalled")
            if reached and not self._reached:
                events.append("reached")
            self._events = tuple(events)
        else:
            self._events = ()
        self._last = (q, qd, error, norm, state, limited)
        self._level, self._limited, self._constrained = level, limited, constrained
        self._stalled, self._reached = stalled, reached

    def status(self) -> ControlStatus | None:
        """The last step's :class:`ControlStatus` (``None`` before the first step)."""
        if self._last is None:
            return None
        q, qd, error, norm, state, limited = self._last
        return ControlStatus(q, qd, error, norm, self._level, state, limited, self._stalled,
                             self._events)

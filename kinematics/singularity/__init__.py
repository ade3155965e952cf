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

>>> import numpy as np
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

The package: :mod:`.values` (what a Jacobian's singular values say, batched, compiled) and
:mod:`.monitor` (the per-period monitor, its levels and its safe command);
:func:`certified_radius` (:mod:`kinematics._certify`) proves a distance.
"""

from __future__ import annotations

from .._certify import certified_radius
from .._rows import default_rows, task_rows
from .monitor import (
    HALT_SCALE,
    LEVELS,
    ConstrainingMonitor,
    Monitor,
    MonitorState,
    SingularityMonitor,
    Task,
    approaches,
)
from .values import (
    JOG_SPEED,
    METRICS,
    WARN_FACTOR,
    SingularityMeasures,
    default_thresholds,
    manipulability,
    measures,
    measures_at,
    metric_rate,
    metric_value,
    row_scale,
    scaled_svd,
    singular_value_rates,
)

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
    "ConstrainingMonitor",
    "Task",
    "METRICS",
    "LEVELS",
    "HALT_SCALE",
    "JOG_SPEED",
    "WARN_FACTOR",
]

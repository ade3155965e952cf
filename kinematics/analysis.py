"""Singularity analysis: along trajectories, over the workspace, and near one configuration.

- :func:`analyze_trajectory`: measures, the monitor's metric, its rate, level and scale and
  the time to singularity at every sample of a joint trajectory (batched; the monitor's
  hysteresis is replayed in order).
- :func:`workspace_sweep`: measures and tool positions over ``N`` uniformly sampled
  configurations, in chunks so memory stays bounded, with a progress bar on stderr.
- :func:`nearest_singularity`: from a start ``q``, minimum-norm Newton steps on ``σ_min``
  (exact gradient ``∂σ/∂q_k = uᵀ (∂J/∂q_k) v``) inside the joint limits, then
  :func:`classify` says which joints move in the null motion, which tool direction is lost,
  and which joint axes are aligned.

>>> import kinematics as kin
>>> ur5 = kin.load_robot("ur5")
>>> s = nearest_singularity(ur5, [0.0, -1.2, 1.5, -0.3, 0.2, 0.0])
>>> s.converged, round(float(s.q[4]), 6) + 0.0, round(s.distance, 2)   # wrist q5 -> 0
(True, 0.0, 0.2)
>>> s.classification.kind, s.classification.involved
('rotation', ('wrist_1_joint', 'wrist_3_joint'))
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, fields
from typing import Any, TextIO

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks, _engine
from ._certify import SegmentCertificates, certify_segments
from .exceptions import InvalidValueError, ShapeError
from .jacobian import fk_jacobian, jacobian_dot, jacobian_dot_from
from .robot import Robot
from .singularity import (
    LEVELS,
    SingularityMeasures,
    SingularityMonitor,
    approaches,
    measures,
    metric_rate,
    metric_value,
    row_scale,
    scaled_svd,
    singular_value_rates,
    task_rows,
)

__all__ = [
    "TrajectoryAnalysis",
    "analyze_trajectory",
    "WorkspaceSweep",
    "workspace_sweep",
    "SingularityClassification",
    "classify",
    "SingularConfiguration",
    "nearest_singularity",
]

Array = NDArray[np.float64]


# ---------------------------------------------------------------------------------------
# trajectories


@dataclass(frozen=True, eq=False)
class TrajectoryAnalysis:
    """Singularity measures along a joint trajectory of ``N`` samples.

    Attributes:
        t: ``(N,)`` sample times [s].
        q: ``(N, dof)`` joint values [rad or m].
        qd: ``(N, dof)`` joint velocities [rad/s or m/s] (finite differences of ``q`` over
            ``t``, second order).
        measures: :class:`~kinematics.singularity.SingularityMeasures`, shape ``(N,)``, of
            the monitored rows of the tool Jacobian.
        metric: Name of the monitored metric; ``value`` ``(N,)`` is its value and ``rate``
            ``(N,)`` its exact time derivative [1/s] along ``qd``.
        level: ``(N,)`` int8 index into :data:`~kinematics.singularity.LEVELS` (``0`` ok,
            ``1`` warn, ``2`` stop), with the monitor's hysteresis replayed in order.
        scale: ``(N,)`` velocity scale the monitor would apply.
        time_to_singularity: ``(N,)`` first-order estimate [s], ``inf`` when not approaching.
        warn, stop: The monitor's thresholds on ``value``.
        link, rows: The monitored link and Jacobian rows.
    """

    t: Array
    q: Array
    qd: Array
    measures: SingularityMeasures
    metric: str
    value: Array
    rate: Array
    level: NDArray[np.int8]
    scale: Array
    time_to_singularity: Array
    warn: float
    stop: float
    link: str | None = None
    rows: tuple[int, ...] = (0, 1, 2, 3, 4, 5)

    @property
    def worst_index(self) -> int:
        """Index of the sample with the smallest metric."""
        return int(np.argmin(self.value))

    @property
    def level_names(self) -> tuple[str, ...]:
        """``level`` as names."""
        return tuple(LEVELS[i] for i in self.level)

    def certify(self, robot: Robot, metric: str | float = "auto") -> SegmentCertificates:
        """Certificate of every segment between consecutive samples: ``"certified"``
        singularity-free (by :func:`~kinematics.singularity.certified_radius`), a proven
        ``"crossing"`` (``det J`` changes sign along the straight joint-space segment, for
        square ``J``), or ``"possible"``. See :func:`kinematics._certify.certify_segments`.

        Args:
            robot: The model the trajectory was analysed with.
            metric: As :func:`~kinematics.singularity.certified_radius`.

        Returns:
            ``SegmentCertificates`` with ``N − 1`` segments, over the monitored rows.
        """
        return certify_segments(robot, self.q, metric, link=self.link, rows=self.rows)


#: Largest joint velocity [rad/s or m/s] a trajectory's samples and times may imply (its
#: square and the Jacobian's derivative stay finite).
_MAX_RATE = 1e100


def _check_trajectory(robot: Robot, q: ArrayLike, t: ArrayLike | None,
                      dt: float | None) -> tuple[Array, Array]:
    qa = robot.check_q(q)
    _checks.bounded(qa, "q")  # differences and velocities stay finite
    if qa.ndim != 2 or qa.shape[0] < 2:
        raise ShapeError("q", f"(N, {robot.dof}) trajectory with N >= 2 samples", qa.shape)
    N = qa.shape[0]
    if t is not None and dt is not None:
        raise InvalidValueError("pass either t= (sample times) or dt= (a fixed step), not both")
    if t is None:
        step = 1.0 if dt is None else _checks.positive(dt, "dt", expected="a positive step [s]")
        ta = np.arange(N, dtype=np.float64) * step
    else:
        ta = _checks.array(t, "t", "sample times [s]")
        if ta.shape != (N,):
            raise ShapeError("t", f"({N},) sample times, one per row of q", ta.shape)
        if not np.isfinite(ta).all() or np.any(np.diff(ta) <= 0):
            raise InvalidValueError("t: expected finite, strictly increasing sample times [s]")
        _checks.bounded(ta, "t")
    # velocities (and their derivatives) must stay finite: a step of 1e-300 s would not
    with np.errstate(all="ignore"):
        rates = np.abs(np.diff(qa, axis=0)) / np.diff(ta)[:, None]
        fastest = float(rates.max()) if rates.size else 0.0
    if not fastest <= _MAX_RATE:
        k = int(np.argmax(np.nan_to_num(rates.max(axis=1), nan=np.inf)))
        what = f"dt={dt!r}" if t is None else f"t[{k}:{k + 2}]={ta[k:k + 2].tolist()}"
        raise InvalidValueError(
            f"{what}: joint velocities of up to {fastest:.3g} rad/s between samples {k} and "
            f"{k + 1}, more than {_MAX_RATE:g}; expected a sample step that gives finite "
            "velocities [s]")
    return qa, ta


def analyze_trajectory(robot: Robot, q: ArrayLike, *, t: ArrayLike | None = None,
                       dt: float | None = None, monitor: SingularityMonitor | None = None
                       ) -> TrajectoryAnalysis:
    """Singularity measures and the monitor's view at every sample of a trajectory.

    Args:
        robot: The model.
        q: ``(N, dof)`` joint trajectory, ``N >= 2``.
        t: ``(N,)`` strictly increasing sample times [s]; or
        dt: a fixed sample step [s] (default 1 s per sample when neither is given).
        monitor: The monitor whose metric, thresholds, rows and link are used (default
            ``SingularityMonitor(robot)``). It is :meth:`~SingularityMonitor.reset` first and
            left in the state after the last sample.

    Returns:
        :class:`TrajectoryAnalysis`.

    Raises:
        ShapeError: ``q`` is not ``(N, dof)`` with ``N >= 2``, or ``t`` not ``(N,)``.
        InvalidValueError: Non-finite values, non-increasing ``t``, ``t`` and ``dt`` both
            given, ``dt <= 0``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")
    >>> q = np.stack([np.zeros(5), np.linspace(1.0, -1.0, 5)], axis=-1)   # q2 through 0
    >>> a = analyze_trajectory(arm, q, dt=0.5)
    >>> a.level_names, a.worst_index
    (('ok', 'ok', 'stop', 'ok', 'ok'), 2)
    """
    _checks.robot(robot)
    _checks.moving(robot, "analyze_trajectory")
    qa, ta = _check_trajectory(robot, q, t, dt)
    if monitor is not None and not (isinstance(monitor, SingularityMonitor)
                                    and monitor.robot.dof == robot.dof):
        raise InvalidValueError(f"monitor={_checks.show(monitor)}; expected None or a "
                                f"SingularityMonitor of a {robot.dof}-joint robot")
    mon = SingularityMonitor(robot) if monitor is None else monitor
    qd = np.gradient(qa, ta, axis=0, edge_order=2) if qa.shape[0] > 2 else \
        np.repeat((qa[1:] - qa[:1]) / (ta[1] - ta[0]), 2, axis=0)
    _, J = fk_jacobian(robot, qa, mon.link)
    if robot.chain(mon.link).simple:
        Jd = jacobian_dot_from(J, qd)
    else:
        Jd = jacobian_dot(robot, qa, qd, mon.link)
    sel = np.array(mon.rows, dtype=np.intp)
    Jm, Jdm = J[:, sel, :], Jd[:, sel, :]
    linear = sel < 3
    scale_rows = row_scale(linear, mon.length)
    U, s, Vt, Us, ss, Vts = scaled_svd(Jm, scale_rows)
    meas = measures(Jm, length=mon.length, linear=linear)
    ds = singular_value_rates(U, Vt, Jdm)
    dss = singular_value_rates(Us, Vts, Jdm * scale_rows[:, None])
    value = metric_value(mon.metric, s, ss)
    rate = metric_rate(mon.metric, s, ss, ds, dss)
    # the monitor's rule: in the warn zone, the metric a vanishing step ahead decides
    approaching = rate < 0
    band = value < mon.warn
    if band.any():
        approaching[band] = approaches(mon, qa[band], qd[band], value[band])
    tts = np.full(len(ta), np.inf)
    approaching_min = (ds[:, -1] < 0) & approaching
    tts[approaching_min] = s[approaching_min, -1] / -ds[approaching_min, -1]
    replay = copy.copy(mon)   # the hysteresis replayed on a copy: the caller's is untouched
    replay.reset()
    level = np.empty(len(ta), dtype=np.int8)
    scale = np.empty(len(ta))
    for i, (v, a) in enumerate(zip(value.tolist(), approaching.tolist(), strict=True)):
        name, scale[i] = replay.step(v, a)
        level[i] = LEVELS.index(name)
    return TrajectoryAnalysis(ta, qa, qd, meas, mon.metric, value, rate, level, scale, tts,
                              mon.warn, mon.stop, mon.link, tuple(mon.rows))


# ---------------------------------------------------------------------------------------
# workspace


@dataclass(frozen=True, eq=False)
class WorkspaceSweep:
    """Measures over ``N`` sampled configurations.

    Attributes:
        q: ``(N, dof)`` the configurations (uniform inside the joint limits).
        position: ``(N, 3)`` tool position in the base frame [m].
        measures: :class:`~kinematics.singularity.SingularityMeasures`, shape ``(N,)``.
        rows: Jacobian rows used.
        seed: Seed of the samples.
        seconds: Wall time of the sweep [s].
    """

    q: Array
    position: Array
    measures: SingularityMeasures
    rows: tuple[int, ...]
    seed: int | None
    seconds: float

    def worst(self, n: int = 10, metric: str = "sigma_min_scaled") -> NDArray[np.intp]:
        """Indices of the ``n`` samples with the smallest ``metric`` (a measures field)."""
        values = getattr(self.measures, metric)
        n = min(int(n), len(values))
        idx = np.argpartition(values, n - 1)[:n] if n < len(values) else np.arange(n)
        return idx[np.argsort(values[idx], kind="stable")]


def _concat(parts: list[SingularityMeasures]) -> SingularityMeasures:
    values: dict[str, Any] = {}
    for f in fields(SingularityMeasures):
        if f.name == "length":
            values[f.name] = parts[0].length
        else:
            values[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
    return SingularityMeasures(**values)


@dataclass(frozen=True)
class _SweepTask:
    robot: Robot
    q: Array
    link: str | None
    rows: tuple[int, ...]
    length: float


def _sweep_task(task: _SweepTask) -> dict[str, np.ndarray]:
    """One chunk of a workspace sweep: measures and tool positions (picklable for pools)."""
    sel = np.array(task.rows, dtype=np.intp)
    T, J = fk_jacobian(task.robot, task.q, task.link)
    m = measures(J[:, sel, :], length=task.length, linear=sel < 3)
    out = {f.name: np.asarray(getattr(m, f.name)) for f in fields(m) if f.name != "length"}
    out["position"] = T[:, :3, 3].copy()
    return out


def workspace_sweep(robot: Robot, samples: int = 100_000, *, seed: int | None = 0,
                    chunk: int = 20_000, margin: float = 0.0, link: str | None = None,
                    rows: ArrayLike | None = None, length: float | None = None,
                    progress: bool | TextIO = True, client: Any = None,
                    workers: int | None = None) -> WorkspaceSweep:
    """Measures and tool positions over uniformly sampled configurations.

    Evaluated ``chunk`` configurations at a time (one batched FK + Jacobian + SVD each), so
    the intermediate arrays stay bounded (about ``chunk × 2 kB``) whatever ``samples`` is.
    100,000 samples of a 7-DoF arm take a few seconds. The chunks run through
    :func:`kinematics.chunks.run_chunks`: in-process by default, on a local process pool
    (``workers``) or a Dask cluster (``client``), with identical results.

    Args:
        robot: The model.
        samples: Number of configurations ``N >= 1``.
        seed: Seed of :meth:`~kinematics.Robot.random_q`.
        chunk: Configurations per batch (``>= 1``).
        margin: Fraction of each joint range kept clear at both ends.
        link, rows, length: As :func:`~kinematics.singularity.measures_at`.
        progress: Draw a progress bar on stderr when it is a terminal (``True``, default),
            never (``False``), or always on the given stream.
        client: A ``dask.distributed.Client`` to run the chunks on.
        workers: Without ``client``: local worker processes (``None``: in-process).

    Returns:
        :class:`WorkspaceSweep`.

    Raises:
        InvalidValueError: ``samples`` or ``chunk`` not a positive integer, bad ``margin``,
            ``rows``, ``length`` or ``workers``.
        UnknownLinkError: ``link`` is not in the model.
    """
    _checks.robot(robot)
    _checks.moving(robot, "workspace_sweep")
    for name, v in (("samples", samples), ("chunk", chunk)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidValueError(f"{name}={v!r}; expected a positive integer")
    if (isinstance(margin, bool) or not isinstance(margin, (int, float))
            or not 0 <= margin < 0.5):
        raise InvalidValueError(f"margin={margin!r}; expected 0 <= margin < 0.5")
    robot.chain(link)
    sel = tuple(int(r) for r in task_rows(robot, rows))
    L = robot.reach if length is None else _checks.positive(length, "length", " [m]")
    start = time.perf_counter()
    Q = robot.random_q(int(samples), seed=seed, margin=margin)
    tasks = [_SweepTask(robot, Q[i:i + int(chunk)], link, sel, L)
             for i in range(0, int(samples), int(chunk))]
    from .chunks import run_chunks  # process pools, Dask, checkpoints: not at import

    run = run_chunks(_sweep_task, tasks, client=client, workers=workers, progress=progress,
                     label="samples (workspace)", units=[len(t.q) for t in tasks])
    values: dict[str, Any] = {"length": L}
    for f in fields(SingularityMeasures):
        if f.name != "length":
            values[f.name] = np.concatenate([r[f.name] for r in run.results])
    return WorkspaceSweep(Q, np.concatenate([r["position"] for r in run.results]),
                          SingularityMeasures(**values), sel, seed,
                          time.perf_counter() - start)


# ---------------------------------------------------------------------------------------
# nearest singular configuration and classification


@dataclass(frozen=True, eq=False)
class SingularityClassification:
    """What is singular about one configuration, in words and numbers.

    Attributes:
        q: ``(dof,)`` the configuration.
        sigma_min: Smallest singular value of the monitored rows (mixed units).
        rank: Numerical rank.
        lost_twist: ``(m,)`` unit left singular vector of ``σ_min`` (monitored rows).
        lost_linear: ``(3,)`` its linear part in the base frame (zeros if no linear rows).
        lost_angular: ``(3,)`` its angular part in the base frame (zeros if none).
        kind: ``"translation"`` (linear part ≥ 0.9 of the unit vector), ``"rotation"``
            (angular part ≥ 0.9) or ``"mixed"``.
        joint_motion: ``(dof,)`` unit null motion (right singular vector of ``σ_min``).
        involved: Names of the joints whose ``|joint_motion|`` is at least ``threshold``
            times the largest component, largest first.
        weights: ``joint_motion`` components of ``involved``, same order.
        parallel_axes: Pairs of joint names (on the path) whose axes are parallel.
        coaxial_axes: Pairs whose axes are the same line.
        description: One readable sentence.
    """

    q: Array
    sigma_min: float
    rank: int
    lost_twist: Array
    lost_linear: Array
    lost_angular: Array
    kind: str
    joint_motion: Array
    involved: tuple[str, ...]
    weights: tuple[float, ...]
    parallel_axes: tuple[tuple[str, str], ...]
    coaxial_axes: tuple[tuple[str, str], ...]
    description: str


def _fmt_vec(v: Array) -> str:
    return "[" + ", ".join(f"{x:+.2f}" for x in v) + "]"


def classify(robot: Robot, q: ArrayLike, *, link: str | None = None,
             rows: ArrayLike | None = None, threshold: float = 0.3,
             axis_tol: float = 1e-4) -> SingularityClassification:
    """Explain the (near-)singularity at ``q``: lost direction, joints, aligned axes.

    Args:
        robot: The model.
        q: ``(dof,)`` joint values.
        link, rows: As :func:`~kinematics.singularity.measures_at`.
        threshold: Relative size of a ``joint_motion`` component for its joint to count as
            involved (default 0.3).
        axis_tol: Tolerance for "parallel" (``|z_i × z_j|``) [1] and "coaxial" (distance
            between the lines) [m].

    Returns:
        :class:`SingularityClassification`.

    Raises:
        ShapeError: ``q`` is not ``(dof,)``.
        InvalidValueError, UnknownLinkError: As :func:`~kinematics.singularity.measures_at`.
    """
    _checks.robot(robot)
    _checks.moving(robot, "classify")
    qa = robot.check_q(q)
    if qa.ndim != 1:
        raise ShapeError("q", f"({robot.dof},) one configuration", qa.shape)
    _checks.number(threshold, "threshold", minimum=0.0, strict=True, maximum=1.0,
                   expected="0 < threshold <= 1")
    _checks.nonnegative(axis_tol, "axis_tol")
    sel = task_rows(robot, rows)
    _, J = fk_jacobian(robot, qa, link)
    m = measures(J[sel], length=robot.reach, linear=sel < 3)
    u, v = m.lost_twist, m.joint_motion
    lost = np.zeros(6)
    lost[sel] = u
    lin, ang = lost[:3], lost[3:]
    nl, na = float(np.linalg.norm(lin)), float(np.linalg.norm(ang))
    kind = "translation" if nl >= 0.9 else "rotation" if na >= 0.9 else "mixed"
    order = np.argsort(-np.abs(v), kind="stable")
    big = np.abs(v) >= threshold * np.abs(v).max()
    involved = tuple(robot.joint_names[i] for i in order if big[i])
    weights = tuple(float(v[i]) for i in order if big[i])
    # joint axes (base frame) on the path
    chain = robot.chain(link)
    F = _engine.frames(chain, _engine.chain_theta(chain, qa))
    names = [robot.joint_names[i] for i in chain.q_index]
    parallel: list[tuple[str, str]] = []
    coaxial: list[tuple[str, str]] = []
    for i in range(chain.n):
        if not chain.revolute[i]:
            continue
        for j in range(i + 1, chain.n):
            if not chain.revolute[j]:
                continue
            zi, zj = F.z[i], F.z[j]
            if np.linalg.norm(np.cross(zi, zj)) < axis_tol:
                d = F.o[j] - F.o[i]
                dist = float(np.linalg.norm(d - (d @ zi) * zi))
                (coaxial if dist < axis_tol else parallel).append((names[i], names[j]))
    what = {"translation": "translation along", "rotation": "rotation about",
            "mixed": "the twist"}[kind]
    direction = _fmt_vec(lin / nl if kind == "translation" else ang / na if kind == "rotation"
                         else lost)
    k = min(J[sel].shape)
    state = (f"singular, rank {int(m.rank)} of {k}" if m.rank < k
             else "singular to 1e-8" if m.sigma_min < 1e-8 else "near-singular")
    parts = [f"{state} (sigma_min {float(m.sigma_min):.1e}): weakest tool motion is "
             f"{what} {direction} (base frame)",
             "null motion of " + ", ".join(f"{n} ({w:+.2f})" for n, w in
                                           zip(involved, weights, strict=True))]
    if coaxial:
        parts.append("coaxial axes " + ", ".join(f"{a}={b}" for a, b in coaxial))
    if parallel:
        parts.append("parallel axes " + ", ".join(f"{a}||{b}" for a, b in parallel))
    return SingularityClassification(
        q=qa, sigma_min=float(m.sigma_min), rank=int(m.rank), lost_twist=u,
        lost_linear=lin, lost_angular=ang, kind=kind, joint_motion=v, involved=involved,
        weights=weights, parallel_axes=tuple(parallel), coaxial_axes=tuple(coaxial),
        description="; ".join(parts))


@dataclass(frozen=True, eq=False)
class SingularConfiguration:
    """Result of :func:`nearest_singularity` (not converging is a result, not an error).

    Attributes:
        q: ``(dof,)`` the configuration found (inside the joint limits).
        q_start: ``(dof,)`` where the search started.
        distance: ``‖q − q_start‖`` [rad or m].
        sigma_min: ``σ_min`` at ``q`` (mixed units, monitored rows).
        converged: ``sigma_min <= tol``.
        iterations: Newton steps taken.
        classification: :func:`classify` at ``q``.
    """

    q: Array
    q_start: Array
    distance: float
    sigma_min: float
    converged: bool
    iterations: int
    classification: SingularityClassification


def _sigma_and_gradient(robot: Robot, q: Array, link: str | None, sel: NDArray[np.intp]
                        ) -> tuple[float, Array]:
    n = robot.dof
    _, J = fk_jacobian(robot, q, link)
    Jm = J[sel]
    U, s, Vt = np.linalg.svd(Jm, full_matrices=False)
    E = np.eye(n)
    if robot.chain(link).simple:
        dJ = jacobian_dot_from(np.broadcast_to(J, (n,) + J.shape), E)  # ∂J/∂q_k
    else:
        dJ = jacobian_dot(robot, np.broadcast_to(q, (n, n)), E, link)
    g = np.einsum("m,kmn,n->k", U[:, -1], dJ[:, sel, :], Vt[-1])
    return float(s[-1]), g


def nearest_singularity(robot: Robot, q0: ArrayLike, *, link: str | None = None,
                        rows: ArrayLike | None = None, tol: float = 1e-10,
                        max_iter: int = 100) -> SingularConfiguration:
    """A singular configuration near ``q0``: minimum-norm Newton steps on ``σ_min``.

    Each step solves the linearisation ``σ + gᵀ Δq = 0`` with the smallest ``Δq``
    (``Δq = −σ g / ‖g‖²``, ``g = ∇σ_min`` exact from ``∂J/∂q_k``), halved until ``σ_min``
    decreases, and projected on the joint limits (components pushing into an active limit
    are dropped). For a locally linear ``σ_min`` this lands on the closest point of the
    singular set; in general on a nearby one. Convergence is quadratic once close.

    Args:
        robot: The model.
        q0: ``(dof,)`` start configuration [rad or m] (clipped into the limits).
        link, rows: As :func:`~kinematics.singularity.measures_at`.
        tol: Stop when ``σ_min <= tol`` (mixed units, default 1e-10).
        max_iter: Maximum Newton steps.

    Returns:
        :class:`SingularConfiguration`; ``converged`` is False when no singular
        configuration was reached (e.g. a limit blocks the way).

    Raises:
        ShapeError: ``q0`` is not ``(dof,)``.
        InvalidValueError: Non-finite ``q0``, ``tol <= 0``, ``max_iter < 1``, bad ``rows``.
        UnknownLinkError: ``link`` is not in the model.
    """
    _checks.robot(robot)
    _checks.moving(robot, "nearest_singularity")
    qs = robot.check_q(q0, "q0")
    if qs.ndim != 1:
        raise ShapeError("q0", f"({robot.dof},) one configuration", qs.shape)
    tol = _checks.positive(tol, "tol", expected="a positive number")
    max_iter = _checks.integer(max_iter, "max_iter", 1, expected="a positive integer")
    robot.chain(link)
    sel = task_rows(robot, rows)
    lo, hi = robot.joint_limits[:, 0], robot.joint_limits[:, 1]
    q = np.clip(qs, lo, hi)
    sigma, g = _sigma_and_gradient(robot, q, link, sel)
    it = 0
    while sigma > tol and it < max_iter:
        it += 1
        free = ~(((q <= lo) & (g > 0)) | ((q >= hi) & (g < 0)))  # descent would leave
        gf = np.where(free, g, 0.0)
        gg = float(gf @ gf)
        if gg < 1e-300:
            break
        step = -sigma * gf / gg
        alpha, accepted = 1.0, False
        for _ in range(30):
            qn = np.clip(q + alpha * step, lo, hi)
            sn, gn = _sigma_and_gradient(robot, qn, link, sel)
            if sn < sigma:
                q, sigma, g, accepted = qn, sn, gn, True
                break
            alpha *= 0.5
        if not accepted:
            break
    cls = classify(robot, q, link=link, rows=sel)
    d = q - qs
    big = float(np.abs(d).max())  # scaled norm: a huge q0 (clipped to the limits) can't overflow
    dist = big * float(np.linalg.norm(d / big)) if big > 0 else 0.0
    return SingularConfiguration(q, qs, dist, sigma, sigma <= tol,
                                 it, cls)

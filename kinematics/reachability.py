"""Reachability (capability) maps: where can the arm put its tool, in how many orientations,
and with what manipulability.

The space around the arm is cut into cubic voxels; at each voxel centre ``K`` tool
orientations (the same set for every voxel) are tried with the batched IK solver. A voxel's
*reach fraction* is the share of orientations solved (inside the joint limits, to the stated
tolerances), its *manipulability* Yoshikawa's ``√det(J Jᵀ)`` at the solutions.

Work is split into chunks of voxels (every orientation of a voxel stays in one chunk) and run
by :func:`kinematics.chunks.run_chunks`: in-process, on a local process pool or on a Dask
cluster, with checkpoints so an interrupted run resumes. Each chunk carries its own seed
(derived from the map's seed and the chunk index), so the map is identical wherever its
chunks run.

Robots with fewer than 6 joints cannot take arbitrary orientations, so their maps are
*position-only* (``position_only=None`` picks this for ``dof < 6``): one IK problem per
voxel on the position alone, and a voxel counts as reached when the tool can be put inside
it (a planar arm reaches the layers of voxels its plane passes through). Their
manipulability is that of the position rows of the Jacobian.

:func:`estimate` tells, before any work, how many IK problems a map poses, how much memory
it needs and about how long it takes; a map that cannot fit in memory is refused up front.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _cache, _checks
from .chunks import run_chunks, run_key
from .exceptions import InvalidValueError, ShapeError
from .forward import fk
from .jacobian import fk_jacobian
from .robot import Robot
from .spatial import transform

__all__ = ["ReachEstimate", "ReachabilityMap", "estimate", "orientation_set", "reachability_map",
           "voxel_centers"]

Array = NDArray[np.float64]


#: Most rotations :func:`orientation_set` builds, and most voxels :func:`voxel_centers`
#: tiles (each about 72 and 24 bytes): larger requests are refused with their size first.
MAX_ORIENTATIONS = 10_000_000
MAX_VOXELS = 2**31


def orientation_set(k: int, seed: int = 0) -> Array:
    """``(k, 3, 3)`` rotations drawn uniformly on SO(3) (unit quaternions from normalised
    Gaussians), deterministic given ``seed``; the first is the identity.

    Raises:
        InvalidValueError: ``k`` not an integer in ``[1, MAX_ORIENTATIONS]`` (the size is
            named), ``seed`` not an integer ``>= 0``.
    """
    k = _checks.integer(k, "orientations", 1, maximum=MAX_ORIENTATIONS,
                        expected=f"an integer >= 1 and <= {MAX_ORIENTATIONS:,} (each rotation "
                        "is 72 bytes)")
    seed = _checks.integer(seed, "seed", 0)
    quat = np.random.default_rng(seed).normal(size=(k, 4))
    quat[0] = (1.0, 0.0, 0.0, 0.0)
    w, x, y, z = (quat / np.linalg.norm(quat, axis=1, keepdims=True)).T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], axis=-2)


def _voxel(voxel: object) -> float:
    return _checks.positive(voxel, "voxel", expected="a positive size in metres")


def _bounds(bounds: ArrayLike) -> Array:
    b = _checks.array(bounds, "bounds", "a (3, 2) box [[xmin, xmax], [ymin, ymax], "
                                        "[zmin, zmax]] [m]")
    if b.shape != (3, 2):
        raise ShapeError("bounds", "(3, 2) [[xmin, xmax], [ymin, ymax], [zmin, zmax]]", b.shape)
    if not np.all(np.isfinite(b)) or np.any(b[:, 1] <= b[:, 0]):
        raise InvalidValueError(f"bounds={b.tolist()}; expected finite min < max per axis")
    _checks.bounded(b, "bounds")
    return b


def _grid_shape(b: Array, voxel: float, cap: int) -> tuple[int, int, int]:
    """Voxels along x, y, z of ``np.arange(lo + voxel/2, hi, voxel)``, computed without
    overflow; refused (with the size) beyond ``cap`` voxels or when the voxel is larger than
    the box."""
    counts = []
    for lo, hi in b:
        span = (float(hi) - float(lo)) / voxel  # finite operands; may be inf for voxel 1e-320
        counts.append(span)
    total = counts[0] * counts[1] * counts[2]
    if not total <= cap:
        raise InvalidValueError(
            f"voxel={voxel!r}: tiling bounds {b.tolist()} gives about "
            f"{'more than 1e308' if not np.isfinite(total) else f'{total:.3g}'} voxels, more "
            f"than the cap of {cap:,}; use a larger voxel or smaller bounds")
    n = [max(0, int(np.ceil((hi - (lo + voxel / 2)) / voxel))) for lo, hi in b]
    if min(n) == 0:
        raise InvalidValueError(
            f"voxel={voxel!r} [m] is more than twice the bounds' extent "
            f"{(b[:, 1] - b[:, 0]).tolist()} on some axis: the grid would be empty; use a "
            "smaller voxel")
    return n[0], n[1], n[2]


def voxel_centers(bounds: ArrayLike, voxel: float) -> Array:
    """``(V, 3)`` centres of the voxels of size ``voxel`` [m] tiling ``bounds`` ``(3, 2)``
    (``[[xmin, xmax], [ymin, ymax], [zmin, zmax]]``), x fastest.

    Raises:
        ShapeError: ``bounds`` is not ``(3, 2)``.
        InvalidValueError: ``bounds`` not finite with min < max; ``voxel`` not a positive
            finite size; a grid of more than :data:`MAX_VOXELS` voxels (the size is named) or
            an empty one.
    """
    b = _bounds(bounds)
    v = _voxel(voxel)
    nx, ny, nz = _grid_shape(b, v, MAX_VOXELS)
    axes = [lo + v / 2 + v * np.arange(n) for (lo, _), n in zip(b, (nx, ny, nz), strict=True)]
    Z, Y, X = np.meshgrid(axes[2], axes[1], axes[0], indexing="ij")
    return np.stack([X.ravel(), Y.ravel(), Z.ravel()], axis=-1)


@dataclass(frozen=True)
class ReachabilityMap:
    """A computed map (all arrays read-only).

    Attributes:
        robot: Robot name.
        centers: ``(V, 3)`` voxel centres in the base frame [m].
        voxel: Voxel edge [m].
        bounds: ``(3, 2)`` box that was tiled [m].
        orientations: ``(K, 3, 3)`` tool orientations tried at every voxel (the identity
            alone, ``K = 1``, for a position-only map).
        reach_fraction: ``(V,)`` share of the ``K`` orientations reached, in [0, 1].
        best_manipulability: ``(V,)`` max ``√det(J Jᵀ)`` over reached orientations (0 if
            none); for a position-only map, the product of the singular values of the
            position rows of ``J``.
        mean_manipulability: ``(V,)`` mean over reached orientations (0 if none).
        sample_q: ``(V, dof)`` the solution with the best manipulability (NaN if none).
        seed: Seed of the orientations and of every chunk's restarts.
        solves: Number of IK problems posed (voxels beyond the reach bound are skipped).
        tol_pos, tol_rot: Success tolerances [m], [rad].
        chunks_computed, chunks_loaded: How many chunks this call solved and how many it
            took from checkpoints.
        position_only: Orientation ignored: a voxel is reached when the tool can be put
            inside it (robots with fewer than 6 DoF).
        chunks_rejected: Checkpointed chunks that failed verification and were solved again
            (included in ``chunks_computed``).
    """

    robot: str
    centers: Array
    voxel: float
    bounds: Array
    orientations: Array
    reach_fraction: Array
    best_manipulability: Array
    mean_manipulability: Array
    sample_q: Array
    seed: int
    solves: int
    tol_pos: float
    tol_rot: float
    chunks_computed: int = field(default=0, compare=False)
    chunks_loaded: int = field(default=0, compare=False)
    position_only: bool = False
    chunks_rejected: int = field(default=0, compare=False)

    _ARRAYS = ("centers", "bounds", "orientations", "reach_fraction", "best_manipulability",
               "mean_manipulability", "sample_q")

    def __post_init__(self) -> None:
        for name in self._ARRAYS:
            getattr(self, name).setflags(write=False)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the map to ``path`` (``.npz``); returns the path."""
        p = Path(path)
        np.savez_compressed(p, **{n: getattr(self, n) for n in self._ARRAYS},
                            robot=self.robot, voxel=self.voxel, seed=self.seed,
                            solves=self.solves, tol_pos=self.tol_pos, tol_rot=self.tol_rot,
                            position_only=self.position_only)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReachabilityMap:
        """Read a map written by :meth:`save`."""
        with np.load(path) as d:
            position_only = bool(d["position_only"]) if "position_only" in d.files else False
            return cls(str(d["robot"]), d["centers"], float(d["voxel"]), d["bounds"],
                       d["orientations"], d["reach_fraction"], d["best_manipulability"],
                       d["mean_manipulability"], d["sample_q"], int(d["seed"]),
                       int(d["solves"]), float(d["tol_pos"]), float(d["tol_rot"]),
                       position_only=position_only)

    def equals(self, other: ReachabilityMap) -> bool:
        """Exact equality of every array (NaN equal to NaN) and parameter."""
        return (self.robot == other.robot and self.voxel == other.voxel
                and self.seed == other.seed and self.solves == other.solves
                and self.position_only == other.position_only
                and all(np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True)
                        for n in self._ARRAYS))


@dataclass(frozen=True)
class _Task:
    robot: Robot
    centers: Array        # (v, 3)
    orientations: Array   # (K, 3, 3)
    seed: int
    solver: dict[str, Any]
    voxel: float = 0.0
    position_only: bool = False


#: Weights of ``kinematics.ik.solve(mask=...)`` on ``[x, y, z, rx, ry, rz]`` for
#: position-only IK.
_POSITION_MASK = (1.0, 1.0, 1.0, 0.0, 0.0, 0.0)


def _solve_task(task: _Task) -> dict[str, np.ndarray]:
    """Solve every (voxel, orientation) of one chunk; reduce per voxel."""
    from .ik import solve

    v = len(task.centers)
    dof = task.robot.dof
    if task.position_only:
        q, ok = _reach_positions(task)
        rows = slice(0, 3)
    else:
        K = len(task.orientations)
        targets = transform(np.broadcast_to(task.orientations, (v, K, 3, 3)),
                            np.broadcast_to(task.centers[:, None, :], (v, K, 3)))
        res = solve(task.robot, targets, seed=task.seed, **task.solver)
        ok = np.asarray(res.success)
        q = np.asarray(res.q)
        rows = slice(0, 6)
    K = ok.shape[1]
    _, J = fk_jacobian(task.robot, q)
    w = np.prod(np.linalg.svd(J[..., rows, :], compute_uv=False), axis=-1)
    w = np.where(ok, w, 0.0)
    n_ok = ok.sum(axis=1)
    best = np.argmax(w, axis=1)
    sample = q[np.arange(v), best]
    sample = np.where((n_ok > 0)[:, None], sample, np.nan)
    return {"fraction": n_ok / K, "best": w.max(axis=1),
            "mean": np.where(n_ok > 0, w.sum(axis=1) / np.maximum(n_ok, 1), 0.0),
            "sample_q": sample.reshape(v, dof)}


def _in_voxel(p: Array, centers: Array, voxel: float, tol: float) -> NDArray[np.bool_]:
    """``(N,)`` whether each point ``p`` lies in its voxel (edges widened by ``tol``)."""
    return np.all(np.abs(p - centers) <= 0.5 * voxel + tol, axis=-1)


def _reach_positions(task: _Task) -> tuple[Array, NDArray[np.bool_]]:
    """``q`` ``(v, 1, dof)`` putting the tool as close as found to each voxel centre, and
    whether that point is inside the voxel ``(v, 1)``."""
    robot, c = task.robot, task.centers
    s = task.solver
    from .ik import solve

    T = transform(np.broadcast_to(np.eye(3), (len(c), 3, 3)), c)
    masked: dict[str, Any] = {**s, "mask": _POSITION_MASK}
    q = np.asarray(solve(robot, T, seed=task.seed, **masked).q)
    ok = _in_voxel(fk(robot, q)[:, :3, 3], c, task.voxel, s["tol_pos"])
    return q[:, None, :], ok[:, None]


def _fingerprint(robot: Robot) -> str:
    h = hashlib.sha256(repr((robot.model.joints, robot.base_link, robot.tip_link,
                             np.asarray(robot.base_pose).tolist(),
                             np.asarray(robot.tool).tolist())).encode())
    return h.hexdigest()[:16]


# -- size, memory and time -------------------------------------------------------------------

#: float64 values held per voxel of the box at the peak of :func:`reachability_map`, plus
#: ``2 dof`` (voxel centres, grid temporaries, distance, the four map arrays, and the
#: chunk results before assembly).
_FLOATS_PER_VOXEL = 16


@dataclass(frozen=True)
class ReachEstimate:
    """What a reachability map costs, from :func:`estimate`.

    Attributes:
        voxels: Voxels in the box.
        candidates: Voxels within the reach bound (the ones solved).
        orientations: IK problems per candidate voxel (1 for a position-only map).
        solves: IK problems in all.
        chunks: Work units.
        memory_bytes: Peak memory of the map's arrays [bytes].
        seconds: Estimated wall time [s] from a calibration solve (NaN if not measured).
        position_only: Orientation ignored (robots with fewer than 6 DoF).
    """

    voxels: int
    candidates: int
    orientations: int
    solves: int
    chunks: int
    memory_bytes: int
    seconds: float
    position_only: bool

    def __str__(self) -> str:
        from .progress import format_duration

        what = ("position-only" if self.position_only
                else f"x {self.orientations} orientations")
        return (f"{self.voxels:,} voxels ({self.candidates:,} within reach) {what} = "
                f"{self.solves:,} IK problems in {self.chunks:,} chunks; "
                f"memory {_gib(self.memory_bytes)}, about {format_duration(self.seconds)}")


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB" if n >= 2**30 else f"{n / 2**20:.3g} MiB"


def _available_memory() -> int | None:
    """Bytes of memory available to this process (Linux ``MemAvailable``), or ``None``."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


@dataclass(frozen=True)
class _Plan:
    bounds: Array
    shape: tuple[int, int, int]  # voxels along x, y, z
    position_only: bool
    memory_bytes: int

    @property
    def voxels(self) -> int:
        return self.shape[0] * self.shape[1] * self.shape[2]


def _count(name: str, value: Any, minimum: int) -> int:
    return _checks.integer(value, name, minimum, expected=f">= {minimum}")


def _normalise(voxel: Any, orientations: Any, chunk: Any, seed: Any, solver: dict[str, Any]
               ) -> tuple[float, int, int, int, dict[str, Any]]:
    """The map's parameters as the types it computes with (0-d arrays and integral floats
    accepted, booleans refused)."""
    out: dict[str, Any] = {}
    for name, value in solver.items():
        out[name] = (_checks.positive(value, name, expected="a positive finite tolerance")
                     if name.startswith("tol_") else
                     _count(name, value, 1 if name == "max_iter" else 0))
    return (_voxel(voxel), _count("orientations", orientations, 1), _count("chunk", chunk, 1),
            _count("seed", seed, 0), out)


def _plan(robot: Robot, voxel: float, orientations: int, bounds: ArrayLike | None,
          chunk: int, position_only: bool | None, seed: int = 0,
          solver: dict[str, Any] | None = None) -> _Plan:
    """Validate the map's parameters and check that it fits in memory, allocating nothing
    in proportion to its size."""
    voxel = _voxel(voxel)
    _count("orientations", orientations, 1)
    _count("chunk", chunk, 1)
    _count("seed", seed, 0)
    for name, value in (solver or {}).items():
        if name.startswith("tol_"):
            _checks.positive(value, name, expected="a positive finite tolerance")
        else:
            _count(name, value, 1 if name == "max_iter" else 0)
    if position_only is not None and not isinstance(position_only, (bool, np.bool_)):
        raise InvalidValueError(f"position_only={position_only!r}; expected True, False or "
                                f"None")
    R = robot.reach
    b = _bounds(np.array([[-R, R]] * 3) if bounds is None else bounds)
    shape = _grid_shape(b, voxel, 2**53)  # the memory check below names the real limit
    V = shape[0] * shape[1] * shape[2]
    need = V * 8 * (_FLOATS_PER_VOXEL + 2 * robot.dof)
    have = _available_memory()
    if have is not None and need > have:
        raise InvalidValueError(
            f"voxel={voxel!r}: a map of {shape[0]} x {shape[1]} x {shape[2]} = {V:,} voxels "
            f"needs about {need / 2**30:,.1f} GiB of memory, more than the "
            f"{have / 2**30:,.1f} GiB available; use a larger voxel or smaller bounds")
    po = robot.dof < 6 if position_only is None else bool(position_only)
    return _Plan(b, shape, po, need)


def _grid(robot: Robot, plan: _Plan, voxel: float, orientations: int, chunk: int,
          seed: int) -> tuple[Array, Array, NDArray[np.intp], list[NDArray[np.intp]]]:
    """Voxel centres ``(V, 3)``, orientations ``(K, 3, 3)``, candidate indices and their
    split into chunks."""
    rots = np.eye(3)[None] if plan.position_only else orientation_set(orientations, seed)
    centers = voxel_centers(plan.bounds, voxel)
    base_origin = np.asarray(robot.base_pose)[:3, 3]
    idx = np.flatnonzero(np.linalg.norm(centers - base_origin, axis=1) <= robot.reach + voxel)
    per = max(1, chunk // len(rots))
    return centers, rots, idx, [idx[i:i + per] for i in range(0, len(idx), per)]


def estimate(
    robot: Robot,
    voxel: float = 0.05,
    orientations: int = 50,
    bounds: ArrayLike | None = None,
    *,
    chunk: int = 2000,
    workers: int | None = None,
    seed: int = 0,
    position_only: bool | None = None,
    calibration: int = 200,
    tol_pos: float = 1e-4,
    tol_rot: float = 1e-3,
    restarts: int = 4,
    max_iter: int = 40,
) -> ReachEstimate:
    """Size, memory and wall time of :func:`reachability_map` with the same arguments.

    The time comes from solving about ``calibration`` of the map's own IK problems (voxels
    drawn at random among those within reach), divided among ``workers``; it ignores
    process start-up and checkpoint I/O.

    Args:
        robot, voxel, orientations, bounds, chunk, seed, position_only, tol_pos, tol_rot,
            restarts, max_iter: As in :func:`reachability_map`.
        workers: Processes (or Dask worker threads) the map will run on (``None``: 1).
        calibration: IK problems to time (0: do not time; ``seconds`` is NaN).

    Returns:
        :class:`ReachEstimate`.

    Raises:
        InvalidValueError: Bad parameters (as :func:`reachability_map`), or a map that
            cannot fit in the available memory (the message gives the size in GiB).
        ShapeError: ``bounds`` is not ``(3, 2)``.
    """
    voxel, orientations, chunk, seed, solver = _normalise(voxel, orientations, chunk, seed, {
        "tol_pos": tol_pos, "tol_rot": tol_rot, "restarts": restarts, "max_iter": max_iter})
    plan = _plan(robot, voxel, orientations, bounds, chunk, position_only, seed, solver)
    _count("calibration", calibration, 0)
    if workers is not None:
        _count("workers", workers, 1)
    centers, rots, idx, groups = _grid(robot, plan, voxel, orientations, chunk, seed)
    K = len(rots)
    seconds = float("nan")
    if calibration > 0 and idx.size:
        rng = np.random.default_rng(seed)
        pick = rng.choice(idx, size=min(idx.size, max(1, calibration // K)), replace=False)
        task = _Task(robot, centers[np.sort(pick)], rots, seed, solver, float(voxel),
                     plan.position_only)
        # warm-up: the same task, so that every kernel it needs is compiled or loaded
        # (a first use compiles: seconds; loading the restarts' kernel alone is ~0.3 s)
        _solve_task(task)
        best = math.inf
        for _ in range(2):   # the faster of two: a burst of load on a shared machine
            c0, t0 = _cache.compile_seconds(), time.perf_counter()
            _solve_task(task)
            best = min(best, time.perf_counter() - t0 - (_cache.compile_seconds() - c0))
        per_solve = best / (len(pick) * K)
        seconds = per_solve * idx.size * K / max(1, workers or 1)
    return ReachEstimate(plan.voxels, int(idx.size), K, int(idx.size) * K, len(groups),
                         plan.memory_bytes, seconds, plan.position_only)


def reachability_map(
    robot: Robot,
    voxel: float = 0.05,
    orientations: int = 50,
    bounds: ArrayLike | None = None,
    *,
    client: Any = None,
    workers: int | None = None,
    chunk: int = 2000,
    seed: int = 0,
    checkpoint: str | os.PathLike[str] | None = None,
    progress: Any = True,
    tol_pos: float = 1e-4,
    tol_rot: float = 1e-3,
    restarts: int = 4,
    max_iter: int = 40,
    on_chunk: Any = None,
    position_only: bool | None = None,
    worker_timeout: float = 60.0,
) -> ReachabilityMap:
    """Compute a reachability map of ``robot``'s tool frame.

    Args:
        robot: The model.
        voxel: Voxel edge [m].
        orientations: Number ``K`` of tool orientations per voxel (:func:`orientation_set`);
            unused by a position-only map.
        bounds: ``(3, 2)`` box to tile [m], base frame. Default: the cube ``±robot.reach``
            around the base origin. Voxels farther than ``robot.reach`` from the base origin
            cannot be reached and are not solved (fraction 0).
        client: A ``dask.distributed.Client`` (:func:`kinematics.chunks.connect`); the
            chunks run on its cluster (workers need ``kinematics`` installed).
        workers: Without ``client``: local processes (``None``: in-process).
        chunk: Target number of IK problems per chunk (rounded to whole voxels).
        seed: Seed of the orientations and of each chunk's restarts: the same seed gives
            the same map in-process, on a pool and on Dask.
        checkpoint: Folder for finished chunks; an interrupted run with the same folder and
            parameters resumes, solving only missing chunks and any that fail verification.
        progress: Progress on stderr (``True``: a bar on a terminal, a plain line every
            10 s otherwise), ``False`` for none, or a stream to draw the bar on.
        tol_pos, tol_rot: Success tolerances [m], [rad] (a map needs less than 1e-6).
        restarts, max_iter: Passed to :func:`kinematics.ik.solve`.
        on_chunk: Optional ``callback(i, result)`` after each solved chunk.
        position_only: Ignore orientation (one IK problem per voxel; reached when the tool
            can be put inside the voxel). ``None``: when the robot has fewer than 6 DoF.
        worker_timeout: With ``client``: seconds the cluster may have no workers before the
            run fails.

    Returns:
        :class:`ReachabilityMap`.

    Raises:
        InvalidValueError: Non-positive voxel, orientations, chunk; a map that cannot fit in
            memory (checked before any work); a checkpoint folder from a different run.
        ShapeError: ``bounds`` is not ``(3, 2)``.
        kinematics.chunks.CheckpointError: The checkpoint path is a file, not writable or
            in use by another run.
        kinematics.chunks.ClusterError: The Dask cluster had no workers for
            ``worker_timeout`` seconds.

    Warns:
        kinematics.chunks.CheckpointWarning: A checkpointed chunk failed verification and is
            solved again.
    """
    voxel, orientations, chunk, seed, solver = _normalise(voxel, orientations, chunk, seed, {
        "tol_pos": tol_pos, "tol_rot": tol_rot, "restarts": restarts, "max_iter": max_iter})
    plan = _plan(robot, voxel, orientations, bounds, chunk, position_only, seed, solver)
    centers, rots, idx, groups = _grid(robot, plan, voxel, orientations, chunk, seed)
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    tasks = [_Task(robot, centers[g], rots, int(s.generate_state(1)[0]), solver, float(voxel),
                   plan.position_only)
             for g, s in zip(groups, seeds, strict=True)]
    manifest = {"robot": robot.name, "fingerprint": _fingerprint(robot), "voxel": voxel,
                "orientations": orientations, "bounds": plan.bounds.tolist(), "seed": seed,
                "chunk": chunk, "position_only": plan.position_only, **solver}
    # the key also names the position-only solver, so chunks of the two never mix
    solver_kind = "ik.solve(mask)" if plan.position_only else "ik.solve"
    key = run_key({**manifest, "solver_kind": solver_kind})
    run = run_chunks(_solve_task, tasks, client=client, workers=workers,
                     checkpoint=checkpoint, manifest=manifest, progress=progress,
                     label="voxel chunks", on_chunk=on_chunk, key=key,
                     worker_timeout=worker_timeout)
    V = len(centers)
    frac, best, mean = np.zeros(V), np.zeros(V), np.zeros(V)
    sample = np.full((V, robot.dof), np.nan)
    for g, r in zip(groups, run.results, strict=True):
        frac[g], best[g], mean[g], sample[g] = r["fraction"], r["best"], r["mean"], r["sample_q"]
    return ReachabilityMap(robot.name, centers, float(voxel), plan.bounds, rots, frac, best,
                           mean, sample, seed, int(len(idx) * len(rots)), float(tol_pos),
                           float(tol_rot), len(run.computed), len(run.loaded),
                           plan.position_only, len(run.rejected))

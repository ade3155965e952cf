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
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .chunks import run_chunks
from .exceptions import InvalidValueError, ShapeError
from .jacobian import fk_jacobian
from .robot import Robot
from .spatial import transform

__all__ = ["ReachabilityMap", "reachability_map", "orientation_set", "voxel_centers"]

Array = NDArray[np.float64]


def orientation_set(k: int, seed: int = 0) -> Array:
    """``(k, 3, 3)`` rotations drawn uniformly on SO(3) (unit quaternions from normalised
    Gaussians), deterministic given ``seed``; the first is the identity."""
    if k < 1:
        raise InvalidValueError(f"orientations={k}; expected >= 1")
    quat = np.random.default_rng(seed).normal(size=(k, 4))
    quat[0] = (1.0, 0.0, 0.0, 0.0)
    w, x, y, z = (quat / np.linalg.norm(quat, axis=1, keepdims=True)).T
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], axis=-2)


def voxel_centers(bounds: ArrayLike, voxel: float) -> Array:
    """``(V, 3)`` centres of the voxels of size ``voxel`` [m] tiling ``bounds`` ``(3, 2)``
    (``[[xmin, xmax], [ymin, ymax], [zmin, zmax]]``), x fastest."""
    b = np.asarray(bounds, dtype=float)
    axes = [np.arange(lo + voxel / 2, hi, voxel) for lo, hi in b]
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
        orientations: ``(K, 3, 3)`` tool orientations tried at every voxel.
        reach_fraction: ``(V,)`` share of the ``K`` orientations reached, in [0, 1].
        best_manipulability: ``(V,)`` max ``√det(J Jᵀ)`` over reached orientations (0 if none).
        mean_manipulability: ``(V,)`` mean over reached orientations (0 if none).
        sample_q: ``(V, dof)`` the solution with the best manipulability (NaN if none).
        seed: Seed of the orientations and of every chunk's restarts.
        solves: Number of IK problems posed (voxels beyond the reach bound are skipped).
        tol_pos, tol_rot: Success tolerances [m], [rad].
        chunks_computed, chunks_loaded: How many chunks this call solved and how many it
            took from checkpoints.
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
                            solves=self.solves, tol_pos=self.tol_pos, tol_rot=self.tol_rot)
        return p

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReachabilityMap:
        """Read a map written by :meth:`save`."""
        with np.load(path) as d:
            return cls(str(d["robot"]), d["centers"], float(d["voxel"]), d["bounds"],
                       d["orientations"], d["reach_fraction"], d["best_manipulability"],
                       d["mean_manipulability"], d["sample_q"], int(d["seed"]),
                       int(d["solves"]), float(d["tol_pos"]), float(d["tol_rot"]))

    def equals(self, other: ReachabilityMap) -> bool:
        """Exact equality of every array (NaN equal to NaN) and parameter."""
        return (self.robot == other.robot and self.voxel == other.voxel
                and self.seed == other.seed and self.solves == other.solves
                and all(np.array_equal(getattr(self, n), getattr(other, n), equal_nan=True)
                        for n in self._ARRAYS))


@dataclass(frozen=True)
class _Task:
    robot: Robot
    centers: Array        # (v, 3)
    orientations: Array   # (K, 3, 3)
    seed: int
    solver: dict[str, Any]


def _solve_task(task: _Task) -> dict[str, np.ndarray]:
    """Solve every (voxel, orientation) of one chunk; reduce per voxel."""
    from .ik import solve

    v, K = len(task.centers), len(task.orientations)
    dof = task.robot.dof
    targets = transform(np.broadcast_to(task.orientations, (v, K, 3, 3)),
                        np.broadcast_to(task.centers[:, None, :], (v, K, 3)))
    res = solve(task.robot, targets, seed=task.seed, **task.solver)
    ok = np.asarray(res.success)
    q = np.asarray(res.q)
    _, J = fk_jacobian(task.robot, q)
    w = np.prod(np.linalg.svd(J, compute_uv=False), axis=-1)
    w = np.where(ok, w, 0.0)
    n_ok = ok.sum(axis=1)
    best = np.argmax(w, axis=1)
    sample = q[np.arange(v), best]
    sample = np.where((n_ok > 0)[:, None], sample, np.nan)
    return {"fraction": n_ok / K, "best": w.max(axis=1),
            "mean": np.where(n_ok > 0, w.sum(axis=1) / np.maximum(n_ok, 1), 0.0),
            "sample_q": sample.reshape(v, dof)}


def _fingerprint(robot: Robot) -> str:
    h = hashlib.sha256(repr((robot.model.joints, robot.base_link, robot.tip_link,
                             np.asarray(robot.base_pose).tolist(),
                             np.asarray(robot.tool).tolist())).encode())
    return h.hexdigest()[:16]


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
    progress: bool = True,
    tol_pos: float = 1e-4,
    tol_rot: float = 1e-3,
    restarts: int = 4,
    max_iter: int = 40,
    on_chunk: Any = None,
) -> ReachabilityMap:
    """Compute a reachability map of ``robot``'s tool frame.

    Args:
        robot: The model.
        voxel: Voxel edge [m].
        orientations: Number ``K`` of tool orientations per voxel (:func:`orientation_set`).
        bounds: ``(3, 2)`` box to tile [m], base frame. Default: the cube ``±robot.reach``
            around the base origin. Voxels farther than ``robot.reach`` from the base origin
            cannot be reached and are not solved (fraction 0).
        client: A ``dask.distributed.Client``; the chunks run on its cluster (workers need
            ``kinematics`` installed).
        workers: Without ``client``: local processes (``None``: in-process).
        chunk: Target number of IK problems per chunk (rounded to whole voxels).
        seed: Seed of the orientations and of each chunk's restarts: the same seed gives
            the same map in-process, on a pool and on Dask.
        checkpoint: Folder for finished chunks; an interrupted run with the same folder and
            parameters resumes, solving only missing chunks.
        progress: Progress bar on stderr (terminal only).
        tol_pos, tol_rot: Success tolerances [m], [rad] (a map needs less than 1e-6).
        restarts, max_iter: Passed to :func:`kinematics.ik.solve`.
        on_chunk: Optional ``callback(i, result)`` after each solved chunk.

    Returns:
        :class:`ReachabilityMap`.

    Raises:
        InvalidValueError: Non-positive voxel, orientations, chunk; a checkpoint folder from
            a different run.
        ShapeError: ``bounds`` is not ``(3, 2)``.
    """
    if not (np.isfinite(voxel) and voxel > 0):
        raise InvalidValueError(f"voxel={voxel!r}; expected a positive size in metres")
    if chunk < 1:
        raise InvalidValueError(f"chunk={chunk}; expected >= 1")
    R = robot.reach
    b = np.array([[-R, R]] * 3) if bounds is None else np.asarray(bounds, dtype=float)
    if b.shape != (3, 2):
        raise ShapeError("bounds", "(3, 2) [[xmin, xmax], [ymin, ymax], [zmin, zmax]]", b.shape)
    if not np.all(np.isfinite(b)) or np.any(b[:, 1] <= b[:, 0]):
        raise InvalidValueError(f"bounds={b.tolist()}; expected finite min < max per axis")
    rots = orientation_set(orientations, seed)
    centers = voxel_centers(b, voxel)
    base_origin = np.asarray(robot.base_pose)[:3, 3]
    candidate = np.linalg.norm(centers - base_origin, axis=1) <= R + voxel
    idx = np.flatnonzero(candidate)
    per = max(1, chunk // orientations)
    groups = [idx[i:i + per] for i in range(0, len(idx), per)]
    solver = {"tol_pos": tol_pos, "tol_rot": tol_rot, "restarts": restarts,
              "max_iter": max_iter}
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    tasks = [_Task(robot, centers[g], rots, int(s.generate_state(1)[0]), solver)
             for g, s in zip(groups, seeds, strict=True)]
    manifest = {"robot": robot.name, "fingerprint": _fingerprint(robot), "voxel": voxel,
                "orientations": orientations, "bounds": b.tolist(), "seed": seed,
                "chunk": chunk, **solver}
    run = run_chunks(_solve_task, tasks, client=client, workers=workers,
                     checkpoint=checkpoint, manifest=manifest, progress=progress,
                     label="voxel chunks", on_chunk=on_chunk)
    V = len(centers)
    frac, best, mean = np.zeros(V), np.zeros(V), np.zeros(V)
    sample = np.full((V, robot.dof), np.nan)
    for g, r in zip(groups, run.results, strict=True):
        frac[g], best[g], mean[g], sample[g] = r["fraction"], r["best"], r["mean"], r["sample_q"]
    return ReachabilityMap(robot.name, centers, float(voxel), b, rots, frac, best, mean, sample,
                           seed, int(len(idx) * orientations), float(tol_pos), float(tol_rot),
                           len(run.computed), len(run.loaded))

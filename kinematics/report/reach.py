"""Reachability report: ``map.npz``, ``summary.json`` and an HTML page of slices through the
voxel grid (matplotlib, lazily)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..reachability import ReachabilityMap
from .page import esc, figure_png, img, page, table

__all__ = ["write_reach_report", "slice_grid"]

_CSS = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
        "td{padding:2px 10px;border-bottom:1px solid #ddd}")


def slice_grid(m: ReachabilityMap, values: np.ndarray, axis: int,
               level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 2-D grid of ``values`` ``(V,)`` on the voxel layer nearest ``level`` along
    ``axis`` (0 x, 1 y, 2 z). Returns the two in-plane axes' centres and a
    ``(len(v), len(u))`` array (NaN where no voxel)."""
    c = m.centers
    layer = np.unique(c[:, axis])
    at = layer[np.argmin(np.abs(layer - level))]
    sel = np.isclose(c[:, axis], at)
    u_ax, v_ax = [a for a in range(3) if a != axis]
    us, vs = np.unique(c[:, u_ax]), np.unique(c[:, v_ax])
    grid = np.full((len(vs), len(us)), np.nan)
    iu = np.searchsorted(us, c[sel, u_ax])
    iv = np.searchsorted(vs, c[sel, v_ax])
    grid[iv, iu] = values[sel]
    return us, vs, grid


def _figure_png(m: ReachabilityMap) -> bytes:
    from matplotlib.figure import Figure

    names = "xyz"
    reached = m.reach_fraction > 0
    z_level = float(np.median(m.centers[reached, 2])) if reached.any() else 0.0
    planes = [(2, z_level), (1, 0.0), (0, 0.0)]  # through the base origin, and mid-height
    fig = Figure(figsize=(13, 8), constrained_layout=True)
    axes = fig.subplots(2, 3)
    for col, (axis, level) in enumerate(planes):
        for row, (vals, label, cmap) in enumerate([
                (m.reach_fraction, "reach fraction", "viridis"),
                (m.best_manipulability, "best manipulability", "magma")]):
            us, vs, grid = slice_grid(m, vals, axis, level)
            ax = axes[row, col]
            h = m.voxel / 2
            im = ax.imshow(grid, origin="lower", cmap=cmap,
                           extent=(us[0] - h, us[-1] + h, vs[0] - h, vs[-1] + h),
                           vmin=0, vmax=1 if row == 0 else None)
            u_ax, v_ax = [a for a in range(3) if a != axis]
            ax.set_xlabel(f"{names[u_ax]} [m]")
            ax.set_ylabel(f"{names[v_ax]} [m]")
            ax.set_title(f"{label}, {names[axis]} = {level:+.2f} m")
            ax.plot(0, 0, "r+", ms=12)
            fig.colorbar(im, ax=ax, shrink=0.8)
    return figure_png(fig)


def write_reach_report(m: ReachabilityMap, out: str | os.PathLike[str],
                       extra: dict[str, Any] | None = None) -> Path:
    """Write ``out/map.npz``, ``out/summary.json`` and a self-contained ``out/report.html``.

    Returns:
        Path of the HTML report.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    m.save(folder / "map.npz")
    reached = m.reach_fraction > 0
    summary = {
        "robot": m.robot, "voxel_m": m.voxel, "orientations": len(m.orientations),
        "voxels": len(m.centers), "voxels_reached": int(reached.sum()),
        "voxels_all_orientations": int(np.sum(m.reach_fraction == 1.0)),
        "reachable_volume_m3": float(reached.sum() * m.voxel**3),
        "dexterous_volume_m3": float(np.sum(m.reach_fraction >= 0.5) * m.voxel**3),
        "solves": m.solves, "tol_pos_m": m.tol_pos, "tol_rot_rad": m.tol_rot, "seed": m.seed,
        "max_best_manipulability": float(m.best_manipulability.max()),
        **(extra or {}),
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    body = f"""<h1>Reachability map: {esc(m.robot)}</h1>
<p>Each {m.voxel * 100:.1f} cm voxel centre was tried with the same {len(m.orientations)} tool
orientations (uniform on SO(3)); <b>reach fraction</b> is the share solved by the IK solver
inside the joint limits to {m.tol_pos:g} m / {m.tol_rot:g} rad. <b>Manipulability</b> is
Yoshikawa's √det(J Jᵀ) at the best solution. Slices pass through the voxel layers nearest
the stated planes (the red cross is the base origin). Data: <code>map.npz</code>.</p>
{table([esc(k), esc(v)] for k, v in summary.items())}
{img(_figure_png(m), "reachability slices", style="width:100%")}"""
    path = folder / "report.html"
    path.write_text(page(f"Reachability map: {m.robot}", body, _CSS), encoding="utf-8")
    return path

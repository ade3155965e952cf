"""Reachability report: ``map.npz``, ``summary.json`` and an HTML page of slices through the
voxel grid (matplotlib, lazily)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..reachability import ReachabilityMap
from .page import esc, figure_png, img, num, page, table

__all__ = ["write_reach_report", "slice_grid"]

_CSS = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}"
        "td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}"
        "td:nth-child(2){text-align:right;white-space:nowrap}img{max-width:100%}"
        ".def{color:#555;font-size:.9em}")


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
    if reached.any() and np.ptp(m.centers[reached, 2]) <= 1.01 * m.voxel:  # 1-2 layers
        planes = planes[:1]  # a planar arm: side views would be flat strips; show its plane
    fig = Figure(figsize=(4.4 * len(planes), 8), constrained_layout=True)
    axes = np.asarray(fig.subplots(2, len(planes))).reshape(2, len(planes))
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
    position_only = bool(getattr(m, "position_only", False))
    K = len(m.orientations)
    rows = [
        ("voxel edge", num(m.voxel, "m"), "edge of one cubic cell of the grid"),
        ("orientations per voxel", "position only" if position_only else num(K),
         "tool orientations tried at each voxel centre (uniform on SO(3))"),
        ("voxels", num(len(m.centers)), "cells of the box ±reach around the base"),
        ("voxels reached", num(int(reached.sum())), "at least one orientation solved"),
        ("voxels with every orientation", num(int(np.sum(m.reach_fraction == 1.0))),
         "all orientations solved"),
        ("reachable volume", num(summary["reachable_volume_m3"], "m³"),
         "voxels reached × voxel edge³ (<code>reachable_volume_m3</code>)"),
        ("dexterous volume", num(summary["dexterous_volume_m3"], "m³"),
         "voxels where at least half of the orientations were solved × voxel edge³ "
         "(<code>dexterous_volume_m3</code>); equals the reachable volume for a "
         "position-only map"),
        ("IK problems", num(int(m.solves)), "voxels within the reach bound × orientations"),
        ("tolerances", f"{num(m.tol_pos, 'm')} / {num(m.tol_rot, 'rad')}",
         "position / orientation error of a solved problem"),
        ("best manipulability, max", num(summary["max_best_manipulability"]),
         "largest √det(J Jᵀ) over the map (mixed units)"),
        ("seed", num(int(m.seed)), "same seed, same map"),
    ]
    for k, v in (extra or {}).items():
        if k == "wall_time_s":
            rows.append(("wall time", num(float(v), "s"), "this run, including resumed chunks"))
        elif k == "chunks_resumed":
            rows.append(("chunks resumed", num(int(v)), "read back from the checkpoint"))
        else:
            rows.append((k.replace("_", " "), esc(num(v)), ""))
    tbl = table(([esc(a), esc(b), f'<span class="def">{c}</span>'] for a, b, c in rows),
                header=["quantity", "value", "definition"])
    what = (f"For this position-only map (the arm has fewer than 6 joints, so it cannot hold "
            f"an arbitrary tool orientation) a {m.voxel * 100:.1f} cm voxel is <b>reached</b> "
            f"when the IK solver puts the tool inside it, within the joint limits; reach "
            f"fraction is 1 or 0." if position_only else
            f"Each {m.voxel * 100:.1f} cm voxel centre was tried with the same {K} tool "
            f"orientations (uniform on SO(3)); <b>reach fraction</b> is the share solved by "
            f"the IK solver inside the joint limits to {esc(num(m.tol_pos, 'm'))} / "
            f"{esc(num(m.tol_rot, 'rad'))}.")
    body = f"""<h1>Reachability map: {esc(m.robot)}</h1>
<p>{what}
<b>Manipulability</b> is Yoshikawa's √det(J Jᵀ) at the best solution. Slices pass through
the voxel layers nearest the stated planes (the red cross is the base origin). Data:
<code>map.npz</code>, numbers: <code>summary.json</code>.</p>
{tbl}
{img(_figure_png(m), "reachability slices")}"""
    path = folder / "report.html"
    path.write_text(page(f"Reachability map: {m.robot}", body, _CSS), encoding="utf-8")
    return path

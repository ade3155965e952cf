"""Singularity analysis report (``kinematics report ROBOT|URDF --out DIR``).

Writes ``DIR/report.html`` (self-contained: figures are embedded base64 PNGs rendered with
matplotlib's Agg canvas, no pyplot state, no network) and ``DIR/summary.json`` (the numbers
behind it). The report explains itself to a reader who did not run it:

1. singular values and manipulability along a trajectory (a file, or by default a sweep
   through a known singularity) with the monitor's warn/stop bands;
2. translational manipulability ellipsoids drawn on the arm at three poses;
3. a workspace map (tool positions of ``N`` sampled configurations coloured by
   manipulability) in two planes, and histograms over the workspace;
4. a table of the worst sampled configurations with the nearest exactly singular
   configuration, its lost direction and the joints involved;
5. a picture of the arm at the worst pose, from a renderer the caller passes in (the CLI
   passes PyBullet's, :func:`kinematics.sims.bullet.render_png`).

matplotlib is imported lazily (only when a report is made). This module knows nothing of
PyBullet or of the command line.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import robots
from .._certify import (
    CERTIFIED,
    CROSSING,
    POSSIBLE,
    SegmentCertificates,
    certified_radius,
    certify_segments,
)
from ..analysis import (
    TrajectoryAnalysis,
    WorkspaceSweep,
    analyze_trajectory,
    nearest_singularity,
    workspace_sweep,
)
from ..exceptions import InvalidValueError, ShapeError, did_you_mean, nearest_names
from ..forward import fk, fk_all
from ..jacobian import jacobian
from ..robot import Robot
from ..singularity import LEVELS, SingularityMonitor
from ..uncertainty import pose_covariance
from .page import esc, figure_png, img, jsonable, num, page, table

__all__ = ["ReportResult", "Renderer", "make_report", "load_trajectory", "default_trajectory"]

Array = NDArray[np.float64]
WORST_ROWS = 8

Renderer = Callable[[Robot, Array], tuple[bytes | None, str]]
"""``render(robot, q (dof,)) -> (PNG bytes or None, note)``: a picture of the arm at ``q``
and a line saying how it was made (or why there is none)."""


@dataclass(frozen=True)
class ReportResult:
    """Outcome of :func:`make_report`.

    Attributes:
        html: Path of ``report.html``.
        summary_json: Path of ``summary.json``.
        summary: The summary as a dict (what ``summary.json`` holds).
        seconds: Total wall time [s].
    """

    html: Path
    summary_json: Path
    summary: dict[str, Any]
    seconds: float


# ---------------------------------------------------------------------------------------
# trajectories


def default_trajectory(robot: Robot, n: int = 241, duration: float = 4.0
                       ) -> tuple[Array, Array, str]:
    """A sweep through a known singularity: ``(q (n, dof), t (n,), description)``.

    Bundled arms use their registry sweep (``kinematics.robots``: UR5 and PUMA wrist, iiwa
    stretched elbow, 2R elbow); any other robot goes from the middle of its joint ranges to
    the nearest singular configuration found by
    :func:`~kinematics.analysis.nearest_singularity` and 30 % past it.
    """
    t = np.linspace(0.0, duration, n)
    entry = robots.REGISTRY.get(robot.name)
    sweep = None if entry is None else entry.singular_sweep
    if sweep is not None and len(sweep.start) == robot.dof:
        q = np.tile(np.array(sweep.start, dtype=float), (n, 1))
        q[:, sweep.joint] = np.linspace(sweep.begin, sweep.end, n)
        return q, t, f"constant-velocity sweep through the {sweep.description}"
    lo, hi = robot.joint_limits[:, 0].copy(), robot.joint_limits[:, 1].copy()
    lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = -np.pi, np.pi
    q0 = np.clip(0.5 * (lo + hi) + 0.3 * (hi - lo) * np.linspace(-0.5, 0.5, robot.dof), lo, hi)
    starts = [q0, *robot.random_q(4, seed=1, margin=0.1)]
    found = [nearest_singularity(robot, q, max_iter=60) for q in starts]
    s = min(found, key=lambda r: (not r.converged, r.distance))
    q0 = s.q_start
    q1 = np.clip(q0 + 1.3 * (s.q - q0), lo, hi)
    q = q0 + np.linspace(0.0, 1.0, n)[:, None] * (q1 - q0)
    what = "nearest singular configuration" if s.converged else "most singular configuration found"
    return q, t, f"straight joint-space line from mid-range through the {what}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_trajectory(path: str | Path, robot: Robot) -> tuple[Array, Array | None]:
    """Read a joint trajectory from ``.npy`` or ``.csv``.

    Layout: ``(N, dof)`` joint values, or ``(N, dof + 1)`` with the time [s] in the first
    column. A CSV may start with a header naming the columns: joint names (any order) and
    optionally ``t`` or ``time``.

    Returns:
        ``(q (N, dof), t (N,) or None)``.

    Raises:
        InvalidValueError: The file does not exist, has another extension, is not numeric,
            or its header names unknown or misses joints.
        ShapeError: Not 2-D, or a column count other than ``dof`` or ``dof + 1``.
    """
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".npy"):
        raise InvalidValueError(f"trajectory file {str(p)!r}: expected a .csv or .npy file")
    if not p.is_file():
        raise InvalidValueError(f"trajectory file {str(p)!r} does not exist")
    header: list[str] | None = None
    try:
        if p.suffix.lower() == ".npy":
            data = np.asarray(np.load(p, allow_pickle=False), dtype=float)
        else:
            lines = [ln for ln in p.read_text().splitlines() if ln.strip()
                     and not ln.lstrip().startswith("#")]
            if lines and not any(_is_number(f) for f in lines[0].split(",")):
                header = [h.strip() for h in lines[0].split(",")]
                lines = lines[1:]
            data = np.array([[float(x) for x in ln.split(",")] for ln in lines], dtype=float)
    except (ValueError, TypeError, OSError) as exc:
        raise InvalidValueError(f"trajectory file {str(p)!r}: could not read it as numbers "
                                f"({exc})") from None
    if data.ndim != 2:
        raise ShapeError("trajectory", f"(N, {robot.dof}) or (N, 1 + {robot.dof}) rows",
                         data.shape)
    if header is not None:
        if len(header) != data.shape[1]:
            raise ShapeError("trajectory", f"(N, {len(header)}) to match the header",
                             data.shape)
        known = set(robot.joint_names) | {"t", "time"}
        unknown = [h for h in header if h not in known]
        if unknown:
            guess = did_you_mean(unknown[0], robot.joint_names)
            raise InvalidValueError(f"trajectory file {str(p)!r}: unknown column {unknown[0]!r}"
                                    f"{f' (did you mean {guess!r}?)' if guess else ''}; "
                                    "expected joint names "
                                    f"{nearest_names(unknown[0], robot.joint_names)} and "
                                    "optionally 't'")
        missing = [j for j in robot.joint_names if j not in header]
        if missing:
            raise InvalidValueError(f"trajectory file {str(p)!r}: missing joint columns "
                                    f"{missing}")
        q = data[:, [header.index(j) for j in robot.joint_names]]
        tcol = [i for i, h in enumerate(header) if h in ("t", "time")]
        return q, (data[:, tcol[0]] if tcol else None)
    if data.shape[1] == robot.dof:
        return data, None
    if data.shape[1] == robot.dof + 1:
        return data[:, 1:], data[:, 0]
    raise ShapeError("trajectory", f"(N, {robot.dof}) joint values or (N, 1 + {robot.dof}) "
                     "with the time first", data.shape)


# ---------------------------------------------------------------------------------------
# figures


def _fig_trajectory(a: TrajectoryAnalysis) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.5, 6.2))
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.axhspan(1e-300, a.stop, color="#f4a3a3", alpha=0.5, label="stop zone")
    ax1.axhspan(a.stop, a.warn, color="#f7dc8c", alpha=0.5, label="warn zone")
    for i in range(a.measures.sigma_scaled.shape[1]):
        ax1.semilogy(a.t, np.maximum(a.measures.sigma_scaled[:, i], 1e-12), lw=1,
                     color="0.55")
    ax1.semilogy(a.t, np.maximum(a.value, 1e-12), lw=2.2, color="C0",
                 label=f"{a.metric} (monitored)")
    ax1.semilogy([], [], lw=1, color="0.55", label="all singular values (scaled)")
    ax1.set_ylim(max(1e-5, 0.3 * float(np.min(np.maximum(a.value, 1e-12)))),
                 2.0 * float(a.measures.sigma_scaled.max()))
    ax1.set_ylabel("singular value [1]")
    ax1.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    ax1.set_title("Singular values of the unit-consistent Jacobian along the trajectory")
    ax2.plot(a.t, a.measures.manipulability, color="C2", label="manipulability (mixed units)")
    ax2.set_ylabel("manipulability")
    ax3 = ax2.twinx()
    ax3.plot(a.t, a.scale, color="C3", lw=1.2, ls="--", label="monitor velocity scale")
    ax3.set_ylim(-0.05, 1.05)
    ax3.set_ylabel("scale [0-1]")
    for lvl, color in ((1, "#f7dc8c"), (2, "#f4a3a3")):
        on = a.level == lvl
        if on.any():
            ax2.fill_between(a.t, 0, 1, where=on, color=color, alpha=0.5,
                             transform=ax2.get_xaxis_transform(), step="mid")
    h1, l1 = ax2.get_legend_handles_labels()
    h2, l2 = ax3.get_legend_handles_labels()
    ax2.legend(h1 + h2, l1 + l2, loc="upper left", bbox_to_anchor=(1.10, 1.0), fontsize=8,
               borderaxespad=0)
    ax2.set_xlabel("time [s]")
    return figure_png(fig)


def _ellipsoid_axes(robot: Robot, q: Array) -> tuple[Array, Array]:
    Jv = jacobian(robot, q)[:3]
    U, s, _ = np.linalg.svd(Jv)
    s3 = np.zeros(3)
    s3[: len(s)] = s
    return U, s3


def _fig_ellipsoids(robot: Robot, poses: list[tuple[str, Array]]) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(poses), 4.4))
    R = robot.reach
    smax = max(float(_ellipsoid_axes(robot, q)[1].max()) for _, q in poses) or 1.0
    u, v = np.meshgrid(np.linspace(0, 2 * np.pi, 24), np.linspace(0, np.pi, 12))
    sphere = np.stack([np.cos(u) * np.sin(v), np.sin(u) * np.sin(v), np.cos(v)], -1)
    for k, (title, q) in enumerate(poses):
        ax = fig.add_subplot(1, len(poses), k + 1, projection="3d")
        P = fk_all(robot, q)[:, :3, 3]
        ax.plot(P[:, 0], P[:, 1], P[:, 2], "-o", color="0.25", lw=3, ms=3)
        U, s = _ellipsoid_axes(robot, q)
        E = (sphere * (0.25 * R * s / smax)) @ U.T + P[-1]
        ax.plot_wireframe(E[..., 0], E[..., 1], E[..., 2], color="C0", lw=0.5, alpha=0.7)
        c, h = 0.5 * (P.min(0) + P.max(0)), 0.5 * max(float(np.ptp(P, 0).max()), 0.5 * R) + 0.25 * R
        ax.set_xlim(c[0] - h, c[0] + h)
        ax.set_ylim(c[1] - h, c[1] + h)
        ax.set_zlim(c[2] - h, c[2] + h)
        ax.set_box_aspect((1, 1, 1))
        ax.set_title(f"{title}\nσ(Jv) = " + ", ".join(f"{x:.2f}" for x in s), fontsize=9)
        ax.set_xlabel("x [m]", fontsize=8)
        ax.set_ylabel("y [m]", fontsize=8)
        ax.set_zlabel("z [m]", fontsize=8)
        ax.tick_params(labelsize=7)
    return figure_png(fig)


def _fig_workspace(w: WorkspaceSweep) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.6))
    ax1, ax2 = fig.subplots(1, 2)
    P, m = w.position, w.measures.manipulability
    r = np.hypot(P[:, 0], P[:, 1])
    kw = {"C": m, "reduce_C_function": np.mean, "gridsize": 55, "cmap": "viridis",
          "mincnt": 1}
    h1 = ax1.hexbin(P[:, 0], P[:, 1], **kw)
    ax1.set_aspect("equal")
    ax1.set_xlabel("x [m]")
    ax1.set_ylabel("y [m]")
    ax1.set_title("top view (x-y): mean manipulability per cell")
    fig.colorbar(h1, ax=ax1, shrink=0.85)
    if _is_planar(P):  # all tool positions in one z plane: a side view is a flat strip
        h2 = ax2.hexbin(P[:, 0], P[:, 1], **{**kw, "C": w.measures.sigma_min_scaled,
                                               "cmap": "plasma"})
        ax2.set_aspect("equal")
        ax2.set_xlabel("x [m]")
        ax2.set_ylabel("y [m]")
        ax2.set_title(f"the arm's plane z = {float(np.median(P[:, 2])):.2f} m: "
                      "mean σ_min,scaled per cell")
    else:
        h2 = ax2.hexbin(r, P[:, 2], **kw)
        ax2.set_aspect("equal")
        ax2.set_xlabel("distance from the base axis r [m]")
        ax2.set_ylabel("z [m]")
        ax2.set_title("side view (r-z): mean manipulability per cell")
    fig.colorbar(h2, ax=ax2, shrink=0.85)
    return figure_png(fig)


def _is_planar(P: Array) -> bool:
    """All points ``(N, 3)`` within 1 % of their largest extent of one ``z`` plane."""
    ext = float(np.ptp(P, axis=0).max()) or 1.0
    return float(np.ptp(P[:, 2])) <= 0.01 * ext


_STATUS_COLORS = {CERTIFIED: "#2e7d32", POSSIBLE: "#f2a900", CROSSING: "#c62828"}


def _fig_certificates(a: TrajectoryAnalysis, c: SegmentCertificates) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    fig = Figure(figsize=(9.5, 3.6))
    ax1, ax2 = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    r = np.maximum(c.radius, 1e-9)
    ax1.semilogy(a.t, r, color="C0", lw=1.8, label="certified radius r(q) [rad]")
    if len(c.step):
        tm = 0.5 * (a.t[1:] + a.t[:-1])
        ax1.semilogy(tm, np.maximum(c.step, 1e-9), color="0.4", lw=1, ls="--",
                     label="segment length ‖Δq‖∞ [rad]")
        for k, (t0, t1) in enumerate(zip(a.t[:-1], a.t[1:], strict=True)):
            ax2.axvspan(t0, t1, color=_STATUS_COLORS[int(c.status[k])], lw=0)
    ax1.set_ylabel("[rad]")
    ax1.set_title("Certified singularity-free radius per sample and certificate per segment")
    ax1.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    ax2.set_yticks([])
    ax2.set_xlabel("time [s]")
    names = {CERTIFIED: "certified singularity-free", POSSIBLE: "possibly singular",
             CROSSING: "proven crossing (det J changes sign)"}
    ax2.legend(handles=[Patch(color=_STATUS_COLORS[k], label=names[k]) for k in names],
               loc="upper left", bbox_to_anchor=(1.01, 1.3), fontsize=8, borderaxespad=0)
    return figure_png(fig)


def _fig_uncertainty(robot: Robot, a: TrajectoryAnalysis, noise: float, link: str | None,
                     count: int = 9) -> tuple[bytes, dict[str, Any]]:
    """Tool path and 1-σ position-uncertainty ellipses (first order, ``J Σ_q Jᵀ``) for joint
    noise of standard deviation ``noise`` [rad], projected on the plane that shows the path
    best; ellipses magnified by a factor written on the figure."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse

    idx = np.unique(np.linspace(0, len(a.q) - 1, count).round().astype(int))
    P = fk(robot, a.q, link)[..., :3, 3]
    C = pose_covariance(robot, a.q[idx], np.full(robot.dof, noise**2), link)[:, :3, :3]
    # the plane: the two base axes with the largest spread of path and arm
    arm = fk_all(robot, a.q[idx[len(idx) // 2]])[:, :3, 3]
    spread = np.ptp(np.vstack([P, arm]), axis=0)
    u, v = sorted(np.argsort(spread)[-2:]) if not _is_planar(np.vstack([P, arm])) else (0, 1)
    names = "xyz"
    C2 = C[:, [u, v]][:, :, [u, v]]
    sig = np.sqrt(np.maximum(np.linalg.eigvalsh(C2), 0.0))  # (k, 2) semi-axes [m]
    extent = max(float(np.ptp(np.vstack([P, arm])[:, [u, v]], axis=0).max()), 1e-3)
    biggest = float(sig.max()) if sig.size else 0.0
    scale = 1.0
    if biggest > 0:  # the largest 1-2-5 step that keeps the biggest ellipse ~8 % of the view
        want = 0.08 * extent / biggest
        decade = 10.0 ** math.floor(math.log10(want))
        scale = max(m * decade for m in (1, 2, 5) if m * decade <= want)
    fig = Figure(figsize=(8.5, 6.0))
    ax = fig.subplots()
    ax.plot(P[:, u], P[:, v], color="0.35", lw=1.2, label="tool path")
    ax.plot(arm[:, u], arm[:, v], "-o", color="0.7", lw=3, ms=3,
            label=f"arm at t = {a.t[idx[len(idx) // 2]]:.2f} s")
    for k, i in enumerate(idx):
        val, vec = np.linalg.eigh(C2[k])
        ang = math.degrees(math.atan2(vec[1, 1], vec[0, 1]))
        wdt, hgt = 2 * scale * np.sqrt(np.maximum(val[::-1], 0.0))
        ax.add_patch(Ellipse((P[i, u], P[i, v]), wdt, hgt, angle=ang, fc="C0", alpha=0.35,
                             ec="C0", lw=1.2, label="1σ position uncertainty" if k == 0 else None))
    ax.set_aspect("equal")
    ax.set_xlabel(f"{names[u]} [m]")
    ax.set_ylabel(f"{names[v]} [m]")
    ax.set_title(f"Tool-position uncertainty for σ = {noise:g} rad encoder noise per joint "
                 f"({names[u]}-{names[v]} plane)", fontsize=10)
    ax.text(0.02, 0.02, f"ellipses magnified ×{scale:,.0f}", transform=ax.transAxes,
            fontsize=10, weight="bold", bbox={"facecolor": "white", "edgecolor": "0.6"})
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
    ax.autoscale_view()
    info = {"noise_rad": noise, "plane": names[u] + names[v], "magnification": scale,
            "t_s": a.t[idx], "sigma_max_m": np.sqrt(np.linalg.eigvalsh(C).max(axis=-1)),
            "sigma_plane_m": sig}
    return figure_png(fig), info


def _fig_histograms(w: WorkspaceSweep, warn: float, stop: float) -> bytes:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.8))
    ax1, ax2 = fig.subplots(1, 2)
    s = np.maximum(w.measures.sigma_min_scaled, 1e-9)
    bins = np.logspace(math.log10(max(float(s.min()), 1e-6)), math.log10(float(s.max())), 60)
    ax1.hist(s, bins=bins, color="C0")
    ax1.set_xscale("log")
    # warn (right of stop) labelled to the right of its line, stop to the left of its own, at
    # two heights: the labels cannot overlap however close the thresholds are
    for x, c, name, ha, y in ((warn, "#d9a400", "warn", "left", 0.95),
                              (stop, "#c62828", "stop", "right", 0.82)):
        ax1.axvline(x, color=c, lw=2)
        frac = float(np.mean(w.measures.sigma_min_scaled < x))
        ax1.text(x, y, f" {name}: {100 * frac:.1f}% below ", color=c, fontsize=8, ha=ha,
                 va="top", transform=ax1.get_xaxis_transform(),
                 bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1})
    ax1.set_xlabel("σ_min, scaled (dimensionless)")
    ax1.set_ylabel("samples")
    ax1.set_title("distance to singularity over the workspace")
    ax2.hist(w.measures.manipulability, bins=60, color="C2")
    ax2.set_xlabel("manipulability (mixed units)")
    ax2.set_title("manipulability over the workspace")
    return figure_png(fig)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;color:#222;
line-height:1.45;padding:0 1em}h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;
padding-bottom:.2em;margin-top:1.8em}table{border-collapse:collapse;font-size:.85em;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}th{background:#f3f3f3}
img{max-width:100%}.note{color:#555;font-size:.9em}code{background:#f5f5f5;padding:0 .2em}
.meta td:first-child{font-weight:600}"""


def make_report(robot: Robot, out_dir: str | Path, *, trajectory: ArrayLike | None = None,
                t: ArrayLike | None = None, samples: int = 100_000, seed: int | None = 0,
                monitor: SingularityMonitor | None = None, render: Renderer | None = None,
                progress: bool = True, encoder_noise: float = 1e-4) -> ReportResult:
    """Write ``out_dir/report.html`` and ``out_dir/summary.json``.

    Args:
        robot: The model.
        out_dir: Output folder (created).
        trajectory: ``(N, dof)`` joint trajectory; default :func:`default_trajectory`.
        t: ``(N,)`` its sample times [s] (default 0.01 s per sample).
        samples: Workspace samples (``>= 1``).
        seed: Seed of the workspace samples.
        monitor: Monitor whose metric and thresholds are shown (default
            ``SingularityMonitor(robot)``).
        render: Picture of the arm at the worst pose (:data:`Renderer`); ``None``: none.
        progress: Progress bar on stderr (only drawn on a terminal).
        encoder_noise: Standard deviation [rad] of independent joint encoder noise, for the
            tool-position uncertainty ellipses (:func:`~kinematics.uncertainty.pose_covariance`).

    Returns:
        :class:`ReportResult`.

    Raises:
        InvalidValueError, ShapeError: Bad trajectory, times, samples, encoder noise; an
            output folder that cannot be created.
    """
    if not (isinstance(encoder_noise, (int, float)) and math.isfinite(encoder_noise)
            and encoder_noise >= 0):
        raise InvalidValueError(f"encoder_noise={encoder_noise!r}; expected a standard "
                                "deviation >= 0 [rad]")
    import matplotlib  # noqa: F401  (fail early and clearly if it is missing)

    start = time.perf_counter()
    timings: dict[str, float] = {}
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidValueError(f"output folder {str(out)!r} cannot be created: {exc}") from None
    mon = SingularityMonitor(robot) if monitor is None else monitor

    tic = time.perf_counter()
    t_traj: Array | None
    if trajectory is None:
        q_traj, t_traj, traj_what = default_trajectory(robot)
    else:
        q_traj = robot.check_q(trajectory, "trajectory")
        t_traj = None if t is None else np.asarray(t, dtype=np.float64)
        traj_what = f"user trajectory ({len(q_traj)} samples)"
    a = analyze_trajectory(robot, q_traj, t=t_traj, dt=None if t_traj is not None else 0.01,
                           monitor=mon)
    cert = certify_segments(robot, a.q, rows=mon.rows, link=mon.link)
    timings["trajectory_s"] = time.perf_counter() - tic

    tic = time.perf_counter()
    w = workspace_sweep(robot, samples, seed=seed, rows=mon.rows, length=mon.length,
                        link=mon.link, progress=progress)
    timings["workspace_sweep_s"] = w.seconds

    worst_idx = w.worst(min(WORST_ROWS, samples))
    worst = []
    for i in worst_idx:
        s = nearest_singularity(robot, w.q[i], link=mon.link, rows=mon.rows, max_iter=50)
        worst.append((int(i), s))
    worst_radius = certified_radius(robot, w.q[worst_idx], link=mon.link, rows=mon.rows)
    timings["nearest_singularities_s"] = time.perf_counter() - tic - w.seconds

    tic = time.perf_counter()
    iw = a.worst_index
    poses = [("trajectory start", a.q[0]), (f"trajectory worst (t = {a.t[iw]:.2f} s)", a.q[iw]),
             ("workspace worst sample", w.q[worst_idx[0]])]
    figs = {
        "trajectory": _fig_trajectory(a),
        "ellipsoids": _fig_ellipsoids(robot, poses),
        "workspace": _fig_workspace(w),
        "histograms": _fig_histograms(w, mon.warn, mon.stop),
        "certificates": _fig_certificates(a, cert),
    }
    figs["uncertainty"], unc = _fig_uncertainty(robot, a, float(encoder_noise), mon.link)
    timings["figures_s"] = time.perf_counter() - tic
    tic = time.perf_counter()
    worst_pose = worst[0][1].q if worst[0][1].converged else w.q[worst_idx[0]]
    render_png, render_note = (render(robot, worst_pose) if render is not None
                               else (None, "rendering disabled"))
    timings["render_s"] = time.perf_counter() - tic

    sm = w.measures
    fr_warn = float(np.mean(sm.sigma_min_scaled < mon.warn))
    fr_stop = float(np.mean(sm.sigma_min_scaled < mon.stop))
    levels = {name: float(np.mean(a.level == i)) for i, name in enumerate(LEVELS)}
    first = {name: (float(a.t[np.argmax(a.level == i)]) if (a.level == i).any() else None)
             for i, name in enumerate(LEVELS) if name != "ok"}
    worst_rows = [{
        "sample": i, "q": w.q[i], "sigma_min_scaled": float(sm.sigma_min_scaled[i]),
        "sigma_min": float(sm.sigma_min[i]), "nearest_singular_q": s.q,
        "distance_rad": s.distance, "converged": s.converged,
        "certified_radius_rad": float(worst_radius[k]),
        "sigma_min_at_nearest": s.sigma_min, "kind": s.classification.kind,
        "lost_twist": s.classification.lost_twist, "involved_joints": s.classification.involved,
        "joint_weights": s.classification.weights, "description": s.classification.description,
    } for k, (i, s) in enumerate(worst)]
    timings["total_s"] = time.perf_counter() - start
    summary = jsonable({
        "robot": {"name": robot.name, "source": robot.source, "dof": robot.dof,
                  "base": robot.base_link, "tip": robot.tip_link,
                  "joints": list(robot.joint_names), "reach_m": robot.reach},
        "monitor": {"metric": mon.metric, "warn": mon.warn, "stop": mon.stop,
                    "hysteresis": mon.hysteresis, "rows": list(mon.rows),
                    "length_m": mon.length},
        "trajectory": {"description": traj_what, "samples": len(a.t),
                       "duration_s": float(a.t[-1] - a.t[0]),
                       "min_value": float(a.value.min()), "t_min_value": float(a.t[iw]),
                       "q_min_value": a.q[iw], "fraction_by_level": levels,
                       "first_time_s": first, "min_scale": float(a.scale.min())},
        "workspace": {"samples": int(samples), "seed": seed, "seconds": w.seconds,
                      "sigma_min_scaled_percentiles": dict(zip(
                          ["p1", "p5", "p25", "p50", "p75", "p95"],
                          np.percentile(sm.sigma_min_scaled, [1, 5, 25, 50, 75, 95]).tolist(),
                          strict=True)),
                      "manipulability_mean": float(sm.manipulability.mean()),
                      "fraction_below_warn": fr_warn, "fraction_below_stop": fr_stop},
        "certificates": {
            "segments": int(len(cert.status)),
            "certified": int(np.sum(cert.status == CERTIFIED)),
            "possible": int(np.sum(cert.status == POSSIBLE)),
            "crossing": int(np.sum(cert.status == CROSSING)),
            "crossing_t_s": [float(a.t[k]) for k in np.flatnonzero(cert.status == CROSSING)],
            "min_radius_rad": float(cert.radius.min()), "radius_rad": cert.radius},
        "uncertainty": unc,
        "worst": worst_rows,
        "render": {"included": render_png is not None, "note": render_note},
        "figures": [*figs, *(["robot"] if render_png else [])],
        "timings": timings,
    })
    html_path, json_path = out / "report.html", out / "summary.json"
    html_path.write_text(_html(robot, mon, a, w, traj_what, figs, worst, worst_radius,
                               render_png, render_note, summary), encoding="utf-8")
    json_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return ReportResult(html_path, json_path, summary, time.perf_counter() - start)


def _vec(v: ArrayLike, decimals: int) -> str:
    """``[+0.12, -3.40]``: fixed decimals, no scientific notation, no ``-0``."""
    return "[" + ", ".join(f"{x + 0.0:+.{decimals}f}" for x in np.asarray(v, float)) + "]"


def _html(robot: Robot, mon: SingularityMonitor, a: TrajectoryAnalysis, w: WorkspaceSweep,
          traj_what: str, figs: dict[str, bytes], worst: list, worst_radius: Array,
          render_png: bytes | None,
          render_note: str, summary: dict[str, Any]) -> str:
    ws, tr = summary["workspace"], summary["trajectory"]
    cs, un = summary["certificates"], summary["uncertainty"]
    crossing_at = ("" if not cs["crossing_t_s"] else " at t = "
                   + ", ".join(f"{x:.2f} s" for x in cs["crossing_t_s"][:5]))
    pct = ws["sigma_min_scaled_percentiles"]
    rows: list[list[str]] = []
    for rank, ((i, s), rc) in enumerate(zip(worst, worst_radius, strict=True), 1):
        c = s.classification
        joints = ", ".join(f"{n} ({x:+.2f})" for n, x in zip(c.involved, c.weights, strict=True))
        lost = _vec(c.lost_twist, 2)
        rows.append([
            str(rank), str(i), esc(num(float(w.measures.sigma_min_scaled[i]))),
            f"<code>{esc(_vec(w.q[i], 3))}</code>",
            esc(num(float(rc) * 1e3, "mrad")),
            esc(num(float(s.distance) * 1e3, "mrad")) if s.converged else "not found",
            f"{esc(c.kind)}: <code>{esc(lost)}</code>", esc(joints), esc(c.description)])
    first = ", ".join(f"{k} at {v:.2f} s" for k, v in tr["first_time_s"].items()
                      if isinstance(v, float)) or "never"
    render_html = (img(render_png, "robot at the worst configuration") if render_png
                   else f'<p class="note">{esc(render_note)}</p>')
    t = summary["timings"]
    meta = table([
        ["robot", f"{esc(robot.name)} ({robot.dof} joints, {esc(robot.base_link)} &rarr; "
                  f"{esc(robot.tip_link)}), reach {robot.reach:.3f} m; source "
                  f"<code>{esc(robot.source)}</code>"],
        ["monitor", f"metric <code>{esc(mon.metric)}</code>, warn below {esc(num(mon.warn))}, "
                    f"stop below {esc(num(mon.stop))}, hysteresis {mon.hysteresis:.0%}, Jacobian "
                    f"rows {list(mon.rows)}"],
        ["workspace", f"{ws['samples']:,} uniform samples inside the joint limits (seed "
                      f"{esc(ws['seed'])}), swept in {ws['seconds']:.2f} s; report made in "
                      f"{t['total_s']:.1f} s"],
    ], cls="meta")
    worst_table = table(rows, header=[
        "#", "sample", "&sigma;<sub>min,scaled</sub>", "q [rad]",
        "certified singularity-free radius (‖Δq‖<sub>∞</sub>)",
        "distance to the singular configuration found (‖Δq‖<sub>2</sub>)",
        "lost direction", "involved joints (null motion)", "explanation"])
    return page(f"Singularity report: {robot.name}", css=_CSS, body=f"""\
<h1>Singularity report: {esc(robot.name)}</h1>
<p class="note">Generated by <code>kinematics report</code>. All figures are embedded.</p>
{meta}

<h2>How to read this report</h2>
<p>The arm's geometric Jacobian <i>J</i> maps joint velocities to the tool twist
[v; &omega;]. Its singular values &sigma;<sub>1</sub> &ge; &hellip; &ge; &sigma;<sub>min</sub>
are the tool speeds produced by unit joint speed in the best to worst directions. At a
<b>singularity</b> &sigma;<sub>min</sub> = 0: one tool direction (the <i>lost direction</i>,
left singular vector) cannot be produced at all, and near it the joint speeds needed to move
that way grow like 1/&sigma;<sub>min</sub>. Linear rows are in m/rad and angular rows in
rad/rad, so raw &sigma; mix units; the <b>scaled</b> values divide the linear rows by the
reach L = {mon.length:.3f} m and are dimensionless: 1/&sigma;<sub>min,scaled</sub> is the
worst-case joint speed [rad/s] per reach-per-second (or rad/s) of tool motion.
<b>Manipulability</b> is the product of the singular values (the volume of the velocity
ellipsoid). The <b>monitor</b> warns below {esc(num(mon.warn))} and stops below {esc(num(mon.stop))}
(defaults: a 3 %-of-reach-per-second jog in the worst direction would use a quarter of /
all of the slowest joint's speed limit) and scales the commanded velocity from 1 at warn to
0 at stop only while the motion approaches the singularity.</p>

<h2>1. Along a trajectory</h2>
<p>{esc(traj_what)}; {tr['samples']} samples over {tr['duration_s']:.2f} s. Smallest
monitored value {esc(num(tr['min_value']))} (dimensionless) at t = {tr['t_min_value']:.2f} s;
first level change:
{esc(first)}; time spent in warn {tr['fraction_by_level']['warn']:.0%}, in stop
{tr['fraction_by_level']['stop']:.0%}. Yellow/red bands: warn/stop zones (top) and the
monitor's level along time (bottom); the dashed line is the velocity scale the monitor would
apply to this motion.</p>
{img(figs['trajectory'], 'singular values along the trajectory')}

<h3>Certificate per segment</h3>
<p>For every sample the <b>certified radius</b> r(q) [rad] is a proven bound: no
configuration within r of q in every joint (‖Δq‖<sub>∞</sub> &le; r) is singular (Weyl's
inequality with a Lipschitz bound of J over the box). A segment between two samples is
<b style="color:#2e7d32">certified singularity-free</b> when the two radii cover it
(r<sub>k</sub> + r<sub>k+1</sub> &ge; ‖q<sub>k+1</sub> &minus; q<sub>k</sub>‖<sub>∞</sub>),
a <b style="color:#c62828">proven crossing</b> when det J changes sign between two
non-singular samples (intermediate value theorem: the straight segment meets a singularity
even if no sample is near it), and otherwise <b style="color:#b07d00">possibly singular</b>.
Here: {cs['certified']} of {cs['segments']} segments certified, {cs['possible']} possibly
singular, {cs['crossing']} proven crossing{crossing_at}; smallest radius
{esc(num(cs['min_radius_rad'] * 1e3, 'mrad'))}.</p>
{img(figs['certificates'], 'certificate per segment along the trajectory')}

<h3>Tool-position uncertainty from encoder noise</h3>
<p>Independent joint encoder noise of standard deviation {esc(num(un['noise_rad'], 'rad'))}
moves the tool by &delta;p &asymp; J<sub>v</sub> &delta;q; its covariance is
&Sigma;<sub>p</sub> = J<sub>v</sub> &Sigma;<sub>q</sub> J<sub>v</sub><sup>T</sup> (first
order). The ellipses are the 1&sigma; contours of &Sigma;<sub>p</sub> projected on the
{un['plane'][0]}-{un['plane'][1]} plane at {len(un['t_s'])} times along the trajectory,
magnified &times;{esc(num(float(un['magnification'])))} (written on the figure); the largest
1&sigma; tool error along any direction is
{esc(num(min(un['sigma_max_m']) * 1e3, 'mm'))} to
{esc(num(max(un['sigma_max_m']) * 1e3, 'mm'))}.</p>
{img(figs['uncertainty'], 'tool-position uncertainty ellipses')}

<h2>2. Velocity ellipsoids on the arm</h2>
<p>Translational manipulability ellipsoids at the tool (principal axes = left singular
vectors of the linear rows J<sub>v</sub>, lengths &prop; their singular values, same scale in
all panels). A flat ellipsoid means the tool can hardly move along its short axis.</p>
{img(figs['ellipsoids'], 'manipulability ellipsoids')}

<h2>3. Workspace</h2>
<p>Tool positions of the sampled configurations, each cell coloured by the mean
manipulability of the configurations that put the tool there. Percentiles of
&sigma;<sub>min,scaled</sub>: 1 % {esc(num(pct['p1'], digits=2))}, 5 %
{esc(num(pct['p5'], digits=2))}, median {esc(num(pct['p50'], digits=2))}, 95 %
{esc(num(pct['p95'], digits=2))}. {ws['fraction_below_warn']:.1%} of the samples
are below the warn threshold, {ws['fraction_below_stop']:.1%} below stop.</p>
{img(figs['workspace'], 'workspace map')}
{img(figs['histograms'], 'histograms')}

<h2>4. Worst configurations</h2>
<p>The {len(worst)} samples closest to a singularity. From each, a Newton search on
&sigma;<sub>min</sub> finds a nearby exactly singular configuration within the joint limits
(its joint-space distance ‖Δq‖<sub>2</sub>, in mrad); the certified radius is a proven
lower bound on the distance to <i>any</i> singular configuration in the ‖Δq‖<sub>∞</sub>
norm. The lost direction is the unit left singular vector
[vx vy vz &omega;x &omega;y &omega;z] there, and the involved joints are the large components of
the null joint motion (right singular vector).</p>
{worst_table}

<h2>5. The arm at the worst configuration</h2>
{render_html}
<p class="note">Timings: trajectory {t['trajectory_s']:.2f} s, workspace
{t['workspace_sweep_s']:.2f} s, nearest singularities {t['nearest_singularities_s']:.2f} s,
figures {t['figures_s']:.2f} s, rendering {t['render_s']:.2f} s. Numbers: summary.json.</p>""")


"""Outputs of a ``kinematics simulate`` run: ``metrics.json`` and a self-contained HTML
report (figures embedded as PNG).

Matplotlib is used through its object API on the Agg canvas (no pyplot, no display), so
the report renders headless. Every figure is also written next to the report as a PNG;
``overview.png`` is the one-figure summary (tracking, 3-D path, ``sigma_min`` and the
damped-vs-undamped joint speeds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kinematics.report.page import esc, figure_png, fmt, img, jsonable, num, page, table

from .simulate import Bars, SimulationResult, Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["write_outputs", "write_report", "figures"]

LEVEL_COLORS = ("#ffffff", "#ffe8a3", "#ffb3b3")  # ok, warn, stop backgrounds
FLOOR = 1e-17  # log axes: exact zeros are drawn at this floor
# metrics table: (key in metrics.json, what it is, unit)
_TABLE_ROWS = (
    ("steps", "control steps", ""),
    ("duration_s", "simulated time", "s"),
    ("fk_max_error_m", "FK position error vs PyBullet, max", "m"),
    ("fk_max_rotation_error_rad", "FK orientation error vs PyBullet, max", "rad"),
    ("jacobian_max_error", "Jacobian error vs PyBullet, max (m/rad and rad/rad entries)", ""),
    ("twist_max_error", "tool twist error vs PyBullet, max (m/s and rad/s)", ""),
    ("tracking_rms_m", "tool tracking error, RMS", "m"),
    ("tracking_max_m", "tool tracking error, max", "m"),
    ("tracking_rotation_max_rad", "tool orientation error, max", "rad"),
    ("sigma_min_min", "smallest singular value of J (mixed units)", ""),
    ("max_joint_speed", "fastest measured joint speed", "rad/s"),
    ("max_joint_speed_ratio", "fastest measured joint speed / its limit", ""),
    ("max_commanded_speed_ratio", "fastest commanded joint speed / its limit", ""),
    ("velocity_limit_violations", "steps above a joint speed limit (commanded, or measured "
     "by more than PyBullet's 1 % motor tracking)", ""),
    ("velocity_tracking_max", "joint speed tracking error, max", "rad/s"),
    ("monitor_levels", "monitor steps per level", ""),
    ("first_warn_s", "first warn (— never)", "s"),
    ("first_stop_s", "first stop (— never)", "s"),
    ("monitor_metric_min", "smallest monitored σ_min,scaled (dimensionless)", ""),
    ("monitor_warn_threshold", "monitor warn threshold (dimensionless)", ""),
    ("monitor_stop_threshold", "monitor stop threshold (dimensionless)", ""),
    ("monitor_scale_min", "smallest monitor velocity scale (0-1)", ""),
    ("monitor_halted", "monitor halted the arm", ""),
    ("halted_s", "halted at (— never)", "s"),
)
_CSS = """
body { font-family: sans-serif; max-width: 1250px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td:first-child { font-weight: bold; }
.pass { color: #0a6b20; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
figure { margin: 1.5em 0; } img { max-width: 100%; }
figcaption { color: #555; font-size: 0.9em; }
"""


def _figure(w: float, h: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100, layout="constrained")


def _png(fig: Figure) -> bytes:
    """PNG at the figure's own resolution, uncropped (the layout is constrained already)."""
    return figure_png(fig, dpi=None, tight=False)


def _shade_levels(ax: Axes, tr: Trace) -> None:
    """Background bands where the monitor was at ``warn`` / ``stop``; a vertical line where
    the (applied) monitor halted the approach."""
    halted = tr.halted() if tr.monitored else np.zeros(0, bool)
    if halted.any():
        ax.axvline(tr.t[np.argmax(halted)], color="#c00", lw=0.9, ls="-.",
                   label="monitor halts the approach")
    for lv in (1, 2):
        on = tr.level == lv
        if not on.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            ax.axvspan(tr.t[a], tr.t[b - 1] + tr.dt, color=LEVEL_COLORS[lv], lw=0, zorder=0)


def _tracking(ax: Axes, tr: Trace, bar: float) -> None:
    ax.plot(tr.t, 1e3 * tr.pos_error, lw=1, label="position error [mm]")
    ax.axhline(1e3 * bar, color="k", ls="--", lw=0.8, label=f"RMS bar {1e3 * bar:g} mm")
    rms = float(np.sqrt(np.mean(tr.pos_error ** 2)))
    ax.axhline(1e3 * rms, color="C2", ls=":", lw=1, label=f"RMS {1e3 * rms:.3f} mm")
    ax.set_xlabel("t [s]")
    ax.set_ylabel("tool position error [mm]")
    ax.set_title(f"{tr.name}: tracking error (PyBullet tool vs target)")
    ax.legend(fontsize=7, loc="upper right")


def _speeds(ax: Axes, tr: Trace, commanded: bool = True, log: bool = False) -> None:
    """``|q̇_i| / limit_i`` per joint over time (limit = 1)."""
    r = np.abs(tr.qd_cmd if commanded else tr.qd) / tr.velocity_limits
    for i in range(r.shape[1]):
        ax.plot(tr.t, np.maximum(r[:, i], 1e-4) if log else r[:, i], lw=0.9, label=f"q{i + 1}")
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    if log:
        ax.set_yscale("log")
        ax.set_ylim(1e-3, max(2.0, 2 * float(r.max())))
    else:
        ax.set_ylim(0, max(1.1, 1.05 * float(r.max())))
    _shade_levels(ax, tr)
    ax.set_xlabel("t [s]")
    ax.set_ylabel(("commanded" if commanded else "measured") + " |q̇| / limit")


def _path3d(ax: Any, tr: Trace) -> None:
    ax.plot(*tr.p_target.T, "k--", lw=1, label="target")
    ax.plot(*tr.p_actual.T, "C0", lw=1.2, label="PyBullet tool")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_zlabel("z [m]")
    lo, hi = tr.p_target.min(0), tr.p_target.max(0)
    c, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 0.05) * 1.15
    ax.set_xlim(c[0] - half, c[0] + half)
    ax.set_ylim(c[1] - half, c[1] + half)
    ax.set_zlim(c[2] - half, c[2] + half)
    ax.set_title(f"{tr.name}: tool path (world frame)")
    ax.legend(fontsize=7)


def _sigma(ax: Axes, traces: list[Trace]) -> None:
    """The monitor's metric (``sigma_min_scaled``) with its thresholds, and raw σ_min."""
    for k, tr in enumerate(traces):
        c = f"C{3 * k}"
        ax.plot(tr.t, np.maximum(tr.metric, FLOOR), lw=1.3, color=c,
                label=f"{tr.name}: monitor metric")
        ax.plot(tr.t, np.maximum(tr.sigma_min, FLOOR), lw=0.8, ls=":", color=c,
                label=f"{tr.name}: sigma_min(J)")
    tr = traces[0]
    ax.axhline(tr.warn, color="#c90", ls="--", lw=0.8, label=f"warn {tr.warn:.3g}")
    ax.axhline(tr.stop, color="#c00", ls="--", lw=0.8, label=f"stop {tr.stop:.3g}")
    _shade_levels(ax, tr)
    ax.set_yscale("log")
    ax.set_xlabel("t [s]")
    ax.set_ylabel("sigma_min_scaled (monitor), sigma_min")
    ax.set_title("distance to singularity; background: monitor warn / stop", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")


def figures(result: SimulationResult) -> dict[str, tuple[str, bytes]]:
    """``{file name: (caption, PNG bytes)}`` of every figure the run supports."""
    bars = Bars(**result.metrics["bars"])
    tr = result.traces
    out: dict[str, tuple[str, bytes]] = {}
    circle, sing, naive = tr.get("circle"), tr.get("singularity"), tr.get("singularity_undamped")

    # overview: the one figure for the README
    fig = _figure(12, 7.5)
    gs = fig.add_gridspec(2, 2)
    if circle is not None:
        _tracking(fig.add_subplot(gs[0, 0]), circle, bars.tracking_rms_m)
        _path3d(fig.add_subplot(gs[0, 1], projection="3d"), circle)
    if sing is not None and naive is not None:
        ax = fig.add_subplot(gs[1, 0])
        _speeds_max(ax, [sing, naive])
        _sigma(fig.add_subplot(gs[1, 1]), [sing, naive])
    fig.suptitle(f"kinematics simulate {result.robot.name}: PyBullet closed loop "
                 f"({result.robot.base_link} → {result.robot.tip_link})")
    out["overview.png"] = ("Overview: circle tracking, tool path, damped+monitored vs "
                           "undamped joint speeds, sigma_min.", _png(fig))

    if circle is not None:
        fig = _figure(11, 3.8)
        gs = fig.add_gridspec(1, 2)
        _tracking(fig.add_subplot(gs[0, 0]), circle, bars.tracking_rms_m)
        _path3d(fig.add_subplot(gs[0, 1], projection="3d"), circle)
        out["circle.png"] = ("Circle: tracking error over time and the tool path in 3-D.",
                             _png(fig))

    if sing is not None and naive is not None:
        fig = _figure(12, 6.5)
        gs = fig.add_gridspec(2, 2)
        a0 = fig.add_subplot(gs[0, 0])
        _speeds(a0, sing, log=True)
        a0.set_title("damped least squares + singularity monitor")
        a1 = fig.add_subplot(gs[0, 1], sharey=a0)
        _speeds(a1, naive, log=True)
        a1.set_title("undamped pseudo-inverse, passive monitor")
        a1.legend(fontsize=7, ncol=2, loc="upper left")
        a2 = fig.add_subplot(gs[1, 0])
        _sigma(a2, [sing])
        a3 = fig.add_subplot(gs[1, 1], sharey=a2)
        _sigma(a3, [naive])
        fig.suptitle("Same straight-line path to the workspace boundary: joint-speed spikes "
                     "without damping and monitor\n(commanded |q̇|/limit, log scale)")
        out["singularity.png"] = ("Singularity approach: commanded joint speeds (limit = 1) "
                                  "and sigma_min, monitored vs undamped, side by side.",
                                  _png(fig))
        fig = _figure(12, 3.4)
        gs = fig.add_gridspec(1, 2)
        _pose_errors(fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1]), [sing, naive],
                     bars.singularity_rotation_max_rad)
        fig.suptitle("Same path, past the workspace boundary: what the tool does while the "
                     "monitor holds the arm")
        out["singularity_pose.png"] = (
            "Singularity approach: tool position and orientation error against the target "
            "(orientation held). The monitored command is the best task motion the monitor "
            "allows, so the tool keeps its orientation while the position falls behind.",
            _png(fig))

    fig = _figure(12, 3.6)
    gs = fig.add_gridspec(1, 3)
    names = list(tr)
    for col, (attr, bar, label) in enumerate([
            ("fk_error", bars.fk_max_error_m, "FK position |ours − PyBullet| [m]"),
            ("jacobian_error", bars.jacobian_max_error, "max |J_ours − J_PyBullet|"),
            ("twist_error", bars.twist_max_error, "‖J q̇_measured − v_PyBullet‖")]):
        ax = fig.add_subplot(gs[0, col])
        for name in names:
            ax.plot(tr[name].t, np.maximum(getattr(tr[name], attr), FLOOR), lw=0.8, label=name)
        ax.axhline(bar, color="k", ls="--", lw=0.8, label=f"bar {bar:g}")
        ax.set_yscale("log")
        ax.set_xlabel("t [s]")
        ax.set_title(label, fontsize=9)
        if col == 0:
            ax.legend(fontsize=7)
    fig.suptitle("Library vs PyBullet at the measured state, every step")
    out["agreement.png"] = ("FK, Jacobian and twist agreement with PyBullet, every step.",
                            _png(fig))

    runs = [t for t in (circle, sing) if t is not None]
    fig = _figure(12, 3.4)
    gs = fig.add_gridspec(1, len(runs))
    for col, run in enumerate(runs):
        ax = fig.add_subplot(gs[0, col])
        _speeds(ax, run, commanded=False)
        ax.set_title(f"{run.name}: measured joint speeds vs limits")
        ax.legend(fontsize=7, ncol=2)
    out["joint_speeds.png"] = ("Measured joint speeds of the controlled runs against their "
                               "URDF limits (dashed).", _png(fig))
    return out


def _pose_errors(ax_p: Axes, ax_r: Axes, runs: list[Trace], bar: float) -> None:
    """Tool position error [mm] and orientation error [deg] of several runs over time."""
    names = {"singularity": "damped least squares + monitor",
             "singularity_undamped": "undamped pseudo-inverse"}
    for k, tr in enumerate(runs):
        c, label = f"C{3 * k}", names.get(tr.name, tr.name.replace("_", " "))
        ax_p.plot(tr.t, 1e3 * tr.pos_error, lw=1.2, color=c, label=label)
        ax_r.plot(tr.t, np.degrees(tr.rot_error), lw=1.2, color=c, label=label)
    ax_r.axhline(np.degrees(bar), color="k", ls="--", lw=0.8,
                 label=f"bar {np.degrees(bar):.1f}° (monitored run)")
    for ax in (ax_p, ax_r):
        _shade_levels(ax, runs[0])
        ax.set_xlabel("t [s]")
        ax.legend(fontsize=7, loc="upper left")
    ax_p.set_ylabel("tool position error [mm]")
    ax_r.set_ylabel("tool orientation error [°]")
    ax_p.set_title("position: the target leaves the workspace", fontsize=10)
    ax_r.set_title("orientation: held by the target", fontsize=10)


def _speeds_max(ax: Axes, runs: list[Trace]) -> None:
    """``max_i |q̇_i| / limit_i`` (commanded) of several runs on one log axis."""
    for k, tr in enumerate(runs):
        r = (np.abs(tr.qd_cmd) / tr.velocity_limits).max(1)
        ax.plot(tr.t, np.maximum(r, 1e-4), lw=1.2, color=f"C{3 * k}", label=tr.name)
    ax.axhline(1.0, color="k", ls="--", lw=0.8, label="velocity limit")
    _shade_levels(ax, runs[0])
    ax.set_yscale("log")
    ax.set_xlabel("t [s]")
    ax.set_ylabel("max commanded |q̇| / limit")
    ax.set_title("singularity approach: monitored DLS vs undamped pseudo-inverse")
    ax.legend(fontsize=7, loc="upper left")


def write_outputs(result: SimulationResult, out: Path, report: bool = True) -> list[Path]:
    """Write ``out/metrics.json`` and (with ``report``) ``out/report.html`` + PNG figures.

    Returns:
        The written paths.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(jsonable(result.metrics, nonfinite="null"), indent=2) + "\n")
    written = [path]
    if report:
        written += write_report(result, out)
    return written


def write_report(result: SimulationResult, out: Path) -> list[Path]:
    """Write ``out/report.html`` (self-contained) and every figure as ``out/*.png``.

    Returns:
        The written paths, report first.
    """
    figs = figures(result)
    written = []
    for name, (_, data) in figs.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    m = result.metrics
    status = ("<p class='pass'>PASS: every validation bar met</p>" if result.passed else
              "<p class='fail'>FAIL:<br>" + "<br>".join(esc(f) for f in result.failures)
              + "</p>")
    runs = list(m["scenarios"])
    metrics = table(([esc(what), *(fmt(m["scenarios"][r].get(k), unit) for r in runs)]
                     for k, what, unit in _TABLE_ROWS),
                    header=["metric", *(esc(r.replace("_", " ")) for r in runs)])
    labels = {k: (what, unit) for k, what, unit in _TABLE_ROWS}
    labels["singularity_rotation_max_rad"] = ("singularity run: tool orientation error, max",
                                              "rad")
    bars = "".join(f"<li>{esc(labels.get(k, (k, ''))[0])} &lt; "
                   f"{esc(num(float(v), labels.get(k, ('', ''))[1]))}</li>"
                   for k, v in m["bars"].items())
    imgs = "".join(f"<figure>{img(data, name)}<figcaption>{esc(cap)}</figcaption></figure>"
                   for name, (cap, data) in figs.items())
    q0 = ", ".join(f"{v:.3f}" for v in result.start_q)
    robot = result.robot
    doc = page(f"kinematics simulate {robot.name}", css=_CSS, body=f"""\
<h1>kinematics simulate {esc(robot.name)}</h1>
<p>{esc(robot.base_link)} → {esc(robot.tip_link)},
{robot.dof} joints, URDF <code>{esc(robot.source)}</code>.<br>
PyBullet {'GUI' if m['gui'] else 'DIRECT'} at dt = {m['dt']:.6g} s (control every step),
VELOCITY_CONTROL bounded by the URDF effort limits, gravity on.
Start configuration (seed {m['seed']}): [{q0}] rad.
Wall time {m['wall_time_s']:.1f} s.</p>
{status}
<h2>Metrics</h2>{metrics}
<div>Bars (circle and singularity runs): <ul>{bars}<li>steps above a joint speed limit = 0</li>
<li>singularity: the monitor warns, then halts the approach (level <i>stop</i>, or its
velocity scale ≤ 1 % at the stop threshold: the monitor scales approaching motion linearly
to 0 there, so in closed loop the metric settles on the threshold from above);
smallest singular value of J &gt; 0; the tool's orientation error stays below the bar
while the monitor holds the arm</li></ul>
The undamped pseudo-inverse run is the comparison baseline: only the FK/J/twist agreement
bars apply to it; its monitor is passive (levels recorded, scale not applied).</div>
<h2>Figures</h2>{imgs}""")
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return [path, *written]

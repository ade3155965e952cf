"""Closed-loop validation in PyBullet (``kinematics simulate ROBOT|URDF``).

The same URDF is loaded in PyBullet (:mod:`kinematics.sims.bullet`, DIRECT unless ``gui``)
and driven by the library's resolved-rate controller
(:class:`kinematics.ik.ResolvedRateController`), its joint velocities scaled by the
singularity monitor (:class:`kinematics.singularity.SingularityMonitor`). Every physics
step the library is checked against the simulator at the *measured* state:

- ``fk``: our pose of the tip link vs PyBullet's URDF link frame (``getLinkState[4:6]``);
- ``jacobian``: our ``J`` vs ``calculateJacobian`` taken at the URDF link origin;
- ``twist``: our ``J q̇`` (measured ``q̇``) vs PyBullet's link velocity, moved from the
  centre of mass to the link origin.

Harness choices (documented bars depend on them):

- Physics step ``dt = 1/240 s`` (PyBullet's default), control at every step (240 Hz): read
  joint states, compute ``q̇``, command it, step.
- ``VELOCITY_CONTROL`` motors on the chain's joints, bounded by the URDF effort limits:
  PyBullet solves the motor as a velocity constraint, so the measured ``q̇`` after a step is
  what the controller asked for, to within PyBullet's soft-constraint solver (about
  3e-3 rad/s on the Panda circle, 1e-3 without gravity; independent of the force bound;
  reported as ``velocity_tracking_max``). Position control would hide the controller
  behind a PD loop; torque control would need a dynamics model this library does not have.
- Gravity on (``-9.81 m/s²`` along world ``z``): the motors carry the arm, as on hardware.
  PyBullet's default link damping and URDF joint damping are zeroed; fingers and other
  movable joints off the chain are held by ``POSITION_CONTROL``.

Scenarios:

- ``circle``: a circle of radius 0.10 m in the vertical plane facing the arm (normal to the
  horizontal base→tool direction), orientation held, 4 s per lap with a smooth 0.5 s start,
  three laps by default (12 s). Bars: tracking RMS < 1 mm plus the agreement bars.
- ``singularity``: the tool driven along a straight horizontal line outward from the base
  axis at 0.15 m/s until the arm stretches out. The monitor must warn, then stop the
  approach: its level reaches ``stop``, with ``sigma_min > 0`` and no joint over its
  velocity limit. The monitor scales approaching motion linearly to 0 *at* its stop
  threshold, so in closed loop its metric converges to the threshold from above; it reports
  the halted approach (scale ≤ 1 %) as level ``stop``. The same path is then run with an undamped
  pseudo-inverse and a *passive* monitor (``singularity_undamped``: recorded, not applied;
  agreement bars only) to show the joint-speed spike and the ``stop`` level the monitor
  prevents.

Both scenarios start from the same configuration: among 256 random configurations
(``seed``) inside the joint limits, the one whose Jacobian has the largest ``sigma_min``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

import kinematics as kin
from kinematics.exceptions import InvalidValueError
from kinematics.progress import Progress
from kinematics.singularity import HALT_SCALE, LEVELS

__all__ = [
    "SCENARIOS",
    "Bars",
    "Trace",
    "SimulationResult",
    "start_configuration",
    "simulate",
    "check_bars",
    "format_summary",
]

SCENARIOS = ("circle", "singularity")

CIRCLE_RADIUS = 0.10  # [m]
CIRCLE_PERIOD = 4.0  # [s] per lap
CIRCLE_LAPS = 3
LINE_SPEED = 0.15  # [m/s]
RAMP = 0.5  # [s] smooth start of every path
HOLD_AFTER_STOP = 0.5  # [s] the singularity run continues this long after the first stop
#: A step violates a joint's velocity limit when the *commanded* speed exceeds it (beyond
#: rounding, 1e-9 relative: the controller's promise) or the *measured* speed exceeds it by
#: more than this (relative): PyBullet's velocity motor overshoots a command at the limit by
#: up to ~0.4 % (its soft-constraint tracking error, ``velocity_tracking_max``).
VELOCITY_TOLERANCE = 1e-2
GAIN = 10.0  # [1/s] task-space gain of the controller (and of the undamped baseline)


@dataclass(frozen=True)
class Bars:
    """Validation bars (SI units). A scenario fails when a metric is at or over its bar.

    Attributes:
        fk_max_error_m: Tip position, ours vs PyBullet's URDF link frame [m].
        jacobian_max_error: Largest entry of ``|J_ours − J_pybullet|`` [m/rad, 1].
        twist_max_error: Largest ``‖J q̇ − v_pybullet‖`` over steps [m/s, rad/s mixed].
        tracking_rms_m: RMS tool position error on the circle [m].
        singularity_rotation_max_rad: Largest tool orientation error in the singularity
            run [rad]: the target's orientation is held, and holding the arm out of the
            stop zone must not turn the tool (the safe command serves the part of the task
            the monitor does not block).
    """

    fk_max_error_m: float = 1e-5
    jacobian_max_error: float = 1e-6
    twist_max_error: float = 1e-4
    tracking_rms_m: float = 1e-3
    singularity_rotation_max_rad: float = 0.05


@dataclass
class Trace:
    """What happened at every control step of one run (``n`` steps, arrays over steps).

    Attributes:
        name: Run name (``circle``, ``singularity``, ``singularity_undamped``).
        dt: Step [s].
        velocity_limits: ``(dof,)`` [rad/s or m/s].
        t: ``(n,)`` time [s].
        q, qd: ``(n, dof)`` measured joint positions and velocities (PyBullet).
        qd_cmd: ``(n, dof)`` commanded velocities (after the monitor's scale).
        p_target, p_actual: ``(n, 3)`` target tool position and PyBullet's [m], world.
        pos_error, rot_error: ``(n,)`` tool tracking error [m], [rad].
        fk_error, fk_rot_error: ``(n,)`` tip pose, ours vs PyBullet [m], [rad].
        jacobian_error: ``(n,)`` ``max |J_ours − J_pybullet|``.
        twist_error: ``(n,)`` ``‖J q̇ − v_pybullet‖`` (6-vector norm).
        sigma_min: ``(n,)`` smallest singular value of our ``(6, dof)`` Jacobian.
        level: ``(n,)`` monitor level index into :data:`LEVELS`.
        scale: ``(n,)`` velocity scale the monitor applied (1 when not ``monitored``).
        metric: ``(n,)`` the monitor's metric (``sigma_min_scaled`` by default).
        warn, stop: The monitor's thresholds on ``metric``.
        monitored: Whether the monitor's scale was applied (the undamped baseline runs a
            passive monitor: levels and metric are recorded, the command is not scaled).
    """

    name: str
    dt: float
    velocity_limits: np.ndarray
    t: np.ndarray
    q: np.ndarray
    qd: np.ndarray
    qd_cmd: np.ndarray
    p_target: np.ndarray
    p_actual: np.ndarray
    pos_error: np.ndarray
    rot_error: np.ndarray
    fk_error: np.ndarray
    fk_rot_error: np.ndarray
    jacobian_error: np.ndarray
    twist_error: np.ndarray
    sigma_min: np.ndarray
    level: np.ndarray
    scale: np.ndarray
    metric: np.ndarray
    warn: float = math.nan
    stop: float = math.nan
    monitored: bool = True

    def halted(self) -> np.ndarray:
        """``(n,)`` bool: the monitor stopped the approach (level ``stop``, or the velocity
        scale at or below :data:`HALT_SCALE`)."""
        return (self.level == 2) | (self.monitored & (self.scale <= HALT_SCALE))

    def metrics(self) -> dict[str, Any]:
        """Summary numbers of this run (the ``metrics.json`` keys, SI units)."""
        lim = self.velocity_limits
        ratio = np.abs(self.qd) / lim
        cmd_ratio = np.abs(self.qd_cmd) / lim
        levels = {name: int(np.sum(self.level == i)) for i, name in enumerate(LEVELS)}
        first = {name: (float(self.t[np.argmax(self.level == i)])
                        if np.any(self.level == i) else None)
                 for i, name in enumerate(LEVELS) if i}
        halted = self.halted()
        return {
            "steps": int(len(self.t)),
            "dt": self.dt,
            "duration_s": float(len(self.t) * self.dt),
            "fk_max_error_m": float(self.fk_error.max()),
            "fk_max_rotation_error_rad": float(self.fk_rot_error.max()),
            "jacobian_max_error": float(self.jacobian_error.max()),
            "twist_max_error": float(self.twist_error.max()),
            "tracking_rms_m": float(np.sqrt(np.mean(self.pos_error ** 2))),
            "tracking_max_m": float(self.pos_error.max()),
            "tracking_rotation_rms_rad": float(np.sqrt(np.mean(self.rot_error ** 2))),
            "tracking_rotation_max_rad": float(self.rot_error.max()),
            "sigma_min_min": float(self.sigma_min.min()),
            "max_joint_speed": float(np.abs(self.qd).max()),
            "max_joint_speed_ratio": float(ratio.max()),
            "max_commanded_speed_ratio": float(cmd_ratio.max()),
            "velocity_limit_violations": int(np.sum(
                (ratio > 1.0 + VELOCITY_TOLERANCE).any(1) | (cmd_ratio > 1.0 + 1e-9).any(1))),
            # q̇ measured after step k vs the command of step k (motor tracking)
            "velocity_tracking_max": float(np.abs(self.qd[1:] - self.qd_cmd[:-1]).max())
            if len(self.t) > 1 else 0.0,
            "monitor_levels": levels,
            "first_warn_s": first["warn"],
            "first_stop_s": first["stop"],
            "monitor_metric_min": float(np.min(self.metric)),
            "monitor_warn_threshold": self.warn,
            "monitor_stop_threshold": self.stop,
            "monitor_scale_min": float(self.scale.min()),
            "monitor_halted": bool(halted.any()),
            "halted_s": float(self.t[np.argmax(halted)]) if halted.any() else None,
        }


@dataclass
class SimulationResult:
    """Runs of one ``simulate`` call.

    Attributes:
        robot: The simulated robot.
        traces: ``{run name: Trace}``.
        metrics: ``metrics.json`` content: aggregate keys, ``scenarios`` and ``bars``.
        failures: One line per failed bar (empty when every bar passed).
        wall_time_s: Wall-clock time of the simulation [s].
    """

    robot: kin.Robot
    traces: dict[str, Trace]
    metrics: dict[str, Any]
    failures: list[str]
    wall_time_s: float
    start_q: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def passed(self) -> bool:
        return not self.failures


# -- paths ---------------------------------------------------------------------------------
def _ramp(t: float) -> tuple[float, float]:
    """Progress ``s(t)`` [s] and rate ``ṡ(t)`` of a smooth start: ``ṡ`` goes 0 → 1 over
    :data:`RAMP` seconds (smoothstep), then stays 1."""
    if t >= RAMP:
        return t - RAMP / 2, 1.0
    x = max(t, 0.0) / RAMP
    return RAMP * (x ** 3 - x ** 4 / 2), 3 * x ** 2 - 2 * x ** 3


Path_ = Callable[[float], tuple[np.ndarray, np.ndarray]]


def _outward(T0: np.ndarray) -> np.ndarray:
    """Unit horizontal direction from the base ``z`` axis to the tool (x when on the axis)."""
    d = np.array([T0[0, 3], T0[1, 3], 0.0])
    n = np.linalg.norm(d)
    return d / n if n > 1e-6 else np.array([1.0, 0.0, 0.0])


def circle_path(T0: np.ndarray, radius: float = CIRCLE_RADIUS,
                period: float = CIRCLE_PERIOD) -> Path_:
    """Target ``(T (4, 4), twist (6,))`` at time ``t`` of a circle through ``T0``'s position.

    The circle lies in the vertical plane normal to the horizontal direction base → tool
    ("in front of the arm"), starts at ``T0`` and keeps ``T0``'s orientation.
    """
    d = _outward(T0)
    u = np.cross([0.0, 0.0, 1.0], d)  # horizontal, tangent to the arm's front
    v = np.array([0.0, 0.0, 1.0])
    c = T0[:3, 3] - radius * u
    w = 2 * np.pi / period

    def target(t: float) -> tuple[np.ndarray, np.ndarray]:
        s, sd = _ramp(t)
        phi = w * s
        T = T0.copy()
        T[:3, 3] = c + radius * (np.cos(phi) * u + np.sin(phi) * v)
        vel = radius * w * sd * (-np.sin(phi) * u + np.cos(phi) * v)
        return T, np.concatenate([vel, np.zeros(3)])

    return target


def line_path(T0: np.ndarray, speed: float = LINE_SPEED) -> Path_:
    """Target moving from ``T0`` horizontally outward (away from the base ``z`` axis) at
    ``speed`` [m/s], orientation held."""
    d = _outward(T0)

    def target(t: float) -> tuple[np.ndarray, np.ndarray]:
        s, sd = _ramp(t)
        T = T0.copy()
        T[:3, 3] = T0[:3, 3] + speed * s * d
        return T, np.concatenate([speed * sd * d, np.zeros(3)])

    return target


def start_configuration(robot: kin.Robot, seed: int = 0, candidates: int = 256) -> np.ndarray:
    """``(dof,)`` a well-conditioned start: of ``candidates`` random configurations
    (20 % clear of every joint limit), the one with the largest ``sigma_min`` of ``J``.
    Deterministic for a given ``seed``."""
    Q = robot.random_q(candidates, seed=seed, margin=0.2)
    s = np.linalg.svd(kin.jacobian(robot, Q), compute_uv=False)[:, -1]
    return Q[int(np.argmax(s))]


# -- the loop ------------------------------------------------------------------------------
Command = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                   tuple[np.ndarray, int, float, float]]


def _run(robot: kin.Robot, name: str, q0: np.ndarray, path: Path_, command: Command,
         duration: float, dt: float, gui: bool, progress: Progress, monitored: bool,
         stop_after: float | None = None) -> Trace:
    """Run one closed loop in a fresh PyBullet client and record every step.

    ``command(q, J, T_tool, T_target, twist_target) -> (q̇, level, scale, metric)`` at the
    measured state. With ``stop_after``, the run ends that long after the monitor first
    halted the approach (level ``stop`` or scale ≤ :data:`HALT_SCALE`).
    """
    from .bullet import Sim

    n = int(round(duration / dt))
    tip = robot.tip_link
    try:
        sim = Sim.open(robot, gui=gui, dt=dt)
    except KeyError as exc:
        raise InvalidValueError(f"{robot.source}: PyBullet's model differs: {exc}") from None
    rec: dict[str, list[Any]] = {k: [] for k in (
        "t", "q", "qd", "qd_cmd", "p_target", "p_actual", "pos_error", "rot_error", "fk_error",
        "fk_rot_error", "jacobian_error", "twist_error", "sigma_min", "level", "scale",
        "metric")}
    tool = np.asarray(robot.tool)
    identity_tool = bool(np.array_equal(tool, np.eye(4)))
    try:
        sim.reset_q(q0)
        sim.start_velocity_control()
        if gui:
            sim.draw_polyline(np.array([path(k * duration / 200)[0][:3, 3] for k in range(201)]))
        stop_at = None
        for k in range(n):
            t = k * dt
            q, qd = sim.q()
            T_tip_pb, v_tip_pb = sim.link_state(tip)
            J_pb = sim.jacobian(tip)
            T_tip, J_tip = kin.fk_jacobian(robot, q, tip)
            e_fk = kin.spatial.pose_error(T_tip, T_tip_pb)
            T_tool = T_tip_pb @ tool  # the tool as PyBullet has it: tracking is measured there
            J = J_tip if identity_tool else kin.jacobian(robot, q)
            T_target, v_target = path(t)
            e = kin.spatial.pose_error(T_tool, T_target)
            qd_cmd, level, scale, metric = command(q, J, T_tool, T_target, v_target)
            sim.command_velocity(qd_cmd)

            rec["t"].append(t)
            rec["q"].append(q)
            rec["qd"].append(qd)
            rec["qd_cmd"].append(qd_cmd)
            rec["p_target"].append(T_target[:3, 3])
            rec["p_actual"].append(T_tool[:3, 3])
            rec["pos_error"].append(np.linalg.norm(e[:3]))
            rec["rot_error"].append(np.linalg.norm(e[3:]))
            rec["fk_error"].append(np.linalg.norm(e_fk[:3]))
            rec["fk_rot_error"].append(np.linalg.norm(e_fk[3:]))
            rec["jacobian_error"].append(np.abs(J_tip - J_pb).max())
            rec["twist_error"].append(np.linalg.norm(J_tip @ qd - v_tip_pb))
            rec["sigma_min"].append(np.linalg.svd(J, compute_uv=False)[-1])
            rec["level"].append(level)
            rec["scale"].append(scale)
            rec["metric"].append(metric)

            sim.step()
            if gui:
                time.sleep(dt)
            progress.advance(1, name)
            if stop_after is not None and stop_at is None and (
                    level == 2 or (monitored and scale <= HALT_SCALE)):
                stop_at = t
            if stop_at is not None and stop_after is not None and t - stop_at >= stop_after:
                progress.advance(n - k - 1, name)
                break
    finally:
        sim.close()
    arrays = {k: np.asarray(v, dtype=int if k == "level" else float) for k, v in rec.items()}
    return Trace(name=name, dt=dt, velocity_limits=np.asarray(robot.velocity_limits, float),
                 monitored=monitored, warn=command.warn, stop=command.stop,  # type: ignore
                 **arrays)


def _controlled(robot: kin.Robot, dt: float) -> Command:
    """The library's resolved-rate controller (gain :data:`GAIN`, control period ``dt``,
    default adaptive damping and limits) with the singularity monitor (default thresholds)
    in the loop: when the monitor constrains, the command is its safe command for the
    controller's task."""
    from kinematics import ik, singularity

    monitor = singularity.SingularityMonitor(robot)
    controller = ik.ResolvedRateController(robot, gain=GAIN, dt=dt, monitor=monitor)

    def command(q: np.ndarray, J: np.ndarray, T: np.ndarray, T_target: np.ndarray,
                v_target: np.ndarray) -> tuple[np.ndarray, int, float, float]:
        qd = np.asarray(controller.velocity(q, T_target, target_twist=v_target), dtype=float)
        state = controller.monitor_state
        return qd, LEVELS.index(state.level), float(state.scale), float(state.value)

    command.warn, command.stop = monitor.warn, monitor.stop  # type: ignore[attr-defined]
    return command


def _undamped(robot: kin.Robot, gain: float) -> Command:
    """The naive baseline: ``q̇ = J⁺ (v_target + gain · e)`` with the plain Moore–Penrose
    pseudo-inverse, no damping, no limits. A *passive* monitor records what it would have
    said (level, metric); its scale is not applied."""
    from kinematics import singularity

    monitor = singularity.SingularityMonitor(robot)

    def command(q: np.ndarray, J: np.ndarray, T: np.ndarray, T_target: np.ndarray,
                v_target: np.ndarray) -> tuple[np.ndarray, int, float, float]:
        e = kin.spatial.pose_error(T, T_target)
        qd = np.linalg.pinv(J) @ (v_target + gain * e)
        state = monitor.update(q, qd)
        return qd, LEVELS.index(state.level), 1.0, float(state.value)

    command.warn, command.stop = monitor.warn, monitor.stop  # type: ignore[attr-defined]
    return command


def _warm_up(robot: kin.Robot, q0: np.ndarray, T0: np.ndarray, dt: float,
             progress: bool) -> None:
    """Every kernel the run uses, compiled (first run for this user: seconds each, once) or
    loaded from the cache (~1 s) before the progress bar starts, so that the bar never
    stops for a compile and its rate and ETA are the loop's; then one call of each piece
    of a control step. ``progress``: a bar of its own while the kernels get ready."""
    kin.accel.compile(progress=progress, groups=("fk", "jacobian", "monitor", "control"))
    T_tip, J_tip = kin.fk_jacobian(robot, q0, robot.tip_link)
    J = kin.jacobian(robot, q0)
    zero = np.zeros(6)
    _controlled(robot, dt)(q0, J, T0, T0, zero)
    _undamped(robot, GAIN)(q0, J, T0, T0, zero)
    kin.spatial.pose_error(T_tip, T0)


# -- public entry ----------------------------------------------------------------------------
def simulate(robot: kin.Robot, scenarios: Sequence[str] = SCENARIOS, *,
             duration: float | None = None, dt: float = 1.0 / 240.0, seed: int = 0,
             gui: bool = False, bars: Bars | None = None, progress: bool = False
             ) -> SimulationResult:
    """Run the closed-loop scenarios in PyBullet and check the bars.

    Args:
        robot: The robot (its URDF, ``robot.source``, is loaded into PyBullet).
        scenarios: Any of :data:`SCENARIOS`.
        duration: Simulated time per scenario [s] (default: circle 12 s = 3 laps;
            singularity ``reach / 0.15 m/s``). The singularity run ends early, 0.5 s after
            the monitor first stops the arm.
        dt: Physics and control step [s].
        seed: Seed of the start configuration (:func:`start_configuration`).
        gui: Open PyBullet's GUI (paced at real time) instead of DIRECT.
        bars: Validation bars (default :class:`Bars`).
        progress: Draw a progress bar on stderr.

    Returns:
        The traces, ``metrics.json`` content and failures.

    Raises:
        InvalidValueError: Unknown scenario, non-positive ``duration`` or ``dt``, or a URDF
            PyBullet reads differently.
    """
    bars = bars or Bars()
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown or not scenarios:
        raise InvalidValueError(f"scenario {unknown}: expected some of {list(SCENARIOS)}")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise InvalidValueError(f"duration: expected a positive number of seconds, got "
                                f"{duration}")
    if not (math.isfinite(dt) and 0 < dt <= 0.1):
        raise InvalidValueError(f"dt: expected a step in (0, 0.1] s, got {dt}")
    if robot.dof < 6:
        raise InvalidValueError(
            f"{robot.name}: simulate tracks full 6-D tool poses and needs at least 6 joints, "
            f"got {robot.dof} ({list(robot.joint_names)})")

    wall = time.perf_counter()
    q0 = start_configuration(robot, seed)
    T0 = kin.fk(robot, q0)
    circle_s = duration or CIRCLE_PERIOD * CIRCLE_LAPS
    line_s = duration or max(robot.reach / LINE_SPEED, 2.0)
    total = (int(circle_s / dt) if "circle" in scenarios else 0) + (
        2 * int(line_s / dt) if "singularity" in scenarios else 0)
    _warm_up(robot, q0, T0, dt, progress)
    bar = Progress(total, "steps", enabled=progress)
    traces: dict[str, Trace] = {}
    try:
        if "circle" in scenarios:
            traces["circle"] = _run(robot, "circle", q0, circle_path(T0), _controlled(robot, dt),
                                    circle_s, dt, gui, bar, monitored=True)
        if "singularity" in scenarios:
            mon = _run(robot, "singularity", q0, line_path(T0), _controlled(robot, dt), line_s,
                       dt, gui, bar, monitored=True, stop_after=HOLD_AFTER_STOP)
            traces["singularity"] = mon
            # The baseline follows the same path for as long as the monitored run lasted.
            traces["singularity_undamped"] = _run(
                robot, "singularity_undamped", q0, line_path(T0),
                _undamped(robot, GAIN), len(mon.t) * dt, dt, gui, bar,
                monitored=False)
        bar.advance(bar.total - bar.done, "done")  # runs that ended early
    finally:
        bar.close()
    wall = time.perf_counter() - wall
    metrics, failures = _summarize(robot, traces, bars, dt, seed, gui, wall)
    return SimulationResult(robot, traces, metrics, failures, wall, q0)


def check_bars(name: str, m: dict[str, Any], bars: Bars) -> list[str]:
    """One line per bar scenario ``name``'s metrics ``m`` fail (empty: all passed)."""
    out = []
    for key in ("fk_max_error_m", "jacobian_max_error", "twist_max_error"):
        if not m[key] < getattr(bars, key):
            out.append(f"{name}: {key} = {m[key]:.3g} >= {getattr(bars, key):.3g}")
    if m["velocity_limit_violations"]:
        out.append(f"{name}: velocity_limit_violations = {m['velocity_limit_violations']} "
                   f"(max |q̇|/limit = {m['max_joint_speed_ratio']:.3f})")
    if name == "circle" and not m["tracking_rms_m"] < bars.tracking_rms_m:
        out.append(f"circle: tracking_rms_m = {m['tracking_rms_m']:.3g} >= "
                   f"{bars.tracking_rms_m:.3g}")
    if name == "singularity":
        if not m["monitor_levels"]["stop"]:
            out.append(f"singularity: the monitor never reached stop (metric min "
                       f"{m['monitor_metric_min']:.3g}, stop threshold "
                       f"{m['monitor_stop_threshold']:.3g}, scale min "
                       f"{m['monitor_scale_min']:.3g})")
        elif m["first_warn_s"] is None or m["first_warn_s"] > m["first_stop_s"]:
            out.append("singularity: the monitor stopped without warning first")
        if not m["sigma_min_min"] > 0:
            out.append(f"singularity: sigma_min_min = {m['sigma_min_min']:.3g}, expected > 0")
        if not m["tracking_rotation_max_rad"] < bars.singularity_rotation_max_rad:
            out.append(f"singularity: tracking_rotation_max_rad = "
                       f"{m['tracking_rotation_max_rad']:.3g} >= "
                       f"{bars.singularity_rotation_max_rad:.3g} (the tool turned while the "
                       "monitor held the arm)")
    return out


def _summarize(robot: kin.Robot, traces: dict[str, Trace], bars: Bars, dt: float, seed: int,
               gui: bool, wall: float) -> tuple[dict[str, Any], list[str]]:
    per = {name: tr.metrics() for name, tr in traces.items()}
    checked = {k: v for k, v in per.items() if traces[k].monitored}
    failures = [line for name, m in checked.items() for line in check_bars(name, m, bars)]
    for name, m in per.items():  # the baseline: the library must still agree with PyBullet
        if name not in checked:
            failures += [f for f in check_bars(name, m, bars) if "error" in f.split("=")[0]]
    tracked = per.get("circle", next(iter(checked.values())))
    agg: dict[str, Any] = {
        "robot": robot.name,
        "source": robot.source,
        "base": robot.base_link,
        "tip": robot.tip_link,
        "dof": robot.dof,
        "seed": seed,
        "gui": gui,
        "dt": dt,
        "steps": sum(m["steps"] for m in checked.values()),
        "fk_max_error_m": max(m["fk_max_error_m"] for m in per.values()),
        "jacobian_max_error": max(m["jacobian_max_error"] for m in per.values()),
        "twist_max_error": max(m["twist_max_error"] for m in per.values()),
        "tracking_rms_m": tracked["tracking_rms_m"],
        "tracking_max_m": tracked["tracking_max_m"],
        "sigma_min_min": min(m["sigma_min_min"] for m in checked.values()),
        "max_joint_speed": max(m["max_joint_speed"] for m in checked.values()),
        "velocity_limit_violations": sum(m["velocity_limit_violations"]
                                         for m in checked.values()),
        "monitor_levels": {lv: sum(m["monitor_levels"][lv] for m in checked.values())
                           for lv in LEVELS},
        "monitor_halted": per["singularity"]["monitor_halted"] if "singularity" in per
        else None,
        "wall_time_s": wall,
        "passed": not failures,
        "failures": failures,
        "bars": {f.name: getattr(bars, f.name) for f in fields(bars)},
        "scenarios": per,
    }
    return agg, failures


def format_summary(result: SimulationResult) -> str:
    """A short human-readable table of the metrics."""
    lines = [f"{result.robot.name}: {result.robot.base_link} -> {result.robot.tip_link}, "
             f"{result.robot.dof} joints, wall time {result.wall_time_s:.1f} s"]
    for name, m in result.metrics["scenarios"].items():
        lv = m["monitor_levels"]
        lines.append(
            f"  {name:<21} steps {m['steps']:>5}  fk {m['fk_max_error_m']:.1e} m  "
            f"J {m['jacobian_max_error']:.1e}  twist {m['twist_max_error']:.1e}  "
            f"track rms {1e3 * m['tracking_rms_m']:.3f} mm  sigma_min {m['sigma_min_min']:.3g}"
            f"  |qd|/lim {m['max_joint_speed_ratio']:.2f}  ok/warn/stop "
            f"{lv['ok']}/{lv['warn']}/{lv['stop']}")
    lines.append("PASS: every bar met" if result.passed
                 else f"FAIL: {len(result.failures)} bar(s)")
    return "\n".join(lines)



if __name__ == "__main__":   # python sims/simulate.py ROBOT [options], from a clone
    import runpy

    runpy.run_module("kinematics.sims", run_name="__main__", alter_sys=True)

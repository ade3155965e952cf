"""Resolved-rate servoing with the singularity monitor in the loop, at the caller's rate.

1. The UR5 starts at its home pose ``[0, -π/2, 0, -π/2, 0, 0]``, where the elbow and the
   wrist are both exactly singular, and servos to a pose that needs the elbow to bend. The
   monitor never scales motion that leaves a singularity, so the arm leaves and arrives.
2. The tool is then sent 1 m up, beyond the reach: the arm stretches toward the elbow
   singularity, and the monitor slows the approach from its warn threshold and keeps it
   out of the stop zone, where an undamped pseudo-inverse would command huge joint speeds.

Runs in a few seconds, no simulator needed.

    python examples/servo_with_monitor.py
"""

import numpy as np

import kinematics as kin
from kinematics.ik import ResolvedRateController

robot = kin.load_robot("ur5")
home = np.array([0.0, -np.pi / 2, 0.0, -np.pi / 2, 0.0, 0.0])   # [rad] elbow + wrist singular
dt = 2e-3                                                       # 500 Hz control period [s]
monitor = kin.SingularityMonitor(robot)
controller = ResolvedRateController(robot, gain=4.0, monitor=monitor)

# 1. leave the double singularity: a pose with the elbow bent by 0.5 rad
goal = home + np.array([0.3, -0.2, 0.5, 0.1, 0.4, 0.2])        # [rad]
target = kin.fk(robot, goal)
q = home.copy()
for _ in range(3000):                                           # 6 s
    q = controller.step(q, target, dt)
err = kin.spatial.pose_error(kin.fk(robot, q), target)
print(f"from home: position error {np.linalg.norm(err[:3]):.1e} m, "
      f"orientation error {np.linalg.norm(err[3:]):.1e} rad, elbow q3 = {q[2]:.3f} rad")
assert np.linalg.norm(err) < 1e-6

# 2. reach for a point 1 m above: the monitor holds the arm out of the stop zone
target = kin.fk(robot, q)
target[2, 3] += 1.0                                             # beyond the reach [m]
levels = {"ok": 0, "warn": 0, "stop": 0}
max_speed, lowest = 0.0, np.inf
for _ in range(1500):                                           # 3 s
    qd = controller.velocity(q, target, dt=dt)                  # already made safe
    levels[controller.monitor_state.level] += 1
    lowest = min(lowest, controller.monitor_state.value)
    max_speed = max(max_speed, float(np.max(np.abs(qd) / robot.velocity_limits)))
    q = q + qd * dt
print(f"stretching: steps per level {levels}; lowest sigma_min_scaled {lowest:.4f} "
      f"(warn {monitor.warn:.4f}, stop {monitor.stop:.4f}); "
      f"largest joint speed {max_speed:.2f} x its limit")
assert levels["warn"] > 0 and lowest > monitor.stop and max_speed <= 1.0 + 1e-9

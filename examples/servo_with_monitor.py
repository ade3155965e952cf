"""Resolved-rate servoing at 1 kHz with the singularity monitor in the loop.

The UR5's tool is sent straight up to a point it cannot reach: the arm stretches toward the
shoulder/elbow singularity. The monitor scales the approach down from its warn threshold
and halts it at its stop threshold, where an undamped pseudo-inverse would command huge
joint speeds. Runs in about a second, no simulator needed.

    python examples/servo_with_monitor.py
"""

import numpy as np

import kinematics as kin
from kinematics.ik import ResolvedRateController

robot = kin.load_robot("ur5")
q = np.array([0.0, -1.6, 1.4, -1.4, -1.57, 0.0])            # [rad]
target = kin.fk(robot, q)
target[2, 3] += 1.0                                          # 1 m up: beyond the reach [m]

monitor = kin.SingularityMonitor(robot)
controller = ResolvedRateController(robot, dt=1e-3, gain=2.0, monitor=monitor)   # one line: safe
dt = 1e-3                                                    # 1 kHz [s]
levels = {"ok": 0, "warn": 0, "stop": 0}
max_speed = 0.0
for _ in range(3000):                                        # 3 s
    qd = controller.velocity(q, target)              # already scaled by the monitor
    levels[controller.monitor_state.level] += 1
    max_speed = max(max_speed, float(np.max(np.abs(qd) / robot.velocity_limits)))
    q = q + qd * dt

m = kin.measures(kin.jacobian(robot, q))
print(f"steps per level: {levels}")
print(f"final sigma_min {float(m.sigma_min):.4f}, scaled {float(m.sigma_min_scaled):.4f} "
      f"(stop threshold {monitor.stop:.4f})")
print(f"largest joint speed: {max_speed:.2f} x its limit")
assert levels["warn"] > 0 and levels["stop"] > 0 and float(m.sigma_min) > 0

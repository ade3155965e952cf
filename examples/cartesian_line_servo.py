"""A Cartesian straight line, servoed at 500 Hz, with the controller's status logged.

The UR5's tool follows a straight line (``kinematics.spatial.interpolate``: the position
linear in time, the orientation turning at a constant rate) with a feed-forward twist, then
is sent past the end of its reach: the controller's ``status`` says when the monitor starts
to constrain the command and when the target cannot be reached (``stalled``), while the
tool keeps the orientation it was asked for.

    python examples/cartesian_line_servo.py
"""

import numpy as np

import kinematics as kin
from kinematics.ik import ResolvedRateController
from kinematics.spatial import axis_angle_to_matrix, interpolate, so3_log

robot = kin.load_robot("ur5")
q = np.array([0.2, -1.6, 1.9, -1.9, -1.57, 0.0])               # [rad]
dt = 2e-3                                                        # 500 Hz [s]
ctrl = ResolvedRateController(robot, gain=4.0, monitor=kin.SingularityMonitor(robot))

T0 = kin.fk(robot, q)
T1 = T0.copy()
T1[:3, :3] = T0[:3, :3] @ axis_angle_to_matrix([0, 0, 1], 0.5)    # turn 0.5 rad about tool z
T1[:3, 3] += [0.0, 0.15, 0.10]                                   # [m]
duration = 2.0                                                   # [s]
twist = np.concatenate([(T1[:3, 3] - T0[:3, 3]),
                        T0[:3, :3] @ so3_log(T0[:3, :3].T @ T1[:3, :3])]) / duration
for k in range(int(duration / dt) + 250):
    s = min(k * dt / duration, 1.0)
    q = ctrl.step(q, interpolate(T0, T1, s), dt, twist if s < 1.0 else None)
err = ctrl.status.error
print(f"line: tracked to {np.linalg.norm(err[:3]) * 1e3:.3f} mm, "
      f"{np.degrees(np.linalg.norm(err[3:])):.4f} deg; events of the last step "
      f"{ctrl.status.events}")
assert ctrl.status.error_norm < 1e-4

# beyond the reach: 1 m further along the line
far = T1.copy()
far[:3, 3] += (T1[:3, 3] - T0[:3, 3]) / np.linalg.norm(T1[:3, 3] - T0[:3, 3]) * 1.0
for k in range(2500):                                            # 5 s
    q = ctrl.step(q, far, dt)
    if ctrl.status.events:
        print(f"t = {k * dt:5.3f} s: {', '.join(ctrl.status.events)}")
err = ctrl.status.error
print(f"beyond reach: {np.linalg.norm(err[:3]):.3f} m short, orientation error "
      f"{np.degrees(np.linalg.norm(err[3:])):.2f} deg, stalled={ctrl.status.stalled}")
assert ctrl.status.stalled and np.linalg.norm(err[3:]) < 0.1

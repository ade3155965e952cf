"""Batched forward kinematics, Jacobians and IK: one call for a thousand configurations.

    python examples/batched_fk_ik.py
"""

import time

import numpy as np

import kinematics as kin

robot = kin.load_robot("iiwa14")
Q = robot.random_q(1000, seed=0)                     # (1000, 7) joint angles [rad]
T, J = kin.fk_jacobian(robot, Q)                     # (1000, 4, 4), (1000, 6, 7)
print("poses", T.shape, "Jacobians", J.shape)

start = time.perf_counter()
result = kin.ik.solve(robot, T, seed=0)              # the same 1000 poses, solved together
seconds = time.perf_counter() - start
print(f"IK: {np.mean(result.success):.1%} solved to 1e-6 m / 1e-6 rad inside the limits, "
      f"{len(Q) / seconds:,.0f} solves/s")
worst = kin.fk(robot, result.q)[:, :3, 3] - T[:, :3, 3]
print(f"largest position error of the solutions: {np.abs(worst).max():.1e} m")
assert result.success.all()

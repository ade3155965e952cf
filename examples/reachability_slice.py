"""A coarse reachability map of the Panda and its HTML report (slices through the voxels).

    python examples/reachability_slice.py [OUT_DIR]
"""

import sys

import kinematics as kin
from kinematics.reachability import reachability_map
from kinematics.report import write_reach_report

robot = kin.load_robot("panda")
m = reachability_map(robot, voxel=0.25, orientations=8, seed=0)   # 25 cm voxels [m]
reached = m.reach_fraction > 0
print(f"{m.solves} IK problems; {reached.sum()} of {len(m.centers)} voxels reached; "
      f"{(m.reach_fraction == 1).sum()} in all {len(m.orientations)} orientations")
out = sys.argv[1] if len(sys.argv) > 1 else "out/reach_example"
print("report:", write_reach_report(m, out))

"""``python -m kinematics.sims ROBOT [options]``: the closed-loop PyBullet scenarios, the
same as ``kinematics simulate ROBOT [options]`` (options: ``kinematics simulate --help``).
From a clone, ``python sims/simulate.py ROBOT`` runs it too."""

import sys

from kinematics.cli import main

sys.exit(main(["simulate", *sys.argv[1:]]))

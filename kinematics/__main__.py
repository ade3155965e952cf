"""``python -m kinematics ...``: the command line (:mod:`kinematics.cli`)."""

import sys

from .cli import main

sys.exit(main())

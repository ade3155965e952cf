"""``python -m sims.circle ROBOT|URDF [options]``: the ``circle`` scenario of
``kinematics simulate`` (same options, see :mod:`sims.simulate`)."""

from __future__ import annotations

import sys

from .simulate import main

if __name__ == "__main__":
    sys.exit(main([*sys.argv[1:], "--scenario", "circle"]))

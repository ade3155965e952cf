"""The backend switch: compiled (numba, the default) or numpy.

The evaluation engine (:mod:`kinematics._engine`) is the one place that picks the backend;
this module is its public switch. Both give the same numbers (to rounding, ~1e-15).
``KINEMATICS_ACCEL=0`` in the environment selects numpy at import.
"""

from ._engine import available, enable, enabled

__all__ = ["available", "enabled", "enable"]

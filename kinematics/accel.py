"""The backend switch: compiled (numba, the default) or numpy, and the thread cap.

The evaluation engine (:mod:`kinematics._engine`) is the one place that picks the backend;
this module is its public switch. Both give the same numbers (to rounding, ~1e-15).
``KINEMATICS_ACCEL=0`` in the environment selects numpy at import; ``KINEMATICS_THREADS``
(or :func:`set_threads`) caps the threads of large compiled batches (default: every core).
"""

from ._engine import available, enable, enabled, set_threads, threads

__all__ = ["available", "enabled", "enable", "threads", "set_threads"]

"""The backend switch: compiled (numba, the default) or numpy, the thread cap, and compiling
the kernels ahead of time.

The evaluation engine (:mod:`kinematics._engine`) is the one place that picks the backend;
this module is its public switch. Both give the same numbers (to rounding, ~1e-15).
``KINEMATICS_ACCEL=0`` in the environment selects numpy at import; ``KINEMATICS_THREADS``
(or :func:`set_threads`) caps the threads of large compiled batches (default: every core).

The compiled kernels are compiled on their first call and cached on disk per user
(:func:`cache_dir`; ``NUMBA_CACHE_DIR`` wins). :func:`compile` (CLI: ``kinematics
compile``) compiles every kernel ahead of time, for Docker images, CI and lab machines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple, TextIO

from ._engine import available, enable, enabled, set_threads, threads

__all__ = ["available", "enabled", "enable", "threads", "set_threads", "compile",
           "cache_dir", "CompileReport", "GROUPS"]

#: What :func:`compile` can prepare, in its order: each group is the kernels of a use
#: (``fk``, ``jacobian``: single configurations; ``batch``: every batched quantity).
GROUPS = ("fk", "jacobian", "batch", "measures", "monitor", "control", "ik")


class CompileReport(NamedTuple):
    """What :func:`compile` did.

    Attributes:
        cache_dir: The folder the kernels are cached in (``None``: in memory only, or the
            compiled backend is off).
        kernels: Kernels made ready (compiled now or loaded from the cache).
        compiled: Functions (kernels and their helpers) compiled now (0: every kernel was
            loaded from the cache).
        seconds: Wall time [s].
    """

    cache_dir: str | None
    kernels: int
    compiled: int
    seconds: float


def cache_dir() -> str | None:
    """The folder the compiled kernels are cached in: ``NUMBA_CACHE_DIR`` when set, else
    the platform's user cache folder (``~/.cache/kinematics/numba`` on Linux); a temporary
    folder when that one is not writable; ``None`` when no folder is (kernels compiled in
    memory) or the compiled backend is not available."""
    if not available():
        return None
    from . import _cache

    return _cache.cache_dir()


def compile(progress: bool | TextIO = True, groups: tuple[str, ...] | None = None
            ) -> CompileReport:
    """Compile every kernel ahead of time (or load it from the cache), with a progress bar.

    Idempotent: a second call loads everything from the cache in about a second. An
    interrupted call leaves the cache valid (numba writes each entry whole); the next call
    compiles what is missing.

    Args:
        progress: ``True``: a bar on stderr (plain lines off a terminal); ``False``:
            silent; a text stream: the bar there.
        groups: Some of :data:`GROUPS` (default: all).

    Returns:
        :class:`CompileReport`.

    Raises:
        InvalidValueError: An unknown group, or ``progress`` neither a bool nor a stream.
    """
    from .exceptions import InvalidValueError
    from .progress import Progress

    chosen = GROUPS if groups is None else tuple(groups)
    for g in chosen:
        if g not in GROUPS:
            raise InvalidValueError(f"groups: unknown group {g!r}; expected some of "
                                    f"{', '.join(GROUPS)}")
    start = time.perf_counter()
    if not enabled():   # KINEMATICS_ACCEL=0 or numba missing: nothing to compile
        return CompileReport(None, 0, 0, 0.0)
    from . import _cache

    _cache.configure()
    _cache.ahead_of_time()   # the announcement says what this is
    steps = [s for s in _steps() if s[0] in chosen]
    before = _cache.compile_count()
    bar = Progress.from_arg(len(steps), progress, "kernels", heartbeat=1.0)
    try:
        for _, _label, run in steps:
            run()
            bar.advance(1)
    finally:
        bar.close()
    return CompileReport(_cache.cache_dir(), _ready(), _cache.compile_count() - before,
                         time.perf_counter() - start)


def _ready() -> int:
    """Kernels with at least one compiled signature (helpers compiled as callees are part
    of their callers)."""
    from numba.core.dispatcher import Dispatcher

    from . import _engine

    mods = [_engine.compiled_kernels()]
    from .ik import _closed_form_kernels, _lm

    mods += [_lm, _closed_form_kernels]
    return sum(1 for m in mods for name, v in vars(m).items()
               if isinstance(v, Dispatcher) and not name.startswith("_") and v.signatures)


def _steps() -> list[tuple[str, str, Callable[[], Any]]]:
    """``(group, label, call)`` for every kernel, each through the public call that uses it
    (so the compiled signature is the one real calls look up)."""
    import numpy as np

    from . import _engine, singularity
    from .forward import fk
    from .ik import rate, solver
    from .jacobian import fk_jacobian, jacobian, jacobian_dot, joint_torques, twist
    from .robot import load_robot

    robot = load_robot("panda")
    chain = robot.chain()
    q = np.array([0.3, -0.3, 0.0, -2.2, 0.0, 2.0, 0.8])
    Q = np.stack([q, q + 0.1])
    qd = np.full(robot.dof, 0.1)
    T = np.array([[1.0, 0.0, 0.0, 0.4], [0.0, -1.0, 0.0, 0.1], [0.0, 0.0, -1.0, 0.4],
                  [0.0, 0.0, 0.0, 1.0]])          # a reachable tool pose [m]
    J = np.zeros((6, robot.dof))                  # the Jacobian at q, once a step needs it

    def at_q() -> None:
        J[...] = jacobian(robot, q)

    def monitor() -> singularity.SingularityMonitor:
        return singularity.SingularityMonitor(robot)

    def measures() -> None:
        at_q()
        singularity.measures(J)

    def dls() -> None:
        at_q()
        rate.ResolvedRateController(robot, dt=1e-3)._dls(J, np.zeros(6))

    q_band = q.copy()
    q_band[3] = -1.0          # the elbow near stretched: inside the warn band
    qd_in = np.zeros(robot.dof)
    qd_in[3] = 0.5            # toward the stretched singularity: constrained

    def solve_all() -> None:
        from .ik import closed_form

        ur5 = load_robot("ur5")
        closed_form.solve_all(ur5, fk(ur5, np.array([0.1, -1.2, 1.3, -0.4, 0.5, 0.2])))

    def safe_command() -> None:
        mon = monitor()
        state = mon.update(q_band, qd_in, dt=1e-3)
        mon.command(state)    # the joint-space command (no task)
        T_far = fk(robot, q_band).copy()
        T_far[:3, 3] *= 1.5   # beyond the reach: the controller's constrained step
        rate.ResolvedRateController(robot, dt=1e-3, monitor=monitor()).velocity(q_band, T_far)

    return [
        ("fk", "fk (one)", lambda: fk(robot, q)),
        ("jacobian", "fk_jacobian (one)", lambda: fk_jacobian(robot, q)),
        ("jacobian", "twist", lambda: twist(robot, q, qd)),
        ("batch", "fk (batch)", lambda: fk(robot, Q)),
        ("batch", "fk_jacobian (batch)", lambda: fk_jacobian(robot, Q)),
        ("batch", "jacobian_dot", lambda: jacobian_dot(robot, Q, Q)),
        ("batch", "joint_torques", lambda: joint_torques(robot, Q, np.ones((2, 6)))),
        ("batch", "frames", lambda: _engine.frames(chain, Q)),
        ("measures", "measures", measures),
        ("monitor", "monitor metric", lambda: monitor().update(q)),
        ("monitor", "monitor approaches",
         lambda: singularity.approaches(monitor(), q, qd, np.array(0.01), dt=1e-3)),
        ("monitor", "monitor safe command", safe_command),
        ("control", "control step",
         lambda: rate.ResolvedRateController(robot, dt=1e-3).velocity(q, T)),
        ("control", "control step + monitor", lambda: rate.ResolvedRateController(
            robot, dt=1e-3, monitor=monitor()).velocity(q, T)),
        ("control", "damped least squares", dls),
        ("ik", "ik attempts", lambda: solver.solve(robot, T)),
        ("ik", "ik restarts", lambda: solver.solve(robot, T, nearest=True, restarts=2)),
        ("ik", "ik solve_all (closed form)", solve_all),
    ]

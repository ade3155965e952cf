"""The evaluation engine: the one place that evaluates a chain and picks the backend.

Everything kinematic is computed from one evaluation of a :class:`~kinematics.robot.Chain`
at the chain's joint values ``θ`` (``(..., n)``):

- :func:`pose` — the link pose ``T`` ``(..., 4, 4)``;
- :func:`pose_jacobian` — ``T`` and the base-reference Jacobian of the chain's joints
  ``(..., 6, n)``;
- :func:`frames` — ``T`` plus every joint's axis ``z`` and origin ``o`` ``(..., n, 3)``, from
  which the J family (``J̇``, ``J q̇``, ``Jᵀ w``) is written in :mod:`kinematics.jacobian`.

Two backends give the same numbers (to rounding, ~1e-15; the test-suite checks one against
the other on every robot):

- **compiled** (numba, :mod:`kinematics._kernels`): the default; one pass over the chain per
  configuration, no temporaries.
- **numpy**: the fallback and the test oracle, and the path for complex ``θ``
  (complex-step differentiation). The chain product is a log-depth prefix scan
  (Hillis–Steele, ``ceil(log2(n + 1))`` batched 4×4 products), over chunks of
  :data:`CHUNK` configurations so temporaries stay bounded.

``KINEMATICS_ACCEL=0`` in the environment (read at import) or :func:`enable` selects numpy.

The public functions (:mod:`kinematics.forward`, :mod:`kinematics.jacobian`) call the
compiled backend on joint values ``q`` directly (:func:`run_q`, :func:`fkj_single`): the
mimic map, the reference point and the reference are applied inside the kernel, the output
is the only allocation, and batches of :data:`THRESHOLD` configurations or more are cut in
chunks run on :func:`threads` threads (the kernels release the GIL; every configuration is
computed by the same code whatever the chunking, so results are bit-for-bit identical).
``KINEMATICS_THREADS`` in the environment or :func:`set_threads` caps the threads.
"""

from __future__ import annotations

import importlib.util
import math
import os
import threading
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import NDArray

from .robot import Chain, Robot

__all__ = ["Frames", "available", "enabled", "enable", "pose", "pose_jacobian", "frames",
           "chain_theta", "theta_dot", "to_dof", "columns", "CHUNK", "THRESHOLD", "threads",
           "set_threads", "compiled", "run_q", "fkj_single", "fk_single", "allocate",
           "REF_CODE", "flat", "pack", "pool", "kernels"]

Array = NDArray[np.float64]
CHUNK = 2048  # configurations per numpy chunk: temporaries ≈ CHUNK · (n + 1) · 128 B

_AVAILABLE = importlib.util.find_spec("numba") is not None
_ENABLED = _AVAILABLE and os.environ.get("KINEMATICS_ACCEL", "1") != "0"
_kernels: Any = None
THRESHOLD = 4096    # configurations from which a compiled batch runs on several threads
_TASK = 65536       # at most this many configurations per threaded task
REF_CODE = {"base": 0, "local": 1, "spatial": 2}
_ZERO3 = np.zeros(3)  # writable: numba's fast argument typing skips read-only arrays
_PACKS: dict[Chain, tuple[NDArray[np.float64], NDArray[np.float64]]] = {}
_POOL: Any = None
_POOL_SIZE = 0
_LOCK = threading.Lock()


def _threads_from_env() -> int:
    raw = os.environ.get("KINEMATICS_THREADS", "")
    try:
        value = int(raw)
    except ValueError:
        value = 0
    return value if value > 0 else (os.cpu_count() or 1)


_THREADS = _threads_from_env()


def threads() -> int:
    """Threads a large compiled batch runs on (``KINEMATICS_THREADS``, default: the CPU
    count)."""
    return _THREADS


def set_threads(n: int | None) -> int:
    """Cap the threads of large compiled batches (``None``: back to the default); returns
    the previous cap.

    Raises:
        InvalidValueError: ``n`` is not an integer ``>= 1``.
    """
    global _THREADS
    from . import _checks

    previous = _THREADS
    _THREADS = _threads_from_env() if n is None else _checks.integer(n, "threads", 1)
    return previous


def available() -> bool:
    """Whether the compiled backend can be used (numba is installed)."""
    return _AVAILABLE


def enabled() -> bool:
    """Whether the compiled backend is in use."""
    return _ENABLED


def enable(on: bool = True) -> bool:
    """Use (or stop using) the compiled backend; returns the previous setting.

    Raises:
        InvalidValueError: ``on`` is true and numba is not installed.
    """
    global _ENABLED
    if on and not _AVAILABLE:
        from .exceptions import InvalidValueError

        raise InvalidValueError("the compiled backend needs numba, which is not installed: "
                                "pip install numba")
    previous, _ENABLED = _ENABLED, bool(on)
    return previous


def _compiled(theta: NDArray[Any]) -> Any:
    """The kernels module when the compiled backend applies to ``theta``, else None."""
    if not _ENABLED or theta.dtype != np.float64:
        return None
    return _kern()


def compiled(q: NDArray[Any]) -> bool:
    """Whether the compiled backend evaluates joint values ``q`` (real ``float64``)."""
    return _ENABLED and q.dtype == np.float64


def compiled_kernels() -> Any:
    """The compiled kernels module when the compiled backend is in use, else ``None`` (for
    callers with kernels of their own, e.g. the controller's damped least squares)."""
    return _kern() if _ENABLED else None


def kernels() -> Any:
    """The compiled kernels module, whatever the backend switch says: for the quantities
    that have only a compiled implementation (the monitor's safe command)."""
    return _kern()


def _kern() -> Any:
    global _kernels
    if _kernels is None:   # the import chooses the cache folder (kinematics._cache)
        from . import _kernels as k

        _kernels = k
    return _kernels


def pack(chain: Chain) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The chain as the q-level kernels read it: ``G`` ``(n + 1, 4, 4)`` (``T0``, steps)
    and ``P`` ``(n, 4)`` (revolute, q index, multiplier, offset)."""
    pk = _PACKS.get(chain)
    if pk is None:
        G = np.ascontiguousarray(np.concatenate([chain.T0[None], chain.steps]), np.float64)
        P = np.ascontiguousarray(np.stack([chain.revolute.astype(np.float64),
                                           chain.q_index.astype(np.float64),
                                           chain.multiplier, chain.offset], axis=-1)
                                 .reshape(chain.n, 4))
        pk = _PACKS[chain] = (G, P)
    return pk


_IDENTITY: dict[Chain, NDArray[np.float64]] = {}
_ORIGIN = np.zeros(3)


def _identity(chain: Chain, P: NDArray[np.float64]) -> NDArray[np.float64]:
    """``P`` with the identity joint map (``θ_k`` is input ``k``), for chain-level calls."""
    Pi = _IDENTITY.get(chain)
    if Pi is None:
        Pi = P.copy()
        Pi[:, 1], Pi[:, 2], Pi[:, 3] = np.arange(chain.n), 1.0, 0.0
        _IDENTITY[chain] = Pi
    return Pi


def _memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 0


_MEMORY = _memory()  # bytes of physical memory (0: unknown)


def allocate(shape: tuple[int, ...], what: str) -> NDArray[np.float64]:
    """``np.empty(shape)`` of float64, or an :class:`InvalidValueError` giving the size in
    GiB when it cannot fit in this machine's memory."""
    nbytes = 8 * math.prod(shape)
    total = _MEMORY
    try:
        if total and nbytes > total:
            raise MemoryError
        return np.empty(shape)
    except MemoryError:
        from .exceptions import InvalidValueError

        raise InvalidValueError(
            f"{what} of shape {shape} needs {nbytes / 2**30:.1f} GiB, more than this "
            f"machine's memory ({total / 2**30:.1f} GiB); pass the batch in parts") from None


def pool(n: int) -> Any:
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or _POOL_SIZE != n:
            from concurrent.futures import ThreadPoolExecutor

            if _POOL is not None:
                _POOL.shutdown(wait=False)
            _POOL, _POOL_SIZE = ThreadPoolExecutor(n, thread_name_prefix="kinematics"), n
        return _POOL


def run_q(name: str, chain: Chain, ins: list[NDArray[Any]], args: tuple[Any, ...],
          outs: list[NDArray[Any]]) -> None:
    """Run the q-level kernel ``name`` on ``ins`` (each ``(N, k)``, C-contiguous float64),
    writing ``outs`` (each ``(N, ...)``); threaded in chunks from :data:`THRESHOLD`."""
    kern = getattr(_kern(), name)
    G, P = pack(chain)
    N = ins[0].shape[0]
    nt = _THREADS
    if N < THRESHOLD or nt <= 1:
        kern(*ins, G, P, *args, *outs)
        return
    tasks = nt * -(-N // (nt * _TASK))  # a multiple of the threads: equal shares
    step = -(-N // tasks)

    def task(a: int) -> None:
        b = min(a + step, N)
        kern(*(x[a:b] for x in ins), G, P, *args, *(y[a:b] for y in outs))

    for f in [pool(nt).submit(task, a) for a in range(0, N, step)]:
        f.result()


def fkj_single(chain: Chain, q: NDArray[np.float64], dof: int, ref: int
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Pose ``(4, 4)`` and Jacobian ``(6, dof)`` of one configuration ``q`` ``(dof,)`` on
    the compiled path; ``None`` when ``q`` has a NaN or inf (the caller then validates and
    raises the error naming the joint)."""
    G, P = pack(chain)
    T = np.empty((4, 4))
    J = np.empty((6, dof))
    kern = _kernels or _kern()
    if chain.simple and chain.n == dof:   # fkj_one's case: chain joint k is q[k]
        if kern.fkj_one(q, G, P, ref, T, J):
            return T, J
        return None
    if not np.isfinite(q).all():
        return None
    kern.fkj_batch(q.reshape(1, dof), G, P, _ORIGIN, ref, T.reshape(1, 4, 4),
                   J.reshape(1, 6, dof))
    return T, J



def fk_single(chain: Chain, q: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """Pose ``(4, 4)`` of one configuration ``q`` ``(dof,)`` on the compiled path; ``None``
    when ``q`` has a NaN or inf."""
    G, P = pack(chain)
    T = np.empty((4, 4))
    if (_kernels or _kern()).fk_one(q, G, P, T):
        return T
    return None


def flat(a: NDArray[Any], batch: tuple[int, ...], k: int) -> NDArray[np.float64]:
    """``a`` broadcast to ``batch + (k,)`` as a C-contiguous ``(N, k)`` float64 array."""
    if a.shape[:-1] != batch:
        a = np.broadcast_to(a, batch + (k,))
    return np.ascontiguousarray(a.reshape(math.prod(batch), k), dtype=np.float64)  # k may be 0


class Frames(NamedTuple):
    """Joint axes and origins of a chain, and the link pose (all in the base frame).

    Attributes:
        z: ``(..., n, 3)`` unit axis of each moving joint on the path.
        o: ``(..., n, 3)`` a point on each axis (the joint frame origin) [m].
        T: ``(..., 4, 4)`` pose of the link.
    """

    z: NDArray[Any]
    o: NDArray[Any]
    T: NDArray[Any]


def chain_theta(chain: Chain, q: NDArray[Any]) -> NDArray[Any]:
    """Values ``(..., n)`` of the chain's moving joints (mimic joints expanded)."""
    if chain.simple:
        return q[..., : chain.n]
    return q[..., chain.q_index] * chain.multiplier + chain.offset


def theta_dot(chain: Chain, qd: NDArray[Any]) -> NDArray[Any]:
    """Rates ``(..., n)`` of the chain's moving joints from joint velocities ``qd``."""
    if chain.simple:
        return qd[..., : chain.n]
    return qd[..., chain.q_index] * chain.multiplier


def to_dof(robot: Robot, chain: Chain, Jc: NDArray[Any]) -> NDArray[Any]:
    """Map ``(..., k, n)`` chain columns to ``(..., k, dof)`` joint columns (mimic joints add
    their column, times the multiplier, to their leader's; other joints get zeros)."""
    if chain.simple and chain.n == robot.dof:
        return Jc
    M = np.zeros((chain.n, robot.dof))
    np.add.at(M, (np.arange(chain.n), chain.q_index), chain.multiplier)
    return Jc @ M


def columns(revolute: NDArray[np.bool_], z: NDArray[Any], o: NDArray[Any],
            p: NDArray[Any]) -> NDArray[Any]:
    """Base-reference Jacobian ``(..., 6, n)`` from joint axes/origins ``(..., n, 3)`` and the
    reference point ``p`` ``(..., 3)``: ``[z × (p − o); z]`` (revolute), ``[z; 0]``
    (prismatic)."""
    d = p[..., None, :] - o
    J = np.empty(z.shape[:-2] + (6, z.shape[-2]), dtype=np.result_type(z, p))
    J[..., 0, :] = z[..., 1] * d[..., 2] - z[..., 2] * d[..., 1]
    J[..., 1, :] = z[..., 2] * d[..., 0] - z[..., 0] * d[..., 2]
    J[..., 2, :] = z[..., 0] * d[..., 1] - z[..., 1] * d[..., 0]
    J[..., 3:, :] = np.swapaxes(z, -1, -2)
    if not revolute.all():
        pri = ~revolute
        J[..., :3, pri] = J[..., 3:, pri]
        J[..., 3:, pri] = 0.0
    return J


def _run(chain: Chain, theta: NDArray[Any], want_j: bool, want_zo: bool
         ) -> tuple[NDArray[Any], NDArray[Any] | None, NDArray[Any] | None, NDArray[Any] | None]:
    """Evaluate; returns ``T``, ``J`` (chain columns), ``z``, ``o`` with ``theta``'s batch."""
    batch, n = theta.shape[:-1], chain.n
    if n == 0:
        T = np.broadcast_to(chain.T0, batch + (4, 4)).astype(theta.dtype)
        empty = np.zeros(batch + (0, 3), dtype=theta.dtype)
        return T, np.zeros(batch + (6, 0), dtype=theta.dtype), empty, empty.copy()
    flat = theta.reshape(-1, n)
    N = flat.shape[0]
    kern = _compiled(theta)
    if kern is not None:
        th = np.ascontiguousarray(flat)
        G, P = pack(chain)
        P = _identity(chain, P)  # θ in: the chain's own joints, in order
        T = allocate((N, 4, 4), "pose output")
        J = Z = O = None  # noqa: E741
        if want_zo:
            Z = allocate((N, n, 3), "joint axes")
            O = allocate((N, n, 3), "joint origins")  # noqa: E741
            kern.frames_batch(th, G, P, T, Z, O)
        if want_j:
            J = allocate((N, 6, n), "Jacobian output")
            kern.fkj_batch(th, G, P, _ORIGIN, 0, T, J)
        elif not want_zo:
            kern.fk_batch(th, G, P, _ORIGIN, T)
    else:
        def alloc(shape: tuple[int, ...], what: str) -> NDArray[Any]:
            if theta.dtype == np.float64:
                return allocate(shape, what)
            return np.empty(shape, dtype=theta.dtype)

        T = alloc((N, 4, 4), "pose output")
        J = alloc((N, 6, n), "Jacobian output") if want_j else None
        Z = alloc((N, n, 3), "joint axes") if (want_zo or want_j) else None
        O = alloc((N, n, 3), "joint origins") if (want_zo or want_j) else None  # noqa: E741
        for a in range(0, N, CHUNK):
            b = min(a + CHUNK, N)
            P = _prefix_scan(chain, flat[a:b])
            T[a:b] = P[:, n]
            if Z is not None and O is not None:
                Z[a:b] = P[:, :n, :3, 2]
                O[a:b] = P[:, :n, :3, 3]
                if J is not None:
                    J[a:b] = columns(chain.revolute, Z[a:b], O[a:b], T[a:b, :3, 3])
    return (T.reshape(batch + (4, 4)),
            J.reshape(batch + (6, n)) if want_j and J is not None else None,
            Z.reshape(batch + (n, 3)) if want_zo and Z is not None else None,
            O.reshape(batch + (n, 3)) if want_zo and O is not None else None)


def _prefix_scan(chain: Chain, theta: NDArray[Any]) -> NDArray[Any]:
    """``(N, n + 1, 4, 4)`` prefix products ``P_k = T0 L_1 … L_k`` with
    ``L_k = M(θ_k) steps[k-1]``: ``P_{k-1}`` is joint ``k``'s frame, ``P_n`` the link pose."""
    N, n = theta.shape
    P = np.empty((N, n + 1, 4, 4), dtype=theta.dtype)
    P[:, 0] = chain.T0
    S = chain.steps
    L = P[:, 1:]
    c, s = np.cos(theta)[..., None], np.sin(theta)[..., None]
    L[...] = S
    rev = chain.revolute
    if rev.all():
        L[:, :, 0] = c * S[:, 0] - s * S[:, 1]   # Rz(θ) S: rows 0-1 mix, rows 2-3 constant
        L[:, :, 1] = s * S[:, 0] + c * S[:, 1]
    else:
        r = np.flatnonzero(rev)
        L[:, r, 0] = c[:, r] * S[r, 0] - s[:, r] * S[r, 1]
        L[:, r, 1] = s[:, r] * S[r, 0] + c[:, r] * S[r, 1]
        p = np.flatnonzero(~rev)                 # Tz(θ) S: row 2 += θ row 3
        L[:, p, 2] = S[p, 2] + theta[:, p, None] * S[p, 3]
    d = 1
    while d <= n:
        P[:, d:] = P[:, :-d] @ P[:, d:]
        d *= 2
    return P


def pose(chain: Chain, theta: NDArray[Any]) -> NDArray[Any]:
    """Link pose ``(..., 4, 4)`` at chain joint values ``theta`` ``(..., n)``."""
    return _run(chain, theta, False, False)[0]


def pose_jacobian(chain: Chain, theta: NDArray[Any]) -> tuple[NDArray[Any], NDArray[Any]]:
    """Link pose ``(..., 4, 4)`` and base-reference Jacobian ``(..., 6, n)`` of the chain's
    joints (reference point: the link origin)."""
    T, J, _, _ = _run(chain, theta, True, False)
    return T, cast("NDArray[Any]", J)


def frames(chain: Chain, theta: NDArray[Any]) -> Frames:
    """Joint axes and origins ``(..., n, 3)`` and the link pose ``(..., 4, 4)``."""
    T, _, z, o = _run(chain, theta, False, True)
    return Frames(cast("NDArray[Any]", z), cast("NDArray[Any]", o), T)

"""Optional compiled kernels (numba) for pose and Jacobian evaluation.

With the ``fast`` extra (``pip install 'kinematics[fast]'``, which adds numba), single
configurations take ~3 µs instead of ~15 µs and large batches several million
configurations per second; without it the numpy implementation in
:mod:`kinematics.forward` / :mod:`kinematics.jacobian` is used. Both give the same numbers
(to rounding, ~1e-15) and the test-suite checks one against the other on every robot.

The kernel walks the chain once per configuration with each frame as a 3×4 array: a
joint's motion mixes two columns (``Rz``) or shifts the origin (``Tz``), then the constant
step to the next joint is a 3×4 · 4×4 product; Jacobian columns are ``[z × (p − o); z]``.

Set the environment variable ``KINEMATICS_ACCEL=0`` (before import) or call
:func:`enable` to choose; :func:`enabled` tells which is in use. Kernels compile on first
use (about a second; cached on disk afterwards).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .robot import Chain

__all__ = ["available", "enabled", "enable", "pose_jacobian"]

Array = NDArray[np.float64]

_numba: Any
try:  # numba is optional (the "fast" extra)
    import numba as _numba
except ImportError:  # pragma: no cover - depends on the environment
    _numba = None

_ENABLED = _numba is not None and os.environ.get("KINEMATICS_ACCEL", "1") != "0"
_kernel: Any = None


def available() -> bool:
    """Whether numba is installed."""
    return _numba is not None


def enabled() -> bool:
    """Whether the compiled kernels are in use."""
    return _ENABLED


def enable(on: bool = True) -> bool:
    """Use (or stop using) the compiled kernels; returns the previous setting.

    Raises:
        ImportError: ``on`` is true and numba is not installed.
    """
    global _ENABLED
    if on and _numba is None:
        raise ImportError("the compiled kernels need numba: pip install 'kinematics[fast]'")
    previous, _ENABLED = _ENABLED, bool(on)
    return previous


def _build(numba: Any) -> Any:
    @numba.njit(cache=True, nogil=True)
    def kernel(theta, T0, steps, revolute, T, J, want_j):  # type: ignore[no-untyped-def]
        # theta (N, n); T0 (4, 4); steps (n, 4, 4); revolute (n,); T (N, 4, 4); J (N, 6, n)
        N, n = theta.shape
        F = np.empty((3, 4))
        G = np.empty((3, 4))
        Z = np.empty((n, 3))
        Og = np.empty((n, 3))
        for b in range(N):
            for i in range(3):
                for j in range(4):
                    F[i, j] = T0[i, j]
            for k in range(n):
                for i in range(3):
                    Z[k, i] = F[i, 2]
                    Og[k, i] = F[i, 3]
                th = theta[b, k]
                if revolute[k]:
                    c, s = np.cos(th), np.sin(th)
                    for i in range(3):
                        x, y = F[i, 0], F[i, 1]
                        F[i, 0] = c * x + s * y
                        F[i, 1] = c * y - s * x
                else:
                    for i in range(3):
                        F[i, 3] += th * F[i, 2]
                C = steps[k]
                for i in range(3):
                    for j in range(4):
                        G[i, j] = (F[i, 0] * C[0, j] + F[i, 1] * C[1, j] + F[i, 2] * C[2, j]
                                   + F[i, 3] * C[3, j])
                F, G = G, F
            for i in range(3):
                for j in range(4):
                    T[b, i, j] = F[i, j]
            T[b, 3, 0], T[b, 3, 1], T[b, 3, 2], T[b, 3, 3] = 0.0, 0.0, 0.0, 1.0
            if not want_j:
                continue
            px, py, pz = F[0, 3], F[1, 3], F[2, 3]
            for k in range(n):
                zx, zy, zz = Z[k, 0], Z[k, 1], Z[k, 2]
                if revolute[k]:
                    dx, dy, dz = px - Og[k, 0], py - Og[k, 1], pz - Og[k, 2]
                    J[b, 0, k] = zy * dz - zz * dy
                    J[b, 1, k] = zz * dx - zx * dz
                    J[b, 2, k] = zx * dy - zy * dx
                    J[b, 3, k], J[b, 4, k], J[b, 5, k] = zx, zy, zz
                else:
                    J[b, 0, k], J[b, 1, k], J[b, 2, k] = zx, zy, zz
                    J[b, 3, k], J[b, 4, k], J[b, 5, k] = 0.0, 0.0, 0.0

    return kernel


def pose_jacobian(chain: Chain, theta: Array, want_j: bool = True) -> tuple[Array, Array | None]:
    """Link pose and base-reference Jacobian of a chain, compiled.

    Args:
        chain: Precomputed chain (``n >= 1`` moving joints).
        theta: ``(..., n)`` chain joint values [rad or m].
        want_j: Also compute the Jacobian.

    Returns:
        ``T`` ``(..., 4, 4)`` and ``J`` ``(..., 6, n)`` (``None`` without ``want_j``).
    """
    global _kernel
    if _kernel is None:
        _kernel = _build(_numba)
    batch = theta.shape[:-1]
    n = chain.n
    th = np.ascontiguousarray(theta).reshape(-1, n)
    N = th.shape[0]
    T = np.empty((N, 4, 4))
    J = np.empty((N, 6, n) if want_j else (0, 6, n))
    _kernel(th, chain.T0, chain.steps, chain.revolute, T, J, want_j)
    return T.reshape(batch + (4, 4)), J.reshape(batch + (6, n)) if want_j else None

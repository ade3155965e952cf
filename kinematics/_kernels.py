"""Compiled (numba) kernels of the evaluation engine; imported by :mod:`kinematics._engine`
on first use, never at ``import kinematics``.

The chain is walked once per configuration with each frame as a 3×4 array: a joint's
motion mixes two columns (``Rz``) or shifts the origin (``Tz``), then the constant step to
the next joint is a 3×4 · 4×4 product. Jacobian columns are ``[z × (p − o); z]``
(revolute) or ``[z; 0]`` (prismatic), the same formula as the numpy path of the engine.
Compiled on first call and cached on disk (``cache=True``; numba falls back to a per-user
cache folder when the package folder is read-only, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["chain_kernel"]


@numba.njit(cache=True, nogil=True)
def _one(theta, T0, steps, revolute, T, J, Z, O, want_j, want_zo):  # type: ignore[no-untyped-def]
    n = steps.shape[0]
    F = np.empty((3, 4))
    G = np.empty((3, 4))
    Zl = np.empty((n, 3))
    Ol = np.empty((n, 3))
    for i in range(3):
        for j in range(4):
            F[i, j] = T0[i, j]
    for k in range(n):
        for i in range(3):
            Zl[k, i] = F[i, 2]
            Ol[k, i] = F[i, 3]
        th = theta[k]
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
            T[i, j] = F[i, j]
    T[3, 0], T[3, 1], T[3, 2], T[3, 3] = 0.0, 0.0, 0.0, 1.0
    if want_zo:
        for k in range(n):
            for i in range(3):
                Z[k, i] = Zl[k, i]
                O[k, i] = Ol[k, i]
    if want_j:
        px, py, pz = F[0, 3], F[1, 3], F[2, 3]
        for k in range(n):
            zx, zy, zz = Zl[k, 0], Zl[k, 1], Zl[k, 2]
            if revolute[k]:
                dx, dy, dz = px - Ol[k, 0], py - Ol[k, 1], pz - Ol[k, 2]
                J[0, k] = zy * dz - zz * dy
                J[1, k] = zz * dx - zx * dz
                J[2, k] = zx * dy - zy * dx
                J[3, k], J[4, k], J[5, k] = zx, zy, zz
            else:
                J[0, k], J[1, k], J[2, k] = zx, zy, zz
                J[3, k], J[4, k], J[5, k] = 0.0, 0.0, 0.0


@numba.njit(cache=True, nogil=True)
def chain_kernel(theta, T0, steps, revolute, T, J, Z, O, want_j, want_zo):  # type: ignore[no-untyped-def]
    """Evaluate ``N`` configurations.

    Args:
        theta: ``(N, n)`` chain joint values. T0 ``(4, 4)``, steps ``(n, 4, 4)``,
            revolute ``(n,)``: the chain.
        T: ``(N, 4, 4)`` out: link poses. J: ``(N, 6, n)`` out (``want_j``): base-reference
            Jacobians. Z, O: ``(N, n, 3)`` out (``want_zo``): joint axes and origins.
    """
    for b in range(theta.shape[0]):
        _one(theta[b], T0, steps, revolute, T[b], J[b if want_j else 0],
             Z[b if want_zo else 0], O[b if want_zo else 0], want_j, want_zo)

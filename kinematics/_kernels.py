"""Compiled (numba) kernels of the evaluation engine; imported by :mod:`kinematics._engine`
on first use, never at ``import kinematics``.

The chain is walked once per configuration with each frame as a 3×4 array: a joint's
motion mixes two columns (``Rz``) or shifts the origin (``Tz``), then the constant step to
the next joint is a 3×4 · 4×4 product. Jacobian columns are ``[z × (p − o); z]``
(revolute) or ``[z; 0]`` (prismatic), the same formulas as the numpy path
(:mod:`kinematics._engine`, :mod:`kinematics.jacobian`).

One chain walk (``_walk``) serves every kernel. ``*_batch`` / ``fkj_one`` / ``fk_one``:
joint values ``q`` ``(N, dof)`` in, the public quantities out, with the mimic map
``θ_k = q[idx_k] · mult_k + off_k``, the reference point ``pt`` (link frame), the
reference (0 base, 1 local, 2 spatial) and the columns summed per joint
(``J_dof[:, idx_k] += mult_k · J_chain[:, k]``) inside the kernel. A chain is packed as
``G`` ``(n + 1, 4, 4)`` (``T0`` then the steps) and ``P`` ``(n, 4)`` (revolute, idx, mult,
off). The engine's chain-level functions (:func:`~kinematics._engine.pose`,
``pose_jacobian``, ``frames``) run the same kernels on chain joint values ``θ`` with the
identity map.

One SVD (``_orthogonalize``, one-sided Jacobi on the shorter side: no LAPACK call, whose
overhead from numba is ~10 µs on a 6×7 matrix) serves the quantities built on singular
values: the resolved-rate step (:func:`rate_step`: damped least squares, null-space
projector, joint-limit saturation), the singularity monitor's metric (:func:`metric`,
:func:`metric_at`, :func:`approaches`) and :func:`measures_batch`. One pose error
(``_pose_error``) serves the step and the IK attempts (:mod:`kinematics.ik._lm`).

Every kernel is ``nogil`` (the engine runs chunks on threads) and has no temporaries beyond
one configuration's scratch. Compiled on first call and cached on disk, per user, never in
the package's folder (:mod:`kinematics._cache`: ``NUMBA_CACHE_DIR`` or the platform's
user cache folder, fallbacks said once); ``kinematics compile`` compiles them all ahead.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numba.core.cpu
import numpy as np

from . import _cache

__all__ = ["fkj_one", "fk_one", "fk_batch", "fkj_batch", "jdot_batch",
           "twist_batch", "torque_batch", "frames_batch", "dls", "metric", "metric_at",
           "approaches", "rate_step", "measures_batch", "safe_command", "sv_gradients"]

_OPTS: dict[str, Any] = {"cache": _cache.configure(), "nogil": True, "error_model": "numpy",
                         "fastmath": {"contract"}}
# Helpers are compiled once each (numba's IR inlining, ``inline="always"``, re-typed a
# helper's whole body at every call site: most of the first IK solve's cold compile,
# benchmarks/bench_startup.py). The small ones on every configuration's path (the chain
# walk) are inlined by LLVM instead (``forceinline``: typed once; a call between compiled
# functions passes every array argument field by field).
_INLINE = _OPTS
_FORCE: dict[str, Any] = ({**_OPTS, "forceinline": True}   # numba >= 0.59 has it
                          if hasattr(numba.core.cpu.CPUTargetOptions, "forceinline") else _OPTS)


@numba.njit(**_OPTS)
def _cross(a0, a1, a2, b0, b1, b2):  # type: ignore[no-untyped-def]
    return a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0


@numba.njit(**_FORCE)
def _walk(q, G, P, F, Zl, Ol, want_zo):  # type: ignore[no-untyped-def]
    """Walk the chain at joint values ``q`` ``(dof,)``: joint axes ``Zl`` and origins ``Ol``
    ``(n, 3)`` (unless ``want_zo`` is False: then they are not touched), link frame ``F``
    ``(3, 4)`` (rows 0-2 of a ``(4, 4)`` work too); returns False if some ``q`` is not
    finite. Written as short loops over the rows of ``F``, which LLVM unrolls: about half
    the compile time of twelve named scalars, the same speed within the noise."""
    ok = True
    for i in range(q.shape[0]):
        if not np.isfinite(q[i]):
            ok = False
    for i in range(3):
        for j in range(4):
            F[i, j] = G[0, i, j]
    for k in range(P.shape[0]):
        if want_zo:
            for i in range(3):
                Zl[k, i] = F[i, 2]
                Ol[k, i] = F[i, 3]
        th = q[int(P[k, 1])] * P[k, 2] + P[k, 3]
        if P[k, 0] != 0.0:
            cs = np.cos(th)
            sn = np.sin(th)
            for i in range(3):
                x0 = F[i, 0]
                x1 = F[i, 1]
                F[i, 0] = cs * x0 + sn * x1
                F[i, 1] = cs * x1 - sn * x0
        else:
            for i in range(3):
                F[i, 3] += th * F[i, 2]
        for i in range(3):   # F <- F · step (the step's last row is [0 0 0 1])
            x0 = F[i, 0]
            x1 = F[i, 1]
            x2 = F[i, 2]
            x3 = F[i, 3]
            for j in range(4):
                F[i, j] = (x0 * G[k + 1, 0, j] + x1 * G[k + 1, 1, j] + x2 * G[k + 1, 2, j]
                           + x3 * G[k + 1, 3, j])
    return ok


@numba.njit(**_FORCE)
def _point(F, pt, p):  # type: ignore[no-untyped-def]
    """Base position ``p`` of the link point ``pt``: ``F[:, 3] + F[:, :3] @ pt``."""
    for i in range(3):
        p[i] = F[i, 3] + (F[i, 0] * pt[0] + F[i, 1] * pt[1] + F[i, 2] * pt[2])


@numba.njit(**_INLINE)
def _fkj(q, G, P, pt, ref, T, J, b, want_j, F, Zl, Ol, p, direct=False):  # type: ignore[no-untyped-def]
    """Pose ``T[b]`` ``(4, 4)`` and (``want_j``) Jacobian ``J[b]`` ``(6, dof)`` of the point
    ``pt`` (link frame) at ``q`` ``(dof,)``, in ``ref``; ``T``, ``J`` are ``(N, ...)`` outputs
    written in row ``b`` directly (no view: a batch loop pays no reference counting).
    ``F``, ``Zl``, ``Ol``, ``p``: scratch. ``direct``: columns written, not summed."""
    n = P.shape[0]
    ok = _walk(q, G, P, F, Zl, Ol, True)
    _point(F, pt, p)
    for i in range(3):
        for j in range(3):
            T[b, i, j] = F[i, j]
        T[b, i, 3] = p[i]
    T[b, 3, 0], T[b, 3, 1], T[b, 3, 2], T[b, 3, 3] = 0.0, 0.0, 0.0, 1.0
    if not want_j:
        return ok
    if not direct:
        for r in range(6):
            for c in range(J.shape[2]):
                J[b, r, c] = 0.0
    for k in range(n):
        zx, zy, zz = Zl[k, 0], Zl[k, 1], Zl[k, 2]
        if P[k, 0] != 0.0:
            dx, dy, dz = p[0] - Ol[k, 0], p[1] - Ol[k, 1], p[2] - Ol[k, 2]
            v0 = zy * dz - zz * dy
            v1 = zz * dx - zx * dz
            v2 = zx * dy - zy * dx
            w0, w1, w2 = zx, zy, zz
        else:
            v0, v1, v2 = zx, zy, zz
            w0, w1, w2 = 0.0, 0.0, 0.0
        if ref == 1:    # local: Rᵀ on both halves
            a0 = F[0, 0] * v0 + F[1, 0] * v1 + F[2, 0] * v2
            a1 = F[0, 1] * v0 + F[1, 1] * v1 + F[2, 1] * v2
            a2 = F[0, 2] * v0 + F[1, 2] * v1 + F[2, 2] * v2
            b0 = F[0, 0] * w0 + F[1, 0] * w1 + F[2, 0] * w2
            b1 = F[0, 1] * w0 + F[1, 1] * w1 + F[2, 1] * w2
            b2 = F[0, 2] * w0 + F[1, 2] * w1 + F[2, 2] * w2
            v0, v1, v2, w0, w1, w2 = a0, a1, a2, b0, b1, b2
        elif ref == 2:  # spatial: v − ω × p
            a0 = v0 - (w1 * p[2] - w2 * p[1])
            a1 = v1 - (w2 * p[0] - w0 * p[2])
            a2 = v2 - (w0 * p[1] - w1 * p[0])
            v0, v1, v2 = a0, a1, a2
        if direct:
            J[b, 0, k], J[b, 1, k], J[b, 2, k] = v0, v1, v2
            J[b, 3, k], J[b, 4, k], J[b, 5, k] = w0, w1, w2
            continue
        c = int(P[k, 1])
        m = P[k, 2]
        J[b, 0, c] += m * v0
        J[b, 1, c] += m * v1
        J[b, 2, c] += m * v2
        J[b, 3, c] += m * w0
        J[b, 4, c] += m * w1
        J[b, 5, c] += m * w2
    return ok


# the batch loops' copy of _fkj, inlined by LLVM (0.38 against 0.30 µs per Panda
# configuration as a call); the single-configuration callers keep the plain one
_fkj_rows = numba.njit(**_FORCE)(_fkj.py_func)


@numba.njit(**_OPTS)
def _direct(P, dof):  # type: ignore[no-untyped-def]
    """Whether chain joint ``k`` is ``q[k]`` for every ``k`` and covers all ``dof`` joints
    (Jacobian columns are written, not summed)."""
    if P.shape[0] != dof:
        return False
    for k in range(P.shape[0]):
        if P[k, 1] != k or P[k, 2] != 1.0 or P[k, 3] != 0.0:
            return False
    return True


@numba.njit(**_OPTS)
def fkj_one(q, G, P, ref, T, J):  # type: ignore[no-untyped-def]
    """One configuration: pose ``T`` ``(4, 4)`` and Jacobian ``J`` ``(6, dof)`` (out) of the
    link origin; returns False if ``q`` ``(dof,)`` is not finite. Direct chains only (chain
    joint ``k`` is ``q[k]``, every joint on the chain: :func:`_direct`); the engine sends
    the others to :func:`fkj_batch`, so a first call compiles only this. No heap
    allocation: ``T`` holds the running frame and ``J`` the joint axes and origins until
    they become columns. (This repeats :func:`_fkj`'s column loop on purpose:
    calling ``_fkj`` on a batch of one, with its scratch, measured 1.20 µs against
    0.99 µs here, a fifth of the kernel on the single-call path.)"""
    n = P.shape[0]
    Jt = J.T
    ok = _walk(q, G, P, T, Jt[:, 3:], Jt[:, :3], True)
    T[3, 0], T[3, 1], T[3, 2], T[3, 3] = 0.0, 0.0, 0.0, 1.0
    px, py, pz = T[0, 3], T[1, 3], T[2, 3]
    for k in range(n):
        zx, zy, zz = J[3, k], J[4, k], J[5, k]
        if P[k, 0] != 0.0:
            v0, v1, v2 = _cross(zx, zy, zz, px - J[0, k], py - J[1, k], pz - J[2, k])
            w0, w1, w2 = zx, zy, zz
        else:
            v0, v1, v2 = zx, zy, zz
            w0, w1, w2 = 0.0, 0.0, 0.0
        if ref == 1:
            a0 = T[0, 0] * v0 + T[1, 0] * v1 + T[2, 0] * v2
            a1 = T[0, 1] * v0 + T[1, 1] * v1 + T[2, 1] * v2
            a2 = T[0, 2] * v0 + T[1, 2] * v1 + T[2, 2] * v2
            b0 = T[0, 0] * w0 + T[1, 0] * w1 + T[2, 0] * w2
            b1 = T[0, 1] * w0 + T[1, 1] * w1 + T[2, 1] * w2
            b2 = T[0, 2] * w0 + T[1, 2] * w1 + T[2, 2] * w2
            v0, v1, v2, w0, w1, w2 = a0, a1, a2, b0, b1, b2
        elif ref == 2:
            a0 = v0 - (w1 * pz - w2 * py)
            a1 = v1 - (w2 * px - w0 * pz)
            a2 = v2 - (w0 * py - w1 * px)
            v0, v1, v2 = a0, a1, a2
        J[0, k], J[1, k], J[2, k], J[3, k], J[4, k], J[5, k] = v0, v1, v2, w0, w1, w2
    return ok


@numba.njit(**_OPTS)
def fk_one(q, G, P, T):  # type: ignore[no-untyped-def]
    """One configuration: pose ``T`` ``(4, 4)`` (out) of the link origin; returns False if
    ``q`` ``(dof,)`` is not finite. ``T`` holds the running frame (no heap allocation)."""
    ok = _walk(q, G, P, T, T, T, False)  # T holds the running frame; no axes kept
    T[3, 0], T[3, 1], T[3, 2], T[3, 3] = 0.0, 0.0, 0.0, 1.0
    return ok


@numba.njit(**_OPTS)
def frames_batch(q, G, P, T, Z, O):  # type: ignore[no-untyped-def]  # noqa: E741
    """Poses ``T`` ``(N, 4, 4)``, joint axes ``Z`` and origins ``O`` ``(N, n, 3)`` (out)."""
    n = P.shape[0]
    F, Zl, Ol = np.empty((3, 4)), np.empty((n, 3)), np.empty((n, 3))
    for b in range(q.shape[0]):
        _walk(q[b], G, P, F, Zl, Ol, True)
        for i in range(3):
            for j in range(4):
                T[b, i, j] = F[i, j]
        T[b, 3, 0], T[b, 3, 1], T[b, 3, 2], T[b, 3, 3] = 0.0, 0.0, 0.0, 1.0
        for k in range(n):
            for i in range(3):
                Z[b, k, i] = Zl[k, i]
                O[b, k, i] = Ol[k, i]


@numba.njit(**_OPTS)
def fk_batch(q, G, P, pt, T):  # type: ignore[no-untyped-def]
    """Poses ``T`` ``(N, 4, 4)`` (out) of ``q`` ``(N, dof)``."""
    n = P.shape[0]
    F, Zl, Ol, p = np.empty((3, 4)), np.empty((n, 3)), np.empty((n, 3)), np.empty(3)
    dof = q.shape[1]
    qb = np.empty(dof)
    for b in range(q.shape[0]):
        for i in range(dof):
            qb[i] = q[b, i]
        _fkj_rows(qb, G, P, pt, 0, T, T, b, False, F, Zl, Ol, p)


@numba.njit(**_OPTS)
def fkj_batch(q, G, P, pt, ref, T, J):  # type: ignore[no-untyped-def]
    """Poses ``T`` ``(N, 4, 4)`` and Jacobians ``J`` ``(N, 6, dof)`` (out)."""
    n = P.shape[0]
    F, Zl, Ol, p = np.empty((3, 4)), np.empty((n, 3)), np.empty((n, 3)), np.empty(3)
    direct = _direct(P, J.shape[2])
    # q copied to scratch and the outputs written in place: no array view per configuration
    # (each costs reference-count updates, about a third of the time on a 7-joint arm)
    dof = q.shape[1]
    qb = np.empty(dof)
    for b in range(q.shape[0]):
        for i in range(dof):
            qb[i] = q[b, i]
        _fkj_rows(qb, G, P, pt, ref, T, J, b, True, F, Zl, Ol, p, direct)


@numba.njit(**_OPTS)
def _jdot(q, qd, G, P, pt, ref, Jd, F, Zl, Ol, Jv, Jw, p):  # type: ignore[no-untyped-def]
    n = P.shape[0]
    _walk(q, G, P, F, Zl, Ol, True)
    _point(F, pt, p)
    # columns at p, and ṗ = Σ θ̇_k Jv_k
    pd0, pd1, pd2 = 0.0, 0.0, 0.0
    for k in range(n):
        zx, zy, zz = Zl[k, 0], Zl[k, 1], Zl[k, 2]
        thd = qd[int(P[k, 1])] * P[k, 2]
        if P[k, 0] != 0.0:
            v0, v1, v2 = _cross(zx, zy, zz, p[0] - Ol[k, 0], p[1] - Ol[k, 1], p[2] - Ol[k, 2])
            Jv[k, 0], Jv[k, 1], Jv[k, 2] = v0, v1, v2
            Jw[k, 0], Jw[k, 1], Jw[k, 2] = zx, zy, zz
        else:
            Jv[k, 0], Jv[k, 1], Jv[k, 2] = zx, zy, zz
            Jw[k, 0], Jw[k, 1], Jw[k, 2] = 0.0, 0.0, 0.0
        pd0 += Jv[k, 0] * thd
        pd1 += Jv[k, 1] * thd
        pd2 += Jv[k, 2] * thd
    for r in range(6):
        for c in range(Jd.shape[1]):
            Jd[r, c] = 0.0
    # ω before joint k, Σ θ̇ z × o (revolute) and Σ θ̇ z (prismatic) before joint k
    wb0, wb1, wb2 = 0.0, 0.0, 0.0
    mb0, mb1, mb2 = 0.0, 0.0, 0.0
    sb0, sb1, sb2 = 0.0, 0.0, 0.0
    for k in range(n):
        zx, zy, zz = Zl[k, 0], Zl[k, 1], Zl[k, 2]
        ox, oy, oz = Ol[k, 0], Ol[k, 1], Ol[k, 2]
        thd = qd[int(P[k, 1])] * P[k, 2]
        c0, c1, c2 = _cross(wb0, wb1, wb2, ox, oy, oz)
        od0, od1, od2 = c0 - mb0 + sb0, c1 - mb1 + sb1, c2 - mb2 + sb2
        zd0, zd1, zd2 = _cross(wb0, wb1, wb2, zx, zy, zz)
        if P[k, 0] != 0.0:
            a0, a1, a2 = _cross(zd0, zd1, zd2, p[0] - ox, p[1] - oy, p[2] - oz)
            b0, b1, b2 = _cross(zx, zy, zz, pd0 - od0, pd1 - od1, pd2 - od2)
            v0, v1, v2 = a0 + b0, a1 + b1, a2 + b2
            w0, w1, w2 = zd0, zd1, zd2
            tz0, tz1, tz2 = thd * zx, thd * zy, thd * zz
            e0, e1, e2 = _cross(tz0, tz1, tz2, ox, oy, oz)
            # numpy: cross(thd z, o)
            mb0 += e0
            mb1 += e1
            mb2 += e2
            wb0 += tz0
            wb1 += tz1
            wb2 += tz2
        else:
            v0, v1, v2 = zd0, zd1, zd2
            w0, w1, w2 = 0.0, 0.0, 0.0
            sb0 += thd * zx
            sb1 += thd * zy
            sb2 += thd * zz
        Zl[k, 0], Zl[k, 1], Zl[k, 2] = v0, v1, v2   # reuse: J̇ linear
        Ol[k, 0], Ol[k, 1], Ol[k, 2] = w0, w1, w2   # J̇ angular
    om0, om1, om2 = wb0, wb1, wb2
    for k in range(n):
        v0, v1, v2 = Zl[k, 0], Zl[k, 1], Zl[k, 2]
        w0, w1, w2 = Ol[k, 0], Ol[k, 1], Ol[k, 2]
        if ref == 1:
            # J̇_l = Rᵀ (J̇ − [ω]× J)
            a0, a1, a2 = _cross(om0, om1, om2, Jv[k, 0], Jv[k, 1], Jv[k, 2])
            b0, b1, b2 = _cross(om0, om1, om2, Jw[k, 0], Jw[k, 1], Jw[k, 2])
            a0, a1, a2 = v0 - a0, v1 - a1, v2 - a2
            b0, b1, b2 = w0 - b0, w1 - b1, w2 - b2
            v0 = a0 * F[0, 0] + a1 * F[1, 0] + a2 * F[2, 0]
            v1 = a0 * F[0, 1] + a1 * F[1, 1] + a2 * F[2, 1]
            v2 = a0 * F[0, 2] + a1 * F[1, 2] + a2 * F[2, 2]
            w0 = b0 * F[0, 0] + b1 * F[1, 0] + b2 * F[2, 0]
            w1 = b0 * F[0, 1] + b1 * F[1, 1] + b2 * F[2, 1]
            w2 = b0 * F[0, 2] + b1 * F[1, 2] + b2 * F[2, 2]
        elif ref == 2:
            # v̇_s = v̇ − ω̇_col × p − ω_col × ṗ
            a0, a1, a2 = _cross(w0, w1, w2, p[0], p[1], p[2])
            b0, b1, b2 = _cross(Jw[k, 0], Jw[k, 1], Jw[k, 2], pd0, pd1, pd2)
            v0, v1, v2 = v0 - (a0 + b0), v1 - (a1 + b1), v2 - (a2 + b2)
        c = int(P[k, 1])
        m = P[k, 2]
        Jd[0, c] += m * v0
        Jd[1, c] += m * v1
        Jd[2, c] += m * v2
        Jd[3, c] += m * w0
        Jd[4, c] += m * w1
        Jd[5, c] += m * w2


@numba.njit(**_OPTS)
def jdot_batch(q, qd, G, P, pt, ref, Jd):  # type: ignore[no-untyped-def]
    """``J̇`` ``(N, 6, dof)`` (out) at ``q``, ``qd`` ``(N, dof)``."""
    n = P.shape[0]
    F = np.empty((3, 4))
    Zl = np.empty((n, 3))
    Ol = np.empty((n, 3))
    Jv = np.empty((n, 3))
    Jw = np.empty((n, 3))
    p = np.empty(3)
    for b in range(q.shape[0]):
        _jdot(q[b], qd[b], G, P, pt, ref, Jd[b], F, Zl, Ol, Jv, Jw, p)


@numba.njit(**_OPTS)
def twist_batch(q, qd, G, P, pt, ref, V):  # type: ignore[no-untyped-def]
    """Twists ``J q̇`` ``(N, 6)`` (out) at ``q``, ``qd`` ``(N, dof)``."""
    n = P.shape[0]
    F = np.empty((3, 4))
    Zl = np.empty((n, 3))
    Ol = np.empty((n, 3))
    p = np.empty(3)
    for b in range(q.shape[0]):
        qb, qdb = q[b], qd[b]
        _walk(qb, G, P, F, Zl, Ol, True)
        _point(F, pt, p)
        w0, w1, w2 = 0.0, 0.0, 0.0
        m0, m1, m2 = 0.0, 0.0, 0.0
        s0, s1, s2 = 0.0, 0.0, 0.0
        for k in range(n):
            thd = qdb[int(P[k, 1])] * P[k, 2]
            t0, t1, t2 = thd * Zl[k, 0], thd * Zl[k, 1], thd * Zl[k, 2]
            if P[k, 0] != 0.0:
                w0 += t0
                w1 += t1
                w2 += t2
                e0, e1, e2 = _cross(t0, t1, t2, Ol[k, 0], Ol[k, 1], Ol[k, 2])
                m0 += e0
                m1 += e1
                m2 += e2
            else:
                s0 += t0
                s1 += t1
                s2 += t2
        c0, c1, c2 = _cross(w0, w1, w2, p[0], p[1], p[2])
        v0, v1, v2 = c0 - m0 + s0, c1 - m1 + s1, c2 - m2 + s2
        if ref == 1:
            a0 = v0 * F[0, 0] + v1 * F[1, 0] + v2 * F[2, 0]
            a1 = v0 * F[0, 1] + v1 * F[1, 1] + v2 * F[2, 1]
            a2 = v0 * F[0, 2] + v1 * F[1, 2] + v2 * F[2, 2]
            b0 = w0 * F[0, 0] + w1 * F[1, 0] + w2 * F[2, 0]
            b1 = w0 * F[0, 1] + w1 * F[1, 1] + w2 * F[2, 1]
            b2 = w0 * F[0, 2] + w1 * F[1, 2] + w2 * F[2, 2]
            v0, v1, v2, w0, w1, w2 = a0, a1, a2, b0, b1, b2
        elif ref == 2:
            c0, c1, c2 = _cross(w0, w1, w2, p[0], p[1], p[2])
            v0, v1, v2 = v0 - c0, v1 - c1, v2 - c2
        V[b, 0], V[b, 1], V[b, 2], V[b, 3], V[b, 4], V[b, 5] = v0, v1, v2, w0, w1, w2


@numba.njit(**_OPTS)
def torque_batch(q, wr, G, P, pt, ref, tau):  # type: ignore[no-untyped-def]
    """Joint torques ``Jᵀ w`` ``(N, dof)`` (out) at ``q`` ``(N, dof)``, wrench ``(N, 6)``."""
    n = P.shape[0]
    F = np.empty((3, 4))
    Zl = np.empty((n, 3))
    Ol = np.empty((n, 3))
    p = np.empty(3)
    for b in range(q.shape[0]):
        _walk(q[b], G, P, F, Zl, Ol, True)
        _point(F, pt, p)
        f0, f1, f2 = wr[b, 0], wr[b, 1], wr[b, 2]
        m0, m1, m2 = wr[b, 3], wr[b, 4], wr[b, 5]
        if ref == 1:
            a0 = F[0, 0] * f0 + F[0, 1] * f1 + F[0, 2] * f2
            a1 = F[1, 0] * f0 + F[1, 1] * f1 + F[1, 2] * f2
            a2 = F[2, 0] * f0 + F[2, 1] * f1 + F[2, 2] * f2
            b0 = F[0, 0] * m0 + F[0, 1] * m1 + F[0, 2] * m2
            b1 = F[1, 0] * m0 + F[1, 1] * m1 + F[1, 2] * m2
            b2 = F[2, 0] * m0 + F[2, 1] * m1 + F[2, 2] * m2
            f0, f1, f2, m0, m1, m2 = a0, a1, a2, b0, b1, b2
        elif ref == 2:
            c0, c1, c2 = _cross(p[0], p[1], p[2], f0, f1, f2)
            m0, m1, m2 = m0 - c0, m1 - c1, m2 - c2
        for c in range(tau.shape[1]):
            tau[b, c] = 0.0
        for k in range(n):
            zx, zy, zz = Zl[k, 0], Zl[k, 1], Zl[k, 2]
            if P[k, 0] != 0.0:
                c0, c1, c2 = _cross(p[0] - Ol[k, 0], p[1] - Ol[k, 1], p[2] - Ol[k, 2],
                                    f0, f1, f2)
                t = zx * (c0 + m0) + zy * (c1 + m1) + zz * (c2 + m2)
            else:
                t = zx * f0 + zy * f1 + zz * f2
            tau[b, int(P[k, 1])] += P[k, 2] * t


@numba.njit(**_OPTS)
def _orthogonalize(B, r, c, Q, want_q):  # type: ignore[no-untyped-def]
    """One-sided Jacobi (Hestenes): rotate the first ``r`` rows of ``B`` (``(r, c)``, in
    place) in pairs until they are mutually orthogonal, accumulating the rotations in ``Q``
    ``(r, r)`` (unless ``want_q`` is False) so that ``B_before = Q B_after``. Then
    ``B_before = Q diag(σ) Vᵀ`` with ``σ_i = ‖B_i‖`` and ``V``'s columns the normalised
    rows: a thin SVD of a matrix with ``r <= c`` (its singular values to ~1e-16 relative to
    ``σ_max``, small ones included,
    unlike an eigen-decomposition of ``B Bᵀ``). A pair counts as orthogonal when
    ``|B_i · B_j| <= c ε ‖B_i‖ ‖B_j‖``; at most 30 sweeps (6×7: 4–7 in practice)."""
    if want_q:
        for i in range(r):
            for j in range(r):
                Q[i, j] = 1.0 if i == j else 0.0
    tol = c * 2.220446049250313e-16
    nrm = np.empty(r)   # squared row norms, refreshed each sweep, updated per rotation
    for _ in range(30):
        for i in range(r):
            acc = 0.0
            for k in range(c):
                acc += B[i, k] * B[i, k]
            nrm[i] = acc
        rotated = False
        for i in range(r - 1):
            for j in range(i + 1, r):
                a, b = nrm[i], nrm[j]
                g = 0.0
                for k in range(c):
                    g += B[i, k] * B[j, k]
                if abs(g) <= tol * np.sqrt(a * b):   # zero rows included
                    continue
                rotated = True
                zeta = (b - a) / (2.0 * g)
                if abs(zeta) > 1e150:
                    t = 0.5 / zeta
                else:
                    t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + np.sqrt(1.0 + zeta * zeta))
                cs = 1.0 / np.sqrt(1.0 + t * t)
                sn = cs * t
                nrm[i], nrm[j] = a - t * g, b + t * g
                for k in range(c):
                    bi, bj = B[i, k], B[j, k]
                    B[i, k] = cs * bi - sn * bj
                    B[j, k] = sn * bi + cs * bj
                if want_q:
                    for k in range(r):
                        qi, qj = Q[k, i], Q[k, j]
                        Q[k, i] = cs * qi - sn * qj
                        Q[k, j] = sn * qi + cs * qj
        if not rotated:
            break


@numba.njit(**_OPTS)
def _row_norms2(B, r, c, s2):  # type: ignore[no-untyped-def]
    for i in range(r):
        acc = 0.0
        for k in range(c):
            acc += B[i, k] * B[i, k]
        s2[i] = acc


@numba.njit(**_OPTS)
def _damped_svd(A, m, n, B, Q, s2, den, mode, eps2, lmax2, lam2, rank_tol):  # type: ignore[no-untyped-def]
    """Thin SVD of ``A`` ``(m, n)`` by :func:`_orthogonalize` on the shorter side, and the
    damped denominators ``den_i = σ_i² + λ_i²`` of the resolved-rate rule (``mode`` 0:
    constant ``λ² = lam2``; 1: adaptive, ``λ² = (1 − σ²_min/ε²) λ²_max`` below ``ε``; 2:
    selective, per direction). Wide (``m <= n``): ``B`` ``(m, n)`` holds ``σ_i v_iᵀ`` and
    ``Q`` ``(m, m)`` the ``u_i``; tall: ``B`` ``(n, m)`` holds ``σ_i u_iᵀ`` and ``Q``
    ``(n, n)`` the ``v_i``. Returns ``(r, tiny)``: ``r = min(m, n)`` directions, and the
    rank cut ``rank_tol · σ²_max`` (directions with ``den <= tiny`` are dropped)."""
    wide = m <= n
    r, c = (m, n) if wide else (n, m)
    for i in range(r):
        for k in range(c):
            B[i, k] = A[i, k] if wide else A[k, i]
    _orthogonalize(B, r, c, Q, True)
    _row_norms2(B, r, c, s2)
    smin, smax = s2[0], s2[0]
    for i in range(r):
        smin = min(smin, s2[i])
        smax = max(smax, s2[i])
    for i in range(r):
        if mode == 0:
            d = lam2
        elif mode == 1:
            d = (1.0 - smin / eps2) * lmax2 if smin < eps2 else 0.0
        else:
            d = (1.0 - s2[i] / eps2) * lmax2 if s2[i] < eps2 else 0.0
        den[i] = s2[i] + d
    return r, rank_tol * max(smax, 1e-300)


@numba.njit(**_OPTS)
def _dls_solve(m, n, B, Q, den, r, tiny, x, out):  # type: ignore[no-untyped-def]
    """``out`` ``(n,)`` = ``Σ_i v_i σ_i / den_i · u_iᵀ x`` from :func:`_damped_svd`."""
    for k in range(n):
        out[k] = 0.0
    wide = m <= n
    for i in range(r):
        if not den[i] > tiny:
            continue
        if wide:     # σ_i v_i = B_i, u_i = Q[:, i]
            y = 0.0
            for k in range(m):
                y += Q[k, i] * x[k]
            y /= den[i]
            for k in range(n):
                out[k] += B[i, k] * y
        else:        # σ_i u_i = B_i, v_i = Q[:, i]
            y = 0.0
            for k in range(m):
                y += B[i, k] * x[k]
            y /= den[i]
            for k in range(n):
                out[k] += Q[k, i] * y


@numba.njit(**_OPTS)
def _project_null(m, n, B, Q, s2, r, tiny, z):  # type: ignore[no-untyped-def]
    """``z ← (I − J⁺J) z`` (in place) from :func:`_damped_svd`'s factors: minus the
    components along the ``v_i`` with ``σ_i² > tiny`` (wide), or the components along the
    ``v_i`` with ``σ_i² <= tiny`` and nothing else (tall)."""
    if m <= n:
        for i in range(r):
            if s2[i] > tiny:
                y = 0.0
                for k in range(n):
                    y += B[i, k] * z[k]
                y /= s2[i]
                for k in range(n):
                    z[k] -= B[i, k] * y
    else:
        acc = np.zeros(n)
        for i in range(r):
            if not s2[i] > tiny:
                y = 0.0
                for k in range(n):
                    y += Q[k, i] * z[k]
                for k in range(n):
                    acc[k] += Q[k, i] * y
        for k in range(n):
            z[k] = acc[k]


@numba.njit(**_OPTS)
def dls(J, x, mode, eps2, lmax2, lam2, rank_tol):  # type: ignore[no-untyped-def]
    """Damped least squares of a wide task ``J`` ``(m, n)``, ``m <= n``, for the
    resolved-rate controller (same rule as its numpy path, from a one-sided Jacobi SVD):
    returns ``q̇`` ``(n,)``, ``σ²`` ``(m,)`` ascending and the matching ``u_i`` as the
    columns of ``U`` ``(m, m)``."""
    m, n = J.shape
    B, Q = np.empty((m, n)), np.empty((m, m))
    s2, den, qd = np.empty(m), np.empty(m), np.empty(n)
    r, tiny = _damped_svd(J, m, n, B, Q, s2, den, mode, eps2, lmax2, lam2, rank_tol)
    _dls_solve(m, n, B, Q, den, r, tiny, x, qd)
    order = np.argsort(s2)
    U = np.empty((m, m))
    for j in range(m):
        for k in range(m):
            U[k, j] = Q[k, order[j]]
    return qd, s2[order], U


@numba.njit(**_OPTS)
def _metric(J, mon, B, Q, s2):  # type: ignore[no-untyped-def]
    """The singularity monitor's metric of ``J`` ``(6, dof)``: ``mon[0]`` the metric code
    (0 ``sigma_min_scaled``, 1 ``sigma_min``, 2 ``inverse_condition_scaled``, 3
    ``inverse_condition``, 4 ``manipulability``), ``mon[1:7]`` the row weights (0: row not
    monitored). Singular values of the weighted rows by :func:`_orthogonalize`."""
    dof = J.shape[1]
    k = 0
    for i in range(6):
        if mon[1 + i] != 0.0:
            k += 1
    wide = k <= dof
    r, c = (k, dof) if wide else (dof, k)
    row = 0
    for i in range(6):
        w = mon[1 + i]
        if w == 0.0:
            continue
        for j in range(dof):
            if wide:
                B[row, j] = w * J[i, j]
            else:
                B[j, row] = w * J[i, j]
        row += 1
    _orthogonalize(B, r, c, Q, False)
    _row_norms2(B, r, c, s2)
    code = int(mon[0])
    smin, smax, prod = np.inf, 0.0, 1.0
    for i in range(r):
        s = np.sqrt(s2[i])
        smin = min(smin, s)
        smax = max(smax, s)
        prod *= s
    if r == 0:
        return 0.0
    if code <= 1:
        return smin
    if code <= 3:
        return smin / smax if smax > 0.0 else 0.0
    return prod


@numba.njit(**_OPTS)
def metric(J, mon):  # type: ignore[no-untyped-def]
    """:func:`_metric` of one Jacobian ``(6, dof)``."""
    n = max(6, J.shape[1])
    return _metric(J, mon, np.empty((n, n)), np.empty((n, n)), np.empty(n))


@numba.njit(**_OPTS)
def approaches(q, qd, dt, G, P, mon, value, flat):  # type: ignore[no-untyped-def]
    """:func:`kinematics.singularity.approaches` of one configuration: whether the metric
    at ``q + qd·h`` is below ``value − flat (1 + value)``, with ``h = dt``, or (``dt < 0``)
    the vanishing step ``1e-7 / max|qd|``."""
    speed = 0.0
    for i in range(qd.shape[0]):
        speed = max(speed, abs(qd[i]))
    if not speed > 0.0:
        return False
    h = dt if dt >= 0.0 else 1e-7 / speed
    q1 = np.empty(q.shape[0])
    for i in range(q.shape[0]):
        q1[i] = q[i] + qd[i] * h
    return metric_at(q1, G, P, mon) < value - flat * (1.0 + value)


@numba.njit(**_OPTS)
def metric_at(q, G, P, mon):  # type: ignore[no-untyped-def]
    """:func:`_metric` of the base Jacobian of the link origin at ``q`` ``(dof,)``."""
    dof = q.shape[0]
    T, J = np.empty((1, 4, 4)), np.empty((1, 6, dof))
    n = P.shape[0]
    _fkj(q, G, P, np.zeros(3), 0, T, J, 0, True, np.empty((3, 4)), np.empty((n, 3)),
         np.empty((n, 3)), np.empty(3))
    k = max(6, dof)
    return _metric(J[0], mon, np.empty((k, k)), np.empty((k, k)), np.empty(k))


@numba.njit(**_OPTS)
def _rigid(T, tol, magnitude):  # type: ignore[no-untyped-def]
    """Whether ``T`` ``(4, 4)`` is a finite rigid transform: last row ``[0 0 0 1]``,
    ``R Rᵀ = I`` and ``det R = 1`` within ``tol``, translations within ``magnitude`` (the
    same test as :func:`kinematics._checks.pose`)."""
    for i in range(4):
        for j in range(4):
            if not np.isfinite(T[i, j]):
                return False
    if T[3, 0] != 0.0 or T[3, 1] != 0.0 or T[3, 2] != 0.0 or T[3, 3] != 1.0:
        return False
    dev = 0.0
    for i in range(3):
        for j in range(i, 3):
            d = T[i, 0] * T[j, 0] + T[i, 1] * T[j, 1] + T[i, 2] * T[j, 2]
            dev = max(dev, abs(d - 1.0) if i == j else abs(d))
    det = (T[0, 0] * (T[1, 1] * T[2, 2] - T[1, 2] * T[2, 1])
           - T[0, 1] * (T[1, 0] * T[2, 2] - T[1, 2] * T[2, 0])
           + T[0, 2] * (T[1, 0] * T[2, 1] - T[1, 1] * T[2, 0]))
    return (dev <= tol and abs(det - 1.0) <= tol and abs(T[0, 3]) <= magnitude
            and abs(T[1, 3]) <= magnitude and abs(T[2, 3]) <= magnitude)


@numba.njit(**_INLINE)
def _pose_error(T, p_t, R_t, near_pi, e):  # type: ignore[no-untyped-def]
    """Pose error ``e`` ``(6,)`` (out) ``[p_t − p; log(R_t Rᵀ)]`` (base axes) of the pose
    ``T`` ``(4, 4)`` against ``p_t`` ``(3,)``, ``R_t`` ``(3, 3)``: the angle from ``atan2``
    (accurate at 0 and π), the axis from the skew part, and above ``near_pi`` from the
    largest column of ``(R + Rᵀ)/2 + I``. The compiled twin of the IK solver's
    ``_error_one``/``_log_near_pi`` and of :func:`kinematics.spatial.pose_error_one` (same
    quantity, to rounding; ~1e-8 rad within 1e-6 rad of π); used by the controller's step
    and the IK attempts."""
    a0, a1, a2 = R_t[0, 0], R_t[0, 1], R_t[0, 2]
    b0, b1, b2 = R_t[1, 0], R_t[1, 1], R_t[1, 2]
    c0, c1, c2 = R_t[2, 0], R_t[2, 1], R_t[2, 2]
    r00 = a0 * T[0, 0] + a1 * T[0, 1] + a2 * T[0, 2]
    r01 = a0 * T[1, 0] + a1 * T[1, 1] + a2 * T[1, 2]
    r02 = a0 * T[2, 0] + a1 * T[2, 1] + a2 * T[2, 2]
    r10 = b0 * T[0, 0] + b1 * T[0, 1] + b2 * T[0, 2]
    r11 = b0 * T[1, 0] + b1 * T[1, 1] + b2 * T[1, 2]
    r12 = b0 * T[2, 0] + b1 * T[2, 1] + b2 * T[2, 2]
    r20 = c0 * T[0, 0] + c1 * T[0, 1] + c2 * T[0, 2]
    r21 = c0 * T[1, 0] + c1 * T[1, 1] + c2 * T[1, 2]
    r22 = c0 * T[2, 0] + c1 * T[2, 1] + c2 * T[2, 2]
    v0, v1, v2 = r21 - r12, r02 - r20, r10 - r01
    s = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
    theta = math.atan2(s, r00 + r11 + r22 - 1.0)
    f = theta / s if s > 0.0 else 0.5
    e[0], e[1], e[2] = p_t[0] - T[0, 3], p_t[1] - T[1, 3], p_t[2] - T[2, 3]
    e[3], e[4], e[5] = v0 * f, v1 * f, v2 * f
    if theta > near_pi:
        # (R + Rᵀ)/2 + I = (1 + cos θ) I + (1 − cos θ) a aᵀ: its largest column is ∝ a
        d0, d1, d2 = r00 + 1.0, r11 + 1.0, r22 + 1.0
        if d0 >= d1 and d0 >= d2:
            x, y, z = d0, 0.5 * (r10 + r01), 0.5 * (r20 + r02)
        elif d1 >= d2:
            x, y, z = 0.5 * (r01 + r10), d1, 0.5 * (r21 + r12)
        else:
            x, y, z = 0.5 * (r02 + r20), 0.5 * (r12 + r21), d2
        n = math.sqrt(x * x + y * y + z * z)
        x, y, z = x / n, y / n, z / n
        if x * v0 + y * v1 + z * v2 < 0.0:
            theta = -theta
        e[3], e[4], e[5] = x * theta, y * theta, z * theta


# What the IK kernels (kinematics.ik._lm) build on, under public names: the compiler
# options, the chain walk with its Jacobian (one row of a batch) and the pose error.
OPTS: dict[str, Any] = _OPTS
INLINE: dict[str, Any] = _INLINE
fkj_row, pose_error = _fkj_rows, _pose_error



@numba.njit(**_OPTS)
def _saturate(q, qd, A, x, k, lim, cfg, dt, B, Q, s2, den):  # type: ignore[no-untyped-def]
    """Position limits of the resolved-rate step (in place on ``qd``): a joint whose
    velocity would carry it past a limit within ``dt`` is held at the velocity that lands on
    the limit, and the task ``A q̇ = k x`` is re-solved with the other joints (saturation in
    the null space, Flacco et al. 2012), until no free joint violates; then ``q̇`` is
    clipped to the bounds and re-scaled for the velocity limits. The numpy twin is
    ``ResolvedRateController._respect_position_limits``."""
    m, dof = A.shape
    lo_b, hi_b = np.empty(dof), np.empty(dof)
    bad = np.zeros(dof, np.bool_)
    any_bad = False
    for j in range(dof):
        lo_b[j] = min((lim[0, j] - q[j]) / dt, 0.0)
        hi_b[j] = max((lim[1, j] - q[j]) / dt, 0.0)
        bad[j] = qd[j] < lo_b[j] or qd[j] > hi_b[j]
        any_bad = any_bad or bad[j]
    if not any_bad:
        return
    free = np.ones(dof, np.bool_)
    xf, sol = np.empty(m), np.empty(dof)
    for _ in range(dof):
        for j in range(dof):
            if bad[j] and free[j]:
                qd[j] = min(max(qd[j], lo_b[j]), hi_b[j])
                free[j] = False
        nf = 0
        for j in range(dof):
            if free[j]:
                nf += 1
        if nf == 0:
            break
        Af = np.empty((m, nf))
        for a in range(m):
            acc = k * x[a]
            c = 0
            for j in range(dof):
                if free[j]:
                    Af[a, c] = A[a, j]
                    c += 1
                else:
                    acc -= A[a, j] * qd[j]
            xf[a] = acc
        r, tiny = _damped_svd(Af, m, nf, B, Q, s2, den, int(cfg[7]), cfg[8], cfg[9],
                              cfg[10], cfg[11])
        _dls_solve(m, nf, B, Q, den, r, tiny, xf, sol)
        ratio = 0.0
        c = 0
        for j in range(dof):
            if free[j]:
                ratio = max(ratio, abs(sol[c]) * lim[6, j])
                c += 1
        c = 0
        again = False
        for j in range(dof):
            if free[j]:
                qd[j] = sol[c] / ratio if ratio > 1.0 else sol[c]
                c += 1
            bad[j] = qd[j] < lo_b[j] or qd[j] > hi_b[j]
            again = again or (bad[j] and free[j])
        if not again:
            break
    ratio = 0.0
    for j in range(dof):
        qd[j] = min(max(qd[j], lo_b[j]), hi_b[j])
        ratio = max(ratio, abs(qd[j]) * lim[6, j])
    if ratio > 1.0:
        for j in range(dof):
            qd[j] /= ratio


# rate_step's return codes (0: q̇ written); any other code sends the caller to the numpy
# path, which raises the error or handles the case
RATE_BAD_Q, RATE_BAD_TARGET = 1, 2


@numba.njit(**_OPTS)
def rate_step(q, G, P, Tt, ff, cfg, rows, lim, mon, dt, qd, J, A, x, out):  # type: ignore[no-untyped-def]
    """One resolved-rate control step (:class:`kinematics.ik.ResolvedRateController`, whose
    module docstring states the rule) in one call: FK + J, pose error, task weighting,
    damped least squares, centering and limit-spring null-space motion, velocity limits,
    the position-limit test, and the singularity monitor's metric.

    Args:
        q: ``(dof,)`` joint values; ``G``, ``P``: the packed chain; ``Tt``: ``(4, 4)``
            target; ``ff``: ``(6,)`` feed-forward twist (zeros for none).
        cfg: ``[gain (6), frame (0 base, 1 tool), damping mode, ε², λ²_max, λ², rank tol,
            null-space mode (0 none, 1 centering), null-space gain, limit gain, limit
            margin, rigid tol, max magnitude, √w of each kept task row (m)]``.
        rows: ``(m,)`` kept task axes (0–5: ``[x y z rx ry rz]`` of the task frame).
        lim: ``(7, dof)`` rows lower, upper, middle, half range, distance from the middle
            where the limit spring starts, 1/half², 1/v_max (0 and inf for continuous
            joints).
        mon: the monitor's :func:`_metric` parameters (``mon[0] < 0``: no monitor).
        dt: control period [s].
        qd: ``(dof,)`` out: the joint velocities. ``J``: ``(6, dof)`` out: base Jacobian.
        A: ``(m, dof)`` out: the weighted task rows; ``x``: ``(m,)`` out: the weighted task
            velocity, scaled like ``q̇`` for the velocity limits (the safe command's task).
        out: ``(10,)`` out: the monitor's metric, the velocity-limit scale ``k``, 1 when
            the position limits saturated the command (else 0), the pose error ``e`` (6),
            the norm of ``e`` over the task's axes in the task frame.

    Returns:
        0, or a ``RATE_*`` code: ``q`` not finite or too large, or the target not a rigid
        transform.
    """
    dof = q.shape[0]
    for i in range(dof):
        if not abs(q[i]) <= cfg[17]:
            return RATE_BAD_Q
    if not _rigid(Tt, cfg[16], cfg[17]):
        return RATE_BAD_TARGET
    T3 = np.empty((1, 4, 4))
    n = P.shape[0]
    _fkj(q, G, P, np.zeros(3), 0, T3, J.reshape((1, 6, dof)), 0, True, np.empty((3, 4)),
         np.empty((n, 3)), np.empty((n, 3)), np.empty(3), _direct(P, dof))
    T = T3[0]
    e = np.empty(6)
    _pose_error(T, Tt[:3, 3], Tt[:3, :3], np.pi - 1e-6, e)
    # task rows in the task frame: x = K e + ẋ_ff, rows kept and weighted by √w
    m = rows.shape[0]
    tool = cfg[6] != 0.0
    err2 = 0.0      # the error over the task's axes, in the task frame (the status's norm)
    for a in range(m):
        i = rows[a]
        w = cfg[18 + a]
        h = 0 if i < 3 else 3
        if tool:    # Rᵀ on each half
            c = i - h
            ei = T[0, c] * e[h] + T[1, c] * e[h + 1] + T[2, c] * e[h + 2]
            xi = cfg[i] * ei + (T[0, c] * ff[h] + T[1, c] * ff[h + 1] + T[2, c] * ff[h + 2])
            for j in range(dof):
                A[a, j] = w * (T[0, c] * J[h, j] + T[1, c] * J[h + 1, j] + T[2, c] * J[h + 2, j])
        else:
            ei = e[i]
            xi = cfg[i] * ei + ff[i]
            for j in range(dof):
                A[a, j] = w * J[i, j]
        err2 += ei * ei
        x[a] = w * xi
    # damped least squares and the null-space motion
    k = max(m, dof, 6)  # room for the task's SVD and the monitor's
    B, Q, s2, den = np.empty((k, k)), np.empty((k, k)), np.empty(k), np.empty(k)
    r, tiny = _damped_svd(A, m, dof, B, Q, s2, den, int(cfg[7]), cfg[8], cfg[9], cfg[10],
                          cfg[11])
    _dls_solve(m, dof, B, Q, den, r, tiny, x, qd)
    z = np.zeros(dof)
    moved = False
    if cfg[12] == 1.0 and cfg[13] > 0.0:
        for j in range(dof):
            z[j] = -cfg[13] * (q[j] - lim[2, j]) * lim[5, j]
        moved = True
    if cfg[14] > 0.0:
        for j in range(dof):
            if not abs(q[j] - lim[2, j]) < lim[4, j]:
                pen = (max(q[j] - (lim[1, j] - cfg[15]), 0.0)
                       - max((lim[0, j] + cfg[15]) - q[j], 0.0))
                if pen != 0.0:
                    z[j] -= cfg[14] * pen
                    moved = True
    if moved:
        _project_null(m, dof, B, Q, s2, r, tiny, z)
        for j in range(dof):
            qd[j] += z[j]
    # velocity limits (uniform scaling), then the position-limit test over the period
    ratio = 0.0
    for j in range(dof):
        ratio = max(ratio, abs(qd[j]) * lim[6, j])
    if ratio > 1.0:
        for j in range(dof):
            qd[j] /= ratio
    inside = True
    for j in range(dof):
        if not abs(q[j] + qd[j] * dt - lim[2, j]) <= lim[3, j]:
            inside = False
    kv = 1.0 / ratio if ratio > 1.0 else 1.0
    if not inside:
        _saturate(q, qd, A, x, kv, lim, cfg, dt, B, Q, s2, den)
    if mon[0] >= 0.0:
        out[0] = _metric(J, mon, B, Q, s2)
    out[1] = kv
    out[2] = 0.0 if inside else 1.0
    for i in range(6):
        out[3 + i] = e[i]
    out[9] = np.sqrt(err2)
    return 0


# ---------------------------------------------------------------------------------------
# singularity measures (kinematics.singularity.measures)

#: Scalar fields of :func:`measures_batch`, in the order of its output rows.
MEASURES_SCALARS = ("sigma_min", "manipulability", "det", "condition", "inverse_condition",
                    "rank", "translational_manipulability", "rotational_manipulability",
                    "sigma_min_scaled", "condition_scaled", "inverse_condition_scaled")
_EPS = 2.220446049250313e-16  # np.finfo(float).eps: the rank tolerance's unit


@numba.njit(**_FORCE)
def _pow2(e):  # type: ignore[no-untyped-def]
    """``2**e`` for any exponent a double's range needs (the product of two exact
    factors, so ``e`` down to -1074 and up to 1023 works)."""
    h = e // 2
    return math.ldexp(1.0, h) * math.ldexp(1.0, e - h)


@numba.njit(**_INLINE)
def _load(Jb, w, rows, nr, n, B, wide):  # type: ignore[no-untyped-def]
    """``B`` ← rows ``rows[:nr]`` of ``diag(w) Jb`` (wide: ``(nr, n)``) or their transpose
    (tall: ``(n, nr)``), divided by ``2**e`` so that the largest ``|entry|`` is in
    ``[0.5, 1)`` (exact: a power of two; squares neither overflow nor underflow);
    returns ``e`` (0 for a zero block)."""
    amax = 0.0
    for a in range(nr):
        i = rows[a]
        for j in range(n):
            amax = max(amax, abs(w[i] * Jb[i, j]))
    e = math.frexp(amax)[1] if amax > 0.0 and amax < np.inf else 0
    h = (-e) // 2
    f1, f2 = math.ldexp(1.0, h), math.ldexp(1.0, -e - h)
    for a in range(nr):
        i = rows[a]
        for j in range(n):
            x = (w[i] * Jb[i, j]) * f1 * f2
            if wide:
                B[a, j] = x
            else:
                B[j, a] = x
    return e


@numba.njit(**_FORCE)
def _descending(s2, r, order):  # type: ignore[no-untyped-def]
    """``order[:r]``: indices of ``s2[:r]`` by decreasing value (stable: ties keep their
    order)."""
    for i in range(r):
        order[i] = i
    for i in range(1, r):
        o = order[i]
        x = s2[o]
        j = i - 1
        while j >= 0 and s2[order[j]] < x:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = o


@numba.njit(**_INLINE)
def _sv_product(Jb, w, rows, nr, n, B):  # type: ignore[no-untyped-def]
    """Product of the singular values of rows ``rows[:nr]`` of ``diag(w) Jb`` (NaN when
    ``nr == 0``): ``|det R|`` of the QR factorisation of the shorter side by modified
    Gram-Schmidt, whose ``R`` is backward stable (Björck), so the product has the SVD's
    error ``~ k ε σ_max^k``."""
    if nr == 0:
        return np.nan
    wide = nr <= n
    r, c = (nr, n) if wide else (n, nr)
    f = _pow2(_load(Jb, w, rows, nr, n, B, wide))
    prod = 1.0
    for i in range(r):
        for p in range(i):
            d = 0.0
            for t in range(c):
                d += B[p, t] * B[i, t]
            for t in range(c):
                B[i, t] -= d * B[p, t]
        nn = 0.0
        for t in range(c):
            nn += B[i, t] * B[i, t]
        nrm = np.sqrt(nn)
        prod *= nrm * f
        inv = 1.0 / nrm if nrm > 0.0 else 0.0
        for t in range(c):
            B[i, t] *= inv
    return prod


@numba.njit(**_INLINE)
def _unit_rows(B, r, c, s2, order, W):  # type: ignore[no-untyped-def]
    """``W[i]`` ``(c,)``: the unit vector of row ``order[i]`` of the orthogonalised ``B``,
    in decreasing order of the row norms, re-orthogonalised against ``W[:i]`` (modified
    Gram-Schmidt). A zero row (``σ = 0``: any unit vector orthogonal to the previous ones
    is a singular vector) becomes the unit vector ``e_j`` with the largest part outside
    ``W[:i]`` (the first such ``j``), orthogonalised: ``W[:r]`` is always orthonormal.

    The rows of :func:`_orthogonalize` are orthogonal to ``c ε`` relative to their own
    norms, tiny ones included, so normalising keeps the direction a singular vector of a
    square matrix must have (the complement of the others)."""
    for i in range(r):
        o = order[i]
        nrm = np.sqrt(s2[o])
        ok = nrm > 1e-150   # B's largest entry is in [0.5, 1)
        if ok:
            for t in range(c):
                W[i, t] = B[o, t] / nrm
        else:
            best, jb = -1.0, 0
            for j in range(c):
                rest = 1.0
                for p in range(i):
                    rest -= W[p, j] * W[p, j]
                if rest > best:
                    best, jb = rest, j
            for t in range(c):
                W[i, t] = 1.0 if t == jb else 0.0
        for _ in range(1 if ok else 2):
            for p in range(i):
                d = 0.0
                for t in range(c):
                    d += W[p, t] * W[i, t]
                for t in range(c):
                    W[i, t] -= d * W[p, t]
        nn = 0.0
        for t in range(c):
            nn += W[i, t] * W[i, t]
        inv = 1.0 / np.sqrt(nn)
        for t in range(c):
            W[i, t] *= inv


@numba.njit(**_INLINE)
def _lu_det(Jb, n, A):  # type: ignore[no-untyped-def]
    """``det Jb`` ``(n, n)`` by LU with partial pivoting (as LAPACK's ``getrf``, which
    :func:`numpy.linalg.det` uses): the product of the pivots, with the sign of the row
    swaps; 0 at an exactly zero pivot column."""
    for i in range(n):
        for j in range(n):
            A[i, j] = Jb[i, j]
    det = 1.0
    for c in range(n):
        p, big = c, abs(A[c, c])
        for i in range(c + 1, n):
            if abs(A[i, c]) > big:
                p, big = i, abs(A[i, c])
        if big == 0.0:
            return 0.0
        if p != c:
            for j in range(n):
                A[c, j], A[p, j] = A[p, j], A[c, j]
            det = -det
        piv = A[c, c]
        det *= piv
        for i in range(c + 1, n):
            f = A[i, c] / piv
            if f != 0.0:
                for j in range(c + 1, n):
                    A[i, j] -= f * A[c, j]
    return det


@numba.njit(**_OPTS)
def measures_batch(J, lin, length, magnitude, out, b0, N):  # type: ignore[no-untyped-def]
    """:class:`kinematics.singularity.SingularityMeasures` of the Jacobians ``J``
    ``(N_chunk, m, n)``, written for Jacobians ``b0 …`` of a batch of ``N`` into ``out``
    (flat, field by field: ``σ`` ``(N, k)`` descending, ``σ`` of ``diag(scale) J``
    ``(N, k)``, ``lost_twist`` ``(N, m)``, ``joint_motion`` ``(N, n)``, then the
    :data:`MEASURES_SCALARS` ``(11, N)``; ``k = min(m, n)``).

    ``lin`` ``(m,)``: 1.0 on linear rows (scaled by ``1/length``), 0.0 on angular ones.
    One SVD with vectors by :func:`_orthogonalize` of the shorter side, rows sorted by
    decreasing norm first (its rotations give the singular vector on that side, the
    normalised row, or :func:`_unit_rows` for a zero row, the other side's); the scaled
    singular values by the same without vectors (``σ · w`` when every row has the same
    weight); the products of the linear and angular rows' singular values by
    :func:`_sv_product`; ``det`` by :func:`_lu_det` (square ``J``). Every ``σ`` is
    computed on a block divided by a power of two (:func:`_load`), so no square over- or
    underflows. Scratch: a few ``max(m, n)²`` arrays per call, whatever ``N``.

    Returns the rank of the last Jacobian (0 for an empty batch), or -1 (nothing
    meaningful written) when an entry of ``J`` is not finite or exceeds ``magnitude``."""
    Nc, m, n = J.shape
    for b in range(Nc):
        for i in range(m):
            for j in range(n):
                if not abs(J[b, i, j]) <= magnitude:
                    return -1
    k = min(m, n)
    kk = max(m, n)
    wide = m <= n
    r, c = (m, n) if wide else (n, m)
    o_ss, o_u = N * k, 2 * N * k
    o_v = o_u + N * m
    o_f = o_v + N * n
    ones = np.ones(m)
    w = np.empty(m)
    rows = np.empty(m, np.int64)
    lrows = np.empty(m, np.int64)
    arows = np.empty(m, np.int64)
    nl, na = 0, 0
    for i in range(m):
        rows[i] = i
        if lin[i] != 0.0:
            w[i] = 1.0 / length
            lrows[nl] = i
            nl += 1
        else:
            w[i] = 1.0
            arows[na] = i
            na += 1
    wlo, whi = np.inf, 0.0
    for i in range(m):
        wlo = min(wlo, w[i])
        whi = max(whi, w[i])
    ew = math.frexp(whi)[1]
    wn = np.empty(m)   # w / 2**ew: largest in [0.5, 1)
    for i in range(m):
        wn[i] = w[i] * _pow2(-ew)
    Jb, B, Q, W, A = (np.empty((m, n)), np.empty((kk, kk)), np.empty((kk, kk)),
                      np.empty((kk, kk)), np.empty((n, n)))
    s2, order, sv = np.empty(kk), np.empty(kk, np.int64), np.empty(kk)
    perm = np.empty(kk, np.int64)
    last_rank = 0
    tol_unit = kk * _EPS
    F = out[o_f:]
    for b in range(Nc):
        g = b0 + b
        for i in range(m):
            for j in range(n):
                Jb[i, j] = J[b, i, j]
        # SVD of J with the vectors of the smallest singular value
        e = _load(Jb, ones, rows, m, n, B, wide)
        # rows by decreasing norm (``perm``): one sweep fewer (5 instead of 6 on a 6×7
        # arm Jacobian); the rotations then act on the permuted rows
        _row_norms2(B, r, c, s2)
        _descending(s2, r, perm)
        for i in range(r):
            for t in range(c):
                W[i, t] = B[perm[i], t]
        B, W = W, B
        _orthogonalize(B, r, c, Q, True)
        _row_norms2(B, r, c, s2)
        _descending(s2, r, order)
        nrm = np.sqrt(s2[order[k - 1]])
        if nrm > 1e-150:    # orthogonal to the other rows already: just normalise
            for t in range(c):
                W[k - 1, t] = B[order[k - 1], t] / nrm
        else:               # a zero row: complete the other rows' unit vectors
            _unit_rows(B, r, c, s2, order, W)
        f = _pow2(e)
        prod = 1.0
        for i in range(k):
            sv[i] = np.sqrt(s2[order[i]]) * f
            out[g * k + i] = sv[i]
            prod *= sv[i]
        last = order[k - 1]
        if wide:    # u_k: Q's column (rows un-permuted); v_k: the normalised row
            for i in range(m):
                out[o_u + g * m + perm[i]] = Q[i, last]
            for j in range(n):
                out[o_v + g * n + j] = W[k - 1, j]
        else:       # v_k: Q's column (rows un-permuted); u_k: the normalised row
            for i in range(m):
                out[o_u + g * m + i] = W[k - 1, i]
            for j in range(n):
                out[o_v + g * n + perm[j]] = Q[j, last]
        # sign: the largest |component| of v_k positive (the first within 1e-6)
        amax = 0.0
        for j in range(n):
            amax = max(amax, abs(out[o_v + g * n + j]))
        big = 0.0
        for j in range(n):
            x = out[o_v + g * n + j]
            if abs(x) >= amax * (1.0 - 1e-6):
                big = x
                break
        if big < 0.0:
            for i in range(m):
                out[o_u + g * m + i] = -out[o_u + g * m + i]
            for j in range(n):
                out[o_v + g * n + j] = -out[o_v + g * n + j]
        s_max, s_min = sv[0], sv[k - 1]
        tol = s_max * tol_unit
        rank = 0
        for i in range(k):
            if sv[i] > tol:
                rank += 1
        # scaled singular values: of (w / 2**ew) J (no overflow for any length)
        if wlo == whi:      # diag(w) = w I
            for i in range(k):
                out[o_ss + g * k + i] = sv[i] * whi
        else:
            es = _load(Jb, wn, rows, m, n, W, wide) + ew
            _row_norms2(W, r, c, s2)     # rows by decreasing norm, as above
            _descending(s2, r, order)
            for i in range(r):
                for t in range(c):
                    B[i, t] = W[order[i], t]
            _orthogonalize(B, r, c, Q, False)
            _row_norms2(B, r, c, s2)
            _descending(s2, r, order)
            f = _pow2(es)
            for i in range(k):
                out[o_ss + g * k + i] = np.sqrt(s2[order[i]]) * f
        ss_max, ss_min = out[o_ss + g * k], out[o_ss + g * k + k - 1]
        # linear and angular rows
        if nl == m:
            trans, rot = prod, np.nan
        elif na == m:
            trans, rot = np.nan, prod
        else:
            trans = _sv_product(Jb, ones, lrows, nl, n, B)
            rot = _sv_product(Jb, ones, arows, na, n, B)
        F[0 * N + g] = s_min
        F[1 * N + g] = prod
        F[2 * N + g] = _lu_det(Jb, n, A) if m == n else np.nan
        F[3 * N + g] = s_max / s_min if s_min > tol else np.inf
        F[4 * N + g] = s_min / s_max if s_max > 0.0 else 0.0
        F[5 * N + g] = rank
        F[6 * N + g] = trans
        F[7 * N + g] = rot
        F[8 * N + g] = ss_min
        F[9 * N + g] = ss_max / ss_min if ss_min > ss_max * tol_unit else np.inf
        F[10 * N + g] = ss_min / ss_max if ss_max > 0.0 else 0.0
        last_rank = rank
    return last_rank


# ---------------------------------------------------------------------------------------
# the singularity monitor's constraints and the safe command (kinematics.singularity)

#: Smallest weight of ``μ ‖x‖²`` in the safe command's objective, relative to the task
#: Hessian's largest eigenvalue (``μ = max(QP_TIE σ²_max, λ²_max)``): keeps the problem
#: strictly convex when the task does not see every joint direction.
QP_TIE = 1e-8


@numba.njit(**_INLINE)
def _cholesky(H, n):  # type: ignore[no-untyped-def]
    """``H[:n, :n] = L Lᵀ`` in place (``L`` in the lower triangle); False when ``H`` is not
    numerically positive definite."""
    for j in range(n):
        s = H[j, j]
        for k in range(j):
            s -= H[j, k] * H[j, k]
        if not s > 0.0:
            return False
        d = math.sqrt(s)
        H[j, j] = d
        for i in range(j + 1, n):
            s = H[i, j]
            for k in range(j):
                s -= H[i, k] * H[j, k]
            H[i, j] = s / d
    return True


@numba.njit(**_INLINE)
def _lower_solve(L, n, b, out):  # type: ignore[no-untyped-def]
    """``out = L⁻¹ b`` (forward substitution)."""
    for i in range(n):
        s = b[i]
        for k in range(i):
            s -= L[i, k] * out[k]
        out[i] = s / L[i, i]


@numba.njit(**_INLINE)
def _upper_solve(L, n, b, out):  # type: ignore[no-untyped-def]
    """``out = L⁻ᵀ b`` (back substitution on the transpose)."""
    for i in range(n - 1, -1, -1):
        s = b[i]
        for k in range(i + 1, n):
            s -= L[k, i] * out[k]
        out[i] = s / L[i, i]


@numba.njit(**_INLINE)
def _chol_times(L, n, x, u, out):  # type: ignore[no-untyped-def]
    """``out = H x`` with ``H = L Lᵀ`` (``L`` from :func:`_cholesky`); ``u`` ``(n,)``
    scratch (``Lᵀ x``)."""
    for i in range(n):
        acc = 0.0
        for k in range(i, n):
            acc += L[k, i] * x[k]
        u[i] = acc
    for i in range(n):
        acc = 0.0
        for k in range(i + 1):
            acc += L[i, k] * u[k]
        out[i] = acc


@numba.njit(**_OPTS)
def _active_set(L, n, h, C, d, nc, x):  # type: ignore[no-untyped-def]
    """``x`` ``(n,)`` (out): the minimiser of ``½ xᵀ H x − hᵀ x`` subject to
    ``C[i] · x ≥ d[i]`` for ``i < nc``, with ``H = L Lᵀ`` positive definite, unit rows
    ``C[i]`` and ``d ≤ 0`` (``x = 0`` is feasible).

    Primal active set (Nocedal & Wright, Algorithm 16.3) from ``x = 0``: each iteration
    solves the problem with the working set's constraints as equalities (range space:
    ``Z = L⁻¹ C_Wᵀ``, multipliers ``λ = (ZᵀZ)⁻¹ Zᵀ L⁻¹ ∇``), steps to its solution or to the
    first constraint in the way (which joins the working set: it is independent of the
    set, since the step is orthogonal to the set's rows), and at a stationary point drops
    the constraint with the most negative multiplier. ``x`` stays feasible and the
    objective never increases; the solution is exact (to rounding) after finitely many
    iterations (at most ``4 (nc + n) + 4`` are run). Returns the iterations."""
    for j in range(n):
        x[j] = 0.0
    work = np.zeros(nc, np.bool_)
    widx = np.empty(max(nc, 1), np.int64)
    Z = np.empty((max(nc, 1), n))          # row t: L⁻¹ C[widx[t]]
    M = np.empty((n, n))
    w = n + nc
    grad, r, s, p, lam, rhs = (np.empty(n), np.empty(n), np.empty(w), np.empty(n),
                               np.zeros(w), np.empty(w))
    hmax = 1e-300
    for j in range(n):
        hmax = max(hmax, abs(h[j]))
    tol_lam = 1e-12 * hmax
    tol_p = 0.0
    it = 0
    while it < 4 * (nc + n) + 4:
        it += 1
        _chol_times(L, n, x, s, grad)        # ∇ = H x − h
        for i in range(n):
            grad[i] -= h[i]
        _lower_solve(L, n, grad, r)
        nw = 0
        for i in range(nc):
            if work[i]:
                widx[nw] = i
                _lower_solve(L, n, C[i], Z[nw])
                nw += 1
        for a in range(nw):                       # M = Z Zᵀ, rhs = Z r
            for b in range(a + 1):
                acc = 0.0
                for k in range(n):
                    acc += Z[a, k] * Z[b, k]
                M[a, b] = acc
            acc = 0.0
            for k in range(n):
                acc += Z[a, k] * r[k]
            rhs[a] = acc
        if nw > 0 and not _cholesky(M, nw):
            break                                 # dependent rows: keep the feasible x
        if nw > 0:
            _lower_solve(M, nw, rhs, s)
            _upper_solve(M, nw, s, lam)
        for k in range(n):                        # s = r − Zᵀ λ, p = −L⁻ᵀ s
            acc = r[k]
            for a in range(nw):
                acc -= Z[a, k] * lam[a]
            s[k] = acc
        _upper_solve(L, n, s, p)
        pmax, xmax = 0.0, 0.0
        for k in range(n):
            p[k] = -p[k]
            pmax = max(pmax, abs(p[k]))
            xmax = max(xmax, abs(x[k]))
        if it == 1:
            tol_p = 1e-13 * max(pmax, 1e-300)     # the unconstrained step's size
        if pmax <= tol_p + 1e-13 * xmax:
            worst, drop = -tol_lam, -1
            for a in range(nw):
                if lam[a] < worst:
                    worst, drop = lam[a], widx[a]
            if drop < 0:
                break                             # KKT: optimal
            work[drop] = False
            continue
        alpha, block = 1.0, -1
        for i in range(nc):
            if work[i]:
                continue
            cp, cx = 0.0, 0.0
            for k in range(n):
                cp += C[i, k] * p[k]
                cx += C[i, k] * x[k]
            if cp < -1e-300:
                ai = max((d[i] - cx) / cp, 0.0)
                if ai < alpha:
                    alpha, block = ai, i
        for k in range(n):
            x[k] += alpha * p[k]
        if block >= 0:
            work[block] = True
    return it


@numba.njit(**_OPTS)
def _task_objective(A, y, mode, eps2, lmax2, lam2, H, h):  # type: ignore[no-untyped-def]
    """The resolved-rate task as a quadratic: ``H = AᵀA + D + μ I`` and ``h = Aᵀ y``
    (``(n, n)``, ``(n,)``, out), the minimand ``‖A x − y‖² + xᵀ (D + μ I) x`` up to a
    constant. ``D`` is the controller's damping (:func:`_damped_svd`'s rule ``mode``:
    ``λ² I`` for a constant or adaptive ``λ``, ``Σ λ_i² v_i v_iᵀ`` for the selective one);
    ``μ = max(QP_TIE σ²_max(A), λ²_max)``: a constrained command pays for joint speed as
    much as the damping at a singularity, so a redundant arm does not buy a sliver of task
    with fast self-motion. (The nominal command enters only through the monitor's rows.)"""
    m, n = A.shape
    k = max(m, n)
    B, Q, s2, den = np.empty((k, k)), np.empty((k, k)), np.empty(k), np.empty(k)
    r, _ = _damped_svd(A, m, n, B, Q, s2, den, mode, eps2, lmax2, lam2, 0.0)
    smax = 1e-300
    for i in range(r):
        smax = max(smax, s2[i])
    mu = max(QP_TIE * smax, lmax2)
    for i in range(n):
        for j in range(n):
            acc = 0.0
            for t in range(m):
                acc += A[t, i] * A[t, j]
            H[i, j] = acc
        H[i, i] += mu
        acc = 0.0
        for t in range(m):
            acc += A[t, i] * y[t]
        h[i] = acc
    wide = m <= n
    for i in range(r):
        dmp = den[i] - s2[i]
        if dmp <= 0.0:
            continue
        if mode != 2:           # one λ² for every direction
            for j in range(n):
                H[j, j] += dmp
            break
        if wide:                # v_i = B_i / σ_i
            if not s2[i] > 0.0:
                continue
            f = dmp / s2[i]
            for a in range(n):
                for b in range(n):
                    H[a, b] += f * B[i, a] * B[i, b]
        else:                   # v_i = Q[:, i]
            for a in range(n):
                for b in range(n):
                    H[a, b] += dmp * Q[a, i] * Q[b, i]


@numba.njit(**_OPTS)
def sv_gradients(q, J, G, P, mon, warn, g, sv):  # type: ignore[no-untyped-def]
    """Gradients ``g[t]`` ``(dof,)`` (out) ``= ∂σ/∂q`` of the monitored singular values
    ``σ < warn`` (``sv[t]``, out), ascending; returns how many.

    The monitored rows ``B = diag(w) J_sel`` (``mon``: :func:`_metric`'s parameters) give
    ``B = U diag(σ) Vᵀ`` (:func:`_orthogonalize` on the shorter side, a zero singular
    value's vector completed by :func:`_unit_rows`); then ``∂σ_a/∂q_c = u_aᵀ (diag(w)
    ∂J_sel/∂q_c) v_a`` with ``∂J/∂q_c = J̇(q, e_c)`` (:func:`_jdot`, exact): the derivative of
    a simple singular value (a repeated one has none; these are then one of its one-sided
    derivatives)."""
    dof = q.shape[0]
    k = 0
    for i in range(6):
        if mon[1 + i] != 0.0:
            k += 1
    if k == 0 or dof == 0:
        return 0
    sel = np.empty(k, np.int64)
    r = 0
    for i in range(6):
        if mon[1 + i] != 0.0:
            sel[r] = i
            r += 1
    wide = k <= dof
    rr, cc = (k, dof) if wide else (dof, k)
    B = np.empty((rr, cc))
    for t in range(k):
        for j in range(dof):
            if wide:
                B[t, j] = mon[1 + sel[t]] * J[sel[t], j]
            else:
                B[j, t] = mon[1 + sel[t]] * J[sel[t], j]
    Q = np.empty((rr, rr))
    _orthogonalize(B, rr, cc, Q, True)
    s2 = np.empty(rr)
    _row_norms2(B, rr, cc, s2)
    order = np.argsort(s2)               # ascending σ
    desc = order[::-1].copy()
    W = np.empty((rr, cc))               # unit rows, descending: v (wide) or u (tall)
    _unit_rows(B, rr, cc, s2, desc, W)
    U, V = np.empty((rr, k)), np.empty((rr, dof))
    a = 0
    for i in range(rr):                  # ascending
        o = order[i]
        if not np.sqrt(s2[o]) < warn:
            break
        w_row = rr - 1 - i               # its row of W
        for t in range(k):
            U[a, t] = Q[t, o] if wide else W[w_row, t]
        for j in range(dof):
            V[a, j] = W[w_row, j] if wide else Q[j, o]
        sv[a] = np.sqrt(s2[o])
        a += 1
    if a == 0:
        return 0
    n = P.shape[0]
    Jd = np.empty((6, dof))
    F, Zl, Ol = np.empty((3, 4)), np.empty((n, 3)), np.empty((n, 3))
    Jv, Jw, p = np.empty((n, 3)), np.empty((n, 3)), np.empty(3)
    e_c = np.zeros(dof)
    for c in range(dof):
        e_c[c] = 1.0
        _jdot(q, e_c, G, P, np.zeros(3), 0, Jd, F, Zl, Ol, Jv, Jw, p)
        e_c[c] = 0.0
        for t in range(a):
            acc = 0.0
            for s in range(k):
                u = U[t, s] * mon[1 + sel[s]]
                if u == 0.0:
                    continue
                dv = 0.0
                for j in range(dof):
                    dv += Jd[sel[s], j] * V[t, j]
                acc += u * dv
            g[t, c] = acc
    return a


@numba.njit(**_OPTS)
def _min_norm(R, r, n, b, x):  # type: ignore[no-untyped-def]
    """``x`` ``(n,)`` (out) ``= Rᵀ (R Rᵀ)⁻¹ b``: the least-norm solution of ``R x = b`` for the
    first ``r`` rows of ``R``; False when the rows are (numerically) dependent."""
    M = np.empty((r, r))
    for a in range(r):
        for c in range(a + 1):
            acc = 0.0
            for k in range(n):
                acc += R[a, k] * R[c, k]
            M[a, c] = acc
    if r > n or not _cholesky(M, r):
        return False
    u, w = np.empty(r), np.empty(r)
    _lower_solve(M, r, b, u)
    _upper_solve(M, r, u, w)
    for k in range(n):
        acc = 0.0
        for a in range(r):
            acc += R[a, k] * w[a]
        x[k] = acc
    return True


@numba.njit(**_OPTS)
def _pushed(L, h, C, d, na, nc, push, A, y, lower, upper, x):  # type: ignore[no-untyped-def]
    """The safe command when halted: the first ``na`` rows of ``C`` (the monitor's) ask for
    the outward rate ``push`` (instead of ``d``, which is 0 there), and the task may not
    lose ground (``(Aᵀ y)ᵀ x ≥ 0``, row ``nc`` of ``C``). A feasible point ``x_p`` (least
    norm, on the task row too when needed, inside the bounds) shifts the problem so that
    :func:`_active_set` starts from a feasible ``0``. Returns the iterations, or -1 (``x``
    untouched) when no such point exists."""
    n = L.shape[0]
    t = np.zeros(n)
    tn = 0.0
    for k in range(n):
        acc = 0.0
        for m in range(A.shape[0]):
            acc += A[m, k] * y[m]
        t[k] = acc
        tn += acc * acc
    tn = np.sqrt(tn)
    R, b, xp = np.empty((na + 1, n)), np.empty(na + 1), np.empty(n)
    for a in range(na):
        R[a] = C[a]
        b[a] = push
    if not _min_norm(R, na, n, b, xp):
        return -1
    progress = 0.0
    for k in range(n):
        progress += t[k] * xp[k]
    if progress < 0.0:
        if not tn > 0.0:
            return -1
        for k in range(n):
            R[na, k] = t[k] / tn
        b[na] = 0.0
        if not _min_norm(R, na + 1, n, b, xp):
            return -1
    for k in range(n):
        if not lower[k] <= xp[k] <= upper[k]:
            return -1
    for k in range(n):
        C[nc, k] = t[k] / tn if tn > 0.0 else 0.0
    d2 = np.empty(nc + 1)
    for i in range(nc + 1):
        base = push if i < na else (0.0 if i == nc else d[i])
        cx = 0.0
        for k in range(n):
            cx += C[i, k] * xp[k]
        d2[i] = min(base - cx, 0.0)
    u, h2 = np.empty(n), np.empty(n)
    _chol_times(L, n, xp, u, h2)           # H x_p, then h − H x_p
    for i in range(n):
        h2[i] = h[i] - h2[i]
    it = _active_set(L, n, h2, C, d2, nc + 1, x)
    for k in range(n):
        x[k] += xp[k]
    return it


@numba.njit(**_OPTS)
def safe_command(q, qd, J, G, P, mon, warn, stop, scale, value, dt, flat, push, A, y,
                 damping, lower, upper, x):  # type: ignore[no-untyped-def]
    """The monitor's safe command ``x`` ``(dof,)`` (out): the best task motion the
    singularity constraint allows (:meth:`kinematics.singularity.SingularityMonitor
    .command`).

    ``x`` minimises ``‖A x − y‖² + xᵀ (D + μ I) x`` (:func:`_task_objective`; ``A``
    ``(m, dof)`` the weighted task rows, ``y`` ``(m,)`` the task velocity, ``damping`` =
    ``[mode, ε², λ²_max, λ²]`` the rule of ``D``) subject to, for every monitored singular
    value ``σ_a < warn`` with gradient ``g_a`` (:func:`sv_gradients`),
    ``g_aᵀ x ≥ scale · min(g_aᵀ q̇, 0)``: no near-singular value decreases faster than
    ``scale`` times the nominal command ``q̇`` decreases it, and none that ``q̇`` keeps
    decreases; and to ``lower ≤ x ≤ upper`` (``±inf``: no bound; ``lower ≤ 0 ≤ upper``).
    ``x = 0`` is feasible, so the task's weighted error never grows to first order
    (``yᵀ A x ≥ ½ (‖A x‖² + xᵀ (D + μ I) x) ≥ 0``). Exact active set
    (:func:`_active_set`).

    Halted (``scale = 0``) the first-order constraint is not enough (curvature lowers a
    value the command keeps level), so each active row asks for a small outward rate
    ``g_aᵀ x ≥ push ‖g_a‖ ‖q̇‖`` together with task progress ``(Aᵀ y)ᵀ x ≥ 0``
    (:func:`_pushed`; without a feasible point, the rows ask for 0); then ``x`` is halved
    (up to 8 times) until the metric over ``dt`` does not decrease (:func:`approaches`),
    else 0. In the band, ``x`` is halved the same way while the metric at ``q + x dt``
    would fall below ``stop`` (curvature, again). Halving keeps every linear property.
    Returns the active-set iterations."""
    dof = q.shape[0]
    kk = max(6, dof)
    g, sv = np.empty((kk, dof)), np.empty(kk)
    a = sv_gradients(q, J, G, P, mon, warn, g, sv)
    C, d = np.empty((a + 2 * dof + 1, dof)), np.empty(a + 2 * dof + 1)
    nc = 0
    qn = 0.0
    for j in range(dof):
        qn += qd[j] * qd[j]
    qn = np.sqrt(qn)
    for t in range(a):
        gn, gq = 0.0, 0.0
        for j in range(dof):
            gn += g[t, j] * g[t, j]
            gq += g[t, j] * qd[j]
        gn = np.sqrt(gn)
        if not gn > 0.0:
            continue                     # 0 ≥ b: always met
        for j in range(dof):
            C[nc, j] = g[t, j] / gn
        d[nc] = scale * gq / gn if gq < 0.0 else 0.0
        nc += 1
    na = nc
    for j in range(dof):
        for side in range(2):
            bound = lower[j] if side == 0 else -upper[j]
            if bound > -np.inf:
                for i in range(dof):
                    C[nc, i] = 0.0
                C[nc, j] = 1.0 if side == 0 else -1.0
                d[nc] = min(bound, 0.0)
                nc += 1
    H, h = np.empty((dof, dof)), np.empty(dof)
    _task_objective(A, y, int(damping[0]), damping[1], damping[2], damping[3], H, h)
    if not _cholesky(H, dof):
        for j in range(dof):
            x[j] = 0.0
        return 0
    it = -1
    if scale <= 0.0 and na > 0 and push * qn > 0.0:
        it = _pushed(H, h, C, d, na, nc, push * qn, A, y, lower, upper, x)
    if it < 0:
        it = _active_set(H, dof, h, C, d, nc, x)
    for j in range(dof):   # the bounds exactly (the solve meets them to ~1e-10 relative)
        x[j] = min(max(x[j], lower[j]), upper[j])
    if scale > 0.0 and not dt > 0.0:
        return it
    step = 1.0
    xs, q1 = np.empty(dof), np.empty(dof)
    for _ in range(9):
        for j in range(dof):
            xs[j] = x[j] * step
        if scale > 0.0:
            for j in range(dof):
                q1[j] = q[j] + xs[j] * dt
            ok = metric_at(q1, G, P, mon) >= stop
        else:
            ok = not approaches(q, xs, dt, G, P, mon, value, flat)
        if ok:
            for j in range(dof):
                x[j] = xs[j]
            return it
        step *= 0.5
    for j in range(dof):
        x[j] = 0.0
    return it


# ---------------------------------------------------------------------------------------
# compile once per kernel


def _prepare(namespace: dict[str, object]) -> None:
    """Make every kernel of ``namespace`` compile one specialisation for its callers.

    A constant argument (``0``, ``True``) types as a literal inside compiled code, and
    numba compiles the callee again for each literal (``_orthogonalize`` for ``want_q``
    True and False, ``_damped_svd`` for ``n == 0``, ...): seconds of the first call, for
    branches the kernels test at run time anyway. The callers' argument types are taken
    as plain types (``numba.types.unliteral``) instead. Helpers (``_name``) are called
    from compiled code only and get no Python wrapper (its unboxing of every argument is
    a good part of a small function's compile time). Their disk cache fails soft
    (:func:`kinematics._cache.guard`)."""
    from numba.core import types
    from numba.core.dispatcher import Dispatcher

    for name, value in namespace.items():
        if isinstance(value, Dispatcher) and "get_call_template" not in vars(value):
            if name.startswith("_"):   # called from compiled code only: no Python wrapper
                value.targetoptions.update(no_cpython_wrapper=True, no_cfunc_wrapper=True)
            plain = value.get_call_template

            def get_call_template(args, kws, plain=plain):  # type: ignore[no-untyped-def]
                return plain(tuple(types.unliteral(a) for a in args),
                             {k: types.unliteral(v) for k, v in kws.items()})

            value.get_call_template = get_call_template  # type: ignore[method-assign]
            _cache.guard(value)


_prepare(globals())
prepare = _prepare   # for the other kernel modules (kinematics.ik._lm)

"""Compiled (numba) kernels of :func:`kinematics.ik.solve_all`: the Paden–Kahan subproblems
written once, and the two 6R decompositions built on them. Imported on first use.

The chain is in product-of-exponentials form about a reference configuration (every
rotation about an axis fixed in the base frame at that configuration, IK-Geo convention)::

    R_0T = rot(h1, θ1) … rot(h6, θ6) R_6T
    p_0T = p01 + rot(h1, θ1)(p12 + rot(h2, θ2)(p23 + … rot(h6, θ6) p6T))

``H`` ``(6, 3)`` are the unit axes ``h_i``, ``P`` ``(7, 3)`` the offsets ``p01 … p6T`` (with
the points on each axis chosen so that intersecting axes have zero offset between them),
``R6T`` ``(3, 3)`` the tool rotation at the reference. Vectors are 3-tuples (no allocation).

Subproblems (each returns up to two roots and a flag ``sing`` when the roots merge or the
angle is free; a free angle is returned as 0):

- SP1 ``rot(k, θ) p = q``;
- SP4 ``hᵀ rot(k, θ) p = d`` (two roots ``φ ± acos``);
- SP3 ``‖rot(k, θ) p − q‖ = d`` (an SP4);
- SP2 ``rot(k1, θ1) rot(k2, θ2) p = q`` (two SP4s, roots paired by residual).
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from .. import _cache

# cached per user like every kernel (kinematics._cache: never in the package's folder)
_JIT: dict[str, Any] = {"cache": _cache.configure(), "nogil": True, "error_model": "numpy"}
# small helpers taking arrays are inlined: a call between compiled functions copies every
# array argument (reference counts included)
_INLINE: dict[str, Any] = {**_JIT, "inline": "always"}

#: Relative size below which a subproblem is degenerate (free angle, merged roots): the
#: pose is then flagged singular.
SING_TOL = 1e-6
#: A returned solution must reproduce the target within this (m and rotation entries).
VERIFY_TOL = 1e-9
#: Target validation, as ``kinematics._checks`` (rotation tolerance, largest entry).
RIGID_TOL = 1e-5
MAX_MAGNITUDE = 1e100
#: Solutions farther than this from the target get Newton steps (:func:`_polish`).
POLISH_TOL = 1e-13
#: Solutions closer than this in every joint (rad) are one.
DEDUP_TOL = 1e-9

FAMILY_SPHERICAL_PARALLEL = 1   # spherical wrist, h2 ∥ h3
FAMILY_SPHERICAL_INTERSECT = 2  # spherical wrist, h1 ∩ h2
FAMILY_THREE_PARALLEL = 3       # h2 ∥ h3 ∥ h4, h5 ∩ h6
K_MAX = 8


@numba.njit(**_JIT)
def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@numba.njit(**_JIT)
def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


@numba.njit(**_JIT)
def _add(a, b):
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


@numba.njit(**_JIT)
def _sub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


@numba.njit(**_JIT)
def _scale(s, a):
    return (s * a[0], s * a[1], s * a[2])


@numba.njit(**_JIT)
def _norm(a):
    return math.sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2])


@numba.njit(**_JIT)
def _rot(k, t, p):
    """``rot(k, t) p`` (Rodrigues), ``k`` unit."""
    c, s = math.cos(t), math.sin(t)
    kp = _dot(k, p)
    kxp = _cross(k, p)
    return (c * p[0] + s * kxp[0] + (1.0 - c) * kp * k[0],
            c * p[1] + s * kxp[1] + (1.0 - c) * kp * k[1],
            c * p[2] + s * kxp[2] + (1.0 - c) * kp * k[2])


@numba.njit(**_INLINE)
def _mv(M, v):
    return (M[0, 0] * v[0] + M[0, 1] * v[1] + M[0, 2] * v[2],
            M[1, 0] * v[0] + M[1, 1] * v[1] + M[1, 2] * v[2],
            M[2, 0] * v[0] + M[2, 1] * v[1] + M[2, 2] * v[2])


@numba.njit(**_INLINE)
def _row(M, i):
    return (M[i, 0], M[i, 1], M[i, 2])


@numba.njit(**_INLINE)
def _col(M, j):
    return (M[0, j], M[1, j], M[2, j])


@numba.njit(**_JIT)
def _wrap(t):
    """Angle in (−π, π]."""
    t = t - 2.0 * math.pi * math.floor(t / (2.0 * math.pi))   # [0, 2π)
    if t > math.pi:
        t -= 2.0 * math.pi
    elif t <= -math.pi:
        t += 2.0 * math.pi
    return t


# ---- subproblems ------------------------------------------------------------------------


@numba.njit(**_JIT)
def sp1(p, q, k):
    """θ with ``rot(k, θ) p = q`` (least squares in the plane ⟂ k); ``(θ, sing)``:
    ``sing`` when ``p`` or ``q`` is (nearly) along ``k`` (θ free, returned 0)."""
    pp = _sub(p, _scale(_dot(k, p), k))
    qq = _sub(q, _scale(_dot(k, q), k))
    npp, nqq = _norm(pp), _norm(qq)
    scale = max(_norm(p), _norm(q), 1e-300)
    if npp < SING_TOL * scale or nqq < SING_TOL * scale:
        if npp == 0.0 or nqq == 0.0:
            return 0.0, True
        return math.atan2(_dot(k, _cross(pp, qq)), _dot(pp, qq)), True
    return math.atan2(_dot(k, _cross(pp, qq)), _dot(pp, qq)), False


@numba.njit(**_JIT)
def sp4(h, p, k, d):
    """θ with ``hᵀ rot(k, θ) p = d``: ``(θa, θb, n, sing)`` with ``n`` real roots (0: no
    solution; when the equation is nearly tangent the closest root is returned once with
    ``sing``; when it holds for every θ, θ = 0 once with ``sing``)."""
    kp = _dot(k, p)
    pperp = _sub(p, _scale(kp, k))
    A = _dot(h, pperp)
    B = _dot(h, _cross(k, p))
    c = d - _dot(h, k) * kp
    R = math.sqrt(A * A + B * B)
    scale = max(_norm(p) * _norm(h), abs(d), 1e-300)
    if R < SING_TOL * scale:
        if abs(c) <= SING_TOL * scale:
            return 0.0, 0.0, 1, True
        return 0.0, 0.0, 0, True
    phi = math.atan2(B, A)
    x = c / R
    if x >= 1.0 or x <= -1.0:
        if abs(x) - 1.0 <= 1e-9:   # tangent within rounding: one double root
            return phi if x > 0 else phi + math.pi, 0.0, 1, True
        return 0.0, 0.0, 0, False
    a = math.acos(x)
    sing = math.sin(a) < SING_TOL
    return phi + a, phi - a, 2, sing


@numba.njit(**_JIT)
def sp3(p, q, k, d):
    """θ with ``‖rot(k, θ) p − q‖ = d`` (as :func:`sp4`)."""
    return sp4(q, p, k, 0.5 * (_dot(p, p) + _dot(q, q) - d * d))


@numba.njit(**_JIT)
def _pair(p, q, k1, k2, t1, a2, b2, n2):
    """The root of θ2 (``a2`` or ``b2``) that best matches ``θ1 = t1`` in SP2."""
    qq = _rot(k1, -t1, q)
    if n2 == 1:
        return a2
    ea = _norm(_sub(_rot(k2, a2, p), qq))
    eb = _norm(_sub(_rot(k2, b2, p), qq))
    return a2 if ea <= eb else b2


@numba.njit(**_JIT)
def sp2(p, q, k1, k2):
    """``(θ1, θ2)`` with ``rot(k1, θ1) rot(k2, θ2) p = q``: ``(t1a, t2a, t1b, t2b, n, sing)``."""
    a1, b1, n1, s1 = sp4(k2, q, k1, _dot(k2, p))   # φ = −θ1: k2ᵀ rot(k1, φ) q = k2ᵀ p
    a2, b2, n2, s2 = sp4(k1, p, k2, _dot(k1, q))   # k1ᵀ rot(k2, θ2) p = k1ᵀ q
    if n1 == 0 or n2 == 0:
        return 0.0, 0.0, 0.0, 0.0, 0, s1 or s2
    t1a, t1b = -a1, -b1
    t2a = _pair(p, q, k1, k2, t1a, a2, b2, n2)
    if n1 == 1:
        return t1a, t2a, 0.0, 0.0, 1, s1 or s2
    t2b = _pair(p, q, k1, k2, t1b, a2, b2, n2)
    if abs(_wrap(t1a - t1b)) + abs(_wrap(t2a - t2b)) < 1e-12:
        return t1a, t2a, 0.0, 0.0, 1, s1 or s2
    return t1a, t2a, t1b, t2b, 2, s1 or s2


# ---- forward kinematics in the same form (verification) ---------------------------------


@numba.njit(**_JIT)
def _rotcs(k, c, s, p):
    """``rot(k, θ) p`` from ``c = cos θ``, ``s = sin θ``."""
    kp = _dot(k, p)
    kxp = _cross(k, p)
    return (c * p[0] + s * kxp[0] + (1.0 - c) * kp * k[0],
            c * p[1] + s * kxp[1] + (1.0 - c) * kp * k[1],
            c * p[2] + s * kxp[2] + (1.0 - c) * kp * k[2])


@numba.njit(**_JIT)
def _fk_error(H, P, R6T, th, Rt, pt):
    """Max abs difference between the pose at ``th`` and the target (``Rt``, ``pt``)."""
    v = _row(P, 6)
    c0, c1, c2 = _col(R6T, 0), _col(R6T, 1), _col(R6T, 2)
    for i in range(5, -1, -1):
        h = _row(H, i)
        c, sn = math.cos(th[i]), math.sin(th[i])
        v = _add(_row(P, i), _rotcs(h, c, sn, v))
        c0 = _rotcs(h, c, sn, c0)
        c1 = _rotcs(h, c, sn, c1)
        c2 = _rotcs(h, c, sn, c2)
    err = max(abs(v[0] - pt[0]), abs(v[1] - pt[1]), abs(v[2] - pt[2]))
    err = max(err, abs(c0[0] - Rt[0, 0]), abs(c0[1] - Rt[1, 0]), abs(c0[2] - Rt[2, 0]))
    err = max(err, abs(c1[0] - Rt[0, 1]), abs(c1[1] - Rt[1, 1]), abs(c1[2] - Rt[2, 1]))
    return max(err, abs(c2[0] - Rt[0, 2]), abs(c2[1] - Rt[1, 2]), abs(c2[2] - Rt[2, 2]))


@numba.njit(**_JIT)
def _polish(H, P, R6T, th, Rt, pt):
    """Newton steps on the full pose error (space Jacobian, Gaussian elimination with
    partial pivoting): removes the rounding the subproblems amplify near their singular
    sets and any misfit of the geometry within its tolerance. Skipped at a singular
    Jacobian (the closed form's value is kept)."""
    J = np.empty((6, 7))
    R = np.empty((3, 3))
    for _ in range(2):
        for a in range(3):
            for b in range(3):
                R[a, b] = 1.0 if a == b else 0.0
        o = (0.0, 0.0, 0.0)
        axes = np.empty((6, 3))
        pts = np.empty((6, 3))
        for i in range(6):
            o = _add(o, _mv(R, _row(P, i)))
            w = _mv(R, _row(H, i))
            for a in range(3):
                axes[i, a] = w[a]
                pts[i, a] = o[a]
            c, sn = math.cos(th[i]), math.sin(th[i])
            for b in range(3):
                col = _rotcs(w, c, sn, (R[0, b], R[1, b], R[2, b]))
                R[0, b], R[1, b], R[2, b] = col[0], col[1], col[2]
        pe = _add(o, _mv(R, _row(P, 6)))
        # rotation error ω with R_target ≈ exp(ω×) R_now: ½ Σ_j cur_j × tgt_j
        wx, wy, wz = 0.0, 0.0, 0.0
        for j in range(3):
            cur = _mv(R, _col(R6T, j))
            cr = _cross(cur, _col(Rt, j))
            wx += 0.5 * cr[0]
            wy += 0.5 * cr[1]
            wz += 0.5 * cr[2]
        e = (pt[0] - pe[0], pt[1] - pe[1], pt[2] - pe[2], wx, wy, wz)
        if max(abs(e[0]), abs(e[1]), abs(e[2]), abs(wx), abs(wy), abs(wz)) < 1e-15:
            return
        for i in range(6):
            w = _row(axes, i)
            v = _cross(w, _sub(pe, _row(pts, i)))
            J[0, i], J[1, i], J[2, i] = v[0], v[1], v[2]
            J[3, i], J[4, i], J[5, i] = w[0], w[1], w[2]
        for r in range(6):
            J[r, 6] = e[r]
        for c in range(6):
            piv, best = c, abs(J[c, c])
            for r in range(c + 1, 6):
                if abs(J[r, c]) > best:
                    piv, best = r, abs(J[r, c])
            if best < 1e-9:
                return
            if piv != c:
                for k in range(7):
                    J[c, k], J[piv, k] = J[piv, k], J[c, k]
            for r in range(c + 1, 6):
                f = J[r, c] / J[c, c]
                for k in range(c, 7):
                    J[r, k] -= f * J[c, k]
        for c in range(5, -1, -1):
            acc = J[c, 6]
            for k in range(c + 1, 6):
                acc -= J[c, k] * J[k, 6]
            J[c, 6] = acc / J[c, c]
        for i in range(6):
            th[i] += J[i, 6]


@numba.njit(**_JIT)
def _accept(H, P, R6T, sgn, lo, hi, th0, Rt, pt, out_q, out_b, n, label, ws):
    """Polish and verify ``th0`` (angles at the reference), move each into the limits
    (the copy θ + 2πk inside them nearest to 0), de-duplicate, append; returns the new
    count."""
    th = ws[0:6]
    q = ws[6:12]
    for i in range(6):
        th[i] = th0[i]
    if _fk_error(H, P, R6T, th, Rt, pt) > POLISH_TOL:
        _polish(H, P, R6T, th, Rt, pt)
        if _fk_error(H, P, R6T, th, Rt, pt) > VERIFY_TOL:
            return n
    for i in range(6):
        t = _wrap(sgn[i] * th[i])
        if t < lo[i] - 1e-12 or t > hi[i] + 1e-12:
            best = 1e300
            for kk in range(-3, 4):
                u = t + 2.0 * math.pi * kk
                if lo[i] - 1e-12 <= u <= hi[i] + 1e-12 and abs(u) < best:
                    best = u
            if best == 1e300:
                return n
            t = best
        q[i] = min(max(t, lo[i]), hi[i])
    for m in range(n):
        same = True
        for i in range(6):
            if abs(out_q[m, i] - q[i]) > DEDUP_TOL:
                same = False
                break
        if same:
            return n
    if n >= out_q.shape[0]:
        return n
    for i in range(6):
        out_q[n, i] = q[i]
    out_b[n] = label
    return n + 1


def pack(H, P, R6T, sgn, lo, hi, free, inverted, qfix):  # type: ignore[no-untyped-def]
    """The geometry as the one float array :func:`solve_batch` reads (one argument: the
    call's dispatch cost is per argument)."""
    return np.ascontiguousarray(np.concatenate([
        np.ravel(H), np.ravel(P), np.ravel(R6T), sgn, lo, hi,
        np.asarray(free, dtype=np.float64), [1.0 if inverted else 0.0], qfix]),
        dtype=np.float64)


# ---- decompositions ---------------------------------------------------------------------


@numba.njit(**_JIT)
def _wrist(H, P, R6T, sgn, lo, hi, Rt, pt, R06, th, label, out_q, out_b, n, ws):
    """Joints 4–6 of a spherical wrist once θ1–θ3 are in ``th``: SP2 then SP1."""
    h4, h5, h6 = _row(H, 3), _row(H, 4), _row(H, 5)
    v = _mv(R06, h6)
    for i in range(3):
        v = _rot(_row(H, i), -th[i], v)            # R03ᵀ R06 h6
    t4a, t5a, t4b, t5b, m, sing = sp2(h6, v, h4, h5)
    # a unit vector ⟂ h6
    e = (1.0, 0.0, 0.0) if abs(h6[0]) < 0.9 else (0.0, 1.0, 0.0)
    x = _cross(h6, e)
    x = _scale(1.0 / _norm(x), x)
    w0 = _mv(R06, x)
    for i in range(3):
        w0 = _rot(_row(H, i), -th[i], w0)          # R03ᵀ R06 x
    for j in range(m):
        th[3] = t4a if j == 0 else t4b
        th[4] = t5a if j == 0 else t5b
        w = _rot(h5, -th[4], _rot(h4, -th[3], w0))  # R56 x
        t6, s6 = sp1(x, w, h6)
        sing = sing or s6
        th[5] = t6
        n = _accept(H, P, R6T, sgn, lo, hi, th, Rt, pt, out_q, out_b, n, 2 * label + j, ws)
    return n, sing


@numba.njit(**_JIT)
def _solve_one(family, H, P, R6T, sgn, lo, hi, Rt, pt, out_q, out_b, ws, R06, th):
    """Every solution of one pose: ``(count, singular)`` (``ws`` ``(12,)``, ``R06``
    ``(3, 3)``, ``th`` ``(6,)``: workspace)."""
    for i in range(3):
        for j in range(3):
            R06[i, j] = Rt[i, 0] * R6T[j, 0] + Rt[i, 1] * R6T[j, 1] + Rt[i, 2] * R6T[j, 2]
    for i in range(6):
        th[i] = 0.0
    n = 0
    singular = False
    h1, h2, h3 = _row(H, 0), _row(H, 1), _row(H, 2)
    p01, p12, p23, p34 = _row(P, 0), _row(P, 1), _row(P, 2), _row(P, 3)
    x = _sub(_sub(pt, _mv(R06, _row(P, 6))), p01)   # p_0T − R06 p6T − p01
    if family == FAMILY_SPHERICAL_PARALLEL or family == FAMILY_SPHERICAL_INTERSECT:
        if family == FAMILY_SPHERICAL_PARALLEL:
            # h2ᵀ R01ᵀ x = h2ᵀ (p12 + p23 + p34): SP4 for θ1
            a, b, n1, s = sp4(x, h2, h1, _dot(h2, _add(_add(p12, p23), p34)))
            singular = singular or s
            for i1 in range(n1):
                th[0] = a if i1 == 0 else b
                y = _sub(_rot(h1, -th[0], x), p12)      # rot(h2, θ2)(p23 + rot(h3, θ3) p34)
                a3, b3, n3, s3 = sp3(p34, _scale(-1.0, p23), h3, _norm(y))
                singular = singular or s3
                for i3 in range(n3):
                    th[2] = a3 if i3 == 0 else b3
                    v = _add(p23, _rot(h3, th[2], p34))
                    th[1], s2 = sp1(v, y, h2)
                    singular = singular or s2
                    n, sw = _wrist(H, P, R6T, sgn, lo, hi, Rt, pt, R06, th, 2 * i1 + i3,
                                   out_q, out_b, n, ws)
                    singular = singular or sw
        else:
            # p12 = 0: ‖x‖ = ‖p23 + rot(h3, θ3) p34‖, then SP2 for θ1, θ2
            a3, b3, n3, s3 = sp3(p34, _scale(-1.0, p23), h3, _norm(x))
            singular = singular or s3
            for i3 in range(n3):
                th[2] = a3 if i3 == 0 else b3
                v = _add(p23, _rot(h3, th[2], p34))
                t1a, t2a, t1b, t2b, m, s2 = sp2(v, x, h1, h2)
                singular = singular or s2
                for j in range(m):
                    th[0] = t1a if j == 0 else t1b
                    th[1] = t2a if j == 0 else t2b
                    n, sw = _wrist(H, P, R6T, sgn, lo, hi, Rt, pt, R06, th, 2 * j + i3,
                                   out_q, out_b, n, ws)
                    singular = singular or sw
    elif family == FAMILY_THREE_PARALLEL:
        h5, h6 = _row(H, 4), _row(H, 5)
        p45 = _row(P, 4)
        d = _dot(h2, _add(_add(_add(p12, p23), p34), p45))
        a, b, n1, s = sp4(x, h2, h1, d)                 # h2ᵀ R01ᵀ x = d
        singular = singular or s
        for i1 in range(n1):
            th[0] = a if i1 == 0 else b
            u = _mv(R06, h6)
            g = _dot(h2, _rot(h1, -th[0], u))           # h2ᵀ R01ᵀ R06 h6 = h2ᵀ R45 h6
            a5, b5, n5, s5 = sp4(h2, h6, h5, g)
            singular = singular or s5
            r1h = _rot(h1, th[0], h2)                   # R01 h2
            wv = (R06[0, 0] * r1h[0] + R06[1, 0] * r1h[1] + R06[2, 0] * r1h[2],
                  R06[0, 1] * r1h[0] + R06[1, 1] * r1h[1] + R06[2, 1] * r1h[2],
                  R06[0, 2] * r1h[0] + R06[1, 2] * r1h[1] + R06[2, 2] * r1h[2])  # R06ᵀ R01 h2
            xr = _rot(h1, -th[0], x)                    # R01ᵀ x
            for i5 in range(n5):
                th[4] = a5 if i5 == 0 else b5
                vv = _rot(h5, -th[4], h2)               # R45ᵀ h2
                th[5], s6 = sp1(wv, vv, h6)             # rot(h6, θ6) R06ᵀ R01 h2 = R45ᵀ h2
                singular = singular or s6
                # θ234 from R14 = R01ᵀ R06 R56ᵀ R45ᵀ applied to a vector ⟂ h2
                e = (1.0, 0.0, 0.0) if abs(h2[0]) < 0.9 else (0.0, 1.0, 0.0)
                z = _cross(h2, e)
                z = _scale(1.0 / _norm(z), z)
                r = _rot(h5, -th[4], z)
                r = _rot(h6, -th[5], r)
                r = _mv(R06, r)
                r = _rot(h1, -th[0], r)
                t234, _s = sp1(z, r, h2)
                y = _sub(_sub(xr, p12), _rot(h2, t234, p45))   # rot(h2,θ2)(p23 + rot(h3,θ3)p34)
                a3, b3, n3, s3 = sp3(p34, _scale(-1.0, p23), h3, _norm(y))
                singular = singular or s3
                for i3 in range(n3):
                    th[2] = a3 if i3 == 0 else b3
                    v = _add(p23, _rot(h3, th[2], p34))
                    th[1], s2 = sp1(v, y, h2)
                    singular = singular or s2
                    th[3] = _wrap(t234 - th[1] - th[2])
                    n = _accept(H, P, R6T, sgn, lo, hi, th, Rt, pt, out_q, out_b, n,
                                4 * i1 + 2 * i3 + i5, ws)
    return n, singular


@numba.njit(**_JIT)
def _rigid(T, tol, magnitude):
    """``T`` ``(4, 4)`` is finite, ``[[R, p], [0, 0, 0, 1]]`` with ``R`` orthonormal within
    ``tol`` and det +1, entries ≤ ``magnitude`` (as ``kinematics._checks.pose``)."""
    for i in range(4):
        for j in range(4):
            x = T[i, j]
            if not (abs(x) <= magnitude):
                return False
    if T[3, 0] != 0.0 or T[3, 1] != 0.0 or T[3, 2] != 0.0 or T[3, 3] != 1.0:
        return False
    for i in range(3):
        for j in range(i, 3):
            d = T[i, 0] * T[j, 0] + T[i, 1] * T[j, 1] + T[i, 2] * T[j, 2]
            if abs(d - (1.0 if i == j else 0.0)) > tol:
                return False
    det = (T[0, 0] * (T[1, 1] * T[2, 2] - T[1, 2] * T[2, 1])
           - T[0, 1] * (T[1, 0] * T[2, 2] - T[1, 2] * T[2, 0])
           + T[0, 2] * (T[1, 0] * T[2, 1] - T[1, 1] * T[2, 0]))
    return abs(det - 1.0) <= tol


@numba.njit(**_JIT)
def solve_batch(family, geo, T, out_q, out_n, out_s, out_b):
    """Every pose of ``T`` ``(N, 4, 4)``. ``geo`` packs (see :func:`pack`) ``H``, ``P``,
    ``R6T``, ``sgn``, the limits ``lo``, ``hi`` of the solved joints, ``free`` (index in
    ``q`` of each) and ``qfix`` ``(dof,)`` (locked values, NaN for the free joints).
    Writes ``out_q`` ``(N, 8, dof)`` (NaN-padded), ``out_n`` ``(N,)``, ``out_s`` ``(N,)``
    bool, ``out_b`` ``(N, 8)`` (−1-padded). Returns the index of the first pose that is
    not a rigid transform (nothing solved), −1 when all are."""
    for k in range(T.shape[0]):
        if not _rigid(T[k], RIGID_TOL, MAX_MAGNITUDE):
            return k
    H = geo[0:18].reshape(6, 3)
    P = geo[18:39].reshape(7, 3)
    R6T = geo[39:48].reshape(3, 3)
    sgn = geo[48:54]
    lo = geo[54:60]
    hi = geo[60:66]
    free = geo[66:72]
    inverted = geo[72] != 0.0
    qfix = geo[73:]
    Ri = np.empty((3, 3))
    buf = np.empty((K_MAX, 6))
    lab = np.empty(K_MAX, dtype=np.int64)
    ws = np.empty(12)
    R06 = np.empty((3, 3))
    th = np.empty(6)
    dof = out_q.shape[2]
    for k in range(T.shape[0]):
        Rt = T[k, :3, :3]
        pt = (T[k, 0, 3], T[k, 1, 3], T[k, 2, 3])
        if inverted:   # the reversed chain reaches T⁻¹
            for i in range(3):
                for j in range(3):
                    Ri[i, j] = T[k, j, i]
            pt = (-_dot(_col(Rt, 0), pt), -_dot(_col(Rt, 1), pt), -_dot(_col(Rt, 2), pt))
            Rt = Ri
        n, sg = _solve_one(family, H, P, R6T, sgn, lo, hi, Rt, pt, buf, lab, ws,
                           R06, th)
        out_n[k] = n
        out_s[k] = sg
        for m in range(K_MAX):
            if m < n:
                for j in range(dof):
                    out_q[k, m, j] = qfix[j]
                for i in range(6):
                    out_q[k, m, int(free[i])] = buf[m, i]
                out_b[k, m] = lab[m]
            else:
                for j in range(dof):
                    out_q[k, m, j] = np.nan
                out_b[k, m] = -1
    return -1

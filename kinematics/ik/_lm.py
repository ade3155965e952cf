"""Compiled (numba) Levenberg–Marquardt attempts of :func:`kinematics.ik.solver.solve`;
imported by the solver on first use when the compiled backend is in use, never at
``import kinematics``.

One *attempt* (module docstring of :mod:`kinematics.ik.solver`, steps 1–4) runs from its
seed to its end inside :func:`attempts`, one row after the other: pose and Jacobian from
the engine's chain walk (:func:`kinematics._kernels._fkj`, mimic map inside), the pose
error of :func:`~kinematics.ik.solver._error_one` (log map with its near-π branch), the
weighted residual, the damped normal equations solved by a Cholesky factorisation written
out for the ``dof × dof`` matrix (LAPACK through numba costs ~10 µs a call on such small
matrices), the frozen joints at a limit, the clip into the limits, accept/reject and the
damping update, then the end tests (converged on the kept axes, ``patience``,
``max_iter``). Every row runs the same code on its own scratch, so a row's result does not
depend on the batch it is in. Compared with the numpy path the arithmetic differs by
rounding only (Cholesky instead of LU, fused multiply-adds).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._kernels import _INLINE, _OPTS, _direct, _fkj_rows, _pose_error, _prepare

__all__ = ["attempts"]

# cfg layout (float64 array): what the solver passes as one argument
TOL_POS, TOL_ROT, BIAS, MU_MIN, NEAR_PI, MAX_ITER, PATIENCE = range(7)


@numba.njit(**_INLINE)
def _measure(q, p_t, R_t, G, P, w, cfg, direct, T, J, e, r, F, Zl, Ol, p, origin
             ):  # type: ignore[no-untyped-def]
    """Evaluate ``q`` ``(dof,)``: pose ``T``, weighted Jacobian ``J`` ``(6, dof)``, error
    ``e`` and weighted residual ``r`` ``(6,)`` (out). Returns ``(E, converged)``: ``E =
    ½ rᵀr`` and whether the tolerances are met on the kept axes (``w > 0``)."""
    _fkj_rows(q, G, P, origin, 0, T.reshape((1, 4, 4)), J.reshape((1, 6, J.shape[1])), 0, True, F,
         Zl, Ol, p, direct)
    _pose_error(T, p_t, R_t, cfg[NEAR_PI], e)
    for i in range(6):
        r[i] = e[i] * w[i]
        for c in range(J.shape[1]):
            J[i, c] = J[i, c] * w[i]
    E = 0.5 * (r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3] + r[4] * r[4]
               + r[5] * r[5])
    pos = 0.0
    for i in range(3):
        if w[i] > 0.0:
            pos = pos + e[i] * e[i]
    rot = 0.0
    for i in range(3, 6):
        if w[i] > 0.0:
            rot = rot + e[i] * e[i]
    return E, math.sqrt(pos) <= cfg[TOL_POS] and math.sqrt(rot) <= cfg[TOL_ROT]


@numba.njit(**_INLINE)
def _solve_normal(J, r, lam, free, A, g, dq):  # type: ignore[no-untyped-def]
    """``dq`` ``(dof,)`` (out) ``= (J_fᵀ J_f + λ I)⁻¹ J_fᵀ r`` with ``J_f`` the columns of
    ``J`` ``(6, dof)`` where ``free`` is True (the others are zero: their ``dq`` is 0).
    Cholesky ``A = L Lᵀ`` in place (``λ > 0``: positive definite), then two triangular
    solves; ``A`` ``(dof, dof)`` and ``g`` ``(dof,)`` are scratch."""
    n = J.shape[1]
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            if free[i] and free[j]:
                for k in range(6):
                    s += J[k, i] * J[k, j]
            A[i, j] = s
        A[i, i] += lam
        s = 0.0
        if free[i]:
            for k in range(6):
                s += J[k, i] * r[k]
        g[i] = s
    for j in range(n):
        s = A[j, j]
        for k in range(j):
            s -= A[j, k] * A[j, k]
        d = math.sqrt(s)
        A[j, j] = d
        for i in range(j + 1, n):
            s = A[i, j]
            for k in range(j):
                s -= A[i, k] * A[j, k]
            A[i, j] = s / d
    for i in range(n):           # L y = g
        s = g[i]
        for k in range(i):
            s -= A[i, k] * dq[k]
        dq[i] = s / A[i, i]
    for i in range(n - 1, -1, -1):   # Lᵀ dq = y
        s = dq[i]
        for k in range(i + 1, n):
            s -= A[k, i] * dq[k]
        dq[i] = s / A[i, i]


@numba.njit(**_INLINE)
def _candidate(q, J, r, lam, lo, hi, free, A, g, dq, qc):  # type: ignore[no-untyped-def]
    """Candidate ``qc`` (out) of the LM step from ``q``: joints at a limit that the step
    pushes further out are frozen and the step re-solved with the others; then clipped
    into ``[lo, hi]``."""
    n = q.shape[0]
    for i in range(n):
        free[i] = True
    _solve_normal(J, r, lam, free, A, g, dq)
    blocked = False
    for i in range(n):
        if (q[i] <= lo[i] and dq[i] < 0.0) or (q[i] >= hi[i] and dq[i] > 0.0):
            free[i] = False
            blocked = True
    if blocked:
        _solve_normal(J, r, lam, free, A, g, dq)
    for i in range(n):
        qc[i] = min(max(q[i] + dq[i], lo[i]), hi[i])


@numba.njit(**_INLINE)
def _scratch(nc, dof):  # type: ignore[no-untyped-def]
    """Scratch of one attempt on a chain of ``nc`` moving joints and ``dof`` joints."""
    return (np.empty((3, 4)), np.empty((nc, 3)), np.empty((nc, 3)), np.empty(3), np.zeros(3),
            np.empty((4, 4)), np.empty((dof, dof)), np.empty(dof), np.empty(dof),
            np.empty(dof, dtype=np.bool_), np.empty(dof), np.empty(dof), np.empty((6, dof)),
            np.empty((6, dof)), np.empty(6), np.empty(6), np.empty(6), np.empty(6),
            np.empty(3), np.empty((3, 3)))


@numba.njit(**_OPTS)   # one compiled copy, called by both kernels: the same bits in each
def _attempt(q, p_t, R_t, G, P, w, lo, hi, cfg, direct, S, e):  # type: ignore[no-untyped-def]
    """One attempt of one target, run to its end: from the seed ``q`` ``(dof,)`` (inside
    the limits; overwritten with the last accepted iterate), target ``p_t`` ``(3,)``,
    ``R_t`` ``(3, 3)``; ``e`` ``(6,)`` (out): its unweighted error. ``S``: :func:`_scratch`.
    Returns ``(E, evaluations, converged)``."""
    F, Zl, Ol, p, origin, T, A, g, dq, free, qa, qc, Ja, Jc, ea, ec, ra, rc, pt, Rt = S
    dof = q.shape[0]
    # inputs copied to scratch (no array views in the loop: each costs reference counts)
    for i in range(dof):
        qa[i] = q[i]
    for i in range(3):
        pt[i] = p_t[i]
        for j in range(3):
            Rt[i, j] = R_t[i, j]
    max_iter, patience = int(cfg[MAX_ITER]), int(cfg[PATIENCE])
    bias, mu_min = cfg[BIAS], cfg[MU_MIN]
    Ea, ok = _measure(qa, pt, Rt, G, P, w, cfg, direct, T, Ja, ea, ra, F, Zl, Ol, p, origin)
    mu, stall, k = mu_min, 0, 1
    while not (ok or stall >= patience or k >= max_iter):
        _candidate(qa, Ja, ra, mu * (Ea + bias), lo, hi, free, A, g, dq, qc)
        Ec, ok_c = _measure(qc, pt, Rt, G, P, w, cfg, direct, T, Jc, ec, rc, F, Zl, Ol, p,
                            origin)
        k += 1
        stall = 0 if Ec < 0.99 * Ea else stall + 1
        if Ec < Ea:
            qa, qc, Ja, Jc, ea, ec, ra, rc = qc, qa, Jc, Ja, ec, ea, rc, ra
            Ea, ok = Ec, ok_c
            mu = max(mu * 0.5, mu_min)
        else:
            mu = mu * 4.0
    for i in range(dof):
        q[i] = qa[i]
    for i in range(6):
        e[i] = ea[i]
    return Ea, k, ok


@numba.njit(**_OPTS)
def attempts(q, p_t, R_t, G, P, w, lo, hi, cfg, e, E, n, conv):  # type: ignore[no-untyped-def]
    """One LM attempt per row, each run to its end.

    Args (``N`` rows, ``dof`` joints):
        q: ``(N, dof)`` seeds inside the limits [rad or m]; overwritten with each attempt's
            last accepted iterate.
        p_t, R_t: ``(N, 3)`` target positions [m] and ``(N, 3, 3)`` rotations (base frame).
        G, P: the link's chain as :func:`kinematics._engine.pack` gives it.
        w: ``(6,)`` weights of the error axes ``[x, y, z, rx, ry, rz]`` (0: dropped).
        lo, hi: ``(dof,)`` joint limits.
        cfg: ``(7,)`` ``tol_pos`` [m], ``tol_rot`` [rad], ``damping_bias``, the floor of
            ``μ``, the log map's near-π threshold [rad], ``max_iter``, ``patience``.
        e, E, n, conv: out, per row: unweighted error ``(N, 6)`` and ``E`` ``(N,)`` at the
            returned ``q``, evaluations made ``(N,)`` (int64), converged ``(N,)`` (bool).
    """
    N, dof = q.shape
    direct = _direct(P, dof)
    S = _scratch(P.shape[0], dof)
    for b in range(N):
        E[b], n[b], conv[b] = _attempt(q[b], p_t[b], R_t[b], G, P, w, lo, hi, cfg, direct, S,
                                       e[b])


# columns of the restart slots' integer state
SEED, START, END, EVALS, STATE = range(5)   # STATE: 0 free, 1 ended unconverged, 2 converged
NEXT, CLOCK, DONE = range(3)                # columns of a target's integer state


@numba.njit(**_INLINE)
def _distance(q, q0, cont):  # type: ignore[no-untyped-def]
    """``‖q − q0‖₂``, continuous joints by their difference wrapped to ``(−π, π]`` (the
    solver's ``_distance``)."""
    acc = 0.0
    for i in range(q.shape[0]):
        d = q[i] - q0[i]
        if cont[i]:
            d = math.pi - np.mod(math.pi - d, 2.0 * math.pi)
        acc = acc + d * d
    return math.sqrt(acc)


@numba.njit(**_INLINE)
def _record(b, sl, sq, se, sE, bq, be, bE, found, bd, rank, iters, nearest, q0, cont
            ):  # type: ignore[no-untyped-def]
    """Record the ended attempt in slot ``sl`` (arrays of one target) in target ``b``'s
    outcome, with the rules of the solver's ``_Best``; frees the slot. Returns True when
    it decides the target (converged, without ``nearest``)."""
    iters[b] += sl[EVALS]
    state, seed = sl[STATE], sl[SEED]
    sl[STATE] = 0
    take = False
    if state == 2:
        if nearest:
            d = _distance(sq, q0[b], cont)
            take = (not found[b]) or d < bd[b] or (d == bd[b] and seed < rank[b])
            if take:
                bd[b], rank[b] = d, seed
        else:
            take = True
        if take:
            found[b] = True
    elif not found[b] and sE < bE[b]:
        take = True
        bE[b] = sE
    if take:
        for i in range(sq.shape[0]):
            bq[b, i] = sq[i]
        for i in range(6):
            be[b, i] = se[i]
    return state == 2 and not nearest


@numba.njit(**_OPTS)
def restarts(todo, p_t, R_t, G, P, w, lo, hi, cfg, seeds, nearest, q0, cont, budget, close,
             slots, slot_q, slot_e, slot_E, tg, bq, be, bE, found, bd, rank, iters
             ):  # type: ignore[no-untyped-def]
    """Continue the restarts of the targets ``todo`` ``(M,)`` (indices into the ``N``
    targets), each as the solver's lockstep driver would run them: up to ``W`` attempts
    side by side from the seeds ``(R, dof)`` in order, an ended attempt replaced at once by
    the next seed; simulated here on a clock of evaluations (an attempt started at clock
    ``t`` ends at ``t + evaluations − 1`` and is computed whole when it starts). Ended
    attempts are recorded in clock order, ties in seed order; without ``nearest`` the first
    converged one decides the target and the running ones are cut at that clock (their
    evaluations up to it are counted).

    State (in/out, row ``m`` for target ``todo[m]``): ``slots`` ``(M, W, 5)`` int64
    (seed, start, end, evaluations, state), ``slot_q`` ``(M, W, dof)``, ``slot_e``
    ``(M, W, 6)``, ``slot_E`` ``(M, W)``; ``tg`` ``(M, 3)`` int64: next seed, clock (the
    first attempt's evaluations at the start), done. Outcome (in/out, per target, the
    solver's ``_Best``): ``bq`` ``(N, dof)``, ``be`` ``(N, 6)``, ``bE``, ``found``,
    ``bd``, ``rank``, ``iters`` ``(N,)``. ``q0`` ``(N, dof)`` and ``cont`` ``(dof,)``:
    reference of ``nearest`` and the continuous joints.

    A call starts at most ``budget`` attempts per target, then returns (the caller reads
    the clock between calls); ``close``: start none, record every running attempt (whole)
    and mark the targets done.
    """
    M, W = slots.shape[0], slots.shape[1]
    R = seeds.shape[0]
    direct = _direct(P, seeds.shape[1])
    S = _scratch(P.shape[0], seeds.shape[1])
    for m in range(M):
        b = todo[m]
        if tg[m, DONE]:
            continue
        started = 0
        while True:
            live = 0
            for j in range(W):
                if slots[m, j, STATE] != 0:
                    live += 1
            if close:
                t_ev = np.iinfo(np.int64).max   # every running attempt ends now
            else:
                while live < W and tg[m, NEXT] < R and started < budget:
                    j = 0
                    while slots[m, j, STATE] != 0:
                        j += 1
                    s = tg[m, NEXT]
                    for i in range(seeds.shape[1]):
                        slot_q[m, j, i] = seeds[s, i]
                    E, k, ok = _attempt(slot_q[m, j], p_t[b], R_t[b], G, P, w, lo, hi, cfg,
                                        direct, S, slot_e[m, j])
                    c = tg[m, CLOCK]
                    slots[m, j, SEED], slots[m, j, START], slots[m, j, END] = s, c + 1, c + k
                    slots[m, j, EVALS], slots[m, j, STATE] = k, 2 if ok else 1
                    slot_E[m, j] = E
                    tg[m, NEXT] += 1
                    live += 1
                    started += 1
                if live < W and tg[m, NEXT] < R:
                    break   # budget spent: paused
                if live == 0:
                    tg[m, DONE] = 1
                    break
                t_ev = np.iinfo(np.int64).max
                for j in range(W):
                    if slots[m, j, STATE] != 0 and slots[m, j, END] < t_ev:
                        t_ev = slots[m, j, END]
                tg[m, CLOCK] = t_ev
            decided = False
            while not decided:   # the attempts ending at t_ev, in seed order
                jmin = -1
                for j in range(W):
                    if (slots[m, j, STATE] != 0 and slots[m, j, END] <= t_ev
                            and (jmin < 0 or slots[m, j, SEED] < slots[m, jmin, SEED])):
                        jmin = j
                if jmin < 0:
                    break
                decided = _record(b, slots[m, jmin], slot_q[m, jmin], slot_e[m, jmin],
                                  slot_E[m, jmin], bq, be, bE, found, bd, rank, iters,
                                  nearest, q0, cont)
            if decided:   # the others are cut at t_ev (close: counted whole)
                for j in range(W):
                    if slots[m, j, STATE] != 0:
                        iters[b] += (slots[m, j, EVALS] if close
                                     else t_ev - slots[m, j, START] + 1)
                        slots[m, j, STATE] = 0
            if decided or close:
                tg[m, DONE] = 1
                break


_prepare(globals())

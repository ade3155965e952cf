"""The Levenberg–Marquardt of :func:`kinematics.ik.solve`, compiled (numba): the library's
one implementation of it, for one link or several at once (a stacked task), one target or a
batch. Imported by the solver on first use, never at ``import kinematics``.

A *task* is one link placed at one target; ``K`` tasks share one ``q`` (``dof`` joints) and
stack their rows: the residual ``r = [w_1 ⊙ e_1; …; w_K ⊙ e_K]`` ``(6K,)`` and the weighted
Jacobian ``J`` ``(6K, dof)``. One *attempt* (module docstring of
:mod:`kinematics.ik.solver`, steps 1–4) runs from its seed to its end inside
:func:`_attempt`: pose and Jacobian of each link from the engine's chain walk
(:func:`kinematics._kernels.fkj_row`, mimic map inside), the pose error
(:func:`kinematics._kernels.pose_error`, log map with its near-π branch), the weighted
residual, the damped normal equations solved by a Cholesky factorisation written out (LAPACK
through numba costs ~10 µs a call on such small matrices), the frozen joints at a limit, the
clip into the limits, accept/reject and the damping update, then the end tests (every task
converged on its kept axes, ``patience``, ``max_iter``, the deadline).

The step ``δq = (J_fᵀ J_f + λ I)⁻¹ J_fᵀ r`` is solved in joint space (a ``dof × dof``
matrix) up to :data:`NORMAL_MAX` joints, and beyond in task space, ``δq = J_fᵀ (J_f J_fᵀ +
λ I)⁻¹ r`` (a ``6K × 6K`` matrix; the same step, to rounding): memory and time per
evaluation grow linearly with the chain, and no ``dof × dof`` array is ever allocated
beyond ``NORMAL_MAX × NORMAL_MAX``.

Every target runs the same code on its own scratch, so its result does not depend on the
batch it is in. :func:`first_attempts` runs every target's attempt from ``q0``;
:func:`restarts` the restarts of the targets that need them, up to :data:`WAVE` side by side
as a lockstep driver would run them, simulated on a clock of evaluations (an attempt started
at clock ``t`` ends at ``t + evaluations − 1``): the same attempt wins and the same
evaluations are counted as in lockstep (``tests/reference/ik_lm.py`` is that lockstep
driver, in numpy, the oracle of these kernels). Both end a target with :func:`_finish`.

``NUMBA_DISABLE_JIT=1`` runs this same source uncompiled (a debugging aid, slow).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numba
import numpy as np
from numpy.typing import NDArray

from .._kernels import INLINE, OPTS, fkj_row, pose_error, prepare

__all__ = ["Settings", "Tasks", "Outcome", "first_attempts", "restarts", "NORMAL_MAX", "WAVE"]

NORMAL_MAX = 64   # joints up to which the step's normal matrix is dof × dof
WAVE = 8          # restarts of one target run side by side, this many at a time
# columns of a restart slot's integer state; STATE: 0 free, 1 ended unconverged, 2 converged
SEED, START, END, EVALS, STATE = range(5)


class Settings(NamedTuple):
    """The constants of one solve, as the kernels read them."""

    tol_pos: float      # [m]
    tol_rot: float      # [rad]
    bias: float         # λ_bias of the damping λ = μ (E + λ_bias)
    mu_min: float       # floor of the damping multiplier μ
    near_pi: float      # angle [rad] above which the log map takes its near-π branch
    max_iter: int       # evaluations per attempt
    patience: int       # evaluations without a 1 % decrease of E that end an attempt
    restarts: int       # seeds after the first attempt
    nearest: bool       # run every restart; keep the converged q closest to q0
    deadline: float     # time.perf_counter() after which no evaluation starts; inf: none
    clock_every: int    # evaluations between two reads of the clock


class Tasks(NamedTuple):
    """The ``K`` links of one solve and the joints they share."""

    G: NDArray[np.float64]       # (Σ (n_k + 1), 4, 4) the chains as _engine.pack gives them
    P: NDArray[np.float64]       # (Σ n_k, 4), chain after chain
    span: NDArray[np.int64]      # (K, 3) first row in G, first row in P, n_k
    direct: NDArray[np.bool_]    # (K,) chain joint k is q[k] for every k, all dof joints
    w: NDArray[np.float64]       # (K, 6) weights of [x, y, z, rx, ry, rz] (0: dropped)
    reach: NDArray[np.float64]   # (K,) upper bound of ‖p_link‖ [m] over the joint ranges
    lo: NDArray[np.float64]      # (dof,) lower limits
    hi: NDArray[np.float64]      # (dof,) upper limits
    cont: NDArray[np.bool_]      # (dof,) continuous joints (wrapped to (−π, π] at the end)


class Outcome(NamedTuple):
    """Per target (``N`` of them): the best attempt so far, then the result."""

    q: NDArray[np.float64]       # (N, dof) the converged q, else the lowest-E one
    e: NDArray[np.float64]       # (N, 6K) unweighted error at q
    E: NDArray[np.float64]       # (N,) E of the best unconverged attempt (inf: none)
    found: NDArray[np.bool_]     # (N,) a converged attempt was found
    d: NDArray[np.float64]       # (N,) nearest: distance of the chosen q to q0
    rank: NDArray[np.int64]      # (N,) nearest: seed index of the chosen attempt (-1: q0)
    iters: NDArray[np.int64]     # (N,) evaluations over all attempts
    need: NDArray[np.bool_]      # (N,) restarts are to run
    pos: NDArray[np.float64]     # (N,) largest position error over the tasks [m]
    rot: NDArray[np.float64]     # (N,) largest rotation error over the tasks [rad]
    success: NDArray[np.bool_]   # (N,)


@numba.njit(cache=True)   # not nogil: the object-mode block holds the GIL
def _now():  # type: ignore[no-untyped-def]
    with numba.objmode(t="float64"):
        t = time.perf_counter()
    return t


@numba.njit(**INLINE)
def _out_of_time(st, tick):  # type: ignore[no-untyped-def]
    """Whether the deadline has passed (``tick`` ``(2,)`` int64: timed out, evaluations since
    the clock was last read); the clock is read every ``st.clock_every`` calls."""
    if tick[0] != 0:
        return True
    if math.isinf(st.deadline):
        return False
    tick[1] += 1
    if tick[1] < st.clock_every:
        return False
    tick[1] = 0
    if _now() > st.deadline:
        tick[0] = 1
        return True
    return False


@numba.njit(**OPTS)
def _scratch(tasks, dof):  # type: ignore[no-untyped-def]
    """Scratch of one attempt (see :func:`_attempt`)."""
    K = tasks.span.shape[0]
    m = 6 * K
    nmax = 1
    for k in range(K):
        nmax = max(nmax, tasks.span[k, 2])
    na = dof if dof <= NORMAL_MAX else m
    return (np.empty((3, 4)), np.empty((nmax, 3)), np.empty((nmax, 3)), np.empty(3),
            np.zeros(3), np.empty((K, 4, 4)), np.empty((na, na)), np.empty(max(na, dof)),
            np.empty(dof), np.empty(dof, dtype=np.bool_), np.empty(dof), np.empty(dof),
            np.empty((m, dof)), np.empty((m, dof)), np.empty(m), np.empty(m), np.empty(m),
            np.empty(m), np.empty(3), np.empty((3, 3)), np.empty(6))


@numba.njit(**INLINE)
def _measure(q, p_t, R_t, tasks, st, S, J, e, r):  # type: ignore[no-untyped-def]
    """Evaluate ``q`` ``(dof,)`` against the targets ``p_t`` ``(K, 3)``, ``R_t``
    ``(K, 3, 3)``: weighted Jacobian ``J`` ``(6K, dof)``, error ``e`` and weighted residual
    ``r`` ``(6K,)`` (out). Returns ``(E, converged)``: ``E = ½ rᵀr`` and whether every task
    meets the tolerances on its kept axes (``w > 0``)."""
    F, Zl, Ol, p, origin, T = S[0], S[1], S[2], S[3], S[4], S[5]   # T: (K, 4, 4)
    pt, Rt, e6 = S[18], S[19], S[20]
    K, dof = tasks.span.shape[0], q.shape[0]
    w = tasks.w
    E, ok = 0.0, True
    for k in range(K):
        g0, p0, n = tasks.span[k, 0], tasks.span[k, 1], tasks.span[k, 2]
        for i in range(3):
            pt[i] = p_t[k, i]
            for j in range(3):
                Rt[i, j] = R_t[k, i, j]
        fkj_row(q, tasks.G[g0:g0 + n + 1], tasks.P[p0:p0 + n], origin, 0, T,
                J.reshape((K, 6, dof)), k, True, F, Zl, Ol, p, tasks.direct[k])
        pose_error(T[k], pt, Rt, st.near_pi, e6)
        a = 6 * k
        for i in range(6):
            e[a + i] = e6[i]
            r[a + i] = e6[i] * w[k, i]
            for c in range(dof):
                J[a + i, c] = J[a + i, c] * w[k, i]
        Ek = 0.5 * (r[a] * r[a] + r[a + 1] * r[a + 1] + r[a + 2] * r[a + 2]
                    + r[a + 3] * r[a + 3] + r[a + 4] * r[a + 4] + r[a + 5] * r[a + 5])
        E = Ek if k == 0 else E + Ek
        pos, rot = _kept_norms(e, a, w[k])
        ok = ok and pos <= st.tol_pos and rot <= st.tol_rot
    return E, ok


@numba.njit(**INLINE)
def _kept_norms(e, a, w):  # type: ignore[no-untyped-def]
    """Norms of the position and rotation errors ``e[a:a + 6]`` over the kept axes."""
    pos = 0.0
    for i in range(3):
        if w[i] > 0.0:
            pos = pos + e[a + i] * e[a + i]
    rot = 0.0
    for i in range(3, 6):
        if w[i] > 0.0:
            rot = rot + e[a + i] * e[a + i]
    return math.sqrt(pos), math.sqrt(rot)


@numba.njit(**INLINE)
def _cholesky_solve(A, n, g, x):  # type: ignore[no-untyped-def]
    """``x`` ``(n,)`` (out) ``= A⁻¹ g`` for ``A`` ``(n, n)`` symmetric positive definite
    (lower triangle read): ``A = L Lᵀ`` in place, then two triangular solves."""
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
            s -= A[i, k] * x[k]
        x[i] = s / A[i, i]
    for i in range(n - 1, -1, -1):   # Lᵀ x = y
        s = x[i]
        for k in range(i + 1, n):
            s -= A[k, i] * x[k]
        x[i] = s / A[i, i]


@numba.njit(**INLINE)
def _solve_normal(J, r, lam, free, A, g, dq):  # type: ignore[no-untyped-def]
    """``dq`` ``(dof,)`` (out) ``= (J_fᵀ J_f + λ I)⁻¹ J_fᵀ r`` with ``J_f`` the columns of
    ``J`` ``(m, dof)`` where ``free`` is True (the others' ``dq`` is 0), in joint space up
    to :data:`NORMAL_MAX` joints (:func:`_solve_dual` beyond). ``A``, ``g``: scratch."""
    m, n = J.shape[0], J.shape[1]
    if n > NORMAL_MAX:
        _solve_dual(J, r, lam, free, A, g, dq)
        return
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            if free[i] and free[j]:
                for k in range(m):
                    s += J[k, i] * J[k, j]
            A[i, j] = s
        A[i, i] += lam
        s = 0.0
        if free[i]:
            for k in range(m):
                s += J[k, i] * r[k]
        g[i] = s
    _cholesky_solve(A, n, g, dq)


@numba.njit(**OPTS)   # not inlined: long chains only, where a call costs nothing
def _solve_dual(J, r, lam, free, A, g, dq):  # type: ignore[no-untyped-def]
    """:func:`_solve_normal` in task space: ``dq = J_fᵀ (J_f J_fᵀ + λ I)⁻¹ r``, ``A``
    ``(m, m)``: memory and time linear in ``dof``."""
    m, n = J.shape[0], J.shape[1]
    for a in range(m):
        for b in range(a + 1):
            s = 0.0
            for c in range(n):
                if free[c]:
                    s += J[a, c] * J[b, c]
            A[a, b] = s
        A[a, a] += lam
    _cholesky_solve(A, m, r, g)
    for c in range(n):
        s = 0.0
        if free[c]:
            for a in range(m):
                s += J[a, c] * g[a]
        dq[c] = s


@numba.njit(**INLINE)
def _candidate(q, J, r, lam, lo, hi, free, A, g, dq, qc):  # type: ignore[no-untyped-def]
    """Candidate ``qc`` (out) of the LM step from ``q``: joints at a limit that the step
    pushes further out are frozen and the step re-solved with the others; then clipped
    into ``[lo, hi]``. (One call site of :func:`_solve_normal`: one inlined copy.)"""
    n = q.shape[0]
    for i in range(n):
        free[i] = True
    for again in range(2):
        _solve_normal(J, r, lam, free, A, g, dq)
        blocked = False
        if again == 0:
            for i in range(n):
                if (q[i] <= lo[i] and dq[i] < 0.0) or (q[i] >= hi[i] and dq[i] > 0.0):
                    free[i] = False
                    blocked = True
        if not blocked:
            break
    for i in range(n):
        qc[i] = min(max(q[i] + dq[i], lo[i]), hi[i])


@numba.njit(**OPTS)   # one compiled copy, called by both kernels: the same bits in each
def _attempt(q, p_t, R_t, tasks, st, max_iter, S, e, tick):  # type: ignore[no-untyped-def]
    """One attempt of one target, run to its end: from the seed ``q`` ``(dof,)`` (inside
    the limits; overwritten with the last accepted iterate), targets ``p_t`` ``(K, 3)``,
    ``R_t`` ``(K, 3, 3)``; ``e`` ``(6K,)`` (out): its unweighted error. ``S``:
    :func:`_scratch`. Returns ``(E, evaluations, converged)``. (The seed is the first
    candidate, accepted unconditionally: one call site of :func:`_measure`.)"""
    A, g, dq, free, qa, qc, Ja, Jc, ea, ec, ra, rc = S[6:18]
    dof = q.shape[0]
    for i in range(dof):
        qc[i] = q[i]
    Ea, ok = math.inf, False
    mu, stall, k = st.mu_min, 0, 0
    while True:
        Ec, ok_c = _measure(qc, p_t, R_t, tasks, st, S, Jc, ec, rc)
        k += 1
        if k > 1:
            stall = 0 if Ec < 0.99 * Ea else stall + 1
        if k == 1 or Ec < Ea:
            qa, qc, Ja, Jc, ea, ec, ra, rc = qc, qa, Jc, Ja, ec, ea, rc, ra
            if k > 1:
                mu = max(mu * 0.5, st.mu_min)
            Ea, ok = Ec, ok_c
        else:
            mu = mu * 4.0
        if ok or stall >= st.patience or k >= max_iter or _out_of_time(st, tick):
            break
        _candidate(qa, Ja, ra, mu * (Ea + st.bias), tasks.lo, tasks.hi, free, A, g, dq, qc)
    for i in range(dof):
        q[i] = qa[i]
    for i in range(e.shape[0]):
        e[i] = ea[i]
    return Ea, k, ok


@numba.njit(**INLINE)
def _hopeless(p_t, tasks, st):  # type: ignore[no-untyped-def]
    """Whether some task's kept position components lie beyond its link's reach."""
    for k in range(p_t.shape[0]):
        acc, kept = 0.0, False
        for i in range(3):
            if tasks.w[k, i] > 0.0:
                acc = acc + p_t[k, i] * p_t[k, i]
                kept = True
        if kept and math.sqrt(acc) > tasks.reach[k] * (1 + 1e-9) + st.tol_pos:
            return True
    return False


@numba.njit(**INLINE)
def _distance(q, q0, cont):  # type: ignore[no-untyped-def]
    """``‖q − q0‖₂``, continuous joints by their difference wrapped to ``(−π, π]``."""
    acc = 0.0
    for i in range(q.shape[0]):
        d = q[i] - q0[i]
        if cont[i]:
            d = math.pi - np.mod(math.pi - d, 2.0 * math.pi)
        acc = acc + d * d
    return math.sqrt(acc)


@numba.njit(**OPTS)   # once per target: not inlined (each inlined copy costs compile time)
def _finish(b, p_t, R_t, tasks, st, S, out, tick):  # type: ignore[no-untyped-def]
    """Target ``b``'s result: continuous joints wrapped to ``(−π, π]`` (the error measured
    again when ``q`` moved: an attempt of one evaluation), then the largest kept norms over
    the tasks and success."""
    q, e = out.q[b], out.e[b]
    moved = False
    for i in range(q.shape[0]):
        if tasks.cont[i]:
            v = math.pi - np.mod(math.pi - q[i], 2.0 * math.pi)
            moved = moved or v != q[i]
            q[i] = v
    if moved:   # one evaluation (an int64, not the literal 1: that would compile anew)
        _attempt(q, p_t, R_t, tasks, st, min(st.max_iter, 1), S, e, tick)
    pos, rot = 0.0, 0.0
    for k in range(tasks.span.shape[0]):
        pk, rk = _kept_norms(e, 6 * k, tasks.w[k])
        pos, rot = max(pos, pk), max(rot, rk)
    out.pos[b], out.rot[b] = pos, rot
    out.success[b] = pos <= st.tol_pos and rot <= st.tol_rot


@numba.njit(**OPTS)
def first_attempts(q, p_t, R_t, tasks, st, q0, out, tick):  # type: ignore[no-untyped-def]
    """Every target's attempt from its first seed, each run to its end.

    Args (``N`` targets, ``K`` tasks, ``dof`` joints):
        q: ``(N, dof)`` first seeds inside the limits [rad or m] (overwritten).
        p_t, R_t: ``(N, K, 3)`` target positions [m] and ``(N, K, 3, 3)`` rotations (base
            frame).
        tasks, st: the fields of :class:`Tasks`, :class:`Settings` as plain tuples (numba
            types a named tuple argument on a slow path: ~7 µs a call).
        q0: ``(N, dof)`` reference of ``nearest``.
        out: the fields of :class:`Outcome` (out, every field set here): targets that need
            no restart (converged, hopeless, no seed, the time is out) are finished; the
            others have ``need`` set.
        tick: ``(2,)`` int64 clock state (zeros on entry; ``tick[0]``: time is out). Once
            the time is out the remaining targets get one evaluation (their seed's).
    """
    tasks, st, out = Tasks(*tasks), Settings(*st), Outcome(*out)
    N, dof = q.shape
    S = _scratch(tasks, dof)
    for b in range(N):
        max_iter = 1 if tick[0] != 0 else st.max_iter
        E, k, ok = _attempt(q[b], p_t[b], R_t[b], tasks, st, max_iter, S, out.e[b], tick)
        out.iters[b] = k
        for i in range(dof):
            out.q[b, i] = q[b, i]
        out.found[b], out.E[b], out.d[b], out.rank[b] = ok, math.inf, math.inf, -2
        if ok:
            if st.nearest:
                out.d[b], out.rank[b] = _distance(q[b], q0[b], tasks.cont), -1
        else:
            out.E[b] = E
        out.need[b] = (st.restarts > 0 and (st.nearest or not ok) and tick[0] == 0
                       and not _hopeless(p_t[b], tasks, st))
        if not out.need[b]:
            _finish(b, p_t[b], R_t[b], tasks, st, S, out, tick)


@numba.njit(**INLINE)
def _record(b, seed, state, evals, sq, se, sE, out, st, q0, cont):  # type: ignore[no-untyped-def]
    """Record an ended restart attempt of target ``b`` in ``out``: the first converged one
    (``nearest``: the one closest to ``q0``, ties to the lowest seed), else the lowest E.
    Returns True when it decides the target (converged, without ``nearest``)."""
    out.iters[b] += evals
    take = False
    if state == 2:
        if st.nearest:
            d = _distance(sq, q0[b], cont)
            take = (not out.found[b]) or d < out.d[b] or (d == out.d[b] and seed < out.rank[b])
            if take:
                out.d[b], out.rank[b] = d, seed
        else:
            take = True
        if take:
            out.found[b] = True
    elif not out.found[b] and sE < out.E[b]:
        take = True
        out.E[b] = sE
    if take:
        for i in range(sq.shape[0]):
            out.q[b, i] = sq[i]
        for i in range(se.shape[0]):
            out.e[b, i] = se[i]
    return state == 2 and not st.nearest


@numba.njit(**INLINE)
def _start_wave(b, p_t, R_t, tasks, st, seeds, S, W, tick):  # type: ignore[no-untyped-def]
    """Fill target ``b``'s free slots with attempts from its next seeds (each run whole
    when it starts); stops early when the time runs out."""
    slots, slot_q, slot_e, slot_E, state = W
    R = seeds.shape[0]
    live = 0
    for j in range(WAVE):
        if slots[j, STATE] != 0:
            live += 1
    while live < WAVE and state[0] < R and tick[0] == 0:
        j = 0
        while slots[j, STATE] != 0:
            j += 1
        s = state[0]
        for i in range(seeds.shape[1]):
            slot_q[j, i] = seeds[s, i]
        E, k, ok = _attempt(slot_q[j], p_t, R_t, tasks, st, st.max_iter, S, slot_e[j], tick)
        c = state[1]
        slots[j, SEED], slots[j, START], slots[j, END] = s, c + 1, c + k
        slots[j, EVALS], slots[j, STATE] = k, 2 if ok else 1
        slot_E[j] = E
        state[0] += 1
        live += 1
    return live


@numba.njit(**OPTS)
def _restart(b, p_t, R_t, tasks, st, seeds, q0, out, S, W, tick):  # type: ignore[no-untyped-def]
    """Target ``b``'s restarts, as a lockstep driver runs them: up to :data:`WAVE` attempts
    side by side from the seeds in order, an ended attempt replaced at once by the next
    seed; ended attempts recorded in clock order, ties in seed order. Without ``nearest``
    the first converged one decides and the running ones are cut at its clock (their
    evaluations up to it counted). Once the time is out no attempt starts and the running
    ones are recorded whole."""
    slots, slot_q, slot_e, slot_E, state = W
    for j in range(WAVE):
        slots[j, STATE] = 0
    state[0], state[1] = 0, out.iters[b]   # next seed; clock: the first attempt's evaluations
    big = np.iinfo(np.int64).max
    while True:
        live = _start_wave(b, p_t, R_t, tasks, st, seeds, S, W, tick)
        close = tick[0] != 0
        if live == 0:
            return
        t_ev = big
        if not close:
            for j in range(WAVE):
                if slots[j, STATE] != 0 and slots[j, END] < t_ev:
                    t_ev = slots[j, END]
            state[1] = t_ev
        decided = False
        while not decided:   # the attempts ending at t_ev, in seed order
            jm = -1
            for j in range(WAVE):
                if (slots[j, STATE] != 0 and slots[j, END] <= t_ev
                        and (jm < 0 or slots[j, SEED] < slots[jm, SEED])):
                    jm = j
            if jm < 0:
                break
            decided = _record(b, slots[jm, SEED], slots[jm, STATE], slots[jm, EVALS],
                              slot_q[jm], slot_e[jm], slot_E[jm], out, st, q0, tasks.cont)
            slots[jm, STATE] = 0
        if decided:   # the others are cut at t_ev (time out: counted whole)
            for j in range(WAVE):
                if slots[j, STATE] != 0:
                    out.iters[b] += (slots[j, EVALS] if close
                                     else t_ev - slots[j, START] + 1)
                    slots[j, STATE] = 0
        if decided or close:
            return


@numba.njit(**OPTS)
def restarts(todo, p_t, R_t, tasks, st, seeds, q0, out, tick):  # type: ignore[no-untyped-def]
    """The restarts of the targets ``todo`` ``(M,)`` (those with ``out.need``; arguments as
    in :func:`first_attempts`), from the seeds ``(restarts, dof)``, then their results."""
    tasks, st, out = Tasks(*tasks), Settings(*st), Outcome(*out)
    dof = seeds.shape[1]
    S = _scratch(tasks, dof)
    m = 6 * tasks.span.shape[0]
    W = (np.zeros((WAVE, 5), dtype=np.int64), np.empty((WAVE, dof)), np.empty((WAVE, m)),
         np.empty(WAVE), np.zeros(2, dtype=np.int64))
    for b in todo:
        _restart(b, p_t[b], R_t[b], tasks, st, seeds, q0, out, S, W, tick)
        _finish(b, p_t[b], R_t[b], tasks, st, S, out, tick)


prepare(globals())   # one compiled specialisation per kernel (kinematics._kernels)

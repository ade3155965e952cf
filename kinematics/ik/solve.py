"""Position IK: batched, bounded Levenberg–Marquardt with deterministic random restarts.

All targets iterate in lockstep on ``(N, ...)`` arrays; a target leaves the active set
when it converges or gives up, so later iterations only pay for the hard ones. One
iteration for the active rows ``a``:

1. ``e = [p_t − p; log(R_t Rᵀ)]`` (base axes), ``E = ½ eᵀ e``.
2. Step ``δq = (Jᵀ J + λ I)⁻¹ Jᵀ e`` with Sugihara's error-dependent damping
   ``λ = μ (E + λ_bias)`` (T. Sugihara, "Solvability-unconcerned inverse kinematics by the
   Levenberg–Marquardt method", IEEE T-RO 2011); ``μ`` grows ×4 on a rejected step and
   shrinks ×½ (down to 1) on an accepted one.
3. Candidate ``clip(q + δq, lower, upper)``: projection on the joint limits, so every
   iterate, and therefore the answer, is inside them.
4. Accept the candidate when it lowers ``E``. An attempt ends when the tolerances are met,
   after ``max_iter`` evaluations, or when ``E`` has not dropped by 1 % for ``patience``
   evaluations in a row (a local minimum, a limit, or an unreachable target).
5. Restarts: a target whose first attempt fails then runs 8 attempts side by side (rows of
   the same batched arrays), from the seeds of a fixed sequence
   ``robot.random_q(restarts, seed)``, each failed attempt replaced at once by the next
   seed; the first to converge wins. The sequence is the same for every target, so a
   target's result does not depend on the batch it is solved in. Targets farther from the
   base origin than ``robot.reach`` are not restarted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.linalg.lapack import dposv

from .. import _checks
from ..exceptions import ShapeError
from ..forward import fk
from ..jacobian import fk_jacobian
from ..robot import Robot
from ..spatial import pose_error, pose_error_one

__all__ = ["IKResult", "solve"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class IKResult:
    """Result of :func:`solve`; for a batch of targets every field has the batch shape.

    Attributes:
        q: ``(..., dof)`` joint values [rad or m], always inside ``robot.joint_limits``
            (read-only). When ``success`` is False: the best configuration found (lowest
            pose error).
        success: ``(...)`` True exactly when ``q`` meets both tolerances (errors recomputed
            with :func:`~kinematics.fk` at the returned ``q``). A ``bool`` for one target.
        pos_error: ``(...)`` ``‖p_target − p(q)‖`` [m] at the returned ``q``.
        rot_error: ``(...)`` angle of ``R_target R(q)ᵀ`` [rad] at the returned ``q``.
        iterations: ``(...)`` number of kinematics evaluations spent on the target, over
            all restarts.
    """

    q: Array
    success: Any
    pos_error: Any
    rot_error: Any
    iterations: Any


def default_seed(robot: Robot) -> Array:
    """``(dof,)`` middle of each joint's range (0 for continuous joints)."""
    lim = robot.joint_limits
    finite = np.isfinite(lim).all(axis=1)
    return np.where(finite, 0.5 * (np.where(finite, lim[:, 0], 0.0)
                                   + np.where(finite, lim[:, 1], 0.0)), 0.0)


def solve(
    robot: Robot,
    target_T: ArrayLike,
    q0: ArrayLike | None = None,
    *,
    seed: int = 0,
    tol_pos: float = 1e-6,
    tol_rot: float = 1e-6,
    max_iter: int = 60,
    restarts: int = 50,
    patience: int = 6,
    damping_bias: float = 1e-7,
    link: str | None = None,
) -> IKResult:
    """Joint values that put a link at a target pose, inside the joint limits.

    Bounded Levenberg–Marquardt (module docstring) on all targets at once, with random
    restarts for the ones that stall. Not converging is a result (``success=False``), never
    an exception.

    Args:
        robot: The model.
        target_T: ``(4, 4)`` or ``(..., 4, 4)`` target pose(s) ``T_base_link`` (base frame,
            m); a batch is solved together, vectorised.
        q0: ``(dof,)`` or ``(..., dof)`` (broadcast with the batch) first seed [rad or m];
            clipped into the limits. ``None``: the middle of the joint ranges.
        seed: Seed of the restart sequence ``robot.random_q(restarts, seed=seed,
            margin=0.02)``: results are deterministic given ``seed``.
        tol_pos: Position tolerance [m] on ``‖p_target − p‖``.
        tol_rot: Orientation tolerance [rad] on the angle of ``R_target Rᵀ``.
        max_iter: Evaluations per attempt (first seed or restart).
        restarts: Number of random restarts after the first attempt (0: none).
        patience: An attempt stops after this many evaluations in a row without a 1 %
            decrease of the squared error.
        damping_bias: ``λ_bias`` of the damping ``λ = μ (½‖e‖² + λ_bias)`` [m², rad²].
        link: Link to place (``None``: the tool frame), a name from ``robot.links``.

    Returns:
        :class:`IKResult`; fields have the batch shape of ``target_T`` (Python scalars for a
        single ``(4, 4)`` target, ``q`` of shape ``(dof,)``).

    Raises:
        ShapeError: ``target_T`` is not ``(..., 4, 4)``, or ``q0`` is not ``(..., dof)`` or
            does not broadcast with the batch.
        InvalidValueError: ``target_T`` is not a finite rigid transform, ``q0`` is not
            finite, or a tolerance/count is not positive.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> from kinematics import ik
    >>> arm = kin.load_robot("planar2r")                      # l1 = 1.0 m, l2 = 0.8 m
    >>> target = kin.fk(arm, [0.3, 1.2])
    >>> res = ik.solve(arm, target, q0=[0.0, 0.5])
    >>> res.success, np.round(res.q, 9)
    (True, array([0.3, 1.2]))
    >>> res = ik.solve(arm, kin.spatial.transform(p=[10.0, 0.0, 0.0]))   # 10 m away
    >>> res.success, round(res.pos_error, 6)                  # the closest reach, 8.2 m
    (False, 8.2)
    """
    Tt = _checks.pose(target_T, "target_T")
    robot.chain(link)
    tol_pos = _checks.positive(tol_pos, "tol_pos")
    tol_rot = _checks.positive(tol_rot, "tol_rot")
    max_iter = _checks.integer(max_iter, "max_iter", 1)
    restarts = _checks.integer(restarts, "restarts", 0)
    patience = _checks.integer(patience, "patience", 1)
    bias = _checks.nonnegative(damping_bias, "damping_bias")
    seed = _checks.integer(seed, "seed", 0)
    batch = Tt.shape[:-2]
    dof = robot.dof
    if q0 is None:
        q_start = np.broadcast_to(default_seed(robot), batch + (dof,))
    else:
        qa = robot.check_q(q0, "q0")
        try:
            q_start = np.broadcast_to(qa, batch + (dof,))
        except ValueError:
            raise ShapeError("q0", f"(dof,) or broadcastable to {batch + (dof,)}",
                             qa.shape) from None
    N = int(np.prod(batch, dtype=int))
    lo, hi = robot.joint_limits[:, 0], robot.joint_limits[:, 1]
    seeds = _Seeds(robot, restarts, seed)
    q, iters = _solve_flat(robot, link, Tt.reshape(N, 4, 4), q_start.reshape(N, dof),
                           seeds, lo, hi, tol_pos, tol_rot, max_iter, patience, bias)
    # Honest verdict: recompute the error at the returned q with fk.
    e = pose_error(fk(robot, q, link), Tt.reshape(N, 4, 4))
    pos = np.sqrt(np.einsum("ij,ij->i", e[:, :3], e[:, :3]))
    rot = np.sqrt(np.einsum("ij,ij->i", e[:, 3:], e[:, 3:]))
    inside = np.all((q >= lo) & (q <= hi), axis=1)
    ok = (pos <= tol_pos) & (rot <= tol_rot) & inside
    q = q.reshape(batch + (dof,))
    q.setflags(write=False)
    if batch == ():
        return IKResult(q, bool(ok[0]), float(pos[0]), float(rot[0]), int(iters[0]))
    fields = [ok.reshape(batch), pos.reshape(batch), rot.reshape(batch), iters.reshape(batch)]
    for f in fields:
        f.setflags(write=False)
    return IKResult(q, *fields)


class _Seeds:
    """``robot.random_q(restarts, seed=seed, margin=0.02)``, drawn on first use."""

    def __init__(self, robot: Robot, restarts: int, seed: int) -> None:
        self.robot, self.restarts, self.seed = robot, restarts, seed
        self._q: Array | None = None

    def __len__(self) -> int:
        return self.restarts

    def __getitem__(self, index: NDArray[Any]) -> Array:
        if self._q is None:
            self._q = self.robot.random_q(self.restarts, seed=self.seed, margin=0.02)
        return self._q[index]


def _solve_flat(robot: Robot, link: str | None, Tt: Array, q_start: Array, seeds: _Seeds,
                lo: Array, hi: Array, tol_pos: float, tol_rot: float, max_iter: int,
                patience: int, bias: float) -> tuple[Array, NDArray[np.int64]]:
    """Batched LM over ``N`` targets; returns ``q`` ``(N, dof)`` and evaluations ``(N,)``.

    Work is organised in *rows* (one attempt of one target). The first row of a target
    starts from ``q_start``; once it ends unconverged the target keeps ``_WAVE`` attempts
    running side by side, an ended one replaced at once by the next seed of ``seeds``. A
    target is done at the first iteration one of its rows converges (the lowest seed index
    wins ties). A row's path depends only on its target and seed, so a target's result does
    not depend on the other targets of the batch.
    """
    N, dof = q_start.shape
    restarts = len(seeds)
    best_q = np.clip(q_start, lo, hi)
    best_E = np.full(N, np.inf)
    done = np.zeros(N, dtype=bool)
    iters = np.zeros(N, dtype=np.int64)
    next_seed = np.zeros(N, dtype=np.int64)
    hopeless = np.linalg.norm(Tt[:, :3, 3], axis=1) > robot.reach * (1 + 1e-9) + tol_pos
    tol2 = (tol_pos * tol_pos, tol_rot * tol_rot)

    if N == 1:  # one target: a lean scalar loop for the first attempt (most solves end here)
        q1, E1, conv, n = _attempt_one(robot, link, Tt[0], best_q[0], lo, hi, tol2,
                                       max_iter, patience, bias)
        best_q[0], best_E[0], iters[0] = q1, E1, n
        if conv or hopeless[0] or restarts == 0:
            return best_q, iters
        rows = _Rows.spawn(np.zeros(1, dtype=np.int64), np.array([min(_WAVE, restarts)]),
                           next_seed, seeds)
    else:
        rows = _Rows.start(best_q)
    eye = np.eye(dof)
    while rows.t.size:
        Tc, Jc = fk_jacobian(robot, rows.qc, link)
        ec = pose_error(Tc, Tt[rows.t])
        Ec = 0.5 * np.einsum("ij,ij->i", ec, ec)
        iters += np.bincount(rows.t, minlength=N)
        rows.n += 1
        accept = rows.fresh | (Ec < rows.E)
        progress = rows.fresh | (Ec < 0.99 * rows.E)
        rows.q[accept], rows.e[accept], rows.E[accept], rows.J[accept] = (
            rows.qc[accept], ec[accept], Ec[accept], Jc[accept])
        rows.mu = np.where(rows.fresh, _MU_MIN,
                           np.where(accept, np.maximum(rows.mu * 0.5, _MU_MIN), rows.mu * 4.0))
        rows.stall = np.where(progress, 0, rows.stall + 1)
        rows.fresh = np.zeros(rows.t.size, dtype=bool)
        e = rows.e
        conv = ((np.einsum("ij,ij->i", e[:, :3], e[:, :3]) <= tol2[0])
                & (np.einsum("ij,ij->i", e[:, 3:], e[:, 3:]) <= tol2[1]))
        ended = conv | (rows.stall >= patience) | (rows.n >= max_iter)
        if ended.any():
            # unconverged rows: keep the lowest error per target (sort by E, first per target)
            fail = np.flatnonzero(ended & ~conv)
            if fail.size:
                fail = fail[np.argsort(rows.E[fail], kind="stable")]
                t_f, first = np.unique(rows.t[fail], return_index=True)
                r = fail[first]
                better = rows.E[r] < best_E[t_f]
                best_q[t_f[better]], best_E[t_f[better]] = rows.q[r[better]], rows.E[r[better]]
            win = np.flatnonzero(conv)
            if win.size:
                win = win[np.lexsort((rows.seed[win], rows.t[win]))]
                t_w, first = np.unique(rows.t[win], return_index=True)
                best_q[t_w], best_E[t_w] = rows.q[win[first]], -1.0
                done[t_w] = True
            keep = ~ended & ~done[rows.t]
            # refill: every unfinished target keeps _WAVE attempts running while seeds last
            t_end = np.unique(rows.t[ended])
            t_end = t_end[~done[t_end]]
            rows = rows.take(keep)
            if t_end.size:
                live = np.bincount(rows.t, minlength=N)[t_end]
                count = np.where(hopeless[t_end], 0,
                                 np.minimum(_WAVE - live, restarts - next_seed[t_end]))
                done[t_end[(live == 0) & (count <= 0)]] = True
                if (count > 0).any():
                    rows = rows.join(_Rows.spawn(t_end[count > 0], count[count > 0],
                                                 next_seed, seeds))
        if not rows.t.size:
            break
        step = np.flatnonzero(~rows.fresh)
        if step.size:
            Js, es = rows.J[step], rows.e[step]
            lam = rows.mu[step] * (rows.E[step] + bias)
            A = np.swapaxes(Js, 1, 2) @ Js + lam[:, None, None] * eye
            g = np.einsum("nki,nk->ni", Js, es)
            dq = np.linalg.solve(A, g[..., None])[..., 0]
            qs = rows.q[step]
            # active set: joints at a limit that the step pushes further out are frozen and
            # the step is re-solved with the others (a better direction than clipping alone)
            blocked = ((qs <= lo) & (dq < 0)) | ((qs >= hi) & (dq > 0))
            rb = np.flatnonzero(blocked.any(axis=1))
            if rb.size:
                Jm = Js[rb] * ~blocked[rb, None, :]
                A = np.swapaxes(Jm, 1, 2) @ Jm + lam[rb, None, None] * eye
                g = np.einsum("nki,nk->ni", Jm, es[rb])
                dq[rb] = np.linalg.solve(A, g[..., None])[..., 0]
            rows.qc[step] = np.clip(qs + dq, lo, hi)
    return best_q, iters


_MU_MIN = 0.1  # floor of the damping multiplier μ
_WAVE = 8  # restarts of one target run side by side, this many at a time


@dataclass
class _Rows:
    """State of the running attempts (one row each), as parallel arrays."""

    t: NDArray[Any]       # (R,) target index
    seed: NDArray[Any]    # (R,) seed index (-1: q_start)
    q: NDArray[Any]       # (R, dof) accepted iterate
    qc: NDArray[Any]      # (R, dof) candidate to evaluate next
    e: NDArray[Any]       # (R, 6) error at q
    E: NDArray[Any]       # (R,) ½‖e‖²
    J: NDArray[Any]       # (R, 6, dof) Jacobian at q
    mu: NDArray[Any]      # (R,) damping multiplier
    stall: NDArray[Any]   # (R,) evaluations without progress
    n: NDArray[Any]       # (R,) evaluations in this attempt
    fresh: NDArray[Any]   # (R,) qc is a new seed (accept unconditionally)

    FIELDS = ("t", "seed", "q", "qc", "e", "E", "J", "mu", "stall", "n", "fresh")

    @classmethod
    def start(cls, q: Array) -> _Rows:
        N, dof = q.shape
        return cls._fresh(np.arange(N), np.full(N, -1), q.copy())

    @classmethod
    def spawn(cls, targets: NDArray[Any], count: NDArray[Any], next_seed: NDArray[Any],
              seeds: _Seeds) -> _Rows:
        """``count`` new attempts for each of ``targets`` with their next seeds; advances
        ``next_seed`` in place."""
        t = np.repeat(targets, count)
        offset = np.arange(t.size) - np.repeat(np.cumsum(count) - count, count)
        s = next_seed[t] + offset
        next_seed[targets] += count
        return cls._fresh(t, s, seeds[s])

    @classmethod
    def _fresh(cls, t: NDArray[Any], seed: NDArray[Any], q: Array) -> _Rows:
        R, dof = q.shape
        return cls(t=t, seed=seed, q=q, qc=q.copy(), e=np.zeros((R, 6)),
                   E=np.full(R, np.inf), J=np.zeros((R, 6, dof)), mu=np.full(R, _MU_MIN),
                   stall=np.zeros(R, dtype=np.int64), n=np.zeros(R, dtype=np.int64),
                   fresh=np.ones(R, dtype=bool))

    def take(self, keep: NDArray[np.bool_]) -> _Rows:
        return _Rows(**{k: getattr(self, k)[keep] for k in self.FIELDS})

    def join(self, other: _Rows) -> _Rows:
        return _Rows(**{k: np.concatenate([getattr(self, k), getattr(other, k)])
                        for k in self.FIELDS})


def _attempt_one(robot: Robot, link: str | None, Tt: Array, q: Array, lo: Array, hi: Array,
                 tol2: tuple[float, float], max_iter: int, patience: int,
                 bias: float) -> tuple[Array, float, bool, int]:
    """The first attempt of :func:`_solve_flat` for one target, with scalar bookkeeping.

    Same rules as the batched loop; returns ``(q, E, converged, evaluations)``.
    """
    dof = q.size
    eye = np.eye(dof)
    T, J = fk_jacobian(robot, q, link)
    e = pose_error_one(T, Tt)
    E = 0.5 * float(e @ e)
    mu, stall, n = _MU_MIN, 0, 1
    at_bound = bool(((q <= lo) | (q >= hi)).any())
    while True:
        if float(e[:3] @ e[:3]) <= tol2[0] and float(e[3:] @ e[3:]) <= tol2[1]:
            return q, E, True, n
        if stall >= patience or n >= max_iter:
            return q, E, False, n
        A = J.T @ J + (mu * (E + bias)) * eye
        _, dq, info = dposv(A, J.T @ e)
        if info:  # not positive definite in floating point (λ underflowed): least squares
            dq = np.linalg.lstsq(A, J.T @ e, rcond=None)[0]
        if at_bound:
            blocked = ((q <= lo) & (dq < 0)) | ((q >= hi) & (dq > 0))
            if blocked.any():
                Jm = J * ~blocked
                _, dq, info = dposv(Jm.T @ Jm + (mu * (E + bias)) * eye, Jm.T @ e)
        qc = q + dq
        qc = np.minimum(np.maximum(qc, lo), hi)
        Tc, Jc = fk_jacobian(robot, qc, link)
        ec = pose_error_one(Tc, Tt)
        Ec = 0.5 * float(ec @ ec)
        n += 1
        stall = 0 if Ec < 0.99 * E else stall + 1
        if Ec < E:
            q, J, e, E = qc, Jc, ec, Ec
            mu = max(mu * 0.5, _MU_MIN)
            at_bound = bool(((q <= lo) | (q >= hi)).any())
        else:
            mu *= 4.0

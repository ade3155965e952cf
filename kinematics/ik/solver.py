"""Position IK: batched, bounded Levenberg–Marquardt with deterministic random restarts.

All targets iterate in lockstep on ``(R, ...)`` arrays of *rows* (one row = one attempt of
one target); a row leaves when its attempt ends, so later iterations only pay for the hard
targets. One iteration of a row:

1. ``e = [p_t − p; log(R_t Rᵀ)]`` (base axes), weighted residual ``r = W e`` with
   ``W = diag(mask)``, ``E = ½ rᵀ r``.
2. Step ``δq = (J_Wᵀ J_W + λ I)⁻¹ J_Wᵀ r`` (``J_W = W J``) with Sugihara's error-dependent
   damping ``λ = μ (E + λ_bias)`` (T. Sugihara, "Solvability-unconcerned inverse
   kinematics by the Levenberg–Marquardt method", IEEE T-RO 2011); ``μ`` grows ×4 on a
   rejected step and shrinks ×½ (down to 0.1) on an accepted one. Joints at a limit that
   the step pushes further out are frozen and the step is re-solved with the others.
3. Candidate ``clip(q + δq, lower, upper)``: every iterate, and so the answer, is inside
   the limits.
4. Accept the candidate when it lowers ``E``. An attempt ends when the tolerances are met
   on the kept axes, after ``max_iter`` evaluations, or when ``E`` has not dropped by 1 %
   for ``patience`` evaluations in a row (a local minimum, a limit, an unreachable target).
5. Restarts: a target whose first attempt (from ``q0``) fails runs up to 8 attempts side by
   side, from the seeds of the fixed sequence ``robot.random_q(restarts, seed)``, each
   ended attempt replaced at once by the next seed; the first to converge wins (lowest
   seed index on a tie). With ``nearest=True`` every seed is run and the converged ``q``
   closest to ``q0`` wins. Targets whose kept position components lie beyond the link's
   reach (link offsets plus prismatic travel) are not restarted.

Two implementations of these rules, one per evaluation backend (:mod:`kinematics.accel`):

- **compiled** (numba, the default): every attempt runs whole, from its seed to its end,
  inside one kernel (:mod:`kinematics.ik._lm`: chain walk, pose error, Cholesky of the
  damped normal equations, all in registers and scratch), first attempts of the batch in
  one call. The restart waves are not stepped in lockstep but simulated on a clock of
  evaluations (an attempt started at clock ``t`` ends at ``t + evaluations − 1``): the
  same attempt wins and the same evaluations are counted as in lockstep.
- **numpy** (the oracle): the rows of all targets iterate in lockstep as described above,
  the step solved by LAPACK (``gesv``).

Batch invariance: a row's arithmetic depends only on its target and seed. Compiled: a
single target is a batch of one of the same kernels. Numpy: one target (``(4, 4)``) runs
its first attempt with scalar bookkeeping, and every array operation it makes is the
batched one on a batch of one; the only scalar arithmetic (pose error, ``E``, the
convergence test, the damping update, the blocked joints) is written operation for
operation like its array twin, and sums are added in a fixed order, never by a reduction
whose order could depend on the batch shape. A target's result is therefore bitwise the
same alone or in any batch (``tests/test_ik.py`` checks this on 200 targets per robot and
backend). Across the two backends the kinematics and the linear solve differ by rounding
(~1e-16); see :func:`solve` for what that leaves.
"""

from __future__ import annotations

import math
import operator
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from ..exceptions import InvalidValueError, ShapeError
from ..robot import Chain, Robot
from ..spatial import pose_error_one as spatial_error


def _find_gesv() -> Any:
    """The gufunc behind ``numpy.linalg.solve`` without its ~5 µs Python wrapper. It solves
    a stack matrix by matrix (LAPACK gesv), so a row's step is the same in any batch."""
    try:
        from numpy.linalg import _umath_linalg

        return _umath_linalg.solve
    except (ImportError, AttributeError):  # pragma: no cover - numpy layout changed
        return np.linalg.solve  # the same numbers, slower


_gesv = _find_gesv()

__all__ = ["IKResult", "solve", "default_seed"]

Array = NDArray[np.float64]

_MU_MIN = 0.1  # floor of the damping multiplier μ
_WAVE = 8  # restarts of one target run side by side, this many at a time
_NEAR_PI = math.pi - 1e-6  # rotation angles above this take the log map's eigenvector branch
_AXES = ("x", "y", "z", "rx", "ry", "rz")


@dataclass(frozen=True)
class IKResult:
    """Result of :func:`solve`; for a batch of targets every field has the batch shape.

    Attributes:
        q: ``(..., dof)`` joint values [rad or m], always inside ``robot.joint_limits``,
            continuous joints wrapped to ``(−π, π]`` (read-only). When ``success`` is False:
            the best configuration found (lowest weighted error ``E``).
        success: ``(...)`` True exactly when ``pos_error <= tol_pos`` and
            ``rot_error <= tol_rot``. A ``bool`` for one target.
        pos_error: ``(...)`` norm [m] of the position error ``p_target − p(q)`` over the
            kept position axes (all three without a mask), at the returned ``q``.
        rot_error: ``(...)`` norm [rad] of the rotation error ``log(R_target R(q)ᵀ)`` (base
            axes) over the kept rotation axes (the rotation angle without a mask).
        iterations: ``(...)`` number of kinematics evaluations spent on the target, over
            all attempts.
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
    mask: ArrayLike | None = None,
    max_time: float | None = None,
    nearest: bool = False,
) -> IKResult:
    """Joint values that put a link at a target pose, inside the joint limits.

    Bounded Levenberg–Marquardt (module docstring) on all targets at once, with random
    restarts for the ones that stall. Not converging is a result (``success=False``), never
    an exception.

    Args:
        robot: The model.
        target_T: ``(4, 4)`` or ``(..., 4, 4)`` target pose(s) ``T_base_link`` (base frame,
            m); a batch is solved together, vectorised. Or a mapping ``{link: (4, 4)}``:
            several links of one robot placed at once (e.g. both hands of a two-arm tree),
            one ``q``; see :func:`_solve_several` (``link`` and ``nearest`` do not apply;
            ``mask`` may then also be a mapping ``{link: (6,) weights}``).
        q0: ``(dof,)`` or ``(..., dof)`` (broadcast with the batch) first seed [rad or m];
            clipped into the limits. ``None``: the middle of the joint ranges.
        seed: Integer ``>= 0``, seed of the restart sequence ``robot.random_q(restarts,
            seed=seed, margin=0.02)``; the same for every target of the batch.
        tol_pos: Position tolerance [m] on ``pos_error``.
        tol_rot: Orientation tolerance [rad] on ``rot_error``.
        max_iter: Evaluations per attempt (first seed or restart).
        restarts: Number of random restarts after the first attempt (0: none).
        patience: An attempt stops after this many evaluations in a row without a 1 %
            decrease of ``E``.
        damping_bias: ``λ_bias > 0`` of the damping ``λ = μ (E + λ_bias)`` [m², rad²].
        link: Link to place (``None``: the tool frame), a name from ``robot.links``.
        mask: ``(6,)`` finite weights ``>= 0`` on the error axes ``[x, y, z, rx, ry, rz]``
            (base axes; the rotation axes are the components of ``log(R_target Rᵀ)``), or
            one number for all six; at least one must be ``> 0``. The weights scale the
            residual rows ``r = W e`` (and so ``E`` and the damping); a weight of 0 drops
            the axis. Success is judged on the kept axes only, without the weights:
            ``‖e_p‖`` over the kept position axes ``<= tol_pos`` and ``‖e_r‖`` over the
            kept rotation axes ``<= tol_rot`` (an empty group counts as met). E.g.
            ``[1, 1, 1, 0, 0, 0]``: position only (arms with fewer than 6 joints);
            ``[1, 1, 0, 0, 0, 0]``: a point in the x-y plane. ``None``: all six, weight 1.
        max_time: Wall-time budget [s] of the whole call, ``> 0``, or ``None`` (no limit).
            Once it has passed no new iteration (numpy backend) or attempt (compiled
            backend) starts: every target returns the best ``q`` found so far (``success``
            False unless it converged). At least the first evaluation of every target is
            made. The clock is read between iterations on the numpy backend; on the compiled
            one between kernel calls: first attempts of 64 targets per call (up to
            ``max_iter`` evaluations each), then calls that start up to 8 restart attempts
            of every target still restarting, so the overshoot can reach ``8 · max_iter``
            evaluations per such target (~0.3 ms on a 7-joint arm). Results are
            deterministic when the budget is not hit, and otherwise depend on the machine's
            speed.
        nearest: ``False``: a target's answer is its first converged attempt (the cheap
            default). ``True``: every target also runs all ``restarts`` restart attempts
            (cost: about ``restarts + 1`` attempts per target) and returns, among its
            converged attempts (the first one from ``q0`` included), the ``q`` closest to
            ``q0``: smallest ``‖q − q0‖₂`` [rad and m mixed], continuous joints measured by
            the wrapped difference in ``(−π, π]``; ties go to the earliest attempt (``q0``
            first, then seed order).

    Returns:
        :class:`IKResult`; fields have the batch shape of ``target_T`` (Python scalars for a
        single ``(4, 4)`` target, ``q`` of shape ``(dof,)``).

    Determinism and batch invariance: without a hit ``max_time``, results depend only on
    the arguments and the backend: a target's result is bitwise identical whether solved
    alone or in any batch, in any order. The compiled and numpy backends compute the
    kinematics with different rounding (~1e-16), which the iterations carry along: from the
    same arguments they give the same ``success`` and ``q`` within 1e-9 unless an attempt's
    path is chaotic enough to amplify that rounding into another solution (measured: none
    of 600 random reachable 6-D targets on the Panda, UR5 and iiwa14, largest difference
    1e-10; ``tests/test_ik.py`` checks those 600).

    Raises:
        ShapeError: ``target_T`` is not ``(..., 4, 4)``, ``q0`` is not ``(..., dof)`` or
            does not broadcast with the batch, ``mask`` is not ``(6,)``.
        InvalidValueError: ``target_T`` is not a finite rigid transform, ``q0`` is not
            finite, a tolerance, ``damping_bias`` or ``max_time`` is not a positive finite
            number, a count or ``seed`` is not an integer in range, ``mask`` has a
            negative or non-finite weight or only zeros, ``nearest`` is not a bool.
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
    >>> point = kin.spatial.transform(p=[0.5, 1.2, 0.7])      # z is out of the arm's plane
    >>> res = ik.solve(arm, point, mask=[1, 1, 0, 0, 0, 0])   # x, y only
    >>> res.success, np.round(kin.fk(arm, res.q)[:2, 3], 6)
    (True, array([0.5, 1.2]))
    """
    # ---- every argument is validated before any work
    _checks.robot(robot)
    if isinstance(target_T, Mapping):
        return _solve_several(robot, target_T, q0, seed=seed, tol_pos=tol_pos,
                              tol_rot=tol_rot, max_iter=max_iter, restarts=restarts,
                              patience=patience, damping_bias=damping_bias, mask=mask,
                              max_time=max_time)
    Tt = _checks.pose(target_T, "target_T")
    prep = _prepared(robot, link)
    tol_pos = _checks.positive(tol_pos, "tol_pos", " [m]")
    tol_rot = _checks.positive(tol_rot, "tol_rot", " [rad]")
    max_iter = _checks.integer(max_iter, "max_iter", 1)
    restarts = _checks.integer(restarts, "restarts", 0)
    patience = _checks.integer(patience, "patience", 1)
    if restarts > 1_000_000 or max_iter > 1_000_000 or patience > 1_000_000:
        raise InvalidValueError(f"restarts={restarts}, max_iter={max_iter}, "
                                f"patience={patience}; expected each <= 1,000,000")
    bias = _checks.positive(damping_bias, "damping_bias", " [m², rad²]")
    seed = _checks.integer(seed, "seed", 0)
    w = None if mask is None else _mask(mask)
    budget = None if max_time is None else _checks.positive(max_time, "max_time", " [s]")
    nearest = _flag(nearest, "nearest")
    batch = Tt.shape[:-2]
    dof = robot.dof
    if q0 is None:
        q_start = prep.mid
    else:
        q_start = np.minimum(np.maximum(robot.check_q(q0, "q0"), prep.lo), prep.hi)
    if q_start.shape[:-1] != batch:
        try:
            q_start = np.broadcast_to(q_start, batch + (dof,))
        except ValueError:
            raise ShapeError("q0", f"(dof,) or broadcastable to {batch + (dof,)}",
                             q_start.shape) from None

    kept = range(6) if w is None else np.flatnonzero(w > 0).tolist()
    P = _Problem(prep, w, tol_pos, tol_rot, max_iter, patience, bias,
                 None if budget is None else time.perf_counter() + budget, nearest,
                 q_start.reshape(-1, dof) if nearest else None,
                 tuple(i for i in kept if i < 3), tuple(i for i in kept if i >= 3),
                 None if w is None else w.tolist())
    seeds = _Seeds(robot, restarts, seed)
    N = math.prod(batch)
    lm = _compiled_lm()
    if lm is not None:
        flat = Tt.reshape(N, 4, 4)
        tgt = _Targets(np.ascontiguousarray(flat[:, :3, 3]),
                       np.ascontiguousarray(flat[:, :3, :3]))
        q, e, its = _solve_compiled(P, lm, tgt, q_start.reshape(N, dof), seeds)
        q, e = _finish(P, tgt, q, e)
        q = q.reshape(batch + (dof,))
        q.setflags(write=False)
        if N == 1:  # the scalar norms: the same bits as _kept_norms
            p1, r1 = _kept_norms_one(P, e[0].tolist())
            if batch == ():
                return IKResult(q, p1 <= tol_pos and r1 <= tol_rot, p1, r1, int(its[0]))
            pos, rot = np.array([p1]), np.array([r1])
        else:
            pos, rot = _kept_norms(P, e)
        ok = (pos <= tol_pos) & (rot <= tol_rot)
    elif N == 1:
        q, e1, iters = _solve_one(P, Tt.reshape(4, 4), q_start.reshape(1, dof), seeds,
                                  q0 is None)
        q, e1 = _finish_one(P, Tt.reshape(4, 4), q, e1)
        q = q.reshape(batch + (dof,))
        q.setflags(write=False)
        p1, r1 = _kept_norms_one(P, e1)
        ok1 = p1 <= tol_pos and r1 <= tol_rot
        if batch == ():
            return IKResult(q, ok1, p1, r1, iters)
        pos, rot, ok, its = np.array([p1]), np.array([r1]), np.array([ok1]), np.array([iters])
    else:
        flat = Tt.reshape(N, 4, 4)
        tgt = _Targets(np.ascontiguousarray(flat[:, :3, 3]),
                       np.ascontiguousarray(flat[:, :3, :3]))
        q, e, its = _solve_rows(P, tgt, q_start.reshape(N, dof), _hopeless(P, tgt.p), seeds)
        q, e = _finish(P, tgt, q, e)
        q = q.reshape(batch + (dof,))
        q.setflags(write=False)
        pos, rot = _kept_norms(P, e)
        ok = (pos <= tol_pos) & (rot <= tol_rot)
    fields = [ok.reshape(batch), pos.reshape(batch), rot.reshape(batch), its.reshape(batch)]
    for f in fields:
        f.setflags(write=False)
    return IKResult(q, *fields)


# ----------------------------------------------------------------------------- set-up


def _mask(value: ArrayLike) -> Array | None:
    """The validated mask weights ``(6,)``; ``None`` when they are all 1 (no weighting)."""
    w = _checks.weights6(value, "mask", "weights >= 0 on [x, y, z, rx, ry, rz]")
    if not (w > 0).any():
        raise InvalidValueError(f"mask={w.tolist()}; expected at least one weight > 0 on "
                                f"{list(_AXES)} (a weight of 0 drops an axis)")
    return None if (w == 1.0).all() else w


def _flag(value: object, name: str) -> bool:
    """A bool argument (``True``/``False``, numpy bools included; no truthy objects)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidValueError(f"{name}={_checks.show(value)}; expected True or False")
    return bool(value)


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Per robot and link: what every solve needs, computed once (see :func:`_prepared`)."""

    chain: Chain
    M: Array | None           # (n, dof) chain columns -> joint columns; None: identity
    lo: Array                 # (dof,) lower limits
    hi: Array                 # (dof,) upper limits
    mid: Array                # (dof,) default first seed
    continuous: NDArray[np.bool_] | None   # (dof,) continuous joints; None: there are none
    reach: float              # upper bound of ‖p_link‖ [m] over the joint ranges
    eye: Array                # (1, dof, dof) identity
    lo_row: Array             # (1, dof) lower limits (broadcasts faster than (dof,))
    hi_row: Array             # (1, dof) upper limits
    lo_list: list[float]
    hi_list: list[float]
    at_mid: dict[bool, tuple[Array, Array]]   # backend -> engine output at ``mid``


_PREPARED: weakref.WeakKeyDictionary[Robot, dict[str | None, _Prepared]] = (
    weakref.WeakKeyDictionary())


def _prepared(robot: Robot, link: str | None) -> _Prepared:
    """Cached :class:`_Prepared` of ``(robot, link)``; validates ``link``."""
    per = _PREPARED.get(robot)
    if per is None:
        per = _PREPARED.setdefault(robot, {})
    hit = per.get(link) if isinstance(link, (str, type(None))) else None
    if hit is not None:
        return hit
    chain = robot.chain(link)  # raises on an unknown link
    dof = robot.dof
    M = None
    if not (chain.simple and chain.n == dof):
        M = np.ascontiguousarray(_engine.to_dof(robot, chain, np.eye(chain.n)))
    lim = robot.joint_limits
    cont = np.array([t == "continuous" for t in robot.joint_types], dtype=bool)
    # ‖p‖ <= ‖T0 offset‖ + Σ ‖step offsets‖ + Σ prismatic travel (triangle inequality)
    travel = 0.0
    for k in np.flatnonzero(~chain.revolute):
        j = chain.q_index[k]
        travel += (abs(chain.multiplier[k]) * max(abs(lim[j, 0]), abs(lim[j, 1]))
                   + abs(chain.offset[k]))
    mid = default_seed(robot)
    mid.setflags(write=False)
    prep = _Prepared(chain, M, lim[:, 0].copy(), lim[:, 1].copy(), mid,
                     cont if cont.any() else None, chain.reach + travel, np.eye(dof)[None],
                     lim[None, :, 0].copy(), lim[None, :, 1].copy(), lim[:, 0].tolist(),
                     lim[:, 1].tolist(), {})
    per[link] = prep
    return prep


@dataclass(frozen=True, eq=False)
class _Problem:
    """The constants of one :func:`solve` call."""

    prep: _Prepared
    w: Array | None           # (6,) mask weights; None: all 1
    tol_pos: float
    tol_rot: float
    max_iter: int
    patience: int
    bias: float
    deadline: float | None    # time.perf_counter() value; None: no limit
    nearest: bool
    q0: Array | None          # (N, dof) first seeds, the reference of nearest
    kept_p: tuple[int, ...]   # error axes judged for position (0, 1, 2 without a mask)
    kept_r: tuple[int, ...]   # error axes judged for rotation (3, 4, 5 without a mask)
    w_list: list[float] | None   # w as floats (scalar path)

    def timed_out(self) -> bool:
        return self.deadline is not None and time.perf_counter() > self.deadline


@dataclass(frozen=True)
class _Targets:
    p: Array   # (N, 3) target positions
    R: Array   # (N, 3, 3) target rotations (C-contiguous: row slices keep their strides)


def _hopeless(P: _Problem, p: Array) -> NDArray[np.bool_]:
    """``(N,)`` targets whose kept position components are beyond the link's reach."""
    kp = list(P.kept_p)
    if not kp:
        return np.zeros(p.shape[0], dtype=bool)
    return np.sqrt(_sumsq(p[:, kp])) > P.prep.reach * (1 + 1e-9) + P.tol_pos


class _Seeds:
    """``robot.random_q(restarts, seed=seed, margin=0.02)``, drawn on first use."""

    def __init__(self, robot: Robot, restarts: int, seed: int) -> None:
        self.robot, self.restarts, self.seed = robot, restarts, seed
        self._q: Array | None = None

    def __len__(self) -> int:
        return self.restarts

    def __getitem__(self, index: NDArray[Any]) -> Array:
        return self.all()[index]

    def all(self) -> Array:
        """``(restarts, dof)`` every seed."""
        if self._q is None:
            self._q = self.robot.random_q(self.restarts, seed=self.seed, margin=0.02)
        return self._q


# ----------------------------------------------------------------------------- row arithmetic
# Every function here works row by row; _error_one, _measure_one and _kept_norms_one are the
# scalar twins of _errors / _weigh / _converged, written operation for operation alike so
# that one target gives the same bits alone (scalar path) as in a batch.


def _evaluate(P: _Problem, q: Array) -> tuple[Array, Array]:
    """Pose ``(R, 4, 4)`` and (mask-weighted) Jacobian ``(R, 6, dof)`` at ``q`` ``(R, dof)``."""
    chain = P.prep.chain
    T, J = _engine.pose_jacobian(chain, _engine.chain_theta(chain, q))
    return _weighted(P, T, J)


def _evaluate_mid(P: _Problem) -> tuple[Array, Array]:
    """:func:`_evaluate` at the default seed ``(1, dof)``, the engine's output cached per
    backend (the same bits as evaluating it)."""
    cache = P.prep.at_mid
    key = _engine.enabled()
    hit = cache.get(key)
    if hit is None:
        chain = P.prep.chain
        hit = _engine.pose_jacobian(chain, _engine.chain_theta(chain, P.prep.mid[None]))
        for a in hit:
            a.setflags(write=False)
        cache[key] = hit
    return _weighted(P, *hit)


def _weighted(P: _Problem, T: Array, J: Array) -> tuple[Array, Array]:
    """The engine's chain Jacobian mapped to the joints of ``q`` and weighted by the mask."""
    if P.prep.M is not None:
        J = J @ P.prep.M
    if P.w is not None:
        J = J * P.w[:, None]
    return T, J


def _errors(T: Array, p_t: Array, R_t: Array) -> Array:
    """Unweighted errors ``(R, 6)`` ``[p_t − p; log(R_t Rᵀ)]`` (base axes).

    The angle comes from ``math.atan2`` (libm) in both paths: numpy may use its own
    vectorised version, whose last bit can differ."""
    R = T.shape[0]
    Rc = T[:, None, :3, :3]
    Re = (R_t[:, :, None, 0] * Rc[..., 0] + R_t[:, :, None, 1] * Rc[..., 1]
          + R_t[:, :, None, 2] * Rc[..., 2]).reshape(R, 9)   # R_t Rᵀ, row-major
    e = np.empty((R, 6))
    e[:, :3] = p_t - T[:, :3, 3]
    v = Re[:, [7, 2, 3]] - Re[:, [5, 6, 1]]          # 2 sin θ · axis
    c2 = Re[:, 0] + Re[:, 4] + Re[:, 8] - 1.0          # 2 cos θ
    vv = v * v
    s = np.sqrt(vv[:, 0] + vv[:, 1] + vv[:, 2])        # 2 sin θ
    theta = np.array(list(map(math.atan2, s.tolist(), c2.tolist())))
    factor = np.full(R, 0.5)
    np.divide(theta, s, out=factor, where=s > 0.0)     # θ / (2 sin θ)
    e[:, 3:] = v * factor[:, None]
    for i in np.flatnonzero(theta > _NEAR_PI).tolist():
        e[i, 3:] = _log_near_pi(Re[i].tolist(), v[i].tolist(), float(theta[i]))
    return e


def _error_one(T: Array, p_t: list[float], R_t: list[float]) -> list[float]:
    """:func:`_errors` of one row (``T`` ``(1, 4, 4)``, ``R_t`` row-major), scalar."""
    t = T.ravel().tolist()
    a0, a1, a2, b0, b1, b2, c0, c1, c2 = R_t
    r00 = a0 * t[0] + a1 * t[1] + a2 * t[2]
    r01 = a0 * t[4] + a1 * t[5] + a2 * t[6]
    r02 = a0 * t[8] + a1 * t[9] + a2 * t[10]
    r10 = b0 * t[0] + b1 * t[1] + b2 * t[2]
    r11 = b0 * t[4] + b1 * t[5] + b2 * t[6]
    r12 = b0 * t[8] + b1 * t[9] + b2 * t[10]
    r20 = c0 * t[0] + c1 * t[1] + c2 * t[2]
    r21 = c0 * t[4] + c1 * t[5] + c2 * t[6]
    r22 = c0 * t[8] + c1 * t[9] + c2 * t[10]
    v0, v1, v2 = r21 - r12, r02 - r20, r10 - r01
    s = math.sqrt(v0 * v0 + v1 * v1 + v2 * v2)
    theta = math.atan2(s, r00 + r11 + r22 - 1.0)
    f = theta / s if s > 0.0 else 0.5
    e = [p_t[0] - t[3], p_t[1] - t[7], p_t[2] - t[11], v0 * f, v1 * f, v2 * f]
    if theta > _NEAR_PI:
        e[3:] = _log_near_pi([r00, r01, r02, r10, r11, r12, r20, r21, r22], [v0, v1, v2],
                             theta)
    return e


def _log_near_pi(r: list[float], v: list[float], theta: float) -> list[float]:
    """Rotation vector ``θ a`` of ``R`` (row-major ``r``) for ``θ`` near π, where the skew
    part ``v = 2 sin θ a`` is too small to give the axis: ``(R + Rᵀ)/2 + I =
    (1 + cos θ) I + (1 − cos θ) a aᵀ``, whose largest column is ``∝ a``; ``v`` gives the
    sign."""
    d = [r[0] + 1.0, r[4] + 1.0, r[8] + 1.0]
    k = d.index(max(d))
    col = [0.5 * (r[3 * i + k] + r[3 * k + i]) for i in range(3)]
    col[k] = d[k]
    n = math.sqrt(col[0] * col[0] + col[1] * col[1] + col[2] * col[2])
    a = [c / n for c in col]
    if a[0] * v[0] + a[1] * v[1] + a[2] * v[2] < 0.0:
        theta = -theta
    return [a[0] * theta, a[1] * theta, a[2] * theta]


def _weigh(P: _Problem, e: Array) -> tuple[Array, Array]:
    """Weighted residual ``(R, 6)`` and ``E = ½ rᵀr`` ``(R,)``."""
    r = e if P.w is None else e * P.w
    sq = r * r
    return r, 0.5 * (sq[:, 0] + sq[:, 1] + sq[:, 2] + sq[:, 3] + sq[:, 4] + sq[:, 5])


def _measure_one(P: _Problem, e: list[float]) -> tuple[list[float], float, bool]:
    """:func:`_weigh` and :func:`_converged` of one row, scalar: ``(r, E, converged)``."""
    r = e if P.w_list is None else [a * b for a, b in zip(e, P.w_list, strict=True)]
    E = 0.5 * (r[0] * r[0] + r[1] * r[1] + r[2] * r[2] + r[3] * r[3] + r[4] * r[4]
               + r[5] * r[5])
    pos, rot = _kept_norms_one(P, e)
    return r, E, pos <= P.tol_pos and rot <= P.tol_rot


def _kept_norms(P: _Problem, e: Array) -> tuple[Array, Array]:
    """Norms ``(R,)`` of the position and rotation errors over the kept axes."""
    return np.sqrt(_sumsq(e[:, list(P.kept_p)])), np.sqrt(_sumsq(e[:, list(P.kept_r)]))


def _converged(P: _Problem, e: Array) -> NDArray[np.bool_]:
    pos, rot = _kept_norms(P, e)
    return (pos <= P.tol_pos) & (rot <= P.tol_rot)


def _kept_norms_one(P: _Problem, e: list[float]) -> tuple[float, float]:
    """:func:`_kept_norms` of one row, scalar."""
    acc = 0.0
    for i in P.kept_p:
        acc = acc + e[i] * e[i]
    pos = math.sqrt(acc)
    acc = 0.0
    for i in P.kept_r:
        acc = acc + e[i] * e[i]
    return pos, math.sqrt(acc)


def _lm_step(P: _Problem, J: Array, r: Array, lam: Any) -> Array:
    """``δq = (Jᵀ J + λ I)⁻¹ Jᵀ r`` ``(R, dof)`` of every row (``lam``: a float or
    ``(R, 1, 1)``)."""
    Jt = J.transpose(0, 2, 1)
    A = Jt @ J
    A += lam * P.prep.eye
    return _gesv(A, Jt @ r[:, :, None])[:, :, 0]


def _step(P: _Problem, q: Array, J: Array, r: Array, lam: Array) -> Array:
    """Candidates ``(R, dof)``: the LM step of every row, where joints at a limit that the
    step pushes further out are frozen and the row's step re-solved with the others, then
    clipped into the limits."""
    lo, hi = P.prep.lo_row, P.prep.hi_row
    dq = _lm_step(P, J, r, lam)
    blocked = ((q <= lo) & (dq < 0)) | ((q >= hi) & (dq > 0))
    rb = np.flatnonzero(blocked.any(axis=1))
    if rb.size:
        dq[rb] = _lm_step(P, J[rb] * ~blocked[rb, None, :], r[rb], lam[rb])
    return np.minimum(np.maximum(q + dq, lo), hi)


def _distance(P: _Problem, q: Array, q0: Array) -> Array:
    """``‖q − q0‖₂`` ``(R,)``, continuous joints by their wrapped difference."""
    d = q - q0
    if P.prep.continuous is not None:
        d = np.where(P.prep.continuous, _wrap(d), d)
    return np.sqrt(_sumsq(d))


def _sumsq(X: Array) -> Array:
    """``(R,)`` sums of squares of the rows of ``X``, added column by column in order (the
    same bits for a row in any batch; a reduction's order may depend on the shape)."""
    acc = np.zeros(X.shape[0])
    for k in range(X.shape[1]):
        acc = acc + X[:, k] * X[:, k]
    return acc


def _wrap(a: Array) -> Array:
    """Angles wrapped to ``(−π, π]``."""
    return np.pi - np.mod(np.pi - a, 2.0 * np.pi)


# ----------------------------------------------------------------------------- drivers


@dataclass
class _Best:
    """Per-target outcome so far (arrays over the ``N`` targets)."""

    q: Array          # (N, dof) returned q: the converged one, else the lowest-E one
    e: Array          # (N, 6) unweighted error at q
    E: Array          # (N,) E of the best unconverged attempt (inf: none yet)
    found: NDArray[np.bool_]   # (N,) a converged attempt was found
    d: Array          # (N,) nearest: distance of the chosen converged q to q0
    rank: NDArray[np.int64]    # (N,) nearest: seed index of the chosen converged attempt
    iters: NDArray[np.int64]   # (N,)

    @classmethod
    def empty(cls, q: Array) -> _Best:
        N = q.shape[0]
        return cls(q.copy(), np.full((N, 6), np.inf), np.full(N, np.inf),
                   np.zeros(N, dtype=bool), np.full(N, np.inf), np.full(N, -2, dtype=np.int64),
                   np.zeros(N, dtype=np.int64))

    def failed(self, t: NDArray[Any], seed: NDArray[Any], q: Array, e: Array, E: Array
               ) -> None:
        """Record unconverged attempts ending now (lowest E per target; ties: seed order)."""
        order = np.lexsort((seed, E, t))
        t, first = np.unique(t[order], return_index=True)
        r = order[first]
        better = (E[r] < self.E[t]) & ~self.found[t]
        t, r = t[better], r[better]
        self.q[t], self.e[t], self.E[t] = q[r], e[r], E[r]

    def converged(self, P: _Problem, t: NDArray[Any], seed: NDArray[Any], q: Array, e: Array
                  ) -> None:
        """Record converged attempts ending now: the first (lowest seed) per target, or
        with ``nearest`` the one closest to ``q0`` (ties: lowest seed index)."""
        if P.nearest:
            d = _distance(P, q, cast("Array", P.q0)[t])  # q0 is set with nearest
            order = np.lexsort((seed, d, t))
            tt, first = np.unique(t[order], return_index=True)
            r = order[first]
            better = ~self.found[tt] | (d[r] < self.d[tt]) | (
                (d[r] == self.d[tt]) & (seed[r] < self.rank[tt]))
            tt, r = tt[better], r[better]
            self.d[tt], self.rank[tt] = d[r], seed[r]
        else:
            order = np.lexsort((seed, t))
            tt, first = np.unique(t[order], return_index=True)
            r = order[first]
        self.q[tt], self.e[tt] = q[r], e[r]
        self.found[tt] = True


def _solve_one(P: _Problem, T_t: Array, q: Array, seeds: _Seeds, from_mid: bool
               ) -> tuple[Array, list[float], int]:
    """One target ``T_t`` ``(4, 4)`` from ``q`` ``(1, dof)``: the first attempt with scalar
    bookkeeping, then (if needed) the batched restarts of :func:`_run`. Same rules and the
    same bits as a row of :func:`_solve_rows`. ``from_mid``: ``q`` is the default seed
    (its evaluation is cached). Returns ``q`` ``(1, dof)``, its unweighted error and the
    number of evaluations."""
    p_t, R_t = T_t[:3, 3].tolist(), T_t[:3, :3].ravel().tolist()
    lo, hi = P.prep.lo_list, P.prep.hi_list
    lo_row, hi_row = P.prep.lo_row, P.prep.hi_row
    patience, max_iter, bias, deadline = P.patience, P.max_iter, P.bias, P.deadline
    T, J = _evaluate_mid(P) if from_mid else _evaluate(P, q)
    e = _error_one(T, p_t, R_t)
    r, E, conv = _measure_one(P, e)
    mu, stall, n = _MU_MIN, 0, 1
    ql = q.ravel().tolist()
    at_bound = any(map(operator.le, ql, lo)) or any(map(operator.ge, ql, hi))
    while not (conv or stall >= patience or n >= max_iter
               or (deadline is not None and time.perf_counter() > deadline)):
        # _step of one row (blocked joints found with scalar comparisons: the same booleans)
        ra, lam = np.array([r]), mu * (E + bias)
        dq = _lm_step(P, J, ra, lam)
        if at_bound:
            blocked = [(a <= lo_a and d < 0.0) or (a >= hi_a and d > 0.0)
                       for a, d, lo_a, hi_a in zip(ql, dq.ravel().tolist(), lo, hi, strict=True)]
            if any(blocked):
                keep = np.array(blocked) == False  # noqa: E712 (~blocked, as in _step)
                dq = _lm_step(P, J * keep[None, None, :], ra, lam)
        qc = np.minimum(np.maximum(q + dq, lo_row), hi_row)
        T, Jc = _evaluate(P, qc)
        ec = _error_one(T, p_t, R_t)
        rc, Ec, conv_c = _measure_one(P, ec)
        n += 1
        stall = 0 if Ec < 0.99 * E else stall + 1
        if Ec < E:
            q, J, e, r, E, conv = qc, Jc, ec, rc, Ec, conv_c
            mu = max(mu * 0.5, _MU_MIN)
            ql = q.ravel().tolist()
            at_bound = any(map(operator.le, ql, lo)) or any(map(operator.ge, ql, hi))
        else:
            mu = mu * 4.0
    if conv and not P.nearest:
        return q, e, n
    acc = 0.0  # _hopeless, scalar
    for i in P.kept_p:
        acc = acc + p_t[i] * p_t[i]
    hopeless = bool(P.kept_p) and math.sqrt(acc) > P.prep.reach * (1 + 1e-9) + P.tol_pos
    best = _Best.empty(q)
    best.iters[0] = n
    ea = np.array([e])
    if conv:
        best.converged(P, np.zeros(1, dtype=np.int64), np.full(1, -1), q, ea)
    else:
        best.failed(np.zeros(1, dtype=np.int64), np.full(1, -1), q, ea, np.array([E]))
    if not (hopeless or len(seeds) == 0 or P.timed_out()):
        tgt = _Targets(np.array([p_t]), np.ascontiguousarray(T_t[None, :3, :3]))
        next_seed = np.zeros(1, dtype=np.int64)
        rows = _Rows.spawn(np.zeros(1, dtype=np.int64), np.array([min(_WAVE, len(seeds))]),
                           next_seed, seeds)
        _run(P, tgt, rows, best, next_seed, np.zeros(1, dtype=bool), seeds)
    return best.q, best.e[0].tolist(), int(best.iters[0])


def _solve_rows(P: _Problem, tgt: _Targets, q_start: Array, hopeless: NDArray[np.bool_],
                seeds: _Seeds) -> tuple[Array, Array, NDArray[np.int64]]:
    """``N`` targets: first attempts and restarts, all as rows of one batch."""
    N = q_start.shape[0]
    best = _Best.empty(q_start)
    _run(P, tgt, _Rows.start(q_start), best, np.zeros(N, dtype=np.int64), hopeless, seeds)
    return best.q, best.e, best.iters


def _run(P: _Problem, tgt: _Targets, rows: _Rows, best: _Best, next_seed: NDArray[np.int64],
         hopeless: NDArray[np.bool_], seeds: _Seeds) -> None:
    """Iterate the rows until every target is done; results go to ``best`` (in place).

    A target is done when one of its attempts converges (without ``nearest``), or when it
    has no running attempt and no seed left (or is hopeless). An ended attempt is replaced
    at once by the next seed while the target has fewer than :data:`_WAVE` running.
    """
    N = best.q.shape[0]
    restarts = len(seeds)
    done = np.zeros(N, dtype=bool)
    while rows.t.size:
        T, Jc = _evaluate(P, rows.qc)
        ec = _errors(T, tgt.p[rows.t], tgt.R[rows.t])
        rc, Ec = _weigh(P, ec)
        best.iters += np.bincount(rows.t, minlength=N)
        rows.n += 1
        fresh = rows.fresh
        accept = fresh | (Ec < rows.E)
        rows.stall = np.where(fresh | (Ec < 0.99 * rows.E), 0, rows.stall + 1)
        rows.mu = np.where(fresh, _MU_MIN,
                           np.where(accept, np.maximum(rows.mu * 0.5, _MU_MIN), rows.mu * 4.0))
        a = np.flatnonzero(accept)
        rows.q[a], rows.e[a], rows.r[a], rows.E[a], rows.J[a] = (
            rows.qc[a], ec[a], rc[a], Ec[a], Jc[a])
        rows.fresh = np.zeros(rows.t.size, dtype=bool)
        conv = _converged(P, rows.e)
        ended = conv | (rows.stall >= P.patience) | (rows.n >= P.max_iter)
        out_of_time = P.timed_out()
        if out_of_time:
            ended[:] = True
        if ended.any():
            fail = np.flatnonzero(ended & ~conv)
            if fail.size:
                best.failed(rows.t[fail], rows.seed[fail], rows.q[fail], rows.e[fail],
                            rows.E[fail])
            win = np.flatnonzero(conv & ended)
            if win.size:
                best.converged(P, rows.t[win], rows.seed[win], rows.q[win], rows.e[win])
                if not P.nearest:
                    done[rows.t[win]] = True
            t_end = np.unique(rows.t[ended])
            t_end = t_end[~done[t_end]]
            rows = rows.take(~ended & ~done[rows.t])
            if out_of_time:
                break
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
            lam = rows.mu[step] * (rows.E[step] + P.bias)
            rows.qc[step] = _step(P, rows.q[step], rows.J[step], rows.r[step],
                                  lam[:, None, None])


def _compiled_lm() -> Any:
    """The compiled attempt kernels (:mod:`kinematics.ik._lm`) when the compiled backend is
    in use, else ``None``; numba is imported only then."""
    if _engine.compiled_kernels() is None:
        return None
    from . import _lm

    return _lm


_ONES6 = np.ones(6)
_CHUNK_TIMED = 64  # targets per kernel call of first attempts when max_time is set


def _solve_compiled(P: _Problem, lm: Any, tgt: _Targets, q_start: Array, seeds: _Seeds
                    ) -> tuple[Array, Array, NDArray[np.int64]]:
    """``N`` targets on the compiled backend: every first attempt (from ``q_start``
    ``(N, dof)``) runs whole in the kernel :func:`kinematics.ik._lm.attempts`, then the
    targets that need restarts (not converged, or all with ``nearest``; not hopeless) run
    them in :func:`kinematics.ik._lm.restarts`, outcome kept in a :class:`_Best`.

    With ``max_time`` the first attempts run :data:`_CHUNK_TIMED` targets per kernel call
    and the clock is read between calls; the targets not started when the time is out get
    one evaluation (their seed); the restarts are started one wave per target and call.
    Returns ``q`` ``(N, dof)``, its unweighted error ``(N, 6)``
    and the evaluations per target ``(N,)``."""
    prep = P.prep
    G, Pk = _engine.pack(prep.chain)
    N, dof = q_start.shape
    q = np.array(q_start, dtype=np.float64, order="C")
    e, E = np.empty((N, 6)), np.empty(N)
    n, conv = np.empty(N, dtype=np.int64), np.empty(N, dtype=bool)
    w = _ONES6 if P.w is None else np.array(P.w, dtype=np.float64)
    cfg = np.array([P.tol_pos, P.tol_rot, P.bias, _MU_MIN, _NEAR_PI, P.max_iter, P.patience],
                   dtype=np.float64)
    step = N if P.deadline is None else _CHUNK_TIMED
    for a in range(0, N, step):
        b = min(a + step, N)
        if a and P.timed_out():
            cfg[lm.MAX_ITER] = 1.0  # the seed's evaluation only
        lm.attempts(q[a:b], tgt.p[a:b], tgt.R[a:b], G, Pk, w, prep.lo, prep.hi, cfg,
                    e[a:b], E[a:b], n[a:b], conv[a:b])
    again = ~conv if not P.nearest else np.ones(N, dtype=bool)
    if len(seeds) == 0 or not again.any() or P.timed_out():
        return q, e, n
    best = _Best.empty(q)
    best.iters[:] = n
    first = np.full(N, -1)
    t = np.arange(N)
    if conv.any():
        best.converged(P, t[conv], first[conv], q[conv], e[conv])
    if not conv.all():
        best.failed(t[~conv], first[~conv], q[~conv], e[~conv], E[~conv])
    todo = np.flatnonzero(again & ~_hopeless(P, tgt.p))
    if todo.size:
        M = todo.size
        slots = np.zeros((M, _WAVE, 5), dtype=np.int64)
        slot_q, slot_e = np.empty((M, _WAVE, dof)), np.empty((M, _WAVE, 6))
        slot_E = np.empty((M, _WAVE))
        tg = np.zeros((M, 3), dtype=np.int64)
        tg[:, lm.CLOCK] = n[todo]  # the first attempt's evaluations
        q0 = q if P.q0 is None else np.array(P.q0, dtype=np.float64, order="C")
        cont = np.zeros(dof, dtype=bool) if prep.continuous is None else prep.continuous
        args = (tgt.p, tgt.R, G, Pk, w, prep.lo, prep.hi, cfg, seeds.all(), P.nearest, q0,
                cont)
        state = (slots, slot_q, slot_e, slot_E, tg, best.q, best.e, best.E, best.found,
                 best.d, best.rank, best.iters)
        budget = 1 << 62 if P.deadline is None else _WAVE
        while True:
            lm.restarts(todo, *args, budget, False, *state)
            if tg[:, lm.DONE].all():
                break
            if P.timed_out():
                lm.restarts(todo, *args, 0, True, *state)
                break
    return best.q, best.e, best.iters


@dataclass
class _Rows:
    """State of the running attempts (one row each), as parallel arrays."""

    t: NDArray[Any]       # (R,) target index
    seed: NDArray[Any]    # (R,) seed index (-1: q0)
    q: NDArray[Any]       # (R, dof) accepted iterate
    qc: NDArray[Any]      # (R, dof) candidate to evaluate next
    e: NDArray[Any]       # (R, 6) unweighted error at q
    r: NDArray[Any]       # (R, 6) weighted residual at q
    E: NDArray[Any]       # (R,) ½‖r‖²
    J: NDArray[Any]       # (R, 6, dof) weighted Jacobian at q
    mu: NDArray[Any]      # (R,) damping multiplier
    stall: NDArray[Any]   # (R,) evaluations without progress
    n: NDArray[Any]       # (R,) evaluations in this attempt
    fresh: NDArray[Any]   # (R,) qc is a new seed (accept unconditionally)

    FIELDS = ("t", "seed", "q", "qc", "e", "r", "E", "J", "mu", "stall", "n", "fresh")

    @classmethod
    def start(cls, q: Array) -> _Rows:
        N = q.shape[0]
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
        return cls(t=t, seed=seed, q=q, qc=q.copy(), e=np.zeros((R, 6)), r=np.zeros((R, 6)),
                   E=np.full(R, np.inf), J=np.zeros((R, 6, dof)), mu=np.full(R, _MU_MIN),
                   stall=np.zeros(R, dtype=np.int64), n=np.zeros(R, dtype=np.int64),
                   fresh=np.ones(R, dtype=bool))

    def take(self, keep: NDArray[np.bool_]) -> _Rows:
        return _Rows(**{k: getattr(self, k)[keep] for k in self.FIELDS})

    def join(self, other: _Rows) -> _Rows:
        return _Rows(**{k: np.concatenate([getattr(self, k), getattr(other, k)])
                        for k in self.FIELDS})


def _finish_one(P: _Problem, T_t: Array, q: Array, e: list[float]
                ) -> tuple[Array, list[float]]:
    """:func:`_finish` of one target (``q`` ``(1, dof)``); returns a copy of ``q``."""
    if P.prep.continuous is None:
        return q.copy(), e
    qw = np.where(P.prep.continuous, _wrap(q), q)
    if (qw != q).any():
        T, _ = _evaluate(P, qw)
        e = _error_one(T, T_t[:3, 3].tolist(), T_t[:3, :3].ravel().tolist())
    return qw, e


def _finish(P: _Problem, tgt: _Targets, q: Array, e: Array) -> tuple[Array, Array]:
    """Wrap continuous joints to ``(−π, π]``; the error of a row whose ``q`` changed is
    evaluated again at the returned ``q``."""
    cont = P.prep.continuous
    if cont is not None:
        qw = np.where(cont, _wrap(q), q)
        moved = np.flatnonzero((qw != q).any(axis=1))
        q = qw
        if moved.size:
            T, _ = _evaluate(P, q[moved])
            e = e.copy()
            e[moved] = _errors(T, tgt.p[moved], tgt.R[moved])
    return q, e


# ----------------------------------------------------------------------- several links


def _solve_several(robot: Robot, targets: Mapping[Any, ArrayLike], q0: ArrayLike | None, *,
                   seed: int, tol_pos: float, tol_rot: float, max_iter: int, restarts: int,
                   patience: int, damping_bias: float, mask: Any,
                   max_time: float | None) -> IKResult:
    """Several links at their targets with one ``q``: bounded Levenberg–Marquardt on the
    stacked residual ``[w_1 ⊙ e_1; …; w_k ⊙ e_k]`` (each ``e_i`` the pose error of link
    ``i``, base axes) and the stacked Jacobian, same damping, projection and restart rules
    as the one-link solver (restarts run one after the other). Success: every link meets
    both tolerances on its kept axes; ``pos_error``/``rot_error`` are the largest over the
    links."""
    if not targets:
        raise InvalidValueError("target_T: an empty mapping; expected {link: (4, 4) pose}")
    links = list(targets)
    for link in links:
        robot.chain(link)  # raises on an unknown link (or None on a multi-tip robot)
    Tts = [_checks.pose(targets[k], f"target_T[{k!r}]", single=True) for k in links]
    tol_pos = _checks.positive(tol_pos, "tol_pos", " [m]")
    tol_rot = _checks.positive(tol_rot, "tol_rot", " [rad]")
    max_iter = _checks.integer(max_iter, "max_iter", 1)
    restarts = _checks.integer(restarts, "restarts", 0)
    patience = _checks.integer(patience, "patience", 1)
    bias = _checks.positive(damping_bias, "damping_bias", " [m², rad²]")
    seed = _checks.integer(seed, "seed", 0)
    deadline = None if max_time is None else (
        time.perf_counter() + _checks.positive(max_time, "max_time", " [s]"))
    if isinstance(mask, Mapping):
        unknown = [k for k in mask if k not in targets]
        if unknown:
            raise InvalidValueError(f"mask: links {unknown} have no target; expected keys "
                                    f"among {links}")
        W = np.array([np.ones(6) if mask.get(k) is None else _mask(mask[k]) for k in links])
    else:
        W = np.tile(np.ones(6) if mask is None else _mask(mask), (len(links), 1))
    lo, hi = robot.joint_limits[:, 0], robot.joint_limits[:, 1]
    start = default_seed(robot) if q0 is None else robot.check_q(q0, "q0")
    if start.shape != (robot.dof,):
        raise ShapeError("q0", f"({robot.dof},) one configuration", start.shape)
    eye = np.eye(robot.dof)
    kept_p, kept_r = W[:, :3] > 0, W[:, 3:] > 0

    def evaluate(q: Array) -> tuple[Array, Array, Array]:
        errs, rows = [], []
        for link, Tt, w in zip(links, Tts, W, strict=True):
            T, J = _fk_jacobian(robot, q, link)
            e = spatial_error(T, Tt)
            errs.append(e)
            rows.append(w[:, None] * J)
        e = np.stack(errs)
        return e, (W * e).ravel(), np.concatenate(rows)

    def norms(e: Array) -> tuple[float, float]:
        p = np.sqrt(np.sum(np.where(kept_p, e[:, :3], 0.0) ** 2, axis=1)).max()
        r = np.sqrt(np.sum(np.where(kept_r, e[:, 3:], 0.0) ** 2, axis=1)).max()
        return float(p), float(r)

    def attempt(q: Array) -> tuple[Array, Array, int]:
        q = np.clip(q, lo, hi)
        e, r, J = evaluate(q)
        E, mu, stall, n = 0.5 * float(r @ r), 0.1, 0, 1
        while n < max_iter and stall < patience:
            p_err, r_err = norms(e)
            if p_err <= tol_pos and r_err <= tol_rot:
                break
            if deadline is not None and time.perf_counter() > deadline:
                break
            dq = np.linalg.solve(J.T @ J + mu * (E + bias) * eye, J.T @ r)
            qc = np.clip(q + dq, lo, hi)
            ec, rc, Jc = evaluate(qc)
            Ec = 0.5 * float(rc @ rc)
            n += 1
            stall = 0 if Ec < 0.99 * E else stall + 1
            if Ec < E:
                q, e, r, J, E, mu = qc, ec, rc, Jc, Ec, max(mu * 0.5, 0.1)
            else:
                mu *= 4.0
        return q, e, n

    seeds = robot.random_q(restarts, seed=seed, margin=0.02) if restarts else np.zeros((0,))
    best_q, best_E, total = start, np.inf, 0
    for k in range(restarts + 1):
        q, e, n = attempt(start if k == 0 else seeds[k - 1])
        total += n
        p_err, r_err = norms(e)
        E = float(np.sum((W * e) ** 2))
        if E < best_E:
            best_q, best_E = q, E
        if (p_err <= tol_pos and r_err <= tol_rot) or (
                deadline is not None and time.perf_counter() > deadline):
            break
    cont = ~np.isfinite(lo)
    q = np.where(cont, _wrap(best_q), best_q) if cont.any() else best_q
    e, _, _ = evaluate(q)
    p_err, r_err = norms(e)
    q = np.array(q)
    q.setflags(write=False)
    return IKResult(q, bool(p_err <= tol_pos and r_err <= tol_rot), p_err, r_err, total)


def _fk_jacobian(robot: Robot, q: Array, link: Any) -> tuple[Array, Array]:
    chain = robot.chain(link)
    T, J = _engine.pose_jacobian(chain, _engine.chain_theta(chain, q))
    return T, _engine.to_dof(robot, chain, J)

"""Position IK: batched, bounded Levenberg–Marquardt with deterministic random restarts.

One *attempt* of one target, from a seed (the same rules for one link or several, whose
rows are stacked: ``e = [e_1; …; e_K]``, ``J = [J_1; …; J_K]``):

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
   on the kept axes (of every link), after ``max_iter`` evaluations, or when ``E`` has not
   dropped by 1 % for ``patience`` evaluations in a row (a local minimum, a limit, an
   unreachable target).
5. Restarts: a target whose first attempt (from ``q0``) fails runs up to 8 attempts side by
   side, from the seeds of the fixed sequence ``robot.random_q(restarts, seed)``, each
   ended attempt replaced at once by the next seed; the first to converge wins (lowest
   seed index on a tie). With ``nearest=True`` every seed is run and the converged ``q``
   closest to ``q0`` wins. Targets whose kept position components lie beyond the link's
   reach (link offsets plus prismatic travel) are not restarted.

One implementation: the compiled kernels of :mod:`kinematics.ik._lm` run every attempt
whole (chain walk, pose error, Cholesky of the damped normal equations, in registers and
scratch), first attempts of the batch in one call, then the restarts of the targets that
need them in another; this module validates, prepares the tasks and shapes the result.
``tests/reference/ik_lm.py`` keeps the rules above in numpy, rows of all targets in
lockstep, as the oracle the tests compare the kernels with.

Batch invariance: a target's arithmetic depends only on its target and seed (every target
runs the same kernel code on its own scratch; a single target is a batch of one), so its
result is bitwise the same alone or in any batch (``tests/test_ik.py`` checks this on 200
targets per robot).

Memory and time grow linearly with the chain: per target ``O(dof)`` (``O(restarts · dof)``
for the restart seeds, refused above 1 GiB with their size), and the step's normal matrix
is ``dof × dof`` only up to 64 joints (``6K × 6K`` beyond), so no ``dof × dof`` array is
allocated on long chains. ``max_time`` is checked inside the kernels, between evaluations.
"""

from __future__ import annotations

import functools
import math
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from ..exceptions import InvalidValueError, ShapeError
from ..robot import Chain, Robot
from .options import IKOptions, mask_weights

__all__ = ["IKResult", "IKOptions", "solve", "default_seed"]

Array = NDArray[np.float64]

_MU_MIN = 0.1  # floor of the damping multiplier μ
_NEAR_PI = math.pi - 1e-6  # rotation angles above this take the log map's eigenvector branch
_NORMAL_CAP = 2**30  # bytes the step's normal matrix may take
_ONES = np.ones((1, 6))
_ONES.setflags(write=False)


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
    target_T: ArrayLike | Mapping[Any, ArrayLike],
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
    mask: ArrayLike | Mapping[Any, ArrayLike] | None = None,
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
            m); a batch is solved together, vectorised. Or a mapping ``{link: (..., 4, 4)}``:
            several links of one robot placed at once with one ``q`` (e.g. both hands of a
            two-arm tree; batch shapes broadcast): the links' rows are stacked into one
            task, ``pos_error``/``rot_error`` are the largest over the links and success
            needs every link within both tolerances; ``link`` must then be ``None`` and
            ``mask`` may also be a mapping ``{link: (6,) weights}`` (links left out: all 1).
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
            Once it has passed no new evaluation starts: every target returns the best
            ``q`` found so far (``success`` False unless it converged). At least the first
            evaluation of every target is made. The clock is read inside the kernels,
            about every 20 µs of work (every evaluation on long chains), so the overshoot
            is about one evaluation. Results are deterministic when the budget is not hit,
            and otherwise depend on the machine's speed.
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
    the arguments: a target's result is bitwise identical whether solved alone or in any
    batch, in any order.

    Raises:
        ShapeError: ``target_T`` is not ``(..., 4, 4)``, ``q0`` is not ``(..., dof)`` or
            does not broadcast with the batch, ``mask`` is not ``(6,)``.
        InvalidValueError: ``target_T`` is not a finite rigid transform, ``q0`` is not
            finite, a tolerance, ``damping_bias`` or ``max_time`` is not a positive finite
            number, a count or ``seed`` is not an integer in range, ``mask`` has a
            negative or non-finite weight or only zeros, ``nearest`` is not a bool, a
            mapping of targets is empty or comes with ``link``; the restart seeds
            (``restarts × dof``) or the step's normal matrix would exceed 1 GiB (the size
            is given).
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
    start = time.perf_counter()
    _checks.robot(robot)
    opts = _options(seed, tol_pos, tol_rot, max_iter, restarts, patience, damping_bias,
                    max_time, nearest)
    opts.check_seeds(robot.dof)
    links, Tt, W = _targets(robot, target_T, link, mask)
    batch = Tt.shape[:-3]
    dof = robot.dof
    preps = [_prepared(robot, k) for k in links]
    base = preps[0]
    if q0 is None:
        q_start = base.mid
    else:
        q_start = np.minimum(np.maximum(robot.check_q(q0, "q0"), base.lo), base.hi)
    if q_start.shape[:-1] != batch:
        try:
            q_start = np.broadcast_to(q_start, batch + (dof,))
        except ValueError:
            raise ShapeError("q0", f"(dof,) or broadcastable to {batch + (dof,)}",
                             q_start.shape) from None
    N, K = math.prod(batch), len(links)
    tasks = _tasks(preps, W)
    flat = Tt.reshape(N, K, 4, 4)
    p_t = np.ascontiguousarray(flat[:, :, :3, 3])
    R_t = np.ascontiguousarray(flat[:, :, :3, :3])
    q = np.array(q_start.reshape(N, dof), dtype=np.float64, order="C")
    q_ref = q.copy() if opts.nearest else q
    deadline = math.inf if opts.max_time is None else start + opts.max_time
    st = _settings(opts, deadline, dof, K)
    out = _outcome(N, dof, K)
    tick = np.zeros(2, dtype=np.int64)
    lm = _kernels()
    t_first = time.perf_counter()
    flat_out = tuple(out)   # plain tuples: numba types named ones on a slow path
    lm.first_attempts(q, p_t, R_t, tasks, st, q_ref, flat_out, tick)
    if out.need.any():
        count = _seeds_needed(opts.restarts, deadline, t_first, int(out.iters.sum()), tick)
        seeds = robot.random_q(count, seed=opts.seed, margin=0.02)
        lm.restarts(np.flatnonzero(out.need), p_t, R_t, tasks, st, seeds, q_ref, flat_out,
                    tick)
    return _result(out, batch, dof)


def _seeds_needed(restarts: int, deadline: float, t_first: float, evaluations: int,
                  tick: NDArray[np.int64]) -> int:
    """How many of the restart seeds to draw: all of them without a deadline; none once it
    has passed (``tick[0]`` set); else no more than the remaining time could use with one
    evaluation per attempt at 4 × the first attempts' pace, plus 64. The seeds are a
    prefix of the fixed sequence (``random_q(k)`` is ``random_q(n)[:k]``), and drawing
    ``restarts × dof`` numbers could by itself outlast a short budget on a long chain."""
    if math.isinf(deadline):
        return restarts
    now = time.perf_counter()
    if now > deadline:
        tick[0] = 1
        return 0
    pace = (now - t_first) / max(evaluations, 1)
    return min(restarts, int(4.0 * (deadline - now) / max(pace, 1e-9)) + 64)


# ----------------------------------------------------------------------------- set-up


_OPTIONS: dict[tuple[Any, ...], IKOptions] = {}


def _options(*args: Any) -> IKOptions:
    """``IKOptions(*args)``, the validated object reused when the same arguments (same
    types and values) come again: validation costs ~5 µs, a sizable part of a solve."""
    try:
        key = tuple((type(a), a) for a in args)
        hit = _OPTIONS.get(key)
    except TypeError:   # an unhashable argument: IKOptions will say what is wrong
        return IKOptions(*args)
    if hit is None:
        hit = IKOptions(*args)
        if len(_OPTIONS) < 256:
            _OPTIONS[key] = hit
    return hit


def _targets(robot: Robot, target_T: Any, link: Any, mask: Any
             ) -> tuple[list[Any], Array, Array]:
    """The links, targets ``(..., K, 4, 4)`` and weights ``(K, 6)`` of the ``K`` tasks of
    a call: one link (``link``, ``target_T`` ``(..., 4, 4)``, ``mask`` ``(6,)``) or several
    (``target_T`` a mapping ``{link: (..., 4, 4)}``, ``mask`` one ``(6,)`` or a mapping
    ``{link: (6,)}``)."""
    if not isinstance(target_T, Mapping):
        Tt = _checks.pose(target_T, "target_T")
        robot.chain(link)  # raises on an unknown link
        return [link], Tt[..., None, :, :], _ONES if mask is None else mask_weights(mask)[None]
    if not target_T:
        raise InvalidValueError("target_T: an empty mapping; expected {link: (4, 4) pose}")
    if link is not None:
        raise InvalidValueError(f"link={_checks.show(link)} with a mapping of targets; "
                                "expected None (the mapping names the links)")
    links = list(target_T)
    for k in links:
        robot.chain(k)  # raises on an unknown link (or None on a multi-tip robot)
    Ts = [_checks.pose(target_T[k], f"target_T[{k!r}]") for k in links]
    try:
        batch: tuple[int, ...] = np.broadcast_shapes(*[T.shape[:-2] for T in Ts])
    except ValueError:
        raise ShapeError(f"target_T[{links[-1]!r}]", "(..., 4, 4) whose batch broadcasts "
                         f"with the other links' {[T.shape for T in Ts[:-1]]}",
                         Ts[-1].shape) from None
    Tt = np.stack([np.broadcast_to(T, batch + (4, 4)) for T in Ts], axis=-3)
    if isinstance(mask, Mapping):
        unknown = [k for k in mask if k not in target_T]
        if unknown:
            raise InvalidValueError(f"mask: links {unknown} have no target; expected keys "
                                    f"among {links}")
        W = np.array([mask_weights(mask.get(k)) for k in links])
    else:
        W = np.tile(mask_weights(mask), (len(links), 1))
    return links, Tt, W


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Per robot and link: what every solve needs, computed once (see :func:`_prepared`)."""

    chain: Chain
    G: Array                  # (n + 1, 4, 4) and
    P: Array                  # (n, 4): the chain as _engine.pack gives it
    direct: bool              # chain joint k is q[k] for every k, and all dof joints
    reach: float              # upper bound of ‖p_link‖ [m] over the joint ranges
    lo: Array                 # (dof,) lower limits
    hi: Array                 # (dof,) upper limits
    mid: Array                # (dof,) default first seed
    cont: NDArray[np.bool_]   # (dof,) continuous joints
    one: Any                  # the lm.Tasks of this link alone, unweighted
    flat: tuple[Any, ...]     # one as a plain tuple (what the kernels take)


_PREPARED: weakref.WeakKeyDictionary[Robot, dict[Any, _Prepared]] = (
    weakref.WeakKeyDictionary())


def _prepared(robot: Robot, link: Any) -> _Prepared:
    """Cached :class:`_Prepared` of ``(robot, link)`` (``link`` already validated)."""
    per = _PREPARED.get(robot)
    if per is None:
        per = _PREPARED.setdefault(robot, {})
    hit = per.get(link)
    if hit is not None:
        return hit
    chain = robot.chain(link)
    dof = robot.dof
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
    G, P = _engine.pack(chain)
    direct = bool(P.shape[0] == dof and (P[:, 1] == np.arange(dof)).all()
                  and (P[:, 2] == 1.0).all() and (P[:, 3] == 0.0).all())
    lo, hi = lim[:, 0].copy(), lim[:, 1].copy()
    reach = chain.reach + travel
    lm = _kernels()
    one = lm.Tasks(G, P, np.array([[0, 0, chain.n]], dtype=np.int64), np.array([direct]),
                   np.ones((1, 6)), np.array([reach]), lo, hi, cont)
    prep = _Prepared(chain, G, P, direct, reach, lo, hi, mid, cont, one, tuple(one))
    per[link] = prep
    return prep


def _tasks(preps: Sequence[_Prepared], W: Array) -> tuple[Any, ...]:
    """The :class:`~kinematics.ik._lm.Tasks` of the links ``preps`` with weights ``W``, as
    the plain tuple the kernels take."""
    if len(preps) == 1:
        if W is _ONES:
            return preps[0].flat
        return tuple(preps[0].one._replace(w=np.ascontiguousarray(W)))
    span = np.zeros((len(preps), 3), dtype=np.int64)
    g = p = 0
    for k, pr in enumerate(preps):
        span[k] = g, p, pr.chain.n
        g, p = g + pr.chain.n + 1, p + pr.chain.n
    return tuple(preps[0].one._replace(
        G=np.ascontiguousarray(np.concatenate([pr.G for pr in preps])),
        P=np.ascontiguousarray(np.concatenate([pr.P for pr in preps])).reshape(p, 4),
        span=span, direct=np.array([pr.direct for pr in preps]),
        w=np.ascontiguousarray(W), reach=np.array([pr.reach for pr in preps])))


def _check_normal(dof: int, K: int) -> None:
    """Refuse a step whose normal matrix would exceed :data:`_NORMAL_CAP`, with its size."""
    lm = _kernels()
    n = dof if dof <= lm.NORMAL_MAX else 6 * K
    if 8 * n * n > _NORMAL_CAP:
        raise InvalidValueError(
            f"target_T: {K} links stack {6 * K} error rows; the step's {n} × {n} normal "
            f"matrix needs {8 * n * n / 2**30:.1f} GiB, more than the "
            f"{_NORMAL_CAP / 2**30:.0f} GiB cap; expected fewer links per solve")


@functools.lru_cache(maxsize=64)
def _settings(opts: IKOptions, deadline: float, dof: int, K: int) -> Any:
    """The kernels' :class:`~kinematics.ik._lm.Settings` (a plain tuple); the clock is read
    about every 20 µs of work (a rough count of one evaluation's multiply-adds). Refuses a
    step whose normal matrix would exceed :data:`_NORMAL_CAP`."""
    _check_normal(dof, K)
    lm = _kernels()
    work = 6 * K * (dof + 6) + (dof**3 // 6 if dof <= lm.NORMAL_MAX else 36 * K * K * dof)
    return tuple(lm.Settings(opts.tol_pos, opts.tol_rot, opts.damping_bias, _MU_MIN,
                             _NEAR_PI, opts.max_iter, opts.patience, opts.restarts,
                             opts.nearest, deadline, max(1, 20_000 // work)))


def _outcome(N: int, dof: int, K: int) -> Any:
    """An :class:`~kinematics.ik._lm.Outcome` of ``N`` targets (uninitialised: the kernels
    set every field)."""
    return _kernels().Outcome(
        np.empty((N, dof)), np.empty((N, 6 * K)), np.empty(N), np.empty(N, dtype=bool),
        np.empty(N), np.empty(N, dtype=np.int64), np.empty(N, dtype=np.int64),
        np.empty(N, dtype=bool), np.empty(N), np.empty(N), np.empty(N, dtype=bool))


def _result(out: Any, batch: tuple[int, ...], dof: int) -> IKResult:
    """:class:`IKResult` of the kernels' outcome: the batch shape, read-only; Python
    scalars for one target."""
    q = out.q.reshape(batch + (dof,))
    q.setflags(write=False)
    if batch == ():
        return IKResult(q, bool(out.success[0]), float(out.pos[0]), float(out.rot[0]),
                        int(out.iters[0]))
    fields = [out.success, out.pos, out.rot, out.iters]
    for f in fields:
        f.setflags(write=False)
    return IKResult(q, *(f.reshape(batch) for f in fields))


_LM: Any = None


def _kernels() -> Any:
    """:mod:`kinematics.ik._lm` (numba is imported on first use, not at import; the
    engine's kernels first, which sets numba's cache folder)."""
    global _LM
    if _LM is None:
        _engine.compiled_kernels()
        from . import _lm

        _LM = _lm
    return _LM

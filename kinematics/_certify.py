"""Certified distance to singularity, and singularity certificates for sampled trajectories.

**Guarantee.** :func:`certified_radius` returns ``r`` such that *no* configuration of the
box ``B(q, r) = {q′ : |q′_i − q_i| ≤ r s_i}`` (``s = 1``: the ∞-ball) is singular, i.e.
``σ_min(W J(q′)) > 0``. ``J`` is the base Jacobian of ``link`` restricted to ``rows``,
``W = diag(1/L on linear rows, 1 on angular rows)`` and ``σ_min`` the smallest of its
``min(m, dof)`` singular values (a 7-DoF arm: the 6th, loss of task rank). Since ``W`` is
invertible, *whether* ``W J`` is singular does not depend on ``L``; nor, with all six rows,
on the reference point ``c`` fixed to the link whose velocity the linear rows give
(``J_c = [[I, −[c − p]×], [0, I]] J_p``). Both only tune the proof, so ``metric="auto"``
takes the largest radius over a few ``L``, and every metric the largest over three points
(the link origin, the last joint's origin, the point of the last axis nearest the one
before it: with intersecting wrist axes, the wrist centre).

**Proof.** Weyl: ``|σ_k(A′) − σ_k(A)| ≤ ‖A′ − A‖₂ ≤ ‖A′ − A‖_F``. On the straight segment
``q → q′`` (inside the convex box) ``J(q′) − J(q) = ∫₀¹ Σ_i Δq_i ∂J/∂q_i dt``, so column
``l`` moves by at most ``r Σ_i s_i sup_B ‖W ∂J_l/∂q_i‖``. With chain joint ``j``'s unit axis
``z_j`` through ``o_j`` and ``a_j = z_j × (c − o_j)``, a revolute column is ``[a_j; z_j]``, a
prismatic one ``[z_j; 0]``; for revolute ``i``

    ∂a_j/∂θ_i = z_i × a_j (i ≤ j),  z_j × a_i (i > j);     ∂z_j/∂θ_i = z_i × z_j (i < j),

a prismatic ``i`` gives ``∂a_j/∂θ_i = z_j × z_i`` (``j < i``) and nothing else, and a
prismatic column moves by ``z_i × z_j`` (revolute ``i < j``). Over the box:

- ``|z_i × z_j| = sin∠(z_i, z_j) ≤ S_ij(r)``. Consecutive axes keep their angle ``α_k``
  (both are fixed in link ``k``), so ``sin∠ ≤ min(1, Σ_{k=i}^{j−1} α_k)`` (triangle
  inequality on the sphere); locally, joint ``k`` (``i < k < j``) turns ``z_j`` relative to
  ``z_i`` by at most ``|Δθ_k|`` and ``sin`` is 1-Lipschitz:
  ``S_ij(r) = min(that, |z_i × z_j|(q) + r Σ_{i<k<j revolute} s_k)``.
- ``|a_j|`` (distance of ``c`` from axis ``j``) is unchanged by joints ``≤ j`` and changes at
  rate ``|z_j × a_i| ≤ |a_i|`` (revolute ``i > j``) or ``≤ S_ji`` (prismatic), so moving one
  coordinate at a time, from the tip down, ``|a_j| ≤ A_j(r) = min(D_j, |a_j(q)| +
  r Σ_{i>j} s_i (A_i(r) or S_ji(r)))``. ``D_j = ρ_j + Σ_{k>j} ℓ_k`` with
  ``ρ_j = |z_j × (o_{j+1} − o_j)|`` and ``ℓ_k = ‖o_{k+1} − o_k‖`` (``o_{n+1} = c``), constant
  for revolute joints (``D_j = ∞`` when a prismatic joint follows ``j``).

So ``‖W ∂J_j/∂θ_i‖ ≤ b_ji``: ``√((w_v A_j)² + (w_ω S_ij)²)`` (``i < j``), ``w_v A_j``
(``i = j``), ``w_v A_i`` (``i > j``); ``w_v = 1/L``, ``w_ω = 1`` when ``rows`` has linear,
resp. angular, rows (else 0). The column bound is ``c_j(r) = Σ_i s_i b_ji(r)``; a mimic joint
(``θ_k = m_k q_l + const``) steps by ``|m_k| s_l r`` and adds ``|m_k| c_k`` to its leader's
column, and ``Lip(r) = ‖c(r)‖₂`` (Frobenius over columns: by Minkowski never worse than
``Σ_i ‖W ∂J/∂q_i‖_F``). For ``q′ ∈ B(q, r)``: ``σ_min(W J(q′)) ≥ σ_min(W J(q)) − r Lip(r)``.
**First joint**: when it is revolute, drives no mimic and rotations about its fixed axis
map the selected rows to themselves (e.g. all six), moving it multiplies ``J`` by
``diag(R, R)``: singular values do not change, so it is left out of the sums (the bound is
then on ``J̃ = diag(Rᵀ, Rᵀ) J``).

**Radius.** With ``σ = σ_min(W J(q)) − 64 u max(m, n) σ_max`` (rounding of the SVD) and
``Lip`` non-decreasing, ``r₀ = σ / Lip(0)`` is above the root of ``r Lip(r) = σ`` and
``r_{k+1} = σ / Lip(r_k)`` alternates around it; every odd iterate satisfies
``r Lip(r) ≤ r Lip(r_{k}) = σ`` and is returned (they increase monotonically).

**Trajectories.** :func:`certify_segments` classifies the straight joint-space segment
between consecutive samples: *certified* when the two boxes cover it
(``r_k + r_{k+1} ≥ ‖q_{k+1} − q_k‖∞``), *crossing* when ``W J`` is square and its
determinant has opposite signs at two non-singular samples (it is continuous along the
segment, so by the intermediate value theorem a singular configuration lies *on the
straight segment*; an interpolator that leaves it follows another path), *possible*
otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from ._rows import task_rows
from .exceptions import InvalidValueError, ShapeError, UnknownLinkError
from .forward import fk
from .jacobian import jacobian
from .robot import Robot

__all__ = ["certified_radius", "jacobian_lipschitz", "certify_segments",
           "SegmentCertificates", "STATUS_NAMES", "CERTIFIED", "CROSSING", "POSSIBLE"]

Array = NDArray[np.float64]
_EPS = float(np.finfo(float).eps)
_AUTO_LENGTHS = (1.0, 0.5, 0.25, 0.125)  # metric="auto": L = reach × these
_ITERATIONS = 4                          # lower iterates r_1, r_3, ..., r_7

#: Segment status codes of :class:`SegmentCertificates`, and their names.
CERTIFIED, CROSSING, POSSIBLE = 0, 1, 2
STATUS_NAMES: tuple[str, ...] = ("certified", "crossing", "possible")


# ---------------------------------------------------------------------------------------
# chain geometry


@dataclass(frozen=True)
class _Chain:
    """Moving joints base → ``link`` (``n`` of them, mimic joints included)."""

    children: tuple[str, ...]    # child link of each joint = its URDF joint frame
    axes: Array                  # (n, 3) unit axis in the joint frame
    revolute: NDArray[np.bool_]  # (n,)
    leader: NDArray[np.intp]     # (n,) index into q
    mult: Array                  # (n,) θ_k = mult_k q[leader_k] + offset_k


def _chain(robot: Robot, link: str | None) -> _Chain:
    if link is not None and _checks.name(link, "link") not in robot.links:
        raise UnknownLinkError(str(link), robot.links)
    by_child = {j.child: j for j in robot.model.joints}
    path, end = [], robot.tip_link if link is None else link
    while end != robot.base_link:
        path.append(by_child[end])
        end = path[-1].parent
    joints = [j for j in path[::-1] if j.type in ("revolute", "continuous", "prismatic")]
    index = {name: i for i, name in enumerate(robot.joint_names)}
    leader, mult = [], []
    for j in joints:
        lead, m, _ = robot.mimic[j.name] if j.name not in index else (j.name, 1.0, 0.0)
        leader.append(index[lead])
        mult.append(float(m))
    axes = np.array([j.axis for j in joints], dtype=float).reshape(-1, 3)
    axes /= np.maximum(np.linalg.norm(axes, axis=1, keepdims=True), 1e-300)
    return _Chain(tuple(j.child for j in joints), axes,
                  np.array([j.type != "prismatic" for j in joints], dtype=bool),
                  np.array(leader, dtype=np.intp), np.array(mult))


def _frames(robot: Robot, ch: _Chain, link: str | None, q: Array
            ) -> tuple[Array, Array, Array]:
    """Axes ``z``, origins ``o`` ``(N, n, 3)`` of the chain joints; link pose ``(N, 4, 4)``."""
    n = len(ch.children)
    z, o = np.zeros(q.shape[:-1] + (n, 3)), np.zeros(q.shape[:-1] + (n, 3))
    for k, child in enumerate(ch.children):
        T = fk(robot, q, child)
        z[..., k, :] = T[..., :3, :3] @ ch.axes[k]
        o[..., k, :] = T[..., :3, 3]
    return z, o, fk(robot, q, link)


def _rows_invariant(rows: NDArray[np.intp], axis: Array) -> bool:
    """Do rotations about ``axis`` map the selected rows' span (per 3-row block) to itself?"""
    K = np.cross(np.eye(3), axis)  # ±[axis]×
    for block in (rows[rows < 3], rows[rows >= 3] - 3):
        P = np.zeros((3, 3))
        P[block, block] = 1.0
        if np.abs((np.eye(3) - P) @ np.hstack([K @ P, K @ K @ P])).max() > 1e-12:
            return False
    return True


def _candidate_points(ch: _Chain, z: Array, o: Array, T: Array) -> list[Array]:
    """Reference points fixed to the link (link frame): its origin, the last joint's origin
    and the point of the last axis nearest the one before (e.g. a wrist centre)."""
    pts = [np.zeros(3)]
    n = len(ch.children)
    if n == 0 or not ch.revolute[-1]:
        return pts
    R, p = T[:3, :3], T[:3, 3]
    world = [o[-1]]
    if n >= 2 and ch.revolute[-2]:
        u, v, w0 = z[-1], z[-2], o[-1] - o[-2]
        b = float(u @ v)
        if 1.0 - b * b > 1e-9:
            world.append(o[-1] + u * (b * float(v @ w0) - float(u @ w0)) / (1.0 - b * b))
    for x in world:
        local = R.T @ (x - p)
        if min(np.linalg.norm(local - c) for c in pts) > 1e-9:
            pts.append(local)
    return pts


# ---------------------------------------------------------------------------------------
# the Lipschitz bound


class _Bound:
    """``Lip(r)`` for ``N`` problems (configuration, reference point, ``L``)."""

    def __init__(self, ch: _Chain, dof: int, z: Array, o: Array, c: Array, w_v: Array,
                 w_w: float, scale: Array, drop_first: bool):
        n = len(ch.children)
        rev = ch.revolute
        self.n, self.rev, self.w_v, self.w_w = n, rev, w_v, w_w
        self.s = np.abs(ch.mult) * scale[ch.leader]               # |Δθ_k| ≤ s_k r
        self.s_sum = self.s.copy()
        if drop_first and n:
            self.s_sum[0] = 0.0
        nxt = np.concatenate([o[:, 1:], c[:, None]], axis=1)     # o_{j+1}, o_{n+1} = c
        self.a0 = np.where(rev, np.linalg.norm(np.cross(z, c[:, None] - o), axis=-1), 0.0)
        ell = np.linalg.norm(nxt - o, axis=-1)
        rho = np.linalg.norm(np.cross(z, nxt - o), axis=-1)
        tail = np.cumsum(ell[:, ::-1], axis=1)[:, ::-1] - ell     # Σ_{k>j} ℓ_k
        prism_after = np.cumsum((~rev)[::-1])[::-1] - ~rev > 0
        self.D = np.where(prism_after | ~rev, np.inf, rho + tail)
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        alpha = np.arccos(np.clip(np.sum(z[0, :-1] * z[0, 1:], axis=-1), -1.0, 1.0))
        cum = np.concatenate([[0.0], np.cumsum(alpha)])           # constant: any row
        glob = np.minimum(1.0, np.abs(cum[j] - cum[i]))          # sin∠(z_i, z_j) ≤ this
        csr = np.concatenate([[0.0], np.cumsum(np.where(rev, self.s, 0.0))])
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        self.grow = np.where(hi > lo + 1, csr[hi] - csr[np.minimum(lo + 1, hi)], 0.0)
        local = np.linalg.norm(np.cross(z[:, :, None], z[:, None, :]), axis=-1)
        self.S0, self.Sg = np.minimum(local, glob), glob
        self.M = np.zeros((n, dof))
        self.M[np.arange(n), ch.leader] = np.abs(ch.mult)
        idx = np.arange(n)
        self.before = idx[None, :] < idx[:, None]                  # [j, i]: i < j
        self.after = idx[None, :] > idx[:, None]
        self.both_rev = rev[:, None] & rev[None, :]

    def __call__(self, r: Array) -> Array:
        """``Lip(r)`` ``(N,)`` for radii ``r`` ``(N,)``, finite and ≥ 0."""
        n, rev, s = self.n, self.rev, self.s
        with np.errstate(over="ignore"):
            S = np.minimum(self.Sg, self.S0 + r[:, None, None] * self.grow)
            A = np.zeros_like(self.a0)
            for j in range(n - 1, -1, -1):
                if rev[j]:
                    rate = np.where(rev[j + 1:], A[:, j + 1:], S[:, j, j + 1:]) @ s[j + 1:]
                    A[:, j] = np.minimum(self.D[:, j], self.a0[:, j] + r * rate)
        wv = self.w_v[:, None, None]
        Aj, Ai = wv * A[:, :, None], wv * A[:, None, :]
        b_rr = np.where(self.before, np.hypot(Aj, self.w_w * S),
                        np.where(self.after, Ai, Aj))
        b_one = np.where(rev[:, None], self.after, self.before) * (wv * S)  # one prismatic
        b = np.where(self.both_rev, b_rr, np.where(rev[:, None] ^ rev[None, :], b_one, 0.0))
        c = (b @ self.s_sum) @ self.M                              # (N, dof) columns
        return np.linalg.norm(c, axis=-1) * (1.0 + 1e-12)

    def radius(self, sigma: Array) -> Array:
        """Largest certified ``r`` ``(N,)`` for rounding-safe ``σ_min`` bounds ``sigma``."""
        ok = sigma > 0
        sig = np.where(ok, sigma, 0.0)
        big = 1e300
        lip = self(np.zeros_like(sig))
        upper = np.where(lip > 0, sig / np.where(lip > 0, lip, 1.0), big)
        lower = np.zeros_like(sig)
        for _ in range(_ITERATIONS):
            lip = self(np.minimum(upper, big))
            lower = np.where(lip > 0, sig / np.where(lip > 0, lip, 1.0), np.inf)
            lip = self(np.minimum(lower, big))
            upper = np.where(lip > 0, sig / np.where(lip > 0, lip, 1.0), big)
        return np.where(ok, lower, 0.0)


# ---------------------------------------------------------------------------------------
# argument checks


def _check_metric(robot: Robot, metric: str | float, auto: bool) -> tuple[float, ...]:
    if isinstance(metric, str):
        reach = robot.reach if robot.reach > 0 else 1.0  # 1 m for a chain of zero length
        if metric == "unit":
            return (reach,)
        if metric == "auto" and auto:
            return tuple(reach * f for f in _AUTO_LENGTHS)
        choices = "'unit', 'auto'" if auto else "'unit'"
        raise InvalidValueError(f"metric={metric!r}; expected {choices} or a positive "
                                "length L [m] that divides the linear rows")
    try:
        L = float(metric)
    except (TypeError, ValueError):
        L = math.nan
    if not (math.isfinite(L) and L > 0):
        raise InvalidValueError(f"metric={metric!r}; expected a positive finite length L "
                                "[m] or 'unit'")
    return (L,)


def _check_scale(robot: Robot, scale: ArrayLike | None) -> Array:
    if scale is None:
        return np.ones(robot.dof)
    try:
        s = np.asarray(scale, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValueError(f"scale: expected {robot.dof} positive numbers, "
                                f"got {scale!r}") from None
    if s.shape != (robot.dof,):
        raise ShapeError("scale", f"({robot.dof},) one positive value per joint", s.shape)
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        j = int(np.argmax(bad))
        raise InvalidValueError(f"scale[{j}] (joint {robot.joint_names[j]!r}) is {s[j]}; "
                                "expected positive finite values")
    return s


def _problems(robot: Robot, q: ArrayLike, metric: str | float, link: str | None,
              rows: ArrayLike | None, scale: ArrayLike | None, auto: bool,
              point: ArrayLike | None = None) -> tuple[_Bound, Array, tuple[int, ...], int]:
    """Bound and rounding-safe ``σ_min`` of every (point, L, configuration), stacked as
    ``K`` blocks of ``N`` rows; returns ``(bound, sigma, batch, K)``."""
    qa = robot.check_q(q)
    lengths = _check_metric(robot, metric, auto)
    sel = task_rows(robot, rows)
    s = _check_scale(robot, scale)
    ch = _chain(robot, link)
    batch = qa.shape[:-1]
    flat = qa.reshape(-1, robot.dof) if qa.size else np.zeros((1, robot.dof))  # empty: dummy
    z, o, T = _frames(robot, ch, link, flat)
    J = jacobian(robot, flat, link)
    if point is not None:
        pts = [np.asarray(point, dtype=float)]
        if pts[0].shape != (3,) or not np.isfinite(pts[0]).all():
            raise ShapeError("point", "(3,) finite, in the link frame [m]", pts[0].shape)
    elif auto and (sel.size == 6 or np.all(sel >= 3)):
        pts = _candidate_points(ch, z[0], o[0], T[0])
    else:
        pts = [np.zeros(3)]
    n = len(ch.children)
    drop = bool(n and ch.revolute[0] and np.sum(ch.leader == ch.leader[0]) == 1
                and _rows_invariant(sel, z[0, 0]))
    cs, sig, wv = [], [], []
    for c_local in pts:
        c = T[:, :3, 3] + T[:, :3, :3] @ c_local
        Jc = J.copy()
        Jc[:, :3] += np.cross(J[:, 3:], (c - T[:, :3, 3])[:, :, None], axis=1)
        for L in lengths:
            WJ = Jc[:, sel] * np.where(sel < 3, 1.0 / L, 1.0)[:, None]
            sv = np.linalg.svd(WJ, compute_uv=False)
            sig.append(sv[:, -1] - 64 * _EPS * max(WJ.shape[1:]) * sv[:, 0])
            cs.append(c)
            wv.append(np.full(flat.shape[0], 1.0 / L if np.any(sel < 3) else 0.0))
    K = len(sig)
    bound = _Bound(ch, robot.dof, np.tile(z, (K, 1, 1)), np.tile(o, (K, 1, 1)),
                   np.concatenate(cs), np.concatenate(wv), 1.0 if np.any(sel >= 3) else 0.0,
                   s, drop)
    return bound, np.concatenate(sig), batch, K


# ---------------------------------------------------------------------------------------
# public functions


def certified_radius(robot: Robot, q: ArrayLike, metric: str | float = "auto",
                     link: str | None = None, rows: ArrayLike | None = None,
                     scale: ArrayLike | None = None) -> Array:
    """Half width of a joint-space box around ``q`` that provably holds no singularity.

    No ``q′`` with ``|q′_i − q_i| ≤ r s_i`` for every joint (``s = 1``: ``‖q′ − q‖∞ ≤ r``)
    has ``σ_min(W J(q′)) = 0``, i.e. ``J[rows]`` keeps rank ``min(len(rows), dof)``; proof
    in the module docstring.

    Args:
        robot: The model (revolute, continuous and prismatic joints; a mimic joint steps
            with its leader times its multiplier).
        q: ``(..., dof)`` joint values [rad or m].
        metric: ``"auto"`` (default: the largest radius over ``L = robot.reach × {1, 1/2,
            1/4, 1/8}``), ``"unit"`` (``L = robot.reach``) or a length ``L`` [m]. With all
            six rows the best of three reference points fixed to the link is used too
            (module docstring). The certified property depends on neither; the radius does.
        link: Link whose Jacobian is certified (default: the tool frame).
        rows: Task rows of ``J`` (default :func:`kinematics.singularity.default_rows`,
            ``(0, 1)`` for the planar 2R arm).
        scale: ``(dof,)`` positive box half widths per unit ``r``; with
            ``scale=robot.velocity_limits`` the result is the time [s] during which no
            singularity is possible at the velocity limits.

    Returns:
        ``(...)`` ``r`` [rad, m for prismatic joints; s with velocity scales]: 0 where
        ``q`` is numerically singular, ``inf`` where ``W J`` cannot change.

    Raises:
        ShapeError, InvalidValueError: Bad ``q``, ``metric``, ``rows`` or ``scale``.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")                  # singular where sin q2 = 0
    >>> r = certified_radius(arm, [[0.3, 1.0], [0.3, 0.0]])
    >>> bool(0.1 < r[0] < 1.0), float(r[1])
    (True, 0.0)
    """
    _checks.robot(robot)
    _checks.moving(robot, "certified_radius")
    bound, sigma, batch, K = _problems(robot, q, metric, link, rows, scale, auto=True)
    if 0 in batch:
        return np.zeros(batch)
    return bound.radius(sigma).reshape((K, -1)).max(axis=0).reshape(batch)


def jacobian_lipschitz(robot: Robot, q: ArrayLike, radius: ArrayLike,
                       metric: str | float = "unit", link: str | None = None,
                       rows: ArrayLike | None = None, scale: ArrayLike | None = None,
                       point: ArrayLike | None = None) -> Array:
    """The Lipschitz bound ``Lip(r)`` of the scaled Jacobian over the box ``B(q, r)``.

    For ``q′, q″ ∈ B(q, r)`` and every singular value ``σ_k``:
    ``|σ_k(W J(q′)) − σ_k(W J(q″))| ≤ Lip · max_i |q′_i − q″_i| / s_i``. Equivalently, at
    every point of the box, ``‖W Σ_i u_i s_i ∂J̃/∂q_i‖_F ≤ Lip`` for all ``|u_i| ≤ 1``
    (``J̃ = J`` unless the first joint is left out; module docstring).

    Args:
        robot, q, link, rows, scale: As :func:`certified_radius`.
        radius: Box half width ``r`` ≥ 0, broadcast to ``q.shape[:-1]``.
        metric: ``"unit"`` or a length ``L`` [m] (no ``"auto"``).
        point: ``(3,)`` reference point of the linear rows in the link frame [m]
            (default: its origin).

    Returns:
        ``(...)`` ``Lip(r)`` [1/rad, or 1/m per prismatic joint].

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`certified_radius`, or a
            negative ``radius``.
    """
    _checks.robot(robot)
    _checks.moving(robot, "certification")
    bound, _, batch, _ = _problems(robot, q, metric, link, rows, scale, auto=False,
                                   point=point)
    try:
        r = np.broadcast_to(np.asarray(radius, dtype=float), batch).reshape(-1)
    except (TypeError, ValueError):
        raise ShapeError("radius", f"broadcastable to {batch}", np.shape(radius)) from None
    if np.any(np.isnan(r) | (r < 0)):
        raise InvalidValueError(f"radius: expected values >= 0, got {radius!r}")
    if 0 in batch:
        return np.zeros(batch)
    return bound(np.minimum(r, 1e300)).reshape(batch)


@dataclass(frozen=True, eq=False)
class SegmentCertificates:
    """Singularity certificates of the ``N − 1`` straight segments of a sampled path.

    Attributes:
        status: ``(N − 1,)`` int8: :data:`CERTIFIED` (0), :data:`CROSSING` (1) or
            :data:`POSSIBLE` (2); names in :data:`STATUS_NAMES` / :attr:`status_names`.
        radius: ``(N,)`` certified radius of each sample [rad] (:func:`certified_radius`).
        det: ``(N,)`` ``det(W J[rows])`` (dimensionless, ``L = robot.reach``; its sign does
            not depend on ``L``); NaN when ``W J[rows]`` is not square.
        step: ``(N − 1,)`` ``‖q_{k+1} − q_k‖∞`` [rad].
        box_certified: ``(N − 1,)`` bool, the whole box hull of the two samples lies in one
            sample's certified box (``max(r_k, r_{k+1}) ≥ step``): any path that stays
            between the samples joint by joint is singularity-free, not only the straight
            segment.
    """

    status: NDArray[np.int8]
    radius: Array
    det: Array
    step: Array
    box_certified: NDArray[np.bool_]

    @property
    def status_names(self) -> tuple[str, ...]:
        """Status name of each segment."""
        return tuple(STATUS_NAMES[k] for k in self.status)


def certify_segments(robot: Robot, Q: ArrayLike, metric: str | float = "auto",
                     rows: ArrayLike | None = None, link: str | None = None
                     ) -> SegmentCertificates:
    """Classify each straight joint-space segment of a sampled path (module docstring).

    Args:
        robot: The model.
        Q: ``(N, dof)`` samples of the path [rad or m], ``N ≥ 1``.
        metric, rows, link: As :func:`certified_radius`.

    Returns:
        :class:`SegmentCertificates`.

    Raises:
        ShapeError: ``Q`` is not ``(N, dof)``.
        InvalidValueError, UnknownLinkError: As :func:`certified_radius`.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")                  # q2 through 0: a sign change
    >>> Q = np.stack([np.zeros(4), [0.9, 0.5, -0.5, -0.9]], axis=-1)
    >>> certify_segments(arm, Q).status_names
    ('certified', 'crossing', 'certified')
    """
    _checks.robot(robot)
    _checks.moving(robot, "certify_segments")
    Qa = robot.check_q(Q, "Q")
    if Qa.ndim != 2 or Qa.shape[0] < 1:
        raise ShapeError("Q", f"(N, {robot.dof}) with N >= 1", Qa.shape)
    radius = certified_radius(robot, Qa, metric, link, rows)
    sel = task_rows(robot, rows)
    det = np.full(Qa.shape[0], np.nan)
    if sel.size == robot.dof:
        L = _check_metric(robot, "unit", auto=False)[0]
        det = np.linalg.det(jacobian(robot, Qa, link)[:, sel]
                            * np.where(sel < 3, 1.0 / L, 1.0)[:, None])
    step = np.abs(np.diff(Qa, axis=0)).max(axis=-1) if Qa.shape[0] > 1 else np.zeros(0)
    r0, r1 = radius[:-1], radius[1:]
    status = np.full(step.shape, POSSIBLE, dtype=np.int8)
    status[r0 + r1 >= step] = CERTIFIED
    crossing = (r0 > 0) & (r1 > 0) & (np.sign(det[:-1]) * np.sign(det[1:]) < 0)
    status[crossing] = CROSSING
    return SegmentCertificates(status, radius, det, step, np.maximum(r0, r1) >= step)

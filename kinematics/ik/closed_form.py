"""Every inverse-kinematics solution of a 6R arm in closed form (:func:`solve_all`).

The chain's geometry is read from the model (joint axes and points on them at the
reference configuration: locked joints at their ``fixed=`` values, the others at 0) and
matched against the families that decompose into the Paden–Kahan subproblems
(:mod:`kinematics.ik._closed_form_kernels`, IK-Geo's formulation):

=================================================  =========================================
family                                             decomposition
=================================================  =========================================
``"spherical wrist, two parallel axes"``            axes 4, 5, 6 meet in one point, 2 ∥ 3
(Puma 560, many industrial arms)                    (θ1: SP4, θ3: SP3, θ2: SP1, θ4 θ5: SP2,
                                                    θ6: SP1)
``"spherical wrist, two intersecting axes"``        axes 4, 5, 6 meet, 1 and 2 meet
                                                    (θ3: SP3, θ1 θ2: SP2, wrist as above)
``"three parallel axes (UR-type)"``                 2 ∥ 3 ∥ 4, 5 and 6 meet (UR3/5/10, e-series)
                                                    (θ1: SP4, θ5: SP4, θ6: SP1, θ2+θ3+θ4: SP1,
                                                    θ3: SP3, θ2: SP1)
=================================================  =========================================

A chain that fits none of them as read from the base is tried read from the tool back
(the pose ``T⁻¹`` reached by the reversed chain, axes ``−R_Mᵀ h`` at the reference tool
pose ``M``): a spherical shoulder, or a UR-type arm with 3 ∥ 4 ∥ 5 and 1 ∩ 2; the family
name then ends in "(read from the tool back)" and the branch labels refer to that order.
Each family has at most 8 solutions. Geometry tests use :data:`GEOMETRY_TOL`: two axes are
parallel when ``‖h_i × h_j‖ ≤ GEOMETRY_TOL``, and intersect when the distance between the
lines is ``≤ GEOMETRY_TOL`` m.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks, _engine
from ..exceptions import InvalidValueError, KinematicsError
from ..robot import Robot

__all__ = ["IKSolutions", "solve_all", "GEOMETRY_TOL", "BRANCH_BITS"]

Array = NDArray[np.float64]

#: Tolerance of the geometry tests (unit-vector cross products, and metres).
GEOMETRY_TOL = 1e-8
#: ``branch`` bits: ``4·shoulder + 2·elbow + wrist``, each the root index (0 or 1) of the
#: subproblem that fixes that joint group; −1 marks padding.
BRANCH_BITS = ("shoulder", "elbow", "wrist")

_FAMILIES = {
    1: "spherical wrist, two parallel axes",
    2: "spherical wrist, two intersecting axes",
    3: "three parallel axes (UR-type)",
}
_SUPPORTED = ("spherical wrist (axes 4-6 meet) with axes 2 ∥ 3 or axes 1, 2 meeting; "
              "three parallel axes 2 ∥ 3 ∥ 4 with axes 5, 6 meeting (UR-type)")
_K = 8


@dataclass(frozen=True)
class IKSolutions:
    """Every solution of :func:`solve_all`, batched over the poses.

    Attributes:
        q: ``(..., K, dof)`` joint values [rad], NaN-padded after ``count`` rows (K = 8).
        count: ``(...)`` number of solutions per pose (0: unreachable or outside limits).
        family: The decomposition used, in words.
        singular: ``(...)`` True when the pose is at or near a singular set of the
            decomposition (a free angle, two roots merging: e.g. wrist axes aligned, wrist
            centre on axis 1, arm stretched); the solutions are then representatives
            (a free angle is set to 0).
        branch: ``(..., K)`` int labels ``4·shoulder + 2·elbow + wrist`` (each bit the root
            index of its subproblem, see :data:`BRANCH_BITS`); −1 in the padding.
    """

    q: Array
    count: NDArray[np.intp]
    family: str
    singular: NDArray[np.bool_]
    branch: NDArray[np.intp]


@dataclass(frozen=True)
class _Geometry:
    family: int
    H: Array
    P: Array
    R6T: Array
    sgn: Array
    free: NDArray[np.intp]     # index in q of each of the 6 solved joints
    q_fixed: Array             # (dof,) the fixed values (NaN elsewhere)
    lo: Array                  # (6,) limits of the solved joints
    hi: Array
    packed: Array              # everything above as the kernel reads it
    inverted: bool             # solved as the reversed chain (tool → base) for T⁻¹


def _line_point(o1: Array, h1: Array, o2: Array, h2: Array) -> tuple[float, Array]:
    """Distance between two non-parallel lines and the midpoint of their common normal."""
    n = np.cross(h1, h2)
    nn = float(n @ n)
    d = o2 - o1
    t1 = float(np.cross(d, h2) @ n) / nn
    t2 = float(np.cross(d, h1) @ n) / nn
    a, b = o1 + t1 * h1, o2 + t2 * h2
    return float(np.linalg.norm(a - b)), 0.5 * (a + b)


def _parallel(a: Array, b: Array) -> bool:
    return float(np.linalg.norm(np.cross(a, b))) <= GEOMETRY_TOL


def _meet(o1: Array, h1: Array, o2: Array, h2: Array) -> Array | None:
    """Intersection point of two lines (``None``: parallel or skew)."""
    if _parallel(h1, h2):
        return None
    dist, c = _line_point(o1, h1, o2, h2)
    return c if dist <= GEOMETRY_TOL else None


def _describe(h: Array, o: Array) -> str:
    parts = []
    for i in range(5):
        for j in range(i + 1, 6):
            if _parallel(h[i], h[j]):
                parts.append(f"{i + 1}∥{j + 1}")
            elif _meet(o[i], h[i], o[j], h[j]) is not None:
                parts.append(f"{i + 1}∩{j + 1}")
    return ", ".join(parts) or "no parallel or intersecting axis pairs"


#: Per robot (weakly held): {(link, fixed as ((q index, value), ...)): geometry}.
def _sp3_ok(p23: Array, p34: Array, h3: Array) -> bool:
    """SP3 for θ3 is not degenerate: both offsets have a part ⟂ h3."""
    return (float(np.linalg.norm(np.cross(p23, h3))) > GEOMETRY_TOL
            and float(np.linalg.norm(np.cross(p34, h3))) > GEOMETRY_TOL)


def _classify(h: Array, o: Array) -> tuple[int, Array, Array, Array]:
    """``(family, axes, points, signs)`` of a 6R chain (axes ``h`` ``(6, 3)``, a point of
    each ``o`` ``(6, 3)``); family 0: none. Points are moved along the axes to the
    intersections the decomposition needs; parallel axes of the UR family are flipped to
    one direction (``signs``: θ_model = sign · θ_kernel)."""
    h = h.copy()
    sgn = np.ones(6)
    pts = o.copy()
    c456 = _meet(o[3], h[3], o[4], h[4])
    if c456 is not None and float(np.linalg.norm(np.cross(c456 - o[5], h[5]))) <= GEOMETRY_TOL \
            and not _parallel(h[4], h[5]):
        pts[3] = pts[4] = pts[5] = c456
        if (_parallel(h[1], h[2]) and not _parallel(h[0], h[1])
                and _sp3_ok(o[2] - o[1], c456 - o[2], h[2])):
            return 1, h, pts, sgn
        c12 = _meet(o[0], h[0], o[1], h[1])
        if c12 is not None and _sp3_ok(o[2] - c12, c456 - o[2], h[2]):
            pts[0] = pts[1] = c12
            return 2, h, pts, sgn
        pts = o.copy()
    if _parallel(h[1], h[2]) and _parallel(h[1], h[3]) \
            and not _parallel(h[0], h[1]) and not _parallel(h[4], h[1]):
        c56 = _meet(o[4], h[4], o[5], h[5])
        if c56 is not None and _sp3_ok(o[2] - o[1], o[3] - o[2], h[2]):
            pts[4] = pts[5] = c56
            for i in (2, 3):
                if h[i] @ h[1] < 0:
                    h[i] = -h[i]
                    sgn[i] = -1.0
            return 3, h, pts, sgn
    return 0, h, pts, sgn


_CACHE: weakref.WeakKeyDictionary[Robot, dict[tuple[object, ...], _Geometry]] = \
    weakref.WeakKeyDictionary()


def _geometry(robot: Robot, link: str | None, fixed: Mapping[str, float] | None) -> _Geometry:
    fixed = dict(fixed or {})
    key = (link, tuple(sorted((robot.joint_names.index(k), float(v))
                              for k, v in fixed.items())) if fixed else ())
    per_robot = _CACHE.get(robot)
    if per_robot is None:
        per_robot = _CACHE[robot] = {}
    g = per_robot.get(key)
    if g is not None:
        return g
    chain = robot.chain(link)
    if not chain.simple and not (np.all(chain.multiplier == 1.0) and np.all(chain.offset == 0)
                                 and len(set(chain.q_index.tolist())) == chain.n):
        raise KinematicsError(f"solve_all: the chain to {link or robot.tip_link!r} has mimic "
                              "joints; closed forms need independent joints (use ik.solve)")
    if chain.prismatic_any:
        raise KinematicsError(f"solve_all: the chain to {link or robot.tip_link!r} has a "
                              f"prismatic joint; supported families: {_SUPPORTED}. "
                              "Use ik.solve for a numerical solution")
    q_fixed = np.full(robot.dof, np.nan)
    for name, v in key[1]:
        q_fixed[name] = v
    on_chain = set(int(i) for i in chain.q_index)
    off = [robot.joint_names[i] for i in range(robot.dof)
           if i not in on_chain and math.isnan(q_fixed[i])]
    if off:
        raise KinematicsError(f"solve_all: joints {off} do not move "
                              f"{link or robot.tip_link!r}; give them values with fixed=")
    theta = np.where(np.isnan(q_fixed[chain.q_index]), 0.0, q_fixed[chain.q_index])
    free_k = [k for k in range(chain.n) if math.isnan(q_fixed[chain.q_index[k]])]
    if len(free_k) != 6:
        raise KinematicsError(
            f"solve_all: {len(free_k)} free joints on the chain to {link or robot.tip_link!r}"
            f" (dof {chain.n}, fixed {list(fixed)}); closed forms need exactly 6. "
            + ("Lock joints with fixed={joint: value} (e.g. a 7-DoF arm), or use ik.solve"
               if len(free_k) > 6 else "Use ik.solve for fewer than 6 joints"))
    T = np.array(chain.T0, dtype=float)
    hs, os_ = [], []
    for k in range(chain.n):
        if k in free_k:
            hs.append(T[:3, 2].copy())
            os_.append(T[:3, 3].copy())
        c, s = math.cos(theta[k]), math.sin(theta[k])
        Rz = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])
        T = T @ Rz @ chain.steps[k]
    h = np.array(hs) / np.linalg.norm(hs, axis=1)[:, None]
    o = np.array(os_)
    M = T
    names = [robot.joint_names[chain.q_index[k]] for k in free_k]
    free = np.array([chain.q_index[k] for k in free_k], dtype=np.intp)
    family, h_k, pts, sgn = _classify(h, o)
    inverted = False
    if family == 0:   # the chain read from the tool back to the base: T⁻¹ = Π e^(−ξ'θ) M⁻¹
        Rm, pm = M[:3, :3], M[:3, 3]
        h_r = -(h[::-1] @ Rm)
        o_r = (o[::-1] - pm) @ Rm
        family, h_k, pts, sgn = _classify(h_r, o_r)
        if family:
            inverted = True
            M = np.linalg.inv(M)
            free = free[::-1].copy()
    if family == 0:
        raise KinematicsError(
            f"solve_all: no closed-form family for the chain to {link or robot.tip_link!r} "
            f"(joints {names}); its axes: {_describe(h, o)} (tolerance {GEOMETRY_TOL:g}). "
            f"Supported families (also read from the tool back): {_SUPPORTED}. "
            "Lock a joint with fixed=, or use ik.solve")
    h = h_k
    P = np.empty((7, 3))
    P[0] = pts[0]
    P[1:6] = pts[1:] - pts[:-1]
    P[6] = M[:3, 3] - pts[5]
    T = M
    g = _Geometry(family, np.ascontiguousarray(h), np.ascontiguousarray(P),
                  np.ascontiguousarray(T[:3, :3]), sgn,
                  free, q_fixed, np.ascontiguousarray(robot.joint_limits[free, 0]),
                  np.ascontiguousarray(robot.joint_limits[free, 1]),
                  _kernels().pack(h, P, T[:3, :3], sgn, robot.joint_limits[free, 0],
                                  robot.joint_limits[free, 1], free, inverted, q_fixed),
                  inverted)
    per_robot[key] = g
    return g


_KERNELS = None


def _kernels():  # type: ignore[no-untyped-def]
    global _KERNELS
    if _KERNELS is None:
        if not _engine.available():
            raise KinematicsError("solve_all runs compiled kernels only and needs numba, "
                                  "which is not installed: pip install numba")
        from . import _closed_form_kernels as k

        _KERNELS = k
    return _KERNELS


def solve_all(robot: Robot, T: ArrayLike, link: str | None = None,
              fixed: Mapping[str, float] | None = None) -> IKSolutions:
    """Every joint solution that puts ``link`` at ``T``, in closed form.

    Args:
        robot: The model; the chain base → ``link`` must have 6 free revolute joints whose
            geometry is one of the families of :mod:`kinematics.ik.closed_form`.
        T: ``(..., 4, 4)`` target poses of ``link`` in the base frame (translation in m).
        link: A link of ``robot.links``; ``None``: the tool frame of the single tip.
        fixed: ``{joint name: value [rad]}`` locks joints (a 7-DoF arm becomes 6R; joints
            off the chain must be given here too). Locked values appear in ``q``.

    Returns:
        :class:`IKSolutions`. Each solution reproduces ``T`` within 1e-9 (m and rotation
        entries, checked), lies inside the joint limits, and is unique within 1e-9 rad.
        Joint limits: each revolute angle is moved to the copy ``θ + 2πk`` inside the
        limits nearest to 0 (one representative per branch, even when the range exceeds
        2π: ``θ ± 2π`` copies are not listed); a branch with no copy inside is dropped.

    Raises:
        KinematicsError: The chain has no supported closed form (the message lists the
            parallel/intersecting axis pairs found and the supported families), mimic or
            prismatic joints, not 6 free joints; ``fixed`` names an unknown joint or a value
            outside its limits.
        ShapeError, InvalidValueError: ``T`` is not ``(..., 4, 4)`` rigid and finite.

    >>> import kinematics as kin
    >>> ur5 = kin.load_robot("ur5")
    >>> sol = kin.ik.solve_all(ur5, kin.fk(ur5, [0.1, -1.0, 1.2, -0.3, 0.8, 0.2]))
    >>> sol.family, int(sol.count)
    ('three parallel axes (UR-type)', 8)
    """
    last = _LAST
    if fixed is None and last is not None and last[0]() is robot and last[1] == link:
        g = last[2]   # the same arm and link as the previous call: a control loop
    else:
        g = _geometry_checked(robot, link, fixed)
    return _solve(robot, g, T)


#: ``(weakref to robot, link, geometry)`` of the last call without ``fixed`` (the
#: single-pose fast path of a control loop).
_LAST: tuple[weakref.ref[Robot], str | None, _Geometry] | None = None


def _geometry_checked(robot: Robot, link: str | None, fixed: Mapping[str, float] | None
                      ) -> _Geometry:
    global _LAST
    _checks.robot(robot)
    if fixed is not None:
        if not isinstance(fixed, Mapping):
            raise InvalidValueError(f"fixed={_checks.show(fixed)}; expected a mapping "
                                    "{joint name: value [rad]}")
        for name, v in fixed.items():
            if name not in robot.joint_names:
                from ..exceptions import format_names

                raise InvalidValueError(f"fixed: unknown joint {name!r}; expected one of "
                                        f"{format_names(robot.joint_names)}")
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.number)) \
                    or not math.isfinite(float(v)):
                raise InvalidValueError(f"fixed[{name!r}]={_checks.show(v)}; expected a "
                                        "finite number [rad]")
            lo, hi = robot.joint_limits[robot.joint_names.index(name)]
            if not lo <= float(v) <= hi:
                raise InvalidValueError(f"fixed[{name!r}]={float(v)} is outside the joint "
                                        f"limits [{lo}, {hi}]")
    g = _geometry(robot, link, fixed)
    if fixed is None:
        _LAST = (weakref.ref(robot), link, g)
    return g


def _solve(robot: Robot, g: _Geometry, T: ArrayLike) -> IKSolutions:
    Ta = T if type(T) is np.ndarray and T.dtype == np.float64 else _checks.pose(T, "T")
    if Ta.ndim < 2 or Ta.shape[-2:] != (4, 4):
        _checks.pose(T, "T")   # raises ShapeError
    batch = Ta.shape[:-2]
    flat = np.ascontiguousarray(Ta.reshape(-1, 4, 4))
    if not flat.flags.writeable:   # numba types read-only arrays on its slow path
        flat = flat.copy()
    N = flat.shape[0]
    q = np.empty((N, _K, robot.dof))
    count = np.empty(N, dtype=np.intp)
    singular = np.empty(N, dtype=np.bool_)
    branch = np.empty((N, _K), dtype=np.intp)
    bad = _kernels().solve_batch(g.family, g.packed, flat, q, count, singular, branch)
    if bad >= 0:   # the message names the first offending pose
        _checks.pose(T, "T")
        raise InvalidValueError(f"T: pose {bad} is not a rigid transform")  # pragma: no cover
    family = _FAMILIES[g.family] + (" (read from the tool back)" if g.inverted else "")
    return IKSolutions(q=q.reshape(batch + (_K, robot.dof)), count=count.reshape(batch),
                       family=family, singular=singular.reshape(batch),
                       branch=branch.reshape(batch + (_K,)))


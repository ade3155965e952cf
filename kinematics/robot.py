"""The robot model: a frozen, read-only description of one kinematic chain.

A :class:`Robot` is built once from a URDF (:func:`load_robot`) and never changes; every
computation is a pure function of ``(robot, q, ...)``. Building it precomputes, for every
link whose pose depends only on the chain's joints, a :class:`Chain`: the constant
transforms between joints with each joint frame re-oriented so that its axis is local +z.
A joint's motion is then ``Rz(θ)`` (revolute, continuous) or ``Tz(θ)`` (prismatic), and the
local transform of step ``k`` is *linear* in the basis ``[1, sin θ, cos θ, θ]``; that is
what makes :mod:`kinematics.forward` cheap.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import (
    InvalidValueError,
    JointLimitError,
    ShapeError,
    UnknownLinkError,
    UnknownRobotError,
    URDFError,
)
from .spatial import inverse, transform
from .urdf import URDFJoint, URDFModel, parse_urdf, read_urdf

__all__ = ["Robot", "Chain", "load_robot", "list_robots", "robot_from_urdf"]

Array = NDArray[np.float64]
MOVING = ("revolute", "continuous", "prismatic")


def _readonly(a: ArrayLike) -> Array:
    arr = np.array(a, dtype=float)
    arr.setflags(write=False)
    return arr


def _align_z(axis: ArrayLike) -> Array:
    """``(4, 4)`` rotation taking local +z to ``axis`` (unit)."""
    a = np.asarray(axis, dtype=float)
    z = np.array([0.0, 0.0, 1.0])
    c = float(a @ z)
    if c > 1.0 - 1e-12:
        R = np.eye(3)
    elif c < -1.0 + 1e-12:
        R = np.diag([1.0, -1.0, -1.0])
    else:
        v = np.cross(z, a)
        s = np.linalg.norm(v)
        K = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]]) / s
        R = np.eye(3) + s * K + (1 - c) * K @ K
    return transform(R)


@dataclass(frozen=True, eq=False)
class Chain:
    """Precomputed data for the path from the base to one link (internal to the library).

    With ``θ`` the values of the ``n`` moving joints on the path (mimic joints included),
    the local transform of step ``k`` is ``L_k = reshape(W(θ_k) @ basis[k], (4, 4))`` with
    ``W(θ) = [1, sin θ, cos θ, θ]``; the link pose is ``T0 @ L_1 @ ... @ L_n``. Joint
    ``k``'s frame (axis = local +z) is ``T0 @ L_1 @ ... @ L_{k-1}``.

    Attributes:
        link: Link name (``None`` for the tool frame of the tip).
        n: Number of moving joints on the path.
        T0: ``(4, 4)`` base → first joint frame (or → the link when ``n == 0``).
        basis: ``(n, 4, 16)`` local-transform basis.
        revolute: ``(n,)`` bool, True for revolute/continuous joints.
        q_index: ``(n,)`` index into ``q`` of each path joint (its leader for mimics).
        multiplier, offset: ``(n,)`` ``θ = q[q_index] * multiplier + offset``.
        simple: ``θ == q[:n]`` (no mimic joints, joints are a prefix of ``q``).
    """

    link: str | None
    n: int
    T0: Array
    basis: Array
    revolute: NDArray[np.bool_]
    q_index: NDArray[np.intp]
    multiplier: Array
    offset: Array
    simple: bool
    prismatic_any: bool = field(init=False)

    basis_1: Array = field(init=False, repr=False)
    basis_sc: Array = field(init=False, repr=False)
    basis_theta: Array = field(init=False, repr=False)
    steps: Array = field(init=False, repr=False)
    rows23: Array = field(init=False, repr=False)
    basis_sc01: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        b = self.basis
        B = b.reshape(-1, 4, 4, 4)  # (n, basis term, row, column)
        # constant step after each joint: the local transform at θ = 0 (terms 1 and cos θ)
        steps = np.where(self.revolute[:, None, None], B[:, 0] + B[:, 2], B[:, 0])
        derived: dict[str, Any] = {
            "prismatic_any": bool(np.any(~self.revolute)),
            "basis_1": b[:, 0, :].reshape(-1, 1, 16),       # constant part
            "basis_sc": np.ascontiguousarray(b[:, 1:3, :]),  # (n, 2, 16) sin, cos parts
            "basis_theta": b[:, 3, :].reshape(-1, 1, 16),   # prismatic part
            "steps": np.ascontiguousarray(steps),
            "rows23": np.ascontiguousarray(B[:, 0, 2:4, :]),  # revolute: constant rows
            "basis_sc01": np.ascontiguousarray(B[:, 1:3, 0:2, :].reshape(-1, 2, 8)),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        for name in ("T0", "basis", "revolute", "q_index", "multiplier", "offset", "basis_1",
                     "basis_sc", "basis_theta", "steps", "rows23", "basis_sc01"):
            getattr(self, name).setflags(write=False)


def _basis(revolute: bool, X: Array) -> Array:
    """``(4, 16)`` basis of ``M(θ) @ X`` in ``[1, sin θ, cos θ, θ]``."""
    B = np.zeros((4, 4, 4))
    if revolute:  # Rz(θ) X = [c X0 − s X1; s X0 + c X1; X2; X3]
        B[0, 2:] = X[2:]
        B[1, 0], B[1, 1] = -X[1], X[0]
        B[2, 0], B[2, 1] = X[0], X[1]
    else:  # Tz(θ) X = X + θ [0; 0; X3; 0]
        B[0] = X
        B[3, 2] = X[3]
    return B.reshape(4, 16)


@dataclass(frozen=True, eq=False)
class Robot:
    """A serial kinematic chain from ``base_link`` to ``tip_link``, read from a URDF.

    All arrays are read-only. Joint order in ``q`` is the order along the chain, base to
    tip; mimic joints follow their leader and are not part of ``q``.

    Attributes:
        name: Robot name (registry key, or the URDF's ``<robot name>``).
        source: Path of the URDF file (``"<string>"`` when parsed from text).
        base_link, tip_link: Chain ends.
        joint_names: ``(dof,)`` names of the joints in ``q``.
        joint_types: ``(dof,)`` ``"revolute"``, ``"continuous"`` or ``"prismatic"``.
        joint_axes: ``(dof, 3)`` unit axis of each joint in its own (URDF joint) frame.
        joint_limits: ``(dof, 2)`` lower, upper [rad or m]; ±inf for continuous joints.
        velocity_limits: ``(dof,)`` [rad/s or m/s]; inf when the URDF gives none.
        effort_limits: ``(dof,)`` [N·m or N]; inf when the URDF gives none.
        link_names: Links on the path base → tip, in order (``fk_all`` returns these).
        links: Every link :func:`~kinematics.fk` can evaluate (path links and links hanging
            off it through fixed or chain joints).
        base_pose: ``(4, 4)`` pose of ``base_link`` in the frame results are expressed in
            ("base frame"); identity by default.
        tool: ``(4, 4)`` tool frame relative to ``tip_link``; ``fk(robot, q)`` (``link=None``)
            returns the tool frame. Identity by default.
        mimic: ``{joint: (leader, multiplier, offset)}`` for mimic joints on the chain.
    """

    name: str
    source: str
    base_link: str
    tip_link: str
    joint_names: tuple[str, ...]
    joint_types: tuple[str, ...]
    joint_axes: Array
    joint_limits: Array
    velocity_limits: Array
    effort_limits: Array
    link_names: tuple[str, ...]
    links: tuple[str, ...]
    base_pose: Array
    tool: Array
    mimic: Mapping[str, tuple[str, float, float]]
    model: URDFModel = field(repr=False)
    chains: Mapping[str | None, Chain] = field(repr=False)

    @property
    def dof(self) -> int:
        """Number of joints in ``q``."""
        return len(self.joint_names)

    @property
    def reach(self) -> float:
        """Upper bound of the distance base → tool [m]: sum of the chain's link offsets.

        Used as the characteristic length that makes position and orientation rows
        commensurate (e.g. the unit-consistent condition number).
        """
        c = self.chains[None]
        offsets = [np.linalg.norm(c.T0[:3, 3]), *np.linalg.norm(c.steps[:, :3, 3], axis=1)]
        return float(np.sum(offsets))

    def chain(self, link: str | None = None) -> Chain:
        """Precomputed chain to ``link`` (``None``: the tool frame).

        Raises:
            UnknownLinkError: The link is not in the model or not reachable through the
                chain's joints; the message lists :attr:`links`.
        """
        try:
            return self.chains[link]
        except (KeyError, TypeError):
            raise UnknownLinkError(str(link), self.links) from None

    def random_q(self, n: int | tuple[int, ...] = (), seed: int | None = 0,
                 margin: float = 0.0) -> Array:
        """Uniform random configurations inside the joint limits.

        Continuous joints (infinite limits) are drawn from ``[-π, π]``.

        Args:
            n: Batch shape.
            seed: Seed of ``numpy.random.default_rng`` (deterministic by default).
            margin: Fraction of each range kept clear at both ends (0 ≤ margin < 0.5).

        Returns:
            ``(*n, dof)`` joint values.
        """
        shape = (n,) if isinstance(n, int) else tuple(n)
        lo, hi = self.joint_limits[:, 0].copy(), self.joint_limits[:, 1].copy()
        lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = -np.pi, np.pi
        span = hi - lo
        rng = np.random.default_rng(seed)
        return lo + span * (margin + (1 - 2 * margin) * rng.random(shape + (self.dof,)))

    def check_q(self, q: ArrayLike, name: str = "q") -> Array:
        """Validate joint values: numeric, finite, last axis ``dof``.

        Args:
            q: ``(..., dof)`` joint values [rad or m].

        Returns:
            ``q`` as a float array (no copy when already one).

        Raises:
            InvalidValueError: Non-numeric, NaN or inf values (the first offending joint is
                named).
            ShapeError: The last axis is not ``dof``.
        """
        if type(q) is np.ndarray and q.dtype == np.float64:  # the common case, no copy
            qa = q
        else:
            qa = self._as_float_array(q, name)
        if qa.ndim == 0 or qa.shape[-1] != len(self.joint_names):
            raise ShapeError(name, f"(..., {self.dof}) for {self.name}'s joints", qa.shape)
        if not np.isfinite(qa).all():
            idx = tuple(int(i) for i in np.argwhere(~np.isfinite(qa))[0])
            raise InvalidValueError(
                f"{name}{list(idx)}: joint {self.joint_names[idx[-1]]!r} is "
                f"{qa[idx]}; expected finite values"
            )
        return qa

    def check_limits(self, q: ArrayLike, tolerance: float = 0.0, name: str = "q") -> Array:
        """Validate joint values (:meth:`check_q`) and require them inside the limits.

        Args:
            q: ``(..., dof)`` joint values [rad or m].
            tolerance: Allowed excursion beyond each limit [rad or m].

        Returns:
            ``q`` as a float array.

        Raises:
            JointLimitError: The first joint outside ``[lower − tol, upper + tol]``, with its
                name, value and limits.
            ShapeError, InvalidValueError: As :meth:`check_q`.
        """
        qa = self.check_q(q, name)
        lo, hi = self.joint_limits[:, 0], self.joint_limits[:, 1]
        bad = (qa < lo - tolerance) | (qa > hi + tolerance)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            j = idx[-1]
            raise JointLimitError(self.joint_names[j], float(qa[idx]), float(lo[j]),
                                  float(hi[j]))
        return qa

    def _as_float_array(self, q: ArrayLike, name: str) -> Array:
        try:
            return np.asarray(q, dtype=float)
        except (TypeError, ValueError):
            raise InvalidValueError(
                f"{name}: expected numeric joint values for {self.dof} joints "
                f"{list(self.joint_names)}, got {q!r}"
            ) from None

    def with_tool(self, tool: ArrayLike) -> Robot:
        """The same robot with a different tool frame (``(4, 4)``, relative to the tip)."""
        return robot_from_urdf(self.model, self.base_link, self.tip_link,
                               base_pose=self.base_pose, tool=tool, name=self.name)

    def with_base_pose(self, base_pose: ArrayLike) -> Robot:
        """The same robot placed at ``base_pose`` (``(4, 4)``)."""
        return robot_from_urdf(self.model, self.base_link, self.tip_link,
                               base_pose=base_pose, tool=self.tool, name=self.name)

    def __repr__(self) -> str:
        return (f"Robot({self.name!r}, dof={self.dof}, base={self.base_link!r}, "
                f"tip={self.tip_link!r})")

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickle as the parsed URDF plus chain choices (process pools, Dask workers); the
        # precomputed chains are rebuilt on the other side.
        return (_rebuild, (self.model, self.base_link, self.tip_link, np.asarray(self.base_pose),
                           np.asarray(self.tool), self.name, self.source))


def _rebuild(model: URDFModel, base: str, tip: str, base_pose: Array, tool: Array, name: str,
             source: str) -> Robot:
    robot = robot_from_urdf(model, base, tip, base_pose=base_pose, tool=tool, name=name)
    object.__setattr__(robot, "source", source)
    return robot


def _check_pose(T: ArrayLike | None, name: str) -> Array:
    if T is None:
        return np.eye(4)
    A = np.asarray(T, dtype=float)
    if A.shape != (4, 4):
        raise ShapeError(name, "(4, 4)", A.shape)
    R = A[:3, :3]
    if (not np.all(np.isfinite(A)) or not np.allclose(R @ R.T, np.eye(3), atol=1e-9)
            or abs(np.linalg.det(R) - 1) > 1e-9 or not np.allclose(A[3], [0, 0, 0, 1])):
        raise InvalidValueError(f"{name}: expected a finite rigid transform (R orthonormal, "
                                f"det R = 1, last row [0 0 0 1]), got\n{A}")
    return A


def robot_from_urdf(
    urdf: URDFModel | str | bytes,
    base: str | None = None,
    tip: str | None = None,
    *,
    base_pose: ArrayLike | None = None,
    tool: ArrayLike | None = None,
    name: str | None = None,
) -> Robot:
    """Build a :class:`Robot` from a parsed URDF (or URDF text).

    Args:
        urdf: A :class:`~kinematics.urdf.URDFModel` or the XML text.
        base: Base link (default: the URDF's root link).
        tip: Tip link (default: the single leaf below ``base``).
        base_pose: ``(4, 4)`` pose of ``base`` in the frame results are expressed in.
        tool: ``(4, 4)`` tool frame relative to ``tip``.
        name: Robot name (default: the URDF's).

    Raises:
        URDFError: Unknown base/tip, tip not below base, several leaves and no tip given, a
            floating/planar joint or a mimic of a joint outside the chain on the path.
    """
    model = urdf if isinstance(urdf, URDFModel) else parse_urdf(urdf)
    src = model.source
    T_base, T_tool = _check_pose(base_pose, "base_pose"), _check_pose(tool, "tool")
    by_child = {j.child: j for j in model.joints}
    children: dict[str, list[URDFJoint]] = {}
    for j in model.joints:
        children.setdefault(j.parent, []).append(j)
    root = next(link for link in model.links if link not in by_child)
    base = root if base is None else base
    for role, link in (("base", base), ("tip", tip)):
        if link is not None and link not in model.link_lines:
            raise URDFError(f"{role} link {link!r} does not exist; available links: "
                            f"{list(model.links)}", src)
    below: list[str] = []
    todo = [base]
    while todo:
        link = todo.pop()
        below.append(link)
        todo.extend(j.child for j in reversed(children.get(link, [])))
    if tip is None:
        leaves = [link for link in below if link not in children]
        if len(leaves) != 1 or leaves[0] == base:
            raise URDFError(f"link {base!r} has {len(leaves)} leaves below it {leaves}; pass "
                            "tip= to choose the end of the chain", src)
        tip = leaves[0]
    if tip not in below or tip == base:
        raise URDFError(f"tip link {tip!r} is not below base link {base!r}; links below "
                        f"{base!r}: {below[1:]}", src)

    def path(link: str) -> list[URDFJoint]:
        out = []
        while link != base:
            j = by_child[link]
            out.append(j)
            link = j.parent
        return out[::-1]

    tip_path = path(tip)
    for j in tip_path:
        if j.type in ("floating", "planar"):
            raise URDFError(f"joint {j.name!r} is {j.type}; only revolute, continuous, "
                            "prismatic and fixed joints are supported in a chain", src, j.line)
    actuated = [j for j in tip_path if j.type in MOVING and j.mimic is None]
    q_of = {j.name: i for i, j in enumerate(actuated)}
    for j in tip_path:
        if j.mimic is not None and j.type in MOVING and j.mimic[0] not in q_of:
            raise URDFError(f"joint {j.name!r} mimics {j.mimic[0]!r}, which is not a moving "
                            f"joint of the chain {base!r} → {tip!r}", src, j.line)

    def build(link: str | None) -> Chain | None:
        joints = path(tip if link is None else link)
        T = T_base.copy()
        mats, rev, qi, mult, off = [], [], [], [], []
        for j in joints:
            if j.type == "fixed":
                T = T @ j.origin
                continue
            if j.type not in MOVING:
                return None
            if j.mimic is None and j.name not in q_of:
                return None
            if j.mimic is not None and j.mimic[0] not in q_of:
                return None
            A = _align_z(j.axis)
            mats.append(T @ j.origin @ A)
            T = inverse(A)
            rev.append(j.type != "prismatic")
            leader, m, o = (j.mimic if j.mimic is not None else (j.name, 1.0, 0.0))
            qi.append(q_of[leader])
            mult.append(m)
            off.append(o)
        if link is None:
            T = T @ T_tool
        n = len(mats)
        if n == 0:
            return Chain(link, 0, T, np.zeros((0, 4, 16)), np.zeros(0, bool),
                         np.zeros(0, np.intp), np.zeros(0), np.zeros(0), True)
        tails = mats[1:] + [T]
        basis = np.stack([_basis(r, X) for r, X in zip(rev, tails, strict=True)])
        q_index = np.array(qi, dtype=np.intp)
        simple = bool(np.array_equal(q_index, np.arange(n)) and np.all(np.array(mult) == 1)
                      and not np.any(off))
        return Chain(link, n, mats[0], basis, np.array(rev), q_index, np.array(mult),
                     np.array(off), simple)

    chains: dict[str | None, Chain] = {}
    for link in [None, *below]:
        c = build(link)
        if c is not None:
            chains[link] = c
    lim = np.array([[j.lower, j.upper] if j.type != "continuous" else [-np.inf, np.inf]
                    for j in actuated]).reshape(-1, 2)
    return Robot(
        name=name or model.name or Path(src).stem,
        source=src,
        base_link=base,
        tip_link=tip,
        joint_names=tuple(j.name for j in actuated),
        joint_types=tuple(j.type for j in actuated),
        joint_axes=_readonly(np.array([j.axis for j in actuated]).reshape(-1, 3)),
        joint_limits=_readonly(lim),
        velocity_limits=_readonly([j.velocity for j in actuated]),
        effort_limits=_readonly([j.effort for j in actuated]),
        link_names=(base, *(j.child for j in tip_path)),
        links=tuple(link for link in below if link in chains),
        base_pose=_readonly(T_base),
        tool=_readonly(T_tool),
        mimic=MappingProxyType({j.name: j.mimic for j in tip_path
                                if j.mimic is not None and j.type in MOVING}),
        model=model,
        chains=MappingProxyType(chains),
    )


def list_robots() -> list[str]:
    """Names of the bundled robot descriptions (``kin.load_robot(name)`` loads one)."""
    from . import robots

    return robots.names()


def load_robot(
    name_or_path: str | os.PathLike[str],
    base: str | None = None,
    tip: str | None = None,
    *,
    base_pose: ArrayLike | None = None,
    tool: ArrayLike | None = None,
) -> Robot:
    """Load a bundled robot by name, or any URDF file by path.

    Args:
        name_or_path: A name from :func:`list_robots` or a path to a ``.urdf`` file.
        base: Base link (bundled robots: their registered base; files: the root link).
        tip: Tip link (bundled robots: their registered tip; files: the single leaf).
        base_pose: ``(4, 4)`` pose of the base in the frame results are expressed in.
        tool: ``(4, 4)`` tool frame relative to the tip.

    Raises:
        UnknownRobotError: Neither a bundled name nor an existing file; lists bundled names.
        URDFError: The file is not a valid URDF or the chain cannot be built.

    >>> robot = load_robot("planar2r")
    >>> robot.dof, robot.joint_names
    (2, ('joint1', 'joint2'))
    """
    from . import robots

    key = os.fspath(name_or_path)
    if key in robots.REGISTRY:
        entry = robots.REGISTRY[key]
        model = read_urdf(robots.urdf_path(key))
        return robot_from_urdf(model, base or entry.base, tip or entry.tip,
                               base_pose=base_pose, tool=tool, name=key)
    if os.path.isfile(key):
        return robot_from_urdf(read_urdf(key), base, tip, base_pose=base_pose, tool=tool)
    raise UnknownRobotError(key, robots.names())

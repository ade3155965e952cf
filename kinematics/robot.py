"""The robot model: a frozen, read-only description of a kinematic tree with one ``q``.

A :class:`Robot` is built once from a URDF (:func:`load_robot`) and never changes; every
computation is a pure function of ``(robot, q, ...)``. It covers the paths from
``base_link`` to one or several tips (a serial arm, two arms on a torso, an arm with its
gripper), plus any mimic leader that moves them. Its joint values ``q`` are the union of
the moving joints on those paths, in the file's tree order.

For each link the model can evaluate, :meth:`Robot.chain` gives (and caches) a
:class:`Chain`: the constant transforms between the moving joints of the path, each joint
frame re-oriented so that its axis is local +z. A joint's motion is then ``Rz(θ)``
(revolute, continuous) or ``Tz(θ)`` (prismatic). Building a chain costs time linear in its
length, so loading is linear in the size of the file.

Loading is strict about what the user asked for and lenient about the rest: a defect of
a joint or link on the model is an error naming file:line; a defect elsewhere in the file
is one :class:`~kinematics.exceptions.URDFWarning` each.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from .exceptions import (
    InvalidValueError,
    JointLimitError,
    UnknownLinkError,
    UnknownRobotError,
    URDFError,
    URDFWarning,
    did_you_mean,
    format_names,
    nearest_names,
)
from .spatial import rpy_to_matrix, transform
from .urdf import URDFJoint, URDFModel, parse_urdf, read_urdf

__all__ = ["Robot", "Chain", "load_robot", "list_robots", "robot_from_urdf"]

Array = NDArray[np.float64]
MOVING = ("revolute", "continuous", "prismatic")


def _readonly(a: ArrayLike, dtype: Any = float) -> NDArray[Any]:
    arr = np.array(a, dtype=dtype)
    arr.setflags(write=False)
    return arr


def _align_z(axis: ArrayLike) -> Array:
    """``(4, 4)`` rotation taking local +z to ``axis`` (unit)."""
    return transform(_align_z_many(np.asarray(axis, dtype=float)[None])[0])


@dataclass(frozen=True, eq=False)
class Chain:
    """The path from the base to one link, ready to evaluate (internal to the library).

    With ``θ`` the values of the ``n`` moving joints on the path (mimic joints included),
    the link pose is ``T0 @ M(θ_1) @ steps[0] @ M(θ_2) @ steps[1] ... M(θ_n) @ steps[n-1]``
    where ``M`` is ``Rz`` (revolute) or ``Tz`` (prismatic). Joint ``k``'s frame (axis = local
    +z) is the product up to, but not including, ``M(θ_k)``.

    Attributes:
        link: Link name (``None`` for the tool frame of the tip).
        n: Number of moving joints on the path.
        T0: ``(4, 4)`` base frame → first joint frame (→ the link when ``n == 0``).
        steps: ``(n, 4, 4)`` constant transform after each joint's motion.
        revolute: ``(n,)`` bool, True for revolute/continuous joints.
        q_index: ``(n,)`` index into ``q`` of each path joint (its leader for mimics).
        multiplier, offset: ``(n,)`` ``θ = q[q_index] * multiplier + offset``.
        simple: ``θ == q[:n]`` (no mimic joints, joints are a prefix of ``q``).
        prismatic_any: Some joint on the path is prismatic.
    """

    link: str | None
    n: int
    T0: Array
    steps: Array
    revolute: NDArray[np.bool_]
    q_index: NDArray[np.intp]
    multiplier: Array
    offset: Array
    simple: bool
    prismatic_any: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "prismatic_any", bool(np.any(~self.revolute)))
        for name in ("T0", "steps", "revolute", "q_index", "multiplier", "offset"):
            getattr(self, name).setflags(write=False)

    @property
    def reach(self) -> float:
        """Sum of the chain's constant offsets [m] (an upper bound of the distance base →
        link for revolute chains)."""
        return float(np.linalg.norm(self.T0[:3, 3]) + np.linalg.norm(self.steps[:, :3, 3],
                                                                       axis=1).sum())


@dataclass(frozen=True, eq=False)
class _Tree:
    """Index of a URDF model's tree (internal): parent joint of each link, children, and
    the depth-first order used for joint ordering."""

    by_child: Mapping[str, URDFJoint]
    children: Mapping[str, tuple[URDFJoint, ...]]
    order: Mapping[str, int]   # link → depth-first preorder index from the root
    root: str

    @staticmethod
    def of(model: URDFModel) -> _Tree:
        by_child = {j.child: j for j in model.joints}
        children: dict[str, list[URDFJoint]] = {}
        for j in model.joints:
            children.setdefault(j.parent, []).append(j)
        root = next(link for link in model.links if link not in by_child)
        order: dict[str, int] = {}
        todo = [root]
        while todo:
            link = todo.pop()
            order[link] = len(order)
            todo.extend(j.child for j in reversed(children.get(link, [])))
        return _Tree(by_child, {k: tuple(v) for k, v in children.items()}, order, root)

    def below(self, base: str) -> list[str]:
        """Links of the subtree under ``base`` (``base`` first), depth-first."""
        if base == self.root:
            return list(self.order)  # the preorder itself
        out, todo = [], [base]
        while todo:
            link = todo.pop()
            out.append(link)
            todo.extend(j.child for j in reversed(self.children.get(link, ())))
        return out

    def path(self, base: str, link: str) -> list[URDFJoint]:
        """Joints from ``base`` down to ``link`` (``link`` must be below ``base``)."""
        out = []
        while link != base:
            j = self.by_child[link]
            out.append(j)
            link = j.parent
        return out[::-1]


@dataclass(frozen=True, eq=False)
class Robot:
    """A kinematic tree from ``base_link`` to one or several tips, read from a URDF.

    All arrays are read-only. ``q`` holds the moving joints of every path base → tip
    (and the leaders of mimic joints on them), in the file's depth-first tree order; for a
    serial arm that is the order along the chain. Mimic joints follow their leader and are
    not part of ``q``.

    Attributes:
        name: Robot name (registry key, or the URDF's ``<robot name>``).
        source: Path of the URDF file (``"<string>"`` when parsed from text).
        base_link: The base link.
        tip_link: The tip (the first tip when there are several).
        tip_links: Every tip; ``fk(robot, q)`` without a link needs exactly one.
        joint_names: ``(dof,)`` names of the joints in ``q``.
        joint_types: ``(dof,)`` ``"revolute"``, ``"continuous"`` or ``"prismatic"``.
        joint_axes: ``(dof, 3)`` unit axis of each joint in its own (URDF joint) frame.
        joint_limits: ``(dof, 2)`` lower, upper [rad or m]; ±inf for continuous joints.
        velocity_limits: ``(dof,)`` [rad/s or m/s]; inf when the URDF gives none (or ≤ 0).
        effort_limits: ``(dof,)`` [N·m or N]; inf when the URDF gives none (or ≤ 0).
        link_names: For one tip, the links on the path base → tip in order; for several,
            every link on the paths, depth-first (``fk_all`` returns these).
        links: Every link :func:`~kinematics.fk` can evaluate (links on the paths and
            links hanging off them through fixed joints or the model's joints).
        base_pose: ``(4, 4)`` pose of ``base_link`` in the frame results are expressed in
            ("base frame"); identity by default.
        tool: ``(4, 4)`` tool frame relative to ``tip_link``; ``fk(robot, q)`` (``link=None``)
            returns the tool frame. Identity by default.
        mimic: ``{joint: (leader, multiplier, offset)}`` for every mimic joint of the model
            (on the paths, and on links of :attr:`links` off them); ``θ = m q[leader] + o``.
    """

    name: str
    source: str
    base_link: str
    tip_link: str
    tip_links: tuple[str, ...]
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
    _tree: _Tree = field(repr=False)
    _q_of: Mapping[str, tuple[int, float, float]] = field(repr=False)
    _chains: dict[str | None, Chain] = field(repr=False, default_factory=dict)

    @property
    def dof(self) -> int:
        """Number of joints in ``q``."""
        return len(self.joint_names)

    @functools.cached_property
    def reach(self) -> float:
        """Upper bound of the distance base → tip [m]: sum of the chain's link offsets
        (the largest over the tips); computed once.

        Used as the characteristic length that makes position and orientation rows
        commensurate (e.g. the unit-consistent condition number).
        """
        links = [None] if len(self.tip_links) == 1 else list(self.tip_links)
        return max(self.chain(link).reach for link in links)

    def chain(self, link: str | None = None) -> Chain:
        """The evaluation chain of ``link`` (``None``: the tool frame of the single tip).

        Raises:
            UnknownLinkError: The link is not in the file, or not part of this model (the
                message says which joint keeps it out and lists :attr:`links`).
            InvalidValueError: ``link`` is ``None`` on a robot with several tips (the
                message lists them), or not a string.
        """
        try:
            return self._chains[link]
        except (KeyError, TypeError):
            pass
        if link is None:
            if len(self.tip_links) != 1:
                raise InvalidValueError(
                    f"{self.name} has {len(self.tip_links)} tips {list(self.tip_links)}; pass "
                    "link= (one of them, or any link in robot.links)")
        elif not isinstance(link, str):
            raise InvalidValueError(f"link={_checks.show(link)}; expected a link name (str) "
                                    f"from {_checks.show(list(self.links))}")
        elif link not in self._links_set:
            raise self._unknown(link)
        c = _build_chain(self, link)
        self._chains[link] = c
        return c

    @property
    def _links_set(self) -> frozenset[str]:
        s = self.__dict__.get("_links_frozen")
        if s is None:
            s = frozenset(self.links)
            object.__setattr__(self, "_links_frozen", s)
        return s

    def _unknown(self, link: str) -> UnknownLinkError:
        err = UnknownLinkError(link, self.links)
        if link in self._tree.order:
            up = link
            while up != self.base_link and up in self._tree.by_child:
                up = self._tree.by_child[up].parent
            why = ("its path moves joints that are not part of this model"
                   if up == self.base_link else f"it is not below the base link "
                   f"{self.base_link!r}")
            err.args = (f"link {link!r} is in {self.source} but not part of this model: {why}. "
                        "Load the robot with that link among its tips (tip=[...]) to use it. "
                        "Links of this model: "
                        f"{format_names(nearest_names(link, self.links), 300)}",)
        return err

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

        Raises:
            InvalidValueError: A negative size, a bad seed or margin.
        """
        shape = (n,) if isinstance(n, (int, np.integer)) and not isinstance(n, bool) else n
        if not isinstance(shape, tuple) or not all(
                isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0
                for k in shape):
            raise InvalidValueError(f"n={_checks.show(n)}; expected a batch size or shape of "
                                    "integers >= 0")
        if int(np.prod(shape, dtype=float)) * max(self.dof, 1) > 2**31:
            raise InvalidValueError(f"n={_checks.show(n)}: {self.dof} joints × that many "
                                    "configurations is more than 2**31 values")
        seed = _checks.seed(seed)
        margin = _checks.number(margin, "margin", minimum=0.0, maximum=0.499999)
        lo, hi = self.joint_limits[:, 0].copy(), self.joint_limits[:, 1].copy()
        lo[~np.isfinite(lo)], hi[~np.isfinite(hi)] = -np.pi, np.pi
        span = hi - lo
        rng = np.random.default_rng(seed)
        return lo + span * (margin + (1 - 2 * margin) * rng.random(
            tuple(int(k) for k in shape) + (self.dof,)))

    def check_q(self, q: ArrayLike, name: str = "q", *, complex_ok: bool = False) -> Array:
        """Validate joint values: numeric, finite, last axis ``dof``.

        Args:
            q: ``(..., dof)`` joint values [rad or m].
            name: Argument name for messages.
            complex_ok: Accept complex values (complex-step differentiation; numpy path).

        Returns:
            ``q`` as a float (or complex) array (no copy when already one).

        Raises:
            InvalidValueError: Non-numeric, masked, complex (unless allowed), NaN or inf
                values (the first offending joint is named).
            ShapeError: The last axis is not ``dof``.
        """
        if (type(q) is np.ndarray and q.dtype == np.float64 and q.ndim
                and q.shape[-1] == len(self.joint_names) and np.isfinite(q).all()):
            return q  # the common case: no message is built
        return _checks.vector(q, name, self.dof, f"joint values for {self.dof} joints "
                              f"{_checks.show(list(self.joint_names))}",
                              complex_ok=complex_ok, labels=self.joint_names,
                              shape_what=f"for {self.name}'s joints")

    def check_limits(self, q: ArrayLike, tolerance: float = 0.0, name: str = "q") -> Array:
        """Validate joint values (:meth:`check_q`) and require them inside the limits.

        Args:
            q: ``(..., dof)`` joint values [rad or m].
            tolerance: Allowed excursion beyond each limit [rad or m], ``>= 0``.

        Returns:
            ``q`` as a float array.

        Raises:
            JointLimitError: The first joint outside ``[lower − tol, upper + tol]``, with its
                name, value and limits.
            ShapeError, InvalidValueError: As :meth:`check_q`; a bad ``tolerance``.
        """
        tol = _checks.nonnegative(tolerance, "tolerance", " [rad or m]")
        qa = self.check_q(q, name)
        lo, hi = self.joint_limits[:, 0], self.joint_limits[:, 1]
        bad = (qa < lo - tol) | (qa > hi + tol)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            j = idx[-1]
            raise JointLimitError(self.joint_names[j], float(qa[idx]), float(lo[j]),
                                  float(hi[j]))
        return qa

    def with_tool(self, tool: ArrayLike) -> Robot:
        """The same robot with a different tool frame (``(4, 4)``, relative to the tip)."""
        return _rebuild(self.model, self.base_link, list(self.tip_links),
                        np.asarray(self.base_pose), _checks.model_pose(tool, "tool"),
                        self.name, self.source)

    def with_base_pose(self, base_pose: ArrayLike) -> Robot:
        """The same robot placed at ``base_pose`` (``(4, 4)``)."""
        return _rebuild(self.model, self.base_link, list(self.tip_links),
                        _checks.model_pose(base_pose, "base_pose"), np.asarray(self.tool),
                        self.name, self.source)

    def __repr__(self) -> str:
        tips = (f"tip_link={self.tip_link!r}" if len(self.tip_links) == 1
                else f"tip_links={self.tip_links!r}")
        return f"Robot({self.name!r}, dof={self.dof}, base_link={self.base_link!r}, {tips})"

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Pickle as the parsed URDF plus choices (process pools, Dask workers); chains are
        # rebuilt on the other side.
        return (_rebuild, (self.model, self.base_link, list(self.tip_links),
                           np.asarray(self.base_pose), np.asarray(self.tool), self.name,
                           self.source))


def _rebuild(model: URDFModel, base: str, tips: list[str], base_pose: Array, tool: Array,
             name: str, source: str) -> Robot:
    with warnings.catch_warnings():  # warned when first loaded
        warnings.simplefilter("ignore")
        robot = robot_from_urdf(model, base, tips if len(tips) > 1 else tips[0],
                                base_pose=base_pose, tool=tool, name=name)
    object.__setattr__(robot, "source", source)
    return robot


def _align_z_many(axes: Array) -> Array:
    """``(m, 3, 3)`` rotations taking local +z to each unit axis of ``axes`` ``(m, 3)`` (the
    batched form of :func:`_align_z`, same formula)."""
    a = np.asarray(axes, dtype=float).reshape(-1, 3)
    c = a[:, 2]
    v = np.stack([-a[:, 1], a[:, 0], np.zeros(len(a))], axis=1)  # z × a
    s = np.linalg.norm(v, axis=1)
    general = (c <= 1.0 - 1e-12) & (c >= -1.0 + 1e-12)
    k = np.zeros_like(v)
    k[general] = v[general] / s[general, None]
    K = np.zeros((len(a), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    K[:, 1, 0], K[:, 2, 0], K[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    R = np.eye(3) + s[:, None, None] * K + (1 - c)[:, None, None] * (K @ K)
    R[c > 1.0 - 1e-12] = np.eye(3)
    R[c < -1.0 + 1e-12] = np.diag([1.0, -1.0, -1.0])
    return R


def _build_chain(robot: Robot, link: str | None) -> Chain:
    """Chain of ``link`` (``None``: the single tip with the tool); linear in its length.

    The constant matrices (origins, axis alignments) are computed in batch; only one
    ``(4, 4)`` product per joint is left to the Python loop (a 10,000-joint chain takes
    tens of milliseconds).
    """
    joints = robot._tree.path(robot.base_link, robot.tip_link if link is None else link)
    T = np.array(robot.base_pose)
    if joints:
        origins = transform(rpy_to_matrix(np.array([j.rpy for j in joints], dtype=float)),
                      np.array([j.xyz for j in joints], dtype=float))
    else:
        origins = np.zeros((0, 4, 4))
    moving = [k for k, j in enumerate(joints) if j.type != "fixed"]
    A = transform(_align_z_many(np.array([joints[k].axis for k in moving], dtype=float)))
    L = origins[moving] @ A         # origin, then the joint axis onto local +z
    A_inv = np.swapaxes(A, -1, -2)  # pure rotations: inverse = transpose
    mats, rev, qi, mult, off = [], [], [], [], []
    i = 0
    for k, j in enumerate(joints):
        if j.type == "fixed":
            T = T @ origins[k]
            continue
        mats.append(T @ L[i])
        T = A_inv[i]
        i += 1
        rev.append(j.type != "prismatic")
        qk, m, o = robot._q_of[j.name]
        qi.append(qk)
        mult.append(m)
        off.append(o)
    if link is None:
        T = T @ robot.tool
    n = len(mats)
    if n == 0:
        return Chain(link, 0, T, np.zeros((0, 4, 4)), np.zeros(0, bool),
                     np.zeros(0, np.intp), np.zeros(0), np.zeros(0), True)
    q_index = np.array(qi, dtype=np.intp)
    simple = bool(np.array_equal(q_index, np.arange(n)) and np.all(np.array(mult) == 1)
                  and not np.any(off))
    return Chain(link, n, mats[0], np.stack(mats[1:] + [np.array(T)]), np.array(rev), q_index,
                 np.array(mult, dtype=float), np.array(off, dtype=float), simple)


def _leader(model: URDFModel, by_name: Mapping[str, URDFJoint], j: URDFJoint
            ) -> tuple[URDFJoint, float, float]:
    """The final (non-mimic) leader of a mimic joint and the composed ``θ = m q + o``."""
    m, o, seen = 1.0, 0.0, {j.name}
    cur = j
    while cur.mimic is not None:
        name, mm, oo = cur.mimic
        leader = by_name.get(name)
        if leader is None or leader.type not in MOVING:
            raise URDFError(f"joint {cur.name!r} mimics {name!r}, which is not a moving joint "
                            "of this URDF", model.source, cur.line)
        if leader.name in seen:
            raise URDFError(f"joint {cur.name!r}: mimic joints form a cycle through "
                            f"{leader.name!r}", model.source, cur.line)
        seen.add(leader.name)
        m, o = m * mm, m * oo + o
        cur = leader
    return cur, m, o


def robot_from_urdf(
    urdf: URDFModel | str | bytes,
    base: str | None = None,
    tip: str | Sequence[str] | None = None,
    *,
    base_pose: ArrayLike | None = None,
    tool: ArrayLike | None = None,
    name: str | None = None,
) -> Robot:
    """Build a :class:`Robot` from a parsed URDF (or URDF text).

    Args:
        urdf: A :class:`~kinematics.urdf.URDFModel` or the XML text.
        base: Base link (default: the URDF's root link).
        tip: Tip link, or a list of tips (one robot, one ``q`` over every path). Default:
            the single leaf below ``base``, or the whole subtree when it branches.
        base_pose: ``(4, 4)`` pose of ``base`` in the frame results are expressed in.
        tool: ``(4, 4)`` tool frame relative to the (single) tip.
        name: Robot name (default: the URDF's).

    Raises:
        URDFError: Unknown base/tip, a tip not below the base, a floating/planar joint or a
            defect (file:line) on the model, a mimic of a joint that is not a moving joint.
        InvalidValueError: Arguments of the wrong type; a non-rigid ``base_pose``/``tool``.

    Warns:
        URDFWarning: One per defect of the file outside the model (the model loads).
    """
    if isinstance(urdf, URDFModel):
        model = urdf
    elif isinstance(urdf, (str, bytes)):
        model = parse_urdf(urdf)
    else:
        raise InvalidValueError(f"urdf={_checks.show(urdf)}; expected a URDFModel or URDF text")
    src = model.source
    if base is not None:
        _checks.name(base, "base")
    if name is not None:
        _checks.name(name, "name")
    if tip is None or isinstance(tip, str):
        tips_in = None if tip is None else [tip]
    elif isinstance(tip, Sequence) and tip and all(isinstance(t, str) for t in tip):
        tips_in = list(dict.fromkeys(tip))
    else:
        raise InvalidValueError(f"tip={_checks.show(tip)}; expected a link name, a non-empty "
                                "list of link names, or None")
    T_base, T_tool = _checks.model_pose(base_pose, "base_pose"), _checks.model_pose(tool, "tool")
    tree = _Tree.of(model)
    base = tree.root if base is None else base
    for role, link in [("base", base)] + [("tip", t) for t in tips_in or []]:
        if link not in model.link_lines:
            guess = did_you_mean(link, model.links)
            raise URDFError(f"{role} link {link!r} does not exist"
                            f"{f' (did you mean {guess!r}?)' if guess else ''}; available "
                            f"links: {format_names(nearest_names(link, model.links), 300)}",
                            src)
    below = tree.below(base)
    below_set = set(below)
    if tips_in is None:
        leaves = [link for link in below if link not in tree.children]
        tips = leaves or [base]  # nothing below the base (a single-link file): 0 DoF
    else:
        for t in tips_in:
            if t not in below_set:  # t == base: a 0-DoF chain (identity pose)
                raise URDFError(f"tip link {t!r} is not below base link {base!r}; links below "
                                f"{base!r}: {format_names(nearest_names(t, below[1:]), 300)}",
                                src)
        tips = tips_in
    # joints on the paths base → tips
    on_path: dict[str, URDFJoint] = {}
    for t in tips:
        link = t
        while link != base and tree.by_child[link].name not in on_path:
            j = tree.by_child[link]
            on_path[j.name] = j
            link = j.parent
    by_name = {j.name: j for j in model.joints}
    defects: dict[tuple[str, str], list[Any]] = {}
    for d in getattr(model, "defects", ()):
        defects.setdefault((d.kind, d.name), []).append(d)

    def refuse(kind: str, element: str) -> None:
        if defects.get((kind, element)):
            d = defects[(kind, element)][0]
            raise URDFError(d.message, src, d.line)

    for j in on_path.values():
        refuse("joint", j.name)
        if j.type in ("floating", "planar"):
            raise URDFError(f"joint {j.name!r} is {j.type}; only revolute, continuous, "
                            "prismatic and fixed joints are supported in a chain", src, j.line)
    # degrees of freedom: moving joints on the paths and the leaders of their mimics
    dof_joints: dict[str, URDFJoint] = {}
    q_map: dict[str, tuple[str, float, float]] = {}
    for j in on_path.values():
        if j.type not in MOVING:
            continue
        if j.mimic is None:
            dof_joints[j.name] = j
            q_map[j.name] = (j.name, 1.0, 0.0)
        else:
            leader, m, o = _leader(model, by_name, j)
            refuse("joint", leader.name)
            dof_joints[leader.name] = leader
            q_map[j.name] = (leader.name, m, o)
    actuated = sorted(dof_joints.values(), key=lambda j: tree.order[j.child])
    index = {j.name: i for i, j in enumerate(actuated)}
    q_of: dict[str, tuple[int, float, float]] = {}
    for jn, (leader_name, m, o) in q_map.items():
        q_of[jn] = (index[leader_name], m, o)
    for j in dof_joints.values():
        q_of.setdefault(j.name, (index[j.name], 1.0, 0.0))
    # evaluable links: below the base, every joint on the way fixed or known to the model
    links: list[str] = [base]
    ok = {base}
    used_joints = set(on_path) | set(dof_joints)
    for link in below[1:]:
        j = tree.by_child[link]
        if j.parent not in ok or j.type not in ("fixed", *MOVING):
            continue
        if j.name not in used_joints:
            if defects.get(("joint", j.name)):
                continue
            if j.type in MOVING and j.name not in q_of:
                if j.mimic is None:
                    continue
                try:
                    leader, m, o = _leader(model, by_name, j)
                except URDFError:
                    continue
                if leader.name not in index:
                    continue
                q_of[j.name] = (index[leader.name], m, o)
            used_joints.add(j.name)
        ok.add(link)
        links.append(link)
    path_links = {base, *(j.child for j in on_path.values())}
    for link in sorted(path_links, key=tree.order.__getitem__):
        if defects.get(("link", link)):
            d = defects[("link", link)][0]
            raise URDFError(d.message, src, d.line)
    for note in getattr(model, "notes", ()):
        if note.name in used_joints:
            where = src if note.line is None else f"{src}:{note.line}"
            warnings.warn(URDFWarning(f"{where}: {note.message}"), stacklevel=2)
    for (kind, element), found in defects.items():
        if element not in (used_joints if kind == "joint" else path_links):
            for d in found:
                where = src if d.line is None else f"{src}:{d.line}"
                warnings.warn(URDFWarning(
                    f"{where}: {d.message} ({kind} {element!r} is not part of the requested "
                    "model; ignored)"), stacklevel=2)
    lim = np.array([[j.lower, j.upper] if j.type != "continuous" else [-np.inf, np.inf]
                    for j in actuated]).reshape(-1, 2)

    def given(x: float) -> float:
        return x if x > 0 else np.inf  # <limit velocity="0" effort="0">: not given

    if len(tips) == 1:
        link_names = (base, *(j.child for j in tree.path(base, tips[0])))
    else:
        link_names = (base, *(lk for lk in below if lk in path_links and lk != base))
    return Robot(
        name=name or model.name or Path(src).stem,
        source=src,
        base_link=base,
        tip_link=tips[0],
        tip_links=tuple(tips),
        joint_names=tuple(j.name for j in actuated),
        joint_types=tuple(j.type for j in actuated),
        joint_axes=_readonly(np.array([j.axis for j in actuated]).reshape(-1, 3)),
        joint_limits=_readonly(lim),
        velocity_limits=_readonly([given(j.velocity) for j in actuated]),
        effort_limits=_readonly([given(j.effort) for j in actuated]),
        link_names=link_names,
        links=tuple(links),
        base_pose=_readonly(T_base),
        tool=_readonly(T_tool),
        # every mimic joint the model evaluates: on the paths, and off them (links hanging
        # off the paths through a mimic of one of the model's joints)
        mimic=MappingProxyType({jn: (actuated[i].name, m, o) for jn, (i, m, o) in q_of.items()
                                if jn not in index}),
        model=model,
        _tree=tree,
        _q_of=MappingProxyType(q_of),
    )


def list_robots() -> list[str]:
    """Names of the bundled robot descriptions (``kin.load_robot(name)`` loads one)."""
    from . import robots

    return robots.names()


def load_robot(
    name_or_path: str | os.PathLike[str],
    base: str | None = None,
    tip: str | Sequence[str] | None = None,
    *,
    base_pose: ArrayLike | None = None,
    tool: ArrayLike | None = None,
    xacro_args: Mapping[str, str] | None = None,
    package_dirs: Sequence[str | os.PathLike[str]] | None = None,
) -> Robot:
    """Load a bundled robot by name, or any URDF, ``.xacro`` or MJCF file by path.

    Args:
        name_or_path: A name from :func:`list_robots` (case-insensitive) or a path to a
            ``.urdf`` file (or a ``.xacro`` file, expanded with the ``xacro`` extra, or an
            MJCF ``<mujoco>`` file, compiled by MuJoCo with the ``mjcf`` extra: see
            :mod:`kinematics.mjcf`); an existing file wins over a bundled name.
        base: Base link (bundled robots: their registered base; files: the root link).
        tip: Tip link or list of tips (bundled robots: their registered tip; files: the
            single leaf, or the whole subtree under ``base`` when it branches).
        base_pose: ``(4, 4)`` pose of the base in the frame results are expressed in.
        tool: ``(4, 4)`` tool frame relative to the tip.
        xacro_args: ``name: value`` arguments of a ``.xacro`` file.
        package_dirs: Folders where ``$(find pkg)`` and ``package://pkg`` are looked up.

    Raises:
        UnknownRobotError: Neither a bundled name nor an existing file; says the nearest
            bundled name and lists them, nearest first.
        URDFError: The file is not a valid URDF/MJCF, is in an unsupported format (SDF, ...),
            or the model cannot be built.
        InvalidValueError: Arguments of the wrong type.

    >>> robot = load_robot("planar2r")
    >>> robot.dof, robot.joint_names
    (2, ('joint1', 'joint2'))
    """
    from . import robots

    if not isinstance(name_or_path, (str, os.PathLike)):
        raise InvalidValueError(f"name_or_path={_checks.show(name_or_path)}; expected a "
                                f"bundled robot name {robots.names()} or a URDF file path")
    key = os.fspath(name_or_path)
    if base is not None:
        _checks.name(base, "base")
    if tip is not None and not isinstance(tip, str) and not (
            isinstance(tip, Sequence) and all(isinstance(t, str) for t in tip)):
        raise InvalidValueError(f"tip={_checks.show(tip)}; expected a link name, a list of "
                                "link names, or None")
    if tip is not None and not isinstance(tip, str) and len(tip) == 0:
        raise InvalidValueError("tip=[]: expected a link name, a non-empty list of link names, "
                                "or None (the default tip)")
    if key not in robots.REGISTRY and not os.path.exists(key):
        key = {n.lower(): n for n in robots.REGISTRY}.get(key.lower(), key)  # "UR5" -> "ur5"
    if key in robots.REGISTRY:
        entry = robots.REGISTRY[key]
        model = read_urdf(robots.urdf_path(key))
        return robot_from_urdf(model, base or entry.base, tip or entry.tip,
                               base_pose=base_pose, tool=tool, name=key)
    if os.path.isfile(key):
        from . import _mjcf  # MJCF compiled by MuJoCo (extra [mjcf]); SDF etc. refused there

        if _mjcf.file_format(key) == "mjcf":
            if xacro_args:
                raise InvalidValueError("xacro_args are given but the file is MJCF; expected a "
                                        "xacro file")
            mj = _mjcf.read_mjcf(key, package_dirs=package_dirs)
            return robot_from_urdf(mj, *mj.ends(base, tip), base_pose=base_pose, tool=tool,
                                   name=mj.name or None)
        model = read_urdf(key, xacro_args=xacro_args, package_dirs=package_dirs)
        return robot_from_urdf(model, base, tip, base_pose=base_pose, tool=tool)
    raise UnknownRobotError(key, robots.names())

"""Safe URDF reader: XML text → a tree of links and joints (no kinematics yet).

Only what kinematics needs is read: link names, and for each joint its type, parent,
child, ``origin`` (xyz [m], rpy [rad]), and for moving joints (revolute, continuous,
prismatic) ``axis`` (normalised; default x per the URDF spec), ``limit`` (lower/upper
[rad or m], velocity [rad/s or m/s], effort [N·m or N]) and ``mimic`` (joint, multiplier,
offset). Meshes, inertials, visuals and collisions are never read.

**Safety.** Any DOCTYPE (and with it entity definitions, billion laughs and external
entities) is refused before anything is expanded. Input is capped in size
(:data:`DEFAULT_MAX_BYTES`, env ``KINEMATICS_URDF_MAX_BYTES``) and in number of
``<link>`` + ``<joint>`` elements (:data:`DEFAULT_MAX_ELEMENTS`, env
``KINEMATICS_URDF_MAX_ELEMENTS``). Parsing is linear in the size of the document, and only
the elements listed above are kept in memory.

**File-level problems raise** :class:`~kinematics.URDFError` (file:line): malformed XML, a
DOCTYPE or entity, a root that is not ``<robot>``, no links, a link or joint without a
name, a duplicate link or joint name, a joint without ``<parent link>``/``<child link>``
or naming an undeclared link, a link with two parents, no root or several roots (cycles,
disconnected links).

**Per-element defects are data** (:class:`Defect`, in :attr:`URDFModel.defects`): an
unknown joint type, a malformed, non-finite or out-of-range number, a zero axis, inverted
limits, a mimic without ``joint=``, of a
missing or non-moving joint, of itself or in a cycle. The joint is still in
:attr:`URDFModel.joints`, with safe placeholders (see :class:`URDFJoint`), so the tree is
intact; :meth:`URDFModel.defect_error` gives the error its first defect stands for, for
the caller to raise when the element is part of the model it was asked for.

**Leniency** (what real files write, and what urdfdom, PyBullet and their users accept):
a revolute or prismatic joint without ``<limit>`` is unlimited (recorded in
:attr:`URDFModel.notes`; building a robot warns once, file:line); ``velocity``/``effort``
≤ 0 means "not given"
(``inf``); a lower limit below ``-MAX_LIMIT`` or an upper limit above ``MAX_LIMIT``
means "unbounded on that side" (``∓inf``; files write ±1e16 for that); whitespace before
the XML declaration and NUL bytes after the document are ignored.

**Bounds on numbers** (beyond them a number is a defect naming file, line and attribute):
origin xyz ``|x| ≤ MAX_LENGTH = 1e9`` m; origin rpy ``|a| ≤ MAX_ANGLE = 1e6`` rad; a lower
limit above ``MAX_LIMIT = 1e6`` or an upper limit below ``-MAX_LIMIT`` (rad or m); mimic
multiplier and offset ``|m| ≤ MAX_LIMIT``; velocity and effort above ``MAX_RATE = 1e12``
mean "not given". An axis may have any finite components: it is scaled by its largest
component before it is normalised, so ``0 0 1e200`` is the unit z axis. Every number must
be a plain finite decimal: ``nan``, ``inf``, literals that overflow a double (``1e400``),
``1_0`` and ``0.07,`` are defects.

**xacro:** :func:`read_urdf` expands ``*.xacro`` files first (optional extra ``xacro``; see
:mod:`kinematics._xacro`).
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from . import _checks
from .exceptions import URDFError, format_names, truncate
from .spatial import rpy_to_matrix, transform

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ELEMENTS",
    "Defect",
    "URDFJoint",
    "URDFModel",
    "parse_urdf",
    "read_urdf",
]

JOINT_TYPES = ("revolute", "continuous", "prismatic", "fixed", "floating", "planar")
MOVING_TYPES = ("revolute", "continuous", "prismatic")

#: Largest size of a URDF document, in bytes (64 MiB). Env: ``KINEMATICS_URDF_MAX_BYTES``.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Largest number of ``<link>`` plus ``<joint>`` elements. Env:
#: ``KINEMATICS_URDF_MAX_ELEMENTS``.
DEFAULT_MAX_ELEMENTS = 200_000
MAX_BYTES_ENV = "KINEMATICS_URDF_MAX_BYTES"
MAX_ELEMENTS_ENV = "KINEMATICS_URDF_MAX_ELEMENTS"

#: Largest |origin xyz| component [m].
MAX_LENGTH = 1e9
#: Largest |origin rpy| component [rad].
MAX_ANGLE = 1e6
#: Joint limits beyond ±MAX_LIMIT [rad or m] mean "unbounded"; mimic multiplier/offset bound.
MAX_LIMIT = 1e6
#: velocity [rad/s or m/s] and effort [N·m or N] above this mean "not given".
MAX_RATE = 1e12

_FLOAT_MAX = sys.float_info.max
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_LATE_DECLARATION = re.compile(rb"(\s+)(<\?xml[^>]*\?>)")
_LATE_DECLARATION_STR = re.compile(r"(\s+)(<\?xml[^>]*\?>)")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_JOINT_CHILDREN = frozenset(("parent", "child", "origin", "axis", "limit", "mimic"))


class _Node:
    """An XML element as kept: tag, attributes, start line, kept children."""

    __slots__ = ("tag", "attrib", "line", "children")

    def __init__(self, tag: str, attrib: dict[str, str], line: int):
        self.tag = tag
        self.attrib = attrib
        self.line = line
        self.children: list[_Node] = []

    def find(self, tag: str) -> _Node | None:
        """First child with this tag (as urdfdom: later duplicates are ignored)."""
        for c in self.children:
            if c.tag == tag:
                return c
        return None

    def findall(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]


class _Refused(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _parse_xml(data: str | bytes, source: str, max_elements: int) -> _Node:
    """Parse with expat, keeping only ``<robot>``, its ``<link>``/``<joint>`` children and
    the joint sub-elements kinematics reads (memory stays linear in what is used)."""
    parser = expat.ParserCreate()
    stack: list[_Node | None] = []
    root: list[_Node] = []
    count = 0

    def refuse_doctype(*_args: object) -> None:
        raise _Refused(
            "DOCTYPE declarations are not allowed in URDF (entities are never expanded); "
            "remove the <!DOCTYPE ...> block",
            parser.CurrentLineNumber,
        )

    def refuse_entity(*_args: object) -> None:
        raise _Refused("entity declarations are not allowed in URDF", parser.CurrentLineNumber)

    def start(tag: str, attrib: dict[str, str]) -> None:
        nonlocal count
        depth = len(stack)
        if depth == 1:
            if tag != "link" and tag != "joint":
                stack.append(None)
                return
            count += 1
            if count > max_elements:
                raise _Refused(
                    f"more than {max_elements} <link> + <joint> elements (the cap); raise it "
                    f"with max_elements= or the environment variable {MAX_ELEMENTS_ENV}",
                    parser.CurrentLineNumber,
                )
        elif depth:
            parent = stack[-1]
            if depth > 2 or parent is None or parent.tag != "joint" or tag not in _JOINT_CHILDREN:
                stack.append(None)
                return
        node = _Node(tag, attrib, parser.CurrentLineNumber)
        (stack[-1].children if depth else root).append(node)  # type: ignore[union-attr]
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise URDFError(str(exc), source, exc.line) from None
    except expat.ExpatError as exc:
        message = f"malformed XML: {expat.ErrorString(exc.code)}"
        raise URDFError(message, source, exc.lineno) from None
    except (LookupError, ValueError) as exc:  # encoding="bogus", "UTF-32" in the declaration
        head = data[:200] if isinstance(data, bytes) else data[:200].encode("utf-8", "replace")
        m = _ENCODING.search(head)
        declared = m.group(1).decode("ascii", "replace") if m else "?"
        raise URDFError(f"the XML declaration names encoding {truncate(repr(declared), 60)}, "
                        f"which cannot be used ({exc}); expected a known encoding such as "
                        "'UTF-8'", source, 1) from None
    if not root:
        raise URDFError("empty document, expected a <robot> element", source)
    return root[0]


@dataclass(frozen=True)
class Defect:
    """A per-element defect of a URDF document, recorded instead of raised.

    Only joints have defects today (a link contributes only its name, whose problems are
    file-level); ``kind="link"`` is reserved for link-level checks.

    Attributes:
        kind: ``"joint"`` or ``"link"``.
        name: Name of the joint or link.
        line: 1-based line of the offending element (the sub-element, e.g. ``<limit>``).
        message: What is wrong and what was expected, without file and line.
    """

    kind: str
    name: str
    line: int | None
    message: str


@dataclass(frozen=True)
class URDFJoint:
    """One ``<joint>`` element, as read (units SI).

    A joint with a defect (see :attr:`URDFModel.defects`) carries safe placeholders for
    what could not be read: type ``"fixed"`` for an unknown type, zero ``xyz``/``rpy``,
    axis ``(0, 0, 1)``, limits ``(-inf, inf)``, velocity/effort ``inf``, no mimic.

    Attributes:
        xyz: Origin translation in the parent link frame [m].
        rpy: Origin roll-pitch-yaw (fixed axes x-y-z) [rad].
        axis: Unit joint axis in the joint frame (``(1, 0, 0)`` if absent; not read for
            fixed, floating and planar joints).
        lower, upper: Position limits [rad or m]; ``(-inf, inf)`` for continuous joints and
            for no limit.
        velocity, effort: Limits [rad/s or m/s, N·m or N]; ``inf`` when not given (≤ 0).
        mimic: ``(leader joint, multiplier, offset)``: ``q = multiplier·q_leader + offset``.
        line: Line of the ``<joint>`` element.
    """

    name: str
    type: str
    parent: str
    child: str
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    axis: tuple[float, float, float]
    lower: float
    upper: float
    velocity: float
    effort: float
    mimic: tuple[str, float, float] | None  # (leader joint, multiplier, offset)
    line: int

    @property
    def origin(self) -> np.ndarray:
        """``(4, 4)`` transform from the parent link frame to the joint's zero-motion frame."""
        return transform(rpy_to_matrix(self.rpy), self.xyz)


@dataclass(frozen=True)
class URDFModel:
    """A parsed URDF document: robot name, links and joints in document order.

    Attributes:
        name: ``<robot name>``.
        source: File path (or ``"<string>"``) used in messages.
        links: Link names in document order.
        joints: Joints in document order, defective ones included (with placeholders).
        link_lines: Line of each ``<link>`` element.
        defects: Per-element defects in document order (empty for a clean file).
        notes: What the reader assumed where the file says nothing (a revolute or prismatic
            joint without ``<limit>``: unlimited), as :class:`Defect` records; building a
            robot warns once (:class:`~kinematics.URDFWarning`, file:line) for each element
            of the model it concerns.
    """

    name: str
    source: str
    links: tuple[str, ...]
    joints: tuple[URDFJoint, ...]
    link_lines: dict[str, int]
    defects: tuple[Defect, ...] = ()
    notes: tuple[Defect, ...] = ()
    _by_name: dict[str, URDFJoint] = field(init=False, repr=False, compare=False)
    _by_child: dict[str, URDFJoint] = field(init=False, repr=False, compare=False)
    _children: dict[str, tuple[URDFJoint, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        children: dict[str, list[URDFJoint]] = {}
        for j in self.joints:
            children.setdefault(j.parent, []).append(j)
        object.__setattr__(self, "_by_name", {j.name: j for j in self.joints})
        object.__setattr__(self, "_by_child", {j.child: j for j in self.joints})
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    @property
    def root(self) -> str:
        """The root link (the one link that is no joint's child)."""
        return next(link for link in self.links if link not in self._by_child)

    def joint(self, name: str) -> URDFJoint:
        """The joint called ``name`` (O(1)).

        Raises:
            KeyError: No such joint.
        """
        return self._by_name[name]

    def parent_joint(self, link: str) -> URDFJoint | None:
        """The joint whose child is ``link`` (``None`` for the root or an unknown link)."""
        return self._by_child.get(link)

    def child_joints(self, link: str) -> tuple[URDFJoint, ...]:
        """The joints whose parent is ``link``, in document order."""
        return self._children.get(link, ())

    def defects_of(self, names: Iterable[str], kind: str | None = None) -> list[Defect]:
        """The defects of the named elements, in document order.

        Args:
            names: Joint and/or link names.
            kind: ``"joint"`` or ``"link"`` to match only that kind (default: both).
        """
        wanted = set(names)
        return [d for d in self.defects
                if d.name in wanted and (kind is None or d.kind == kind)]

    def defect_error(self, name: str, kind: str | None = None) -> URDFError | None:
        """The :class:`~kinematics.URDFError` (file:line) that the first defect of the
        element ``name`` stands for, or ``None`` if the element has no defect.

        Args:
            name: A joint or link name.
            kind: ``"joint"`` or ``"link"`` to match only that kind (default: both).
        """
        found = self.defects_of((name,), kind)
        if not found:
            return None
        d = found[0]
        return URDFError(d.message, self.source, d.line)


class _JointReader:
    """Reads one ``<joint>``; records defects (first one first) instead of raising."""

    def __init__(self, name: str, node: _Node):
        self.name = name
        self.node = node
        self.kids: dict[str, _Node] = {}
        for c in reversed(node.children):  # the first of duplicates wins, as in urdfdom
            self.kids[c.tag] = c
        self.problems: list[tuple[int, str]] = []
        self.notes: list[tuple[int, str]] = []  # lenient readings: warned about, not defects

    def defect(self, line: int, message: str) -> None:
        self.problems.append((line, f"joint {self.name!r}: {message}"))

    def numbers(self, el: _Node | None, attr: str, n: int, default: tuple[float, ...],
                bound: float | None = None, unit: str = "") -> tuple[float, ...] | None:
        """``n`` finite numbers from ``el``'s attribute (``default`` if absent), or ``None``
        (with a defect recorded) if the value is malformed, non-finite or beyond ``bound``."""
        if el is None:
            return default
        raw = el.attrib.get(attr)
        if raw is None:
            return default
        tokens = raw.split()
        if len(tokens) == n and raw.isascii() and "_" not in raw:  # fast path: plain numbers
            try:
                fast = tuple(map(float, tokens))
            except ValueError:
                fast = None
            limit = _FLOAT_MAX if bound is None else bound
            # min/max skip a nan, the sum does not (a finite sum that overflows: slow path)
            if (fast is not None and -limit <= min(fast) and max(fast) <= limit
                    and math.isfinite(sum(fast))):
                return fast
        # slow path: say what is wrong
        what = f"<{el.tag} {attr}={truncate(raw, 80)!r}>: expected {n} finite number(s)"
        if bound is not None:
            what += f" of magnitude ≤ {bound:g}{unit}"
        if len(tokens) != n:
            self.defect(el.line, f"{what}, got {len(tokens)} value(s)")
            return None
        vals = []
        for tok in tokens:
            shown = truncate(tok, 40)
            if not _NUMBER.fullmatch(tok):
                try:
                    bad = f"{shown!r} is not finite" if not math.isfinite(float(tok)) else None
                except ValueError:
                    bad = None
                self.defect(el.line, f"{what}; {bad or repr(shown) + ' is not a number'}")
                return None
            v = float(tok)
            if not math.isfinite(v):
                self.defect(el.line, f"{what}; {shown!r} overflows a double")
                return None
            if bound is not None and abs(v) > bound:
                self.defect(el.line, f"{what}; {shown!r} is out of range")
                return None
            vals.append(v)
        return tuple(vals)

    def read(self) -> URDFJoint:
        node, name = self.node, self.name
        jtype = node.attrib.get("type")
        if jtype not in JOINT_TYPES:
            self.defect(node.line, f"has type {truncate(repr(jtype), 60)}; expected one of "
                                   f"{list(JOINT_TYPES)}")
            jtype = "fixed"
        links = {}
        for tag in ("parent", "child"):
            el = self.kids.get(tag)
            if el is None or not el.attrib.get("link"):
                # the tree cannot be built without it: a file-level error
                raise _Refused(f"joint {name!r} has no <{tag} link=...>", node.line)
            links[tag] = el.attrib["link"]
        origin = self.kids.get("origin")
        xyz = self.numbers(origin, "xyz", 3, (0.0, 0.0, 0.0), MAX_LENGTH, " m") or (0.0,) * 3
        rpy = self.numbers(origin, "rpy", 3, (0.0, 0.0, 0.0), MAX_ANGLE, " rad") or (0.0,) * 3
        axis: tuple[float, ...] = (1.0, 0.0, 0.0)
        lower, upper, velocity, effort = -math.inf, math.inf, math.inf, math.inf
        mimic = None
        if jtype in MOVING_TYPES:
            axis = self.axis()
            lower, upper, velocity, effort = self.limits(jtype)
            mimic = self.mimic()
        return URDFJoint(
            name, jtype, links["parent"], links["child"], xyz, rpy, axis,  # type: ignore[arg-type]
            lower, upper, velocity, effort, mimic, node.line,
        )

    def axis(self) -> tuple[float, ...]:
        el = self.kids.get("axis")
        raw = self.numbers(el, "xyz", 3, (1.0, 0.0, 0.0))
        if raw is None:
            return (0.0, 0.0, 1.0)
        scale = max(map(abs, raw))  # scale first: the norm of (0, 0, 1e200) overflows
        if scale == 0.0:
            self.defect(el.line if el is not None else self.node.line,
                        f"has a zero axis {raw}; expected a non-zero direction")
            return (0.0, 0.0, 1.0)
        if scale != 1.0:
            raw = tuple(a / scale for a in raw)
        norm = math.hypot(*raw)
        return raw if norm == 1.0 else tuple(a / norm for a in raw)

    def limits(self, jtype: str) -> tuple[float, float, float, float]:
        el = self.kids.get("limit")
        if el is None:
            if jtype != "continuous":  # lenient, as urdfdom-based tools: unlimited
                self.notes.append((self.node.line, f"joint {self.name!r}: is {jtype} but has "
                                                   "no <limit>; read as unlimited (±inf), as "
                                                   "other URDF tools do"))
            return -math.inf, math.inf, math.inf, math.inf
        rates = []
        for attr in ("velocity", "effort"):
            v = self.numbers(el, attr, 1, (math.inf,))
            # <= 0 (or absent, or absurdly large) means "not given"
            rates.append(math.inf if v is None or not 0 < v[0] <= MAX_RATE else v[0])
        if jtype == "continuous":
            return -math.inf, math.inf, rates[0], rates[1]
        lo = self.numbers(el, "lower", 1, (0.0,))
        hi = self.numbers(el, "upper", 1, (0.0,))
        if lo is None or hi is None:
            return -math.inf, math.inf, rates[0], rates[1]
        lower = -math.inf if lo[0] < -MAX_LIMIT else lo[0]  # ±1e16 in real files: unbounded
        upper = math.inf if hi[0] > MAX_LIMIT else hi[0]
        if lower > MAX_LIMIT or upper < -MAX_LIMIT:
            self.defect(el.line, f"limit lower={lo[0]:g} upper={hi[0]:g} is out of range; "
                                 f"expected |lower|, |upper| ≤ {MAX_LIMIT:g} (a lower limit "
                                 f"below -{MAX_LIMIT:g} or an upper limit above it reads as "
                                 "unbounded)")
            return -math.inf, math.inf, rates[0], rates[1]
        if lower > upper:
            self.defect(el.line, f"limit lower={lower} > upper={upper}")
            return -math.inf, math.inf, rates[0], rates[1]
        return lower, upper, rates[0], rates[1]

    def mimic(self) -> tuple[str, float, float] | None:
        el = self.kids.get("mimic")
        if el is None:
            return None
        leader = el.attrib.get("joint")
        if not leader:
            self.defect(el.line, "<mimic> without joint=")
            return None
        mult = self.numbers(el, "multiplier", 1, (1.0,), MAX_LIMIT)
        off = self.numbers(el, "offset", 1, (0.0,), MAX_LIMIT)
        if mult is None or off is None:
            return None
        return (leader, mult[0], off[0])


def _check_mimics(joints: list[URDFJoint], readers: list[_JointReader]) -> list[URDFJoint]:
    """Record mimic defects that need the whole file (missing, non-moving, self, cycles) and
    drop the mimic of each such joint (placeholder)."""
    by_name = {j.name: j for j in joints}
    reader_of = {r.name: r for r in readers}
    bad: set[str] = set()
    for j, r in zip(joints, readers, strict=True):
        if j.mimic is None:
            continue
        leader = by_name.get(j.mimic[0])
        shown = truncate(repr(j.mimic[0]), 60)
        if leader is None:
            r.defect(j.line, f"mimics {shown}, which is not a joint in this URDF")
        elif leader.name == j.name:
            r.defect(j.line, "mimics itself")
        elif leader.type not in MOVING_TYPES and reader_of[leader.name].problems:
            r.defect(j.line, f"mimics {shown}, which has a defect of its own (line "
                             f"{reader_of[leader.name].problems[0][0]})")
        elif leader.type not in MOVING_TYPES:
            r.defect(j.line, f"mimics {shown}, which is a {leader.type} joint; expected a "
                             "revolute, continuous or prismatic leader")
        else:
            continue
        bad.add(j.name)
    # cycles a → b → a: each joint has at most one leader, so one walk per joint, each
    # joint visited once overall (0 new, 1 on the current walk, 2 done)
    state = dict.fromkeys(by_name, 0)
    for j in joints:
        walk: list[str] = []
        k: URDFJoint | None = j
        while k is not None and state[k.name] == 0:
            state[k.name] = 1
            walk.append(k.name)
            k = by_name.get(k.mimic[0]) if k.mimic is not None and k.name not in bad else None
        if k is not None and state[k.name] == 1:  # closed a loop: k and what follows it
            cycle = walk[walk.index(k.name):]
            for name in cycle:
                reader_of[name].defect(by_name[name].line, "mimic chain is a cycle through "
                                                           f"{format_names(cycle, 200)}")
            bad.update(cycle)
        for name in walk:
            state[name] = 2
    if not bad:
        return joints
    return [j if j.name not in bad else URDFJoint(
        j.name, j.type, j.parent, j.child, j.xyz, j.rpy, j.axis, j.lower, j.upper,
        j.velocity, j.effort, None, j.line) for j in joints]


def _prepare(text: str | bytes, source: str, max_bytes: int) -> str | bytes:
    """Check the size; forgive blank lines before the XML declaration and NUL padding after
    the document. A ``str`` stays a ``str`` (expat then ignores a declared encoding)."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8"))
    if size > max_bytes:
        raise URDFError(f"document is {size} bytes, more than the cap of {max_bytes} bytes; "
                        f"raise it with max_bytes= or the environment variable "
                        f"{MAX_BYTES_ENV}", source)
    if isinstance(text, bytes):
        decl = _LATE_DECLARATION.match(text)
        if decl:  # move <?xml ...?> first: every line number stays what it was
            text = decl.group(2) + decl.group(1) + text[decl.end():]
        return text.rstrip(b"\0")
    sdecl = _LATE_DECLARATION_STR.match(text)
    if sdecl:
        text = sdecl.group(2) + sdecl.group(1) + text[sdecl.end():]
    return text.rstrip("\0")


def _declare(el: _Node, kind: str, lines: dict[str, int], source: str) -> str:
    """Record the ``name`` of a ``<link>``/``<joint>`` element in ``lines`` (name → line);
    refuse a missing or repeated name."""
    name = el.attrib.get("name")
    if not name:
        raise URDFError(f"<{kind}> without a name attribute", source, el.line)
    if name in lines:
        raise URDFError(f"{kind} {truncate(repr(name), 80)} is declared twice (lines "
                        f"{lines[name]} and {el.line})", source, el.line)
    lines[name] = el.line
    return name


def parse_urdf(text: str | bytes, source: str = "<string>", *, max_bytes: int | None = None,
               max_elements: int | None = None) -> URDFModel:
    """Parse URDF text.

    Args:
        text: The XML document.
        source: Name used in error messages (a file path).
        max_bytes: Size cap in bytes (default: env ``KINEMATICS_URDF_MAX_BYTES``, else
            :data:`DEFAULT_MAX_BYTES` = 64 MiB).
        max_elements: Cap on ``<link>`` + ``<joint>`` elements (default: env
            ``KINEMATICS_URDF_MAX_ELEMENTS``, else :data:`DEFAULT_MAX_ELEMENTS` = 200,000).

    Returns:
        The links and joints, checked to form a tree (one root, one parent per link,
        no cycles, every referenced link declared), and the per-element defects.

    Raises:
        URDFError: A file-level problem (see the module docstring): malformed XML, a
            DOCTYPE/entity, a missing name, a duplicate, a missing link, a structure that is
            not a tree, or a cap exceeded. The message names file and line.
        InvalidValueError: A cap (argument or environment variable) is not a positive
            integer.

    Examples:
        >>> m = parse_urdf('<robot name="r"><link name="a"/><link name="b"/>'
        ...                '<joint name="j" type="continuous"><parent link="a"/>'
        ...                '<child link="b"/><axis xyz="0 0 1e200"/>'
        ...                '<limit velocity="0" effort="0"/></joint></robot>')
        >>> m.joint("j").axis, m.joint("j").velocity, m.defects
        ((0.0, 0.0, 1.0), inf, ())
    """
    if not isinstance(text, (str, bytes)):
        raise URDFError(f"text={_checks.show(text)}; expected the URDF document as str or "
                        "bytes", source if isinstance(source, str) else "<string>")
    _checks.name(source, "source")
    cap_bytes = _checks.cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    cap_elements = _checks.cap(max_elements, MAX_ELEMENTS_ENV, DEFAULT_MAX_ELEMENTS,
                               "max_elements")
    data = _prepare(text, source, cap_bytes)
    root = _parse_xml(data, source, cap_elements)
    if root.tag != "robot":
        raise URDFError(f"root element is <{truncate(root.tag, 60)}>, expected <robot>", source,
                        root.line)
    link_lines: dict[str, int] = {}
    for el in root.findall("link"):
        _declare(el, "link", link_lines, source)
    if not link_lines:
        raise URDFError("no <link> elements; expected at least one", source, root.line)
    joints: list[URDFJoint] = []
    readers: list[_JointReader] = []
    joint_lines: dict[str, int] = {}
    parent_of: dict[str, str] = {}
    for el in root.findall("joint"):
        name = _declare(el, "joint", joint_lines, source)
        reader = _JointReader(name, el)
        try:
            j = reader.read()
        except _Refused as exc:
            raise URDFError(str(exc), source, exc.line) from None
        for role, link in (("parent", j.parent), ("child", j.child)):
            if link not in link_lines:
                raise URDFError(f"joint {truncate(repr(name), 80)} names {role} link "
                                f"{truncate(repr(link), 80)}, which is not declared", source,
                                j.line)
        if j.child in parent_of:
            raise URDFError(
                f"link {truncate(repr(j.child), 80)} has two parent joints "
                f"({truncate(repr(parent_of[j.child]), 80)} and {truncate(repr(name), 80)}); a "
                "URDF must be a tree",
                source,
                j.line,
            )
        parent_of[j.child] = j.name
        joints.append(j)
        readers.append(reader)
    joints = _check_mimics(joints, readers)
    roots = [link for link in link_lines if link not in parent_of]
    if len(roots) != 1:
        raise URDFError(
            f"expected exactly one root link, found {len(roots)}: {format_names(roots)} (a "
            "cycle or disconnected links)",
            source,
            root.line,
        )
    children: dict[str, list[str]] = {}
    for j in joints:
        children.setdefault(j.parent, []).append(j.child)
    seen, todo = set(roots), list(roots)
    while todo:
        for c in children.get(todo.pop(), []):
            seen.add(c)
            todo.append(c)
    if len(seen) != len(link_lines):
        cut = [link for link in link_lines if link not in seen]
        raise URDFError(
            f"links {format_names(cut)} are not connected to the root {roots[0]!r} (a cycle "
            "of joints?)",
            source,
            link_lines[cut[0]],
        )
    defects = tuple(Defect("joint", r.name, line, message)
                    for r in readers for line, message in r.problems)
    notes = tuple(Defect("joint", r.name, line, message)
                  for r in readers for line, message in r.notes)
    return URDFModel(root.attrib.get("name", ""), source, tuple(link_lines), tuple(joints),
                     link_lines, defects, notes)


def read_urdf(path: str | os.PathLike[str], *, max_bytes: int | None = None,
              max_elements: int | None = None,
              xacro_args: Mapping[str, str] | None = None,
              package_dirs: Sequence[str | os.PathLike[str]]
              | Mapping[str, str | os.PathLike[str]] | None = None) -> URDFModel:
    """Read and parse a URDF file (see :func:`parse_urdf`); expand it with xacro first if its
    name ends in ``.xacro`` (see :func:`kinematics._xacro.expand_xacro`).

    Args:
        path: A ``.urdf`` file, or a ``.xacro`` file (needs the ``xacro`` extra).
        max_bytes: Size cap in bytes (see :func:`parse_urdf`), checked before reading.
        max_elements: Cap on ``<link>`` + ``<joint>`` elements (see :func:`parse_urdf`).
        xacro_args: ``$(arg name)`` values for a ``.xacro`` file.
        package_dirs: Where ``$(find pkg)`` and ``package://pkg`` resolve, for a ``.xacro``
            file (see :func:`kinematics._xacro.expand_xacro`).

    Returns:
        The parsed model. For a xacro file, ``source`` is ``"<path> (xacro output)"``, and
        line numbers refer to the expanded text.

    Raises:
        URDFError: The file cannot be read, is too large, cannot be expanded, or its content
            is invalid.
    """
    p = Path(path)
    is_xacro = p.name.endswith(".xacro")
    if not is_xacro and (xacro_args or package_dirs):
        raise URDFError("xacro_args/package_dirs are given but the file name does not end in "
                        "'.xacro'; expected a xacro file", str(p))
    cap = _checks.cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise URDFError(f"cannot read file: {exc.strerror}", str(p)) from None
    if size > cap:
        raise URDFError(f"file is {size} bytes, more than the cap of {cap} bytes; raise it "
                        f"with max_bytes= or the environment variable {MAX_BYTES_ENV}", str(p))
    if is_xacro:
        from ._xacro import expand_xacro

        text = expand_xacro(p, xacro_args, package_dirs)
        return parse_urdf(text, f"{p} (xacro output)", max_bytes=cap, max_elements=max_elements)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise URDFError(f"cannot read file: {exc.strerror}", str(p)) from None
    return parse_urdf(data, str(p), max_bytes=cap, max_elements=max_elements)

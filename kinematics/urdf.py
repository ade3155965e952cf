"""Safe URDF reader: XML text → a tree of links and joints (no kinematics yet).

Only what kinematics needs is read: links, and for each joint its type, parent, child,
``origin`` (xyz [m], rpy [rad]), ``axis`` (normalised; default x per the URDF spec),
``limit`` (lower/upper [rad or m], velocity [rad/s or m/s], effort [N·m or N]) and
``mimic`` (joint, multiplier, offset). Meshes are never opened.

Parsing is safe: any DOCTYPE (and with it entity definitions, billion laughs and external
entities) is refused before anything is expanded. Every error names the file and line.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np

from .exceptions import URDFError
from .spatial import rpy_to_matrix, transform

__all__ = ["URDFJoint", "URDFModel", "parse_urdf", "read_urdf"]

JOINT_TYPES = ("revolute", "continuous", "prismatic", "fixed", "floating", "planar")


@dataclass
class _Node:
    tag: str
    attrib: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)

    def find(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]


class _Refused(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _parse_xml(text: str | bytes, source: str) -> _Node:
    parser = expat.ParserCreate()
    stack: list[_Node] = []
    root: list[_Node] = []

    def refuse_doctype(*_args: object) -> None:
        raise _Refused(
            "DOCTYPE declarations are not allowed in URDF (entities are never expanded); "
            "remove the <!DOCTYPE ...> block",
            parser.CurrentLineNumber,
        )

    def refuse_entity(*_args: object) -> None:
        raise _Refused("entity declarations are not allowed in URDF", parser.CurrentLineNumber)

    def start(tag: str, attrib: dict[str, str]) -> None:
        node = _Node(tag, attrib, parser.CurrentLineNumber)
        (stack[-1].children if stack else root).append(node)
        stack.append(node)

    def end(_tag: str) -> None:
        stack.pop()

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity  # type: ignore[assignment]
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(text, True)
    except _Refused as exc:
        raise URDFError(str(exc), source, exc.line) from None
    except expat.ExpatError as exc:
        message = f"malformed XML: {expat.ErrorString(exc.code)}"
        raise URDFError(message, source, exc.lineno) from None
    if not root:
        raise URDFError("empty document, expected a <robot> element", source)
    return root[0]


@dataclass(frozen=True)
class URDFJoint:
    """One ``<joint>`` element, as read (units SI)."""

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
    """A parsed URDF document: robot name, links and joints in document order."""

    name: str
    source: str
    links: tuple[str, ...]
    joints: tuple[URDFJoint, ...]
    link_lines: dict[str, int]

    def joint(self, name: str) -> URDFJoint:
        for j in self.joints:
            if j.name == name:
                return j
        raise KeyError(name)


def _floats(node: _Node, attr: str, n: int, default: tuple[float, ...], source: str) -> tuple:
    raw = node.attrib.get(attr)
    if raw is None:
        return default
    try:
        vals = tuple(float(v) for v in raw.split())
    except ValueError:
        vals = ()
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise URDFError(
            f"<{node.tag} {attr}={raw!r}>: expected {n} finite number(s)", source, node.line
        )
    return vals


def _read_joint(node: _Node, source: str) -> URDFJoint:
    name = node.attrib.get("name")
    if not name:
        raise URDFError("<joint> without a name attribute", source, node.line)
    jtype = node.attrib.get("type")
    if jtype not in JOINT_TYPES:
        raise URDFError(
            f"joint {name!r} has type {jtype!r}; expected one of {list(JOINT_TYPES)}",
            source,
            node.line,
        )
    links = {}
    for tag in ("parent", "child"):
        el = node.find(tag)
        if el is None or not el.attrib.get("link"):
            raise URDFError(f"joint {name!r} has no <{tag} link=...>", source, node.line)
        links[tag] = el.attrib["link"]
    origin = node.find("origin")
    xyz = _floats(origin, "xyz", 3, (0.0, 0.0, 0.0), source) if origin else (0.0, 0.0, 0.0)
    rpy = _floats(origin, "rpy", 3, (0.0, 0.0, 0.0), source) if origin else (0.0, 0.0, 0.0)
    axis_el = node.find("axis")
    axis = _floats(axis_el, "xyz", 3, (1.0, 0.0, 0.0), source) if axis_el else (1.0, 0.0, 0.0)
    norm = math.sqrt(sum(a * a for a in axis))
    if jtype in ("revolute", "continuous", "prismatic"):
        if norm < 1e-12:
            raise URDFError(
                f"joint {name!r} has a zero axis {axis}; expected a non-zero direction",
                source,
                axis_el.line if axis_el else node.line,
            )
        axis = tuple(a / norm for a in axis)
    limit = node.find("limit")
    lower, upper, velocity, effort = -math.inf, math.inf, math.inf, math.inf
    if limit is not None:
        velocity = _floats(limit, "velocity", 1, (math.inf,), source)[0]
        effort = _floats(limit, "effort", 1, (math.inf,), source)[0]
        if jtype in ("revolute", "prismatic"):
            lower = _floats(limit, "lower", 1, (0.0,), source)[0]
            upper = _floats(limit, "upper", 1, (0.0,), source)[0]
            if lower > upper:
                raise URDFError(
                    f"joint {name!r}: limit lower={lower} > upper={upper}", source, limit.line
                )
        if velocity <= 0 or effort < 0:
            raise URDFError(
                f"joint {name!r}: limit velocity={velocity} effort={effort}; expected "
                "velocity > 0 and effort >= 0",
                source,
                limit.line,
            )
    elif jtype in ("revolute", "prismatic"):
        raise URDFError(
            f"{jtype} joint {name!r} has no <limit>; the URDF spec requires lower/upper/"
            "velocity/effort for revolute and prismatic joints",
            source,
            node.line,
        )
    mimic_el = node.find("mimic")
    mimic = None
    if mimic_el is not None:
        leader = mimic_el.attrib.get("joint")
        if not leader:
            raise URDFError(f"joint {name!r}: <mimic> without joint=", source, mimic_el.line)
        mult = _floats(mimic_el, "multiplier", 1, (1.0,), source)[0]
        off = _floats(mimic_el, "offset", 1, (0.0,), source)[0]
        mimic = (leader, mult, off)
    return URDFJoint(
        name, jtype, links["parent"], links["child"], xyz, rpy, axis,  # type: ignore[arg-type]
        lower, upper, velocity, effort, mimic, node.line,
    )


def parse_urdf(text: str | bytes, source: str = "<string>") -> URDFModel:
    """Parse URDF text.

    Args:
        text: The XML document.
        source: Name used in error messages (a file path).

    Returns:
        The links and joints, checked to form a tree (one root, one parent per link,
        no cycles, every referenced link declared).

    Raises:
        URDFError: Malformed XML, a DOCTYPE/entity, a missing or bad attribute, an unknown
            joint type, or a structure that is not a tree. The message names file and line.
    """
    root = _parse_xml(text, source)
    if root.tag != "robot":
        raise URDFError(f"root element is <{root.tag}>, expected <robot>", source, root.line)
    link_lines: dict[str, int] = {}
    for el in root.findall("link"):
        name = el.attrib.get("name")
        if not name:
            raise URDFError("<link> without a name attribute", source, el.line)
        if name in link_lines:
            raise URDFError(f"link {name!r} is declared twice", source, el.line)
        link_lines[name] = el.line
    if not link_lines:
        raise URDFError("no <link> elements; expected at least one", source, root.line)
    joints: list[URDFJoint] = []
    parent_of: dict[str, str] = {}
    for el in root.findall("joint"):
        j = _read_joint(el, source)
        if any(k.name == j.name for k in joints):
            raise URDFError(f"joint {j.name!r} is declared twice", source, j.line)
        for role, link in (("parent", j.parent), ("child", j.child)):
            if link not in link_lines:
                raise URDFError(
                    f"joint {j.name!r} names {role} link {link!r}, which is not declared",
                    source,
                    j.line,
                )
        if j.child in parent_of:
            raise URDFError(
                f"link {j.child!r} has two parent joints ({parent_of[j.child]!r} and "
                f"{j.name!r}); a URDF must be a tree",
                source,
                j.line,
            )
        parent_of[j.child] = j.name
        joints.append(j)
    names = {j.name for j in joints}
    for j in joints:
        if j.mimic is not None and j.mimic[0] not in names:
            raise URDFError(
                f"joint {j.name!r} mimics {j.mimic[0]!r}, which is not a joint in this URDF",
                source,
                j.line,
            )
    roots = [link for link in link_lines if link not in parent_of]
    if len(roots) != 1:
        raise URDFError(
            f"expected exactly one root link, found {len(roots)}: {roots} (a cycle or "
            "disconnected links)",
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
            f"links {cut} are not connected to the root {roots[0]!r} (a cycle of joints?)",
            source,
            link_lines[cut[0]],
        )
    return URDFModel(
        root.attrib.get("name", ""), source, tuple(link_lines), tuple(joints), link_lines
    )


def read_urdf(path: str | os.PathLike[str]) -> URDFModel:
    """Read and parse a URDF file (see :func:`parse_urdf`).

    Raises:
        URDFError: The file cannot be read, or its content is invalid.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise URDFError(f"cannot read file: {exc.strerror}", str(p)) from None
    return parse_urdf(data, str(p))

"""The MJCF reader (internal): MuJoCo compiles the file, this module turns the compiled model
into a :class:`~kinematics.urdf.URDFModel` tree. The semantics, defaults and file-safety rules
are documented in :mod:`kinematics.mjcf` (the public module)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks
from .exceptions import KinematicsError, URDFError, format_names, truncate
from .spatial import transform
from .urdf import DEFAULT_MAX_BYTES, MAX_BYTES_ENV, URDFJoint, URDFModel

__all__ = ["MJCFModel", "file_format", "model_from_mjmodel", "parse_mjcf", "read_mjcf"]

#: Deepest nesting of ``<include>`` files.
MAX_INCLUDE_DEPTH = 16
#: Most XML files (top file plus includes) one model may read.
MAX_INCLUDE_FILES = 1000
#: A hinge anchor closer than this to the axis [m] is on the axis (no extra link).
_ON_AXIS = 1e-14
INSTALL_HINT = 'MJCF needs MuJoCo: pip install "kinematics[mjcf]"'
SUPPORTED = "URDF (<robot>), xacro (*.xacro) and MJCF (<mujoco>)"

Array = NDArray[np.float64]


@dataclass(frozen=True)
class MJCFModel(URDFModel):
    """The tree of a compiled MJCF model, as a :class:`~kinematics.urdf.URDFModel`.

    Extra attributes:
        kinds: ``{joint: MuJoCo type}`` (``"hinge"``, ``"slide"``, ``"ball"``, ``"free"``) of
            every MuJoCo joint; generated fixed joints are absent.
        qpos_index: ``{joint: index into MuJoCo's qpos}`` of every hinge and slide joint.
        dof_index: ``{joint: index into MuJoCo's qvel}`` of every hinge and slide joint.
        bodies: MuJoCo body names by body id (``bodies[0] == "world"``).
    """

    kinds: Mapping[str, str] = field(default_factory=dict)
    qpos_index: Mapping[str, int] = field(default_factory=dict)
    dof_index: Mapping[str, int] = field(default_factory=dict)
    bodies: tuple[str, ...] = ()

    def ends(self, base: str | None, tip: str | Sequence[str] | None
             ) -> tuple[str, str | list[str]]:
        """The base and tip(s) to build a robot from (the defaults of the module docstring),
        with every path base → tip checked to cross no free or ball joint.

        Raises:
            URDFError: A path through a free or ball joint (named), an unknown body, a model
                without bodies, a base with nothing below it.
        """
        if len(self.bodies) == 1:
            raise URDFError("the compiled model has no bodies besides the world (a fragment "
                            "meant to be included?)", self.source)
        children: dict[str, list[URDFJoint]] = {}
        for j in self.joints:
            children.setdefault(j.parent, []).append(j)
        if base is None:
            base = self._default_base(children)
        for role, link in [("base", base)] + [
                ("tip", t) for t in ([tip] if isinstance(tip, str) else tip or [])]:
            if link not in self.link_lines:
                raise URDFError(f"{role} link {link!r} is not a body of this model; bodies: "
                                f"{format_names(self.links)}", self.source)
        if tip is None:
            leaves = self._leaves(base, children)
            if not leaves:
                raise URDFError(f"body {base!r} has no bodies below it that a chain can reach; "
                                "choose another base", self.source)
            return base, leaves[0] if len(leaves) == 1 else leaves
        for t in [tip] if isinstance(tip, str) else tip:
            link = t
            while link != base and link in self._by_child:
                j = self._by_child[link]
                if j.type == "floating":
                    raise URDFError(
                        f"the path {base!r} → {t!r} crosses the {self.kinds.get(j.name)} joint "
                        f"{j.name!r}; free and ball joints are never on a chain: choose a base "
                        f"at or below body {j.child!r}", self.source)
                link = j.parent
        return base, tip if isinstance(tip, str) else list(tip)

    def _moves(self, link: str, children: Mapping[str, list[URDFJoint]]) -> bool:
        todo = [link]
        while todo:
            for j in children.get(todo.pop(), ()):
                if j.type in ("revolute", "continuous", "prismatic"):
                    return True
                if j.type == "fixed":
                    todo.append(j.child)
        return False

    def _default_base(self, children: Mapping[str, list[URDFJoint]]) -> str:
        # children["world"]: the first joint of each body below the world, in body order
        for j in children.get("world", ()):
            if j.type in ("revolute", "continuous", "prismatic"):
                return "world"
            top = self._body_of(j)
            if self._moves(top, children):
                return top
        for j in children.get("world", ()):
            if j.type == "fixed":
                return j.child
        return "world"

    def _body_of(self, j: URDFJoint) -> str:
        """The body a chain of generated links ends in (follows ``<body>:<joint>`` links)."""
        link = j.child
        while link not in self.bodies_set:
            link = self._children[link][0].child
        return link

    @property
    def bodies_set(self) -> frozenset[str]:
        return frozenset(self.bodies)

    def _leaves(self, base: str, children: Mapping[str, list[URDFJoint]]) -> list[str]:
        if base == "world":  # only the subtree of the first world child that moves
            roots = [j.child for j in children.get("world", ())
                     if j.type in ("revolute", "continuous", "prismatic")
                     or (j.type == "fixed" and self._moves(j.child, children))][:1]
        else:
            roots = [base]
        out, todo = [], list(reversed(roots))
        while todo:
            link = todo.pop()
            kids = [j.child for j in children.get(link, ()) if j.type != "floating"]
            if not kids and link != base:
                out.append(link)
            todo.extend(reversed(kids))
        return out


def _mujoco() -> Any:
    try:
        import mujoco
    except ImportError as exc:
        raise KinematicsError(f"{INSTALL_HINT} (import failed: {exc})") from None
    return mujoco


def _quat_matrix(q: ArrayLike) -> Array:
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def _axis_angle(a: Array, angle: float) -> Array:
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * (K @ K)


def _rpy(R: Array) -> tuple[float, float, float]:
    """URDF roll-pitch-yaw of ``R`` that reproduces it to rounding, gimbal lock included
    (yaw first, then pitch and roll from ``Rz(-yaw) R``)."""
    yaw = math.atan2(R[1, 0], R[0, 0])
    c, s = math.cos(yaw), math.sin(yaw)
    r0 = c * R[0] + s * R[1]   # rows of Rz(-yaw) R = Ry(pitch) Rx(roll)
    r1 = -s * R[0] + c * R[1]
    pitch = math.atan2(-R[2, 0], r0[0])
    roll = math.atan2(-r1[2], r1[1])
    return (roll, pitch, yaw)


def _xyz_rpy(T: Array) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    return (float(T[0, 3]), float(T[1, 3]), float(T[2, 3])), _rpy(T[:3, :3])


_KIND = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}


def model_from_mjmodel(m: Any, source: str = "<MjModel>") -> MJCFModel:
    """The tree of a compiled ``mujoco.MjModel`` (see the module docstring).

    Args:
        m: A ``mujoco.MjModel``.
        source: Name used in messages.
    """
    mujoco = _mujoco()

    def fresh(name: str, used: set[str]) -> str:
        k, new = 2, name
        while new in used:
            new, k = f"{name}_{k}", k + 1
        used.add(new)
        return new

    def names(obj: Any, count: int, prefix: str) -> list[str]:
        """MuJoCo's names; an unnamed element gets ``<prefix><id>`` (made unique against the
        given names)."""
        given = [mujoco.mj_id2name(m, obj, i) or "" for i in range(count)]
        used = {g for g in given if g}
        return [g or fresh(f"{prefix}{i}", used) for i, g in enumerate(given)]

    bodies = ["world"] + names(mujoco.mjtObj.mjOBJ_BODY, m.nbody, "body")[1:]
    used_links: set[str] = set(bodies)
    jnames = names(mujoco.mjtObj.mjOBJ_JOINT, m.njnt, "joint")
    used_joints: set[str] = set(jnames)

    links: list[str] = list(bodies)
    joints: list[URDFJoint] = []
    kinds: dict[str, str] = {}
    qpos_index: dict[str, int] = {}
    dof_index: dict[str, int] = {}
    inf = math.inf

    def add(name: str, jtype: str, parent: str, child: str, M: Array,
            axis: tuple[float, float, float] = (0.0, 0.0, 1.0), lower: float = -inf,
            upper: float = inf, effort: float = inf) -> None:
        xyz, rpy = _xyz_rpy(M)
        joints.append(URDFJoint(name, jtype, parent, child, xyz, rpy, axis, lower, upper, inf,
                                effort, None, None))  # type: ignore[arg-type]

    for b in range(1, m.nbody):
        body, parent = bodies[b], bodies[int(m.body_parentid[b])]
        M = transform(_quat_matrix(m.body_quat[b]), m.body_pos[b])
        adr, num = int(m.body_jntadr[b]), int(m.body_jntnum[b])
        prev = parent
        for k, j in enumerate(range(adr, adr + num)):
            kind = _KIND[int(m.jnt_type[j])]
            name = jnames[j]
            kinds[name] = kind
            a = np.array(m.jnt_axis[j], dtype=float)
            a = a / np.linalg.norm(a)
            p = np.zeros(3)
            if kind == "hinge":
                pj = np.array(m.jnt_pos[j], dtype=float)
                p = pj - a * float(a @ pj)  # only the anchor's offset from the axis matters
                if np.linalg.norm(p) < _ON_AXIS:
                    p = np.zeros(3)
            lower, upper, effort = -inf, inf, inf
            if kind in ("hinge", "slide"):
                ref = float(m.qpos0[m.jnt_qposadr[j]])
                qpos_index[name] = int(m.jnt_qposadr[j])
                dof_index[name] = int(m.jnt_dofadr[j])
                if kind == "hinge":  # R(a, q - ref) = R(a, -ref) R(a, q)
                    offset = transform(_axis_angle(a, -ref), p)
                else:
                    offset = transform(None, -ref * a)
                if m.jnt_limited[j]:
                    lower, upper = float(m.jnt_range[j, 0]), float(m.jnt_range[j, 1])
                if getattr(m, "jnt_actfrclimited", None) is not None and m.jnt_actfrclimited[j]:
                    effort = float(np.max(np.abs(m.jnt_actfrcrange[j]))) or inf
                jtype = ("prismatic" if kind == "slide"
                         else "revolute" if m.jnt_limited[j] else "continuous")
            else:
                offset = np.eye(4)
                jtype = "floating"
            last = k == num - 1
            child = body if last and not p.any() else fresh(f"{body}:{name}", used_links)
            if child != body:
                links.insert(links.index(body), child)
            add(name, jtype, prev, child, M @ offset, tuple(map(float, a)),  # type: ignore[arg-type]
                lower, upper, effort)
            M = transform(None, -p)  # back from the anchor to the body frame
            prev = child
        if num == 0:
            add(fresh(f"{body}:weld", used_joints), "fixed", parent, body, M)
        elif prev != body:
            add(fresh(f"{body}:anchor", used_joints), "fixed", prev, body, M)
    raw = bytes(m.names)  # the model's name comes first
    name = raw[:raw.index(b"\0")].decode("utf-8", "replace") if b"\0" in raw else ""
    return MJCFModel(name, source, tuple(links), tuple(joints),
                     {link: None for link in links},  # type: ignore[misc]
                     kinds=kinds, qpos_index=qpos_index, dof_index=dof_index,
                     bodies=tuple(bodies))


# --- reading: format sniffing, the file scan, compiling ------------------------------------


class _Stop(Exception):
    pass


def _root_tag(data: bytes) -> str | None:
    """The root element's tag, or ``None`` when the XML is malformed or has a DOCTYPE (the
    URDF reader then says what is wrong)."""
    parser = expat.ParserCreate()
    found: list[str] = []

    def start(tag: str, _attrib: dict[str, str]) -> None:
        found.append(tag)
        raise _Stop

    def doctype(*_args: object) -> None:
        raise _Stop

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except (_Stop, expat.ExpatError, LookupError, ValueError):
        pass        # unknown or multi-byte encodings too: the URDF reader names the problem
    return found[0] if found else None


def file_format(path: str | os.PathLike[str]) -> str:
    """``"urdf"``, ``"xacro"`` or ``"mjcf"`` for a description file, from its root element.

    Raises:
        URDFError: Another root (SDF, ...): the format is not supported (the message names
            the supported ones); the file cannot be read.
    """
    p = Path(path)
    if p.name.endswith(".xacro"):
        return "xacro"
    try:
        with open(p, "rb") as f:
            head = f.read(1 << 16)
    except OSError as exc:
        raise URDFError(f"cannot read file: {exc.strerror}", str(p)) from None
    tag = _root_tag(head)
    if tag is None or tag == "robot":
        return "urdf"
    if tag == "mujoco":
        return "mjcf"
    what = " (SDF is not supported yet)" if tag == "sdf" else ""
    raise URDFError(f"format not supported: the root element is <{truncate(tag, 60)}>{what}; "
                    f"supported formats are {SUPPORTED}", str(p))


_DIRS = ("meshdir", "texturedir", "assetdir")


class _Scan:
    """Walks the XML of a model and its includes; checks every referenced path."""

    def __init__(self, top: Path | None, roots: list[Path], cap: int, source: str):
        self.top_dir = top.parent if top is not None else None
        self.roots = roots
        self.cap = cap
        self.source = source
        self.total = 0
        self.files = 0
        self.dirs: dict[str, str] = {}
        self.refs: list[tuple[str, str, str]] = []  # (element, attribute, value) of assets

    def inside(self, path: Path) -> bool:
        rp = path.resolve()
        return any(rp == r or r in rp.parents for r in self.roots)

    def refuse(self, message: str, where: str, line: int | None = None) -> None:
        raise URDFError(message, where, line)

    def xml(self, data: bytes, where: str, depth: int) -> None:
        self.total += len(data)
        self.files += 1
        if self.total > self.cap:
            self.refuse(f"the model's XML (with its includes) is more than the cap of "
                        f"{self.cap} bytes; raise it with max_bytes= or the environment "
                        f"variable {MAX_BYTES_ENV}", where)
        if self.files > MAX_INCLUDE_FILES:
            self.refuse(f"more than {MAX_INCLUDE_FILES} included files", where)
        parser = expat.ParserCreate()
        includes: list[tuple[str, int]] = []

        def refuse_doctype(*_args: object) -> None:
            raise _Refused("DOCTYPE and entity declarations are not allowed in MJCF",
                           parser.CurrentLineNumber)

        def start(tag: str, attrib: dict[str, str]) -> None:
            line = parser.CurrentLineNumber
            if tag == "compiler":
                for d in _DIRS:
                    if d in attrib:
                        self.dirs[d] = attrib[d]
            for key, value in attrib.items():
                if key.startswith("file") and value:
                    if tag == "include":
                        includes.append((value, line))
                    else:
                        self.refs.append((tag, value, f"{where}:{line}"))

        parser.StartDoctypeDeclHandler = refuse_doctype
        parser.EntityDeclHandler = refuse_doctype
        parser.ExternalEntityRefHandler = refuse_doctype  # type: ignore[assignment]
        parser.StartElementHandler = start
        try:
            parser.Parse(data, True)
        except _Refused as exc:
            self.refuse(str(exc), where, exc.line)
        except expat.ExpatError as exc:
            self.refuse(f"malformed XML: {expat.ErrorString(exc.code)}", where, exc.lineno)
        for value, line in includes:
            if self.top_dir is None:
                self.refuse(f"<include file={truncate(value, 80)!r}>: MJCF text cannot include "
                            "files; load the model by path", where, line)
            if depth >= MAX_INCLUDE_DEPTH:
                self.refuse(f"includes nest more than {MAX_INCLUDE_DEPTH} deep", where, line)
            path = self.top_dir / value  # type: ignore[operator]
            if not self.inside(path):
                self.refuse(f"<include file={truncate(value, 80)!r}> is outside the model's "
                            f"folder {self.roots[0]} (pass its folder in package_dirs= to "
                            "allow it)", where, line)
            self.xml(self.read(path, f"{where}:{line}"), str(path), depth + 1)

    def read(self, path: Path, where: str) -> bytes:
        try:
            size = path.stat().st_size
            if size > self.cap:
                self.refuse(f"{path} is {size} bytes, more than the cap of {self.cap} bytes",
                            where)
            return path.read_bytes()
        except OSError as exc:
            self.refuse(f"cannot read {path}: {exc.strerror}", where)
            raise  # unreachable

    def assets(self) -> None:
        for tag, value, where in self.refs:
            if self.top_dir is None:
                self.refuse(f"<{tag} file={truncate(value, 80)!r}>: MJCF text cannot reference "
                            "files; load the model by path", where)
            kind = "meshdir" if tag in ("mesh", "skin") else (
                "texturedir" if tag in ("texture", "hfield") else None)
            folder = self.dirs.get(kind or "", self.dirs.get("assetdir", "")) if kind else ""
            path = self.top_dir / folder / value  # type: ignore[operator]
            if not self.inside(path):
                self.refuse(f"<{tag} file={truncate(value, 80)!r}> resolves to "
                            f"{path.resolve()}, outside the model's folder {self.roots[0]} "
                            "(pass its folder in package_dirs= to allow it)", where)
            try:
                size = path.stat().st_size
            except OSError:
                continue  # MuJoCo says what is missing
            if size > self.cap:
                self.refuse(f"{path} is {size} bytes, more than the cap of {self.cap} bytes",
                            where)


class _Refused(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


def _compile(mujoco: Any, load: Any, arg: str, source: str) -> Any:
    """``load(arg)`` (MuJoCo's compiler) with MuJoCo's warnings kept off the disk: by default
    MuJoCo appends them to ``MUJOCO_LOG.TXT`` in the working folder, and reading a file must
    not write one. They are about the file's dynamics (deprecated attributes), not its
    kinematics, and are dropped. A compile error is a :class:`URDFError` naming ``source``."""
    previous = mujoco.get_mju_user_warning()
    dropped: list[str] = []
    mujoco.set_mju_user_warning(dropped.append)
    try:
        return load(arg)
    except Exception as exc:  # MuJoCo raises ValueError with its compiler's message
        msg = " ".join(str(exc).split())
        raise URDFError(f"MuJoCo cannot compile the model: {msg}", source) from None
    finally:
        mujoco.set_mju_user_warning(previous)


def read_mjcf(path: str | os.PathLike[str], *, max_bytes: int | None = None,
              package_dirs: Sequence[str | os.PathLike[str]] | None = None) -> MJCFModel:
    """Compile an MJCF file with MuJoCo and return its tree (see the module docstring).

    Args:
        path: The top ``.xml`` file (its root element is ``<mujoco>``).
        max_bytes: Cap on the XML (top file plus includes) and on each asset file, in bytes
            (default: env ``KINEMATICS_URDF_MAX_BYTES``, else 64 MiB).
        package_dirs: Further folders the model may read from (besides its own).

    Raises:
        KinematicsError: MuJoCo is not installed (names ``pip install "kinematics[mjcf]"``).
        URDFError: The file is unreadable, too large, references a path outside the allowed
            folders, or MuJoCo cannot compile it (MuJoCo's message, with the file).
    """
    p = Path(path)
    cap = _checks.cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    top = p.parent.resolve()
    package = next((d for d in (top, *top.parents) if (d / "package.xml").is_file()), top)
    roots = [package] + [Path(d).resolve() for d in package_dirs or ()]
    scan = _Scan(p, roots, cap, str(p))
    scan.xml(scan.read(p, str(p)), str(p), 0)
    scan.assets()
    mujoco = _mujoco()
    m = _compile(mujoco, mujoco.MjModel.from_xml_path, str(p), str(p))
    return model_from_mjmodel(m, str(p))


def parse_mjcf(text: str | bytes, source: str = "<string>", *,
               max_bytes: int | None = None) -> MJCFModel:
    """Compile MJCF text with MuJoCo and return its tree. The text may not reference files
    (includes, meshes): load such a model by path with :func:`read_mjcf`.

    Raises:
        KinematicsError: MuJoCo is not installed.
        URDFError: Too large, references a file, or MuJoCo cannot compile it.
    """
    cap = _checks.cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    scan = _Scan(None, [], cap, source)
    scan.xml(data, source, 0)
    scan.assets()
    mujoco = _mujoco()
    m = _compile(mujoco, mujoco.MjModel.from_xml_string, data.decode("utf-8"), source)
    return model_from_mjmodel(m, source)

"""xacro → URDF text, through the maintained ``xacro`` package (optional extra ``xacro``).

No macro expander lives here: :func:`expand_xacro` runs ``xacro`` itself and only hooks
how it finds packages. ``$(find pkg)`` (and ``find('pkg')`` in expressions) resolve
against the ``package_dirs`` the caller gives, never against a ROS installation, and
``package://pkg/...`` mesh and texture file names in the result become absolute paths when
``pkg`` is found (they are still never opened).

Expanding a xacro file runs its expressions and reads every file it includes: expand only
files you trust. Each file xacro reads is refused if it holds a DOCTYPE or is larger than
the URDF size cap, and the expanded text then goes through :func:`~kinematics.parse_urdf`
with all of its checks.

xacro keeps its state in module globals, so expansions are serialised by a lock, and every
hook is removed (and the globals restored) when an expansion ends, even on error.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ._checks import cap as _cap
from .exceptions import URDFError, format_names, truncate

#: As :data:`kinematics.urdf.DEFAULT_MAX_BYTES` and its environment variable (the reader
#: passes its own cap; these apply when this module is called directly).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_BYTES_ENV = "KINEMATICS_URDF_MAX_BYTES"

__all__ = ["expand_xacro", "PackageDirs"]

#: ``package_dirs``: folders (each a package, or holding packages), or ``{name: folder}``.
PackageDirs = Sequence["str | os.PathLike[str]"] | Mapping[str, "str | os.PathLike[str]"]

#: How deep below each ``package_dirs`` entry packages are looked for.
SEARCH_DEPTH = 3
#: Most folders looked at below one ``package_dirs`` entry.
SEARCH_FOLDERS = 20_000

_EXTRA = "pip install 'kinematics[xacro]'"
_LOCK = threading.Lock()
_PACKAGE_XML_NAME = re.compile(rb"<name>\s*([^<\s]+)\s*</name>")


class _PackageNotFound(Exception):
    def __init__(self, package: str):
        super().__init__(package)
        self.package = package


class _PackageIndex:
    """Finds package folders below the caller's ``package_dirs`` (built lazily, once)."""

    def __init__(self, package_dirs: PackageDirs | None):
        self.explicit: dict[str, Path] = {}
        self.roots: list[Path] = []
        if isinstance(package_dirs, Mapping):
            self.explicit = {str(k): Path(v).expanduser().resolve()
                             for k, v in package_dirs.items()}
        elif package_dirs is not None:
            if isinstance(package_dirs, (str, os.PathLike)):
                package_dirs = [package_dirs]
            self.roots = [Path(d).expanduser().resolve() for d in package_dirs]
        self._index: list[dict[str, Path]] | None = None

    def searched(self) -> str:
        if self.explicit:
            return f"searched the package_dirs mapping {format_names(sorted(self.explicit), 300)}"
        if not self.roots:
            return "no package_dirs were given"
        return f"searched package_dirs {format_names([str(r) for r in self.roots], 300)}"

    def _build(self) -> list[dict[str, Path]]:
        out = []
        for root in self.roots:
            names: dict[str, Path] = {}
            level, seen = [root], 0
            for depth in range(SEARCH_DEPTH + 1):
                below: list[Path] = []
                for folder in level:
                    declared = _package_xml_name(folder)
                    if declared is not None:
                        names.setdefault(declared, folder)
                    names.setdefault(folder.name, folder)
                    if declared is not None and depth > 0:
                        continue  # ROS packages do not nest
                    if depth < SEARCH_DEPTH and seen < SEARCH_FOLDERS:
                        with contextlib.suppress(OSError):
                            subs = sorted(e.path for e in os.scandir(folder)
                                          if e.is_dir() and not e.name.startswith("."))
                            seen += len(subs)
                            below.extend(Path(s) for s in subs)
                level = below
            out.append(names)
        return out

    def find(self, package: str) -> Path | None:
        if package in self.explicit:
            return self.explicit[package]
        if self._index is None:
            self._index = self._build()
        for names in self._index:
            if package in names:
                return names[package]
        return None


def _package_xml_name(folder: Path) -> str | None:
    try:
        with open(folder / "package.xml", "rb") as f:
            head = f.read(1 << 20)
    except OSError:
        return None
    m = _PACKAGE_XML_NAME.search(head)
    return m.group(1).decode("utf-8", "replace") if m else None


def _check_safe(data: bytes, filename: str, cap: int, size: int) -> None:
    """Refuse a DOCTYPE/entity or an oversized file before xacro's minidom sees it."""
    if size > cap or len(data) > cap:
        raise URDFError(f"xacro input is {max(size, len(data))} bytes, more than the cap of "
                        f"{cap} bytes; raise it with max_bytes= or the environment variable "
                        f"{MAX_BYTES_ENV}", filename)
    parser = expat.ParserCreate()

    def refuse(*_args: object) -> None:
        raise URDFError("DOCTYPE declarations are not allowed in xacro/URDF (entities are "
                        "never expanded); remove the <!DOCTYPE ...> block", filename,
                        parser.CurrentLineNumber)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    with contextlib.suppress(expat.ExpatError):  # syntax errors: xacro reports them
        parser.Parse(data, True)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (xacro's ``.exc``, ``__cause__``, ``__context__``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.extend([getattr(e, "exc", None), e.__cause__, e.__context__])


@contextlib.contextmanager
def _hooked(xacro: Any, index: _PackageIndex, cap: int) -> Iterator[None]:
    """Point xacro's package lookup at ``index`` and its file reader at a safe one; restore
    every global it touches on exit."""
    from xacro import substitution_args as sa

    def find(package: str) -> str:
        path = index.find(package)
        if path is None:
            raise _PackageNotFound(package)
        return str(path)

    original_parse = xacro.parse

    def parse(inp: Any, filename: str | None = None) -> Any:
        if inp is None and filename is not None:
            path = os.path.join(xacro.root_dir, filename)
            try:
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    data = f.read(cap + 1) if size <= cap else b""
            except OSError as e:
                xacro.filestack.pop()  # as xacro does: the error is not "in" this file
                raise xacro.XacroException(f"{e.strerror}: {e.filename}", exc=e) from None
            _check_safe(data, filename, cap, max(size, len(data)))
            return original_parse(data.decode("utf-8"), filename)
        return original_parse(inp, filename)

    saved = (sa._eval_find, sa._eval_dict.get("find"), xacro.parse, xacro.verbosity,
             xacro.filestack, xacro.macrostack, list(xacro.all_includes),
             xacro.substitution_args_context.get("arg", {}))
    sa._eval_find = find
    sa._eval_dict["find"] = find
    xacro.parse = parse
    try:
        with contextlib.redirect_stderr(io.StringIO()):  # xacro prints its own warnings
            yield
    finally:
        (sa._eval_find, sa._eval_dict["find"], xacro.parse, xacro.verbosity,
         xacro.filestack, xacro.macrostack, xacro.all_includes[:],
         xacro.substitution_args_context["arg"]) = saved


def _where(xacro: Any, top: str) -> tuple[str, str]:
    """(file being processed, " (in macro 'm' ...)") from xacro's stacks after an error."""
    files = [f for f in (xacro.filestack or []) if f]
    macros = [m.body.getAttribute("name") for m in (xacro.macrostack or [])
              if getattr(m, "body", None) is not None]
    context = ""
    if macros:
        inner = macros[::-1]
        called = f", called from {format_names(inner[1:], 150)}" if len(inner) > 1 else ""
        context += f" (in macro {truncate(repr(inner[0]), 80)}{called})"
    if len(files) > 1:
        context += f" (included from {format_names(files[-2::-1], 150)})"
    return (files[-1] if files else top), context


def _resolve_assets(doc: Any, index: _PackageIndex) -> None:
    """``package://pkg/rest`` in ``<mesh filename>`` and ``<texture filename>`` → absolute
    path, when pkg is found."""
    for tag in ("mesh", "texture"):
        for el in doc.getElementsByTagName(tag):
            name = el.getAttribute("filename")
            if not name.startswith("package://"):
                continue
            package, _, rest = name[len("package://"):].partition("/")
            folder = index.find(package) if package else None
            if folder is not None:
                el.setAttribute("filename", str(folder / rest) if rest else str(folder))


def expand_xacro(
    path: str | os.PathLike[str],
    xacro_args: Mapping[str, str] | None = None,
    package_dirs: PackageDirs | None = None,
    *,
    max_bytes: int | None = None,
) -> str:
    """Expand a ``.xacro`` file into URDF text with the ``xacro`` package.

    Args:
        path: The top-level xacro file.
        xacro_args: ``$(arg name)`` values (``name:=value`` on xacro's command line). Values
            are converted with ``str``.
        package_dirs: Where ``$(find pkg)``/``find('pkg')`` and ``package://pkg`` resolve.
            Either folders, each a package folder itself (its name, or the ``<name>`` in its
            ``package.xml``, is the package name) or a folder holding packages up to
            :data:`SEARCH_DEPTH` levels below (the shallowest match wins, entries in order);
            or a mapping ``{package name: folder}``.
        max_bytes: Size cap for each file xacro reads (default as for
            :func:`~kinematics.parse_urdf`: env ``KINEMATICS_URDF_MAX_BYTES``, else 64 MiB).

    Returns:
        The URDF document as text (what ``xacro file.xacro`` prints), with ``package://``
        mesh and texture file names rewritten to absolute paths for the packages found.

    Raises:
        URDFError: xacro is not installed (the message names the extra); the file cannot be
            read; a package is not found (named, with the folders searched); a required
            argument is not given (named); a xacro or XML error (file, and line when xacro
            knows it); a DOCTYPE or an oversized file.
    """
    top = str(Path(path))
    try:
        import xacro
        from xacro import substitution_args
    except ImportError as exc:
        raise URDFError(f"expanding a .xacro file needs the optional 'xacro' package "
                        f"({exc}); install it with {_EXTRA}", top) from None
    cap = _cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    if not Path(top).is_file():
        raise URDFError("cannot read file: no such file", top)
    mappings = {str(k): str(v) for k, v in (xacro_args or {}).items()}
    given = sorted(mappings)  # xacro adds the defaults of <xacro:arg> to the dict it gets
    index = _PackageIndex(package_dirs)
    with _LOCK, _hooked(xacro, index, cap):
        try:
            doc = xacro.process_file(top, mappings=mappings, verbosity=0)
        except URDFError:
            raise
        except expat.ExpatError as exc:
            where, context = _where(xacro, top)
            raise URDFError(f"malformed XML in xacro input: {expat.ErrorString(exc.code)}"
                            f"{context}", where, exc.lineno) from None
        except Exception as exc:  # xacro raises XacroException and plain Python errors
            where, context = _where(xacro, top)
            for cause in _causes(exc):
                if isinstance(cause, _PackageNotFound):
                    raise URDFError(
                        f"xacro: package {cause.package!r} not found (needed by "
                        f"$(find {cause.package}) or find()){context}; "
                        f"{index.searched()}; pass the package's folder, or a folder holding "
                        "it, in package_dirs", where) from None
                if isinstance(cause, substitution_args.ArgException):
                    arg = str(cause.args[0]) if cause.args else "?"
                    raise URDFError(
                        f"xacro argument {arg!r} is required but not given{context}; pass "
                        f"xacro_args={{{arg!r}: ...}} (given: {format_names(given)})",
                        where) from None
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise URDFError(f"xacro could not expand the file: {truncate(message, 300)}"
                            f"{context}", where) from None
        _resolve_assets(doc, index)
        return str(doc.toprettyxml(indent="  "))

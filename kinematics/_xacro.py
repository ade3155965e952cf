"""xacro → URDF text, through the maintained ``xacro`` package (optional extra ``xacro``),
with the description treated as untrusted input.

No macro expander lives here: :func:`expand_xacro` runs ``xacro`` itself, in a child
process (:mod:`kinematics._xacro_sandbox`) that hooks how xacro evaluates expressions, opens
files and finds packages:

- **Expressions never run code.** Each ``${...}`` and ``$(eval ...)`` is parsed with
  :mod:`ast` and checked before anything runs (no name or attribute starting with ``_``;
  no lambda, comprehension or generator; only arithmetic, comparisons, boolean operators,
  conditionals, literals, subscripts, properties and the functions xacro documents:
  ``math``, its ``python`` builtins except ``type``/``vars``, ``xacro.*``), then evaluated
  by a small interpreter that refuses oversized powers, repetitions and strings before
  computing them.
- **Files only from the package.** Every file xacro opens (the top file, ``include``,
  ``xacro.load_yaml``) must resolve (symlinks followed) inside the description's package
  (the top file's folder, or its nearest ancestor holding a ``package.xml``) or a
  ``package_dirs`` folder. ``$(env ...)`` is refused and ``$(optenv NAME default)`` gives
  its default: environment variables are not read.
- **Caps:** wall time (default :data:`DEFAULT_MAX_SECONDS`, env
  ``KINEMATICS_XACRO_MAX_SECONDS``; the child is killed when it passes), memory of the child
  (default :data:`DEFAULT_MAX_MEMORY`, env ``KINEMATICS_XACRO_MAX_MEMORY``, where the
  platform supports ``RLIMIT_AS``), size of each file read and of the output
  (``max_bytes``), macro nesting and calls, elements evaluated, values built (see
  :mod:`kinematics._xacro_sandbox`). Each refusal is a :class:`~kinematics.URDFError`
  naming the cap or the path.

``$(find pkg)`` (and ``find('pkg')`` in expressions) resolve against the ``package_dirs``
the caller gives, never against a ROS installation, and ``package://pkg/...`` mesh and
texture file names in the result become absolute paths when ``pkg`` is found (they are
still never opened). The expanded text then goes through :func:`~kinematics.parse_urdf`
with all of its checks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import _xacro_sandbox
from ._checks import cap as _cap
from .exceptions import InvalidValueError, URDFError, truncate

#: As :data:`kinematics.urdf.DEFAULT_MAX_BYTES` and its environment variable (the reader
#: passes its own cap; these apply when this module is called directly).
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
MAX_BYTES_ENV = "KINEMATICS_URDF_MAX_BYTES"
#: Longest a xacro expansion may run [s]. Env: ``KINEMATICS_XACRO_MAX_SECONDS``.
DEFAULT_MAX_SECONDS = 10.0
MAX_SECONDS_ENV = "KINEMATICS_XACRO_MAX_SECONDS"
#: Address space of the expanding child process [bytes]. Env:
#: ``KINEMATICS_XACRO_MAX_MEMORY``.
DEFAULT_MAX_MEMORY = 1 << 30
MAX_MEMORY_ENV = "KINEMATICS_XACRO_MAX_MEMORY"
SEARCH_DEPTH = _xacro_sandbox.SEARCH_DEPTH
SEARCH_FOLDERS = _xacro_sandbox.SEARCH_FOLDERS

__all__ = ["expand_xacro", "PackageDirs"]

#: ``package_dirs``: folders (each a package, or holding packages), or ``{name: folder}``.
PackageDirs = Sequence["str | os.PathLike[str]"] | Mapping[str, "str | os.PathLike[str]"]

_EXTRA = "pip install 'kinematics[xacro]'"
_WORKER = str(Path(_xacro_sandbox.__file__).resolve())


def _seconds(value: float | None) -> float:
    if value is not None:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not 0 < value < 1e6):
            raise InvalidValueError(f"max_seconds={value!r}; expected a number of seconds > 0")
        return float(value)
    raw = os.environ.get(MAX_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < 1e6:
        raise InvalidValueError(f"environment variable {MAX_SECONDS_ENV}={raw[:40]!r}: expected "
                                "a number of seconds > 0")
    return seconds


def _dirs(package_dirs: PackageDirs | None, top: str) -> list[str] | dict[str, str] | None:
    if package_dirs is None:
        return None
    try:
        if isinstance(package_dirs, Mapping):
            return {str(k): os.fspath(v) for k, v in package_dirs.items()}
        if isinstance(package_dirs, (str, os.PathLike)):
            return [os.fspath(package_dirs)]
        return [os.fspath(d) for d in package_dirs]
    except TypeError:
        raise URDFError(f"package_dirs={truncate(repr(package_dirs), 120)}; expected folders "
                        "(paths) or a mapping {package name: folder}", top) from None


def expand_xacro(
    path: str | os.PathLike[str],
    xacro_args: Mapping[str, str] | None = None,
    package_dirs: PackageDirs | None = None,
    *,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> str:
    """Expand a ``.xacro`` file into URDF text with the ``xacro`` package, in a sandbox.

    Args:
        path: The top-level xacro file.
        xacro_args: ``$(arg name)`` values (``name:=value`` on xacro's command line). Values
            are converted with ``str``.
        package_dirs: Where ``$(find pkg)``/``find('pkg')`` and ``package://pkg`` resolve,
            and (with the description's own package) the only folders files may be read
            from. Either folders, each a package folder itself (its name, or the ``<name>``
            in its ``package.xml``, is the package name) or a folder holding packages up to
            :data:`SEARCH_DEPTH` levels below (the shallowest match wins, entries in order);
            or a mapping ``{package name: folder}``.
        max_bytes: Size cap for each file xacro reads and for the output (default as for
            :func:`~kinematics.parse_urdf`: env ``KINEMATICS_URDF_MAX_BYTES``, else 64 MiB).
        max_seconds: Time cap [s] (default: env ``KINEMATICS_XACRO_MAX_SECONDS``, else
            :data:`DEFAULT_MAX_SECONDS`).

    Returns:
        The URDF document as text (what ``xacro file.xacro`` prints), with ``package://``
        mesh and texture file names rewritten to absolute paths for the packages found.

    Raises:
        URDFError: xacro is not installed (the message names the extra); the file cannot be
            read; a package is not found (named, with the folders searched); a required
            argument is not given (named); a xacro or XML error (file, and line when xacro
            knows it); a DOCTYPE or an oversized file; an expression that is not allowed; a
            file outside the package (named); a cap passed (named).
        InvalidValueError: A cap argument or environment variable is not valid.
    """
    top = str(Path(path))
    try:
        import xacro  # noqa: F401
    except ImportError as exc:
        raise URDFError(f"expanding a .xacro file needs the optional 'xacro' package "
                        f"({exc}); install it with {_EXTRA}", top) from None
    cap = _cap(max_bytes, MAX_BYTES_ENV, DEFAULT_MAX_BYTES, "max_bytes")
    seconds = _seconds(max_seconds)
    memory = _cap(None, MAX_MEMORY_ENV, DEFAULT_MAX_MEMORY, "max_memory")
    if not Path(top).is_file():
        raise URDFError("cannot read file: no such file", top)
    top_abs = os.path.abspath(top)
    request: dict[str, object] = {
        "top": top_abs,
        "args": {str(k): str(v) for k, v in (xacro_args or {}).items()},
        "package_dirs": _dirs(package_dirs, top),
        "max_bytes": cap,
        "max_seconds": seconds,
        "deadline": time.time() + 0.95 * seconds,  # the child's own, nicer, refusal
        "max_memory": memory,
        "sys_path": [p for p in sys.path if p and os.path.isabs(p)],
    }
    try:
        done = subprocess.run([sys.executable, "-I", _WORKER], input=json.dumps(request),
                              capture_output=True, text=True, timeout=seconds,
                              cwd=os.path.dirname(top_abs), check=False)
    except subprocess.TimeoutExpired:
        raise URDFError(f"xacro expansion took longer than the time cap of {seconds:g} s "
                        f"(max_seconds=, environment variable {MAX_SECONDS_ENV}); refused",
                        top) from None
    except OSError as exc:
        raise URDFError(f"cannot start the xacro sandbox ({sys.executable}): {exc}", top) \
            from None
    try:
        reply = json.loads(done.stdout)
    except ValueError:
        reply = None
    if not isinstance(reply, dict):
        tail = " ".join(done.stderr.strip().splitlines()[-1:]) or f"exit code {done.returncode}"
        if "MemoryError" in done.stderr:
            raise URDFError(f"xacro expansion passed the memory cap of {memory >> 20} MiB "
                            f"(environment variable {MAX_MEMORY_ENV}); refused", top)
        raise URDFError(f"the xacro sandbox failed: {truncate(tail, 300)}", top)
    if "error" in reply:
        where = reply.get("where") or top
        raise URDFError(str(reply["error"]), where, reply.get("line"))
    return str(reply["text"])

"""Where the compiled kernels are cached, and the one word said when a first use compiles.

numba compiles a kernel on its first call and keeps the machine code on disk. The folder
is per user: ``NUMBA_CACHE_DIR`` when it is set, else the platform's user cache folder
(``~/.cache/kinematics/numba`` on Linux, honouring ``XDG_CACHE_HOME``;
``~/Library/Caches/kinematics/numba`` on macOS; ``%LOCALAPPDATA%\\kinematics\\Cache\\numba``
on Windows); never the package's own folder, so nothing written at run time can outlive
an uninstall and shadow another install, and a read-only or shared install works. numba
keys every entry by the source file's path and stamp, so editable and regular installs,
and versions, never mix.

When that folder cannot be written, ``<tempdir>/kinematics-numba-<uid>`` is used; when no
folder can be written (or one fills up), the kernels are compiled in memory for this
process. Each fallback is said once on the ``kinematics`` logger. numba's cache folder is
set for the process (``numba.config.CACHE_DIR``) only when ``NUMBA_CACHE_DIR`` is not.

A compile (a cache miss) is announced once per process, before the wait, on the
``kinematics`` logger at WARNING: Python shows it on stderr by default (as matplotlib
announces its font cache) and ``logging.getLogger("kinematics").setLevel(logging.ERROR)``
silences it. The seconds spent compiling are counted (:func:`compile_seconds`) so that
rates and ETAs can leave them out (:class:`kinematics.progress.Progress`).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from typing import Any

__all__ = ["configure", "cache_dir", "compile_seconds", "compile_count", "compiling",
           "logger", "guard", "user_cache_dir"]

logger = logging.getLogger("kinematics")

_LOCK = threading.Lock()
_configured = False
_dir: str | None = None     # the folder in use; None: in memory
_said: set[str] = set()     # messages said once
_depth = 0                  # nesting of compile events (a kernel compiles its callees)
_since = 0.0                # start of the outermost compile in progress
_seconds = 0.0              # seconds spent compiling kinematics' kernels, finished ones
_count = 0                  # kernels (and helpers) compiled in this process


def _say_once(key: str, message: str) -> None:
    if key not in _said:
        _said.add(key)
        logger.warning(message)


def _writable(folder: str) -> bool:
    """Whether files can be created in ``folder`` (created if missing)."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
        return True
    except OSError:
        return False


def user_cache_dir() -> str:
    """The platform's per-user cache folder for the kernels (whether or not it is used)."""
    from numba.misc.appdirs import AppDirs

    return os.path.join(AppDirs(appname="kinematics", appauthor=False).user_cache_dir, "numba")


def _temp_dir() -> str:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return os.path.join(tempfile.gettempdir(), f"kinematics-numba-{uid}")


def configure() -> bool:
    """Choose the cache folder (once per process) and start announcing compiles; returns
    whether the kernels are cached on disk (``False``: compile in memory)."""
    global _configured, _dir
    with _LOCK:
        if _configured:
            return _dir is not None
        import numba

        wanted = getattr(numba.config, "CACHE_DIR", "") or ""
        if wanted:
            candidates = [wanted, _temp_dir()]
        else:
            candidates = [user_cache_dir(), _temp_dir()]
        for folder in candidates:
            if _writable(folder):
                _dir = folder
                break
        if _dir is None:
            _say_once("memory", f"no writable folder for the compiled kernels "
                                f"({', '.join(candidates)}): they are compiled in memory, "
                                "again in every new process")
        elif _dir != candidates[0]:
            _say_once("fallback", f"the compiled-kernel cache folder {candidates[0]} is not "
                                  f"writable; using {_dir}")
        if _dir is not None and _dir != wanted:
            setattr(numba.config, "CACHE_DIR", _dir)  # noqa: B010 (not in numba's stubs)
        from numba.core import event

        event.register("numba:compile", _announcer())
        _configured = True
        return _dir is not None


def cache_dir() -> str | None:
    """The folder the compiled kernels are cached in (``None``: in memory only)."""
    configure()
    return _dir


def compile_seconds() -> float:
    """Seconds this process has spent compiling kinematics' kernels so far (a compile in
    progress included)."""
    with _LOCK:
        return _seconds + (time.perf_counter() - _since if _depth else 0.0)


_ahead = False


def ahead_of_time() -> None:
    """From now on a first compile is announced as :func:`kinematics.accel.compile`'s."""
    global _ahead
    _ahead = True


def compile_count() -> int:
    """How many kernels (helpers included) this process has compiled (not loaded)."""
    return _count


def compiling() -> bool:
    """Whether one of kinematics' kernels is being compiled right now."""
    return _depth > 0


def _ours(data: Any) -> bool:
    fn = getattr(data.get("dispatcher"), "py_func", None)
    return getattr(fn, "__module__", "").startswith("kinematics.")


def _announcer() -> Any:
    """A numba ``numba:compile`` listener: says once that kernels compile, and counts the
    time (kinematics' kernels only; nested compiles of callees count once)."""
    from numba.core import event

    class Announcer(event.Listener):
        def on_start(self, ev: Any) -> None:
            global _depth, _since, _count
            if not _ours(ev.data):
                return
            _count += 1
            if _depth == 0:
                where = _dir or "memory only"
                _say_once("compile", f"compiling the kinematics kernels (once for this user "
                          f"and version; cached in {where})" if _ahead else
                          "compiling the kinematics kernels this call needs (first use for "
                          f"this user and version: seconds each, once; cached in {where}); "
                          "`kinematics compile` compiles all of them ahead of time")
                with _LOCK:
                    _since = time.perf_counter()
            _depth += 1

        def on_end(self, ev: Any) -> None:
            global _depth, _seconds
            if not _ours(ev.data) or _depth == 0:
                return
            _depth -= 1
            if _depth == 0:
                with _LOCK:
                    _seconds += time.perf_counter() - _since

    return Announcer()


def guard(dispatcher: Any) -> None:
    """Make a kernel's disk cache fail soft: a folder that became unreadable, unwritable
    or full while in use means compiling (and keeping the result in memory), said once."""
    cache = getattr(dispatcher, "_cache", None)
    if cache is None or not hasattr(cache, "save_overload") or "save_overload" in vars(cache):
        return
    save, load = cache.save_overload, cache.load_overload

    def save_overload(sig: Any, cres: Any) -> None:
        if "broken" in _said:
            return
        try:
            save(sig, cres)
        except OSError as exc:
            _say_once("broken", f"cannot write the compiled-kernel cache in {_dir} ({exc}): "
                                "the kernels compiled now stay in memory for this process")

    def load_overload(sig: Any, target_context: Any) -> Any:
        try:
            return load(sig, target_context)
        except OSError as exc:
            _say_once("unreadable", f"cannot read the compiled-kernel cache in {_dir} "
                                    f"({exc}): compiling instead")
            return None

    cache.save_overload = save_overload
    cache.load_overload = load_overload

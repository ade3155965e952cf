"""Chunked, checkpointed, optionally distributed execution of independent work units.

One engine serves every large sweep (reachability maps, workspace manipulability): a list
of picklable *tasks*, a module-level function ``func(task) -> dict[str, ndarray]``, and
three interchangeable executors that give identical results:

- in-process (default), with a progress display;
- a local process pool (``workers=N``), whose workers die with the calling process;
- a Dask cluster (``client=dask.distributed.Client(...)``, see :func:`connect`): the same
  tasks are submitted unchanged, with retries, so a lost worker's tasks are re-run
  elsewhere. Each result is released on the cluster as soon as it is stored, so losing a
  worker never re-runs finished chunks, and a cluster left without workers fails after
  ``worker_timeout`` seconds instead of waiting forever.

With a ``checkpoint`` folder, each finished task is written atomically (a per-run unique
temporary name, then a rename) to ``chunk_NNNNNN.npz`` next to a ``manifest.json`` of the
run's parameters. Every chunk file records the run's *key* (a digest of everything that
defines the run), its own index and a SHA-256 digest of its content. A rerun loads the
chunks that verify and recomputes, with a :class:`CheckpointWarning` naming the file, any
that are unreadable, truncated, edited, copied from another chunk or from another run; so
the result equals a clean run bit for bit. A lock file (``lock``, holding the owner's pid)
keeps a second concurrent run out of the folder. Determinism is the task's job: tasks carry
their own seeds, so where a task runs cannot change its result.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import secrets
import signal
import stat
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .exceptions import InvalidValueError, KinematicsError
from .progress import Progress

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "ChunkRun",
    "CheckpointError",
    "CheckpointLock",
    "CheckpointLockedError",
    "CheckpointWarning",
    "ClusterError",
    "WORKER_ENVIRON",
    "check_worker_environ",
    "connect",
    "run_chunks",
    "run_key",
]

#: Environment for Dask workers running batched kinematics: glibc keeps freed memory instead
#: of returning it at once (Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``), so large
#: temporaries do not page-fault on every allocation. Measured on a reachability map: 1.7x
#: more IK solves/s per worker (``benchmarks/results/reach.md``). Put it in the cluster's
#: Dask config under ``distributed.nanny.pre-spawn-environ``.
WORKER_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "33554432"}

_FORMAT = 2  # version of the chunk-file layout (1: no key, index or digest)
_META = "__checkpoint__"  # name of the metadata entry in a chunk file
_MAX_WARNINGS = 10  # individual warnings per run; the rest are summed up in one


class CheckpointWarning(UserWarning):
    """A checkpoint file (a chunk or the manifest) failed verification and is rebuilt."""


class CheckpointError(KinematicsError):
    """A checkpoint folder cannot be used (a file, not writable, or held by another run).

    Attributes:
        folder: The checkpoint path.
    """

    def __init__(self, message: str, folder: str | os.PathLike[str]):
        super().__init__(message)
        self.folder = str(folder)


class CheckpointLockedError(CheckpointError):
    """Another live run holds the checkpoint folder's lock.

    Attributes:
        folder: The checkpoint folder.
        pid: Process id written in the lock file by the holder (``None`` if unreadable).
    """

    def __init__(self, folder: str | os.PathLike[str], pid: int | None):
        who = "another process" if pid is None else f"process {pid}"
        super().__init__(
            f"checkpoint folder {str(folder)!r} is in use by {who} (lock file "
            f"{str(Path(folder) / 'lock')!r}); wait for that run to finish or use another "
            f"folder", folder)
        self.pid = pid


class ClusterError(KinematicsError):
    """The Dask scheduler cannot be reached, or the cluster has no workers left."""


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def check_worker_environ(client: Any) -> str | None:
    """A one-line advice when the cluster's workers return memory to the OS eagerly
    (``MALLOC_TRIM_THRESHOLD_`` below 1 MB), else ``None``."""
    values = client.run(_trim_threshold)
    low = [w for w, v in values.items() if v is not None and v.isdigit() and int(v) < 2**20]
    if not low:
        return None
    return (f"note: {len(low)} of {len(values)} Dask workers run with MALLOC_TRIM_THRESHOLD_ "
            f"below 1 MB (Dask's default), which makes batched IK up to 1.7x slower; set "
            f"distributed.nanny.pre-spawn-environ to {WORKER_ENVIRON} in the cluster's config")


def connect(address: str, timeout: float = 10.0) -> Any:
    """A ``dask.distributed.Client`` connected to the scheduler at ``address``.

    Args:
        address: Scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
        timeout: Seconds to keep trying before giving up.

    Returns:
        The connected client.

    Raises:
        ClusterError: No scheduler answered at ``address`` within ``timeout`` seconds, or the
            address is malformed.
        InvalidValueError: ``timeout`` is not a positive number.
    """
    timeout = _positive("timeout", timeout)
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ClusterError(
            f"cannot connect to the Dask scheduler at {address!r} within {timeout:g} s "
            f"({type(exc).__name__}: {exc}); check the address and that the scheduler is "
            f"running") from None


def _positive(name: str, value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}={value!r}; expected a positive number of seconds") \
            from None
    if not (v > 0 and np.isfinite(v)):
        raise InvalidValueError(f"{name}={value!r}; expected a positive number of seconds")
    return v


Result = dict[str, np.ndarray]


@dataclass(frozen=True)
class ChunkRun:
    """Outcome of :func:`run_chunks`.

    Attributes:
        results: One dict per task, in task order.
        computed: Indices of the tasks computed in this run.
        loaded: Indices of the tasks loaded from checkpoints.
        rejected: Indices of the tasks whose checkpoint failed verification (and were
            therefore computed again).
    """

    results: list[Result]
    computed: tuple[int, ...]
    loaded: tuple[int, ...]
    rejected: tuple[int, ...] = ()


def run_key(manifest: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a JSON-serialisable ``manifest``: the default key of a run."""
    text = json.dumps(manifest, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# -- chunk files ----------------------------------------------------------------------------

def _digest(key: str, index: int, result: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(f"{_FORMAT}\0{key}\0{index}\0".encode())
    for name in sorted(result):
        a = np.ascontiguousarray(result[name])
        h.update(f"{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _chunk_path(folder: Path, i: int) -> Path:
    return folder / f"chunk_{i:06d}.npz"


def _tmp_name(path: Path) -> Path:
    """A temporary name next to ``path`` that no other run (pid) or call (random) uses."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")


def _write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    _make_room(path)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)  # atomic: the file is either complete or absent
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _kind(path: Path, mode: int | None = None) -> str | None:
    """What ``path`` is when it is not a regular file ("a directory", "a FIFO", ...), or
    ``None`` for a regular file or no file (``lstat``: a symlink is not followed)."""
    if mode is None:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
    for test, name in ((stat.S_ISREG, None), (stat.S_ISDIR, "a directory"),
                       (stat.S_ISFIFO, "a FIFO"), (stat.S_ISLNK, "a symbolic link"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"


def _make_room(path: Path) -> None:
    """Remove what stands at ``path`` when it is not a regular file (a directory, a FIFO,
    a link), so that a chunk or manifest can be written there."""
    kind = _kind(path)
    if kind is None:
        return
    try:
        if kind == "a directory":
            os.rmdir(path)
        else:
            os.unlink(path)
    except OSError as exc:
        raise CheckpointError(f"checkpoint file {str(path)!r} is {kind} that cannot be replaced "
                              f"({exc.strerror}); remove it", path.parent) from None


def _read_chunk(path: Path, key: str, i: int) -> tuple[Result | None, str | None]:
    """``(result, None)`` for a chunk file that verifies, ``(None, None)`` when absent,
    ``(None, reason)`` when it exists but cannot be trusted (anything but a regular file is
    never opened for reading: a FIFO would block)."""
    kind = _kind(path)
    if kind is not None:
        return None, f"is {kind}, not a regular file"
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"is unreadable ({exc.strerror})"
    try:
        kind = _kind(path, os.fstat(fd).st_mode)  # swapped since the lstat
        if kind is not None:
            os.close(fd)
            return None, f"is {kind}, not a regular file"
        with os.fdopen(fd, "rb") as f, np.load(f, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001 - any failure to read means a damaged file:
        # BadZipFile, zlib/lzma errors, ValueError, NotImplementedError (a flipped
        # compression flag), MemoryError (a header claiming a huge shape), ...
        return None, f"is unreadable ({type(exc).__name__}: {exc})"
    meta = arrays.pop(_META, None)
    if meta is None or meta.shape != (3,) or meta.dtype.kind != "U":
        return None, "has no verification record (written by an older version?)"
    file_key, file_index, digest = (str(s) for s in meta)
    if file_key != key:
        return None, "belongs to a run with other parameters"
    if file_index != str(i):
        return None, f"holds the data of chunk {file_index}, not {i}"
    if _digest(key, i, arrays) != digest:
        return None, "does not match its digest (damaged or edited)"
    return arrays, None


def _write_chunk(path: Path, key: str, i: int, result: Mapping[str, np.ndarray]) -> None:
    arrays = {k: np.asarray(v) for k, v in result.items()}
    if _META in arrays:
        raise InvalidValueError(f"a task result may not use the reserved name {_META!r}")
    meta = np.array([key, str(i), _digest(key, i, arrays)])
    _write_atomic(path, lambda f: np.savez(f, **arrays, **{_META: meta}))  # type: ignore[arg-type]


# -- the folder: checks, lock, manifest -------------------------------------------------------

def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


class CheckpointLock:
    """Exclusive use of a checkpoint folder by this run (``with CheckpointLock(folder): ...``).

    The lock is an OS advisory lock (``flock``) on ``folder/lock``, which holds the owner's
    pid: the OS drops it when the owner dies, so a lock left by a dead process is simply
    taken over.

    Args:
        folder: An existing folder.

    Raises:
        CheckpointLockedError: A live process holds the lock.
        CheckpointError: The lock file cannot be created (folder not writable).
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)
        self.path = self.folder / "lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (see the class docstring for errors)."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
                         | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError as exc:
            kind = _kind(self.path)
            if kind is not None:
                raise CheckpointError(
                    f"checkpoint lock file {str(self.path)!r} is {kind}, not a regular file; "
                    "remove it (or use another folder)", self.folder) from None
            raise CheckpointError(
                f"checkpoint folder {str(self.folder)!r} is not writable ({exc.strerror}); "
                f"choose a folder you can write to", self.folder) from None
        kind = _kind(self.path, os.fstat(fd).st_mode)
        if kind is not None:
            os.close(fd)
            raise CheckpointError(
                f"checkpoint lock file {str(self.path)!r} is {kind}, not a regular file; "
                "remove it (or use another folder)", self.folder)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:  # pragma: no cover - Windows: lock one byte past the pid
                import msvcrt
                os.lseek(fd, 4096, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise CheckpointLockedError(self.folder, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Drop the lock (the file stays; it is overwritten by the next owner)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the last descriptor drops the flock

    def __enter__(self) -> CheckpointLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _warn(message: str) -> None:
    warnings.warn(message, CheckpointWarning, stacklevel=4)


class _Folder:
    """An open checkpoint folder: checked, locked, its manifest in place."""

    def __init__(self, folder: Path, manifest: Mapping[str, Any], key: str):
        self.folder, self.key = folder, key
        if folder.exists() and not folder.is_dir():
            raise CheckpointError(f"checkpoint path {str(folder)!r} is a file; expected a "
                                  f"folder (give a new or existing folder)", folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(f"cannot create checkpoint folder {str(folder)!r} "
                                  f"({exc.strerror})", folder) from None
        self.lock = CheckpointLock(folder)
        self.lock.acquire()
        try:
            self._probe()
            self._manifest(manifest)
        except BaseException:
            self.lock.release()
            raise

    def _probe(self) -> None:
        """Remove temporary files of dead runs (we hold the lock) and check that a file can
        be created, before any work."""
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        probe = _tmp_name(self.folder / "probe")
        try:
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise CheckpointError(
                f"checkpoint folder {str(self.folder)!r} is not writable ({exc.strerror}); "
                f"choose a folder you can write to", self.folder) from None

    def _manifest(self, manifest: Mapping[str, Any]) -> None:
        mpath = self.folder / "manifest.json"
        new = json.loads(json.dumps(manifest, sort_keys=True, default=str))
        old: dict[str, Any] | None = None
        if mpath.exists() or os.path.islink(mpath):
            try:
                kind = _kind(mpath)
                if kind is not None:
                    raise ValueError(f"it is {kind}, not a regular file")
                old = json.loads(mpath.read_text())
                if not isinstance(old, dict):
                    raise ValueError(f"a JSON {type(old).__name__}, not an object")
            except (ValueError, OSError) as exc:
                _warn(f"checkpoint manifest {str(mpath)!r} is unreadable ({exc}); rebuilding "
                      f"it, and every chunk is verified against this run's key")
                old = None
        if old is not None:
            stored_key = old.pop("checkpoint_key", None)
            if old != new:
                diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise InvalidValueError(
                    f"checkpoint folder {str(self.folder)!r} holds a run with different "
                    f"parameters ({', '.join(diff)}); use another output folder or delete it")
            if stored_key == self.key:
                return
        text = json.dumps({**new, "checkpoint_key": self.key}, sort_keys=True, indent=1)
        _write_atomic(mpath, lambda f: f.write(text.encode()))

    def load_all(self, n: int) -> tuple[list[Result | None], list[int]]:
        """Every chunk that verifies, and the indices of those rejected (with warnings)."""
        results: list[Result | None] = [None] * n
        rejected: list[tuple[int, str]] = []
        for i in range(n):
            results[i], reason = _read_chunk(_chunk_path(self.folder, i), self.key, i)
            if reason is not None:
                rejected.append((i, reason))
        for i, reason in rejected[:_MAX_WARNINGS]:
            _warn(f"checkpoint chunk {str(_chunk_path(self.folder, i))!r} {reason}; "
                  f"recomputing it")
        if len(rejected) > _MAX_WARNINGS:
            _warn(f"{len(rejected) - _MAX_WARNINGS} more checkpoint chunks in "
                  f"{str(self.folder)!r} failed verification; recomputing them")
        return results, [i for i, _ in rejected]

    def save(self, i: int, result: Mapping[str, np.ndarray]) -> None:
        _write_chunk(_chunk_path(self.folder, i), self.key, i, result)

    def close(self) -> None:
        self.lock.release()


# -- process-pool workers that die with their parent ----------------------------------------

_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when ``parent`` (the calling process) dies.

    On Linux the kernel sends SIGKILL when the parent exits (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also checks every 0.5 s that the parent is still there.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread remains
            pass
    ppid = os.getppid()
    if ppid != parent and not _alive(parent):  # it died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, ppid), daemon=True,
                     name="kinematics-parent-watch").start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _watch_parent(parent: int, ppid: int) -> None:  # pragma: no cover - runs in a worker
    while True:
        time.sleep(0.5)
        if os.getppid() != ppid or (parent != ppid and not _alive(parent)):
            os._exit(1)


# -- executors ------------------------------------------------------------------------------

def _run_dask(client: Any, func: Callable[[Any], Result], tasks: Sequence[Any],
              todo: list[int], finish: Callable[[int, Result], None],
              worker_timeout: float, folder: Path | None) -> None:
    """Submit ``todo`` to the cluster; store and release each result as it arrives."""
    from distributed import as_completed as dask_as_completed

    futures = {client.submit(func, tasks[i], pure=False, retries=3): i for i in todo}
    ready = dask_as_completed(list(futures), with_results=True)
    idle_since: float | None = None
    checked = time.monotonic()
    try:
        while futures:
            batch = ready.next_batch(block=False)
            for fut, result in batch:
                i = futures.pop(fut)
                del fut  # the last reference: the cluster forgets the result
                finish(i, result)
            del batch
            if not futures:
                break
            now = time.monotonic()
            if now - checked >= min(1.0, worker_timeout / 4):
                checked = now
                if client.nthreads():
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since >= worker_timeout:
                    kept = (f"; the {len(todo) - len(futures)} finished chunks are saved in "
                            f"{str(folder)!r}" if folder is not None else "")
                    raise ClusterError(
                        f"the Dask cluster at {client.scheduler.address!r} has had no workers "
                        f"for {worker_timeout:g} s with {len(futures)} of {len(todo)} chunks "
                        f"unfinished{kept}; start workers and run again")
            time.sleep(0.02)
    finally:
        if futures:
            client.cancel(list(futures))


def run_chunks(
    func: Callable[[Any], Result],
    tasks: Sequence[Any],
    *,
    client: Any = None,
    workers: int | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    manifest: Mapping[str, Any] | None = None,
    progress: bool | TextIO = True,
    label: str = "chunks",
    units: Sequence[int] | None = None,
    on_chunk: Callable[[int, Result], None] | None = None,
    key: str | None = None,
    worker_timeout: float = 60.0,
) -> ChunkRun:
    """Run ``func`` on every task, resuming from verified checkpoints.

    Args:
        func: Module-level (picklable) function of one task returning named numeric arrays.
        tasks: Picklable task descriptions (each carries its own seed).
        client: A ``dask.distributed.Client`` (see :func:`connect`): run the tasks on its
            cluster.
        workers: Without ``client``: number of local processes (``None`` or 1: in-process).
        checkpoint: Folder for finished chunks, the manifest and the lock (``None``: no
            checkpoints). Checked (a folder, writable, not in use) before any work.
        manifest: JSON-serialisable parameters that identify the run; a checkpoint folder
            made with different ones is refused.
        progress: Progress on stderr (``True``: a bar on a terminal, a plain line every 10 s
            otherwise), none (``False``), or a bar on the given stream.
        label: Unit name in the progress display.
        units: Size of each task in the display's units (default 1 per task, i.e. chunks).
        on_chunk: Called as ``on_chunk(i, result)`` after each computed chunk is saved (an
            exception raised there stops the run, keeping what was saved).
        key: Identity of the run recorded in every chunk file (e.g. a hash of robot, grid
            and seeds); a chunk with another key is recomputed. Default:
            :func:`run_key` of ``manifest``.
        worker_timeout: With ``client``: seconds the cluster may have no workers before the
            run fails.

    Returns:
        :class:`ChunkRun`.

    Raises:
        InvalidValueError: ``workers`` < 1, ``worker_timeout`` not positive, or a checkpoint
            folder from another run.
        CheckpointError: ``checkpoint`` is a file or not writable.
        CheckpointLockedError: Another live run uses the checkpoint folder.
        ClusterError: The Dask cluster had no workers for ``worker_timeout`` seconds.

    Warns:
        CheckpointWarning: A chunk file or the manifest failed verification (it is rebuilt).
    """
    if workers is not None and (isinstance(workers, bool)
                                or not isinstance(workers, (int, np.integer)) or workers < 1):
        raise InvalidValueError(f"workers={workers!r}; expected >= 1 (an integer)")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        raise InvalidValueError(f"checkpoint={checkpoint!r}; expected a folder path")
    worker_timeout = _positive("worker_timeout", worker_timeout)
    size = [1] * len(tasks) if units is None else [int(u) for u in units]
    if len(size) != len(tasks):
        raise InvalidValueError(f"units has {len(size)} entries; expected one per task "
                                f"({len(tasks)})")
    manifest = dict(manifest or {})
    key = run_key(manifest) if key is None else str(key)
    bar = Progress.from_arg(sum(size), progress, label)
    folder = None if checkpoint is None else _Folder(Path(checkpoint), manifest, key)
    try:
        if folder is not None:
            results, rejected = folder.load_all(len(tasks))
        else:
            results, rejected = [None] * len(tasks), []
        loaded = [i for i, r in enumerate(results) if r is not None]
        todo = [i for i, r in enumerate(results) if r is None]
        computed: list[int] = []
        if loaded:
            bar.resume(sum(size[i] for i in loaded),
                       f"resuming {len(loaded)}/{len(tasks)} chunks from "
                       f"{str(checkpoint)!r}")

        def finish(i: int, result: Result) -> None:
            results[i] = result
            if folder is not None:
                folder.save(i, result)
            computed.append(i)
            bar.advance(size[i])
            if on_chunk is not None:
                on_chunk(i, result)

        try:
            if client is not None:
                _run_dask(client, func, tasks, todo, finish, worker_timeout,
                          None if folder is None else folder.folder)
            elif workers is not None and workers > 1 and todo:
                from concurrent.futures import ProcessPoolExecutor

                pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent,
                                           initargs=(os.getpid(),))
                try:
                    pending = {pool.submit(func, tasks[i]): i for i in todo}
                    for fut in as_completed(pending):
                        finish(pending.pop(fut), fut.result())
                finally:
                    pool.shutdown(wait=True, cancel_futures=True)
            else:
                for i in todo:
                    finish(i, func(tasks[i]))
        finally:
            bar.close()
    finally:
        if folder is not None:
            folder.close()
    return ChunkRun([r for r in results if r is not None], tuple(sorted(computed)),
                    tuple(loaded), tuple(rejected))

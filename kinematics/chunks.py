"""Chunked, checkpointed, optionally distributed execution of independent work units.

One engine serves every large sweep (reachability maps, workspace manipulability): a list
of picklable *tasks*, a module-level function ``func(task) -> dict[str, ndarray]``, and
three interchangeable executors that give identical results:

- in-process (default), with a progress bar;
- a local process pool (``workers=N``);
- a Dask cluster (``client=dask.distributed.Client(...)``): the same tasks are submitted
  unchanged, with retries, so a lost worker's tasks are re-run elsewhere.

With a ``checkpoint`` folder, each finished task is written atomically to
``chunk_NNNNNN.npz`` next to a ``manifest.json`` of the run's parameters; a rerun with the
same parameters loads finished chunks and computes only the missing ones. Determinism is the
task's job: tasks carry their own seeds, so where a task runs cannot change its result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .exceptions import InvalidValueError
from .progress import Progress

__all__ = ["ChunkRun", "run_chunks", "WORKER_ENVIRON", "check_worker_environ"]

#: Environment for Dask workers running batched kinematics: glibc keeps freed memory instead
#: of returning it at once (Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536``), so large
#: temporaries do not page-fault on every allocation. Measured on a reachability map: 1.7x
#: more IK solves/s per worker (``benchmarks/results/reach.md``). Put it in the cluster's
#: Dask config under ``distributed.nanny.pre-spawn-environ``.
WORKER_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "33554432"}


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

Result = dict[str, np.ndarray]


@dataclass(frozen=True)
class ChunkRun:
    """Outcome of :func:`run_chunks`.

    Attributes:
        results: One dict per task, in task order.
        computed: Indices of the tasks computed in this run.
        loaded: Indices of the tasks loaded from checkpoints.
    """

    results: list[Result]
    computed: tuple[int, ...]
    loaded: tuple[int, ...]


def _chunk_path(folder: Path, i: int) -> Path:
    return folder / f"chunk_{i:06d}.npz"


def _save(folder: Path, i: int, result: Mapping[str, np.ndarray]) -> None:
    path = _chunk_path(folder, i)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **dict(result))  # type: ignore[arg-type]
    os.replace(tmp, path)  # atomic: a chunk file is either complete or absent


def _load(folder: Path, i: int) -> Result | None:
    path = _chunk_path(folder, i)
    if not path.exists():
        return None
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _prepare(folder: Path, manifest: Mapping[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    mpath = folder / "manifest.json"
    text = json.dumps(manifest, sort_keys=True, indent=1, default=str)
    if mpath.exists():
        old = json.loads(mpath.read_text())
        new = json.loads(text)
        if old != new:
            diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            raise InvalidValueError(
                f"checkpoint folder {str(folder)!r} holds a run with different parameters "
                f"({', '.join(diff)}); use another output folder or delete it")
    else:
        mpath.write_text(text)


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
) -> ChunkRun:
    """Run ``func`` on every task, resuming from checkpoints.

    Args:
        func: Module-level (picklable) function of one task returning named arrays.
        tasks: Picklable task descriptions (each carries its own seed).
        client: A ``dask.distributed.Client``: run the tasks on its cluster.
        workers: Without ``client``: number of local processes (``None`` or 1: in-process).
        checkpoint: Folder for finished chunks and the manifest (``None``: no checkpoints).
        manifest: JSON-serialisable parameters that identify the run; a checkpoint folder
            made with different ones is refused.
        progress: Draw a progress bar on stderr when it is a terminal (``True``), never
            (``False``), or always on the given stream.
        label: Unit name in the progress bar.
        units: Size of each task in the bar's units (default 1 per task, i.e. chunks).
        on_chunk: Called as ``on_chunk(i, result)`` after each computed chunk is saved (an
            exception raised there stops the run, keeping what was saved).

    Returns:
        :class:`ChunkRun`.

    Raises:
        InvalidValueError: ``workers`` < 1, or a checkpoint folder from another run.
    """
    if workers is not None and workers < 1:
        raise InvalidValueError(f"workers={workers}; expected >= 1")
    folder = None if checkpoint is None else Path(checkpoint)
    if folder is not None:
        _prepare(folder, manifest or {})
    results: list[Result | None] = [None] * len(tasks)
    loaded = []
    if folder is not None:
        for i in range(len(tasks)):
            results[i] = _load(folder, i)
            if results[i] is not None:
                loaded.append(i)
    todo = [i for i in range(len(tasks)) if results[i] is None]
    computed: list[int] = []
    size = [1] * len(tasks) if units is None else list(units)
    bar = Progress.from_arg(sum(size), progress, label)
    bar.advance(sum(size[i] for i in loaded))

    def finish(i: int, result: Result) -> None:
        results[i] = result
        if folder is not None:
            _save(folder, i, result)
        computed.append(i)
        bar.advance(size[i])
        if on_chunk is not None:
            on_chunk(i, result)

    try:
        if client is not None:
            from distributed import as_completed as dask_as_completed

            futures = {client.submit(func, tasks[i], pure=False, retries=3): i for i in todo}
            try:
                for fut, result in dask_as_completed(list(futures), with_results=True):
                    finish(futures[fut], result)
            finally:
                client.cancel(list(futures))
        elif workers is not None and workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                pending = {pool.submit(func, tasks[i]): i for i in todo}
                try:
                    for fut in as_completed(pending):
                        finish(pending[fut], fut.result())
                finally:
                    for fut in pending:
                        fut.cancel()
        else:
            for i in todo:
                finish(i, func(tasks[i]))
    finally:
        bar.close()
    return ChunkRun([r for r in results if r is not None], tuple(sorted(computed)),
                    tuple(loaded))

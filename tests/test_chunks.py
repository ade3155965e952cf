"""The chunk engine: verified checkpoints (damaged, truncated, NaN-filled, swapped, foreign
chunks and a corrupt manifest are rebuilt with a warning naming the file), the folder lock,
up-front folder checks, pool workers that die with their parent, and Dask runs that release
finished results and do not wait forever."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import kinematics as kin
from kinematics.chunks import (
    CheckpointError,
    CheckpointLock,
    CheckpointLockedError,
    CheckpointWarning,
    ClusterError,
    _tmp_name,
    connect,
    run_chunks,
)

N = 6
MANIFEST = {"what": "squares", "n": N}


def square(i: int) -> dict[str, np.ndarray]:
    """A deterministic task: different data per chunk, with NaN in odd ones."""
    return {"y": np.arange(5.0) * i + i * i, "q": np.full((2, 3), np.nan if i % 2 else i / 7)}


def logged(task: tuple[int, str]) -> dict[str, np.ndarray]:
    """``square`` that appends its index to a log file (counts executions anywhere)."""
    i, log = task
    with open(log, "a") as f:
        f.write(f"{i}\n")
    time.sleep(0.05)
    return square(i)


def same(a: list[dict[str, np.ndarray]], b: list[dict[str, np.ndarray]]) -> bool:
    return len(a) == len(b) and all(
        x.keys() == y.keys() and all(np.array_equal(x[k], y[k], equal_nan=True) for k in x)
        for x, y in zip(a, b, strict=True))


CLEAN = [square(i) for i in range(N)]


def run(folder: Path, **kwargs):  # type: ignore[no-untyped-def]
    return run_chunks(square, list(range(N)), checkpoint=folder, manifest=MANIFEST,
                      progress=False, **kwargs)


@pytest.fixture()
def done(tmp_path: Path) -> Path:
    """A checkpoint folder holding a finished run."""
    folder = tmp_path / "ck"
    first = run(folder)
    assert first.computed == tuple(range(N)) and same(first.results, CLEAN)
    return folder


def chunk(folder: Path, i: int) -> Path:
    return folder / f"chunk_{i:06d}.npz"


def test_clean_resume_loads_every_chunk(done: Path) -> None:
    again = run(done)
    assert again.loaded == tuple(range(N)) and again.computed == () and again.rejected == ()
    assert same(again.results, CLEAN)


def _flip_middle_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:200])


def _fill_nan(path: Path) -> None:
    """Overwrite the data with NaN, keeping the file's verification record."""
    with np.load(path) as d:
        arrays = {k: d[k] for k in d.files}
    for k in ("y", "q"):
        arrays[k] = np.full_like(arrays[k], np.nan)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _old_format(path: Path) -> None:
    with open(path, "wb") as f:
        np.savez(f, **square(3))


@pytest.mark.parametrize(("damage", "reason"), [
    (_flip_middle_byte, r"is unreadable \(BadZipFile|does not match its digest"),
    (_truncate, r"is unreadable \(BadZipFile"),
    (_fill_nan, r"does not match its digest \(damaged or edited\)"),
    (lambda p: shutil.copyfile(chunk(p.parent, 1), p), r"holds the data of chunk 1, not 3"),
    (_old_format, r"has no verification record"),
    (lambda p: p.write_bytes(b""), r"is unreadable"),
])
def test_damaged_chunk_is_recomputed_with_a_warning_naming_it(done: Path, damage, reason) -> None:  # type: ignore[no-untyped-def]
    damage(chunk(done, 3))
    pattern = re.escape(f"checkpoint chunk '{chunk(done, 3)}' ") + f"(?:{reason})"
    with pytest.warns(CheckpointWarning, match=pattern):
        again = run(done)
    assert again.rejected == (3,) and again.computed == (3,)
    assert again.loaded == (0, 1, 2, 4, 5)
    assert same(again.results, CLEAN)  # bit for bit
    assert run(done).computed == ()  # the rebuilt chunk verifies


def test_chunk_from_another_run_is_recomputed(tmp_path: Path, done: Path) -> None:
    other = tmp_path / "other"
    run_chunks(square, list(range(N)), checkpoint=other, manifest=MANIFEST, key="another run",
               progress=False)
    shutil.copyfile(chunk(other, 2), chunk(done, 2))  # same index, other key
    with pytest.warns(CheckpointWarning, match=re.escape(f"'{chunk(done, 2)}' belongs to a run "
                                                         "with other parameters")):
        again = run(done)
    assert again.rejected == (2,) and same(again.results, CLEAN)


def test_many_bad_chunks_give_a_bounded_number_of_warnings(tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    n = 14
    run_chunks(square, list(range(n)), checkpoint=folder, progress=False)
    for i in range(n):
        _truncate(chunk(folder, i))
    with pytest.warns(CheckpointWarning) as record:
        again = run_chunks(square, list(range(n)), checkpoint=folder, progress=False)
    assert len(record) == 11 and "4 more checkpoint chunks" in str(record[-1].message)
    assert again.rejected == tuple(range(n)) and same(again.results,
                                                      [square(i) for i in range(n)])


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "\udcff"])
def test_corrupt_manifest_is_rebuilt_with_a_warning(done: Path, text: str) -> None:
    manifest = done / "manifest.json"
    manifest.write_bytes(text.encode(errors="surrogateescape"))
    with pytest.warns(CheckpointWarning, match=re.escape(f"checkpoint manifest '{manifest}' "
                                                         "is unreadable")):
        again = run(done)
    assert again.loaded == tuple(range(N)) and same(again.results, CLEAN)
    data = json.loads(manifest.read_text())
    assert data["what"] == "squares" and "checkpoint_key" in data


def test_other_parameters_are_still_refused(done: Path) -> None:
    with pytest.raises(kin.InvalidValueError, match=r"holds a run with different parameters "
                                                    r"\(n\)"):
        run_chunks(square, list(range(N)), checkpoint=done, manifest={**MANIFEST, "n": 7},
                   progress=False)
    run(done)  # the lock was released


def test_a_locked_folder_is_refused_naming_folder_and_pid(done: Path) -> None:
    with CheckpointLock(done), pytest.raises(
            CheckpointLockedError,
            match=re.escape(f"checkpoint folder '{done}' is in use by process {os.getpid()}")):
        run(done)
    assert run(done).loaded == tuple(range(N))  # free again


def test_a_second_process_on_the_same_folder_is_refused(done: Path) -> None:
    code = ("import sys, time; from kinematics.chunks import CheckpointLock\n"
            "with CheckpointLock(sys.argv[1]):\n"
            "    print('locked', flush=True); time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(kin.__file__).parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", code, str(done)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(CheckpointLockedError, match=f"in use by process {holder.pid}") as err:
            run(done)
        assert err.value.pid == holder.pid and err.value.folder == str(done)
    finally:
        holder.kill()
        holder.communicate()
    assert run(done).loaded == tuple(range(N))  # the dead holder's lock is gone


def test_stale_lock_and_temporary_files_of_a_dead_run_are_taken_over(done: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (done / "lock").write_text(f"{dead.pid}\n")
    leftover = done / f".chunk_000001.npz.{dead.pid}.0123456789ab.tmp"
    leftover.write_bytes(b"half a chunk")
    assert run(done).loaded == tuple(range(N))
    assert not leftover.exists()


def test_temporary_names_are_unique_per_run_and_call(tmp_path: Path) -> None:
    names = {_tmp_name(tmp_path / "chunk_000000.npz") for _ in range(100)}
    assert len(names) == 100
    assert all(f".{os.getpid()}." in n.name and n.parent == tmp_path for n in names)


def _never(i: int) -> dict[str, np.ndarray]:
    raise AssertionError("a chunk was computed")


def test_a_file_as_checkpoint_path_is_refused_up_front(tmp_path: Path) -> None:
    path = tmp_path / "results.txt"
    path.write_text("not a folder")
    with pytest.raises(CheckpointError, match=re.escape(f"checkpoint path '{path}' is a file; "
                                                        "expected a folder")):
        run_chunks(_never, [0, 1], checkpoint=path, progress=False)
    with pytest.raises(CheckpointError, match="cannot create checkpoint folder"):
        run_chunks(_never, [0, 1], checkpoint=path / "sub", progress=False)


def test_a_read_only_folder_is_refused_up_front(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores permissions: fail creation as a
        real_open = os.open           # read-only file system does

        def read_only_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            if Path(path).parent == folder and flags & os.O_CREAT:
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", read_only_open)
    try:
        with pytest.raises(CheckpointError, match=re.escape(f"checkpoint folder '{folder}' is "
                                                            "not writable")):
            run_chunks(_never, [0, 1], checkpoint=folder, progress=False)
    finally:
        folder.chmod(0o755)


def test_resume_is_announced_and_rate_is_this_runs(done: Path) -> None:
    chunk(done, 4).unlink()
    stream = io.StringIO()
    with pytest.warns(CheckpointWarning, match=re.escape(f"'{chunk(done, 5)}'")):
        _truncate(chunk(done, 5))
        run_chunks(square, list(range(N)), checkpoint=done, manifest=MANIFEST, progress=stream)
    out = stream.getvalue()
    assert f"resuming 4/{N} chunks from '{done}'\n" in out
    assert f"{N}/{N} chunks 100%" in out and "ETA 0.0 s" in out


# -- process pool -----------------------------------------------------------------------------

PARENT = """
import os, sys, time
from kinematics.chunks import run_chunks

def hang(i):
    open(os.path.join(sys.argv[1], f"{os.getpid()}.pid"), "w").close()
    time.sleep(120)
    return {}

if __name__ == "__main__":
    run_chunks(hang, [0, 1], workers=2, progress=False)
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # zombie: dead
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_pool_workers_die_with_their_parent(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": str(Path(kin.__file__).parents[1])}
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2:
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    workers = [int(p.stem) for p in tmp_path.glob("*.pid")]
    deadline = time.monotonic() + 5
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [pid for pid in workers if not _gone(pid)]
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers {alive} outlived their parent"


# -- Dask -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def distributed():  # type: ignore[no-untyped-def]
    return pytest.importorskip("distributed")


def test_dask_releases_finished_results_so_a_lost_worker_reruns_none(  # type: ignore[no-untyped-def]
        tmp_path: Path, distributed) -> None:
    log = tmp_path / "executions.log"
    n = 16
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        held: list[int] = []
        stored: list[int] = []
        before_loss: set[int] = set()

        def lose_a_worker(i: int, _result: object) -> None:
            held.append(len(client.refcount))  # futures the client still holds
            stored.append(i)
            if len(stored) == 6:
                before_loss.update(stored)
                cluster.sync(next(iter(cluster.workers.values())).close)

        out = run_chunks(logged, [(i, str(log)) for i in range(n)], client=client,
                         progress=False, on_chunk=lose_a_worker)
    assert same(out.results, [square(i) for i in range(n)])
    runs = [int(s) for s in log.read_text().split()]
    again = {i for i in runs if runs.count(i) > 1}
    assert not again & before_loss, f"finished chunks {again & before_loss} ran again"
    assert held[-1] < n // 2  # results are released as they are stored, not at the end


def test_dask_without_workers_fails_after_the_timeout(distributed) -> None:  # type: ignore[no-untyped-def]
    with distributed.LocalCluster(n_workers=0, processes=False,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(ClusterError, match=r"has had no workers for 0.3 s with 3 of 3 "
                                               r"chunks unfinished"):
            run_chunks(square, [0, 1, 2], client=client, progress=False, worker_timeout=0.3)
        with pytest.raises(kin.InvalidValueError, match=r"worker_timeout=0; expected a positive"):
            run_chunks(square, [0], client=client, progress=False, worker_timeout=0)


def test_connect_names_an_unreachable_address(distributed) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ClusterError, match=r"cannot connect to the Dask scheduler at "
                                           r"'tcp://127.0.0.1:9' within 0.5 s"):
        connect("tcp://127.0.0.1:9", timeout=0.5)

"""Where the compiled kernels are cached, the word said on a first compile, and compiling
ahead of time (``kinematics.accel.compile``, ``kinematics compile``).

The cache folder is chosen once per process, so every case runs in a fresh interpreter
with its own environment (an empty cache, a folder that cannot be written, ...).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import kinematics as kin
from kinematics import accel
from kinematics.progress import Progress

pytest.importorskip("numba")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(kin.__file__).resolve().parent
ANNOUNCE = "compiling the kinematics kernels"
FK = ("import numpy as np, kinematics as kin\n"
      "r = kin.load_robot('planar2r')\n"
      "kin.fk_jacobian(r, np.zeros(r.dof))\n")


def run(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -W error -c code`` with the repository first on the path, ``env`` added
    and ``NUMBA_CACHE_DIR`` / ``XDG_CACHE_HOME`` removed unless given."""
    base = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR",
                                                             "XDG_CACHE_HOME")}
    base.update(PYTHONPATH=os.pathsep.join([str(ROOT), base.get("PYTHONPATH", "")]),
                XDG_CACHE_HOME=str(tmp_path / "xdg"), **env)
    return subprocess.run([sys.executable, "-W", "error", "-c", code], env=base,
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)


def index_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")]


def test_the_cache_is_the_users_never_the_package_folder(tmp_path: Path) -> None:
    done = run(FK + "print(kin.accel.cache_dir())", tmp_path)
    assert done.returncode == 0, done.stderr
    where = Path(done.stdout.strip().splitlines()[-1])
    assert where == tmp_path / "xdg" / "kinematics" / "numba"
    assert index_files(where)
    assert not index_files(PACKAGE), "compiled kernels written into the package folder"
    assert PACKAGE not in where.parents


def test_numba_cache_dir_wins(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    done = run(FK + "print(kin.accel.cache_dir())", tmp_path, NUMBA_CACHE_DIR=str(mine))
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip().splitlines()[-1]) == mine
    assert index_files(mine) and not index_files(tmp_path / "xdg")


def test_first_compile_is_announced_once_then_never(tmp_path: Path) -> None:
    code = FK + "kin.fk(r, np.zeros((3, r.dof)))\n"   # two kernels compile, one word
    cold = run(code, tmp_path)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count(ANNOUNCE) == 1, cold.stderr
    assert str(tmp_path / "xdg") in cold.stderr and "kinematics compile" in cold.stderr
    assert "Warning" not in cold.stderr   # a log record, not a Python warning
    warm = run(code, tmp_path)
    assert warm.returncode == 0 and warm.stderr == ""


def test_the_announcement_can_be_silenced(tmp_path: Path) -> None:
    done = run("import logging\nlogging.getLogger('kinematics').setLevel(logging.ERROR)\n"
               + FK, tmp_path)
    assert done.returncode == 0 and done.stderr == ""


def test_unwritable_cache_folder_falls_back_to_a_temporary_one(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = run(FK + FK + "print(kin.accel.cache_dir())", tmp_path,
               NUMBA_CACHE_DIR=str(blocker / "cache"), TMPDIR=str(temp))
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("is not writable") == 1, done.stderr
    assert str(blocker / "cache") in done.stderr
    where = Path(done.stdout.strip().splitlines()[-1])
    assert where.parent == temp and where.name.startswith("kinematics-numba-")


def test_no_writable_folder_compiles_in_memory(tmp_path: Path) -> None:
    done = run("import kinematics._cache as c\nc._writable = lambda folder: False\n" + FK
               + FK + "print(kin.accel.cache_dir())", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("compiled in memory") == 1, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "None"
    assert not index_files(tmp_path)


def test_a_full_cache_folder_fails_soft(tmp_path: Path) -> None:
    full = ("import numba.core.caching as c\n"
            "def full(self, sig, cres):\n"
            "    raise OSError(28, 'No space left on device')\n"
            "c.Cache._save_overload = full\n")
    done = run(full + FK + "kin.fk(r, np.zeros(r.dof))\nprint('ok')", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert done.stderr.count("cannot write the compiled-kernel cache") == 1, done.stderr
    assert "No space left on device" in done.stderr


def test_compile_refuses_unknown_groups() -> None:
    with pytest.raises(kin.KinematicsError, match="unknown group 'nope'; expected some of fk, "):
        accel.compile(progress=False, groups=("nope",))


def test_compile_a_group(tmp_path: Path) -> None:
    done = run("import kinematics as kin\nrep = kin.accel.compile(progress=False, "
               "groups=('fk', 'jacobian'))\nprint(rep.kernels, rep.compiled, rep.cache_dir)\n"
               "rep = kin.accel.compile(progress=False, groups=('fk', 'jacobian'))\n"
               "print(rep.kernels, rep.compiled)", tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.strip().splitlines()[-2:]
    kernels, compiled, where = first.split()
    assert int(kernels) == 3 and int(compiled) >= 3   # fk_one, fkj_one, twist_batch
    assert where == str(tmp_path / "xdg" / "kinematics" / "numba")
    assert second == f"{kernels} 0"   # idempotent: nothing compiled again


@pytest.mark.slow
def test_kinematics_compile_interrupted_then_complete_then_idempotent(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR",)}
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
               XDG_CACHE_HOME=str(tmp_path / "xdg"))
    cmd = [sys.executable, "-m", "kinematics.cli", "compile"]
    cache = tmp_path / "xdg" / "kinematics" / "numba"
    proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not index_files(cache) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "kernels ready" not in out
    full = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=900)
    assert full.returncode == 0, full.stderr
    assert "kernels ready" in full.stdout and str(cache) in full.stdout
    assert full.stderr.count(ANNOUNCE) == 1   # said once, on its own line, before the bar
    again = subprocess.run(cmd + ["--quiet"], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "all loaded from the cache" in again.stdout and again.stderr == ""
    assert not index_files(PACKAGE)


def test_progress_rate_leaves_compile_time_out() -> None:
    compiled, clock = [0.0], [0.0]
    bar = Progress(10, "chunks", enabled=False, clock=lambda: clock[0],
                   compiling=lambda: compiled[0])
    compiled[0], clock[0] = 8.0, 10.0   # 8 s of the first 10 compiled
    bar.advance(2)
    assert bar.rate() == pytest.approx(1.0)   # 2 chunks in 2 s of work
    assert bar.eta() == pytest.approx(8.0)
    plain = Progress(10, "chunks", enabled=False, clock=lambda: clock[0])
    clock[0] = 12.0
    plain.advance(2)    # another clock: no compile time subtracted
    assert plain.rate() == pytest.approx(1.0)


def test_progress_heartbeat_redraws_without_progress() -> None:
    import io

    stream = io.StringIO()
    bar = Progress(3, "kernels", stream=stream, force=True, heartbeat=0.05)
    time.sleep(0.6)
    bar.close()
    assert stream.getvalue().count("\r[") >= 3


def test_the_cli_says_it_on_stderr_as_its_own_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
               XDG_CACHE_HOME=str(tmp_path / "xdg"))
    cmd = [sys.executable, "-m", "kinematics.cli", "fk", "planar2r", "0.1", "0.2"]
    cold = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert cold.returncode == 0, cold.stderr
    lines = cold.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"kinematics fk: {ANNOUNCE}")
    assert cold.stdout.startswith("T_base_")
    warm = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert warm.returncode == 0 and warm.stderr == "" and warm.stdout == cold.stdout

"""The ``kinematics`` command line: help, exit codes, readable and JSON output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import kinematics as kin
import kinematics.cli as cli
from kinematics.cli import main


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("info", "fk", "jacobian", "list"):
        assert cmd in out


def test_console_script_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "kinematics.cli", "list"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "panda" in done.stdout and "Franka" in done.stdout


def test_info(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "ur5"]) == 0
    out = capsys.readouterr().out
    assert "ur5: 6 joints, base_link -> tool0" in out and "elbow_joint" in out
    assert main(["info", "panda", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["dof"] == 7 and data["joints"][3]["name"] == "panda_joint4"
    assert data["joints"][3]["upper"] == pytest.approx(-0.0698)


def test_fk_and_jacobian_json_match_library(capsys: pytest.CaptureFixture[str]) -> None:
    q = [0.1, -0.5, 0.4, 0.2, 0.3, -0.1]
    robot = kin.load_robot("ur5")
    assert main(["fk", "ur5", *map(str, q), "--json"]) == 0
    np.testing.assert_allclose(json.loads(capsys.readouterr().out)["T"], kin.fk(robot, q),
                               atol=1e-15)
    assert main(["jacobian", "ur5", *map(str, q), "--json", "--reference", "local"]) == 0
    data = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose(data["J"], kin.jacobian(robot, q, reference="local"), atol=1e-15)
    assert data["columns"][2] == "elbow_joint"


def test_readable_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fk", "planar2r", "0", "1.5707963267948966"]) == 0
    out = capsys.readouterr().out
    assert "T_base_tip (m):" in out
    assert out.splitlines()[1].split()[-1] == "+1.000000"  # x = l1
    assert out.splitlines()[2].split()[-1] == "+0.800000"  # y = l2
    assert main(["jacobian", "planar2r", "0", "0.5", "--link", "link2"]) == 0
    assert "sigma:" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["fk", "nope"], "robot 'nope' is neither a bundled robot"),
    (["fk", "ur5", "1", "2"], "ur5 has 6 joints (shoulder_pan_joint, "),
    (["fk", "ur5", "0", "0", "0", "0", "0", "0", "--link", "hand"], "link 'hand' does not exist"),
    (["info", "ur5", "--tip", "zzz"], "tip link 'zzz' does not exist"),
])
def test_bad_input_exit_code_2(argv: list[str], message: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith(f"kinematics {argv[0]}: error:")


def test_usage_error_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["fk", "ur5", "notanumber"])
    assert info.value.code == 2
    assert "invalid float value" in capsys.readouterr().err


def test_urdf_path(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from conftest import planar2r_urdf

    f = tmp_path / "arm.urdf"
    f.write_text(planar2r_urdf())
    assert main(["fk", str(f), "0", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["T"][0][3] == pytest.approx(1.8)


@pytest.mark.parametrize(("argv", "module", "extra"), [
    (["report", "ur5", "--samples", "100"], "matplotlib", "sim"),
    (["simulate", "panda", "--duration", "0.1"], "pybullet", "sim"),
])
def test_missing_optional_dependency_is_a_clear_error(
        argv: list[str], module: str, extra: str, tmp_path, monkeypatch,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]) -> None:
    for name in list(sys.modules):
        if name == module or name.startswith(module + ".") or name == "kinematics.sims.bullet":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"needs {module}, which is not installed: pip install 'kinematics[{extra}]'" in err


# --- intermixed options, exit-code policy, ik (issue 13) -------------------------------------


def test_options_between_robot_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    q = [0, -0.3, 0, -2.2, 0, 2, 0.8]
    assert main(["fk", "panda", "--json", *map(str, q)]) == 0
    T = json.loads(capsys.readouterr().out)["T"]
    np.testing.assert_allclose(T, kin.fk(kin.load_robot("panda"), q), atol=1e-15)


def test_tip_after_urdf_path(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    from conftest import planar2r_urdf

    f = tmp_path / "arm.urdf"
    f.write_text(planar2r_urdf())
    assert main(["fk", str(f), "--tip", "l2", "0", "-0.5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["link"] == "l2"


def test_errors_speak_cli_words() -> None:
    assert cli._cli_words("x has 2 tips; pass link= (one of them)") == \
        "x has 2 tips; pass --link (one of them)"
    assert cli._cli_words("tip=5; expected a link name") == "--tip 5; expected a link name"
    assert cli._cli_words("voxel=0.001: too big") == "--voxel 0.001: too big"
    assert cli._cli_words('joint "j" has no <parent link=...>') == \
        'joint "j" has no <parent link=...>'


@pytest.mark.parametrize(("command", "work"), [
    (["reach", "ur5"], "kinematics.reachability.estimate"),
    (["report", "ur5", "--samples", "10"], "kinematics.report.make_report"),
    (["simulate", "ur5", "--duration", "0.1"], "kinematics.sims.simulate.simulate"),
])
def test_out_is_a_file_is_refused_before_work(command: list[str], work: str, tmp_path,  # type: ignore[no-untyped-def]
                                              monkeypatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file"
    f.write_text("x")

    def no_work(*args: object, **kwargs: object) -> None:
        raise RuntimeError("work started before --out was checked")

    monkeypatch.setattr(work, no_work)  # any work before the check: exit 3, not 2
    assert main([*command, "--out", str(f)]) == 2
    assert f"--out '{f}' is a file; expected a folder" in capsys.readouterr().err


def test_out_unwritable_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    target = ro / "out" if os.geteuid() != 0 else Path("/proc/kinematics-test/out")
    try:
        assert main(["report", "ur5", "--samples", "10", "--out", str(target)]) == 2
    finally:
        ro.chmod(0o700)
    assert "is not a writable folder" in capsys.readouterr().err


def test_gui_without_display_exit_2(tmp_path, monkeypatch,  # type: ignore[no-untyped-def]
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main(["simulate", "ur5", "--gui", "--out", str(tmp_path)]) == 2
    assert "--gui needs a display" in capsys.readouterr().err


def test_unreachable_scheduler_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("distributed")
    start = time.monotonic()
    assert main(["reach", "ur5", "--voxel", "0.3", "--orientations", "2", "--no-estimate",
                 "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", "1",
                 "--out", str(tmp_path)]) == 2
    assert time.monotonic() - start < 30
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:9' within 1 s" in \
        capsys.readouterr().err


def test_too_large_reach_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["reach", "ur5", "--voxel", "0.001", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--voxel 0.001" in err and "GiB" in err and "Traceback" not in err


def test_internal_error_exit_3_and_debug(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    def boom(args: object) -> int:
        raise RuntimeError("kaputt")

    monkeypatch.setattr(cli, "cmd_list", boom)
    assert main(["list"]) == 3
    err = capsys.readouterr().err
    assert err == ("kinematics list: internal error: RuntimeError: kaputt (run with --debug "
                   "for the traceback)\n")
    with pytest.raises(RuntimeError, match="kaputt"):
        main(["list", "--debug"])


def test_keyboard_interrupt_exit_130(monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_list", interrupted)
    assert main(["list"]) == 130
    assert "kinematics list: interrupted" in capsys.readouterr().err


def test_ik_converges_to_fk(capsys: pytest.CaptureFixture[str]) -> None:
    robot = kin.load_robot("ur5")
    T = kin.fk(robot, [0.3, -1.2, 1.1, -1.4, -1.5, 0.2])
    rpy = kin.spatial.matrix_to_rpy(T[:3, :3])
    assert main(["ik", "ur5", "--xyz", *map(str, T[:3, 3]), "--rpy", *map(str, rpy),
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["success"] is True
    np.testing.assert_allclose(kin.fk(robot, data["q"]), T, atol=1e-5)
    assert main(["ik", "ur5", "--pose", *map(str, T.ravel())]) == 0
    assert "converged: position error" in capsys.readouterr().out


def test_ik_quaternion_matches_rpy(capsys: pytest.CaptureFixture[str]) -> None:
    # 90 degrees about z: rpy (0, 0, pi/2) == quaternion (cos 45, 0, 0, sin 45)
    args = ["ik", "ur5", "--xyz", "0.4", "0.1", "0.3", "--json"]
    assert main([*args, "--rpy", "0", "0", "1.5707963267948966"]) in (0, 1)
    a = json.loads(capsys.readouterr().out)["target_T"]
    assert main([*args, "--quat", "0.7071067811865476", "0", "0", "0.7071067811865476"]) in (0, 1)
    b = json.loads(capsys.readouterr().out)["target_T"]
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_ik_not_converged_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ik", "ur5", "--xyz", "4", "0", "0", "--rpy", "0", "0", "0"]) == 1
    captured = capsys.readouterr()
    assert "NOT converged" in captured.out and "not converged to --tol-pos" in captured.err


@pytest.mark.parametrize(("extra", "message"), [
    ([], "give the tool orientation with --rpy"),
    (["--rpy", "0", "0", "0", "--quat", "1", "0", "0", "0"], "one of --rpy or --quat"),
    (["--quat", "0", "0", "0", "0"], "--quat 0 0 0 0: norm 0; expected a unit quaternion"),
])
def test_ik_bad_input_exit_2(extra: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ik", "ur5", "--xyz", "0.4", "0", "0.3", *extra]) == 2
    assert message in capsys.readouterr().err


def test_ik_position_only(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ik", "planar2r", "--xyz", "1.0", "0.5", "0", "--position-only", "--json"])
    assert code == 0
    q = json.loads(capsys.readouterr().out)["q"]
    np.testing.assert_allclose(kin.fk(kin.load_robot("planar2r"), q)[:3, 3],
                               [1.0, 0.5, 0], atol=1e-5)


def test_reach_prints_estimate_and_position_only(tmp_path,  # type: ignore[no-untyped-def]
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", "planar2r", "--voxel", "0.3", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "position-only" in captured.err and "IK problems" in captured.err
    reached = json.loads((tmp_path / "summary.json").read_text())["voxels_reached"]
    assert reached > 0


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "MPLBACKEND": "Agg"}


def test_ctrl_c_exit_130_without_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-m", "kinematics.cli", "reach", "ur5", "--voxel",
                             "0.05", "--orientations", "20", "--no-estimate", "--out",
                             str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env())
    deadline = time.monotonic() + 60
    while not (tmp_path / "chunks").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()             # never leave the run behind (other tests would see it)
        out, err = proc.communicate()
        pytest.fail(f"still running 60 s after Ctrl-C:\n{err[-2000:]}")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "kinematics reach: interrupted" in err


def test_broken_pipe_ends_quietly() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kinematics.cli", "info", "panda"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before the first write, like `| head -0`
    assert proc.stderr is not None
    with proc.stderr:
        err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert b"Traceback" not in err and b"BrokenPipe" not in err


def test_reach_resume_and_checkpoint_warning_on_one_line(tmp_path,  # type: ignore[no-untyped-def]
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["reach", "ur5", "--voxel", "0.2", "--orientations", "2", "--no-estimate",
            "--out", str(tmp_path)]  # 2 chunks
    assert main(argv) == 0
    assert "time not estimated (--no-estimate)" in capsys.readouterr().err
    first = json.loads((tmp_path / "summary.json").read_text())
    chunk = sorted((tmp_path / "chunks").glob("chunk_*.npz"))[0]
    chunk.write_bytes(b"garbage")
    assert main(argv) == 0
    err = capsys.readouterr().err
    warning = [ln for ln in err.splitlines() if "warning" in ln]
    assert warning == [ln for ln in warning if ln.startswith("kinematics reach: warning: "
                                                             f"checkpoint chunk '{chunk}'")]
    assert len(warning) == 1 and "Traceback" not in err
    assert f"resuming 1/2 chunks from '{tmp_path / 'chunks'}'" in err
    again = json.loads((tmp_path / "summary.json").read_text())
    assert again["voxels_reached"] == first["voxels_reached"]


@pytest.mark.slow
def test_ctrl_c_while_kernels_compile_exits_130(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A Ctrl-C that lands inside numba's compiler (which swallows it, or turns it into a
    RuntimeError) still ends the run with 130, never 3, never a run left going."""
    env = {**_env(), "NUMBA_CACHE_DIR": str(tmp_path / "cache")}   # cold: everything compiles
    proc = subprocess.Popen([sys.executable, "-m", "kinematics.cli", "reach", "ur5", "--voxel",
                             "0.05", "--orientations", "20", "--no-estimate", "--out",
                             str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(6.0)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        pytest.fail(f"still running 60 s after Ctrl-C:\n{err[-2000:]}")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err

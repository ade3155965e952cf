"""The ``kinematics`` command line: help, exit codes, readable and JSON output."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import kinematics as kin
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
    (["fk", "ur5", "1", "2"], r"expected shape (..., 6)"),
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

"""The file PyBullet gets is always the copy the reader parsed and rewrote: meshes outside the
description's package are never opened, whatever the file looks like; when containment
cannot be established nothing is loaded (URDFError, CLI exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import planar2r_urdf

import kinematics as kin
from kinematics import URDFError
from kinematics.cli import main

pytestmark = pytest.mark.pybullet
pytest.importorskip("pybullet")
from kinematics.sims import bullet  # noqa: E402

MESH = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


def _arm(tmp_path: Path, lead: str = "\n  \n") -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "meshes").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "x.obj").write_text(MESH)
    (pkg / "meshes" / "ok.obj").write_text(MESH)
    (pkg / "meshes" / "out.obj").symlink_to(tmp_path / "secret" / "x.obj")
    visuals = ('<visual><geometry><mesh filename="../secret/x.obj"/></geometry></visual>'
               '<collision><geometry><mesh filename="meshes/out.obj"/></geometry></collision>'
               f'<visual><geometry><mesh filename="file://{tmp_path}/secret/x.obj"/>'
               '</geometry></visual>'
               '<visual><geometry><mesh filename="meshes/ok.obj"/></geometry></visual>')
    text = planar2r_urdf().replace('<link name="l1"/>',
                                   f'<link name="l1">{visuals}</link>')
    assert visuals in text
    urdf = pkg / "arm.urdf"
    urdf.write_text(lead + text)  # blanks before <?xml: the reader forgives them
    return urdf


def test_renderer_gets_the_rewritten_copy_without_outside_meshes(tmp_path: Path) -> None:
    urdf = _arm(tmp_path)
    assert urdf.read_text().startswith("\n")
    copy, stripped = bullet.contained_urdf(urdf)
    try:
        assert copy != str(urdf)
        text = Path(copy).read_text()
        assert "secret" not in text and "out.obj" not in text
        assert f'filename="{(urdf.parent / "meshes" / "ok.obj").resolve()}"' in text
        assert sorted(stripped) == sorted(["../secret/x.obj", "meshes/out.obj",
                                           f"file://{tmp_path}/secret/x.obj"])
    finally:
        Path(copy).unlink()


def test_sim_loads_only_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urdf = _arm(tmp_path)
    robot = kin.load_robot(urdf)
    loaded: list[str] = []
    real = bullet.p.loadURDF

    def spy(path: str, *args: object, **kwargs: object) -> int:
        loaded.append(Path(path).read_text())
        return int(real(path, *args, **kwargs))

    monkeypatch.setattr(bullet.p, "loadURDF", spy)
    with bullet.Sim.open(robot) as sim:
        assert sim.robot is robot
    assert len(loaded) == 1 and "secret" not in loaded[0] and "ok.obj" in loaded[0]


def test_no_containment_no_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urdf = _arm(tmp_path)
    robot = kin.load_robot(urdf)
    monkeypatch.setattr(bullet.p, "loadURDF", lambda *a, **k: pytest.fail("loaded"))
    urdf.write_text("<robot><link name='a'>")  # changed after loading: malformed now
    with pytest.raises(URDFError, match="arm.urdf:1: malformed XML"):
        bullet.Sim.open(robot)
    urdf.unlink()
    urdf.mkdir()  # not a regular file
    with pytest.raises(URDFError, match="arm.urdf: is not a regular file"):
        bullet.Sim.open(robot)
    text_robot = kin.robot_from_urdf(planar2r_urdf())  # no file at all
    with pytest.raises(URDFError, match="<string>: cannot read the file for the renderer"):
        bullet.Sim.open(text_robot)


def test_cli_refuses_with_exit_2_when_containment_fails(tmp_path: Path) -> None:
    xacro = pytest.importorskip("xacro")
    assert xacro
    top = tmp_path / "arm.urdf.xacro"  # its model's source is the xacro output: no file
    top.write_text(planar2r_urdf().replace(
        "<robot ", '<robot xmlns:xacro="http://www.ros.org/wiki/xacro" '))
    code = main(["simulate", str(top), "--duration", "0.1", "--out", str(tmp_path / "o"),
                 "--quiet"])
    assert code == 2

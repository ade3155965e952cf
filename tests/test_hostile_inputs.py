"""Hostile and careless input beyond xacro: every crash class found by fuzzing is a
KinematicsError naming the value; types (booleans are not numbers, 0-d arrays are floats);
and the leniency of the tools users come from (no <limit>, a single link, base == tip)."""

from __future__ import annotations

import os
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import planar2r_urdf

import kinematics as kin
from kinematics import InvalidValueError, KinematicsError, URDFError, URDFWarning, reachability
from kinematics.analysis import analyze_trajectory
from kinematics.chunks import CheckpointError, CheckpointLock, CheckpointWarning, run_chunks
from kinematics.cli import main

ONE_JOINT = ('<robot name="r">\n<link name="a"/><link name="b"/>\n'
             '<joint name="j" type="{type}"><parent link="a"/><child link="b"/>'
             '<axis xyz="0 0 1"/></joint>\n</robot>')


# ------------------------------------------------------------------ 3. crashes → errors

@pytest.mark.parametrize("encoding", ["bogus", "UTF-32", "utf-7", "rot13", "hex", "idna"])
def test_unusable_xml_encodings_are_urdf_errors(encoding: str, tmp_path: Path) -> None:
    text = f'<?xml version="1.0" encoding="{encoding}"?>\n<robot name="r"><link name="a"/></robot>'
    with pytest.raises(URDFError, match=rf"<string>:1: .*{re.escape(repr(encoding))}|<string>:1"):
        kin.parse_urdf(text.encode())
    path = tmp_path / "enc.urdf"
    path.write_bytes(text.encode())
    with pytest.raises(URDFError, match=re.escape(str(path))):
        kin.load_robot(path)
    assert main(["info", str(path)]) == 2


def test_bogus_encoding_message_names_it() -> None:
    with pytest.raises(URDFError, match=r"<string>:1: the XML declaration names encoding "
                                        r"'bogus', which cannot be used"):
        kin.parse_urdf(b'<?xml version="1.0" encoding="bogus"?><robot/>')


N = 4
MANIFEST = {"what": "squares", "n": N}


def _square(i: int) -> dict[str, np.ndarray]:
    return {"y": np.arange(3.0) * i}


def _run(folder: Path):  # type: ignore[no-untyped-def]
    return run_chunks(_square, list(range(N)), checkpoint=folder, manifest=MANIFEST,
                      progress=False)


@pytest.mark.parametrize("kind", ["directory", "fifo", "symlink", "full directory"])
def test_a_chunk_that_is_not_a_regular_file_is_recomputed(tmp_path: Path, kind: str) -> None:
    if kind == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs")
    folder = tmp_path / "ck"
    _run(folder)
    target = folder / "chunk_000002.npz"
    target.unlink()
    if kind == "directory":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)  # opening it for reading would block forever
    elif kind == "symlink":
        (tmp_path / "elsewhere.npz").write_bytes(b"x")
        target.symlink_to(tmp_path / "elsewhere.npz")
    else:
        target.mkdir()
        (target / "keep.txt").write_text("user data")
        with pytest.raises(CheckpointError, match=r"chunk_000002.npz' is a directory that "
                                                  "cannot be replaced"), \
                pytest.warns(CheckpointWarning, match="is a directory, not a regular file"):
            _run(folder)
        assert (target / "keep.txt").exists()  # never deleted
        return
    what = {"directory": "a directory", "fifo": "a FIFO", "symlink": "a symbolic link"}[kind]
    with pytest.warns(CheckpointWarning, match=re.escape(f"'{target}' is {what}, not a regular "
                                                         "file; recomputing it")):
        again = _run(folder)
    assert again.rejected == (2,) and again.computed == (2,)
    assert target.is_file() and not target.is_symlink()
    assert (tmp_path / "elsewhere.npz").exists() or kind != "symlink"
    assert _run(folder).computed == ()


def test_lock_and_manifest_that_are_not_files(tmp_path: Path) -> None:
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "lock").mkdir()
    with pytest.raises(CheckpointError, match=r"lock file '.*/lock' is a directory, not a "
                                              "regular file; remove it"):
        CheckpointLock(folder).acquire()
    shutil.rmtree(folder / "lock")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "manifest.json")
        with pytest.warns(CheckpointWarning, match="manifest .* is unreadable \\(it is a FIFO"):
            assert _run(folder).computed == tuple(range(N))


@pytest.mark.parametrize("voxel", ["1e-320", "1e308", "-0.1", "0", "nan"])
def test_cli_reach_voxel_extremes_exit_2(voxel: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reach", "panda", "--voxel", voxel, "--out", str(tmp_path)]) == 2
    assert f"--voxel {float(voxel)!r}" in capsys.readouterr().err


def test_estimate_and_grids_validate_their_arguments() -> None:
    panda = kin.load_robot("panda")
    with pytest.raises(InvalidValueError, match=r"voxel=1e-320; expected a positive size in "
                                                r"metres \(magnitude >= 1e-100"):
        reachability.estimate(panda, 1e-320, 2)
    with pytest.raises(InvalidValueError, match=r"voxel=1e-99: tiling bounds .* more than "
                                                r"1e308 voxels, more than the cap"):
        reachability.voxel_centers([[0, 1e100]] * 3, 1e-99)
    est = reachability.estimate(panda, 0.3, np.float64(2.0), calibration=0)  # integral float
    assert est.orientations == 2
    assert reachability.estimate(panda, np.array(0.3), 2, calibration=0).voxels == est.voxels
    with pytest.raises(InvalidValueError, match=r"bounds=Robot\('panda'.*expected a \(3, 2\)"):
        reachability.voxel_centers(panda, 1e-5)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=r"voxel=-0.1; expected a positive size"):
        reachability.voxel_centers([[0, 1]] * 3, -0.1)
    with pytest.raises(InvalidValueError, match=r"voxel=1e-05: .* about 1e\+15 voxels, more "
                                                r"than the cap of 2,147,483,648"):
        reachability.voxel_centers([[0, 1]] * 3, 1e-5)
    with pytest.raises(InvalidValueError, match=r"voxel=10.0 \[m\] is more than twice the "
                                                "bounds' extent"):
        reachability.voxel_centers([[0, 1]] * 3, 10.0)
    np.testing.assert_allclose(reachability.voxel_centers([[0, 1]] * 3, 0.5)[[0, -1]],
                               [[0.25] * 3, [0.75] * 3], rtol=0, atol=0)
    with pytest.raises(InvalidValueError, match=r"orientations=1000000000000; expected an "
                                                r"integer >= 1 and <= 10,000,000"):
        reachability.orientation_set(10**12)
    with pytest.raises(InvalidValueError, match=r"orientations=True"):
        reachability.orientation_set(True)  # type: ignore[arg-type]
    assert reachability.orientation_set(np.array(3)).shape == (3, 3, 3)


def test_trajectory_steps_that_overflow_velocities_are_refused() -> None:
    panda = kin.load_robot("panda")
    q = panda.random_q(5, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(InvalidValueError, match=r"dt=1e-300; expected a positive step "
                                                    r"\[s\] \(magnitude >= 1e-100"):
            analyze_trajectory(panda, q, dt=1e-300)
        with pytest.raises(InvalidValueError, match=r"dt=1e-99: joint velocities of up to "
                                                    r".*rad/s .*expected a sample step"):
            analyze_trajectory(panda, q * 1000, dt=1e-99)
        with pytest.raises(InvalidValueError, match=r"t\[0:2\]=\[0.0, 1e-300\]: joint "):
            analyze_trajectory(panda, q, t=[0.0, 1e-300, 1.0, 2.0, 3.0])
        a = analyze_trajectory(panda, q, dt=np.array(0.01))  # a 0-d array is a float
        assert len(a.level_names) == 5


# ------------------------------------------------------------------------------ 5. types

def test_booleans_are_not_numbers() -> None:
    panda = kin.load_robot("panda")
    for q in (np.ones(7, bool), [True] * 7, [1.0] * 6 + [True], np.ones((2, 7), bool)):
        with pytest.raises(InvalidValueError, match="booleans are not numbers"):
            kin.fk(panda, q)
        with pytest.raises(InvalidValueError, match="booleans are not numbers"):
            kin.jacobian(panda, q)
    with pytest.raises(InvalidValueError, match="booleans are not numbers"):
        kin.ik.solve(panda, np.eye(4), q0=np.zeros(7, bool))
    with pytest.raises(InvalidValueError, match=r"point=.*booleans"):
        kin.fk(panda, np.zeros(7), point=[True, False, True])
    # masks stay masks
    res = kin.ik.solve(panda, kin.fk(panda, np.full(7, 0.3)), mask=[True] * 3 + [False] * 3)
    assert res.success


def test_zero_dimensional_arrays_are_floats() -> None:
    panda = kin.load_robot("panda")
    ctrl = kin.ik.ResolvedRateController(panda)
    q = np.full(7, 0.3)
    T = kin.fk(panda, q + 0.01)
    np.testing.assert_array_equal(ctrl.step(q, T, np.array(0.01)), kin.ik.ResolvedRateController(
        panda).step(q, T, 0.01))
    with pytest.raises(InvalidValueError, match="dt=array"):
        ctrl.step(q, T, np.array(True))


def test_jacobian_hessian_is_batched() -> None:
    for robot in (kin.load_robot("panda"), kin.robot_from_urdf(planar2r_urdf()),
                  kin.robot_from_urdf(ONE_JOINT.format(type="prismatic").replace(
                      '<axis', '<limit lower="-1" upper="1" effort="1" velocity="1"/><axis'))):
        q = robot.random_q((3, 2), seed=2)
        H = kin.jacobian_hessian(robot, q)
        assert H.shape == (3, 2, robot.dof, 6, robot.dof)
        for idx in np.ndindex(3, 2):
            np.testing.assert_allclose(H[idx], kin.jacobian_hessian(robot, q[idx]), rtol=0,
                                       atol=1e-15)
        J = kin.jacobian(robot, q)
        np.testing.assert_allclose(kin.jacobian_hessian(robot, q, J), H, rtol=0, atol=1e-15)
        with pytest.raises(kin.ShapeError, match=r"J: expected shape \(3, 2, 6, "):
            kin.jacobian_hessian(robot, q, J[0])


def test_empty_tip_list_is_refused() -> None:
    with pytest.raises(InvalidValueError, match=r"tip=\[\]: expected a link name, a non-empty "
                                                "list"):
        kin.load_robot("panda", tip=[])


# ------------------------------------------------------------------------ 6. leniency

def test_a_joint_without_limit_is_unlimited_with_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "nolimit.urdf"
    path.write_text(ONE_JOINT.format(type="revolute"))
    with pytest.warns(URDFWarning) as caught:
        robot = kin.load_robot(path)
    assert len(caught) == 1
    assert re.fullmatch(re.escape(f"{path}:3: joint 'j': is revolute but has no <limit>; read "
                                  "as unlimited (±inf), as other URDF tools do"),
                        str(caught[0].message))
    np.testing.assert_array_equal(robot.joint_limits, [[-np.inf, np.inf]])
    assert robot.velocity_limits[0] == np.inf
    path.write_text(ONE_JOINT.format(type="prismatic"))
    with pytest.warns(URDFWarning, match="is prismatic but has no <limit>"):
        assert kin.load_robot(path).joint_types == ("prismatic",)


def test_single_link_file_is_a_zero_dof_robot() -> None:
    robot = kin.robot_from_urdf('<robot name="one"><link name="only"/></robot>')
    assert robot.dof == 0 and robot.base_link == robot.tip_link == "only"
    np.testing.assert_array_equal(kin.fk(robot, []), np.eye(4))
    assert kin.jacobian(robot, np.zeros((5, 0))).shape == (5, 6, 0)
    assert main(["fk", "planar2r", "0", "0"]) == 0  # the CLI still works on real robots


@pytest.mark.parametrize("link", ["panda_link0", "panda_link4", "panda_hand_tcp"])
def test_base_equal_to_tip_is_a_zero_dof_chain(link: str) -> None:
    robot = kin.load_robot("panda", base=link, tip=link)
    assert robot.dof == 0 and robot.joint_names == ()
    np.testing.assert_array_equal(kin.fk(robot, np.zeros(0)), np.eye(4))
    assert kin.jacobian(robot, []).shape == (6, 0)
    assert kin.fk_jacobian(robot, np.zeros((2, 0)))[1].shape == (2, 6, 0)
    assert kin.jacobian_dot(robot, [], []).shape == (6, 0)
    assert kin.jacobian_hessian(robot, []).shape == (0, 6, 0)
    np.testing.assert_array_equal(kin.twist(robot, [], []), np.zeros(6))
    assert kin.joint_torques(robot, [], np.ones(6)).shape == (0,)
    res = kin.ik.solve(robot, np.eye(4))
    assert res.success and res.q.shape == (0,)
    assert not kin.ik.solve(robot, kin.spatial.transform(np.eye(3), [1.0, 0, 0])).success
    np.testing.assert_array_equal(kin.uncertainty.pose_covariance(robot, [], np.zeros((0, 0))),
                                  np.zeros((6, 6)))
    for make in (lambda: kin.singularity.SingularityMonitor(robot),
                 lambda: kin.ik.ResolvedRateController(robot),
                 lambda: kin.singularity.certified_radius(robot, []),
                 lambda: kin.singularity.measures(kin.jacobian(robot, [])),
                 lambda: analyze_trajectory(robot, np.zeros((3, 0)))):
        with pytest.raises(KinematicsError, match="0 degrees of freedom|m, n >= 1"):
            make()

"""Reachability maps: correctness, determinism in-process / process pool / Dask, worker
loss, checkpoint-resume (and verified checkpoints), position-only maps for robots with
fewer than 6 DoF, size/memory/time estimates, and bad input."""

from __future__ import annotations

import os
import re
import signal

import numpy as np
import pytest

import kinematics as kin
from kinematics.chunks import CheckpointWarning
from kinematics.reachability import (
    ReachabilityMap,
    estimate,
    orientation_set,
    reachability_map,
)

SMALL = {"voxel": 0.3, "orientations": 6, "chunk": 120, "progress": False}


@pytest.fixture(scope="module")
def ur5() -> kin.Robot:
    return kin.load_robot("ur5")


@pytest.fixture(scope="module")
def reference(ur5: kin.Robot) -> ReachabilityMap:
    return reachability_map(ur5, **SMALL)


def test_map_is_consistent(ur5: kin.Robot, reference: ReachabilityMap) -> None:
    m = reference
    K = len(m.orientations)
    assert m.centers.shape[1] == 3 and m.sample_q.shape == (len(m.centers), ur5.dof)
    assert np.all((m.reach_fraction >= 0) & (m.reach_fraction <= 1))
    np.testing.assert_allclose(m.reach_fraction * K, np.round(m.reach_fraction * K), atol=1e-12)
    reached = m.reach_fraction > 0
    assert 0 < reached.sum() < len(m.centers)
    assert np.all(np.isnan(m.sample_q[~reached])) and not np.any(np.isnan(m.sample_q[reached]))
    # every sample solution really puts the tool at its voxel centre, inside the limits
    T = kin.fk(ur5, m.sample_q[reached])
    np.testing.assert_allclose(T[:, :3, 3], m.centers[reached], atol=m.tol_pos)
    lo, hi = ur5.joint_limits.T
    assert np.all((m.sample_q[reached] >= lo) & (m.sample_q[reached] <= hi))
    # manipulability of the sample is the best one recorded
    _, J = kin.fk_jacobian(ur5, m.sample_q[reached])
    np.testing.assert_allclose(np.abs(np.linalg.det(J)), m.best_manipulability[reached],
                               rtol=1e-9, atol=1e-12)
    assert np.all(m.mean_manipulability <= m.best_manipulability + 1e-15)
    # beyond the reach bound nothing is reached
    far = np.linalg.norm(m.centers, axis=1) > ur5.reach + m.voxel
    assert far.any() and np.all(m.reach_fraction[far] == 0)


def test_orientation_set() -> None:
    R = orientation_set(20, seed=3)
    np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape),
                               atol=1e-14)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-14)
    np.testing.assert_array_equal(R[0], np.eye(3))
    np.testing.assert_array_equal(R, orientation_set(20, seed=3))


def test_deterministic_and_process_pool(ur5: kin.Robot, reference: ReachabilityMap) -> None:
    assert reference.equals(reachability_map(ur5, **SMALL))
    assert reference.equals(reachability_map(ur5, workers=2, **SMALL))
    assert not reference.equals(reachability_map(ur5, **{**SMALL, "orientations": 5}))


def test_save_load_roundtrip(tmp_path, reference: ReachabilityMap) -> None:  # type: ignore[no-untyped-def]
    path = reference.save(tmp_path / "map.npz")
    assert ReachabilityMap.load(path).equals(reference)


def test_resume_solves_only_missing_chunks(tmp_path, ur5: kin.Robot,  # type: ignore[no-untyped-def]
                                           reference: ReachabilityMap) -> None:
    class Interrupt(Exception):
        pass

    def stop_after_two(i: int, _result: object) -> None:
        if len(list((tmp_path / "ck").glob("chunk_*.npz"))) >= 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        reachability_map(ur5, checkpoint=tmp_path / "ck", on_chunk=stop_after_two, **SMALL)
    resumed = reachability_map(ur5, checkpoint=tmp_path / "ck", **SMALL)
    assert resumed.chunks_loaded == 2
    total = resumed.chunks_loaded + resumed.chunks_computed
    assert resumed.chunks_computed == total - 2 and total > 2
    assert resumed.equals(reference)
    again = reachability_map(ur5, checkpoint=tmp_path / "ck", **SMALL)
    assert again.chunks_computed == 0 and again.equals(reference)
    with pytest.raises(kin.InvalidValueError, match=r"holds a run with different parameters "
                                                    r"\(voxel\)"):
        reachability_map(ur5, checkpoint=tmp_path / "ck", **{**SMALL, "voxel": 0.31})


def test_a_damaged_checkpoint_is_solved_again_and_the_map_is_identical(
        tmp_path, ur5: kin.Robot, reference: ReachabilityMap) -> None:  # type: ignore[no-untyped-def]
    ck = tmp_path / "ck"
    assert reachability_map(ur5, checkpoint=ck, **SMALL).equals(reference)
    chunks = sorted(ck.glob("chunk_*.npz"))
    with np.load(chunks[1]) as d:  # NaN over the data, the verification record kept
        arrays = {k: d[k] if k == "__checkpoint__" else np.full_like(d[k], np.nan)
                  for k in d.files}
    np.savez(chunks[1], **arrays)
    chunks[2].write_bytes(chunks[0].read_bytes())  # a copy of another chunk
    with pytest.warns(CheckpointWarning) as record:
        m = reachability_map(ur5, checkpoint=ck, **SMALL)
    messages = [str(w.message) for w in record]
    assert any(re.search(re.escape(f"'{chunks[1]}' does not match its digest"), t)
               for t in messages)
    assert any(re.search(re.escape(f"'{chunks[2]}' holds the data of chunk 0, not 2"), t)
               for t in messages)
    assert m.chunks_rejected == 2 and m.chunks_computed == 2
    assert m.equals(reference)


def test_planar2r_is_mapped_position_only_in_its_plane() -> None:
    arm = kin.load_robot("planar2r")  # l1 = 1.0 m, l2 = 0.8 m, in the xy plane, joints ±pi
    v = 0.3
    m = reachability_map(arm, voxel=v, progress=False)
    assert m.position_only and m.orientations.shape == (1, 3, 3)
    reached = m.reach_fraction > 0
    assert set(np.unique(m.reach_fraction)) <= {0.0, 1.0}
    assert m.solves == int(np.sum(np.linalg.norm(m.centers, axis=1) <= arm.reach + v))
    z = np.abs(m.centers[:, 2])
    r = np.linalg.norm(m.centers[:, :2], axis=1)
    tol = 1e-9 + m.tol_pos
    # a voxel over the annulus 0.2 m <= r <= 1.8 m and astride the plane z = 0 is reached
    assert np.all(reached[(z <= v / 2 + 1e-9) & (r >= 0.2) & (r <= 1.8)])
    # and nothing else, up to the half-diagonal of a voxel around the annulus
    assert np.all(z[reached] <= v / 2 + tol)
    assert np.all((r[reached] >= 0.2 - v / np.sqrt(2) - tol)
                  & (r[reached] <= 1.8 + v / np.sqrt(2) + tol))
    assert 0.05 < reached.mean() < 0.2  # two layers of the cube's 12
    # the sample puts the tool inside its voxel; manipulability l1 l2 |sin q2| (closed form)
    p = kin.fk(arm, m.sample_q[reached])[:, :3, 3]
    assert np.all(np.abs(p - m.centers[reached]) <= v / 2 + tol)
    np.testing.assert_allclose(m.best_manipulability[reached],
                               0.8 * np.abs(np.sin(m.sample_q[reached, 1])), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_array_equal(m.best_manipulability, m.mean_manipulability)
    assert m.equals(reachability_map(arm, voxel=v, progress=False, workers=2))


def test_position_only_on_request_and_saved(tmp_path, ur5: kin.Robot) -> None:  # type: ignore[no-untyped-def]
    box = [[0.2, 0.5], [-0.15, 0.15], [0.2, 0.5]]
    m = reachability_map(ur5, voxel=0.15, bounds=box, position_only=True, progress=False)
    assert m.position_only and m.solves == len(m.centers) == 8
    assert np.all(m.reach_fraction == 1.0)  # well inside the UR5's workspace
    loaded = ReachabilityMap.load(m.save(tmp_path / "m.npz"))
    assert loaded.position_only and loaded.equals(m)
    assert not reachability_map(ur5, voxel=0.15, bounds=box, progress=False).position_only


def test_estimate_matches_the_map_it_predicts(ur5: kin.Robot,
                                              reference: ReachabilityMap) -> None:
    e = estimate(ur5, **{k: v for k, v in SMALL.items() if k != "progress"})
    assert e.voxels == len(reference.centers) and e.solves == reference.solves
    assert e.orientations == 6 and e.candidates * 6 == e.solves and not e.position_only
    assert e.chunks == reference.chunks_computed + reference.chunks_loaded
    arrays = sum(getattr(reference, n).nbytes for n in ReachabilityMap._ARRAYS)
    assert arrays <= e.memory_bytes < 10 * arrays
    assert 0 < e.seconds < 600
    assert str(e).startswith(f"{e.voxels:,} voxels ({e.candidates:,} within reach) x 6 "
                             f"orientations = {e.solves:,} IK problems")
    quiet = estimate(kin.load_robot("planar2r"), 0.3, calibration=0)
    assert quiet.position_only and quiet.orientations == 1 and np.isnan(quiet.seconds)


def test_a_map_too_large_for_memory_is_refused_before_any_work() -> None:
    panda = kin.load_robot("panda")
    message = r"voxel=0.001: a map of (\d+) x \1 x \1 = [\d,]+ voxels needs about [\d,.]+ GiB"
    with pytest.raises(kin.InvalidValueError, match=message):
        estimate(panda, voxel=0.001)
    with pytest.raises(kin.InvalidValueError, match=message):
        reachability_map(panda, voxel=0.001, progress=False)


@pytest.mark.slow
def test_dask_cluster_equals_in_process_even_when_a_worker_dies(
        ur5: kin.Robot, reference: ReachabilityMap) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        assert reference.equals(reachability_map(ur5, client=client, **SMALL))
        pids = list(client.run(os.getpid).values())
        killed: list[int] = []

        def kill_one_worker(i: int, _result: object) -> None:
            if not killed:  # after the first finished chunk, SIGKILL a worker process
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        from kinematics.chunks import check_worker_environ

        assert "MALLOC_TRIM_THRESHOLD_" in (check_worker_environ(client) or "")
        m = reachability_map(ur5, client=client, on_chunk=kill_one_worker,
                             **{**SMALL, "chunk": 30})
        assert killed
        assert m.equals(reachability_map(ur5, **{**SMALL, "chunk": 30}))


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"voxel": 0.0}, kin.InvalidValueError, r"voxel=0.0; expected a positive size"),
    ({"voxel": "0.1"}, kin.InvalidValueError, r"voxel='0.1'; expected a positive size"),
    ({"orientations": 2.5}, kin.InvalidValueError, r"orientations=2.5; expected >= 1"),
    ({"orientations": 0}, kin.InvalidValueError, r"orientations=0; expected >= 1"),
    ({"chunk": 0}, kin.InvalidValueError, r"chunk=0; expected >= 1"),
    ({"bounds": [[0, 1], [0, 1]]}, kin.ShapeError, r"bounds: expected shape \(3, 2\)"),
    ({"bounds": [[1, 0], [0, 1], [0, 1]]}, kin.InvalidValueError, r"expected finite min < max"),
    ({"workers": 0}, kin.InvalidValueError, r"workers=0; expected >= 1"),
    ({"workers": 2.5}, kin.InvalidValueError, r"workers=2.5; expected >= 1 \(an integer\)"),
    ({"seed": -1}, kin.InvalidValueError, r"seed=-1; expected >= 0"),
    ({"tol_pos": "abc"}, kin.InvalidValueError, r"tol_pos='abc'; expected a positive finite"),
    ({"tol_rot": float("nan")}, kin.InvalidValueError, r"tol_rot=nan; expected a positive"),
    ({"restarts": -1}, kin.InvalidValueError, r"restarts=-1; expected >= 0"),
    ({"max_iter": 0}, kin.InvalidValueError, r"max_iter=0; expected >= 1"),
    ({"position_only": "yes"}, kin.InvalidValueError, r"position_only='yes'; expected True"),
    ({"progress": 5}, kin.InvalidValueError, r"progress=5; expected True, False or a text"),
    ({"checkpoint": 123}, kin.InvalidValueError, r"checkpoint=123; expected a folder path"),
    ({"worker_timeout": -1}, kin.InvalidValueError, r"worker_timeout=-1; expected a positive"),
])
def test_bad_input(ur5: kin.Robot, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        reachability_map(ur5, **{**SMALL, **kwargs})


def test_cli_reach_writes_map_and_report(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    from html.parser import HTMLParser

    from kinematics.cli import main

    out = tmp_path / "reach"
    argv = ["reach", "ur5", "--voxel", "0.3", "--orientations", "4", "--out", str(out),
            "--quiet"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["robot"] == "ur5" and summary["voxels_reached"] > 0
    m = ReachabilityMap.load(out / "map.npz")
    assert m.voxel == 0.3 and len(m.orientations) == 4

    class Images(HTMLParser):
        srcs: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "img":
                self.srcs.append(dict(attrs)["src"] or "")

    parser = Images()
    parser.feed((out / "report.html").read_text())
    assert parser.srcs and all(s.startswith("data:image/png;base64,") for s in parser.srcs)
    # a second run in the same folder resumes from the checkpoints
    assert main(argv) == 0
    assert json.loads((out / "summary.json").read_text())["chunks_resumed"] > 0
    assert main(["reach", "ur5", "--voxel", "-1", "--out", str(out), "--quiet"]) == 2


def test_workspace_sweep_same_on_a_process_pool() -> None:
    from kinematics.analysis import workspace_sweep

    panda = kin.load_robot("panda")
    a = workspace_sweep(panda, 3000, chunk=700, progress=False)
    b = workspace_sweep(panda, 3000, chunk=700, progress=False, workers=2)
    np.testing.assert_array_equal(a.position, b.position)
    np.testing.assert_array_equal(a.measures.sigma, b.measures.sigma)
    np.testing.assert_array_equal(a.measures.sigma_min_scaled, b.measures.sigma_min_scaled)

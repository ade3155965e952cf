"""Per-robot knowledge in the registry (``kinematics.robots``): the monitor's rows, the
report's sweeps through a singularity and the known singular sets, checked against the
Jacobian's singular values."""

from __future__ import annotations

import numpy as np
import pytest

import kinematics as kin
from kinematics import robots

SETS = [(name, s) for name, entry in robots.REGISTRY.items() for s in entry.singular_sets]


def _sigma(name: str, q: np.ndarray) -> np.ndarray:
    """Singular values of the Jacobian rows the monitor watches, ``(..., k)``."""
    J = kin.jacobian(kin.load_robot(name), q)
    rows = robots.monitor_rows(name)
    return np.linalg.svd(J if rows is None else J[..., list(rows), :], compute_uv=False)


def test_every_arm_lists_its_singular_sets() -> None:
    assert {name: [s.name for s in e.singular_sets] for name, e in robots.REGISTRY.items()} == {
        "planar2r": ["stretched", "folded"],
        "panda": ["stretched"],
        "iiwa14": ["stretched"],
        "ur5": ["wrist", "elbow", "shoulder"],
        "puma560": ["wrist", "elbow"],
    }


@pytest.mark.parametrize(("name", "singular"), SETS, ids=[f"{n}-{s.name}" for n, s in SETS])
def test_singular_sets_are_singular(name: str, singular: robots.SingularSet) -> None:
    q = np.array(singular.q)
    robot = kin.load_robot(name)
    assert q.shape == (robot.dof,)
    sigma = _sigma(name, q)
    assert sigma[-1] < 1e-9 and sigma[0] > 0.1
    # a generic step of 0.01 rad leaves the set: the configuration is on it, not near it
    step = 1e-2 * np.random.default_rng(0).standard_normal(robot.dof)
    assert _sigma(name, q + step)[-1] > 1e-7
    lo, hi = robot.joint_limits.T
    assert np.all((lo <= q) & (q <= hi)) or "limit" in singular.description


def test_planar_folded_arm_is_within_the_limits() -> None:
    robot = kin.load_robot("planar2r")
    folded = next(s for s in robots.REGISTRY["planar2r"].singular_sets if s.name == "folded")
    assert folded.q[1] == np.pi <= robot.joint_limits[1, 1]


@pytest.mark.parametrize("name", [n for n, e in robots.REGISTRY.items() if e.singular_sweep])
def test_sweeps_pass_through_a_singularity(name: str) -> None:
    sweep = robots.REGISTRY[name].singular_sweep
    assert sweep is not None
    robot = kin.load_robot(name)
    assert len(sweep.start) == robot.dof and 0 <= sweep.joint < robot.dof
    q = np.tile(np.array(sweep.start), (2001, 1))
    q[:, sweep.joint] = np.linspace(sweep.begin, sweep.end, 2001)
    sigma_min = _sigma(name, q)[:, -1]
    assert sigma_min.min() < 1e-3 * sigma_min.max()
    assert 0 < np.argmin(sigma_min) < len(q) - 1  # inside the sweep, not at an end


def test_monitor_rows() -> None:
    assert robots.monitor_rows("planar2r") == (0, 1)
    assert [robots.monitor_rows(n) for n in ("panda", "iiwa14", "ur5", "puma560")] == [None] * 4
    assert robots.monitor_rows("not_a_bundled_robot") is None

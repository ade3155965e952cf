"""Shared fixtures: every bundled robot, and real URDFs from pybullet_data."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kinematics as kin

BUNDLED = kin.list_robots()

# (relative path in pybullet_data, base, tip): real URDFs this project did not write.
PYBULLET_DATA_ARMS = [
    ("franka_panda/panda.urdf", "panda_link0", "panda_hand"),
    ("kuka_iiwa/model.urdf", "lbr_iiwa_link_0", "lbr_iiwa_link_7"),
]


def pybullet_data_path(rel: str) -> str:
    pybullet_data = pytest.importorskip("pybullet_data")
    return os.path.join(pybullet_data.getDataPath(), rel)


@pytest.fixture(params=BUNDLED)
def robot(request: pytest.FixtureRequest) -> kin.Robot:
    return kin.load_robot(request.param)


@pytest.fixture(params=[a[0] for a in PYBULLET_DATA_ARMS])
def foreign_robot(request: pytest.FixtureRequest) -> kin.Robot:
    rel, base, tip = next(a for a in PYBULLET_DATA_ARMS if a[0] == request.param)
    return kin.load_robot(pybullet_data_path(rel), base=base, tip=tip)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def planar2r_urdf(l1: float = 1.0, l2: float = 0.8, extra: str = "") -> str:
    """A minimal planar 2R arm (revolute about z), tip at (l1 + l2, 0, 0) at q = 0."""
    return f"""<?xml version="1.0"?>
<robot name="p2r">
  <link name="base"/><link name="l1"/><link name="l2"/><link name="tip"/>
  <joint name="j1" type="revolute"><parent link="base"/><child link="l1"/>
    <axis xyz="0 0 1"/><limit lower="-3.14" upper="3.14" velocity="2" effort="10"/></joint>
  <joint name="j2" type="revolute"><parent link="l1"/><child link="l2"/>
    <origin xyz="{l1} 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-3.14" upper="3.14" velocity="2" effort="10"/></joint>
  <joint name="tip_joint" type="fixed"><parent link="l2"/><child link="tip"/>
    <origin xyz="{l2} 0 0"/></joint>
  {extra}
</robot>"""


# A chain with every feature: continuous, prismatic, mimic (multiplier and offset), fixed
# joints between moving ones, non-axis-aligned and non-unit axes, rpy origins, a branch.
MIXED_URDF = """<?xml version="1.0"?>
<robot name="mixed">
  <link name="base"/><link name="a"/><link name="b"/><link name="c"/><link name="d"/>
  <link name="e"/><link name="f"/><link name="g"/><link name="side"/>
  <joint name="j1" type="continuous"><parent link="base"/><child link="a"/>
    <origin xyz="0.1 0 0.3" rpy="0.1 0.2 0.3"/><axis xyz="0 0 2"/></joint>
  <joint name="j2" type="prismatic"><parent link="a"/><child link="b"/>
    <origin xyz="0 0.2 0.1" rpy="-0.4 0 0.5"/><axis xyz="1 1 0"/>
    <limit lower="-0.2" upper="0.3" velocity="0.5" effort="100"/></joint>
  <joint name="fx" type="fixed"><parent link="b"/><child link="c"/>
    <origin xyz="0.05 -0.1 0.2" rpy="0.3 -0.6 0.9"/></joint>
  <joint name="j3" type="revolute"><parent link="c"/><child link="d"/>
    <origin xyz="0.3 0 0" rpy="0 1.2 0"/><axis xyz="0.3 -0.5 0.8"/>
    <limit lower="-2" upper="2" velocity="1" effort="10"/></joint>
  <joint name="m1" type="revolute"><parent link="d"/><child link="e"/>
    <origin xyz="0 0.25 0.05"/><axis xyz="0 1 0"/>
    <limit lower="-3" upper="3" velocity="1" effort="10"/>
    <mimic joint="j3" multiplier="-0.7" offset="0.25"/></joint>
  <joint name="j4" type="revolute"><parent link="e"/><child link="f"/>
    <origin xyz="0.2 0.1 -0.05" rpy="1.0 0 -0.3"/><axis xyz="0 0 -1"/>
    <limit lower="-2" upper="2" velocity="1" effort="10"/></joint>
  <joint name="m2" type="prismatic"><parent link="f"/><child link="g"/>
    <origin xyz="0.1 0 0"/><axis xyz="1 0 0"/>
    <limit lower="-1" upper="1" velocity="1" effort="10"/>
    <mimic joint="j2" multiplier="2.0"/></joint>
  <joint name="side_joint" type="fixed"><parent link="d"/><child link="side"/>
    <origin xyz="0 0 0.4" rpy="0.2 0.2 0.2"/></joint>
</robot>"""


def both_backends(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """``func`` on the compiled path, then on the numpy path (the setting is restored)."""
    previous = kin.accel.enable(True)
    try:
        fast = func(*args, **kwargs)
        kin.accel.enable(False)
        slow = func(*args, **kwargs)
    finally:
        kin.accel.enable(previous)
    return fast, slow


def check_pinocchio() -> Any:
    """``benchmarks/check_pinocchio.py`` as a module (its real-URDF list and Pinocchio
    helpers); pinocchio itself is imported only by the helpers that need it."""
    mod = sys.modules.get("check_pinocchio")
    if mod is None:
        path = Path(__file__).parent.parent / "benchmarks" / "check_pinocchio.py"
        spec = importlib.util.spec_from_file_location("check_pinocchio", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["check_pinocchio"] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    return mod


def rtb_aliases(root: Path) -> dict[str, Path]:
    """Package names the ABB and KUKA xacros of rtb-data use, mapped to its folders."""
    names = {d.name: d for d in root.iterdir() if d.is_dir()}
    kuka = root / "kuka_description"
    names.update({d.name + "_support": d for d in kuka.iterdir() if d.is_dir()})
    names.update(kuka_resources=kuka / "kuka_resources",
                 abb_irb140=root / "abb_irb140_description",
                 abb_irb140_support=root / "abb_irb140_description")
    return names


def erd_path(rel: str) -> Path:
    """A file of example-robot-data (``robots/`` relative path); skips the test when the
    package or the file is missing."""
    import importlib.metadata

    try:
        root = importlib.metadata.distribution("example-robot-data").locate_file(
            "cmeel.prefix/share/example-robot-data/robots")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("example-robot-data not installed")
    path = Path(str(root)) / rel
    if not path.is_file():
        pytest.skip(f"{rel} not in example-robot-data")
    return path

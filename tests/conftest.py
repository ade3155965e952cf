"""Shared fixtures: every bundled robot, and real URDFs from pybullet_data."""

from __future__ import annotations

import os

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

"""Tests of kinematics.ik: position IK (solve) and resolved-rate control."""

from __future__ import annotations

import numpy as np
import pytest

import kinematics as kin
from kinematics import ik


def test_solve_converges_from_default_seed(robot: kin.Robot) -> None:
    Q = robot.random_q(20, seed=3)
    res = ik.solve(robot, kin.fk(robot, Q))
    assert res.success.all()
    assert (res.pos_error <= 1e-6).all() and (res.rot_error <= 1e-6).all()

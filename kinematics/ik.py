"""Inverse kinematics (placeholder, being written)."""
from ._ik_solve import IKResult, solve

__all__ = ["IKResult", "solve"]

"""kinematics: exact, batched forward kinematics and Jacobians for URDF robot arms.

Conventions (see DESIGN.md): SI units; twists ``[v; ω]`` linear first; ``q`` has shape
``(..., dof)`` and every result keeps the leading dimensions.
"""

from . import ik, numdiff, singularity, spatial
from .exceptions import (
    InvalidValueError,
    JointLimitError,
    KinematicsError,
    ShapeError,
    SingularityError,
    UnknownLinkError,
    UnknownRobotError,
    URDFError,
)
from .forward import fk, fk_all
from .jacobian import fk_jacobian, jacobian, jacobian_dot, joint_torques, twist
from .robot import Robot, list_robots, load_robot, robot_from_urdf
from .urdf import parse_urdf, read_urdf

__version__ = "0.1.0"

__all__ = [
    "InvalidValueError",
    "JointLimitError",
    "KinematicsError",
    "Robot",
    "ShapeError",
    "SingularityError",
    "URDFError",
    "UnknownLinkError",
    "UnknownRobotError",
    "fk",
    "fk_all",
    "fk_jacobian",
    "ik",
    "jacobian",
    "jacobian_dot",
    "joint_torques",
    "list_robots",
    "load_robot",
    "numdiff",
    "parse_urdf",
    "read_urdf",
    "robot_from_urdf",
    "singularity",
    "spatial",
    "twist",
]

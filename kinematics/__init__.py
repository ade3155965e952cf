"""kinematics: exact, batched forward kinematics and Jacobians for URDF robot arms.

Conventions (see DESIGN.md): SI units; twists ``[v; ω]`` linear first; ``q`` has shape
``(..., dof)`` and every result keeps the leading dimensions.
"""

from . import accel, analysis, ik, numdiff, singularity, spatial, uncertainty
from .exceptions import (
    InvalidValueError,
    JointLimitError,
    KinematicsError,
    KinematicsWarning,
    ShapeError,
    UnknownLinkError,
    UnknownRobotError,
    URDFError,
    URDFWarning,
)
from .forward import fk, fk_all
from .jacobian import (
    fk_jacobian,
    jacobian,
    jacobian_dot,
    jacobian_hessian,
    joint_torques,
    twist,
)
from .mjcf import robot_from_mjcf
from .robot import Robot, list_robots, load_robot, robot_from_urdf
from .singularity import MonitorState, SingularityMeasures, SingularityMonitor, measures
from .urdf import Defect, parse_urdf, read_urdf

__version__ = "0.1.0"

__all__ = [
    "InvalidValueError",
    "MonitorState",
    "JointLimitError",
    "KinematicsError",
    "KinematicsWarning",
    "Robot",
    "ShapeError",
    "SingularityMeasures",
    "SingularityMonitor",
    "URDFError",
    "URDFWarning",
    "UnknownLinkError",
    "UnknownRobotError",
    "accel",
    "analysis",
    "fk",
    "fk_all",
    "fk_jacobian",
    "ik",
    "jacobian",
    "jacobian_dot",
    "jacobian_hessian",
    "joint_torques",
    "list_robots",
    "load_robot",
    "measures",
    "numdiff",
    "parse_urdf",
    "read_urdf",
    "robot_from_mjcf",
    "robot_from_urdf",
    "singularity",
    "spatial",
    "twist",
    "uncertainty",
    "Defect",
]

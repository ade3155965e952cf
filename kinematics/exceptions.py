"""Exceptions raised by :mod:`kinematics`.

Every error the library raises on bad input derives from :class:`KinematicsError`, so a
caller can catch one type. Messages name the offending element (file, joint, link, value)
and say what was expected. Not converging is a *result* (``IKResult.success = False``),
never an exception.
"""

from __future__ import annotations

__all__ = [
    "KinematicsError",
    "URDFError",
    "ShapeError",
    "InvalidValueError",
    "UnknownLinkError",
    "UnknownRobotError",
    "JointLimitError",
    "KinematicsWarning",
    "URDFWarning",
]


class KinematicsError(Exception):
    """Root of every error raised by :mod:`kinematics`."""


class URDFError(KinematicsError, ValueError):
    """A URDF document is malformed, unsafe or unsupported.

    Attributes:
        source: File path (or ``"<string>"``) of the document.
        line: 1-based line number of the offending element, when known.
    """

    def __init__(self, message: str, source: str = "<string>", line: int | None = None):
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


class ShapeError(KinematicsError, ValueError):
    """An array argument has the wrong shape.

    Attributes:
        name: Argument name.
        expected: Human-readable expected shape, e.g. ``"(..., 7)"``.
        actual: The shape that was passed.
    """

    def __init__(self, name: str, expected: str, actual: tuple[int, ...]):
        super().__init__(f"{name}: expected shape {expected}, got {tuple(actual)}")
        self.name = name
        self.expected = expected
        self.actual = tuple(actual)


class InvalidValueError(KinematicsError, ValueError):
    """An argument has a value that is not allowed (NaN, inf, non-numeric, out of range)."""


class UnknownLinkError(KinematicsError, KeyError):
    """A link (or joint) name does not exist where it was looked up.

    Attributes:
        name: The name that was asked for.
        available: The valid names.
    """

    def __init__(self, name: str, available: list[str] | tuple[str, ...], what: str = "link"):
        self.name = name
        self.available = tuple(available)
        super().__init__(
            f"{what} {name!r} does not exist in the model. Available {what} names: "
            f"{list(self.available)}"
        )

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownRobotError(KinematicsError, KeyError):
    """A bundled robot name is not known."""

    def __init__(self, name: str, available: list[str] | tuple[str, ...]):
        self.name = name
        self.available = tuple(available)
        super().__init__(
            f"robot {name!r} is neither a bundled robot nor an existing URDF file. "
            f"Bundled robots: {list(self.available)}"
        )

    def __str__(self) -> str:
        return str(self.args[0])


class JointLimitError(KinematicsError, ValueError):
    """A joint value lies outside its limits where limits are enforced.

    Attributes:
        joint: Joint name.
        value: Offending value [rad or m].
        lower: Lower limit.
        upper: Upper limit.
    """

    def __init__(self, joint: str, value: float, lower: float, upper: float):
        super().__init__(
            f"joint {joint!r}: value {value:.6g} is outside its limits [{lower:.6g}, {upper:.6g}]"
        )
        self.joint = joint
        self.value = value
        self.lower = lower
        self.upper = upper


class KinematicsWarning(UserWarning):
    """Root of every warning issued by :mod:`kinematics`."""


class URDFWarning(KinematicsWarning):
    """A defect in a part of a URDF that the requested model does not use (file:line)."""

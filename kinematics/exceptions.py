"""Exceptions raised by :mod:`kinematics`.

Every error the library raises on bad input derives from :class:`KinematicsError`, so a
caller can catch one type. Messages name the offending element (file, joint, link, value)
and say what was expected. Not converging is a *result* (``IKResult.success = False``),
never an exception.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "MAX_MESSAGE_CHARS",
    "KinematicsError",
    "KinematicsWarning",
    "URDFWarning",
    "URDFError",
    "ShapeError",
    "InvalidValueError",
    "UnknownLinkError",
    "UnknownRobotError",
    "JointLimitError",
    "format_names",
    "nearest_names",
    "did_you_mean",
    "names_hint",
    "truncate",
]

#: Longest message (in characters) that a :class:`KinematicsError` carries. Longer messages
#: keep their head and tail and lose the middle, marked ``…[N chars]…``.
MAX_MESSAGE_CHARS = 500


def truncate(text: str, limit: int = MAX_MESSAGE_CHARS, *, keep: str = "middle") -> str:
    """Cap ``text`` at ``limit`` characters, marking the cut with ``…``.

    Args:
        text: Any text (a message, a value's ``repr``, a file path).
        limit: Maximum length of the result, in characters (at least 16).
        keep: ``"middle"`` cuts out the middle (head and tail survive: the element named at
            the start and the "expected ..." at the end of a message); ``"end"`` keeps the
            end only (file paths: the file name survives); ``"start"`` keeps the start only.

    Returns:
        ``text`` unchanged if short enough, else a string of at most ``limit`` characters.

    Examples:
        >>> truncate("abcdefghij" * 10, 30)
        'abcdefghijab…[82 chars]…efghij'
        >>> truncate("/home/user/robots/descriptions/urdf/arm.urdf", 30, keep="end")
        '…[26 chars]…ions/urdf/arm.urdf'
    """
    limit = max(int(limit), 16)
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    while True:  # the marker's own length depends on how much is cut
        marker = f"…[{cut} chars]…"
        kept = limit - len(marker)
        if len(text) - kept == cut:
            break
        cut = len(text) - kept
    if keep == "end":
        return marker + text[len(text) - kept:]
    if keep == "start":
        return text[:kept] + marker
    head = kept * 2 // 3
    return text[:head] + marker + text[len(text) - (kept - head):]


def format_names(names: Iterable[object], limit: int = 200) -> str:
    """Render names as a Python-style list of at most about ``limit`` characters.

    Items are ``repr``'d and listed in order until the next one would pass ``limit``; the
    rest are counted: ``['a', 'b', … (+998 more)]``. Each item is itself capped.

    Examples:
        >>> format_names(["base", "link1"])
        "['base', 'link1']"
        >>> format_names([f"l{i}" for i in range(1000)], 40)
        "['l0', 'l1', 'l2', 'l3', 'l4', 'l5', … (+994 more)]"
    """
    items = [truncate(repr(n), 60) for n in names]
    shown: list[str] = []
    used = 2
    for item in items:
        if shown and used + len(item) + 2 > limit:
            break
        shown.append(item)
        used += len(item) + 2
    rest = len(items) - len(shown)
    return "[" + ", ".join(shown) + (f", … (+{rest} more)" if rest else "") + "]"


def _closeness(name: str, candidate: str) -> float:
    """Similarity of two names in ``[0, 2]``: 2 equal ignoring case, 1 + a containment
    bonus, else difflib's ratio of the lower-cased names."""
    a, b = name.lower(), candidate.lower()
    if a == b:
        return 2.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    return 1.0 + ratio / 2 if a and (a in b or b in a) else ratio


def nearest_names(name: object, names: Iterable[object]) -> list[str]:
    """Every name of ``names``, the nearest to ``name`` first (case-insensitive; ties keep
    the given order). The one ordering of every "did you mean" and every list of valid
    names the library and the command line print.

    Examples:
        >>> nearest_names("pnada", ["planar2r", "panda", "iiwa14", "ur5"])[:2]
        ['panda', 'planar2r']
    """
    given = [str(n) for n in names]
    key = str(name)
    scores = [_closeness(key, n) for n in given]
    order = sorted(range(len(given)), key=lambda i: -scores[i])
    return [given[i] for i in order]


def did_you_mean(name: object, names: Iterable[object], cutoff: float = 0.6) -> str | None:
    """The valid name nearest to ``name`` when it is close enough (equal ignoring case,
    containing or contained, or difflib ratio ``>= cutoff``), else ``None``.

    Examples:
        >>> did_you_mean("pnada", ["planar2r", "panda"])
        'panda'
        >>> did_you_mean("zzz", ["planar2r", "panda"]) is None
        True
    """
    best = nearest_names(name, names)[:1]
    if best and _closeness(str(name), best[0]) >= cutoff:
        return best[0]
    return None


def names_hint(name: object, names: Iterable[object], what: str, limit: int = 300) -> str:
    """``"Did you mean 'x'? Available <what> names: [...]"`` (nearest first): the tail of
    every unknown-name message."""
    given = [str(n) for n in names]
    guess = did_you_mean(name, given)
    head = f"Did you mean {guess!r}? " if guess is not None else ""
    return f"{head}Available {what} names: {format_names(nearest_names(name, given), limit)}"


class KinematicsError(Exception):
    """Root of every error raised by :mod:`kinematics`.

    A string message longer than :data:`MAX_MESSAGE_CHARS` is cut in the middle (see
    :func:`truncate`), so an absurd input never produces an absurd message.
    """

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (truncate(args[0]), *args[1:])
        super().__init__(*args)


class KinematicsWarning(UserWarning):
    """Root of every warning emitted by :mod:`kinematics`."""


class URDFWarning(KinematicsWarning):
    """A defect in a part of a URDF document that the requested model does not use.

    The part is skipped; the message names file, line and the element.
    """


class URDFError(KinematicsError, ValueError):
    """A URDF document is malformed, unsafe or unsupported.

    Attributes:
        source: File path (or ``"<string>"``) of the document.
        line: 1-based line number of the offending element, when known.
    """

    def __init__(self, message: str, source: str = "<string>", line: int | None = None):
        where = truncate(str(source), 160, keep="end")
        where = where if line is None else f"{where}:{line}"
        super().__init__(f"{where}: {truncate(message, MAX_MESSAGE_CHARS - len(where) - 2)}")
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
            f"{what} {truncate(repr(name), 80)} does not exist in the model. "
            f"{names_hint(name, self.available, what)}"
        )

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class UnknownRobotError(KinematicsError, KeyError):
    """A bundled robot name is not known."""

    def __init__(self, name: str, available: list[str] | tuple[str, ...]):
        self.name = name
        self.available = tuple(available)
        guess = did_you_mean(name, self.available)
        super().__init__(
            f"robot {truncate(repr(name), 120)} is neither a bundled robot nor an existing URDF "
            f"file.{f' Did you mean {guess!r}?' if guess else ''} Bundled robots: "
            f"{format_names(nearest_names(name, self.available), 300)}"
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

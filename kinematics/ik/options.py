"""The settings of :func:`kinematics.ik.solve` as one validated object, and the weights of
its error axes (``mask``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _checks
from ..exceptions import InvalidValueError

__all__ = ["IKOptions", "mask_weights", "AXES"]

AXES = ("x", "y", "z", "rx", "ry", "rz")
_MAX_COUNT = 1_000_000   # largest restarts / max_iter / patience
SEED_CAP = 2**30         # bytes the restart seeds (restarts × dof) may take


@dataclass(frozen=True)
class IKOptions:
    """The settings of one :func:`~kinematics.ik.solve` call, each validated on
    construction (the one place they are checked; see ``solve`` for their meaning).

    Raises:
        InvalidValueError: a tolerance, ``damping_bias`` or ``max_time`` is not a positive
            finite number; a count or ``seed`` is not an integer in range; ``nearest`` is
            not a bool.
    """

    seed: int = 0
    tol_pos: float = 1e-6         # [m]
    tol_rot: float = 1e-6         # [rad]
    max_iter: int = 60
    restarts: int = 50
    patience: int = 6
    damping_bias: float = 1e-7    # [m², rad²]
    max_time: float | None = None   # [s]
    nearest: bool = False

    def __post_init__(self) -> None:
        put = object.__setattr__
        put(self, "tol_pos", _checks.positive(self.tol_pos, "tol_pos", " [m]"))
        put(self, "tol_rot", _checks.positive(self.tol_rot, "tol_rot", " [rad]"))
        for name in ("max_iter", "restarts", "patience"):
            put(self, name, _checks.integer(getattr(self, name), name,
                                            0 if name == "restarts" else 1))
        if max(self.restarts, self.max_iter, self.patience) > _MAX_COUNT:
            raise InvalidValueError(f"restarts={self.restarts}, max_iter={self.max_iter}, "
                                    f"patience={self.patience}; expected each <= 1,000,000")
        put(self, "damping_bias",
            _checks.positive(self.damping_bias, "damping_bias", " [m², rad²]"))
        put(self, "seed", _checks.integer(self.seed, "seed", 0))
        if self.max_time is not None:
            put(self, "max_time", _checks.positive(self.max_time, "max_time", " [s]"))
        if not isinstance(self.nearest, (bool, np.bool_)):
            raise InvalidValueError(f"nearest={_checks.show(self.nearest)}; expected True or "
                                    "False")
        put(self, "nearest", bool(self.nearest))

    def check_seeds(self, dof: int) -> None:
        """Refuse restart seeds (``restarts × dof`` values) above :data:`SEED_CAP` bytes,
        before any work, with their size."""
        nbytes = 8 * self.restarts * dof
        if nbytes > SEED_CAP:
            raise InvalidValueError(
                f"restarts={self.restarts}: the restart seeds ({self.restarts} × {dof} joints) "
                f"need {nbytes / 2**30:.1f} GiB, more than the {SEED_CAP / 2**30:.0f} GiB cap; "
                "expected fewer restarts (max_time bounds a long search)")


def mask_weights(value: ArrayLike | None, name: str = "mask") -> NDArray[np.float64]:
    """The validated weights ``(6,)`` of the error axes ``[x, y, z, rx, ry, rz]`` (all 1
    for ``None``).

    Raises:
        ShapeError: not a number or ``(6,)``.
        InvalidValueError: a negative or non-finite weight, or only zeros.
    """
    if value is None:
        return np.ones(6)
    w = _checks.weights6(value, name, "weights >= 0 on [x, y, z, rx, ry, rz]")
    if not (w > 0).any():
        raise InvalidValueError(f"{name}={w.tolist()}; expected at least one weight > 0 on "
                                f"{list(AXES)} (a weight of 0 drops an axis)")
    return w

"""Every argument check of the public API, and its message (one place, one wording).

Each validator takes the user's value and the argument's name, returns the value in the
form the library computes with, and otherwise raises a :class:`~kinematics.KinematicsError`
subclass naming the argument, the (truncated) value and what was expected.

One tolerance for rigid transforms: :data:`RIGID_TOL`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import InvalidValueError, ShapeError

Array = NDArray[np.float64]

#: Tolerance on ``max |R Rᵀ − I|`` and ``|det R − 1|`` for a pose to count as a rigid
#: transform (loose enough for poses computed in float32 or read with 6 decimals). Model
#: poses (``base_pose``, ``tool``) accepted within it are re-orthonormalised.
RIGID_TOL = 1e-5

#: Largest magnitude accepted for a scalar parameter (:func:`number`) or an entry of a
#: :func:`shaped` array: products of a few such values stay finite in float64.
MAX_MAGNITUDE = 1e100

#: Smallest value accepted for a strictly positive scalar (:func:`positive`): steps,
#: lengths, scales and tolerances are divided by.
MIN_MAGNITUDE = 1e-100

#: Largest imaginary part of a complex argument (complex-step differentiation perturbs by
#: ``h ~ 1e-20``; cosh of a large imaginary part would overflow).
MAX_IMAG = 1.0

_LAST_ROW = np.array([0.0, 0.0, 0.0, 1.0])
_MAX_REPR = 120


def show(value: object) -> str:
    """``repr`` of a value, truncated for messages."""
    text = repr(value)
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 1] + "…"


def array(value: ArrayLike, name: str, what: str, *, complex_ok: bool = False,
          bool_ok: bool = False) -> NDArray[Any]:
    """``value`` as a float (or, with ``complex_ok``, complex) numpy array.

    Booleans are not numbers: a boolean array (or a list holding ``True``/``False``) is
    refused unless ``bool_ok`` (masks).

    Raises:
        InvalidValueError: Not numeric, boolean, a masked array, or complex when not allowed.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:  # the common case
        return value
    if not bool_ok and _has_bool(value):
        raise InvalidValueError(f"{name}={show(value)}: booleans are not numbers; expected "
                                f"{what}")
    if isinstance(value, np.ma.MaskedArray):
        raise InvalidValueError(f"{name}: masked arrays are not supported (the mask would be "
                                f"ignored); expected {what}. Fill or drop masked values first")
    if isinstance(value, (str, bytes)):
        raise InvalidValueError(f"{name}={show(value)}; expected {what}")
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name}={show(value)}; expected {what}") from None
    if a.dtype.kind == "c":
        if complex_ok:
            return a.astype(np.complex128, copy=False)
        raise InvalidValueError(f"{name}: complex values {show(value)}; expected {what} "
                                "(real)")
    if a.dtype.kind not in "biuf" or (a.dtype.kind == "b" and not bool_ok):
        raise InvalidValueError(f"{name}={show(value)}; expected {what}")
    return a.astype(np.float64, copy=False)


def _has_bool(value: object, depth: int = 0) -> bool:
    """A bool, a boolean array, or a (nested, short-circuited) list/tuple holding a bool
    (nesting deeper than numpy's 64 dimensions is left to numpy to refuse)."""
    if isinstance(value, (bool, np.bool_)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "b"
    if isinstance(value, (list, tuple)) and depth < 64:
        return any(_has_bool(v, depth + 1) for v in value)
    return False


def finite(a: NDArray[Any], name: str, labels: Sequence[str] | None = None,
           kind: str = "joint") -> None:
    """Raise if ``a`` has a NaN or inf, naming the first one (and its label on the last
    axis, e.g. ``joint 'elbow'``)."""
    if not np.isfinite(a).all():
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        if labels is not None and idx:
            raise InvalidValueError(f"{name}{list(idx)}: {kind} {labels[idx[-1]]!r} is "
                                    f"{a[idx]}; expected finite values")
        raise InvalidValueError(f"{name}{list(idx)} is {a[idx]}; expected finite values")


def vector(value: ArrayLike, name: str, size: int, what: str, *,
           complex_ok: bool = False, labels: Sequence[str] | None = None,
           shape_what: str | None = None) -> NDArray[Any]:
    """A finite ``(..., size)`` array (``shape_what`` describes the last axis in shape
    errors; default ``what``)."""
    a = array(value, name, f"numeric {what}", complex_ok=complex_ok)
    if a.ndim == 0 or a.shape[-1] != size:
        raise ShapeError(name, f"(..., {size}) {shape_what or what}", a.shape)
    finite(a, name, labels)
    if a.dtype.kind == "c" and a.size and not (np.abs(a.imag) <= MAX_IMAG).all():
        raise InvalidValueError(f"{name}: imaginary parts up to {np.abs(a.imag).max():g}; "
                                f"expected |Im| <= {MAX_IMAG:g} (complex values are for "
                                "complex-step differentiation: Im = h, e.g. 1e-20)")
    return a


def shaped(value: ArrayLike, name: str, core: tuple[int, ...], what: str,
           magnitude: float = MAX_MAGNITUDE) -> Array:
    """A finite real ``(..., *core)`` array (e.g. ``(..., 3, 3)`` rotations) with entries of
    magnitude ``<= magnitude``.

    Raises:
        InvalidValueError: Not numeric, masked, complex, NaN, inf or too large (the first is
            named).
        ShapeError: The last axes are not ``core``.
    """
    a = array(value, name, f"numeric {what}")
    k = len(core)
    if a.ndim < k or a.shape[a.ndim - k:] != core:
        dims = ", ".join(str(c) for c in core)
        raise ShapeError(name, f"(..., {dims}) {what}", a.shape)
    finite(a, name)
    bounded(a, name, magnitude)
    return a


def bounded(a: NDArray[Any], name: str, magnitude: float = MAX_MAGNITUDE) -> None:
    """Raise if an entry of the finite array ``a`` exceeds ``magnitude`` in absolute value."""
    mag = np.abs(a).astype(np.float64, copy=False)  # float32 <= 1e100 would overflow
    if a.size and not (mag <= magnitude).all():
        idx = tuple(int(i) for i in np.argwhere(~(mag <= magnitude))[0])
        raise InvalidValueError(f"{name}{list(idx)} is {a[idx]:g}; expected a magnitude "
                                f"<= {magnitude:g}")


def robot(value: object, name: str = "robot") -> None:
    """Raise unless ``value`` is a :class:`~kinematics.Robot` (duck-typed: this module is
    below ``robot.py`` in the import order)."""
    if not all(hasattr(value, a) for a in ("chain", "check_q", "joint_names", "dof")):
        raise InvalidValueError(f"{name}={show(value)}; expected a kinematics.Robot "
                                "(kinematics.load_robot(...))")


def moving(value: Any, what: str) -> None:
    """Raise unless the robot has at least one degree of freedom (a 0-DoF model, ``base ==
    tip`` or a single link, has poses and ``(6, 0)`` Jacobians but nothing to analyse or
    control)."""
    if value.dof == 0:
        raise InvalidValueError(f"{what}: robot {value.name!r} has 0 degrees of freedom (base "
                                f"{value.base_link!r}, tip {value.tip_link!r}); expected at "
                                "least one moving joint")


def broadcast(name_a: str, a: NDArray[Any], name_b: str, b: NDArray[Any],
              core_a: int = 1, core_b: int = 1) -> tuple[NDArray[Any], NDArray[Any]]:
    """Broadcast the batch dimensions of two arrays (their last ``core`` axes kept)."""
    ba, bb = a.shape[: a.ndim - core_a], b.shape[: b.ndim - core_b]
    try:
        batch = np.broadcast_shapes(ba, bb)
    except ValueError:
        raise ShapeError(name_b, f"a batch shape that broadcasts with {name_a}'s {ba}",
                         b.shape) from None
    return (np.broadcast_to(a, batch + a.shape[a.ndim - core_a:]),
            np.broadcast_to(b, batch + b.shape[b.ndim - core_b:]))


def number(value: object, name: str, *, minimum: float | None = None,
           strict: bool = False, maximum: float | None = None, unit: str = "",
           expected: str | None = None) -> float:
    """A finite real number, optionally bounded (``strict``: ``> minimum``); ``expected``
    replaces the generic description in messages."""
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidValueError(f"{name}={show(value)}; expected "
                                f"{expected or 'a real number' + unit}")
    v = float(value)
    if (not math.isfinite(v) or abs(v) > MAX_MAGNITUDE
            or (minimum is not None and (v < minimum or (strict and v == minimum)))
            or (maximum is not None and v > maximum)):
        bound = ""
        if minimum is not None:
            bound = f" {'>' if strict else '>='} {minimum:g}"
        if maximum is not None:
            bound += f"{' and' if bound else ''} <= {maximum:g}"
        raise InvalidValueError(f"{name}={show(value)}; expected "
                                f"{expected or 'a finite number' + bound + unit} "
                                f"(magnitude <= {MAX_MAGNITUDE:g})")
    return v


def positive(value: object, name: str, unit: str = "", expected: str | None = None) -> float:
    """A finite number ``> 0``, at least :data:`MIN_MAGNITUDE` (a step, length, scale or
    tolerance of 1e-320 would overflow whatever divides by it)."""
    v = number(value, name, minimum=0.0, strict=True, unit=unit, expected=expected)
    if v < MIN_MAGNITUDE:
        raise InvalidValueError(f"{name}={show(value)}; expected "
                                f"{expected or 'a finite number > 0' + unit} (magnitude >= "
                                f"{MIN_MAGNITUDE:g}: its reciprocal must stay finite)")
    return v


def nonnegative(value: object, name: str, unit: str = "") -> float:
    """A finite number ``>= 0``."""
    return number(value, name, minimum=0.0, unit=unit)


def _scalar(value: object) -> object:
    """A 0-d real array as its numpy scalar (0-d arrays are numbers); anything else as is."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return value[()]
    return value


def integer(value: object, name: str, minimum: int = 0, expected: str | None = None,
            maximum: int | None = None) -> int:
    """A Python or numpy integer ``>= minimum`` (and ``<= maximum``), or a float or 0-d array
    holding one (``2.0``, ``np.float64(2.0)``); bools refused."""
    value = _scalar(value)
    if isinstance(value, (float, np.floating)) and math.isfinite(value) \
            and float(value).is_integer():
        value = int(value)
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum
            or (maximum is not None and value > maximum)):
        bound = f"an integer >= {minimum}" + ("" if maximum is None else f" and <= {maximum}")
        raise InvalidValueError(f"{name}={show(value)}; expected {expected or bound}")
    return int(value)


def seed(value: object, name: str = "seed") -> int | None:
    """A random seed: ``None`` or an integer ``>= 0``."""
    if value is None:
        return None
    return integer(value, name, 0)


def choice(value: object, name: str, options: Sequence[str]) -> str:
    """One of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise InvalidValueError(f"{name}={show(value)}; expected one of {list(options)}")
    return value


def name(value: object, what: str) -> str:
    """A name (string) argument, e.g. a link."""
    if not isinstance(value, str):
        raise InvalidValueError(f"{what}={show(value)}; expected a name (str)")
    return value


def weights6(value: ArrayLike, name: str, what: str = "weights >= 0") -> Array:
    """A scalar or ``(6,)`` array of finite values ``>= 0`` over ``[x y z rx ry rz]`` (a
    boolean mask counts as weights 0 and 1)."""
    a = np.array(array(value, name, f"{what}, scalar or (6,)", bool_ok=True), dtype=float)
    if a.ndim == 0:
        a = np.full(6, float(a))
    if a.shape != (6,):
        raise ShapeError(name, "() or (6,) over [x y z rx ry rz]", a.shape)
    if not np.isfinite(a).all() or (a < 0).any():
        raise InvalidValueError(f"{name}={a.tolist()}; expected finite {what}")
    bounded(a, name)
    return a


def pose(value: ArrayLike, name: str, *, single: bool = False) -> Array:
    """A (batch of) rigid transform(s) ``[[R, p], [0, 0, 0, 1]]`` within :data:`RIGID_TOL`.

    Raises:
        ShapeError: Not ``(..., 4, 4)`` (``(4, 4)`` when ``single``).
        InvalidValueError: Not numeric, not finite, or not rigid; the first offending pose
            of a batch is named.
    """
    A = array(value, name, "a numeric (4, 4) pose")
    if A.ndim < 2 or A.shape[-2:] != (4, 4) or (single and A.ndim != 2):
        raise ShapeError(name, "(4, 4)" if single else "(4, 4) or (..., 4, 4)", A.shape)
    if A.ndim == 2 and _rigid_one(A):
        return A
    flat = A.reshape(-1, 4, 4)
    ok_finite: NDArray[np.bool_] = np.asarray(np.isfinite(flat).all(axis=(1, 2)))
    R = np.where(ok_finite[:, None, None], flat[:, :3, :3], 0.0)
    small: NDArray[np.bool_] = np.asarray((np.abs(R) <= 2.0).all(axis=(1, 2)))
    R = np.where(small[:, None, None], R, 2.0)  # no overflow
    ortho = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(3)).max(axis=(1, 2)) <= RIGID_TOL
    det_ok = np.abs(np.linalg.det(R) - 1.0) <= RIGID_TOL
    row_ok = (flat[:, 3] == _LAST_ROW).all(axis=1)
    ok = ok_finite & ortho & det_ok & row_ok
    if not ok.all():
        k = int(np.argmin(ok))
        where = "" if A.ndim == 2 else str([int(i) for i in np.unravel_index(k, A.shape[:-2])])
        why = ("is not finite" if not ok_finite[k] else
               "has a last row other than [0 0 0 1]" if not row_ok[k] else
               "has a rotation block that is not orthonormal with det +1")
        raise InvalidValueError(
            f"{name}{where} {why}; expected a rigid transform [[R, p], [0, 0, 0, 1]] with "
            f"R orthonormal (tolerance {RIGID_TOL:g}), got\n{flat[k]}")
    bounded(A, name)  # translations: products stay finite
    return A


def _rigid_one(A: Array) -> bool:
    """Scalar test of one pose (fast when it is valid: control loops)."""
    a = A.tolist()
    s = sum(a[0]) + sum(a[1]) + sum(a[2]) + sum(a[3])
    if not (s - s == 0.0 and a[3] == [0.0, 0.0, 0.0, 1.0]):
        return False
    r0, r1, r2 = a[0][:3], a[1][:3], a[2][:3]
    dev = max(abs(r0[0] * r0[0] + r0[1] * r0[1] + r0[2] * r0[2] - 1.0),
              abs(r1[0] * r1[0] + r1[1] * r1[1] + r1[2] * r1[2] - 1.0),
              abs(r2[0] * r2[0] + r2[1] * r2[1] + r2[2] * r2[2] - 1.0),
              abs(r0[0] * r1[0] + r0[1] * r1[1] + r0[2] * r1[2]),
              abs(r0[0] * r2[0] + r0[1] * r2[1] + r0[2] * r2[2]),
              abs(r1[0] * r2[0] + r1[1] * r2[1] + r1[2] * r2[2]))
    det = (r0[0] * (r1[1] * r2[2] - r1[2] * r2[1]) - r0[1] * (r1[0] * r2[2] - r1[2] * r2[0])
           + r0[2] * (r1[0] * r2[1] - r1[1] * r2[0]))
    return (dev <= RIGID_TOL and abs(det - 1.0) <= RIGID_TOL and abs(a[0][3]) <= MAX_MAGNITUDE
            and abs(a[1][3]) <= MAX_MAGNITUDE and abs(a[2][3]) <= MAX_MAGNITUDE)


def model_pose(value: ArrayLike | None, name: str) -> Array:
    """A model pose (``base_pose``, ``tool``): identity for ``None``; a rigid transform
    within :data:`RIGID_TOL`, returned with its rotation re-orthonormalised (nearest
    rotation, SVD) so the model stays exactly rigid."""
    if value is None:
        return np.eye(4)
    A = pose(value, name, single=True).copy()
    U, _, Vt = np.linalg.svd(A[:3, :3])
    A[:3, :3] = U @ Vt
    return A


def cap(value: int | None, env: str, default: int, what: str) -> int:
    """The effective cap: the explicit value, else the environment variable, else default."""
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise InvalidValueError(f"{what}: expected a positive integer, got {value!r}")
        return value
    raw = os.environ.get(env)
    if raw is None or not raw.strip():
        return default
    try:
        cap = int(raw.strip())
    except ValueError:
        cap = 0
    if cap <= 0:
        raise InvalidValueError(f"environment variable {env}={show(raw.strip()[:40])}: expected "
                                "a positive integer")
    return cap

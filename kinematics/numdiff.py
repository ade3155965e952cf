"""Numerical derivatives of any ``f: R^n -> R^m`` (finite differences and complex step).

Used to check analytic Jacobians. ``jacobian(f, x)`` has shape ``f(x).shape + x.shape``:
for ``x`` of shape ``(n,)`` and ``f(x)`` of shape ``(m,)`` it is the ``(m, n)`` matrix
``J[i, j] = df_i / dx_j``.

Methods, default steps ``h_j = eps**p * max(1, |x_j|)`` (``eps`` = 2.2e-16) and error bounds
per entry (truncation + rounding; ``f^(k)`` is the k-th derivative along ``x_j``):

- ``"forward"``: p = 1/2 (h ~ 1.5e-8); error <~ h |f''| / 2 + 2 eps |f| / h, ~1e-8 scale.
- ``"central"`` (default): p = 1/3 (h ~ 6e-6); error <~ h^2 |f'''| / 6 + eps |f| / h, ~1e-10.
- ``"central4"``: 5-point stencil, p = 1/5 (h ~ 7e-4); h^4 |f^(5)| / 30 + 2 eps |f| / h, ~1e-12.
- ``"complex"``: ``Im f(x + i h e_j) / h`` with h = 1e-20; h^2 |f'''| / 6 + eps |f'|: machine
  precision, no cancellation. Needs an analytic ``f`` that accepts complex input (no ``abs``,
  ``real``, ``conj``, ``float()``, comparisons on the perturbed values).

"~1e-8 scale" is relative to ``max(|f|, |f'| max(1, |x|))``: rounding grows with ``|f|``.

Examples:
    F(x, y) = [x^2 + y, x*y]:

    >>> import numpy as np
    >>> F = lambda p: np.array([p[0] ** 2 + p[1], p[0] * p[1]])
    >>> np.round(jacobian(F, [1.0, 2.0]), 6)
    array([[2., 1.],
           [2., 1.]])
    >>> np.round(jacobian(F, [0.0, 1.0]), 6) + 0.0
    array([[0., 1.],
           [1., 0.]])

    F(x, y) = [x^2 - y^2, 2xy] has det J = 4 (x^2 + y^2), 20 at (1, 2):

    >>> G = lambda p: np.array([p[0] ** 2 - p[1] ** 2, 2 * p[0] * p[1]])
    >>> round(float(np.linalg.det(jacobian(G, [1.0, 2.0], method="complex"))), 9)
    20.0

    F(x, y, z) = [x^2 + yz, sin(xy), e^(x+z)] at (1, 2, 0.5):

    >>> H = lambda p: np.array([p[0]**2 + p[1]*p[2], np.sin(p[0]*p[1]), np.exp(p[0] + p[2])])
    >>> x, y, z = 1.0, 2.0, 0.5
    >>> J_exact = [[2 * x, z, y],
    ...            [y * np.cos(x * y), x * np.cos(x * y), 0.0],
    ...            [np.exp(x + z), 0.0, np.exp(x + z)]]
    >>> np.allclose(jacobian(H, [x, y, z]), J_exact, rtol=1e-8, atol=1e-8)
    True

    A sigmoid layer s(W x + b) has J = diag(s'(W x + b)) W:

    >>> W = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.0]]); b = np.array([0.1, -0.2])
    >>> sigmoid = lambda u: 1.0 / (1.0 + np.exp(-u))
    >>> layer = lambda p: sigmoid(W @ p + b)
    >>> p = np.array([0.5, -0.25, 1.0]); s = sigmoid(W @ p + b)
    >>> np.allclose(jacobian(layer, p, method="complex"), np.diag(s * (1 - s)) @ W, atol=1e-15)
    True

    Chain rule, J(G o H)(x) = J_G(H(x)) J_H(x):

    >>> np.allclose(jacobian(lambda q: G(F(q)), [1.0, 2.0]),
    ...             jacobian(G, F([1.0, 2.0])) @ jacobian(F, [1.0, 2.0]), rtol=1e-8)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinematics import _checks
from kinematics.exceptions import InvalidValueError, ShapeError

__all__ = ["jacobian", "jvp", "vjp", "hessian"]

_EPS = float(np.finfo(float).eps)
# method -> (step exponent p, offsets o, weights w): derivative = Re(sum_o w f(x + o h)) / h.
# The complex step is the one-point stencil o = i, w = -i: Re(-i f(x + ih)) = Im f(x + ih).
_STENCILS: dict[str, tuple[float, tuple[complex, ...], tuple[complex, ...]]] = {
    "central": (1 / 3, (-1, 1), (-1 / 2, 1 / 2)),
    "forward": (1 / 2, (0, 1), (-1, 1)),
    "central4": (1 / 5, (-2, -1, 1, 2), (1 / 12, -8 / 12, 8 / 12, -1 / 12)),
    "complex": (0.0, (1j,), (-1j,)),
}
_COMPLEX_STEP = 1e-20
_NEAR = "; f is not finite near x (reduce step, or move x away from the edge of f's domain)"
Function = Callable[[Any], ArrayLike]


def _check_finite(a: NDArray[Any], what: str, hint: str = "") -> None:
    if not np.all(finite := np.isfinite(a)):
        idx = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = f" at component {idx}" if idx else ""
        raise InvalidValueError(f"{what} is not finite{where}: {a[idx]}{hint}")


def _real_array(a: ArrayLike, name: str, point: bool = False) -> NDArray[np.float64]:
    if isinstance(a, np.ma.MaskedArray):
        raise InvalidValueError(f"{name} must be a real numeric array: masked arrays are not "
                                "supported (the mask would be ignored)")
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as err:  # ragged nested sequences
        raise InvalidValueError(f"{name} must be a real numeric array: {err}") from err
    if arr.dtype.kind not in "iuf":
        raise InvalidValueError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if point and (arr.ndim == 0 or arr.size == 0):
        raise ShapeError(name, "(n,) or (..., n) with at least one element", arr.shape)
    _check_finite(arr, name)
    _checks.bounded(arr, name)  # x + h and w J stay finite
    return arr.astype(float)


def _method(method: str) -> tuple[float, tuple[complex, ...], tuple[complex, ...]]:
    if not isinstance(method, str) or method not in _STENCILS:
        raise InvalidValueError(f"unknown method {method!r}; valid methods: {list(_STENCILS)}")
    return _STENCILS[method]


def _step(step: ArrayLike | None, method: str, scale: NDArray[np.float64]) -> NDArray[np.float64]:
    """Default ``eps**p * max(1, scale)`` (1e-20 for complex), or ``step`` broadcast to scale."""
    if step is None:
        return np.full(scale.shape, _COMPLEX_STEP) if method == "complex" else \
            _EPS ** _STENCILS[method][0] * np.maximum(1.0, scale)
    h = _real_array(step, "step")
    try:
        h = np.broadcast_to(h, scale.shape)
    except ValueError as err:
        raise ShapeError("step", f"() or {scale.shape}" if scale.shape else "()", h.shape) from err
    if np.any(h <= 0):
        raise InvalidValueError(f"step must be positive, got {h[h <= 0][0]}")
    return h


def _evaluate(f: Function, points: NDArray[Any], vectorized: bool,
              complex_step: bool) -> NDArray[Any]:
    """``f`` at every ``points[k]``: ``(k, *x.shape) -> (k, *f(x).shape)``, dtype-checked."""
    if not callable(f):
        raise InvalidValueError(f"f={f!r:.80}; expected a function of an array")
    if not isinstance(vectorized, (bool, np.bool_)):
        raise InvalidValueError(f"vectorized={vectorized!r:.80}; expected True or False")
    try:
        if vectorized:
            outs = np.asarray(f(points))
        else:
            each = [np.asarray(f(p)) for p in points]
            if bad := [o.shape for o in each if o.shape != each[0].shape]:
                raise ShapeError("f(x)", f"{each[0].shape} at every point", bad[0])
            outs = np.stack(each)
    except Exception as err:  # re-raised: f's own error, or ours explaining the complex step
        if not complex_step or isinstance(err, ShapeError):
            raise
        raise InvalidValueError("method='complex' needs a function that accepts complex input; "
                                f"f raised {type(err).__name__}: {err}") from err
    if complex_step and outs.dtype.kind != "c":
        raise InvalidValueError("method='complex' needs a function that accepts complex input "
                                f"and keeps it complex (no abs/real/conj); f returned {outs.dtype}")
    if not complex_step and outs.dtype.kind not in "biuf":
        raise InvalidValueError(f"f must return a real numeric array, got dtype {outs.dtype}")
    if outs.shape[:1] != points.shape[:1]:
        raise ShapeError("f(X)", f"({len(points)}, ...) for X of shape {points.shape}", outs.shape)
    return outs


def _f0(f: Function, x: NDArray[np.float64], vectorized: bool) -> NDArray[Any]:
    f0 = _evaluate(f, x[None], vectorized, False)[0]
    _check_finite(f0, "f(x)")
    return f0


def _differences(f: Function, x: NDArray[np.float64], dirs: NDArray[np.float64], method: str,
                 vectorized: bool, f0: NDArray[Any] | None) -> NDArray[np.float64]:
    """``Re sum_o w_o f(x + o dirs[k])`` for each direction: shape ``(k, *f(x).shape)``."""
    _, offsets, weights = _STENCILS[method]
    moved = [o for o in offsets if o != 0]
    F = _evaluate(f, np.concatenate([x + o * dirs for o in moved]), vectorized, method == "complex")
    if f0 is not None and F.shape[1:] != f0.shape:
        raise ShapeError("f(x + h)", f"{f0.shape}, the shape of f(x)", F.shape[1:])
    F = F.reshape(len(moved), len(dirs), *F.shape[1:])
    _check_finite(F, f"f(x + {'' if method == 'complex' else 'o '}h)", _NEAR)
    rows = iter(F)  # f0 is given whenever the stencil has offset 0 (forward)
    D = sum(w * (next(rows) if o != 0 else cast(NDArray[Any], f0))
            for o, w in zip(offsets, weights, strict=True))
    return np.asarray(np.real(D), dtype=float)


def jacobian(f: Function, x: ArrayLike, *, method: str = "central", step: ArrayLike | None = None,
             vectorized: bool = False) -> NDArray[np.float64]:
    """Numerical Jacobian ``J[*i, *j] = d f(x)[*i] / d x[*j]`` of ``f`` at ``x``.

    Costs ``f(x)`` plus ``n`` (forward, complex), ``2n`` (central) or ``4n`` (central4)
    evaluations, ``n = x.size``; with ``vectorized``, two calls: ``f(x)``, then all at once.

    Args:
        f: Function of an array of shape ``x.shape`` returning shape ``S`` (``()`` if scalar).
            With ``vectorized=True`` it maps ``(k, *x.shape)`` to ``(k, *S)``.
        x: Evaluation point, real and finite, shape ``(n,)`` or any N-D shape.
        method: ``"central"``, ``"forward"``, ``"central4"`` or ``"complex"``; step rules and
            error bounds in the module docstring.
        step: Positive scalar or per-component step, broadcast to ``x.shape``. Real-method
            steps are rounded so that ``x_j + h_j`` is exact.
        vectorized: Whether ``f`` takes a stack of points (one call for all perturbations).

    Returns:
        Shape ``S + x.shape``: ``(m, n)`` for ``(n,) -> (m,)``, ``(n,)`` for a scalar ``f``.

    Raises:
        ShapeError: ``x`` 0-d or empty; ``step`` not broadcastable; ``f`` output shapes differ.
        InvalidValueError: ``x`` or ``step`` non-numeric, complex or not finite; step not
            positive or lost in rounding; ``f`` output non-real or not finite (the component is
            named); unknown method; ``"complex"`` with an ``f`` that rejects or drops complex.
    """
    _method(method)
    x = _real_array(x, "x", point=True)
    f0 = _f0(f, x, vectorized)
    h = _step(step, method, np.abs(x))
    if method != "complex":
        h = (x + h) - x  # the perturbation actually applied
        if np.any(h == 0):
            raise InvalidValueError("step is too small to change x in floating point")
    dirs = (np.eye(x.size) * h.ravel()).reshape(x.size, *x.shape)  # dirs[j] = h_j e_j
    D = _differences(f, x, dirs, method, vectorized, f0) / h.reshape(-1, *(1,) * f0.ndim)
    return np.moveaxis(D, 0, -1).reshape(f0.shape + x.shape)


def jvp(f: Function, x: ArrayLike, v: ArrayLike, *, method: str = "central",
        step: float | None = None, vectorized: bool = False) -> NDArray[np.float64]:
    """Directional derivative ``J(x) v``, from one difference along ``v`` (``J`` is not formed).

    Evaluations: 2 (central; forward with ``f(x)``), 1 (complex), 4 (central4). Default step
    ``t = eps**p * max(1, max|x|) / max|v|`` (``1e-20 / max|v|`` for complex): the largest
    component of ``t v`` follows the :func:`jacobian` rule, with the same error bounds.

    Args:
        f, x, method, vectorized: As in :func:`jacobian`.
        v: Direction, shape ``x.shape``.
        step: Positive scalar step ``t`` along ``v``.

    Returns:
        Shape ``f(x).shape``.

    Raises:
        ShapeError: ``v.shape != x.shape``; ``step`` not a scalar; as :func:`jacobian`.
        InvalidValueError: ``v`` non-numeric or not finite; as :func:`jacobian`.
    """
    _method(method)
    x, v = _real_array(x, "x", point=True), _real_array(v, "v", point=True)
    if v.shape != x.shape:
        raise ShapeError("v", str(x.shape), v.shape)
    if (vmax := float(np.max(np.abs(v)))) == 0.0:
        return np.zeros(_f0(f, x, vectorized).shape)
    t = float(_step(step, method, np.array(float(np.max(np.abs(x))))))
    t = t if step is not None else t / vmax
    f0 = _f0(f, x, vectorized) if method == "forward" else None
    return _differences(f, x, (t * v)[None], method, vectorized, f0)[0] / t


def vjp(f: Function, x: ArrayLike, w: ArrayLike, *, method: str = "central",
        step: ArrayLike | None = None, vectorized: bool = False) -> NDArray[np.float64]:
    """Vector-Jacobian product ``w^T J(x)``, computed by forming ``J`` with :func:`jacobian`.

    Finite differences have no cheap reverse mode: this costs a full :func:`jacobian`.

    Args:
        f, x, method, step, vectorized: As in :func:`jacobian`.
        w: Cotangent, shape ``f(x).shape``.

    Returns:
        Shape ``x.shape``: ``sum_i w[*i] J[*i, ...]``.

    Raises:
        ShapeError: ``w.shape != f(x).shape``; as :func:`jacobian`.
        InvalidValueError: ``w`` non-numeric or not finite; as :func:`jacobian`.
    """
    w = _real_array(w, "w")
    J = jacobian(f, x, method=method, step=step, vectorized=vectorized)
    if (fshape := J.shape[: J.ndim - np.ndim(x)]) != w.shape:
        raise ShapeError("w", f"{fshape}, the shape of f(x)", w.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.tensordot(w, J, axes=w.ndim)
    _check_finite(out, "w J (overflow: reduce w)")
    return out


def hessian(f: Function, x: ArrayLike, *, step: ArrayLike | None = None,
            vectorized: bool = False) -> NDArray[np.float64]:
    """Hessian of a scalar ``f``: central differences of its central-difference gradient.

    Default step ``h_j = eps**(1/4) * max(1, |x_j|)`` (~1.2e-4) balances the O(h^2)
    truncation against rounding ``eps |f| / h^2``: relative error ~1e-8. Symmetrised.

    >>> np.round(hessian(lambda p: p[0] ** 2 * p[1] + np.sin(p[1]), [1.0, 0.0]), 6)
    array([[0., 2.],
           [2., 0.]])

    Args:
        f, step, vectorized: As in :func:`jacobian`; ``f`` returns a scalar.
        x: Evaluation point, shape ``X``.

    Returns:
        Shape ``X + X``: ``(n, n)`` for ``x`` of shape ``(n,)``.

    Raises:
        ShapeError: ``f(x)`` is not a scalar; as :func:`jacobian`.
        InvalidValueError: As :func:`jacobian`.
    """
    x = _real_array(x, "x", point=True)
    if (fshape := _f0(f, x, vectorized).shape) != ():
        raise ShapeError("f(x)", "() (a scalar)", fshape)
    h = _EPS ** (1 / 4) * np.maximum(1.0, np.abs(x)) if step is None else _step(step, "central", x)
    H = jacobian(lambda y: jacobian(f, y, step=h, vectorized=vectorized), x, step=h)
    H = H.reshape(x.size, x.size)
    return (0.5 * (H + H.T)).reshape(x.shape + x.shape)

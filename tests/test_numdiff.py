"""Tests for kinematics.numdiff: closed-form Jacobians, random linear maps, shapes, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kinematics.exceptions import InvalidValueError, KinematicsError, ShapeError
from kinematics.numdiff import hessian, jacobian, jvp, vjp

METHODS = ["central", "forward", "central4", "complex"]
# Relative tolerance per method, from truncation + rounding error at the default step:
# forward O(h) with h ~ eps^(1/2) -> ~1e-8 (|f''| up to ~10 here: 1e-6 leaves margin);
# central O(h^2) with h ~ eps^(1/3) -> ~1e-10; central4 O(h^4), h ~ eps^(1/5) -> ~1e-12;
# complex step has no cancellation -> a few eps.
RTOL = {"forward": 1e-6, "central": 1e-8, "central4": 1e-10, "complex": 1e-14}


def assert_jacobian_close(J: np.ndarray, J_exact: np.ndarray, method: str) -> None:
    """Relative tolerance of `method`, and the same tolerance scaled by max|J| for zeros."""
    J_exact = np.asarray(J_exact, dtype=float)
    assert J.shape == J_exact.shape
    tol = RTOL[method]
    np.testing.assert_allclose(J, J_exact, rtol=tol, atol=tol * max(1.0, np.abs(J_exact).max()))


# --- textbook examples --------------------------------------------------------------------


def F_square_plus(p):  # [x^2 + y, x y]
    return np.array([p[0] ** 2 + p[1], p[0] * p[1]])


def F_conformal(p):  # [x^2 - y^2, 2 x y], i.e. z -> z^2
    return np.array([p[0] ** 2 - p[1] ** 2, 2 * p[0] * p[1]])


def F_mixed(p):  # [x^2 + y z, sin(x y), e^(x + z)]
    return np.array([p[0] ** 2 + p[1] * p[2], np.sin(p[0] * p[1]), np.exp(p[0] + p[2])])


def J_mixed(p):
    x, y, z = p
    return np.array([
        [2 * x, z, y],
        [y * np.cos(x * y), x * np.cos(x * y), 0.0],
        [np.exp(x + z), 0.0, np.exp(x + z)],
    ])


W = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.0]])
B = np.array([0.1, -0.2])


def sigmoid(u):
    return 1.0 / (1.0 + np.exp(-u))


def sigmoid_layer(p):
    return sigmoid(W @ p + B)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("point", "J_exact"), [
    ([1.0, 2.0], [[2.0, 1.0], [2.0, 1.0]]),
    ([0.0, 1.0], [[0.0, 1.0], [1.0, 0.0]]),
])
def test_square_plus(method, point, J_exact):
    assert_jacobian_close(jacobian(F_square_plus, point, method=method), J_exact, method)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("point", [[1.0, 2.0], [-0.3, 0.7], [2.5, -4.0]])
def test_conformal_map_determinant(method, point):
    x, y = point
    J = jacobian(F_conformal, point, method=method)
    assert_jacobian_close(J, [[2 * x, -2 * y], [2 * y, 2 * x]], method)
    det_exact = 4 * (x**2 + y**2)
    assert np.linalg.det(J) == pytest.approx(det_exact, rel=10 * RTOL[method])
    if point == [1.0, 2.0]:
        assert det_exact == 20.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("point", [[1.0, 2.0, 0.5], [-0.7, 0.3, -1.2], [0.0, 0.0, 0.0]])
def test_mixed_map(method, point):
    assert_jacobian_close(jacobian(F_mixed, point, method=method), J_mixed(point), method)


@pytest.mark.parametrize("method", METHODS)
def test_sigmoid_layer(method):
    p = np.array([0.5, -0.25, 1.0])
    s = sigmoid(W @ p + B)
    assert_jacobian_close(jacobian(sigmoid_layer, p, method=method), np.diag(s * (1 - s)) @ W,
                          method)


@pytest.mark.parametrize("method", METHODS)
def test_chain_rule(method):
    x = np.array([0.4, -1.3, 0.9])
    J_composite = jacobian(lambda q: F_conformal(sigmoid_layer(q)), x, method=method)
    J_product = jacobian(F_conformal, sigmoid_layer(x), method=method) @ jacobian(
        sigmoid_layer, x, method=method)
    assert_jacobian_close(J_composite, J_product, method)
    # and both against the closed form
    s = sigmoid_layer(x)
    J_exact = np.array([[2 * s[0], -2 * s[1]], [2 * s[1], 2 * s[0]]]) @ np.diag(s * (1 - s)) @ W
    assert_jacobian_close(J_composite, J_exact, method)


# --- property tests -----------------------------------------------------------------------

finite = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False)


@st.composite
def linear_maps(draw):
    m, n = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    A = draw(hnp.arrays(float, (m, n), elements=finite))
    b = draw(hnp.arrays(float, (m,), elements=finite))
    x = draw(hnp.arrays(float, (n,), elements=st.floats(-1e3, 1e3)))
    return A, b, x


@settings(max_examples=50, deadline=None)
@given(linear_maps(), st.sampled_from(METHODS))
def test_linear_map_jacobian_is_A(data, method):
    A, b, x = data
    # A linear map has no truncation error, only rounding eps |f| / h, with |f| up to
    # n max|A| max|x| + max|b| and h >= eps^p: relative to that scale, ~n eps^(1-p).
    J = jacobian(lambda p: A @ p + b, x, method=method)
    scale = max(1.0, np.abs(A).max()) * max(1.0, np.abs(x).max()) + np.abs(b).max()
    np.testing.assert_allclose(J, A, rtol=0, atol=RTOL[method] * scale)


@st.composite
def quadratics(draw):
    n = draw(st.integers(1, 4))
    Q = draw(hnp.arrays(float, (n, n), elements=finite))
    c = draw(hnp.arrays(float, (n,), elements=finite))
    x = draw(hnp.arrays(float, (n,), elements=finite))
    return Q, c, x


@settings(max_examples=50, deadline=None)
@given(quadratics(), st.sampled_from(METHODS))
def test_quadratic_gradient_and_hessian(data, method):
    Q, c, x = data
    S = 0.5 * (Q + Q.T)
    f = lambda p: 0.5 * p @ Q @ p + c @ p  # noqa: E731
    grad = jacobian(f, x, method=method)
    assert grad.shape == x.shape
    scale = max(1.0, np.abs(Q).max(), np.abs(c).max()) * max(1.0, np.abs(x).max())
    np.testing.assert_allclose(grad, S @ x + c, rtol=0, atol=RTOL[method] * scale)
    # nested central differences, h ~ eps^(1/4): rounding eps |f| / h^2 ~ 1e-8 |f|
    np.testing.assert_allclose(hessian(f, x), S, rtol=0, atol=1e-6 * scale)


# --- shapes -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_output_shapes(method):
    x = np.array([0.3, -0.2, 0.5])
    assert jacobian(lambda p: p @ p, x, method=method).shape == (3,)
    assert jacobian(F_mixed, x, method=method).shape == (3, 3)
    assert jacobian(lambda p: p[:2], x, method=method).shape == (2, 3)
    J = jacobian(lambda p: np.outer([1.0, 2.0], p), x, method=method)  # (2, 3) output
    assert J.shape == (2, 3, 3)
    assert_jacobian_close(J, np.einsum("i,jk->ijk", [1.0, 2.0], np.eye(3)), method)


@pytest.mark.parametrize("method", METHODS)
def test_matrix_input(method):
    # f(X) = X @ X for X of shape (2, 2): dF[i,j]/dX[k,l] = d_ik X[l,j] + X[i,k] d_jl
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    I2 = np.eye(2)
    J_exact = np.einsum("ik,lj->ijkl", I2, X) + np.einsum("ik,jl->ijkl", X, I2)
    assert_jacobian_close(jacobian(lambda M: M @ M, X, method=method), J_exact, method)


def test_scalar_valued_function_gives_gradient():
    g = jacobian(lambda p: np.sum(np.sin(p)), [0.1, 0.2], method="complex")
    np.testing.assert_allclose(g, np.cos([0.1, 0.2]), rtol=1e-15)


def test_integer_input_is_accepted():
    np.testing.assert_allclose(jacobian(F_square_plus, [1, 2]), [[2, 1], [2, 1]], rtol=1e-8)


# --- vectorised evaluation ----------------------------------------------------------------


def counting(f):
    def wrapped(p):
        wrapped.calls += 1
        return f(p)
    wrapped.calls = 0
    return wrapped


def F_mixed_batched(P):  # (k, 3) -> (k, 3)
    x, y, z = P[:, 0], P[:, 1], P[:, 2]
    return np.stack([x**2 + y * z, np.sin(x * y), np.exp(x + z)], axis=-1)


@pytest.mark.parametrize("method", METHODS)
def test_vectorized_agrees_with_loop(method):
    x = np.array([1.0, 2.0, 0.5])
    looped, batched = counting(F_mixed), counting(F_mixed_batched)
    J_loop = jacobian(looped, x, method=method)
    J_vec = jacobian(batched, x, method=method, vectorized=True)
    np.testing.assert_allclose(J_vec, J_loop, rtol=1e-15, atol=1e-15)
    assert_jacobian_close(J_vec, J_mixed(x), method)
    assert batched.calls == 2  # f(x), then every perturbation at once
    assert looped.calls == 1 + {"forward": 3, "central": 6, "central4": 12, "complex": 3}[method]
    np.testing.assert_allclose(jvp(F_mixed_batched, x, [1.0, 0.0, -1.0], method=method,
                                   vectorized=True),
                               jvp(F_mixed, x, [1.0, 0.0, -1.0], method=method), rtol=1e-14)


# --- jvp, vjp, hessian --------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("v", [[1.0, 0.0, 0.0], [0.3, -2.0, 0.7], [1e-3, 2e-3, -1e-3]])
def test_jvp_equals_J_v(method, v):
    x = np.array([1.0, 2.0, 0.5])
    f = counting(F_mixed)
    Jv = jvp(f, x, v, method=method)
    assert Jv.shape == (3,)
    assert_jacobian_close(Jv, J_mixed(x) @ v, method)
    assert f.calls == {"forward": 2, "central": 2, "central4": 4, "complex": 1}[method]


def test_jvp_of_zero_direction_is_zero():
    np.testing.assert_array_equal(jvp(F_mixed, [1.0, 2.0, 0.5], np.zeros(3)), np.zeros(3))


def test_jvp_explicit_step():
    Jv = jvp(F_mixed, [1.0, 2.0, 0.5], [1.0, 1.0, 1.0], step=1e-5)
    np.testing.assert_allclose(Jv, J_mixed([1.0, 2.0, 0.5]).sum(axis=1), rtol=1e-8)


@pytest.mark.parametrize("method", METHODS)
def test_vjp_equals_w_J(method):
    x, w = np.array([1.0, 2.0, 0.5]), np.array([0.5, -1.0, 2.0])
    wJ = vjp(F_mixed, x, w, method=method)
    assert wJ.shape == (3,)
    assert_jacobian_close(wJ, w @ J_mixed(x), method)


def test_vjp_matrix_output():
    x, w = np.array([0.3, -0.2, 0.5]), np.array([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0]])
    wJ = vjp(lambda p: np.outer([1.0, 2.0], p), x, w)  # f(x)[i, j] = a_i x_j
    np.testing.assert_allclose(wJ, [1.0, -2.0, 2.0], rtol=1e-8)


def test_hessian_closed_form():
    f = lambda p: p[0] ** 2 * p[1] + np.sin(p[1]) * np.exp(p[2])  # noqa: E731
    x, y, z = 0.7, -0.4, 0.3
    H_exact = [[2 * y, 2 * x, 0.0],
               [2 * x, -np.sin(y) * np.exp(z), np.cos(y) * np.exp(z)],
               [0.0, np.cos(y) * np.exp(z), np.sin(y) * np.exp(z)]]
    H = hessian(f, [x, y, z])
    np.testing.assert_allclose(H, H_exact, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(H, H.T)


def test_step_per_component():
    J = jacobian(F_mixed, [1.0, 2.0, 0.5], step=[1e-6, 1e-5, 1e-4])
    assert_jacobian_close(J, J_mixed([1.0, 2.0, 0.5]), "forward")  # O(h^2) with h up to 1e-4


# --- error paths --------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "match"), [
    ([1.0, np.nan], r"x is not finite at component \(1,\): nan"),
    ([np.inf, 1.0], r"x is not finite at component \(0,\): inf"),
    (["a", "b"], r"x must be a real numeric array, got dtype <U1"),
    ([1.0 + 2j, 0.0], r"x must be a real numeric array, got dtype complex128"),
    ([[1.0], [1.0, 2.0]], r"x must be a real numeric array: .*inhomogeneous"),
    ([True, False], r"x must be a real numeric array, got dtype bool"),
])
def test_invalid_x(x, match):
    with pytest.raises(InvalidValueError, match=match):
        jacobian(F_square_plus, x)


@pytest.mark.parametrize(("x", "shape"), [(1.0, r"\(\)"), (np.zeros(0), r"\(0,\)")])
def test_wrong_ndim_or_empty_x(x, shape):
    match = r"x: expected shape \(n,\) or \(\.\.\., n\) .*got " + shape
    with pytest.raises(ShapeError, match=match):
        jacobian(np.sin, x)


def test_errors_are_library_errors():
    with pytest.raises(KinematicsError):
        jacobian(F_square_plus, [np.nan, 1.0])
    with pytest.raises(ValueError):
        jacobian(F_square_plus, [1.0, 2.0], method="nope")


def test_f_not_finite_at_x():
    with pytest.raises(InvalidValueError, match=r"f\(x\) is not finite at component \(1,\): nan"):
        jacobian(lambda p: np.array([p[0], np.nan]), [1.0, 2.0])
    with pytest.raises(InvalidValueError, match=r"f\(x\) is not finite: inf"):
        jacobian(lambda p: np.inf * p[0], [1.0, 2.0])


def test_f_not_finite_near_x():
    step_to_nan = lambda p: np.array([0.0 if p[0] <= 0 else np.nan])  # noqa: E731
    with pytest.raises(InvalidValueError, match=r"f\(x \+ o h\) is not finite.*near x"):
        jacobian(step_to_nan, [0.0])
    with pytest.raises(InvalidValueError, match=r"is not finite.*near x"):
        jvp(step_to_nan, [0.0], [1.0])


@pytest.mark.parametrize("fn", [jacobian, jvp, vjp])
def test_unknown_method(fn):
    args = ([1.0, 2.0], [1.0, 2.0])
    match = r"unknown method 'richardson'; valid methods: \['central', 'forward', 'central4', " \
            r"'complex'\]"
    with pytest.raises(InvalidValueError, match=match):
        fn(F_square_plus, *args[: 1 if fn is jacobian else 2], method="richardson")


@pytest.mark.parametrize("f", [
    lambda p: np.abs(p),                       # drops the imaginary part
    lambda p: np.array([float(np.real(p[0]))]),  # returns real
])
def test_complex_step_on_non_analytic_f(f):
    with pytest.raises(InvalidValueError, match=r"keeps it complex.*f returned float64"):
        jacobian(f, [1.0, 2.0], method="complex")


def test_complex_step_on_f_that_rejects_complex():
    f = lambda p: np.array([math.sin(p[0].item())])  # noqa: E731  (python complex: TypeError)
    with pytest.raises(InvalidValueError, match=r"accepts complex input; f raised TypeError"):
        jacobian(f, [1.0], method="complex")
    with pytest.raises(InvalidValueError, match=r"accepts complex input; f raised TypeError"):
        jvp(f, [1.0], [1.0], method="complex")
    # math.sin on a numpy complex scalar casts to float: a ComplexWarning (an error under
    # pytest's filterwarnings = error) or, when warnings are ignored, a real output
    f_casting = lambda p: np.array([math.sin(p[0])])  # noqa: E731
    with pytest.raises(InvalidValueError, match=r"method='complex' needs a function that accepts"):
        jacobian(f_casting, [1.0], method="complex")


def test_f_errors_propagate_for_real_methods():
    def broken(p):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        jacobian(broken, [1.0])


@pytest.mark.parametrize(("f", "match"), [
    (lambda p: np.array(["a"]), r"f must return a real numeric array, got dtype <U1"),
    (lambda p: p + 1j, r"f must return a real numeric array, got dtype complex128"),
])
def test_f_wrong_output_dtype(f, match):
    with pytest.raises(InvalidValueError, match=match):
        jacobian(f, [1.0, 2.0])


def test_f_inconsistent_output_shape():
    f = lambda p: np.zeros(2) if p[1] == 2.0 else np.zeros(3)  # noqa: E731
    match = r"f\(x\): expected shape \(2,\) at every point, got \(3,\)"
    with pytest.raises(ShapeError, match=match):
        jacobian(f, [1.0, 2.0])
    F = lambda P: np.zeros((len(P), 2 if len(P) == 1 else 3))  # noqa: E731
    match = r"f\(x \+ h\): expected shape \(2,\), the shape of f\(x\), got \(3,\)"
    with pytest.raises(ShapeError, match=match):
        jacobian(F, [1.0, 2.0], vectorized=True)


def test_vectorized_f_wrong_batch_size():
    with pytest.raises(ShapeError, match=r"f\(X\): expected shape \(1, \.\.\.\)"):
        jacobian(lambda P: P[0], [1.0, 2.0, 3.0], vectorized=True)


@pytest.mark.parametrize(("step", "error", "match"), [
    (0.0, InvalidValueError, r"step must be positive, got 0\.0"),
    ([1e-6, -1e-6], InvalidValueError, r"step must be positive, got -1e-06"),
    ([1e-6, np.nan], InvalidValueError, r"step is not finite at component \(1,\): nan"),
    ([1e-6, 1e-6, 1e-6], ShapeError, r"step: expected shape \(\) or \(2,\), got \(3,\)"),
    (1e-30, InvalidValueError, r"step is too small to change x"),
])
def test_invalid_step(step, error, match):
    with pytest.raises(error, match=match):
        jacobian(F_square_plus, [1.0, 2.0], step=step)


def test_jvp_and_vjp_shape_errors():
    with pytest.raises(ShapeError, match=r"v: expected shape \(2,\), got \(3,\)"):
        jvp(F_square_plus, [1.0, 2.0], [1.0, 0.0, 0.0])
    with pytest.raises(ShapeError, match=r"step: expected shape \(\), got \(2,\)"):
        jvp(F_square_plus, [1.0, 2.0], [1.0, 0.0], step=[1e-6, 1e-6])
    match = r"w: expected shape \(2,\), the shape of f\(x\), got \(3,\)"
    with pytest.raises(ShapeError, match=match):
        vjp(F_square_plus, [1.0, 2.0], [1.0, 0.0, 0.0])
    with pytest.raises(InvalidValueError, match=r"w is not finite at component \(0,\): nan"):
        vjp(F_square_plus, [1.0, 2.0], [np.nan, 0.0])


def test_hessian_needs_scalar_f():
    with pytest.raises(ShapeError, match=r"f\(x\): expected shape \(\) \(a scalar\), got \(2,\)"):
        hessian(F_square_plus, [1.0, 2.0])

"""Geometric Jacobians and their family: ``J``, ``J̇``, ``J q̇``, ``Jᵀ w``, ``∂J/∂q``.

Twists are ``[v; ω]`` (linear first), wrenches ``[f; m]``. The ``reference`` argument says
which twist a Jacobian column is (DESIGN.md):

- ``"base"``: velocity of the reference point (the link origin, or ``point`` on the link)
  and angular velocity, in base axes (Pinocchio ``LOCAL_WORLD_ALIGNED``, Robotics Toolbox
  ``jacob0``, PyBullet ``calculateJacobian`` with ``localPosition``).
- ``"local"``: the same twist in the link's own axes (Pinocchio ``LOCAL``, ``jacobe``).
- ``"spatial"``: the space Jacobian, velocity of the point at the base origin moving with
  the link (Pinocchio ``WORLD``); it does not depend on ``point``.

Column ``i`` for a revolute joint with axis ``z_i`` through ``o_i`` is
``[z_i × (p − o_i); z_i]``; for a prismatic joint ``[z_i; 0]`` (``p`` the reference point, all
in base axes; written once, in :func:`kinematics._engine.columns`). Mimic joints add their
column, times the multiplier, to their leader's. Every function here evaluates the chain
once through :mod:`kinematics._engine`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _checks, _engine
from .forward import point_offset, prepare
from .robot import Chain, Robot

__all__ = ["jacobian", "fk_jacobian", "jacobian_dot", "jacobian_dot_from", "jacobian_hessian",
           "twist", "joint_torques", "cross", "REFERENCES"]

Array = NDArray[np.float64]
_F64 = np.dtype(np.float64)
Reference = Literal["base", "local", "spatial"]
REFERENCES = ("base", "local", "spatial")

_LEVI = np.zeros((9, 3))  # outer(a, b).ravel() @ _LEVI == cross(a, b)
for _i, _j, _k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
    _LEVI[3 * _i + _j, _k], _LEVI[3 * _j + _i, _k] = 1.0, -1.0

# (36, 6): outer(η, ξ).ravel() @ _BRACKET is the twist bracket
# [η, ξ] = [ω_η × v_ξ + v_η × ω_ξ; ω_η × ω_ξ] for twists [v; ω]
_BRACKET: Array = np.zeros((36, 6))
_b = _BRACKET.reshape(6, 6, 6)
_b[3:, :3, :3] = _b[:3, 3:, :3] = _b[3:, 3:, 3:] = _LEVI.reshape(3, 3, 3)


def cross(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
    """Cross product over the last axis, broadcasting (several times faster than np.cross
    on small arrays)."""
    outer = a[..., :, None] * b[..., None, :]
    return outer.reshape(outer.shape[:-2] + (9,)) @ _LEVI


def _reference(reference: object) -> str:
    return _checks.choice(reference, "reference", REFERENCES)


def _rereference(J: NDArray[Any], T: NDArray[Any], p: NDArray[Any], reference: str
                 ) -> NDArray[Any]:
    """Change a base-reference ``(..., 6, n)`` Jacobian at point ``p`` ``(..., 3)``."""
    if reference == "local":
        Rt = np.swapaxes(T[..., None, :3, :3], -1, -2)
        shape = J.shape
        return (Rt @ J.reshape(shape[:-2] + (2, 3, shape[-1]))).reshape(shape)
    if reference == "spatial":
        out = J.copy()
        out[..., :3, :] -= np.swapaxes(cross(np.swapaxes(J[..., 3:, :], -1, -2),
                                             p[..., None, :]), -1, -2)
        return out
    return J


def _point(T: NDArray[Any], point: Array | None) -> NDArray[Any]:
    """Base-frame position ``(..., 3)`` of the reference point."""
    if point is None:
        return T[..., :3, 3]
    return T[..., :3, 3] + T[..., :3, :3] @ point


def _pt(p_off: Array | None) -> Array:
    """The reference point offset as the kernels take it (``(3,)``, zeros: link origin)."""
    return _engine._ZERO3 if p_off is None else np.ascontiguousarray(p_off, np.float64)


def _single(robot: Robot, q: object, link: str | None, reference: object,
            point: object) -> tuple[Array, Array] | None:
    """The fast path of one ``float64`` configuration ``(dof,)`` without ``point``: pose and
    Jacobian from one kernel call (finiteness checked inside it), else ``None`` (then the
    full path validates, and raises the error naming the joint)."""
    if (point is None and type(q) is np.ndarray and q.dtype is _F64 and q.ndim == 1
            and _engine._ENABLED and type(reference) is str):
        code = _engine.REF_CODE.get(reference)
        dof = robot.dof
        if code is not None and q.shape[0] == dof:
            return _engine.fkj_single(robot.chain(link), q, dof, code)
    return None


def _evaluate(robot: Robot, q: ArrayLike, link: str | None, reference: object,
              point: ArrayLike | None) -> tuple[NDArray[Any], NDArray[Any]]:
    """Pose of the link (translated to ``point``) and its ``(..., 6, dof)`` Jacobian."""
    chain, qa = prepare(robot, q, link)
    ref = _reference(reference)
    p_off = point_offset(point)
    if _engine.compiled(qa):
        batch = qa.shape[:-1]
        N = math.prod(batch)
        T = _engine.allocate((N, 4, 4), "pose output")
        Jo = _engine.allocate((N, 6, robot.dof), "Jacobian output")
        _engine.run_q("fkj_batch", chain, [_engine.flat(qa, batch, robot.dof)],
                      (_pt(p_off), _engine.REF_CODE[ref]), [T, Jo])
        return T.reshape(batch + (4, 4)), Jo.reshape(batch + (6, robot.dof))
    T, J = _engine.pose_jacobian(chain, _engine.chain_theta(chain, qa))
    if p_off is not None:
        r = T[..., :3, :3] @ p_off                        # link origin → point, base axes
        J = J.copy() if not J.flags.writeable else J
        J[..., :3, :] += np.swapaxes(cross(np.swapaxes(J[..., 3:, :], -1, -2),
                                           r[..., None, :]), -1, -2)
        T = T.copy() if not T.flags.writeable else T
        T[..., :3, 3] += r
    return T, _engine.to_dof(robot, chain, _rereference(J, T, T[..., :3, 3], ref))


def jacobian(robot: Robot, q: ArrayLike, link: str | None = None,
             reference: Reference = "base", *, point: ArrayLike | None = None) -> Array:
    """Geometric Jacobian of a link (or of a point on it).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m] (complex values evaluated exactly, see
            :func:`~kinematics.fk`).
        link: A name from ``robot.links``; ``None`` (default) is the tool frame.
        reference: ``"base"`` (default), ``"local"`` or ``"spatial"`` (module docstring).
        point: ``(3,)`` offset [m] in the link's frame of the point whose velocity the
            linear rows give (default: the link origin).

    Returns:
        ``(..., 6, dof)``: rows ``[vx vy vz ωx ωy ωz]`` per unit joint velocity
        ([m/rad], [1]; prismatic columns [1], [1/m]). Columns follow ``robot.joint_names``;
        columns of joints that do not move the link are zero.

    Raises:
        ShapeError: ``q``'s last axis is not ``dof``; ``point`` not ``(3,)``.
        InvalidValueError: ``q`` not finite, an unknown ``reference``, ``link=None`` on a
            robot with several tips.
        UnknownLinkError: ``link`` is not in ``robot.links``.

    >>> import kinematics as kin
    >>> arm = kin.load_robot("planar2r")          # l1 = 1.0 m, l2 = 0.8 m
    >>> J = kin.jacobian(arm, [0.0, np.pi / 2])
    >>> np.round(J[:2], 12) + 0.0                 # [-l1 s1 - l2 s12, -l2 s12; ...]
    array([[-0.8, -0.8],
           [ 1. ,  0. ]])
    >>> round(float(np.linalg.det(J[:2])), 12)    # l1 l2 sin q2
    0.8
    """
    r = _single(robot, q, link, reference, point)
    return (r if r is not None else _evaluate(robot, q, link, reference, point))[1]


def fk_jacobian(robot: Robot, q: ArrayLike, link: str | None = None,
                reference: Reference = "base", *,
                point: ArrayLike | None = None) -> tuple[Array, Array]:
    """Pose and Jacobian of a link in one pass (what a controller needs each cycle).

    Args:
        robot, q, link, reference, point: As :func:`jacobian`.

    Returns:
        ``(T, J)``: ``(..., 4, 4)`` as :func:`~kinematics.fk` and ``(..., 6, dof)`` as
        :func:`jacobian`, from the same evaluation.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    r = _single(robot, q, link, reference, point)
    return r if r is not None else _evaluate(robot, q, link, reference, point)


def _compiled_velocity(name: str, robot: Robot, chain: Chain, qa: NDArray[Any],
                       xa: NDArray[Any], ref: str, p_off: Array | None,
                       tail: tuple[int, ...]) -> Array:
    """Run the compiled q-level kernel ``name`` on broadcast ``(q, x)``; output
    ``batch + tail``."""
    batch = qa.shape[:-1]
    out = _engine.allocate((math.prod(batch),) + tail, f"{name.split('_')[0]} output")
    _engine.run_q(name, chain, [_engine.flat(qa, batch, qa.shape[-1]),
                                _engine.flat(xa, batch, xa.shape[-1])],
                  (_pt(p_off), _engine.REF_CODE[ref]), [out])
    return out.reshape(batch + tail)


def _numpy_chunks(body: Callable[[NDArray[Any], NDArray[Any]], NDArray[Any]],
                  qa: NDArray[Any], xa: NDArray[Any], tail: tuple[int, ...]) -> NDArray[Any]:
    """``body(q, x)`` over chunks of :data:`kinematics._engine.CHUNK` configurations, so the
    numpy path's temporaries stay bounded whatever the batch."""
    batch = qa.shape[:-1]
    N = math.prod(batch)
    if N <= _engine.CHUNK:
        return body(qa, xa)
    Q, X = qa.reshape(-1, qa.shape[-1]), xa.reshape(-1, xa.shape[-1])
    dtype = np.result_type(Q, X)
    out = (_engine.allocate((N,) + tail, "output") if dtype == _F64
           else np.empty((N,) + tail, dtype=dtype))
    for a in range(0, N, _engine.CHUNK):
        b = min(a + _engine.CHUNK, N)
        out[a:b] = body(Q[a:b], X[a:b])
    return out.reshape(batch + tail)


def _with_velocity(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None,
                   reference: object, point: ArrayLike | None, name: str = "qd",
                   size: int | None = None, what: str = "joint velocities"
                   ) -> tuple[Chain, NDArray[Any], NDArray[Any], str, Array | None]:
    """Validate ``(q, second argument, link, reference, point)``; the batch dims of ``q``
    and the second argument broadcast together."""
    chain, qa = prepare(robot, q, link)
    ref = _reference(reference)
    n = robot.dof if size is None else size
    xa = _checks.vector(qd, name, n, what, complex_ok=True)
    _checks.bounded(xa, name)
    if np.iscomplexobj(xa) and not np.iscomplexobj(qa):
        qa = qa.astype(np.complex128)  # complex-step through the velocity: one dtype
    qa, xa = _checks.broadcast("q", qa, name, xa)
    return chain, qa, xa, ref, point_offset(point)


def jacobian_dot(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None = None,
                 reference: Reference = "base", *, point: ArrayLike | None = None) -> Array:
    """Time derivative ``dJ/dt`` of :func:`jacobian` along the joint velocity ``qd``.

    Exact (analytic): ``ż_i = ω_{i−1} × z_i``, ``ȯ_i`` from the joints before ``i``.
    Acceleration-level control uses ``a = J q̈ + J̇ q̇``; for ``reference="base"`` ``a`` is
    ``[p̈; ω̇]`` of the reference point.

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        qd: ``(..., dof)`` joint velocities [rad/s or m/s]; batch dims broadcast with ``q``.
        link, reference, point: As :func:`jacobian`.

    Returns:
        ``(..., 6, dof)`` [per second].

    Raises:
        ShapeError: Bad shapes, or batch dims of ``q`` and ``qd`` that do not broadcast.
        InvalidValueError, UnknownLinkError: As :func:`jacobian`.
    """
    chain, qa, qda, ref, p_off = _with_velocity(robot, q, qd, link, reference, point)
    if _engine.compiled(qa) and _engine.compiled(qda):
        return _compiled_velocity("jdot_batch", robot, chain, qa, qda, ref, p_off,
                                  (6, robot.dof))
    return _numpy_chunks(lambda a, b: _jacobian_dot_numpy(robot, chain, a, b, ref, p_off),
                         qa, qda, (6, robot.dof))


def _jacobian_dot_numpy(robot: Robot, chain: Chain, qa: NDArray[Any], qda: NDArray[Any],
                        ref: str, p_off: Array | None) -> NDArray[Any]:
    """:func:`jacobian_dot` on the numpy path (the oracle of the compiled kernel)."""
    n = chain.n
    F = _engine.frames(chain, _engine.chain_theta(chain, qa))
    thd = _engine.theta_dot(chain, qda)[..., None]  # (..., n, 1)
    rev = chain.revolute[:, None]
    z, o = F.z, F.o
    pt = _point(F.T, p_off)
    p = pt[..., None, :]
    Jt = np.swapaxes(_engine.columns(chain.revolute, z, o, pt), -1, -2)  # (..., n, 6)
    # Exclusive prefix sums over joints: angular velocity and origin velocity at joint i.
    w_j = np.where(rev, thd * z, 0.0)
    w_cum = np.cumsum(w_j, axis=-2)
    w_before = w_cum - w_j
    m_j = np.where(rev, thd * cross(z, o), 0.0)
    s_j = np.where(rev, 0.0, thd * z)
    o_dot = cross(w_before, o) - (np.cumsum(m_j, axis=-2) - m_j) + (np.cumsum(s_j, axis=-2) - s_j)
    z_dot = cross(w_before, z)
    p_dot = np.sum(Jt[..., :3] * thd, axis=-2, keepdims=True)  # (..., 1, 3)
    Jdt = np.empty_like(Jt)
    Jdt[..., :3] = np.where(rev, cross(z_dot, p - o) + cross(z, p_dot - o_dot), z_dot)
    Jdt[..., 3:] = np.where(rev, z_dot, 0.0)
    omega = w_cum[..., -1:, :]  # (..., 1, 3) angular velocity of the link
    if ref == "local":
        # J_l = Rᵀ J  ⇒  J̇_l = Rᵀ (J̇ − [ω]× J)
        R = F.T[..., :3, :3]
        A = Jdt.copy()
        A[..., :3] -= cross(omega, Jt[..., :3])
        A[..., 3:] -= cross(omega, Jt[..., 3:])
        shape = A.shape
        Jdt = (A.reshape(shape[:-2] + (2 * n, 3)) @ R).reshape(shape)
    elif ref == "spatial":
        # J_s: v_s = v − ω_col × p  ⇒  v̇_s = v̇ − ω̇_col × p − ω_col × ṗ
        Jdt[..., :3] -= cross(Jdt[..., 3:], p) + cross(Jt[..., 3:], p_dot)
    return _engine.to_dof(robot, chain, np.swapaxes(Jdt, -1, -2))


def jacobian_dot_from(J: NDArray[Any], qd: NDArray[Any]) -> NDArray[Any]:
    """``J̇`` of a base-reference geometric Jacobian of a simple chain, from ``J`` itself.

    The columns ``ξ_i = [v_i; ω_i]``, read as twists about the (momentarily fixed) tool
    point ``p``, obey ``∂ξ_i/∂q_j = [ξ_j, ξ_i]`` for ``j < i`` (product of exponentials), so
    ``dξ_i/dt = [η_i, ξ_i]`` with ``η_i = Σ_{j<i} q̇_j ξ_j``; the motion ``ṗ = J_v q̇`` of the
    reference point adds ``ω_i × ṗ`` to the linear rows. Equals :func:`jacobian_dot` (tested
    on every robot) at a fraction of its cost when ``J`` is at hand (the singularity
    monitor). Not for chains with mimic joints, whose columns are sums of joint twists.

    Args:
        J: ``(..., 6, n)`` base-reference Jacobian.
        qd: ``(..., n)`` joint velocities.

    Returns:
        ``(..., 6, n)``.
    """
    X = np.swapaxes(J, -1, -2)  # (..., n, 6)
    qx = qd[..., :, None] * X
    E = np.cumsum(qx, axis=-2)
    E -= qx  # exclusive prefix sums η_i
    outer = E[..., :, :, None] * X[..., :, None, :]
    D = outer.reshape(outer.shape[:-2] + (36,)) @ _BRACKET  # (..., n, 6)
    pdot = (J[..., :3, :] @ qd[..., :, None])[..., 0]
    D[..., :3] += cross(X[..., 3:], pdot[..., None, :])
    return np.swapaxes(D, -1, -2)


def jacobian_hessian(robot: Robot, q: ArrayLike, J: Array | None = None,
                     link: str | None = None) -> Array:
    """Derivative of the base Jacobian with respect to each joint, ``H[i] = ∂J/∂q_i``.

    All-revolute chains without mimic joints use the closed form (Haviland & Corke, "A
    systematic approach to computing the manipulator Jacobian and Hessian using the
    elementary transform sequence", 2020) from ``J`` alone:
    ``∂J_ω,j/∂q_i = J_ω,i × J_ω,j`` (``i < j``, else 0) and
    ``∂J_v,j/∂q_i = J_ω,min(i,j) × J_v,max(i,j)``. Other chains use
    ``∂J/∂q_i = J̇(q, e_i)`` (:func:`jacobian_dot`, exact).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        J: ``(..., 6, dof)`` base Jacobian at ``q`` if already computed (closed form only;
            same batch shape as ``q``).
        link: As :func:`jacobian`.

    Returns:
        ``(..., dof, 6, dof)``: ``H[..., i, :, j] = ∂J[..., :, j]/∂q_i`` [m/rad², 1/rad,
        ...]; the leading dimensions are ``q``'s.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian`; ``J`` not of
            ``q``'s batch shape.
    """
    from .exceptions import ShapeError

    chain, qa = prepare(robot, q, link)
    dof = robot.dof
    batch = qa.shape[:-1]
    if J is not None:
        J = _checks.array(J, "J", f"a (..., 6, {dof}) base Jacobian at q", complex_ok=True)
        if J.shape != (*batch, 6, dof):
            raise ShapeError("J", f"{(*batch, 6, dof)} base Jacobian at q", J.shape)
        _checks.finite(J, "J")
    N = math.prod(batch)
    flat = qa.reshape(N, dof)
    if not (chain.simple and not chain.prismatic_any and chain.n == dof):
        eye = np.broadcast_to(np.eye(dof), (N, dof, dof))
        H = jacobian_dot(robot, np.broadcast_to(flat[:, None, :], (N, dof, dof)), eye, link)
        return H.reshape(*batch, dof, 6, dof)
    Jf = fk_jacobian(robot, flat, link)[1] if J is None else J.reshape(N, 6, dof)
    Jv, Jw = np.swapaxes(Jf[:, :3], 1, 2), np.swapaxes(Jf[:, 3:], 1, 2)   # (N, dof, 3)
    ww = cross(Jw[:, :, None, :], Jw[:, None, :, :])        # [n, i, j] = Jω_i × Jω_j
    wv = cross(Jw[:, :, None, :], Jv[:, None, :, :])        # [n, i, j] = Jω_i × Jv_j
    upper = np.triu(np.ones((dof, dof), dtype=bool))        # i <= j
    H = np.empty((N, dof, 6, dof), dtype=np.result_type(Jf))
    H[:, :, :3, :] = np.where(upper[..., None], wv, np.swapaxes(wv, 1, 2)).transpose(0, 1, 3, 2)
    H[:, :, 3:, :] = np.where(np.triu(upper, 1)[..., None], ww, 0.0).transpose(0, 1, 3, 2)
    return H.reshape(*batch, dof, 6, dof)


def twist(robot: Robot, q: ArrayLike, qd: ArrayLike, link: str | None = None,
          reference: Reference = "base", *, point: ArrayLike | None = None) -> Array:
    """``J(q) q̇`` by a forward pass, without forming ``J``.

    ``ω = Σ θ̇_i z_i`` (revolute), ``v = ω × p − Σ θ̇_i z_i × o_i + Σ θ̇_j z_j`` (prismatic).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        qd: ``(..., dof)`` joint velocities [rad/s or m/s]; batch dims broadcast with ``q``.
        link, reference, point: As :func:`jacobian`.

    Returns:
        ``(..., 6)`` twist ``[v [m/s]; ω [rad/s]]``.

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian_dot`.
    """
    chain, qa, qda, ref, p_off = _with_velocity(robot, q, qd, link, reference, point)
    if _engine.compiled(qa) and _engine.compiled(qda):
        return _compiled_velocity("twist_batch", robot, chain, qa, qda, ref, p_off, (6,))
    return _numpy_chunks(lambda a, b: _twist_numpy(chain, a, b, ref, p_off), qa, qda, (6,))


def _twist_numpy(chain: Chain, qa: NDArray[Any], qda: NDArray[Any], ref: str,
                 p_off: Array | None) -> NDArray[Any]:
    """:func:`twist` on the numpy path (the oracle of the compiled kernel)."""
    F = _engine.frames(chain, _engine.chain_theta(chain, qa))
    thd = _engine.theta_dot(chain, qda)[..., None]
    rev = chain.revolute[:, None]
    z, o, p = F.z, F.o, _point(F.T, p_off)
    tz = thd * z
    if chain.prismatic_any:
        w = np.sum(np.where(rev, tz, 0.0), axis=-2)
        v = cross(w, p) - np.sum(np.where(rev, cross(tz, o), 0.0), axis=-2) \
            + np.sum(np.where(rev, 0.0, tz), axis=-2)
    else:
        w = np.sum(tz, axis=-2)
        v = cross(w, p) - np.sum(cross(tz, o), axis=-2)
    if ref == "local":
        R = F.T[..., :3, :3]
        v = (v[..., None, :] @ R)[..., 0, :]
        w = (w[..., None, :] @ R)[..., 0, :]
    elif ref == "spatial":
        v = v - cross(w, p)
    return np.concatenate([v, w], axis=-1)


def joint_torques(robot: Robot, q: ArrayLike, wrench: ArrayLike, link: str | None = None,
                  reference: Reference = "base", *, point: ArrayLike | None = None) -> Array:
    """Joint torques ``Jᵀ w`` balancing a wrench at a link (statics), without forming ``J``.

    ``τ_i = z_i · ((p − o_i) × f + m)`` (revolute), ``z_i · f`` (prismatic).

    Args:
        robot: The model.
        q: ``(..., dof)`` joint values [rad or m].
        wrench: ``(..., 6)`` ``[f [N]; m [N·m]]``: for ``"base"`` force at the reference
            point and moment about it, in base axes; ``"local"`` the same in link axes;
            ``"spatial"`` moment about the base origin. Batch dims broadcast with ``q``.
        link, reference, point: As :func:`jacobian`.

    Returns:
        ``(..., dof)`` [N·m or N].

    Raises:
        ShapeError, InvalidValueError, UnknownLinkError: As :func:`jacobian_dot`.
    """
    chain, qa, wa, ref, p_off = _with_velocity(
        robot, q, wrench, link, reference, point, name="wrench", size=6,
        what="wrench [fx fy fz mx my mz]")
    if _engine.compiled(qa) and _engine.compiled(wa):
        return _compiled_velocity("torque_batch", robot, chain, qa, wa, ref, p_off,
                                  (robot.dof,))
    return _numpy_chunks(lambda a, b: _joint_torques_numpy(robot, chain, a, b, ref, p_off),
                         qa, wa, (robot.dof,))


def _joint_torques_numpy(robot: Robot, chain: Chain, qa: NDArray[Any], wa: NDArray[Any],
                         ref: str, p_off: Array | None) -> NDArray[Any]:
    """:func:`joint_torques` on the numpy path (the oracle of the compiled kernel)."""
    F = _engine.frames(chain, _engine.chain_theta(chain, qa))
    f, m = wa[..., :3], wa[..., 3:]
    p = _point(F.T, p_off)
    if ref == "local":
        R = F.T[..., :3, :3]
        f, m = (R @ f[..., None])[..., 0], (R @ m[..., None])[..., 0]
    elif ref == "spatial":
        m = m - cross(p, f)
    f, m, p = f[..., None, :], m[..., None, :], p[..., None, :]
    z, o = F.z, F.o
    tau = np.sum(z * (cross(p - o, f) + m), axis=-1)
    if chain.prismatic_any:
        tau = np.where(chain.revolute, tau, np.sum(z * f, axis=-1))
    return _engine.to_dof(robot, chain, tau[..., None, :])[..., 0, :]

"""Oracle of the singularity monitor's safe command (:func:`kinematics._kernels
.safe_command`), from the definitions:

- the singular values' gradients by central finite differences of LAPACK's singular values
  of the weighted rows (no ``J̇``);
- the quadratic programme by enumerating working sets and keeping the one whose KKT
  conditions hold (primal feasibility, non-negative multipliers): exact for a strictly
  convex problem, and no active-set iteration shared with the kernel.
"""

from __future__ import annotations

import itertools

import numpy as np

import kinematics as kin

QP_TIE = 1e-8


def weighted_rows(monitor: kin.SingularityMonitor, J: np.ndarray) -> np.ndarray:
    """``diag(w) J_sel`` of the monitor's metric (``w`` from its parameters)."""
    w = np.asarray(monitor.metric_parameters)[1:]
    sel = np.flatnonzero(w)
    return J[sel] * w[sel, None]


def sv_gradients(monitor: kin.SingularityMonitor, q: np.ndarray, h: float = 1e-6
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(values (a,), gradients (a, dof))`` of the monitored singular values below
    ``warn``, ascending, by central differences of ``np.linalg.svd``."""
    robot = monitor.robot

    def sv(x: np.ndarray) -> np.ndarray:
        J = kin.jacobian(robot, x, monitor.link)
        return np.sort(np.linalg.svd(weighted_rows(monitor, J), compute_uv=False))

    s = sv(q)
    active = s < monitor.warn
    grads = np.empty((int(active.sum()), robot.dof))
    for c in range(robot.dof):
        e = np.zeros(robot.dof)
        e[c] = h
        grads[:, c] = ((sv(q + e) - sv(q - e)) / (2 * h))[active]
    return s[active], grads


def task_objective(A: np.ndarray, y: np.ndarray, damping: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``H, h`` of ``‖A x − y‖² + xᵀ (D + μ I) x`` (halved), constant or adaptive damping
    (modes 0 and 1), ``μ = max(1e-8 σ²_max, λ²_max)``."""
    mode, eps2, lmax2, lam2 = damping
    s2 = np.linalg.svd(A, compute_uv=False) ** 2
    if mode == 0:
        d = lam2
    else:
        smin = s2.min()
        d = (1 - smin / eps2) * lmax2 if smin < eps2 else 0.0
    mu = max(QP_TIE * max(s2.max(), 1e-300), lmax2)
    n = A.shape[1]
    return A.T @ A + (d + mu) * np.eye(n), A.T @ y


def qp(H: np.ndarray, h: np.ndarray, C: np.ndarray, d: np.ndarray, tol: float = 1e-9
       ) -> np.ndarray:
    """``argmin ½ xᵀ H x − hᵀ x`` s.t. ``C x ≥ d`` by working-set enumeration (KKT)."""
    n = H.shape[0]
    m = C.shape[0]
    best = None
    for k in range(min(m, n) + 1):
        for S in itertools.combinations(range(m), k):
            Cs = C[list(S)]
            if k and np.linalg.matrix_rank(Cs) < k:
                continue          # dependent rows (both bounds of a joint): no unique KKT
            K = np.block([[H, -Cs.T], [Cs, np.zeros((k, k))]])
            rhs = np.concatenate([h, d[list(S)]])
            try:
                sol = np.linalg.solve(K, rhs)
            except np.linalg.LinAlgError:
                continue
            x, lam = sol[:n], sol[n:]
            scale = 1.0 + np.abs(x).max()
            if (C @ x >= d - tol * scale).all() and (lam >= -tol * (1 + np.abs(h).max())).all():
                if best is None:
                    best = x
    if best is None:
        raise AssertionError("no KKT point found")
    return best


def constraints(monitor: kin.SingularityMonitor, q: np.ndarray, qd: np.ndarray,
                scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The monitor's rows ``C x ≥ d`` (unit rows) in the band: ``g_aᵀ x ≥ scale ·
    min(g_aᵀ q̇, 0)``."""
    _, G = sv_gradients(monitor, q)
    norms = np.linalg.norm(G, axis=1)
    keep = norms > 0
    G = G[keep] / norms[keep, None]
    gq = G @ qd
    return G, np.where(gq < 0, scale * gq, 0.0)


def safe_command(monitor: kin.SingularityMonitor, q: np.ndarray, qd: np.ndarray,
                 scale: float, A: np.ndarray, y: np.ndarray, damping: np.ndarray,
                 lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The safe command in the band (``scale > 0``), before the curvature halving."""
    C, d = constraints(monitor, q, qd, scale)
    rows, rhs = [C], [d]
    n = len(qd)
    for j in range(n):
        if np.isfinite(lower[j]):
            rows.append(np.eye(n)[j][None])
            rhs.append(np.array([min(lower[j], 0.0)]))
        if np.isfinite(upper[j]):
            rows.append(-np.eye(n)[j][None])
            rhs.append(np.array([-max(upper[j], 0.0)]))
    H, h = task_objective(A, y, damping)
    return qp(H, h, np.concatenate(rows), np.concatenate(rhs))

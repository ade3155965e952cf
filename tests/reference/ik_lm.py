"""Oracle of :func:`kinematics.ik.solve`: the same Levenberg–Marquardt rules (module
docstring of :mod:`kinematics.ik.solver`), written independently in numpy, with every
attempt of every target as one row of a batch iterated in lockstep (the compiled kernels run
each attempt whole and simulate the lockstep clock of the restarts; both must end on the same
attempt with the same evaluation counts). Steps are solved by LU (``numpy.linalg.solve``),
the kinematics come from :func:`kinematics.fk_jacobian`, the log map is written out here.

Several links: ``targets`` a mapping ``{link: (N, 4, 4)}``, rows of the tasks stacked.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np

import kinematics as kin
from kinematics.ik.solver import default_seed

MU_MIN = 0.1
WAVE = 8
NEAR_PI = math.pi - 1e-6


def pose_errors(T: np.ndarray, T_t: np.ndarray) -> np.ndarray:
    """``(R, 6)`` errors ``[p_t − p; log(R_t Rᵀ)]`` (base axes) of poses ``T`` ``(R, 4, 4)``
    against targets ``T_t`` ``(R, 4, 4)``; near π the axis from the largest column of
    ``(R + Rᵀ)/2 + I``."""
    Re = T_t[:, :3, :3] @ np.swapaxes(T[:, :3, :3], 1, 2)
    e = np.empty((T.shape[0], 6))
    e[:, :3] = T_t[:, :3, 3] - T[:, :3, 3]
    v = np.stack([Re[:, 2, 1] - Re[:, 1, 2], Re[:, 0, 2] - Re[:, 2, 0],
                  Re[:, 1, 0] - Re[:, 0, 1]], axis=1)
    s = np.sqrt((v * v).sum(axis=1))
    theta = np.arctan2(s, np.trace(Re, axis1=1, axis2=2) - 1.0)
    factor = np.where(s > 0.0, theta / np.where(s > 0.0, s, 1.0), 0.5)
    e[:, 3:] = v * factor[:, None]
    for i in np.flatnonzero(theta > NEAR_PI):
        B = 0.5 * (Re[i] + Re[i].T) + np.eye(3)
        k = int(np.argmax(np.diag(B)))
        a = B[:, k] / np.linalg.norm(B[:, k])
        e[i, 3:] = a * (theta[i] if a @ v[i] >= 0.0 else -theta[i])
    return e


class Problem:
    """The tasks (links, targets, weights) and settings of one call."""

    def __init__(self, robot: kin.Robot, targets: Any, link: Any, mask: Any,
                 opts: dict[str, Any]) -> None:
        if isinstance(targets, Mapping):
            self.links = list(targets)
            self.Tt = np.stack([np.asarray(targets[k], float).reshape(-1, 4, 4)
                                for k in self.links], axis=1)
            masks = mask if isinstance(mask, Mapping) else dict.fromkeys(self.links, mask)
            self.W = np.array([np.ones(6) if masks.get(k) is None
                               else np.broadcast_to(np.asarray(masks[k], float), 6)
                               for k in self.links])
        else:
            self.links = [link]
            self.Tt = np.asarray(targets, float).reshape(-1, 1, 4, 4)
            self.W = np.ones((1, 6)) if mask is None else np.broadcast_to(
                np.asarray(mask, float), 6)[None].copy()
        self.robot, self.K = robot, len(self.links)
        self.lo, self.hi = robot.joint_limits[:, 0], robot.joint_limits[:, 1]
        self.cont = np.array([t == "continuous" for t in robot.joint_types])
        self.reach = np.array([reach(robot, k) for k in self.links])
        self.__dict__.update(opts)

    def evaluate(self, q: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Errors ``(R, K, 6)`` and the weighted stacked Jacobian ``(R, 6K, dof)`` of rows
        ``q`` ``(R, dof)`` against the targets of targets ``t`` ``(R,)``."""
        es, Js = [], []
        for k, link in enumerate(self.links):
            T, J = kin.fk_jacobian(self.robot, q, link=link)
            es.append(pose_errors(T, self.Tt[t, k]))
            Js.append(J * self.W[k][:, None])
        return np.stack(es, axis=1), np.concatenate(Js, axis=1)

    def norms(self, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Largest kept position and rotation norms over the tasks ``(R,)``."""
        kp, kr = self.W[:, :3] > 0, self.W[:, 3:] > 0
        pos = np.sqrt((np.where(kp, e[..., :3], 0.0) ** 2).sum(axis=-1)).max(axis=-1)
        rot = np.sqrt((np.where(kr, e[..., 3:], 0.0) ** 2).sum(axis=-1)).max(axis=-1)
        return pos, rot

    def converged(self, e: np.ndarray) -> np.ndarray:
        pos, rot = self.norms(e)
        return (pos <= self.tol_pos) & (rot <= self.tol_rot)

    def hopeless(self) -> np.ndarray:
        """``(N,)`` targets with a task whose kept position is beyond its link's reach."""
        kp = self.W[:, :3] > 0
        d = np.sqrt((np.where(kp, self.Tt[:, :, :3, 3], 0.0) ** 2).sum(axis=-1))
        return (kp.any(axis=1) & (d > self.reach * (1 + 1e-9) + self.tol_pos)).any(axis=1)

    def step(self, q: np.ndarray, J: np.ndarray, r: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """Candidates: LM steps, joints pushed past a limit frozen and re-solved, clipped."""
        def solve(Jb: np.ndarray) -> np.ndarray:
            A = np.swapaxes(Jb, 1, 2) @ Jb + lam[:, None, None] * np.eye(q.shape[1])
            return np.linalg.solve(A, (np.swapaxes(Jb, 1, 2) @ r[:, :, None]))[:, :, 0]
        dq = solve(J)
        blocked = ((q <= self.lo) & (dq < 0)) | ((q >= self.hi) & (dq > 0))
        rb = blocked.any(axis=1)
        if rb.any():
            dq[rb] = solve(J * ~blocked[:, None, :])[rb]
        return np.clip(q + dq, self.lo, self.hi)


def reach(robot: kin.Robot, link: Any) -> float:
    """Upper bound of ‖p_link‖: the chain's offsets plus the prismatic joints' travel."""
    chain, lim = robot.chain(link), robot.joint_limits
    travel = sum(abs(chain.multiplier[k]) * np.abs(lim[chain.q_index[k]]).max()
                 + abs(chain.offset[k]) for k in np.flatnonzero(~chain.revolute))
    return float(chain.reach + travel)


def distance(P: Problem, q: np.ndarray, q0: np.ndarray) -> np.ndarray:
    d = q - q0
    d = np.where(P.cont, np.pi - np.mod(np.pi - d, 2 * np.pi), d)
    return np.sqrt((d * d).sum(axis=-1))


def solve(robot: kin.Robot, targets: Any, q0: Any = None, *, link: Any = None,
          mask: Any = None, seed: int = 0, tol_pos: float = 1e-6, tol_rot: float = 1e-6,
          max_iter: int = 60, restarts: int = 50, patience: int = 6,
          damping_bias: float = 1e-7, nearest: bool = False) -> SimpleNamespace:
    """The oracle's answer ``(q, success, pos_error, rot_error, iterations)`` for ``N``
    targets (flat batch)."""
    P = Problem(robot, targets, link, mask, dict(
        tol_pos=tol_pos, tol_rot=tol_rot, max_iter=max_iter, patience=patience,
        bias=damping_bias, nearest=nearest))
    N, dof = P.Tt.shape[0], robot.dof
    mid = default_seed(robot)
    start = np.clip(np.broadcast_to(mid if q0 is None else np.asarray(q0, float), (N, dof)),
                    P.lo, P.hi)
    seeds = robot.random_q(restarts, seed=seed, margin=0.02)
    best = SimpleNamespace(q=start.copy(), e=np.zeros((N, P.K, 6)), E=np.full(N, np.inf),
                           found=np.zeros(N, bool), d=np.full(N, np.inf),
                           rank=np.full(N, -2), iters=np.zeros(N, dtype=np.int64))
    rows = spawn(np.arange(N), np.full(N, -1), start.copy(), dof, P.K)
    run(P, rows, best, start, seeds, P.hopeless())
    q = np.where(P.cont, np.pi - np.mod(np.pi - best.q, 2 * np.pi), best.q)
    e = best.e.copy()
    moved = (q != best.q).any(axis=1)
    if moved.any():
        e[moved] = P.evaluate(q[moved], np.flatnonzero(moved))[0]
    pos, rot = P.norms(e)
    return SimpleNamespace(q=q, success=(pos <= tol_pos) & (rot <= tol_rot), pos_error=pos,
                           rot_error=rot, iterations=best.iters)


def spawn(t: np.ndarray, seed: np.ndarray, q: np.ndarray, dof: int, K: int) -> dict[str, Any]:
    R = t.size
    return dict(t=t, seed=seed, q=q, qc=q.copy(), e=np.zeros((R, K, 6)),
                r=np.zeros((R, 6 * K)), E=np.full(R, np.inf), J=np.zeros((R, 6 * K, dof)),
                mu=np.full(R, MU_MIN), stall=np.zeros(R, dtype=np.int64),
                n=np.zeros(R, dtype=np.int64), fresh=np.ones(R, bool))


def record(P: Problem, best: SimpleNamespace, rows: dict[str, Any], idx: np.ndarray,
           conv: np.ndarray, q0: np.ndarray) -> np.ndarray:
    """Record the ended rows ``idx`` (in seed order per target); returns the targets a
    converged row decides (without nearest)."""
    decided = []
    for i in idx[np.lexsort((rows["seed"][idx], rows["t"][idx]))]:
        b, s = rows["t"][i], rows["seed"][i]
        if conv[i]:
            if P.nearest:
                d = distance(P, rows["q"][i], q0[b])
                if best.found[b] and not (d < best.d[b] or (d == best.d[b] and s < best.rank[b])):
                    continue
                best.d[b], best.rank[b] = d, s
            elif best.found[b]:
                continue
            else:
                decided.append(b)
            best.found[b] = True
        elif best.found[b] or not rows["E"][i] < best.E[b]:
            continue
        else:
            best.E[b] = rows["E"][i]
        best.q[b], best.e[b] = rows["q"][i], rows["e"][i]
    return np.array(decided, dtype=np.int64)


def run(P: Problem, rows: dict[str, Any], best: SimpleNamespace, q0: np.ndarray,
        seeds: np.ndarray, hopeless: np.ndarray) -> None:
    """Iterate every row in lockstep until every target is done (``best`` in place)."""
    N, R = best.q.shape[0], seeds.shape[0]
    done, next_seed = np.zeros(N, bool), np.zeros(N, dtype=np.int64)
    while rows["t"].size:
        ec, Jc = P.evaluate(rows["qc"], rows["t"])
        rc = (ec * P.W).reshape(ec.shape[0], -1)
        Ec = 0.5 * (rc * rc).sum(axis=1)
        np.add.at(best.iters, rows["t"], 1)
        rows["n"] += 1
        fresh = rows["fresh"]
        accept = fresh | (Ec < rows["E"])
        rows["stall"] = np.where(fresh | (Ec < 0.99 * rows["E"]), 0, rows["stall"] + 1)
        rows["mu"] = np.where(fresh, MU_MIN, np.where(
            accept, np.maximum(rows["mu"] * 0.5, MU_MIN), rows["mu"] * 4.0))
        for key, new in (("q", rows["qc"]), ("e", ec), ("r", rc), ("E", Ec), ("J", Jc)):
            rows[key][accept] = new[accept]
        rows["fresh"] = np.zeros(rows["t"].size, bool)
        conv = P.converged(rows["e"])
        ended = conv | (rows["stall"] >= P.patience) | (rows["n"] >= P.max_iter)
        done[record(P, best, rows, np.flatnonzero(ended), conv, q0)] = True
        done[rows["t"][ended & hopeless[rows["t"]]]] = True   # no restart beyond reach
        t_end = np.unique(rows["t"][ended & ~done[rows["t"]]])
        rows = {k: v[~ended & ~done[rows["t"]]] for k, v in rows.items()}
        if t_end.size:
            live = np.bincount(rows["t"], minlength=N)[t_end]
            count = np.minimum(WAVE - live, R - next_seed[t_end])
            done[t_end[(live == 0) & (count <= 0)]] = True
            go = count > 0
            if go.any():
                t = np.repeat(t_end[go], count[go])
                s = next_seed[t] + np.arange(t.size) - np.repeat(
                    np.cumsum(count[go]) - count[go], count[go])
                next_seed[t_end[go]] += count[go]
                new = spawn(t, s, seeds[s].copy(), q0.shape[1], P.K)
                rows = {k: np.concatenate([rows[k], new[k]]) for k in rows}
        step = np.flatnonzero(~rows["fresh"])
        if step.size:
            lam = rows["mu"][step] * (rows["E"][step] + P.bias)
            rows["qc"][step] = P.step(rows["q"][step], rows["J"][step],
                                      rows["r"][step], lam)

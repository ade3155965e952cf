#!/usr/bin/env python
"""Speed of forward kinematics + Jacobian: ``kinematics`` vs Pinocchio, Robotics Toolbox,
PyBullet and ikpy, on the same URDF (pybullet_data's ``franka_panda/panda.urdf``, base
``panda_link0``, tip ``panda_hand``, the 7 arm joints; finger joints held at 0).

What is timed, per configuration: the pose of ``panda_hand`` in the base frame and its 6×7
base-frame geometric Jacobian (rows ``[v; ω]``, velocity of the link origin; Pinocchio
``LOCAL_WORLD_ALIGNED``, RTB ``jacob0``, PyBullet ``calculateJacobian`` at the link origin).

1. Single call: a Python loop over pre-generated random configurations, one library call
   (or the library's few calls) per configuration. Median µs per configuration.
2. Batched: ``kin.fk_jacobian(robot, Q)`` with ``Q`` ``(N, 7)`` in one call, configs/s, vs
   the other libraries in a Python loop (they have no batched API). Each batched case runs
   in a fresh process (see ``ALLOCATOR_MODES`` for why).

``kinematics`` is timed with both of its backends (see ``BACKENDS``): the numpy
implementation and the compiled numba kernels (the default: numba is a base dependency).
Single-call rows switch with ``kinematics.accel.enable`` around that row's timed loop only;
batched cases get ``KINEMATICS_ACCEL=0``/``1`` in their fresh process's environment. Without
numba the numba rows are skipped with a note.

Before anything is timed, every contender's output -- produced by the very function that is
timed, with the backend it is timed with -- is checked against ``kin.fk_jacobian`` with the
numpy backend (joints mapped by name); a mismatch aborts.

3. ``jacobian_dot``: ``kin.jacobian_dot(robot, Q, QD)`` batched vs a Python loop of
   Pinocchio's ``computeJointJacobiansTimeVariation`` + ``updateFramePlacements`` +
   ``getFrameJacobianTimeVariation`` (``LOCAL_WORLD_ALIGNED``), checked equal first.

Run:  python benchmarks/bench_fk_jacobian.py [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from common import (
    RESULTS_DIR,
    Case,
    calls_for,
    fmt_rate,
    fmt_ratio,
    fmt_us,
    machine_info,
    markdown_table,
    run_interleaved,
    summarize,
    time_calls,
    time_loop,
    write_json,
)

import kinematics as kin
from kinematics import _engine, accel

BASE_LINK = "panda_link0"
TIP_LINK = "panda_hand"
FINGER_JOINTS = ("panda_finger_joint1", "panda_finger_joint2")
PACKAGES = ("numpy", "scipy", "numba", "kinematics", "pin", "roboticstoolbox-python",
            "spatialmath-python", "pybullet", "ikpy")

# Agreement required before timing (max abs difference of any entry).
TOL_EXACT = 1e-9          # double-precision libraries: pose and Jacobian
TOL_PYBULLET_POSE = 1e-5  # getLinkState's pose goes through single precision (~1e-7 seen)
TOL_SAME_CODE = 1e-12     # kinematics against itself (single vs batched, fk vs fk_jacobian,
                          # numba kernels vs numpy: the same arithmetic up to rounding, ~1e-15)

# kinematics' two backends: name -> (kinematics.accel.enable() argument, KINEMATICS_ACCEL
# value for a fresh process, display suffix of the library name).
BACKENDS: dict[str, tuple[bool, str, str]] = {
    "numpy": (False, "0", "(numpy)"),
    "numba": (True, "1", "(numba, default)"),
}
REFERENCE_BACKEND = "numpy"  # the reference every contender is checked against


def log(msg: str) -> None:
    """Progress and notes go to stderr; stdout carries only the result tables."""
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Contender:
    """One way of computing the pose and/or Jacobian of the tip for one configuration.

    Attributes:
        key: Identifier (JSON key).
        library: Display name of the library (with its version).
        label: Short name of the variant, for the table.
        calls: The calls made per configuration, for the notes.
        computes: ``"FK+J"``, ``"FK"`` or ``"J"``.
        prepare: ``Q`` ``(n, 7)`` in kinematics' joint order -> list of per-configuration
            inputs in the library's own form (joint order, extra joints), made before timing.
        step: The timed work for one configuration; returns the library's raw output.
        standard: Raw output -> ``(T (4, 4) or None, J (6, 7) or None)`` in kinematics'
            joint order; used only for the correctness check, never timed.
        pose_tol, jac_tol: Agreement required with kinematics.
        anchor: Candidate for the Pinocchio reference (the faster candidate is used).
        backend: For kinematics' rows, the backend (a ``BACKENDS`` key) in effect while
            ``step`` is verified and timed; ``None`` for the other libraries.
    """

    key: str
    library: str
    label: str
    calls: str
    computes: str
    prepare: Callable[[np.ndarray], list[Any]]
    step: Callable[[Any], Any]
    standard: Callable[[Any], tuple[np.ndarray | None, np.ndarray | None]]
    pose_tol: float = TOL_EXACT
    jac_tol: float = TOL_EXACT
    anchor: bool = False
    backend: str | None = None


@contextmanager
def kinematics_backend(backend: str | None) -> Iterator[None]:
    """``kinematics.accel.enable(...)`` for ``backend`` inside the block, the previous setting
    restored after it (nothing switched for ``None``: other libraries' rows)."""
    if backend is None:
        yield
        return
    on = BACKENDS[backend][0]
    previous = accel.enable(on)
    try:
        if accel.enabled() != on:
            raise RuntimeError(f"kinematics.accel.enable({on}) did not take effect")
        yield
    finally:
        accel.enable(previous)


def kernel_calls(fn: Callable[[], Any]) -> int:
    """How many times ``fn()`` goes through the numba kernels (``kinematics._engine.run_q``,
    ``fkj_single`` and ``fk_single``, which kinematics looks up on the module at each call);
    never used while timing."""
    originals = {name: getattr(_engine, name) for name in ("run_q", "fkj_single", "fk_single")}
    count = 0

    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*a: Any, **k: Any) -> Any:
            nonlocal count
            count += 1
            return original(*a, **k)
        return wrapped

    for name, original in originals.items():
        setattr(_engine, name, counting(original))
    try:
        fn()
    finally:
        for name, original in originals.items():
            setattr(_engine, name, original)
    return count


def available_backends() -> list[str]:
    """``BACKENDS`` usable here (numba only when installed)."""
    return [b for b in BACKENDS if b != "numba" or accel.available()]


def reorder(Q: np.ndarray, width: int, cols: list[int]) -> list[np.ndarray]:
    """Rows of an ``(n, width)`` array of zeros with ``Q``'s columns put at ``cols``."""
    X = np.zeros((len(Q), width))
    X[:, cols] = Q
    return list(X)


# --------------------------------------------------------------------------- contenders


def ours(robot: kin.Robot, backend: str) -> list[Contender]:
    """Our three calls, verified and timed with ``backend`` switched on (see ``BACKENDS``)."""

    def prepare(Q: np.ndarray) -> list[np.ndarray]:
        return list(np.ascontiguousarray(Q, dtype=float))

    def fk_jacobian(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return kin.fk_jacobian(robot, q)

    def fk(q: np.ndarray) -> np.ndarray:
        return kin.fk(robot, q)

    def jacobian(q: np.ndarray) -> np.ndarray:
        return kin.jacobian(robot, q)

    name = f"kinematics {kin.__version__} {BACKENDS[backend][2]}"
    # against the numpy backend's fk_jacobian: the numba rows to rounding (TOL_SAME_CODE)
    tol = TOL_SAME_CODE
    switch = (f"; `kinematics.accel.enable({BACKENDS[backend][0]})` around the timed loop "
              "(not inside it)")
    return [
        Contender(f"kinematics_fk_jacobian_{backend}", name, "`fk_jacobian`",
                  "`kin.fk_jacobian(robot, q)`" + switch, "FK+J", prepare, fk_jacobian,
                  lambda out: out, pose_tol=tol, jac_tol=tol, backend=backend),
        Contender(f"kinematics_fk_{backend}", name, "`fk`", "`kin.fk(robot, q)`" + switch,
                  "FK", prepare, fk, lambda out: (out, None), pose_tol=tol, backend=backend),
        Contender(f"kinematics_jacobian_{backend}", name, "`jacobian`",
                  "`kin.jacobian(robot, q)`" + switch, "J", prepare, jacobian,
                  lambda out: (None, out), jac_tol=tol, backend=backend),
    ]


def pinocchio(path: str, robot: kin.Robot) -> list[Contender]:
    try:
        import pinocchio as pin
    except ImportError as e:
        log(f"NOTE: Pinocchio skipped (not installed: {e})")
        return []
    full = pin.buildModelFromUrdf(path)
    # The fingers are locked at 0 (a reduced model): q is exactly the 7 arm joints, which is
    # how one would set Pinocchio up for the arm, and the least work for it.
    locked = [full.getJointId(n) for n in FINGER_JOINTS if full.existJointName(n)]
    model = pin.buildReducedModel(full, locked, pin.neutral(full))
    data = model.createData()
    if not model.existFrame(TIP_LINK):
        raise RuntimeError(f"Pinocchio model has no frame {TIP_LINK!r}")
    fid = model.getFrameId(TIP_LINK)
    if sorted(model.names[1:]) != sorted(robot.joint_names):
        raise RuntimeError(f"Pinocchio joints {list(model.names[1:])} are not the arm joints "
                           f"{list(robot.joint_names)}")
    qcols = [model.joints[model.getJointId(n)].idx_q for n in robot.joint_names]
    vcols = [model.joints[model.getJointId(n)].idx_v for n in robot.joint_names]
    LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED

    def prepare(Q: np.ndarray) -> list[np.ndarray]:
        return reorder(Q, model.nq, qcols)

    def frame_jacobian(q: np.ndarray) -> tuple[Any, np.ndarray]:
        J = pin.computeFrameJacobian(model, data, q, fid, LWA)  # also sets data.oMf[fid]
        return data.oMf[fid], J

    def frame_jacobian_h(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        J = pin.computeFrameJacobian(model, data, q, fid, LWA)
        return data.oMf[fid].homogeneous, J

    def joint_jacobians(q: np.ndarray) -> tuple[Any, np.ndarray]:
        pin.computeJointJacobians(model, data, q)
        pin.updateFramePlacements(model, data)
        return data.oMf[fid], pin.getFrameJacobian(model, data, fid, LWA)

    def std_se3(out: tuple[Any, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return np.array(out[0].homogeneous), out[1][:, vcols]

    def std_h(out: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return out[0], out[1][:, vcols]

    name = f"Pinocchio {pin.__version__}"
    return [
        Contender("pinocchio_computeFrameJacobian", name, "`computeFrameJacobian` + `oMf`",
                  "`J = pin.computeFrameJacobian(model, data, q, fid, LOCAL_WORLD_ALIGNED)`; "
                  "`data.oMf[fid]`", "FK+J", prepare, frame_jacobian, std_se3, anchor=True),
        Contender("pinocchio_computeJointJacobians", name,
                  "`computeJointJacobians` + `updateFramePlacements` + `getFrameJacobian`",
                  "`pin.computeJointJacobians(model, data, q)`; "
                  "`pin.updateFramePlacements(model, data)`; "
                  "`pin.getFrameJacobian(model, data, fid, LOCAL_WORLD_ALIGNED)`; "
                  "`data.oMf[fid]`", "FK+J", prepare, joint_jacobians, std_se3, anchor=True),
        Contender("pinocchio_computeFrameJacobian_homogeneous", name,
                  "`computeFrameJacobian` + `oMf.homogeneous` (4×4 ndarray)",
                  "as computeFrameJacobian, pose as `data.oMf[fid].homogeneous` "
                  "(a 4×4 ndarray, like ours)", "FK+J", prepare, frame_jacobian_h, std_h),
    ]


def load_rtb_robot(rtb: Any, path: str) -> Any:
    """The same URDF file as an RTB ``Robot`` (its C++ ETS backend does the kinematics)."""
    try:
        from roboticstoolbox.models.URDF.URDFRobot import URDF_read  # RTB >= 1.5
    except ImportError:  # older RTB: the (then current) classmethod
        return rtb.Robot.URDF(path)
    from xacrodoc import packages  # RTB >= 1.5 expands every URDF with xacrodoc

    # panda.urdf refers to its meshes as package://meshes/...; tell xacrodoc where that is.
    packages.update_package_cache({"meshes": str(Path(path).parent / "meshes")})
    elinks, name, _ = URDF_read(path)
    return rtb.Robot(elinks, name=name)


def robotics_toolbox(path: str, robot: kin.Robot) -> list[Contender]:
    try:
        import roboticstoolbox as rtb
    except ImportError as e:
        log(f"NOTE: Robotics Toolbox skipped (not installed: {e})")
        return []
    r = load_rtb_robot(rtb, path)
    ets = r.ets(end=TIP_LINK)
    # map RTB's joints to ours by name: RTB link = the URDF joint's child link
    joint_of_child = {j.child: j.name for j in robot.model.joints}
    link_of_jindex = {link.jindex: link.name for link in r.links if link.isjoint}
    order = [joint_of_child[link_of_jindex[et.jindex]] for et in ets.joints()]
    if sorted(order) != sorted(robot.joint_names):
        raise RuntimeError(f"RTB chain joints {order} are not {list(robot.joint_names)}")
    qcols = [order.index(n) for n in robot.joint_names]  # column of our joint i in RTB's q

    def prepare(Q: np.ndarray) -> list[np.ndarray]:
        return reorder(Q, len(order), qcols)

    def robot_api(q: np.ndarray) -> tuple[Any, np.ndarray]:
        return r.fkine(q, end=TIP_LINK), r.jacob0(q, end=TIP_LINK)

    def ets_api(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return ets.eval(q), ets.jacob0(q)

    name = f"Robotics Toolbox {rtb.__version__}"
    return [
        Contender("rtb_fkine_jacob0", name, "`robot.fkine` + `robot.jacob0`",
                  f"`robot.fkine(q, end='{TIP_LINK}')` (an SE3); "
                  f"`robot.jacob0(q, end='{TIP_LINK}')`", "FK+J",
                  prepare, robot_api, lambda out: (np.array(out[0].A), out[1][:, qcols])),
        Contender("rtb_ets_eval_jacob0", name, "cached ETS: `ets.eval` + `ets.jacob0`",
                  f"`ets = robot.ets(end='{TIP_LINK}')` once; `ets.eval(q)` (4×4 ndarray); "
                  "`ets.jacob0(q)`", "FK+J",
                  prepare, ets_api, lambda out: (out[0], out[1][:, qcols])),
    ]


def pybullet_(path: str, robot: kin.Robot) -> list[Contender]:
    try:
        import pybullet as pb
    except ImportError as e:
        log(f"NOTE: PyBullet skipped (not installed: {e})")
        return []
    cid = pb.connect(pb.DIRECT)
    if cid != 0:
        raise RuntimeError(f"expected to be PyBullet's first (default) client, got id {cid}")
    # The timed calls use the default client (no physicsClientId: ~0.3 µs less per call).
    body = pb.loadURDF(path, useFixedBase=True)
    info = [pb.getJointInfo(body, j) for j in range(pb.getNumJoints(body))]
    joint_index = {i[1].decode(): i[0] for i in info}
    link_index = {i[12].decode(): i[0] for i in info}
    link = link_index[TIP_LINK]
    movable = [i[0] for i in info if i[2] != pb.JOINT_FIXED]  # the order calculateJacobian uses
    arm = [joint_index[n] for n in robot.joint_names]
    cols = [movable.index(j) for j in arm]  # our joint i is column cols[i] of PyBullet's J
    extra = [i[1].decode() for i in info if i[2] != pb.JOINT_FIXED and i[0] not in arm]
    if sorted(extra) != sorted(FINGER_JOINTS):
        raise RuntimeError(f"unexpected movable joints besides the arm: {extra}")
    zeros = [0.0] * len(movable)
    # The Jacobian at the URDF link-frame origin: with this PyBullet, calculateJacobian's
    # localPosition [0, 0, 0] *is* the link-frame origin (checked below against ours to 1e-9,
    # on a link whose centre of mass is 4 cm away from its origin).
    origin = [0.0, 0.0, 0.0]

    def prepare(Q: np.ndarray) -> list[tuple[tuple[tuple[int, float], ...], list[float]]]:
        out = []
        for q in Q:
            q_all = list(zeros)
            for c, v in zip(cols, q, strict=True):
                q_all[c] = float(v)
            out.append((tuple(zip(arm, map(float, q), strict=True)), q_all))
        return out

    def step(x: tuple[tuple[tuple[int, float], ...], list[float]]) -> tuple[Any, Any]:
        pairs, q_all = x
        for j, v in pairs:
            pb.resetJointState(body, j, v)
        state = pb.getLinkState(body, link, computeForwardKinematics=1)
        jac = pb.calculateJacobian(body, link, origin, q_all, zeros, zeros)
        return state, jac

    def standard(out: tuple[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
        state, (j_lin, j_ang) = out
        T = np.eye(4)
        T[:3, :3] = np.reshape(pb.getMatrixFromQuaternion(state[5]), (3, 3))
        T[:3, 3] = state[4]  # worldLinkFrame (URDF link frame), not the COM outputs [0], [1]
        return T, np.vstack([j_lin, j_ang])[:, cols]

    import importlib.metadata

    return [Contender(
        "pybullet", f"PyBullet {importlib.metadata.version('pybullet')}",
        "`resetJointState`×7 + `getLinkState` + `calculateJacobian`",
        "7× `resetJointState`; `getLinkState(body, link, computeForwardKinematics=1)`; "
        "`calculateJacobian(body, link, [0,0,0], q_all, 0s, 0s)`", "FK+J",
        prepare, step, standard, pose_tol=TOL_PYBULLET_POSE)]


def ikpy_(path: str, robot: kin.Robot) -> list[Contender]:
    try:
        import ikpy
        import ikpy.chain
    except ImportError as e:
        log(f"NOTE: ikpy skipped (not installed: {e})")
        return []
    with warnings.catch_warnings():  # ikpy warns about the fixed joints' <axis> elements
        warnings.simplefilter("ignore", UserWarning)
        full = ikpy.chain.Chain.from_urdf_file(path, base_elements=[BASE_LINK])
    # ikpy follows the tree past panda_hand into a finger; cut the chain at panda_hand's joint
    tip_joint = next(j.name for j in robot.model.joints if j.child == TIP_LINK)
    names = [link.name for link in full.links]
    links = full.links[: names.index(tip_joint) + 1]
    chain = ikpy.chain.Chain(links, active_links_mask=[lk.joint_type != "fixed" for lk in links],
                             name=TIP_LINK)
    cols = [names.index(n) for n in robot.joint_names]

    def prepare(Q: np.ndarray) -> list[np.ndarray]:
        return reorder(Q, len(links), cols)

    def step(x: np.ndarray) -> np.ndarray:
        return chain.forward_kinematics(x)

    return [Contender("ikpy_forward_kinematics", f"ikpy {ikpy.__version__}",
                      "`chain.forward_kinematics`",
                      "`chain.forward_kinematics(q_full)` (no Jacobian in ikpy)", "FK",
                      prepare, step, lambda out: (np.asarray(out), None))]


# --------------------------------------------------------------------------- checks


def check_routing(c: Contender, x: Any) -> None:
    """Our rows: the numba rows go through the kernels, the numpy rows do not (so that the
    backend switch really is in effect for the step that is timed)."""
    if c.backend is None:
        return
    with kinematics_backend(c.backend):
        calls = kernel_calls(lambda: c.step(x))
    if (calls > 0) != BACKENDS[c.backend][0]:
        raise AssertionError(f"{c.key}: {calls} numba kernel calls in one step with backend "
                             f"{c.backend!r}")


def verify(contenders: list[Contender], robot: kin.Robot, Q: np.ndarray) -> dict[str, Any]:
    """Every contender's output (from its timed ``step``, with its backend) against
    ``kin.fk_jacobian`` with the numpy backend."""
    with kinematics_backend(REFERENCE_BACKEND):
        ref = [kin.fk_jacobian(robot, q) for q in Q]
    errors: dict[str, Any] = {}
    for c in contenders:
        eT = eJ = 0.0
        inputs = c.prepare(Q)
        check_routing(c, inputs[0])
        # standardized right after each step: some outputs are views of the library's
        # workspace (Pinocchio's data.oMf), overwritten by the next step
        with kinematics_backend(c.backend):
            outs = [c.standard(c.step(x)) for x in inputs]
        for (T_ref, J_ref), (T, J), q in zip(ref, outs, Q, strict=True):
            if T is not None:
                if T.shape != (4, 4):
                    raise AssertionError(f"{c.key}: pose shape {T.shape}, expected (4, 4)")
                e = float(np.max(np.abs(T - T_ref)))
                if not e <= c.pose_tol:
                    raise AssertionError(f"{c.key}: pose differs from kinematics by {e:.3g} "
                                         f"> {c.pose_tol:g} at q = {q.tolist()}")
                eT = max(eT, e)
            if J is not None:
                if J.shape != (6, robot.dof):
                    raise AssertionError(f"{c.key}: Jacobian shape {J.shape}, "
                                         f"expected (6, {robot.dof})")
                e = float(np.max(np.abs(J - J_ref)))
                if not e <= c.jac_tol:
                    raise AssertionError(f"{c.key}: Jacobian differs from kinematics by "
                                         f"{e:.3g} > {c.jac_tol:g} at q = {q.tolist()}")
                eJ = max(eJ, e)
        errors[c.key] = {"configs": len(Q), "max_pose_error": eT if c.computes != "J" else None,
                         "max_jacobian_error": eJ if c.computes != "FK" else None,
                         "pose_tol": c.pose_tol, "jacobian_tol": c.jac_tol,
                         "backend": c.backend,
                         "reference": f"kinematics.fk_jacobian ({REFERENCE_BACKEND})"}
        log(f"  ok  {c.key:44s} max|ΔT| {eT:.1e}  max|ΔJ| {eJ:.1e}")
    return errors


def verify_batched(robot: kin.Robot, Q: np.ndarray, reference: Contender | None,
                   rows: int, backend: str) -> dict[str, Any]:
    """One batched call with ``backend`` against per-configuration results (Pinocchio's, else
    our single calls with the numpy backend)."""
    with kinematics_backend(backend):
        calls = kernel_calls(lambda: kin.fk_jacobian(robot, Q[:2]))
        if (calls > 0) != BACKENDS[backend][0]:
            raise AssertionError(f"batched kin.fk_jacobian: {calls} numba kernel calls with "
                                 f"backend {backend!r}")
        T, J = kin.fk_jacobian(robot, Q)
        fk_Q, jac_Q = kin.fk(robot, Q), kin.jacobian(robot, Q)
    if T.shape != (len(Q), 4, 4) or J.shape != (len(Q), 6, robot.dof):
        raise AssertionError(f"batched shapes {T.shape}, {J.shape} for Q {Q.shape}")
    # fk / jacobian alone agree with fk_jacobian on the whole batch
    for name, A, B in (("fk", fk_Q, T), ("jacobian", jac_Q, J)):
        e = float(np.max(np.abs(A - B)))
        if not e <= TOL_SAME_CODE:
            raise AssertionError(f"batched kin.{name} ({backend}) differs from kin.fk_jacobian "
                                 f"by {e:.3g}")
    idx = np.linspace(0, len(Q) - 1, min(rows, len(Q))).astype(int)
    if reference is not None:
        outs = [reference.standard(reference.step(x)) for x in reference.prepare(Q[idx])]
        tol, against = TOL_EXACT, reference.key
    else:
        with kinematics_backend(REFERENCE_BACKEND):
            outs = [kin.fk_jacobian(robot, q) for q in Q[idx]]
        tol, against = (TOL_SAME_CODE,
                        f"kinematics single-configuration calls ({REFERENCE_BACKEND})")
    eT = max(float(np.max(np.abs(T[i] - o[0]))) for i, o in zip(idx, outs, strict=True))
    eJ = max(float(np.max(np.abs(J[i] - o[1]))) for i, o in zip(idx, outs, strict=True))
    if not (eT <= tol and eJ <= tol):
        raise AssertionError(f"batched kin.fk_jacobian ({backend}, N={len(Q)}) differs from "
                             f"{against}: pose {eT:.3g}, Jacobian {eJ:.3g} > {tol:g}")
    log(f"  ok  batched {backend:5s} N={len(Q):<7d} vs {against} on {len(idx)} rows: "
        f"max|ΔT| {eT:.1e}  max|ΔJ| {eJ:.1e}")
    return {"configs_checked": len(idx), "against": against, "max_pose_error": eT,
            "max_jacobian_error": eJ, "tol": tol, "backend": backend}


# --------------------------------------------------------------------------- batched calls

# A batched call allocates tens of MB of temporaries. Whether glibc's malloc returns that
# memory to the OS after each call (so that the next call page-faults it in again) depends on
# the process's allocation history, and changes the time per call by 2-3×. So each batched
# case runs in a fresh process of its own (no history from the other cases), in two
# allocator settings: as configured (the headline), and with glibc told to keep freed memory.
# Each case also runs once per kinematics backend (KINEMATICS_ACCEL in the process's env).
ALLOCATOR_MODES: dict[str, dict[str, str]] = {
    "default": {},
    "keep": {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)},
}
BATCH_SEED_OFFSET = 2


def minor_faults() -> int | None:
    """Minor page faults of this process so far (None where unavailable)."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def batched_worker(func: str, n: int, backend: str, repeats: int, seed: int, sample_s: float,
                   anchor: str | None, n_anchor: int) -> dict[str, Any]:
    """Time ``kin.<func>(robot, Q)`` with ``Q`` ``(n, 7)`` in this (fresh) process, whose
    ``KINEMATICS_ACCEL`` (set by :func:`run_batched`) selects ``backend``.

    With ``anchor`` (a Pinocchio contender key), each sample is followed by one sample of that
    Pinocchio loop over ``n_anchor`` configurations, so that the ratio of the two is taken at
    the same moment on a machine whose speed varies.
    """
    if func not in ("fk_jacobian", "fk", "jacobian"):
        raise ValueError(f"unknown batched function {func!r}")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    # the backend comes from the environment at import, not from accel.enable: check it took
    if accel.enabled() != BACKENDS[backend][0]:
        raise RuntimeError(f"backend {backend!r} wanted, but kinematics.accel.enabled() is "
                           f"{accel.enabled()} with KINEMATICS_ACCEL="
                           f"{os.environ.get('KINEMATICS_ACCEL')!r} (numba installed: "
                           f"{accel.available()})")
    path = panda_urdf()
    robot = kin.load_robot(path, base=BASE_LINK, tip=TIP_LINK)
    Q = robot.random_q(n, seed=seed)
    fn = getattr(kin, func)

    def call(Q: np.ndarray) -> Any:
        return fn(robot, Q)

    # first call: loads/compiles the numba kernels (backend numba), so that calls_for does not
    # size the samples by it; it also checks that the kernels are (or are not) in use
    calls = kernel_calls(lambda: call(Q))
    if (calls > 0) != BACKENDS[backend][0]:
        raise AssertionError(f"kin.{func}: {calls} numba kernel calls with backend {backend!r}")
    number = calls_for(call, Q, sample_s)
    time_calls(call, Q, number)            # warm-up sample
    case = Case(f"batched{n}/kinematics_{func}_{backend}", lambda: time_calls(call, Q, number))
    ref: Case | None = None
    if anchor is not None:
        c = {c.key: c for c in pinocchio(path, robot)}[anchor]
        inputs = c.prepare(robot.random_q(n_anchor, seed=seed + 1))
        ref = Case(anchor, lambda: time_loop(c.step, inputs) / len(inputs), per="config")
        ref.sample()  # warm-up
    faults = []
    for _ in range(repeats):
        f0 = minor_faults()
        case.samples.append(case.sample())
        f1 = minor_faults()
        if f0 is not None and f1 is not None:
            faults.append((f1 - f0) / number)
        if ref is not None:
            ref.samples.append(ref.sample())
    return {**case.stats(), "configs_per_call": n, "calls_per_sample": number,
            "backend": backend, "accel_enabled": accel.enabled(),
            "minor_page_faults_per_call": statistics.median(faults) if faults else None,
            "anchor": None if ref is None else {"key": anchor, "configs_in_loop": n_anchor,
                                                "samples_s_per_config": ref.samples}}


def run_batched(func: str, n: int, backend: str, mode: str, repeats: int,
                args: argparse.Namespace, anchor: str | None) -> dict[str, Any]:
    """:func:`batched_worker` in a fresh Python process with allocator setting ``mode`` and
    kinematics backend ``backend`` (``KINEMATICS_ACCEL`` in its environment)."""
    env = dict(os.environ, **ALLOCATOR_MODES[mode], KINEMATICS_ACCEL=BACKENDS[backend][1])
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", f"{func}:{n}",
           "--backend", backend, "--repeats", str(repeats), "--seed", str(args.seed)]
    if anchor is not None:
        cmd += ["--anchor", anchor]
    if args.quick:
        cmd.append("--quick")
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"batched worker {func}:{n} ({backend}, {mode}) failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def time_batched(jobs: list[tuple[str, int, str]], args: argparse.Namespace, processes: int,
                 anchor: str | None) -> dict[str, dict[str, Any]]:
    """Every (function, N, backend) job in every allocator mode, in ``processes`` fresh
    processes each.

    Process speed varies from one process to the next on a shared VM (~30% seen), so the
    repeats are spread over several processes, taken round-robin over the jobs; the median
    is over all samples of all of a job's processes.
    """
    per_process = max(3, math.ceil(args.repeats / processes))
    runs: dict[str, list[dict[str, Any]]] = {}
    for p in range(processes):
        for func, n, backend in jobs:
            for mode in ALLOCATOR_MODES:
                runs.setdefault(f"batched{n}/kinematics_{func}_{backend}/{mode}", []).append(
                    run_batched(func, n, backend, mode, per_process, args, anchor))
        log(f"  process round {p + 1}/{processes} done")
    out = {}
    for key, rs in runs.items():
        n = rs[0]["configs_per_call"]
        faults = [r["minor_page_faults_per_call"] for r in rs]
        out[key] = {"per": "call", **summarize([x for r in rs for x in r["samples_s"]]),
                    "configs_per_call": n, "processes": len(rs),
                    "process_medians_s": [r["median_s"] for r in rs],
                    "calls_per_sample": [r["calls_per_sample"] for r in rs],
                    "minor_page_faults_per_call": None if None in faults
                    else statistics.median(faults),
                    "allocator_mode": key.rsplit("/", 1)[1],
                    "allocator_env": ALLOCATOR_MODES[key.rsplit("/", 1)[1]],
                    "backend": rs[0]["backend"],
                    "kinematics_accel_env": BACKENDS[rs[0]["backend"]][1],
                    "accel_enabled_in_workers": [r["accel_enabled"] for r in rs]}
        if anchor is not None:
            a = [x for r in rs for x in r["anchor"]["samples_s_per_config"]]
            # each of our samples was followed by one of Pinocchio's: ratio pair by pair
            paired = [n * ta / t for r in rs for t, ta in
                      zip(r["samples_s"], r["anchor"]["samples_s_per_config"], strict=True)]
            out[key]["anchor_same_processes"] = {
                "key": anchor, "configs_in_loop": rs[0]["anchor"]["configs_in_loop"],
                **summarize(a),
                "throughput_ratio_paired": {"median": statistics.median(paired),
                                            "samples": paired}}
        s = out[key]
        log(f"  {key:50s} {s['median_s'] * 1e3:9.3f} ms/call {n / s['median_s']:>12,.0f} "
            f"configs/s  {s['minor_page_faults_per_call']} page faults/call")
    return out


# --------------------------------------------------------------------------- jacobian_dot


def jdot_section(path: str, robot: kin.Robot, args: argparse.Namespace, n_batch: int,
                 n_loop: int) -> tuple[str, dict[str, Any]]:
    """``kin.jacobian_dot`` batched (both backends) vs Pinocchio's
    ``computeJointJacobiansTimeVariation`` loop; returns a markdown section and the timings."""
    try:
        import pinocchio as pin
    except ImportError:
        return "Pinocchio not installed: `jacobian_dot` comparison skipped.", {}
    full = pin.buildModelFromUrdf(path)
    locked = [full.getJointId(n) for n in FINGER_JOINTS if full.existJointName(n)]
    model = pin.buildReducedModel(full, locked, pin.neutral(full))
    data = model.createData()
    fid = model.getFrameId(TIP_LINK)
    qcols = [model.joints[model.getJointId(n)].idx_q for n in robot.joint_names]
    vcols = [model.joints[model.getJointId(n)].idx_v for n in robot.joint_names]
    LWA = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
    rng = np.random.default_rng(args.seed + 7)

    def pin_jdot(x: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        pin.computeJointJacobiansTimeVariation(model, data, x[0], x[1])
        pin.updateFramePlacements(model, data)
        return pin.getFrameJacobianTimeVariation(model, data, fid, LWA)

    def pin_inputs(Q: np.ndarray, V: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(zip(reorder(Q, model.nq, qcols), reorder(V, model.nv, vcols),
                        strict=True))

    # agreement first
    Qc, Vc = robot.random_q(20, seed=args.seed + 8), rng.normal(size=(20, robot.dof))
    ref = np.stack([pin_jdot(x)[:, vcols] for x in pin_inputs(Qc, Vc)])
    errors = {}
    for b in available_backends():
        with kinematics_backend(b):
            errors[b] = float(np.max(np.abs(kin.jacobian_dot(robot, Qc, Vc) - ref)))
        if not errors[b] <= TOL_EXACT:
            raise AssertionError(f"kin.jacobian_dot ({b}) differs from Pinocchio by "
                                 f"{errors[b]:.3g}")
    log(f"  ok  jacobian_dot vs Pinocchio getFrameJacobianTimeVariation: {errors}")
    Q, V = robot.random_q(n_batch, seed=args.seed + 9), rng.normal(size=(n_batch, robot.dof))
    loop_in = pin_inputs(Q[:n_loop], V[:n_loop])
    cases = [Case("jdot/pinocchio_loop", lambda: time_loop(pin_jdot, loop_in) / n_loop,
                  per="config")]
    for b in available_backends():
        def sample(b: str = b) -> float:
            with kinematics_backend(b):
                return time_calls(lambda _: kin.jacobian_dot(robot, Q, V), None, 1) / n_batch
        cases.append(Case(f"jdot/kinematics_{b}", sample, per="config",
                          info={"backend": b, "configs_per_call": n_batch}))
    run_interleaved(cases, args.repeats)
    t = {c.key: c.stats() for c in cases}
    t_pin = t["jdot/pinocchio_loop"]["median_s"]
    rows = [["Pinocchio: `computeJointJacobiansTimeVariation` + `updateFramePlacements` + "
             "`getFrameJacobianTimeVariation` (Python loop)", f"{n_loop:,}",
             fmt_rate(1 / t_pin), "1.00×"]]
    for b in available_backends():
        tb = t[f"jdot/kinematics_{b}"]["median_s"]
        rows.append([f"kinematics ({b}): `kin.jacobian_dot(robot, Q, QD)` one call",
                     f"{n_batch:,}", fmt_rate(1 / tb), fmt_ratio(t_pin / tb)])
    table = markdown_table(["`jacobian_dot` (6×7, LOCAL_WORLD_ALIGNED / base)",
                            "configs", "configs/s (median)", "× Pinocchio loop"], rows, "lrrr")
    note = ("Agreement with Pinocchio before timing (max abs error over 20 configs): "
            + ", ".join(f"{b} {e:.1e}" for b, e in errors.items())
            + f". Median of {args.repeats} interleaved repeats, in the main process.")
    return table + "\n\n" + note, t


# --------------------------------------------------------------------------- main


def panda_urdf() -> str:
    try:
        import pybullet_data
    except ImportError:
        sys.exit("This benchmark uses pybullet_data's franka_panda/panda.urdf for every "
                 "library: install pybullet (pip install -e .[bench]).")
    return os.path.join(pybullet_data.getDataPath(), "franka_panda", "panda.urdf")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="FK + Jacobian speed of kinematics vs Pinocchio, Robotics Toolbox, "
                    "PyBullet and ikpy on pybullet_data's Franka Panda (7 joints, tip "
                    "panda_hand). Verifies that all agree, then prints markdown tables to "
                    "stdout and writes fk_jacobian.md and fk_jacobian.json to --out.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: fewer configurations and repeats; writes "
                        "fk_jacobian_quick.{md,json} so the full results are not overwritten")
    p.add_argument("--out", type=Path, default=RESULTS_DIR,
                   help=f"directory for the results (default: {RESULTS_DIR})")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per case, median reported (default 15; --quick 3)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random configurations")
    p.add_argument("--worker", metavar="FUNC:N", help=argparse.SUPPRESS)  # internal
    p.add_argument("--anchor", help=argparse.SUPPRESS)  # internal, with --worker
    p.add_argument("--backend", choices=tuple(BACKENDS), default=REFERENCE_BACKEND,
                   help=argparse.SUPPRESS)  # internal, with --worker
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


@dataclass(frozen=True)
class Plan:
    n_single: int       # configurations in the single-call loops
    n_pin_loop: int     # configurations in Pinocchio's throughput loop
    n_batched: int      # the headline batched call
    sizes: tuple[int, ...]
    sample_s: float     # batched: back-to-back calls per sample last about this long
    check_rows: int     # batched results checked row by row against Pinocchio
    processes: int      # fresh processes per batched case (repeats spread over them)

    @staticmethod
    def of(quick: bool) -> Plan:
        if quick:
            return Plan(100, 1000, 10_000, (100, 1000, 10_000), 0.01, 200, 1)
        return Plan(1000, 10_000, 10_000, (100, 1000, 10_000, 100_000), 0.05, 1000, 3)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    args = parse_args(argv)
    plan = Plan.of(args.quick)
    if args.worker:
        func, n = args.worker.split(":")
        print(json.dumps(batched_worker(func, int(n), args.backend, args.repeats,
                                        args.seed + BATCH_SEED_OFFSET, plan.sample_s,
                                        args.anchor, plan.n_pin_loop)))
        return None

    path = panda_urdf()
    info = machine_info(PACKAGES)
    log(f"URDF {path}\nCPU  {info['cpu_model']}  (load {info['loadavg_at_start']})")
    robot = kin.load_robot(path, base=BASE_LINK, tip=TIP_LINK)
    if robot.dof != 7:
        raise RuntimeError(f"expected the 7 arm joints, got {robot.joint_names}")

    accel_at_start = accel.enabled()
    backends = available_backends()
    if "numba" not in backends:
        log("NOTE: kinematics' numba backend skipped (numba not installed: "
            "pip install -e '.[bench]')")
    log(f"kinematics backends timed: {', '.join(backends)} (default in this process: "
        f"{'numba' if accel_at_start else 'numpy'})")
    contenders = ([c for b in backends for c in ours(robot, b)]
                  + pinocchio(path, robot) + robotics_toolbox(path, robot)
                  + pybullet_(path, robot) + ikpy_(path, robot))
    by_key = {c.key: c for c in contenders}
    skipped = sorted({"Pinocchio", "Robotics Toolbox", "PyBullet", "ikpy"}
                     - {c.library.rsplit(" ", 1)[0] for c in contenders})

    # ---- correctness first: a benchmark of a wrong answer is worthless
    log("Verifying every library against kinematics (joints mapped by name)...")
    Qv = np.vstack([np.zeros(robot.dof), robot.random_q(8, seed=args.seed + 12345)])
    accuracy = verify(contenders, robot, Qv)
    pin_ref = by_key.get("pinocchio_computeFrameJacobian")
    accuracy["kinematics_batched"] = {
        b: {n: verify_batched(robot, robot.random_q(n, seed=args.seed + BATCH_SEED_OFFSET),
                              pin_ref, rows=plan.check_rows, backend=b)
            for n in plan.sizes}
        for b in backends}
    if accel.enabled() != accel_at_start:
        raise RuntimeError("kinematics.accel setting not restored after the checks")

    # ---- single configurations: Python loops, all libraries interleaved in this process
    Q1 = robot.random_q(plan.n_single, seed=args.seed + 1)
    cases: list[Case] = []

    def loop_case(key: str, step: Callable[[Any], Any], inputs: list[Any],
                  backend: str | None = None) -> Case:
        def sample() -> float:
            # kinematics' backend switched for this loop only (outside the timed region)
            with kinematics_backend(backend):
                return time_loop(step, inputs) / len(inputs)

        info: dict[str, Any] = {"configs_in_loop": len(inputs)}
        if backend is not None:
            info["backend"] = backend
        return Case(key, sample, per="config", info=info)

    def empty_step(q: Any) -> Any:
        return q

    cases.append(loop_case("python_loop_overhead", empty_step, list(Q1)))
    for c in contenders:
        cases.append(loop_case(f"single/{c.key}", c.step, c.prepare(Q1), c.backend))
    Qp = robot.random_q(plan.n_pin_loop, seed=args.seed + 3)
    for c in contenders:
        if c.key.startswith("pinocchio_"):
            cases.append(loop_case(f"loop{plan.n_pin_loop}/{c.key}", c.step, c.prepare(Qp)))
    log(f"Timing {len(cases)} loops, {args.repeats} interleaved repeats "
        f"(single-call loops over {plan.n_single} configs)...")
    run_interleaved(cases, args.repeats)
    if accel.enabled() != accel_at_start:
        raise RuntimeError("kinematics.accel setting not restored after the timed loops")
    timings = {c.key: c.stats() for c in cases}
    log("Timing jacobian_dot: batched vs Pinocchio's loop...")
    jdot_md, jdot_t = jdot_section(path, robot, args, plan.n_batched, plan.n_pin_loop // 5)
    timings.update(jdot_t)
    med = {k: v["median_s"] for k, v in timings.items()}
    pin_cands = [c for c in contenders if c.anchor]
    pin_single = min(pin_cands, key=lambda c: med[f"single/{c.key}"]) if pin_cands else None
    pin_loop = (min(pin_cands, key=lambda c: med[f"loop{plan.n_pin_loop}/{c.key}"])
                if pin_cands else None)
    t_pin = med[f"single/{pin_single.key}"] if pin_single else math.nan
    rate_pin = 1.0 / med[f"loop{plan.n_pin_loop}/{pin_loop.key}"] if pin_loop else math.nan

    # ---- batched: each case in a fresh process
    jobs = [("fk_jacobian", n, b) for n in plan.sizes for b in backends]
    jobs += [(f, plan.n_batched, b) for f in ("fk", "jacobian") for b in backends]
    log(f"Timing {len(jobs)} batched cases (backends: {', '.join(backends)}) × "
        f"{len(ALLOCATOR_MODES)} allocator settings in "
        f"{plan.processes} fresh processes each...")
    timings.update(time_batched(jobs, args, plan.processes,
                                pin_loop.key if pin_loop else None))
    med = {k: v["median_s"] for k, v in timings.items()}
    info["loadavg_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    # ---- tables

    def iqr_us(key: str) -> str:
        s = timings[key]
        return f"{fmt_us(s['median_s'])} ({fmt_us(s['q1_s'])}–{fmt_us(s['q3_s'])})"

    def x_pin_rate(rate: float) -> str:
        return fmt_ratio(rate / rate_pin) if pin_loop else "n/a"

    def batched(key: str) -> tuple[float, float | None, float | None]:
        """configs/s of a batched case, of the Pinocchio loop timed alongside it, and the
        median of the sample-by-sample throughput ratios."""
        t = timings[key]
        a = t.get("anchor_same_processes")
        if a is None:
            return t["configs_per_call"] / t["median_s"], None, None
        return (t["configs_per_call"] / t["median_s"], 1 / a["median_s"],
                a["throughput_ratio_paired"]["median"])

    def x_anchor(ratio: float | None) -> str:
        return "n/a" if ratio is None else fmt_ratio(ratio)

    rows = []
    for c in contenders:
        t = med[f"single/{c.key}"]
        what = "" if c.computes == "FK+J" else f" [{c.computes} only]"
        if c.key.startswith("kinematics_"):
            rate, _, paired = batched(f"batched{plan.n_batched}/{c.key}/default")
            ratio = x_anchor(paired) + "¹"
            how = f"one call, Q ({plan.n_batched:,}, 7)"
        elif c.key.startswith("pinocchio_"):
            rate = 1.0 / med[f"loop{plan.n_pin_loop}/{c.key}"]
            ratio, how = x_pin_rate(rate), f"Python loop over {plan.n_pin_loop:,}"
        else:
            rate = 1.0 / t
            ratio, how = x_pin_rate(rate), f"Python loop over {plan.n_single:,}"
        if c.computes == "FK" and not c.key.startswith("kinematics_"):
            how += " (FK only, J n/a)"
        rows.append([f"{c.library}: {c.label}{what}", iqr_us(f"single/{c.key}"),
                     fmt_ratio(t / t_pin) if pin_single else "n/a",
                     fmt_rate(rate), ratio, how])
    main_table = markdown_table(
        ["library: variant", "single call µs, median (IQR)",
         "time × Pinocchio (lower = faster)", "batched configs/s",
         "throughput × Pinocchio loop (higher = faster)", "batched: how"],
        rows, "lrrrrl")

    scale_rows = []
    for n in plan.sizes:
        for b in backends:
            key = f"batched{n}/kinematics_fk_jacobian_{b}"
            d = timings[f"{key}/default"]
            rate, anchor_rate, paired = batched(f"{key}/default")
            rate_k, _, paired_k = batched(f"{key}/keep")
            faults = d["minor_page_faults_per_call"]
            scale_rows.append([
                f"{n:,}", b,
                f"{d['median_s'] * 1e3:.3g} ({d['q1_s'] * 1e3:.3g}–{d['q3_s'] * 1e3:.3g})",
                fmt_rate(rate), "n/a" if faults is None else f"{faults:,.0f}",
                "n/a" if anchor_rate is None else fmt_rate(anchor_rate),
                x_anchor(paired),
                f"{timings[f'{key}/keep']['median_s'] * 1e3:.3g}", fmt_rate(rate_k),
                x_anchor(paired_k)])
    for b in backends:
        t_loop = med[f"single/kinematics_fk_jacobian_{b}"]
        scale_rows.append(["1 (Python loop)", b, f"{t_loop * 1e3:.3g}", fmt_rate(1 / t_loop),
                           "", "n/a" if not pin_loop else fmt_rate(rate_pin) + "²",
                           x_pin_rate(1 / t_loop), "", "", ""])
    scale_table = markdown_table(
        ["configs per `kin.fk_jacobian` call", "backend", "ms per call, median (IQR)",
         "configs/s", "page faults per call", "Pinocchio loop, same processes, configs/s",
         "× Pinocchio", "malloc keeps memory: ms per call", "configs/s", "× Pinocchio"],
        scale_rows, "rlrrrrrrrr")

    acc_rows = [[k, f"{v['configs']}", "n/a" if v["max_pose_error"] is None
                 else f"{v['max_pose_error']:.1e} (tol {v['pose_tol']:g})",
                 "n/a" if v["max_jacobian_error"] is None
                 else f"{v['max_jacobian_error']:.1e} (tol {v['jacobian_tol']:g})"]
                for k, v in accuracy.items() if k != "kinematics_batched"]
    acc_rows += [[f"kinematics batched ({b}) N={n:,} vs {v['against']}",
                  f"{v['configs_checked']}",
                  f"{v['max_pose_error']:.1e} (tol {v['tol']:g})",
                  f"{v['max_jacobian_error']:.1e} (tol {v['tol']:g})"]
                 for b, by_n in accuracy["kinematics_batched"].items()
                 for n, v in by_n.items()]
    acc_table = markdown_table([f"checked against kinematics.fk_jacobian ({REFERENCE_BACKEND})",
                                "configs", "pose: max abs error", "Jacobian: max abs error"],
                               acc_rows, "lrrr")

    v = info["versions"]
    keep_env = " ".join(f"{k}={val}" for k, val in ALLOCATOR_MODES["keep"].items())
    notes = [
        f"Pinocchio reference: single call = `{pin_single.key}`, throughput = "
        f"`{pin_loop.key}` in a Python loop over {plan.n_pin_loop:,} configs (the faster of "
        "computeFrameJacobian and computeJointJacobians + updateFramePlacements + "
        "getFrameJacobian, by median)."
        if pin_single and pin_loop else "Pinocchio not installed: no ratios.",
        "Single-call figures include one Python function call per configuration (a loop "
        f"over an empty function costs {med['python_loop_overhead'] * 1e6:.3f} µs/config; not "
        "subtracted). Inputs were pre-converted to each library's own form (joint order, "
        "finger joints at 0, Python floats for PyBullet) before timing.",
        "Outputs are what each call returns: ours a (4,4) and a (6,7) ndarray; Pinocchio an "
        "SE3 (`data.oMf[fid]`) and a (6,7) ndarray (the `.homogeneous` row adds the 4×4 "
        "conversion); RTB `fkine` an spatialmath SE3, `ets.eval` a 4×4 ndarray; PyBullet "
        "tuples (position + xyzw quaternion, 3×9 nested lists), not converted.",
        "Pinocchio model: `buildReducedModel` with the finger joints locked at 0 (nq = 7). "
        "RTB and PyBullet load the full 9-joint model (the chain to panda_hand has the 7 arm "
        "joints; PyBullet's calculateJacobian takes all 9 positions, fingers 0).",
        f"RTB {v.get('roboticstoolbox-python')}: `jacob0(q, end, start, tool)` has no `T=` "
        "argument in this version; its fast path is the cached ETS (`robot.ets(end=...)`, "
        "whose `eval`/`jacob0` go straight to the C++ backend).",
        f"Batched calls: each case runs in {plan.processes} fresh Python processes (in each: "
        f"warm-up, then repeats of back-to-back calls, ≥ {plan.sample_s * 1e3:.0f} ms per "
        "sample; median over all samples of all its processes). A batched call "
        "allocates tens of MB of temporaries; with glibc's default settings that memory is "
        "often handed back to the OS after the call and page-faulted in again by the next one "
        "('page faults per call'). The headline uses the default allocator; the 'malloc "
        f"keeps memory' columns rerun with `{keep_env}` to show the cost of those faults.",
        "kinematics backends: rows marked (numpy) use the numpy implementation, rows marked "
        "(numba, default) the compiled kernels (numba "
        f"{v.get('numba') or 'not installed'}). Single-call loops: "
        "`kinematics.accel.enable(False|True)` set just before that row's timed loop and the "
        "previous setting restored right after it (the switch is not inside the timed "
        "region); batched cases: `KINEMATICS_ACCEL=0|1` in the fresh process's environment, "
        "checked there with `kinematics.accel.enabled()`. Before timing, each row's calls "
        "were checked to go (numba) or not go (numpy) through the kernels; the kernels were "
        "compiled/loaded before any timing (warm-up). Every row is checked against "
        f"`kin.fk_jacobian` with the {REFERENCE_BACKEND} backend.",
        f"Median over {args.repeats} repeats (single-call loops interleaved across libraries); "
        f"single-call loops over {plan.n_single:,} pre-generated random configurations "
        f"(uniform in the joint limits, seed {args.seed + 1}).",
    ] + [f"{s} not installed: skipped." for s in skipped] + (
        [] if "numba" in backends else
        ["numba not installed: kinematics' numba rows skipped (`pip install -e '.[bench]'`)."])

    env = ", ".join(f"{k}={val}" for k, val in info["env"].items() if val is not None)
    load = ", ".join(f"{x:.2f}" for x in info["loadavg_at_start"] or [])
    header = [
        "# FK + Jacobian speed: kinematics vs Pinocchio, Robotics Toolbox, PyBullet, ikpy",
        "",
        f"{info['date_utc']} · {info['cpu_model']} ({info['cpus_usable']} usable CPUs, load "
        f"{load} at start) · Python {info['python']} · numpy {v['numpy']} "
        f"({info['blas'].get('name')} {info['blas'].get('version')}) · numba {v['numba']} · "
        f"pin {v['pin']} · "
        f"roboticstoolbox-python {v['roboticstoolbox-python']} · pybullet {v['pybullet']} · "
        f"ikpy {v['ikpy']} · env: {env or 'no threading/BLAS variables set'}"
        + (" · **--quick smoke run**" if args.quick else ""),
        "",
        f"Robot: pybullet_data `franka_panda/panda.urdf`, base `{BASE_LINK}`, tip "
        f"`{TIP_LINK}`, {robot.dof} arm joints; output per configuration: pose of the tip and "
        "its 6×7 base-frame Jacobian `[v; ω]` (LOCAL_WORLD_ALIGNED / jacob0).",
        "",
        "kinematics backend of each row: **(numpy)** = numpy implementation "
        "(`kinematics.accel.enable(False)`; batched: `KINEMATICS_ACCEL=0`) · "
        "**(numba, default)** = compiled kernels (`kinematics.accel.enable(True)`; "
        "batched: `KINEMATICS_ACCEL=1`)"
        + ("" if "numba" in backends else " -- **not run: numba not installed**")
        + f"; the batched table's `backend` column says the same. Default in this "
        f"environment: {'numba' if accel_at_start else 'numpy'}.",
        "",
    ]
    md = "\n".join(header + [
        "## Single configuration per call, and batched throughput", "", main_table, "",
        f"¹ Against the Pinocchio loop ({pin_loop.key if pin_loop else 'n/a'}) timed in the "
        "same fresh processes right after each of our samples: median of the pair-by-pair "
        "throughput ratios (next table), not against the Pinocchio row above.", "",
        "## kinematics batched: configurations per call", "", scale_table, "",
        "² Pinocchio's loop in the main process (the main table's figure).", "",
        "## `jacobian_dot`: batched vs Pinocchio's loop", "", jdot_md, "",
        "## Calls timed per configuration", "",
        *[f"- {c.library}, {c.label}: {c.calls}" for c in contenders], "",
        "## Agreement checked before timing", "", acc_table, "",
        "## Notes", "", *[f"- {n}" for n in notes], ""])
    print(md)

    suffix = "_quick" if args.quick else ""
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"fk_jacobian{suffix}.md").write_text(md)
    result = {
        "benchmark": "fk_jacobian",
        "quick": args.quick,
        "machine": info,
        "setup": {"urdf": path, "base": BASE_LINK, "tip": TIP_LINK,
                  "joint_names": list(robot.joint_names), "repeats": args.repeats,
                  "seed": args.seed, "single_loop_configs": plan.n_single,
                  "pinocchio_loop_configs": plan.n_pin_loop, "batched_sizes": list(plan.sizes),
                  "allocator_modes": ALLOCATOR_MODES,
                  "kinematics_backends": {
                      b: {"accel_enable": BACKENDS[b][0], "KINEMATICS_ACCEL": BACKENDS[b][1],
                          "timed": b in backends} for b in BACKENDS},
                  "kinematics_reference_backend": REFERENCE_BACKEND,
                  "kinematics_accel_default_enabled": accel_at_start,
                  "KINEMATICS_ACCEL_env_at_start": os.environ.get("KINEMATICS_ACCEL"),
                  "statistic": "median over repeats; times in seconds per config (loops) "
                               "or per call (batched)"},
        "contenders": {c.key: {"library": c.library, "label": c.label, "calls": c.calls,
                               "computes": c.computes, "backend": c.backend}
                       for c in contenders},
        "skipped": skipped,
        "pinocchio_reference": {"single": pin_single.key if pin_single else None,
                                "throughput": pin_loop.key if pin_loop else None,
                                "single_s": t_pin, "throughput_configs_per_s": rate_pin},
        "accuracy": accuracy,
        "timings": timings,
        "notes": notes,
    }
    write_json(args.out / f"fk_jacobian{suffix}.json", result)
    log(f"Wrote {args.out / f'fk_jacobian{suffix}.md'} and .json")
    return result


if __name__ == "__main__":
    main()

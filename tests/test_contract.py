"""The error contract over the whole public API (issue 15).

Every public function, given any argument, either returns a correctly shaped finite result
or raises a :class:`kinematics.KinematicsError`: never another exception type, never a
warning. A call table (:data:`ENTRIES`) gives each function a valid call; the property test
replaces one argument by a wrong type, shape or value (generic junk from hypothesis, or a
variant derived from the valid value: wrong last axis, NaN, 1e308, complex, masked, object
dtype, a batch that does not broadcast with another argument, ...) and checks the outcome,
on three robots and both backends. The examples of the issue are explicit tests below.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kinematics as kin
from kinematics import analysis, ik, numdiff, singularity, spatial, uncertainty

ROBOTS = ("planar2r", "panda", "ur5")
_R = {n: kin.load_robot(n) for n in ROBOTS}
_URDF = {n: Path(_R[n].source).read_text() for n in ROBOTS}
B = 3  # batch size of the valid calls

CONTINUOUS_URDF = """<?xml version="1.0"?>
<robot name="c2r">
  <link name="base"/><link name="l1"/><link name="l2"/><link name="tip"/>
  <joint name="j1" type="continuous"><parent link="base"/><child link="l1"/>
    <axis xyz="0 0 1"/><limit velocity="2" effort="10"/></joint>
  <joint name="j2" type="revolute"><parent link="l1"/><child link="l2"/>
    <origin xyz="1 0 0"/><axis xyz="0 0 1"/>
    <limit lower="-3.14" upper="3.14" velocity="2" effort="10"/></joint>
  <joint name="tip_joint" type="fixed"><parent link="l2"/><child link="tip"/>
    <origin xyz="0.8 0 0"/></joint>
</robot>"""


# --------------------------------------------------------------------------- call table
@dataclass
class Entry:
    """One public function: its valid call on a robot and the check of its result."""

    name: str
    make: Callable[[kin.Robot], tuple[Callable[..., Any], dict[str, Any]]]
    check: Callable[[Any, kin.Robot, dict[str, Any]], None] | None = None
    fixed: tuple[str, ...] = ()  # arguments not fuzzed
    broadcast: tuple[str, ...] = ()  # array arguments whose batch axes must broadcast


# SingularityMeasures fields documented as NaN (non-square J, no linear / angular rows)
NAN_DOCUMENTED = {"det", "translational_manipulability", "rotational_manipulability"}


def _finite_tree(x: Any, where: str = "result") -> None:
    """Every float array or number reachable in ``x`` is finite or ±inf (never NaN)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc":
        assert not np.isnan(x).any(), f"{where} has NaN"
    elif isinstance(x, float):
        assert not math.isnan(x), f"{where} is NaN"
    elif is_dataclass(x) and not isinstance(x, type):
        for f in fields(x):
            if not f.name.startswith("_") and f.name not in NAN_DOCUMENTED:
                _finite_tree(getattr(x, f.name), f"{where}.{f.name}")
    elif isinstance(x, (tuple, list)):
        for i, v in enumerate(x):
            _finite_tree(v, f"{where}[{i}]")


def _batch(args: dict[str, Any], *names: str, core: int = 1) -> tuple[int, ...]:
    shapes = [np.shape(np.asarray(args[n]))[: max(np.ndim(np.asarray(args[n])) - core, 0)]
              for n in names]
    return np.broadcast_shapes(*shapes)


def _shaped(tail: tuple[int, ...], *names: str, core: int = 1) -> Callable[..., None]:
    """Check: a finite array of shape ``batch(names) + tail`` (``tail`` may use ``dof``)."""
    def check(res: Any, robot: kin.Robot, args: dict[str, Any]) -> None:
        want = _batch(args, *names, core=core) + tuple(
            robot.dof if t == -1 else t for t in tail)
        arrays = res if isinstance(res, tuple) else (res,)
        assert arrays[0].shape == want, (arrays[0].shape, want)
        for a in arrays:
            assert np.isfinite(a).all()
    return check


def _q(robot: kin.Robot, n: int | tuple[int, ...] = B) -> np.ndarray:
    return robot.random_q(n, seed=1, margin=0.05)


def _T(robot: kin.Robot) -> np.ndarray:
    return kin.fk(robot, _q(robot, ()))


def _qp(n: int | tuple[int, ...] = ()) -> np.ndarray:
    return _q(_R["panda"], n)


def _f_sin(x: np.ndarray) -> np.ndarray:
    return np.sin(x) * x[..., :1]


def _ctrl(robot: kin.Robot, **kw: Any) -> ik.ResolvedRateController:
    return ik.ResolvedRateController(robot, dt=0.01, **kw)


def _ctor_velocity(robot: kin.Robot, **kw: Any) -> np.ndarray:
    return ik.ResolvedRateController(robot, **kw).velocity(_q(robot, ()), _T(robot), dt=0.01)


def _monitor_ctor_update(robot: kin.Robot, *args: Any, **kw: Any) -> Any:
    return singularity.SingularityMonitor(robot, *args, **kw).update(
        _q(robot, ()), np.full(robot.dof, 0.1), dt=0.01)


def _check_state(res: Any, robot: kin.Robot, args: dict[str, Any]) -> None:
    assert 0.0 <= res.scale <= 1.0 and res.level in ("ok", "warn", "stop")
    _finite_tree(res)


def _check_ik(res: Any, robot: kin.Robot, args: dict[str, Any]) -> None:
    assert res.q.shape[-1] == robot.dof and np.isfinite(res.q).all()


def _hessian_shape(res: Any, robot: kin.Robot, args: dict[str, Any]) -> None:
    assert res.shape == (robot.dof, 6, robot.dof) and np.isfinite(res).all()


def _check_robot(res: Any, robot: kin.Robot, args: dict[str, Any]) -> None:
    assert isinstance(res, kin.Robot) and np.isfinite(res.base_pose).all()
    assert np.isfinite(res.tool).all()


def _fwd(fn: Callable[..., Any], extra: str | None = None) -> Callable[[kin.Robot], Any]:
    def make(r: kin.Robot) -> tuple[Callable[..., Any], dict[str, Any]]:
        args: dict[str, Any] = {"robot": r, "q": _q(r)}
        if extra == "qd":
            args["qd"] = np.full((B, r.dof), 0.3)
        elif extra == "wrench":
            args["wrench"] = np.ones((B, 6))
        if fn is not kin.fk_all:
            args["link"] = None
        if fn is not kin.fk and fn is not kin.fk_all:
            args["reference"] = "base"
        if fn is not kin.fk_all:
            args["point"] = np.array([0.0, 0.0, 0.05])
        return fn, args
    return make


ENTRIES: list[Entry] = [
    Entry("load_robot", lambda r: (kin.load_robot, dict(
        name_or_path=r.name, base=None, tip=None, base_pose=np.eye(4), tool=None,
        xacro_args=None, package_dirs=None)), _check_robot),
    Entry("robot_from_urdf", lambda r: (kin.robot_from_urdf, dict(
        urdf=_URDF[r.name], base=None, tip=None, base_pose=None,
        tool=np.eye(4), name=None)), _check_robot),
    Entry("parse_urdf", lambda r: (kin.parse_urdf, dict(
        text=_URDF[r.name], source="<string>", max_bytes=None, max_elements=None))),
    Entry("fk", _fwd(kin.fk), _shaped((4, 4), "q")),
    Entry("fk_all", _fwd(kin.fk_all), None),
    Entry("jacobian", _fwd(kin.jacobian), _shaped((6, -1), "q")),
    Entry("fk_jacobian", _fwd(kin.fk_jacobian), None),
    Entry("jacobian_dot", _fwd(kin.jacobian_dot, "qd"), _shaped((6, -1), "q", "qd"),
          (), ("q", "qd")),
    Entry("twist", _fwd(kin.twist, "qd"), _shaped((6,), "q", "qd"), (), ("q", "qd")),
    Entry("joint_torques", _fwd(kin.joint_torques, "wrench"), _shaped((-1,), "q", "wrench"),
          (), ("q", "wrench")),
    Entry("jacobian_hessian", lambda r: (kin.jacobian_hessian, dict(
        robot=r, q=_q(r, ()), J=None, link=None)), _hessian_shape),
    Entry("measures", lambda r: (kin.measures, dict(
        J=kin.jacobian(r, _q(r)), length=1.0, linear=None)), None),
    Entry("Robot.random_q", lambda r: (r.random_q, dict(n=B, seed=0, margin=0.1)), None),
    Entry("Robot.check_q", lambda r: (r.check_q, dict(q=_q(r), name="q", complex_ok=False)),
          None),
    Entry("Robot.check_limits", lambda r: (r.check_limits, dict(
        q=_q(r), tolerance=0.0, name="q")), _shaped((-1,), "q")),
    Entry("Robot.with_tool", lambda r: (r.with_tool, dict(tool=np.eye(4))), _check_robot),
    Entry("Robot.with_base_pose", lambda r: (r.with_base_pose, dict(base_pose=np.eye(4))),
          _check_robot),
    Entry("ik.solve", lambda r: (ik.solve, dict(
        robot=r, target_T=_T(r), q0=None, seed=0, tol_pos=1e-6, tol_rot=1e-6, max_iter=30,
        restarts=3, patience=6, damping_bias=1e-7, link=None)), _check_ik),
    Entry("ResolvedRateController", lambda r: (_ctor_velocity, dict(
        robot=r, gain=1.0, dt=None, damping="adaptive", sigma_threshold=0.05,
        damping_max=0.05, velocity_scale=1.0, limit_margin=0.1, limit_gain=5.0,
        nullspace=None, nullspace_gain=1.0, task_weights=None, task_frame="base",
        monitor=None, link=None)), _shaped((-1,))),
    Entry("ResolvedRateController.velocity", lambda r: (_ctrl(r).velocity, dict(
        q=_q(r, ()), target_T=_T(r), target_twist=np.zeros(6), dt=0.01)), _shaped((-1,))),
    Entry("ResolvedRateController.step", lambda r: (_ctrl(r).step, dict(
        q=_q(r, ()), target_T=_T(r), dt=0.01, target_twist=None)), _shaped((-1,))),
    Entry("SingularityMonitor", lambda r: (_monitor_ctor_update, dict(
        robot=r, warn=None, stop=None, metric="sigma_min_scaled", hysteresis=0.2, link=None,
        rows=None, length=None)), _check_state),
    Entry("SingularityMonitor.update", lambda r: (singularity.SingularityMonitor(r).update,
          dict(q=_q(r, ()), qd=np.full(r.dof, 0.1), J=None, dt=0.01)), _check_state),
    Entry("singularity.measures_at", lambda r: (singularity.measures_at, dict(
        robot=r, q=_q(r), link=None, rows=None, length=None)), None),
    Entry("analysis.analyze_trajectory", lambda r: (analysis.analyze_trajectory, dict(
        robot=r, q=_q(r, 5), t=None, dt=0.01, monitor=None)), None),
    Entry("analysis.nearest_singularity", lambda r: (analysis.nearest_singularity, dict(
        robot=r, q0=_q(r, ()), link=None, rows=None, tol=1e-8, max_iter=10)), None),
    Entry("analysis.classify", lambda r: (analysis.classify, dict(
        robot=r, q=_q(r, ()), link=None, rows=None, threshold=0.3, axis_tol=1e-4)), None),
    Entry("uncertainty.pose_covariance", lambda r: (uncertainty.pose_covariance, dict(
        robot=r, q=_q(r), joint_cov=np.eye(r.dof) * 1e-6, link=None, reference="base")),
          _shaped((6, 6), "q")),
    Entry("uncertainty.joint_tolerance", lambda r: (uncertainty.joint_tolerance, dict(
        robot=r, q=_q(r, ()), pos_tol=1e-3, rot_tol=None, link=None)), None),
    Entry("uncertainty.position_hessian", lambda r: (uncertainty.position_hessian, dict(
        robot=r, q=_q(r, ()), link=None)), None),
    Entry("uncertainty.linearization_limit", lambda r: (uncertainty.linearization_limit, dict(
        robot=r, q=_q(r, ()), ratio=0.1, link=None)), None),
    Entry("spatial.rpy_to_matrix", lambda r: (spatial.rpy_to_matrix, dict(
        rpy=np.full((B, 3), 0.2))), _shaped((3, 3), "rpy")),
    Entry("spatial.matrix_to_rpy", lambda r: (spatial.matrix_to_rpy, dict(
        R=kin.fk(r, _q(r))[..., :3, :3])), _shaped((3,), "R", core=2)),
    Entry("spatial.skew", lambda r: (spatial.skew, dict(v=np.ones((B, 3)))),
          _shaped((3, 3), "v")),
    Entry("spatial.axis_angle_to_matrix", lambda r: (spatial.axis_angle_to_matrix, dict(
        axis=np.tile([0.0, 0.6, 0.8], (B, 1)), angle=np.full(B, 0.3))), None, (),
          ("axis", "angle")),
    Entry("spatial.transform", lambda r: (spatial.transform, dict(
        R=np.eye(3), p=np.ones(3))), None),
    Entry("spatial.inverse", lambda r: (spatial.inverse, dict(T=kin.fk(r, _q(r)))),
          _shaped((4, 4), "T", core=2)),
    Entry("spatial.so3_log", lambda r: (spatial.so3_log, dict(
        R=kin.fk(r, _q(r))[..., :3, :3])), _shaped((3,), "R", core=2)),
    Entry("spatial.pose_error", lambda r: (spatial.pose_error, dict(
        T_current=kin.fk(r, _q(r)), T_target=kin.fk(r, _q(r)[::-1]))),
          _shaped((6,), "T_current", "T_target", core=2), (), ("T_current", "T_target")),
    Entry("spatial.adjoint", lambda r: (spatial.adjoint, dict(T=kin.fk(r, _q(r)))),
          _shaped((6, 6), "T", core=2)),
    Entry("numdiff.jacobian", lambda r: (numdiff.jacobian, dict(
        f=_f_sin, x=np.linspace(0.1, 0.5, r.dof), method="central", step=None,
        vectorized=False)), None),
    Entry("numdiff.jvp", lambda r: (numdiff.jvp, dict(
        f=_f_sin, x=np.linspace(0.1, 0.5, r.dof), v=np.ones(r.dof), method="central",
        step=None, vectorized=False)), None),
    Entry("numdiff.vjp", lambda r: (numdiff.vjp, dict(
        f=_f_sin, x=np.linspace(0.1, 0.5, r.dof), w=np.ones(r.dof), method="central",
        step=None, vectorized=False)), None),
    Entry("numdiff.hessian", lambda r: (numdiff.hessian, dict(
        f=lambda x: float(np.sum(np.sin(x))), x=np.linspace(0.1, 0.5, r.dof), step=None,
        vectorized=False)), None),
]
ENTRY = {e.name: e for e in ENTRIES}


# --------------------------------------------------------------------------- bad values
def _masked(a: np.ndarray) -> np.ma.MaskedArray:
    m = np.zeros(a.shape, bool)
    m.flat[0] = True
    return np.ma.masked_array(a, mask=m)


def _object(a: np.ndarray) -> np.ndarray:
    o = a.astype(object)
    o.flat[0] = "x"
    return o


GENERIC: list[Any] = [
    None, "abc", "", ["a", "b"], [[1.0, [2.0]], 3.0], {"a": 1}, True, False, 1 + 2j,
    math.nan, math.inf, -math.inf, 1e308, -1e308, -1, 0, 1.5, -0.5, 10**30, np.array([]),
    np.zeros((0, 3)), np.float32(0.1), np.int64(2), object(), (1, 2), b"abc", lambda x: x,
    np.ma.masked_array([1.0], mask=[True]), np.array([1, "a"], dtype=object),
]


def variants(value: Any, other_batch: bool) -> list[Any]:
    """Wrong versions of a valid argument value (shape, dtype, values, batch)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size:
        v = value
        out = [v.tolist(), v[..., :-1], np.concatenate([v, v[..., :1]], -1), v[None],
               v.reshape(-1), v[..., None], np.zeros((0,) + v.shape[1:]), v.astype(np.float32),
               v + 1j, v.astype(complex), _masked(v), _object(v), np.full_like(v, 1e308),
               np.full_like(v, -1e300),
               np.where(np.arange(v.shape[-1]) == 0, np.nan, v),
               np.where(np.arange(v.shape[-1]) == 0, np.inf, v), v.astype(int), -v, v.T]
        if other_batch:  # (B, ...) against the other argument's (B, ...): make it (B + 1, ...)
            out += [np.concatenate([v, v[:1]], 0), np.stack([v, v])]
        return out
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return [-value, 1e308, math.nan, math.inf, -1, 0, 1.5, "abc", str(value),
                [value], np.array([value, value]), complex(value, 1), np.float64(value),
                np.array(value), True]
    if isinstance(value, str):
        return [value.upper(), value + "_x", "", 1, [value], b"x", None]
    if value is None:
        return [np.eye(4), "base", 3, 1.0, [1.0] * 6, -1, math.nan]
    return []


def _outcome(fn: Callable[..., Any], args: dict[str, Any], fixed_robot: bool,
             kwargs_only: bool = True) -> tuple[str, Any]:
    """Call ``fn``; ``("ok", result)``, ``("error", exc)`` or ``("leak", exc_or_warning)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:  # numpy's default error state: overflow and invalid warn (and so fail here)
            res = fn(**args)
        except kin.KinematicsError as exc:
            return "error", exc
        except Exception as exc:  # noqa: BLE001 - the leak is what this looks for
            return "leak", exc
    return "ok", res


def probe(entry: Entry, robot_name: str, slot: str | None, bad: Any) -> tuple[str, Any]:
    """One call of ``entry`` with ``slot`` replaced by ``bad`` (``None``: the valid call)."""
    robot = _R[robot_name]
    fn, args = entry.make(robot)
    if slot is not None:
        args = dict(args)
        args[slot] = bad
    kind, res = _outcome(fn, args, True)
    if kind == "ok" and entry.check is not None:
        try:
            entry.check(res, robot, args)
        except AssertionError as exc:
            return "wrong", exc
    elif kind == "ok":
        try:
            _finite_tree(res)
        except AssertionError as exc:
            return "wrong", exc
    return kind, res


def all_cases(entry: Entry) -> list[tuple[str | None, Any]]:
    """Every (slot, bad value) pair of the exhaustive sweep for ``entry``."""
    fn, args = entry.make(_R["panda"])
    cases: list[tuple[str | None, Any]] = [(None, None)]
    for slot, value in args.items():
        if slot in entry.fixed:
            continue
        for bad in variants(value, slot in entry.broadcast) + GENERIC:
            cases.append((slot, bad))
    return cases


# --------------------------------------------------------------------------- property test
_junk = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.text(max_size=5),
              st.floats(allow_nan=True, allow_infinity=True), st.complex_numbers()),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=2), children, max_size=2),
    max_leaves=8)


@pytest.fixture(params=[False, True], ids=["numpy", "numba"])
def backend(request: pytest.FixtureRequest) -> Any:
    before = kin.accel.enabled()
    if request.param and not kin.accel.available():
        pytest.skip("numba not available")
    kin.accel.enable(request.param)
    yield request.param
    kin.accel.enable(before)


# Leaks found by the fuzz in files this branch does not own: (function, argument) -> a
# reproducing value and the fix. The property test leaves these arguments alone and
# test_open_leak (strict xfail) reproduces each; once fixed, delete the entry.
_MASKED_SCALAR = np.ma.masked_array([1.0], mask=[True])
_RAGGED = [[1.0, [2.0]], 3.0]
OPEN_LEAKS: dict[tuple[str, str], tuple[Any, str]] = {}  # every leak found is fixed


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_any_argument_gives_a_result_or_a_kinematics_error(backend: bool, data: Any) -> None:
    entry = data.draw(st.sampled_from(ENTRIES), label="function")
    robot_name = data.draw(st.sampled_from(ROBOTS), label="robot")
    _, args = entry.make(_R[robot_name])
    slots = [s for s in args if s not in entry.fixed and (entry.name, s) not in OPEN_LEAKS]
    slot = data.draw(st.sampled_from(slots), label="argument")
    derived = variants(args[slot], slot in entry.broadcast)
    bad = data.draw(st.one_of(st.sampled_from(derived + GENERIC), _junk), label="value")
    kind, res = probe(entry, robot_name, slot, bad)
    assert kind in ("ok", "error"), (
        f"{entry.name}({slot}={bad!r:.80}) on {robot_name}: {kind} "
        f"{type(res).__name__}: {res!s:.300}")


@pytest.mark.parametrize("key", [pytest.param(k, marks=pytest.mark.xfail(
    strict=True, reason=v[1])) for k, v in OPEN_LEAKS.items()],
    ids=[f"{k[0]}-{k[1]}" for k in OPEN_LEAKS])
def test_open_leak(key: tuple[str, str]) -> None:
    bad, _ = OPEN_LEAKS[key]
    kind, res = probe(ENTRY[key[0]], "panda", key[1], bad)
    assert kind in ("ok", "error"), f"{kind} {type(res).__name__}: {res!s:.200}"


@pytest.mark.parametrize("name", [e.name for e in ENTRIES])
def test_valid_call_is_correct(name: str, backend: bool) -> None:
    """The reference calls of the table succeed and pass their checks (the fuzz baseline)."""
    for robot_name in ROBOTS:
        kind, res = probe(ENTRY[name], robot_name, None, None)
        assert kind == "ok", f"{name} on {robot_name}: {kind} {res!r}"


# --------------------------------------------------------------------------- issue examples
@pytest.fixture
def panda() -> kin.Robot:
    return _R["panda"]


def _mask(a: np.ndarray) -> np.ma.MaskedArray:
    return _masked(np.asarray(a, dtype=float))


class _NanMonitor:
    """A user monitor that returns ``scale = nan``."""

    def update(self, q: Any, qd: Any = None) -> Any:
        @dataclass
        class State:
            scale: float = math.nan
            level: str = "ok"
        return State()


EXAMPLES: list[tuple[str, Callable[[], Any], str]] = [
    ("jacobian_dot batch", lambda: kin.jacobian_dot(_R["panda"], _qp(3), np.zeros((4, 7))),
     r"qd.*broadcast"),
    ("twist batch", lambda: kin.twist(_R["panda"], _qp(3), np.zeros((4, 7))), r"qd.*broadcast"),
    ("joint_torques batch", lambda: kin.joint_torques(_R["panda"], _qp(3), np.zeros((4, 6))),
     r"wrench.*broadcast"),
    ("solve tol_pos", lambda: ik.solve(_R["panda"], kin.fk(_R["panda"], _qp()), tol_pos="abc"),
     r"tol_pos"),
    ("velocity target_twist", lambda: _ctrl(_R["panda"]).velocity(
        _qp(), kin.fk(_R["panda"], _qp()), target_twist="abc"), r"target_twist"),
    ("with_tool", lambda: _R["panda"].with_tool("abc"), r"tool"),
    ("load_robot None", lambda: kin.load_robot(None), r"None"),
    ("parse_urdf None", lambda: kin.parse_urdf(None), r"None"),
    ("load_robot base list", lambda: kin.load_robot("panda", base=["panda_link0"]), r"base"),
    ("monitor J nan", lambda: singularity.SingularityMonitor(_R["panda"]).update(
        _qp(), np.zeros(7), J=np.full((6, 7), np.nan)), r"J"),
    ("solve seed -1", lambda: ik.solve(_R["panda"], kin.fk(_R["panda"], _qp()), seed=-1),
     r"seed"),
    ("solve seed 1.5", lambda: ik.solve(_R["panda"], kin.fk(_R["panda"], _qp()), seed=1.5),
     r"seed"),
    ("check_limits tolerance nan", lambda: _R["panda"].check_limits(
        np.full(7, 10.0), tolerance=math.nan), r"tolerance"),
    ("fk masked", lambda: kin.fk(_R["panda"], _mask(_qp())), r"masked"),
    ("jacobian masked", lambda: kin.jacobian(_R["panda"], _mask(_qp())), r"masked"),
    ("solve masked", lambda: ik.solve(_R["panda"], _mask(kin.fk(_R["panda"], _qp()))),
     r"masked"),
    ("monitor masked", lambda: singularity.SingularityMonitor(_R["panda"]).update(
        _mask(_qp())), r"masked"),
    ("pose_covariance masked", lambda: uncertainty.pose_covariance(
        _R["panda"], _qp(), _mask(np.eye(7))), r"masked"),
    ("spatial masked", lambda: spatial.inverse(_mask(np.eye(4))), r"masked"),
    ("numdiff masked", lambda: numdiff.jacobian(np.sin, _mask(np.ones(3))), r"masked"),
    ("check_limits complex", lambda: _R["panda"].check_limits(_qp() + 0j), r"complex"),
    ("solve complex", lambda: ik.solve(_R["panda"], kin.fk(_R["panda"], _qp()) + 0j),
     r"complex"),
    ("velocity complex", lambda: _ctrl(_R["panda"]).velocity(
        _qp() + 0j, kin.fk(_R["panda"], _qp())), r"complex"),
    ("monitor complex", lambda: singularity.SingularityMonitor(_R["panda"]).update(
        _qp() + 0j), r"complex"),
    ("measures complex", lambda: kin.measures(kin.jacobian(_R["panda"], _qp()) + 0j),
     r"complex"),
    ("classify complex", lambda: analysis.classify(_R["panda"], _qp() + 0j), r"complex"),
    ("pose_covariance complex", lambda: uncertainty.pose_covariance(
        _R["panda"], _qp() + 0j, np.eye(7)), r"complex"),
    ("spatial complex", lambda: spatial.so3_log(np.eye(3) + 0j), r"complex"),
    ("monitor scale nan", lambda: _ctrl(_R["panda"], monitor=_NanMonitor()).velocity(
        _qp(), kin.fk(_R["panda"], _qp())), r"scale"),
]

# examples that still fail in files this branch does not own (the lead applies the fixes)
XFAIL: dict[str, str] = {}  # every issue example raises a KinematicsError


@pytest.mark.parametrize("label, call, match", [
    pytest.param(*e, marks=pytest.mark.xfail(strict=True, reason=XFAIL[e[0]]))
    if e[0] in XFAIL else e for e in EXAMPLES], ids=[e[0] for e in EXAMPLES])
def test_issue_example_raises_kinematics_error(label: str, call: Callable[[], Any],
                                               match: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(kin.KinematicsError, match=match):
            call()


def test_controller_on_continuous_joints_does_not_warn() -> None:
    robot = kin.robot_from_urdf(CONTINUOUS_URDF)
    assert not np.isfinite(robot.joint_limits[0]).any()
    q = np.array([5.0, 0.3])  # beyond ±π on the continuous joint: allowed
    target = kin.fk(robot, np.array([5.5, 0.6]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for kw in ({}, {"nullspace": "centering"}, {"nullspace": "manipulability"}):
            ctrl = ik.ResolvedRateController(robot, dt=0.01, gain=5.0,
                                             task_weights=[1, 1, 0, 0, 0, 0], **kw)
            qi = q
            for _ in range(1500):
                qi = ctrl.step(qi, target)
            np.testing.assert_allclose(kin.fk(robot, qi)[:2, 3], target[:2, 3], atol=1e-6)


def test_complex_step_through_fk_is_the_jacobian(panda: kin.Robot) -> None:
    """Im fk(q + i h e_k) / h (h = 1e-20) gives J column k to 1e-14: the position rows are
    J_v; the rotation rows are vee(Rᵀ dR) rotated to base axes (R dR-vee = ω)."""
    h = 1e-20
    for q in _qp(3):
        J = kin.jacobian(panda, q)
        T = kin.fk(panda, q)
        R = T[:3, :3]
        for k in range(panda.dof):
            Tk = kin.fk(panda, q + 1j * h * np.eye(panda.dof)[k])
            dT = Tk.imag / h
            np.testing.assert_allclose(dT[:3, 3], J[:3, k], rtol=0, atol=1e-14)
            W = R.T @ dT[:3, :3]  # skew(ω_local)
            np.testing.assert_allclose(W + W.T, 0.0, atol=1e-14)
            w = R @ np.array([W[2, 1], W[0, 2], W[1, 0]])
            np.testing.assert_allclose(w, J[3:, k], rtol=0, atol=1e-14)
            np.testing.assert_allclose(Tk.real, T, rtol=0, atol=1e-15)


@pytest.mark.parametrize("fn", [kin.fk, kin.jacobian, kin.jacobian_hessian, kin.fk_all])
def test_complex_q_accepted_by_the_fk_family(panda: kin.Robot, fn: Callable[..., Any]) -> None:
    q = _qp() if fn is kin.jacobian_hessian else _qp(2)
    out = fn(panda, q + 1e-20j)
    np.testing.assert_allclose(np.real(out), fn(panda, q), rtol=0, atol=1e-14)

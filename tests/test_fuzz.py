"""Keep it found: the URDF mutation fuzz and the API sweep of ``benchmarks/fuzz_inputs.py``
as a bounded-time test. Every exception must be a KinematicsError, every warning a
URDFWarning, every result of a loaded model finite."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

import kinematics as kin

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_inputs.py"


def _fuzz() -> Any:
    if "fuzz_inputs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("fuzz_inputs", BENCH)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules["fuzz_inputs"] = mod  # dataclasses look their module up
        spec.loader.exec_module(mod)
    return sys.modules["fuzz_inputs"]


@pytest.fixture()
def numpy_backend() -> Any:
    before = kin.accel.enabled()
    kin.accel.enable(False)  # the compiled kernels are the same numbers; no compile here
    yield
    kin.accel.enable(before)


@pytest.mark.slow
def test_urdf_mutations_raise_only_kinematics_errors(numpy_backend: Any) -> None:
    fuzz = _fuzz()
    files = fuzz.corpus(seed=1, pybullet_sample=60)
    assert len(files) >= 20
    report = fuzz.urdf_fuzz(5000, seed=1, files=files)
    assert report.cases == 5000
    assert report.errors > 0  # the mutations do reach the refusals
    assert report.escaped == 0, "\n".join(report.lines())


@pytest.mark.slow
def test_api_sweep_raises_only_kinematics_errors(numpy_backend: Any) -> None:
    report = _fuzz().api_fuzz(budget=25.0, robots=("planar2r", "panda 0-DoF"))
    assert report.cases > 10_000
    assert report.escaped == 0, "\n".join(report.lines())


def test_mutation_is_deterministic() -> None:
    import random

    fuzz = _fuzz()
    data = (Path(kin.load_robot("planar2r").source)).read_bytes()
    assert fuzz.mutate(data, random.Random(7)) == fuzz.mutate(data, random.Random(7))

"""xacro as untrusted input: hostile descriptions are refused (code, files outside the package,
bombs), each within the time cap and with no side effect; the expression checker on its own;
real xacros expand exactly as plain xacro expands them."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

import pytest

import kinematics as kin
from kinematics import URDFError
from kinematics._xacro import expand_xacro
from kinematics._xacro_sandbox import MAX_VALUE, Refused, evaluate

pytest.importorskip("xacro")

HEAD = ('<?xml version="1.0"?>\n<robot name="r" xmlns:xacro="http://www.ros.org/wiki/xacro">\n')
TAIL = ('<link name="a"/><link name="b"/><joint name="j" type="revolute"><parent link="a"/>'
        '<child link="b"/><limit lower="-1" upper="1" effort="1" velocity="1"/></joint>'
        "</robot>\n")
#: Every refusal must come within the default time cap of 10 s (plus the start of the child
#: process on a loaded machine).
WITHIN = 10.5
#: A bomb is refused by its own cap in ~2 s; on a machine loaded enough to slow xacro 5×,
#: the time cap refuses it first, which is the guarantee.
OR_TIME_CAP = r"|xacro expansion took longer than the time cap of 10 s"


def _package(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    (pkg / "urdf").mkdir(parents=True)
    (pkg / "package.xml").write_text("<package><name>pkg</name></package>")
    return pkg


def _write(pkg: Path, body: str, name: str = "evil.urdf.xacro") -> Path:
    path = pkg / "urdf" / name
    path.write_text(HEAD + body + TAIL)
    return path


def _refused(path: Path, match: str, **kwargs: object) -> float:
    t0 = time.perf_counter()
    with pytest.raises(URDFError, match=match):
        kin.load_robot(path, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - t0
    assert elapsed < WITHIN, f"refused after {elapsed:.1f} s"
    return elapsed


# --------------------------------------------------------------------------------- code

PAYLOAD = ("(lambda: [c for c in ().__class__.__mro__[1].__subclasses__() if c.__name__=="
           "'_wrap_close'][0].__init__.__globals__['system']('touch {marker}'))()")


def test_the_lambda_subclasses_payload_does_not_run(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    marker = tmp_path / "pwned"
    path = _write(pkg, f'<link name="${{{PAYLOAD.format(marker=marker)}}}"/>')
    _refused(path, r"evil.urdf.xacro: xacro refused: expression \$\{\(lambda.*a lambda is "
                   "not allowed")
    assert not marker.exists()
    # the same payload without the lambda still names a dunder attribute
    inner = PAYLOAD.format(marker=marker)[len("(lambda: "):-len(")()")]
    _refused(_write(pkg, f'<link name="${{{inner}}}"/>'), "is not allowed")
    assert not marker.exists()


@pytest.mark.parametrize(("expr", "match"), [
    ("().__class__", "the name '__class__' is not allowed"),
    ("x._y", "the name '_y' is not allowed"),
    ("_private", "the name '_private' is not allowed"),
    ("python.type(1).mro()", "calling <class 'type'> is not allowed"),
    ("python.vars(math)", "calling <built-in function vars> is not allowed"),
    ("python.map(python.type, [1])", "calling <class 'type'>|passing .* as a function"),
    ("'abc'.encode()", "attribute 'encode' of a str is not allowed"),
    ("(1).__add__(2)", "'__add__' is not allowed"),
    ("[x for x in [1]]", "a comprehension is not allowed"),
    ("python.list(x for x in [1])", "a generator is not allowed"),
    ("(y := 1)", r"an assignment \(:=\) is not allowed"),
    ("python.max(*[1, 2])", "a star argument is not allowed"),
    ("python.sorted([1], key=python.type)", "passing <class 'type'> as a function"),
    ("xacro.load_yaml", None),  # a value only: harmless
])
def test_expression_rules(expr: str, match: str | None) -> None:
    import xacro  # noqa: F401 (namespaces)
    from xacro import _global_symbols as g

    def lookup(name: str) -> object:
        return {"x": 1, "math": g["math"], "python": g["python"], "xacro": g["xacro"]}[name]

    if match is None:
        evaluate(expr, lookup)
        return
    with pytest.raises(Refused, match=match):
        evaluate(expr, lookup)


def test_format_string_escape_is_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    path = _write(pkg, '<xacro:property name="f" value="{0.__class__.__mro__}"/>'
                       '<link name="${f.format(1)}"/>')
    _refused(path, r"format field \{0.__class__.__mro__\} is not allowed")
    fine = _write(pkg, '<xacro:property name="f" value="l{0}_{n:>3}"/>'
                       '<link name="${f.format(1, n=2)}"/>', "fine.urdf.xacro")
    assert 'link name="l1_  2"' in expand_xacro(fine)


def test_substitution_eval_is_checked_too(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    ok = _write(pkg, '<link name="l$(eval 2 * 3 + n)"/>', "ok.urdf.xacro")
    assert 'link name="l10"' in expand_xacro(ok, {"n": "4"})
    path = _write(pkg, '<link name="$(eval [c for c in \'ab\'])"/>')
    _refused(path, "a comprehension is not allowed")


def test_allowed_expressions_keep_their_values() -> None:
    import xacro  # noqa: F401
    from xacro import _global_symbols as g

    table = {"pi": math.pi, "w": 0.5, "s": "a,b", "n": 3, "d": {"k": [1, 2]},
             "math": g["math"], "python": g["python"], "radians": math.radians}
    cases = {
        "radians(-90)": math.radians(-90), "pi/2 - (w * pi/2)": math.pi / 4,
        "math.sqrt(w**2 + 1)": math.sqrt(1.25), "-(w/2 + 1)": -1.25, "2**10": 1024,
        "n if w > 0 else -n": 3, "w > 0 and n < 4": True, "not (n == 3)": False,
        "s.split(',')[1]": "b", "d['k'][-1]": 2, "python.len(s) * 2": 6,
        "'x' * n": "xxx", "[1, 2] + [3]": [1, 2, 3], "python.sum([1, 2, 3])": 6,
        "'%s_%02d' % ('l', n)": "l_03", "python.abs(-w)": 0.5, "1 < n <= 3": True,
        "python.max(python.range(n))": 2, "f'{w:.2f}'": "0.50", "1 << 10": 1024,
    }
    for expr, want in cases.items():
        assert evaluate(expr, table.__getitem__) == want, expr


@pytest.mark.parametrize(("expr", "match"), [
    ("9**9**9", r"9 \*\* 387420489 would build 1.16e\+09 bits, more than the cap of 16384 bits "
                r"\(MAX_INT_BITS\); refused before computing"),
    ("'a' * 2000000000", r"repetition ×2000000000 would build 2e\+09 items, more than the cap"),
    ("[0] * 10**9", "repetition"),
    ("10**4000 * 10**4000", "product"),
    ("1 << 10**9", "shift"),
    ("'%0999999999d' % 1", "format width/precision 0999999999 is larger than the cap"),
    ("'a'.ljust(10**9)", "ljust"),
    ("('ab' * 500000).replace('a', 'aaaa')", "replace"),
    ("','.join(['a' * 1000] * 100000)", "join"),
    ("python.list(python.range(10**12))", r"range would build 1e\+12 items"),
    ("math.factorial(10**7)", "MAX_FACTORIAL"),
    ("python.sum([[1]] * 9, [])", "non-numeric start"),
])
def test_oversized_values_are_refused_before_computing(expr: str, match: str) -> None:
    import xacro  # noqa: F401
    from xacro import _global_symbols as g

    t0 = time.perf_counter()
    with pytest.raises(Refused, match=match):
        evaluate(expr, {"math": g["math"], "python": g["python"]}.__getitem__)
    assert time.perf_counter() - t0 < 1.0


# ------------------------------------------------------------------------------ files

def test_load_yaml_outside_the_package_is_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    path = _write(pkg, "<link name=\"${xacro.load_yaml('/etc/passwd')}\"/>")
    _refused(path, r"xacro.load_yaml file '/etc/passwd' lies outside the description's "
                   r"package and the package_dirs \['.*/pkg'\]")
    (pkg / "urdf" / "escape.yaml").symlink_to("/etc/passwd")  # a symlink out: refused too
    path = _write(pkg, "<link name=\"${xacro.load_yaml('escape.yaml')}\"/>")
    _refused(path, r"escape.yaml' \(real path '/etc/passwd'\) lies outside")
    (pkg / "urdf" / "ok.yaml").write_text("name: arm\nlen: !degrees 90\n")
    ok = _write(pkg, "<link name=\"${xacro.load_yaml('ok.yaml').name}\"/>", "ok.urdf.xacro")
    assert 'link name="arm"' in expand_xacro(ok)


def test_includes_outside_the_package_are_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    (tmp_path / "outside.xacro").write_text(HEAD + '<link name="x"/></robot>')
    _refused(_write(pkg, '<xacro:include filename="../../outside.xacro"/>'),
             r"xacro file '.*/pkg/urdf/../../outside.xacro' lies outside the description's "
             "package")
    _refused(_write(pkg, f'<xacro:include filename="{tmp_path}/outside.xacro"/>'),
             "lies outside the description's package")
    _refused(_write(pkg, '<xacro:include filename="/etc/hostname" optional="true"/>'),
             "lies outside")  # 'optional' does not turn a refusal into a skip
    # a glob outside is refused before it lists anything (file names would leak)
    _refused(_write(pkg, '<xacro:include filename="/etc/*.conf"/>'),
             r"xacro include pattern folder '/etc' lies outside")
    (pkg / "urdf" / "parts.xacro").write_text(HEAD + '<link name="g"/></robot>')
    globbed = _write(pkg, '<xacro:include filename="part*.xacro"/>', "glob.urdf.xacro")
    assert 'link name="g"' in expand_xacro(globbed)
    # inside the package (a sibling folder, through ../): fine; outside but given: fine
    (pkg / "parts").mkdir()
    (pkg / "parts" / "p.xacro").write_text(HEAD + '<link name="p"/></robot>')
    ok = _write(pkg, '<xacro:include filename="../parts/p.xacro"/>', "ok.urdf.xacro")
    assert 'link name="p"' in expand_xacro(ok)
    out = _write(pkg, f'<xacro:include filename="{tmp_path}/outside.xacro"/>', "o.urdf.xacro")
    assert 'link name="x"' in expand_xacro(out, package_dirs=[tmp_path])


def test_without_package_xml_the_folder_is_the_package(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "common.xacro").write_text(HEAD + '<link name="c"/></robot>')
    top = tmp_path / "a" / "b" / "top.urdf.xacro"
    top.write_text(HEAD + '<xacro:include filename="../common.xacro"/>' + TAIL)
    _refused(top, "lies outside the description's package and the package_dirs "
                  r"\['.*/a/b'\]")


def test_environment_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIN_SECRET", "hunter2")
    pkg = _package(tmp_path)
    _refused(_write(pkg, '<link name="$(env KIN_SECRET)"/>'),
             r"\$\(env KIN_SECRET\): environment variables are not read")
    ok = _write(pkg, '<link name="$(optenv KIN_SECRET fallback)"/>', "ok.urdf.xacro")
    assert 'link name="fallback"' in expand_xacro(ok)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_not_opened(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    os.mkfifo(pkg / "urdf" / "pipe.xacro")
    _refused(_write(pkg, '<xacro:include filename="pipe.xacro"/>'), "is not a regular file")


# ------------------------------------------------------------------------------ bombs

def test_doubling_macro_bomb_is_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    path = _write(pkg, '<xacro:macro name="b" params="n"><xacro:if value="${n>0}">'
                       '<xacro:b n="${n-1}"/><xacro:b n="${n-1}"/></xacro:if>'
                       '<link name="l${n}"/></xacro:macro><xacro:b n="26"/>')
    _refused(path, r"more than 2000 macro calls \(the cap MAX_MACRO_CALLS" + OR_TIME_CAP)


def test_property_bomb_is_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    props = '<xacro:property name="p0" value="aaaaaaaaaa"/>' + "".join(
        f'<xacro:property name="p{i}" value="${{p{i - 1}}}${{p{i - 1}}}"/>' for i in range(1, 33))
    elapsed = _refused(_write(pkg, props + '<link name="${p32}"/>'),
                       f"more than the cap of {MAX_VALUE} \\(MAX_VALUE\\)")
    assert elapsed < 3.0
    props = '<xacro:property name="p0" value="${[1]}"/>' + "".join(
        f'<xacro:property name="p{i}" value="${{p{i - 1} + p{i - 1}}}"/>' for i in range(1, 33))
    _refused(_write(pkg, props + '<link name="${python.len(p32)}"/>'), "concatenation")


def test_block_bomb_and_recursion_are_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    nest = 30
    path = _write(pkg, '<xacro:macro name="d" params="*b"><g><xacro:insert_block name="b"/>'
                       '<xacro:insert_block name="b"/></g></xacro:macro>'
                       + "<xacro:d>" * nest + "<x/>" + "</xacro:d>" * nest)
    _refused(path, r"more than 100000 XML elements evaluated \(the cap MAX_ELEMENTS\)"
             + OR_TIME_CAP)
    path = _write(pkg, '<xacro:macro name="r"><xacro:r/></xacro:macro><xacro:r/>')
    _refused(path, r"macros nested deeper than the cap of 100 \(MAX_MACRO_DEPTH")


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (pkg / "urdf" / "bomb.yaml").write_text("\n".join(lines) + "\n")
    _refused(_write(pkg, "<link name=\"${xacro.load_yaml('bomb.yaml')['i']}\"/>"),
             "bomb.yaml' expands to more than 1048576 items")


def test_time_cap_holds_inside_a_long_expansion(tmp_path: Path) -> None:
    pkg = _package(tmp_path)
    path = _write(pkg, '<xacro:macro name="b" params="n"><xacro:if value="${n>0}">'
                       '<xacro:b n="${n-1}"/><xacro:b n="${n-1}"/></xacro:if>'
                       '<link name="l${n}"/></xacro:macro><xacro:b n="26"/>')
    t0 = time.perf_counter()
    with pytest.raises(URDFError, match=r"took longer than the time cap of 0.5 s \(max_seconds="):
        expand_xacro(path, max_seconds=0.5)
    assert time.perf_counter() - t0 < 2.0


# ------------------------------------------------------- real xacros: exactly as before

def _plain_xacro(path: Path, dirs: object) -> str:
    """What xacro itself prints (in this process, no sandbox), with the same package
    lookup and package:// rewriting."""
    import xacro
    from xacro import substitution_args as sa

    from kinematics._xacro_sandbox import PackageIndex, _resolve_assets

    index = PackageIndex({k: str(v) for k, v in dirs.items()} if isinstance(dirs, dict)
                         else [str(d) for d in dirs])  # type: ignore[attr-defined]
    saved = sa._eval_find
    sa._eval_find = index.find
    try:
        doc = xacro.process_file(str(path), mappings={}, verbosity=0)
    finally:
        sa._eval_find = saved
        xacro.init_stacks(None)
    _resolve_assets(doc, index)
    return str(doc.toprettyxml(indent="  "))


def test_real_xacros_expand_exactly_as_plain_xacro() -> None:
    from conftest import rtb_aliases
    from test_xacro import RTB_ALIASED, RTB_ROBOTS

    rtbdata = pytest.importorskip("rtbdata")
    root = Path(rtbdata.__file__).parent / "xacro"
    names = rtb_aliases(root)
    for rel in [*RTB_ROBOTS, *RTB_ALIASED]:
        dirs = names if rel in RTB_ALIASED else [root]
        assert expand_xacro(root / rel, package_dirs=dirs) == _plain_xacro(root / rel, dirs), rel


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_memory_cap_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINEMATICS_XACRO_MAX_MEMORY", str(150 << 20))
    pkg = _package(tmp_path)
    links = "".join(f'<link name="x{i}" d="${{p}}"/>' for i in range(200))  # 1 MB each
    path = _write(pkg, "<xacro:property name=\"p\" value=\"${'a' * 1000000}\"/>" + links)
    _refused(path, r"xacro expansion ran out of its memory cap \(environment variable "
                   "KINEMATICS_XACRO_MAX_MEMORY\\)")

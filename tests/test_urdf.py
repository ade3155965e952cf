"""URDF reader: joint types, defaults, safety, file-level errors and per-element defects
(by message and line), leniency, number bounds, caps, and every real URDF at hand."""

from __future__ import annotations

import pickle
import re

import numpy as np
import pytest
from conftest import check_pinocchio, planar2r_urdf

import kinematics as kin
from kinematics import URDFError, urdf


def _robot(extra_links: str = "", joints: str = "", **kw: object) -> kin.Robot:
    return kin.robot_from_urdf(f'<robot name="r"><link name="base"/><link name="a"/>'
                               f'{extra_links}{joints}</robot>', **kw)  # type: ignore[arg-type]


def test_axis_defaults_to_x_and_is_normalised() -> None:
    default = _robot(joints='<joint name="j" type="continuous"><parent link="base"/>'
                            '<child link="a"/></joint>')
    np.testing.assert_array_equal(default.joint_axes, [[1.0, 0.0, 0.0]])
    scaled = _robot(joints='<joint name="j" type="continuous"><parent link="base"/>'
                           '<child link="a"/><axis xyz="0 3 4"/></joint>')
    np.testing.assert_allclose(scaled.joint_axes, [[0.0, 0.6, 0.8]], atol=1e-15)
    np.testing.assert_array_equal(scaled.joint_limits, [[-np.inf, np.inf]])


def test_rpy_origin_convention() -> None:
    """URDF rpy is fixed-axis x-y-z: R = Rz(y) Ry(p) Rx(r)."""
    arm = _robot(joints='<joint name="j" type="continuous"><parent link="base"/>'
                        '<child link="a"/><origin xyz="1 2 3" rpy="0.3 -0.2 0.7"/></joint>')
    T = kin.fk(arm, [0.0])
    Rx = kin.spatial.axis_angle_to_matrix([1, 0, 0], 0.3)
    Ry = kin.spatial.axis_angle_to_matrix([0, 1, 0], -0.2)
    Rz = kin.spatial.axis_angle_to_matrix([0, 0, 1], 0.7)
    np.testing.assert_allclose(T[:3, :3], Rz @ Ry @ Rx, atol=1e-15)
    np.testing.assert_allclose(T[:3, 3], [1, 2, 3], atol=0)


def test_roundtrip_rpy() -> None:
    rpy = np.random.default_rng(0).uniform([-3, -1.5, -3], [3, 1.5, 3], size=(100, 3))
    np.testing.assert_allclose(kin.spatial.matrix_to_rpy(kin.spatial.rpy_to_matrix(rpy)), rpy,
                               atol=1e-12)


def test_limits_velocity_effort_read() -> None:
    arm = kin.robot_from_urdf(planar2r_urdf())
    np.testing.assert_array_equal(arm.joint_limits, [[-3.14, 3.14], [-3.14, 3.14]])
    np.testing.assert_array_equal(arm.velocity_limits, [2.0, 2.0])
    np.testing.assert_array_equal(arm.effort_limits, [10.0, 10.0])
    assert not arm.joint_limits.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        arm.joint_limits[0, 0] = 0.0


def test_meshes_are_never_opened(tmp_path) -> None:  # type: ignore[no-untyped-def]
    urdf = planar2r_urdf().replace(
        '<link name="l1"/>',
        '<link name="l1"><visual><geometry><mesh filename="package://nowhere/x.stl"/>'
        '</geometry></visual></link>')
    f = tmp_path / "arm.urdf"
    f.write_text(urdf)
    assert kin.load_robot(str(f)).dof == 2


def _two_links(joint: str, extra: str = "") -> str:
    return f'<robot name="r"><link name="a"/><link name="b"/>{extra}{joint}</robot>'


# File-level problems: the whole document is refused.
BAD = [
    ("<robot", "malformed XML"),
    ("", "malformed XML|empty document"),
    ('<robot name="r"/>', "no <link> elements"),
    ('<notrobot/>', r"root element is <notrobot>, expected <robot>"),
    ('<robot><link name="a"/><link name="a"/></robot>',
     r"link 'a' is declared twice \(lines 1 and 1\)"),
    ('<robot><link/></robot>', "<link> without a name"),
    (_two_links('<joint type="fixed"><parent link="a"/><child link="b"/></joint>'),
     "<joint> without a name"),
    (_two_links('<joint name="j" type="fixed"><parent link="a"/><child link="b"/></joint>'
                '<joint name="j" type="fixed"><parent link="b"/><child link="a"/></joint>'),
     "joint 'j' is declared twice"),
    (_two_links('<joint name="j" type="fixed"><parent link="a"/><child link="zz"/></joint>'),
     "names child link 'zz', which is not declared"),
    (_two_links('<joint name="j" type="fixed"><parent link="a"/></joint>'),
     r"joint 'j' has no <child link=...>"),
    ('<robot><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="a"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint></robot>',
     "link 'c' has two parent joints"),
    ('<robot><link name="a"/><link name="b"/></robot>', "expected exactly one root link"),
    ('<robot><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="b"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="c"/><child link="b"/></joint></robot>',
     "not connected to the root 'a'"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_urdf_is_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(URDFError, match=message) as info:
        kin.parse_urdf(text, "bad.urdf")
    assert str(info.value).startswith("bad.urdf")
    assert isinstance(info.value, kin.KinematicsError)


def _joint(body: str, jtype: str = "revolute", name: str = "j",
           limit: str = '<limit lower="-1" upper="1" velocity="1" effort="1"/>') -> str:
    """A document whose joint 'j' (a → b) sits on line 3, its first sub-element on line 4."""
    return ('<robot name="r">\n<link name="a"/><link name="b"/>\n'
            f'<joint name="{name}" type="{jtype}"><parent link="a"/><child link="b"/>\n'
            f'{body}{limit}\n</joint>\n</robot>')


# Per-element defects: recorded (joint name, line, message), never raised by the reader.
DEFECTS = [
    (_joint("", jtype="hinge"), 3, r"joint 'j': has type 'hinge'; expected one of"),
    (_joint("", limit='<limit lower="1" upper="-1" velocity="1" effort="1"/>'), 4,
     r"joint 'j': limit lower=1.0 > upper=-1.0"),
    (_joint('<axis xyz="0 0 0"/>', jtype="continuous"), 4,
     r"joint 'j': has a zero axis \(0.0, 0.0, 0.0\)"),
    (_joint('<origin xyz="1 2"/>'), 4, r"<origin xyz='1 2'>: expected 3 finite number\(s\) "
                                       r"of magnitude ≤ 1e\+09 m, got 2 value"),
    (_joint('<origin xyz="1 nan 2"/>'), 4, r"'nan' is not finite"),
    (_joint('<origin xyz="1 inf 2"/>'), 4, r"'inf' is not finite"),
    (_joint('<origin xyz="1 1e400 2"/>'), 4, r"<origin xyz='1 1e400 2'>.*'1e400' overflows"),
    (_joint('<origin xyz="1 1e10 2"/>'), 4, r"magnitude ≤ 1e\+09 m; '1e10' is out of range"),
    (_joint('<origin rpy="0 0 1e7"/>'), 4, r"<origin rpy='0 0 1e7'>.*≤ 1e\+06 rad"),
    (_joint('<origin rpy="x y z"/>'), 4, r"rpy='x y z'.*'x' is not a number"),
    (_joint('<origin xyz="1_0 0 0"/>'), 4, r"'1_0' is not a number"),
    (_joint('<origin xyz="0.07, 0, 0"/>'), 4, r"'0.07,' is not a number"),
    (_joint('<axis xyz="0 nan 1"/>', jtype="continuous"), 4, r"<axis xyz='0 nan 1'>"),
    (_joint('<axis xyz="0 0 1e999"/>', jtype="continuous"), 4, r"'1e999' overflows a double"),
    (_joint("", limit='<limit lower="-1.57." upper="1" velocity="1" effort="1"/>'), 4,
     r"<limit lower='-1.57.'>: expected 1 finite number"),
    (_joint("", limit='<limit lower="1e16" upper="2e16" velocity="1" effort="1"/>'), 4,
     r"limit lower=1e\+16 upper=2e\+16 is out of range; expected \|lower\|, \|upper\| ≤ 1e\+06"),
    (_joint("", limit='<limit lower="-1" upper="1" velocity="nan" effort="1"/>'), 4,
     r"<limit velocity='nan'>.*'nan' is not finite"),
    (_joint('<mimic joint="ghost"/>'), 3, "joint 'j': mimics 'ghost', which is not a joint"),
    (_joint('<mimic/>'), 4, "joint 'j': <mimic> without joint="),
    (_joint('<mimic joint="j"/>'), 3, "joint 'j': mimics itself"),
    (_joint('<mimic joint="k" multiplier="1e9"/>'), 4,
     r"<mimic multiplier='1e9'>.*≤ 1e\+06; '1e9' is out of range"),
]


@pytest.mark.parametrize(("text", "line", "message"), DEFECTS)
def test_per_element_defects_are_recorded_not_raised(text: str, line: int, message: str) -> None:
    model = kin.parse_urdf(text, "bad.urdf")
    assert len(model.defects) == 1, model.defects
    d = model.defects[0]
    assert (d.kind, d.name, d.line) == ("joint", "j", line)
    assert re.search(message, d.message), d.message
    err = model.defect_error("j")
    assert isinstance(err, URDFError) and isinstance(err, kin.KinematicsError)
    assert str(err) == f"bad.urdf:{line}: {d.message}"
    assert (err.source, err.line) == ("bad.urdf", line)
    assert model.defect_error("j", kind="link") is None
    assert model.defect_error("a") is None
    assert model.defects_of(["a", "j", "nope"]) == [d]
    # the tree is intact; the joint carries finite, safe placeholders
    j = model.joint("j")
    assert (j.parent, j.child, model.root) == ("a", "b", "a")
    assert j.type in urdf.JOINT_TYPES
    assert all(np.isfinite(j.xyz)) and all(np.isfinite(j.rpy))
    assert np.isclose(np.linalg.norm(j.axis), 1.0)
    assert j.lower <= j.upper
    assert j.mimic is None


def test_placeholders_of_a_defective_joint() -> None:
    model = kin.parse_urdf(_joint('<origin xyz="1 nan 2" rpy="0 0 0.5"/><axis xyz="0 0 0"/>'
                                  '<mimic joint="ghost"/>',
                                  limit='<limit lower="2" upper="1" velocity="1" effort="1"/>'))
    j = model.joint("j")
    assert (j.xyz, j.rpy, j.axis) == ((0.0, 0.0, 0.0), (0.0, 0.0, 0.5), (0.0, 0.0, 1.0))
    assert (j.lower, j.upper, j.mimic) == (-np.inf, np.inf, None)
    # every defect of the element is recorded, in reading order; the error is the first one
    assert [d.message.split(": ", 1)[1][:12] for d in model.defects] == [
        "<origin xyz=", "has a zero a", "limit lower=", "mimics 'ghos"]
    assert "nan" in str(model.defect_error("j"))
    unknown = kin.parse_urdf(_joint("", jtype="spherical")).joint("j")
    assert (unknown.type, unknown.axis, unknown.lower) == ("fixed", (1.0, 0.0, 0.0), -np.inf)
    follower = ('<link name="c"/><joint name="k" type="continuous"><parent link="b"/>'
                '<child link="c"/><mimic joint="j"/></joint>')
    model = kin.parse_urdf(_joint("", jtype="spherical").replace("</robot>", follower + "</robot>"))
    assert [(d.name, d.message) for d in model.defects][1] == (
        "k", "joint 'k': mimics 'j', which has a defect of its own (line 3)")


def test_defects_only_in_other_joints_leave_the_rest_clean() -> None:
    bad = ('<link name="x"/><link name="y"/>'
           '<joint name="jx" type="revolute"><parent link="base"/><child link="x"/>'
           '<limit lower="1" upper="-1" velocity="1" effort="1"/></joint>\n'
           '<joint name="jy" type="ball"><parent link="x"/><child link="y"/></joint>')
    model = kin.parse_urdf(planar2r_urdf(extra=bad), "arm.urdf")
    assert [(d.name, d.line) for d in model.defects] == [("jx", 11), ("jy", 12)]
    assert model.defects_of(["j1", "j2", "tip_joint"]) == []
    assert model.defects_of(["jy"], kind="joint")[0].message.startswith("joint 'jy': has type")
    assert [model.defect_error(n) for n in ("j1", "j2", "tip_joint")] == [None] * 3
    assert str(model.defect_error("jx")).startswith("arm.urdf:11: joint 'jx': limit lower=1.0")
    assert [j.name for j in model.child_joints("base")] == ["j1", "jx"]
    assert model.parent_joint("y").name == "jy" and model.parent_joint("base") is None


def test_error_names_the_line() -> None:
    text = planar2r_urdf().replace('<axis xyz="0 0 1"/><limit lower="-3.14"',
                                   '<axis xyz="0 0 1"/><limit lower="3.14"', 1)
    text = text.replace('upper="3.14" velocity="2" effort="10"/></joint>\n  <joint name="j2"',
                        'upper="-3.14" velocity="2" effort="10"/></joint>\n  <joint name="j2"', 1)
    err = kin.parse_urdf(text, "arm.urdf").defect_error("j1")
    assert err is not None
    assert re.match(r"arm.urdf:5: joint 'j1': limit lower=3.14 > upper=-3.14$", str(err))
    assert err.line == 5 and text.splitlines()[4].lstrip().startswith("<axis")


@pytest.mark.parametrize("limit", ['velocity="0" effort="0"', 'velocity="-1" effort="-5"',
                                   'velocity="0"', 'effort="0"', 'velocity="1e30" effort="0"'])
@pytest.mark.parametrize("jtype", ["revolute", "continuous", "prismatic", "fixed"])
def test_velocity_or_effort_not_positive_means_not_given(limit: str, jtype: str) -> None:
    model = kin.parse_urdf(_joint("", jtype=jtype, limit=f'<limit lower="-1" upper="1" {limit}/>'))
    j = model.joint("j")
    assert model.defects == ()
    assert (j.velocity, j.effort) == (np.inf, np.inf)


def test_velocity_and_effort_are_read_when_positive() -> None:
    j = kin.parse_urdf(_joint("", limit='<limit lower="-1" upper="2" velocity="3" effort="0.5"/>'))
    assert (j.joint("j").lower, j.joint("j").upper) == (-1.0, 2.0)
    assert (j.joint("j").velocity, j.joint("j").effort) == (3.0, 0.5)


def test_huge_limits_mean_unbounded() -> None:
    """Real files (pybullet_data's iris) write ±1e16 for "no limit" on revolute joints."""
    j = kin.parse_urdf(_joint("", limit='<limit lower="-1e16" upper="1e16" velocity="1" '
                                        'effort="1"/>')).joint("j")
    assert (j.lower, j.upper) == (-np.inf, np.inf)
    one_sided = kin.parse_urdf(_joint("", limit='<limit lower="-0.5" upper="1e16" velocity="1" '
                                                'effort="1"/>')).joint("j")
    assert (one_sided.lower, one_sided.upper) == (-0.5, np.inf)


@pytest.mark.parametrize(("axis", "expected"), [
    ("0 0 1e200", (0.0, 0.0, 1.0)),
    ("1e308 1e308 0", (2 ** -0.5, 2 ** -0.5, 0.0)),
    ("0 -3e-310 4e-310", (0.0, -0.6, 0.8)),
    ("0 3 4", (0.0, 0.6, 0.8)),
    ("-2 0 0", (-1.0, 0.0, 0.0)),
])
def test_axis_is_normalised_without_overflow(axis: str, expected: tuple[float, ...]) -> None:
    model = kin.parse_urdf(_joint(f'<axis xyz="{axis}"/>', jtype="continuous"))
    assert model.defects == ()
    np.testing.assert_allclose(model.joint("j").axis, expected, rtol=1e-15, atol=0)
    assert np.linalg.norm(model.joint("j").axis) == pytest.approx(1.0, abs=1e-15)


def test_mimic_of_a_joint_elsewhere_in_the_file_is_not_a_defect() -> None:
    branch = ('<link name="x"/><joint name="jx" type="revolute"><parent link="base"/>'
              '<child link="x"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint>')
    text = planar2r_urdf(extra=branch).replace(
        '<origin xyz="1.0 0 0"/><axis xyz="0 0 1"/>',
        '<origin xyz="1.0 0 0"/><axis xyz="0 0 1"/><mimic joint="jx" multiplier="-2" '
        'offset="0.1"/>')
    model = kin.parse_urdf(text)
    assert model.defects == ()
    assert model.joint("j2").mimic == ("jx", -2.0, 0.1)


def test_mimic_cycles_and_non_moving_leaders_are_defects() -> None:
    def rev(name: str, parent: str, child: str, mimic: str = "") -> str:
        return (f'<joint name="{name}" type="revolute"><parent link="{parent}"/>'
                f'<child link="{child}"/><limit lower="-1" upper="1" velocity="1" effort="1"/>'
                f'{mimic}</joint>\n')
    links = "".join(f'<link name="l{i}"/>' for i in range(6))
    text = (f'<robot name="r">{links}\n'
            + rev("a", "l0", "l1", '<mimic joint="b"/>')
            + rev("b", "l1", "l2", '<mimic joint="a"/>')
            + rev("c", "l2", "l3", '<mimic joint="a"/>')       # leads into the cycle
            + '<joint name="f" type="fixed"><parent link="l3"/><child link="l4"/></joint>\n'
            + rev("d", "l4", "l5", '<mimic joint="f"/>')
            + "</robot>")
    model = kin.parse_urdf(text)
    # in document order of the joints
    assert [(d.name, d.line) for d in model.defects] == [("a", 2), ("b", 3), ("d", 6)]
    assert re.search(r"mimic chain is a cycle through \['a', 'b'\]", model.defects[0].message)
    assert "mimics 'f', which is a fixed joint" in model.defects[2].message
    assert model.joint("c").mimic == ("a", 1.0, 0.0)  # not itself in the cycle
    assert model.joint("a").mimic is None and model.joint("b").mimic is None


def test_only_what_kinematics_needs_is_read() -> None:
    """A fixed joint's limit, axis and mimic are not read (no defects from them); links'
    contents (inertial, visual, collision) are never read."""
    text = ('<robot name="r"><link name="a"><inertial><mass value="nan"/></inertial></link>'
            '<link name="b"/><joint name="j" type="fixed"><parent link="a"/><child link="b"/>'
            '<axis xyz="0 0 0"/><limit velocity="nan"/><mimic joint="ghost"/></joint></robot>')
    model = kin.parse_urdf(text)
    assert model.defects == ()
    assert model.joint("j").mimic is None


def test_lenient_whitespace_before_declaration_and_nul_after_document() -> None:
    text = "\n\n\n" + _joint('<origin xyz="1 nan 2"/>') + "\n\0\0"
    text = text.replace('<robot name="r">', '<?xml version="1.0"?>\n<robot name="r">', 1)
    for doc in (text, text.encode()):
        model = kin.parse_urdf(doc)
        assert model.defects[0].line == 8  # 3 blank lines + declaration line + 4: unchanged


def test_text_and_bytes_with_a_declared_encoding() -> None:
    text = ('<?xml version="1.0" encoding="ISO-8859-1"?>'
            '<robot name="Würfel"><link name="a"/></robot>')
    assert kin.parse_urdf(text).name == "Würfel"  # a str is already decoded
    assert kin.parse_urdf(text.encode("latin-1")).name == "Würfel"  # bytes follow the declaration


def test_ten_thousand_joint_chain_parses() -> None:
    n = 10_000
    parts = ['<robot name="chain"><link name="l0"/>']
    for i in range(1, n + 1):
        parts.append(f'<link name="l{i}"/><joint name="j{i}" type="continuous">'
                     f'<parent link="l{i - 1}"/><child link="l{i}"/><origin xyz="0 0 0.1"/>'
                     f'<axis xyz="0 {i % 2} {1 - i % 2}"/><mimic joint="j{i - 1}"/></joint>\n')
    model = kin.parse_urdf("".join(parts).replace('<mimic joint="j0"/>', "") + "</robot>")
    assert len(model.joints) == n and len(model.links) == n + 1 and model.defects == ()
    assert model.root == "l0"
    assert model.joint("j9999").mimic == ("j9998", 1.0, 0.0)
    assert model.parent_joint(f"l{n}").name == f"j{n}"


def test_size_cap_and_its_overrides(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = planar2r_urdf()
    size = len(text.encode())
    with pytest.raises(URDFError, match=rf"arm.urdf: document is {size} bytes, more than the cap "
                                        rf"of 100 bytes; raise it with max_bytes= or the "
                                        rf"environment variable KINEMATICS_URDF_MAX_BYTES"):
        kin.parse_urdf(text, "arm.urdf", max_bytes=100)
    assert len(kin.parse_urdf(text, max_bytes=size).joints) == 3
    monkeypatch.setenv("KINEMATICS_URDF_MAX_BYTES", "100")
    with pytest.raises(URDFError, match="cap of 100 bytes"):
        kin.parse_urdf(text)
    assert len(kin.parse_urdf(text, max_bytes=10 * size).joints) == 3  # argument wins
    f = tmp_path / "arm.urdf"
    f.write_text(text)
    with pytest.raises(URDFError, match=rf"arm.urdf: file is {size} bytes, more than the cap"):
        kin.read_urdf(f)
    assert kin.read_urdf(f, max_bytes=size).name == "p2r"
    monkeypatch.setenv("KINEMATICS_URDF_MAX_BYTES", "lots")
    with pytest.raises(kin.InvalidValueError, match="KINEMATICS_URDF_MAX_BYTES='lots': expected "
                                                    "a positive integer"):
        kin.parse_urdf(text)
    monkeypatch.delenv("KINEMATICS_URDF_MAX_BYTES")
    with pytest.raises(kin.InvalidValueError, match="max_bytes: expected a positive integer"):
        kin.parse_urdf(text, max_bytes=0)
    assert urdf.DEFAULT_MAX_BYTES == 64 * 2 ** 20 and urdf.DEFAULT_MAX_ELEMENTS == 200_000


def test_element_cap_and_its_overrides(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = planar2r_urdf()  # 4 links + 3 joints
    assert len(kin.parse_urdf(text, max_elements=7).links) == 4
    with pytest.raises(URDFError, match=r"arm.urdf:\d+: more than 6 <link> \+ <joint> elements "
                                        r"\(the cap\); raise it with max_elements= or the "
                                        r"environment variable KINEMATICS_URDF_MAX_ELEMENTS"):
        kin.parse_urdf(text, "arm.urdf", max_elements=6)
    monkeypatch.setenv("KINEMATICS_URDF_MAX_ELEMENTS", "6")
    with pytest.raises(URDFError, match="more than 6"):
        kin.parse_urdf(text)


def test_messages_are_capped_in_length() -> None:
    name = "n" * 5000
    with pytest.raises(URDFError) as info:
        kin.parse_urdf(f'<robot><link name="{name}"/><link name="{name}"/></robot>',
                       "/" + "d" * 1000 + "/arm.urdf")
    message = str(info.value)
    assert len(message) <= kin.exceptions.MAX_MESSAGE_CHARS
    assert message.startswith("…[") and "/arm.urdf:1: link 'nnn" in message
    assert message.endswith("is declared twice (lines 1 and 1)")
    model = kin.parse_urdf(_joint(f'<origin xyz="{"1" * 3000} 0 0"/>'))
    assert len(str(model.defect_error("j"))) <= kin.exceptions.MAX_MESSAGE_CHARS
    err = kin.UnknownLinkError("x" * 1000, [f"link{i}" for i in range(10_000)])
    assert len(str(err)) <= kin.exceptions.MAX_MESSAGE_CHARS
    assert "(+99" in str(err) and "more)]" in str(err)
    assert err.available[-1] == "link9999"  # the data is whole, only the message is cut
    assert len(str(kin.KinematicsError("e" * 10_000))) == kin.exceptions.MAX_MESSAGE_CHARS


def test_truncate_and_format_names() -> None:
    from kinematics.exceptions import format_names, truncate

    assert truncate("short") == "short"
    for n in range(16, 300):
        for keep in ("middle", "end", "start"):
            out = truncate("x" * 1000, n, keep=keep)
            m = re.search(r"…\[(\d+) chars\]…", out)
            assert len(out) == n and m is not None
            assert int(m.group(1)) + out.count("x") == 1000  # the count is exact
            assert out.startswith("x") == (keep != "end") and out.endswith("x") == (keep != "start")
    cut = truncate("".join(f"{i:04d}" for i in range(100)), 50)
    head, rest = cut.split("…[")
    count, tail = rest.split(" chars]…")
    assert len(head) + int(count) + len(tail) == 400
    assert format_names([]) == "[]"
    assert format_names(["a"] * 3) == "['a', 'a', 'a']"
    assert format_names(range(1000), 30).endswith("more)]")


def test_warning_classes() -> None:
    from kinematics.exceptions import KinematicsWarning, URDFWarning

    assert issubclass(URDFWarning, KinematicsWarning) and issubclass(KinematicsWarning,
                                                                     UserWarning)
    assert not issubclass(URDFWarning, kin.KinematicsError)


def test_model_pickles_with_its_defects() -> None:
    model = kin.parse_urdf(_joint('<mimic joint="ghost"/>'), "m.urdf")
    back = pickle.loads(pickle.dumps(model))
    assert back == model and back.defects == model.defects
    assert back.joint("j") == model.joint("j") and back.root == "a"
    assert str(back.defect_error("j")) == str(model.defect_error("j"))


# Real files refused for a file-level reason, and the reason. Both have no <link> at all:
# ur3.urdf is an empty xacro output, torus_deform.urdf describes a <deformable>.
REFUSED_REAL = {"ur_description/urdf/ur3.urdf": "no <link> elements",
                "torus_deform.urdf": "no <link> elements"}


def test_every_real_urdf_parses(capsys) -> None:  # type: ignore[no-untyped-def]
    """pybullet_data and example-robot-data: ~1,160 URDFs this project did not write."""
    files = check_pinocchio().real_urdfs()
    if len(files) < 100:
        pytest.skip("pybullet_data / example-robot-data not installed")
    refused, defective = {}, 0
    for f in files:
        try:
            defective += bool(kin.read_urdf(f).defects)
        except URDFError as exc:
            refused[str(f)] = str(exc)
    unexpected = {f: m for f, m in refused.items()
                  if not any(f.endswith(k) and v in m for k, v in REFUSED_REAL.items())}
    assert unexpected == {}
    assert len(refused) == len(REFUSED_REAL)
    assert 0 < defective < 20  # a few files carry real defects (e.g. 'spherical' joints)
    assert capsys.readouterr() == ("", "")


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<robot name="&lol3;"><link name="a"/></robot>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<robot name="&xxe;"><link name="a"/></robot>"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY,
                                  '<!DOCTYPE robot><robot><link name="a"/></robot>'])
def test_doctype_and_entities_are_refused(text: str) -> None:
    with pytest.raises(URDFError, match="DOCTYPE declarations are not allowed"):
        kin.parse_urdf(text, "evil.urdf")


@pytest.mark.parametrize("jtype", ["floating", "planar"])
def test_floating_and_planar_joints_on_the_chain_are_refused(jtype: str) -> None:
    text = planar2r_urdf().replace('name="j2" type="revolute"', f'name="j2" type="{jtype}"')
    with pytest.raises(URDFError, match=f"joint 'j2' is {jtype}; only revolute"):
        kin.robot_from_urdf(text)


def test_unreadable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(URDFError, match="cannot read file"):
        kin.read_urdf(tmp_path / "missing.urdf")


def test_base_and_tip_selection() -> None:
    branch = ('<link name="x"/><joint name="jx" type="revolute"><parent link="l1"/>'
              '<child link="x"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint>')
    text = planar2r_urdf(extra=branch)
    whole = kin.robot_from_urdf(text)  # a branching tree without tip=: the whole subtree
    assert whole.tip_links == ("tip", "x") and whole.joint_names == ("j1", "j2", "jx")
    with pytest.raises(kin.InvalidValueError, match=r"2 tips \['tip', 'x'\]; pass link="):
        kin.fk(whole, [0.0, 0.0, 0.0])
    assert kin.robot_from_urdf(text, tip="x").joint_names == ("j1", "jx")
    sub = kin.robot_from_urdf(text, base="l1", tip="tip")
    assert sub.joint_names == ("j2",)
    np.testing.assert_allclose(kin.fk(sub, [0.0])[:3, 3], [1.8, 0, 0], atol=0)  # j2 sits 1 m out
    with pytest.raises(URDFError, match="tip link 'base' is not below base link 'l1'"):
        kin.robot_from_urdf(text, base="l1", tip="base")
    with pytest.raises(URDFError, match=r"tip link 'nope' does not exist; available links"):
        kin.robot_from_urdf(text, tip="nope")
    with pytest.raises(URDFError, match=r"base link 'nope' does not exist"):
        kin.robot_from_urdf(text, base="nope", tip="tip")
    # links beyond a non-chain moving joint are not evaluable
    robot = kin.robot_from_urdf(text, tip="tip")
    assert "x" not in robot.links
    with pytest.raises(kin.UnknownLinkError, match=r"link 'x' is in <string> but not part of "
                                                   r"this model: its path moves joints"):
        kin.fk(robot, [0.0, 0.0], "x")


def test_mimic_of_a_joint_outside_the_chain() -> None:
    branch = ('<link name="x"/><joint name="jx" type="revolute"><parent link="base"/>'
              '<child link="x"/><limit lower="-1" upper="1" velocity="1" effort="1"/></joint>')
    text = planar2r_urdf(extra=branch).replace(
        '<origin xyz="1.0 0 0"/><axis xyz="0 0 1"/>',
        '<origin xyz="1.0 0 0"/><axis xyz="0 0 1"/><mimic joint="jx"/>')
    robot = kin.robot_from_urdf(text, tip="tip")   # the leader, on a sibling branch, joins q
    assert robot.joint_names == ("j1", "jx")
    J = kin.jacobian(robot, [0.3, 0.2])
    Jx = kin.jacobian(kin.robot_from_urdf(planar2r_urdf(), tip="tip"), [0.3, 0.2])
    np.testing.assert_allclose(J[:, 1], Jx[:, 1], atol=1e-15)   # j2 = jx moves like j2

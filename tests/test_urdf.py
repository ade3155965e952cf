"""URDF reader: joint types, defaults, safety, and every malformed-input path by message."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import planar2r_urdf

import kinematics as kin
from kinematics import URDFError


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


BAD = [
    ("<robot", "malformed XML"),
    ("", "malformed XML|empty document"),
    ('<robot name="r"/>', "no <link> elements"),
    ('<notrobot/>', r"root element is <notrobot>, expected <robot>"),
    ('<robot><link name="a"/><link name="a"/></robot>', "link 'a' is declared twice"),
    ('<robot><link/></robot>', "<link> without a name"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="hinge"><parent link="a"/>'
     '<child link="b"/></joint></robot>', r"joint 'j' has type 'hinge'; expected one of"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="fixed"><parent link="a"/>'
     '<child link="zz"/></joint></robot>', "names child link 'zz', which is not declared"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="fixed"><parent link="a"/>'
     '</joint></robot>', r"joint 'j' has no <child link=...>"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="revolute"><parent link="a"/>'
     '<child link="b"/></joint></robot>', "revolute joint 'j' has no <limit>"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="revolute"><parent link="a"/>'
     '<child link="b"/><limit lower="1" upper="-1" velocity="1" effort="1"/></joint></robot>',
     "limit lower=1.0 > upper=-1.0"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="revolute"><parent link="a"/>'
     '<child link="b"/><limit lower="-1" upper="1" velocity="0" effort="1"/></joint></robot>',
     "expected velocity > 0"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="continuous">'
     '<parent link="a"/><child link="b"/><axis xyz="0 0 0"/></joint></robot>', "zero axis"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="fixed"><parent link="a"/>'
     '<child link="b"/><origin xyz="1 2"/></joint></robot>', r"expected 3 finite number"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="fixed"><parent link="a"/>'
     '<child link="b"/><origin xyz="1 nan 2"/></joint></robot>', r"expected 3 finite number"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="fixed"><parent link="a"/>'
     '<child link="b"/><origin rpy="x y z"/></joint></robot>', r"rpy='x y z'"),
    ('<robot><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="a"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="b"/><child link="c"/></joint></robot>',
     "link 'c' has two parent joints"),
    ('<robot><link name="a"/><link name="b"/></robot>', "expected exactly one root link"),
    ('<robot><link name="a"/><link name="b"/><link name="c"/>'
     '<joint name="j1" type="fixed"><parent link="b"/><child link="c"/></joint>'
     '<joint name="j2" type="fixed"><parent link="c"/><child link="b"/></joint></robot>',
     "not connected to the root 'a'"),
    ('<robot><link name="a"/><link name="b"/><joint name="j" type="continuous">'
     '<parent link="a"/><child link="b"/><mimic joint="ghost"/></joint></robot>',
     "mimics 'ghost', which is not a joint"),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_malformed_urdf_is_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(URDFError, match=message) as info:
        kin.parse_urdf(text, "bad.urdf")
    assert str(info.value).startswith("bad.urdf")
    assert isinstance(info.value, kin.KinematicsError)


def test_error_names_the_line() -> None:
    text = planar2r_urdf().replace('<axis xyz="0 0 1"/><limit lower="-3.14"',
                                   '<axis xyz="0 0 1"/><limit lower="3.14"', 1)
    with pytest.raises(URDFError, match=r"arm.urdf:\d+: joint 'j1': limit lower=3.14") as info:
        kin.parse_urdf(text.replace('upper="3.14" velocity="2" effort="10"/></joint>\n  <joint '
                                    'name="j2"', 'upper="-3.14" velocity="2" effort="10"/>'
                                    '</joint>\n  <joint name="j2"', 1), "arm.urdf")
    assert info.value.line is not None and info.value.line > 1


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

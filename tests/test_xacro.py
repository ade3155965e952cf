"""xacro expansion: arguments, $(find)/package:// against package_dirs, every error by
message, hooks restored, and Robotics Toolbox's arm xacros cross-checked with xacrodoc."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import rtb_aliases

import kinematics as kin
from kinematics import URDFError
from kinematics._xacro import expand_xacro

pytest.importorskip("xacro")

DATA = Path(__file__).parent / "data" / "xacro" / "pkgs"
SRC = DATA / "demo_src"  # package "demo_description" (named by its package.xml)
PARTS = DATA / "demo_parts"  # package "demo_parts" (named by its folder)
ARM = SRC / "urdf" / "arm.urdf.xacro"


def test_macro_arg_find_and_package_uris() -> None:
    text = expand_xacro(ARM, {"length": "0.7"}, [DATA])
    model = kin.parse_urdf(text)
    assert model.name == "demo_arm" and model.defects == ()
    assert [j.name for j in model.joints] == ["left_upper_joint", "left_fore_joint",
                                              "left_tool_joint"]
    fore, tool = model.joint("left_fore_joint"), model.joint("left_tool_joint")
    assert fore.xyz == (0.7, 0.0, 0.0) and tool.xyz == (0.35, 0.0, 0.0)  # $(arg), ${expr}
    assert fore.effort == float("inf")  # effort="0" in the macro: not given
    assert (fore.lower, fore.upper) == pytest.approx((-1.5707963267948966, 1.5707963267948966))
    # package:// resolved to absolute paths where the package is found, else untouched
    assert f'filename="{SRC.resolve()}/meshes/base.stl"' in text  # by package.xml <name>
    assert f'filename="{PARTS.resolve()}/meshes/segment.stl"' in text  # by folder name
    assert 'filename="package://elsewhere/tool.stl"' in text
    assert "package://demo" not in text
    # defaults of <xacro:arg> apply; given args override them
    renamed = kin.parse_urdf(expand_xacro(ARM, {"length": 1, "prefix": "r_"}, [DATA]))
    assert renamed.links[0] == "r_base" and renamed.joint("r_fore_joint").xyz[0] == 1.0


@pytest.mark.parametrize("dirs", [
    [SRC, PARTS],  # each entry a package folder
    [str(DATA)],  # a folder holding packages
    [DATA.parent],  # packages two levels down
    {"demo_parts": PARTS, "demo_description": SRC},  # explicit names
])
def test_package_dirs_forms(dirs: object) -> None:
    text = expand_xacro(ARM, {"length": "0.5"}, dirs)  # type: ignore[arg-type]
    assert f'"{PARTS.resolve()}/meshes/segment.stl"' in text
    assert kin.parse_urdf(text).joint("left_fore_joint").xyz[0] == 0.5


def test_read_urdf_expands_xacro_files() -> None:
    model = kin.read_urdf(ARM, xacro_args={"length": "2"}, package_dirs=[DATA])
    assert model.source == f"{ARM} (xacro output)"
    assert model.joint("left_tool_joint").xyz == (1.0, 0.0, 0.0)
    with pytest.raises(URDFError, match="the file name does not end in '.xacro'"):
        kin.read_urdf(DATA / "arm.urdf", package_dirs=[DATA])


def test_missing_package_names_it_and_the_dirs_searched() -> None:
    bad = SRC / "urdf" / "needs_missing.urdf.xacro"
    with pytest.raises(URDFError, match=r"needs_missing.urdf.xacro: xacro: package 'no_such_pkg' "
                                        r"not found \(needed by \$\(find no_such_pkg\)"
                                        r".*searched package_dirs \['/.*/pkgs'\]; pass"):
        expand_xacro(bad, package_dirs=[DATA])
    with pytest.raises(URDFError, match="package 'no_such_pkg' not found.*no package_dirs were "
                                        "given"):
        expand_xacro(bad)
    with pytest.raises(URDFError, match=r"package 'demo_parts' not found.*searched the "
                                        r"package_dirs mapping \['demo_description'\]"):
        expand_xacro(ARM, {"length": "1"}, {"demo_description": SRC})


def test_missing_argument_is_named() -> None:
    with pytest.raises(URDFError, match=r"arm.urdf.xacro: xacro argument 'length' is required "
                                        r"but not given .*pass xacro_args=\{'length': \.\.\.\} "
                                        r"\(given: \['prefix'\]\)"):
        expand_xacro(ARM, {"prefix": "x_"}, [DATA])


def test_xml_syntax_error_gives_file_and_line() -> None:
    with pytest.raises(URDFError, match=r"broken.urdf.xacro:5: malformed XML in xacro input: "
                                        "mismatched tag"):
        expand_xacro(SRC / "urdf" / "broken.urdf.xacro")


def test_xacro_evaluation_error() -> None:
    with pytest.raises(URDFError, match=r"undefined_property.urdf.xacro: xacro could not expand "
                                        r"the file: name 'no_such_property' is not defined"):
        expand_xacro(SRC / "urdf" / "undefined_property.urdf.xacro")


def test_doctype_is_refused_in_xacro_input() -> None:
    with pytest.raises(URDFError, match=r"doctype.urdf.xacro:2: DOCTYPE declarations are not "
                                        "allowed"):
        expand_xacro(SRC / "urdf" / "doctype.urdf.xacro")


def test_missing_file_and_size_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(URDFError, match="nope.urdf.xacro: cannot read file"):
        expand_xacro(tmp_path / "nope.urdf.xacro")
    with pytest.raises(URDFError, match=r"arm.urdf.xacro: xacro input is 977 bytes, more than "
                                        r"the cap of 800 bytes; raise it with max_bytes="):
        expand_xacro(ARM, {"length": "1"}, [DATA], max_bytes=800)


def test_xacro_not_installed_names_the_extra(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "xacro", None)
    with pytest.raises(URDFError, match=r"arm.urdf.xacro: expanding a .xacro file needs the "
                                        r"optional 'xacro' package .*pip install "
                                        r"'kinematics\[xacro\]'"):
        expand_xacro(ARM)


def test_hooks_and_xacro_globals_are_restored() -> None:
    import xacro
    from xacro import substitution_args as sa

    before = (sa._eval_find, sa._eval_dict["find"], xacro.parse, len(xacro.all_includes))
    expand_xacro(ARM, {"length": "1"}, [DATA])
    with pytest.raises(URDFError):
        expand_xacro(SRC / "urdf" / "needs_missing.urdf.xacro")
    assert (sa._eval_find, sa._eval_dict["find"], xacro.parse,
            len(xacro.all_includes)) == before
    assert xacro.substitution_args_context.get("arg", {}) == {}


# ----------------------------------------------------- Robotics Toolbox's xacro folder


def _rtb_xacro_root() -> Path:
    rtbdata = pytest.importorskip("rtbdata")
    return Path(rtbdata.__file__).parent / "xacro"


# Robot descriptions in rtb-data that expand with package_dirs=[the xacro folder] alone.
RTB_ROBOTS = [
    "clearpath_ridgeback_description/urdf/ridgeback.urdf.xacro",
    "qut_frankie_description/robots/dual_panda_example.urdf.xacro",
    "qut_frankie_description/robots/frankieOmni_arm.urdf.xacro",
    "qut_frankie_description/robots/frankieOmni_arm_hand.urdf.xacro",
    "qut_frankie_description/robots/frankie_arm.urdf.xacro",
    "qut_frankie_description/robots/frankie_arm_hand.urdf.xacro",
    "qut_frankie_description/robots/hand.urdf.xacro",
    "qut_frankie_description/robots/panda_arm.urdf.xacro",
    "qut_frankie_description/robots/panda_arm_hand.urdf.xacro",
    *(f"trossen_descriptions/urdf/{n}.urdf.xacro" for n in (
        "px100", "px150", "pxxls", "rx150", "rx200", "vx250", "vx300", "vx300s", "vxxmd",
        "vxxms", "wx200", "wx250", "wx250s", "wxxmd", "wxxms")),
    "unimation_puma560_description/urdf/puma560_robot.urdf.xacro",
]
# Descriptions whose $(find) names differ from rtb-data's folder names: ABB and KUKA.
KUKA = ["kr10/urdf/kr10r1100sixx", "kr120/urdf/kr120r2500pro", "kr150/urdf/kr150_2",
        "kr16/urdf/kr16_2", "kr3/urdf/kr3r540", "kr5/urdf/kr5_arc", "kr6/urdf/kr6r700sixx",
        "kr6/urdf/kr6r900sixx", "lbr_iiwa/urdf/lbr_iiwa_14_r820"]
RTB_ALIASED = ["abb_irb140_description/urdf/irb140.xacro",
               *(f"kuka_description/kuka_{k}.xacro" for k in KUKA)]


def _xacrodoc_joints(path: Path, root: Path, names: dict[str, Path] | None) -> tuple:
    """The same file expanded by xacrodoc (Robotics Toolbox's route), as parsed joints."""
    xacrodoc = pytest.importorskip("xacrodoc")
    import xacro
    from xacrodoc import packages

    packages.reset()
    xacro.init_stacks(str(path))  # xacrodoc compiles text: let relative includes see the file
    try:
        packages.update_package_cache({k: str(v) for k, v in (names or {
            d.name: d for d in root.iterdir() if d.is_dir()}).items()})
        text = xacrodoc.XacroDoc.from_file(str(path), resolve_packages=False).to_urdf_string()
    finally:
        packages.reset()
        xacro.init_stacks(None)
    return tuple(replace(j, line=0) for j in kin.parse_urdf(text).joints)


def _check(rel: str, aliased: bool) -> None:
    root = _rtb_xacro_root()
    names = rtb_aliases(root) if aliased else None
    text = expand_xacro(root / rel, package_dirs=names or [root])
    model = kin.parse_urdf(text, rel)
    assert model.defects == () and len(model.joints) >= 2
    assert "package://" not in text  # every mesh and texture package was found
    assert tuple(replace(j, line=0) for j in model.joints) == _xacrodoc_joints(root / rel, root,
                                                                               names)


@pytest.mark.parametrize("rel", RTB_ROBOTS)
def test_rtb_robot_xacros_expand(rel: str) -> None:
    _check(rel, aliased=False)


@pytest.mark.parametrize("rel", RTB_ALIASED)
def test_rtb_abb_and_kuka_xacros_expand_with_a_package_mapping(rel: str) -> None:
    _check(rel, aliased=True)


def test_rtb_failures_are_clear() -> None:
    root = _rtb_xacro_root()
    with pytest.raises(URDFError, match="package 'kuka_kr5_support' not found"):
        expand_xacro(root / "kuka_description/kuka_kr5/urdf/kr5_arc.xacro", package_dirs=[root])
    # upstream bug in rtb-data's KR210 macro: it uses a property 'deg' that it never defines
    with pytest.raises(URDFError, match=r"kr210l150.xacro: xacro could not expand the file: "
                                        r"name 'deg' is not defined .*in macro"):
        expand_xacro(root / "kuka_description/kuka_kr210/urdf/kr210l150.xacro",
                     package_dirs=rtb_aliases(root))
    # the SICK laser mounts $(find lms1xx), a package rtb-data does not ship
    with pytest.raises(URDFError, match="package 'lms1xx' not found"):
        expand_xacro(root / "clearpath_ridgeback_description/urdf/accessories/"
                            "sick_lms1xx_mount.urdf.xacro", package_dirs=[root])

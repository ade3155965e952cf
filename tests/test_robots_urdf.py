"""Checks of the bundled URDF descriptions in ``robots/``.

Structure and physical plausibility are checked on the XML itself; kinematics are checked
with PyBullet's forward kinematics (URDF link frames, ``getLinkState(...)[4:6]``) against
pybullet_data's Panda and iiwa, a standard-DH product for the UR5, and Robotics Toolbox's
PUMA 560. PyBullet works in single precision, so its poses agree to about 1e-7; the
exact (double precision) claims for UR5 and PUMA are checked with Pinocchio as well.
"""

from __future__ import annotations

import doctest
import math
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from kinematics import robots

POS_TOL = 1e-5  # [m]   PyBullet cross-checks
ROT_TOL = 1e-5  # [rad]
EXACT_TOL = 1e-12  # double-precision checks (Pinocchio)
N_SAMPLES = 20

# Every joint of every description, with its type. The order is the URDF (and PyBullet) order.
EXPECTED_JOINTS: dict[str, dict[str, str]] = {
    "planar2r": {"joint1": "revolute", "joint2": "revolute", "tip_joint": "fixed"},
    "panda": {
        **{f"panda_joint{i}": "revolute" for i in range(1, 8)},
        "panda_joint8": "fixed",
        "panda_hand_joint": "fixed",
        "panda_hand_tcp_joint": "fixed",
        "panda_finger_joint1": "prismatic",
        "panda_finger_joint2": "prismatic",
    },
    "iiwa14": {**{f"iiwa_joint_{i}": "revolute" for i in range(1, 8)}, "iiwa_joint_ee": "fixed"},
    "ur5": {
        "shoulder_pan_joint": "revolute",
        "shoulder_lift_joint": "revolute",
        "elbow_joint": "revolute",
        "wrist_1_joint": "revolute",
        "wrist_2_joint": "revolute",
        "wrist_3_joint": "revolute",
        "wrist_3_link-tool0_fixed_joint": "fixed",
        "ee_fixed_joint": "fixed",
    },
    "puma560": {**{f"joint{i}": "revolute" for i in range(1, 7)}, "tool0_joint": "fixed"},
}

# Movable joints on the chain base -> default tip, in order.
EXPECTED_CHAIN: dict[str, list[str]] = {
    "planar2r": ["joint1", "joint2"],
    "panda": [f"panda_joint{i}" for i in range(1, 8)],
    "iiwa14": [f"iiwa_joint_{i}" for i in range(1, 8)],
    "ur5": [
        "shoulder_pan_joint",
        "shoulder_lift_joint",
        "elbow_joint",
        "wrist_1_joint",
        "wrist_2_joint",
        "wrist_3_joint",
    ],
    "puma560": [f"joint{i}" for i in range(1, 7)],
}

# Pure frames (tool centre points, flanges): a visual marker, no collision shape.
FRAME_LINKS = {"tip", "panda_hand_tcp", "iiwa_link_ee", "tool0", "ee_link"}

# Datasheet limits: (lower, upper, velocity, effort) per movable joint.
DEG = math.pi / 180
_PANDA_LOWER = [-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973]
_PANDA_UPPER = [2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973]
_PANDA_VEL = [2.175] * 4 + [2.61] * 3
_PANDA_TAU = [87.0] * 4 + [12.0] * 3
_IIWA_RANGE = [170, 120, 170, 120, 170, 120, 175]
_IIWA_VEL = [85, 85, 100, 75, 130, 135, 135]
_IIWA_TAU = [320, 320, 176, 176, 110, 40, 40]
EXPECTED_LIMITS: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "planar2r": {
        "joint1": (-math.pi, math.pi, 2.0, 50.0),
        "joint2": (-math.pi, math.pi, 2.0, 25.0),
    },
    "panda": {
        **{
            f"panda_joint{i + 1}": (_PANDA_LOWER[i], _PANDA_UPPER[i], _PANDA_VEL[i], _PANDA_TAU[i])
            for i in range(7)
        },
        "panda_finger_joint1": (0.0, 0.04, 0.05, 70.0),
        "panda_finger_joint2": (0.0, 0.04, 0.05, 70.0),
    },
    "iiwa14": {
        f"iiwa_joint_{i + 1}": (
            -_IIWA_RANGE[i] * DEG,
            _IIWA_RANGE[i] * DEG,
            _IIWA_VEL[i] * DEG,
            float(_IIWA_TAU[i]),
        )
        for i in range(7)
    },
    "ur5": {
        name: (-2 * math.pi, 2 * math.pi, math.pi, 150.0 if i < 3 else 28.0)
        for i, name in enumerate(EXPECTED_CHAIN["ur5"])
    },
    "puma560": {
        f"joint{i + 1}": (lo * DEG, hi * DEG, vel, tau)
        for i, (lo, hi, vel, tau) in enumerate(
            [
                (-160, 160, 1.9, 97.6),
                (-45, 225, 1.5, 186.4),
                (-225, 45, 2.4, 89.4),
                (-110, 170, 5.3, 24.2),
                (-100, 100, 5.0, 20.1),
                (-266, 266, 5.7, 21.3),
            ]
        )
    },
}

ROBOT_NAMES = ["planar2r", "panda", "iiwa14", "ur5", "puma560"]


# --------------------------------------------------------------------------- helpers
def _root(name: str) -> ET.Element:
    return ET.parse(robots.urdf_path(name)).getroot()


def _floats(text: str | None, default: str = "0 0 0") -> np.ndarray:
    return np.array([float(v) for v in (text or default).split()])


def _joints(root: ET.Element) -> dict[str, ET.Element]:
    return {j.attrib["name"]: j for j in root.findall("joint")}


def _limits(name: str) -> dict[str, tuple[float, float]]:
    """(lower, upper) of every movable joint, from the URDF."""
    out = {}
    for jname, joint in _joints(_root(name)).items():
        limit = joint.find("limit")
        if limit is not None:
            out[jname] = (float(limit.attrib["lower"]), float(limit.attrib["upper"]))
    return out


def _random_q(name: str, joint_names: list[str], rng: np.random.Generator) -> np.ndarray:
    lims = _limits(name)
    lower = np.array([lims[j][0] for j in joint_names])
    upper = np.array([lims[j][1] for j in joint_names])
    return rng.uniform(lower, upper)


def _rot_x(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1.0]])


def _rot_z(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])


def _trans(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = (x, y, z)
    return T


def standard_dh_fk(d: list[float], a: list[float], alpha: list[float], q: np.ndarray) -> np.ndarray:
    """Standard DH product A1...An, A_i = Rz(q_i) Tz(d_i) Tx(a_i) Rx(alpha_i). Shape (4, 4)."""
    T = np.eye(4)
    for q_i, d_i, a_i, alpha_i in zip(q, d, a, alpha, strict=True):
        T = T @ _rot_z(q_i) @ _trans(z=d_i) @ _trans(x=a_i) @ _rot_x(alpha_i)
    return T


def rotation_angle(R_a: np.ndarray, R_b: np.ndarray) -> float:
    """Angle [rad] of R_a^T R_b, well conditioned near zero."""
    R = R_a.T @ R_b
    s = 0.5 * np.linalg.norm([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    return math.atan2(s, 0.5 * (np.trace(R) - 1.0))


def assert_pose_close(
    T_actual: np.ndarray, T_expected: np.ndarray, pos_tol: float, rot_tol: float, what: str
) -> None:
    pos_err = float(np.linalg.norm(T_actual[:3, 3] - T_expected[:3, 3]))
    rot_err = rotation_angle(T_actual[:3, :3], T_expected[:3, :3])
    assert pos_err <= pos_tol, f"{what}: position error {pos_err:.3g} m > {pos_tol:g} m"
    assert rot_err <= rot_tol, f"{what}: rotation error {rot_err:.3g} rad > {rot_tol:g} rad"


# --------------------------------------------------------------------------- registry
def test_registry_names_and_order() -> None:
    assert robots.names() == ROBOT_NAMES
    assert list(robots.REGISTRY) == ROBOT_NAMES
    assert isinstance(robots.REGISTRY, types.MappingProxyType)


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        robots.REGISTRY["x"] = robots.REGISTRY["panda"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        robots.REGISTRY["panda"].tip = "panda_link8"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "base", "tip"),
    [
        ("planar2r", "base_link", "tip"),
        ("panda", "panda_link0", "panda_hand_tcp"),
        ("iiwa14", "iiwa_link_0", "iiwa_link_ee"),
        ("ur5", "base_link", "tool0"),
        ("puma560", "base_link", "tool0"),
    ],
)
def test_registry_entry(name: str, base: str, tip: str) -> None:
    entry = robots.REGISTRY[name]
    assert (entry.name, entry.urdf, entry.base, entry.tip) == (name, f"{name}.urdf", base, tip)
    assert entry.summary and "\n" not in entry.summary
    assert entry.source and "\n" not in entry.source


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_urdf_path_is_absolute_and_exists(name: str) -> None:
    path = robots.urdf_path(name)
    assert isinstance(path, Path)
    assert path.is_absolute()
    assert path.is_file()
    assert path.parent == Path(robots.__file__).resolve().parent


def test_urdf_path_unknown_name_lists_choices() -> None:
    with pytest.raises(KeyError, match=r"Unknown robot 'pr2'.*planar2r.*puma560"):
        robots.urdf_path("pr2")


def test_registry_doctests() -> None:
    result = doctest.testmod(robots, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------- XML structure
@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_header_comment_cites_source(name: str) -> None:
    text = robots.urdf_path(name).read_text(encoding="utf-8")
    header = text[: text.index("<robot")]
    assert "<!--" in header and "-->" in header
    assert "mesh" not in text, "descriptions use primitive shapes only"


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_links_and_joints(name: str) -> None:
    root = _root(name)
    entry = robots.REGISTRY[name]
    links = [lk.attrib["name"] for lk in root.findall("link")]
    assert len(links) == len(set(links)), "duplicate link names"
    assert entry.base in links
    assert entry.tip in links

    joints = _joints(root)
    assert list(joints) == list(EXPECTED_JOINTS[name])
    for jname, joint in joints.items():
        assert joint.attrib["type"] == EXPECTED_JOINTS[name][jname], jname
        assert joint.find("parent").attrib["link"] in links, jname
        assert joint.find("child").attrib["link"] in links, jname

    # a tree rooted at the base: every other link has exactly one parent joint
    children = [j.find("child").attrib["link"] for j in joints.values()]
    assert sorted(children) == sorted(set(links) - {entry.base})

    # the chain base -> tip crosses the expected movable joints, in order
    parent_joint = {j.find("child").attrib["link"]: j for j in joints.values()}
    chain, link = [], entry.tip
    while link != entry.base:
        joint = parent_joint[link]
        if joint.attrib["type"] != "fixed":
            chain.append(joint.attrib["name"])
        link = joint.find("parent").attrib["link"]
    assert chain[::-1] == EXPECTED_CHAIN[name]


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_joint_limits_and_axes(name: str) -> None:
    for jname, joint in _joints(_root(name)).items():
        if joint.attrib["type"] == "fixed":
            assert joint.find("limit") is None, jname
            continue
        axis = _floats(joint.find("axis").attrib["xyz"])
        np.testing.assert_allclose(np.linalg.norm(axis), 1.0, atol=1e-12, err_msg=jname)
        limit = joint.find("limit").attrib
        lower, upper = float(limit["lower"]), float(limit["upper"])
        velocity, effort = float(limit["velocity"]), float(limit["effort"])
        assert lower < upper, jname
        assert velocity > 0, jname
        assert effort > 0, jname
        np.testing.assert_allclose(
            [lower, upper, velocity, effort],
            EXPECTED_LIMITS[name][jname],
            rtol=0,
            atol=1e-12,
            err_msg=f"{name}.{jname} (lower, upper, velocity, effort)",
        )
    assert set(EXPECTED_LIMITS[name]) == set(_limits(name))


def test_panda_finger_mimic() -> None:
    joints = _joints(_root("panda"))
    assert joints["panda_finger_joint1"].find("mimic") is None
    mimic = joints["panda_finger_joint2"].find("mimic")
    assert mimic is not None
    assert mimic.attrib == {"joint": "panda_finger_joint1", "multiplier": "1", "offset": "0"}
    np.testing.assert_array_equal(
        _floats(joints["panda_finger_joint1"].find("axis").attrib["xyz"]), [0, 1, 0]
    )
    np.testing.assert_array_equal(
        _floats(joints["panda_finger_joint2"].find("axis").attrib["xyz"]), [0, -1, 0]
    )


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_inertials_are_physical(name: str) -> None:
    coms = []
    for link in _root(name).findall("link"):
        lname = link.attrib["name"]
        inertial = link.find("inertial")
        assert inertial is not None, f"{lname} has no inertial"
        mass = float(inertial.find("mass").attrib["value"])
        assert mass > 0, lname
        origin = inertial.find("origin")
        coms.append(_floats(origin.attrib.get("xyz")) if origin is not None else np.zeros(3))
        a = {k: float(v) for k, v in inertial.find("inertia").attrib.items()}
        inertia = np.array(
            [
                [a["ixx"], a["ixy"], a["ixz"]],
                [a["ixy"], a["iyy"], a["iyz"]],
                [a["ixz"], a["iyz"], a["izz"]],
            ]
        )
        principal = np.linalg.eigvalsh(inertia)  # ascending
        assert principal[0] > 0, f"{lname}: inertia not positive definite {principal}"
        assert principal[0] + principal[1] >= principal[2] * (1 - 1e-9), (
            f"{lname}: principal moments {principal} violate the triangle inequality"
        )
        diag = np.diag(inertia)
        for i in range(3):
            assert diag[i] + diag[(i + 1) % 3] >= diag[(i + 2) % 3] * (1 - 1e-9), lname
    assert any(np.linalg.norm(c) > 1e-3 for c in coms), "every COM sits at its link origin"


@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_geometry_is_primitive(name: str) -> None:
    for link in _root(name).findall("link"):
        lname = link.attrib["name"]
        visuals = link.findall("visual")
        collisions = link.findall("collision")
        assert visuals, f"{lname} has no visual"
        if lname in FRAME_LINKS:
            assert not collisions, f"frame {lname} should have no collision shape"
        else:
            assert collisions, f"{lname} has no collision"
        for element in visuals + collisions:
            (shape,) = list(element.find("geometry"))
            assert shape.tag in {"box", "cylinder", "sphere"}, f"{lname}: {shape.tag}"
            sizes = [float(v) for k, v in shape.attrib.items() for v in v.split()]
            assert all(s > 0 for s in sizes), lname


# --------------------------------------------------------------------------- PyBullet
@pytest.fixture
def bullet():
    """(pybullet module, client id) of a fresh DIRECT-mode physics server, per test."""
    p = pytest.importorskip("pybullet")
    client = p.connect(p.DIRECT)
    yield p, client
    p.disconnect(physicsClientId=client)


class BulletArm:
    """A URDF loaded with a fixed base, indexed by joint and link names."""

    def __init__(self, bullet, path: Path | str, flags: int = 0) -> None:
        self.p, self.client = bullet
        self.body = self.p.loadURDF(
            str(path), useFixedBase=True, flags=flags, physicsClientId=self.client
        )
        infos = [
            self.p.getJointInfo(self.body, i, physicsClientId=self.client)
            for i in range(self.p.getNumJoints(self.body, physicsClientId=self.client))
        ]
        self.infos = infos
        self.joint_names = [info[1].decode() for info in infos]
        self.joint_index = {name: i for i, name in enumerate(self.joint_names)}
        self.link_index = {info[12].decode(): i for i, info in enumerate(infos)}

    def set_q(self, joint_names: list[str], q: np.ndarray) -> None:
        for jname, value in zip(joint_names, q, strict=True):
            self.p.resetJointState(
                self.body, self.joint_index[jname], float(value), physicsClientId=self.client
            )

    def pose(self, link: str) -> np.ndarray:
        """Pose of the URDF link frame (not the COM frame) in the base frame, (4, 4)."""
        state = self.p.getLinkState(
            self.body,
            self.link_index[link],
            computeForwardKinematics=True,
            physicsClientId=self.client,
        )
        T = np.eye(4)
        T[:3, :3] = np.reshape(self.p.getMatrixFromQuaternion(state[5]), (3, 3))
        T[:3, 3] = state[4]
        return T


def _pybullet_data_path(name: str) -> Path:
    pybullet_data = pytest.importorskip("pybullet_data")
    return Path(pybullet_data.getDataPath()) / name


@pytest.mark.pybullet
@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_loads_in_pybullet(bullet, name: str) -> None:
    p, _ = bullet
    arm = BulletArm(bullet, robots.urdf_path(name), flags=p.URDF_USE_INERTIA_FROM_FILE)
    assert arm.joint_names == list(EXPECTED_JOINTS[name])
    bullet_type = {
        p.JOINT_REVOLUTE: "revolute",
        p.JOINT_PRISMATIC: "prismatic",
        p.JOINT_FIXED: "fixed",
    }
    for info in arm.infos:
        jname = info[1].decode()
        assert bullet_type[info[2]] == EXPECTED_JOINTS[name][jname], jname
        if jname in EXPECTED_LIMITS[name]:
            lower, upper, velocity, effort = EXPECTED_LIMITS[name][jname]
            np.testing.assert_allclose(
                [info[8], info[9], info[10], info[11]],
                [lower, upper, effort, velocity],
                rtol=1e-12,
                err_msg=jname,
            )
    assert set(arm.link_index) | {robots.REGISTRY[name].base} == {
        lk.attrib["name"] for lk in _root(name).findall("link")
    }


@pytest.mark.pybullet
@pytest.mark.parametrize("name", ROBOT_NAMES)
def test_pybullet_holds_a_configuration_under_gravity(bullet, name: str) -> None:
    """The inertials are usable: position control holds mid-range joints against gravity."""
    p, client = bullet
    arm = BulletArm(bullet, robots.urdf_path(name), flags=p.URDF_USE_INERTIA_FROM_FILE)
    lims = _limits(name)
    movable = [j for j in arm.joint_names if j in lims]
    q_target = np.array([0.5 * (lims[j][0] + lims[j][1]) for j in movable])
    arm.set_q(movable, q_target)
    efforts = [EXPECTED_LIMITS[name][j][3] for j in movable]
    p.setGravity(0, 0, -9.81, physicsClientId=client)
    p.setJointMotorControlArray(
        arm.body,
        [arm.joint_index[j] for j in movable],
        p.POSITION_CONTROL,
        targetPositions=q_target.tolist(),
        forces=efforts,
        physicsClientId=client,
    )
    for _ in range(240):  # 1 s at the default 240 Hz
        p.stepSimulation(physicsClientId=client)
    states = p.getJointStates(
        arm.body, [arm.joint_index[j] for j in movable], physicsClientId=client
    )
    q = np.array([state[0] for state in states])
    qd = np.array([state[1] for state in states])
    assert np.all(np.isfinite(q)) and np.all(np.isfinite(qd))
    np.testing.assert_allclose(q, q_target, atol=0.02, err_msg=f"{name}: drifted under gravity")
    np.testing.assert_allclose(qd, 0.0, atol=0.05, err_msg=f"{name}: still moving after 1 s")


@pytest.mark.pybullet
def test_planar2r_closed_form(bullet) -> None:
    arm = BulletArm(bullet, robots.urdf_path("planar2r"))
    l1, l2 = 1.0, 0.8
    assert_pose_close(arm.pose("tip"), _trans(x=1.8), POS_TOL, ROT_TOL, "tip at q = 0")
    rng = np.random.default_rng(2)
    for _ in range(N_SAMPLES):
        q1, q2 = _random_q("planar2r", ["joint1", "joint2"], rng)
        arm.set_q(["joint1", "joint2"], np.array([q1, q2]))
        T_expected = _trans(
            l1 * math.cos(q1) + l2 * math.cos(q1 + q2), l1 * math.sin(q1) + l2 * math.sin(q1 + q2)
        ) @ _rot_z(q1 + q2)
        assert_pose_close(arm.pose("tip"), T_expected, POS_TOL, ROT_TOL, f"tip at {q1, q2}")


@pytest.mark.pybullet
def test_panda_matches_pybullet_data(bullet) -> None:
    ours = BulletArm(bullet, robots.urdf_path("panda"))
    reference = BulletArm(bullet, _pybullet_data_path("franka_panda/panda.urdf"))
    joints = EXPECTED_CHAIN["panda"]
    rng = np.random.default_rng(0)
    for _ in range(N_SAMPLES):
        q = _random_q("panda", joints, rng)
        ours.set_q(joints, q)
        reference.set_q(joints, q)
        for link in ("panda_link8", "panda_hand"):
            assert_pose_close(
                ours.pose(link), reference.pose(link), POS_TOL, ROT_TOL, f"{link} at q = {q}"
            )
        assert_pose_close(
            ours.pose("panda_hand_tcp"),
            reference.pose("panda_hand") @ _trans(z=0.1034),
            POS_TOL,
            ROT_TOL,
            f"panda_hand_tcp at q = {q}",
        )


@pytest.mark.pybullet
def test_pybullet_data_iiwa_is_the_r820(bullet) -> None:
    """pybullet_data's kuka_iiwa/model.urdf has the 14 R820 geometry: 0.36 / 0.42 / 0.40 m."""
    reference = BulletArm(bullet, _pybullet_data_path("kuka_iiwa/model.urdf"))
    heights = [reference.pose(f"lbr_iiwa_link_{i}")[2, 3] for i in (2, 4, 6, 7)]
    np.testing.assert_allclose(heights, [0.36, 0.78, 1.18, 1.261], atol=POS_TOL)


@pytest.mark.pybullet
def test_iiwa14_matches_pybullet_data(bullet) -> None:
    ours = BulletArm(bullet, robots.urdf_path("iiwa14"))
    reference = BulletArm(bullet, _pybullet_data_path("kuka_iiwa/model.urdf"))
    joints = EXPECTED_CHAIN["iiwa14"]
    rng = np.random.default_rng(1)
    for _ in range(N_SAMPLES):
        q = _random_q("iiwa14", joints, rng)
        ours.set_q(joints, q)
        reference.set_q([f"lbr_{j}" for j in joints], q)
        for i in range(1, 8):  # link frames coincide: no constant offset
            assert_pose_close(
                ours.pose(f"iiwa_link_{i}"),
                reference.pose(f"lbr_iiwa_link_{i}"),
                POS_TOL,
                ROT_TOL,
                f"iiwa_link_{i} at q = {q}",
            )
        assert_pose_close(
            ours.pose("iiwa_link_ee"),
            reference.pose("lbr_iiwa_link_7") @ _trans(z=0.045),
            POS_TOL,
            ROT_TOL,
            f"iiwa_link_ee at q = {q}",
        )


UR5_DH = {
    "d": [0.089159, 0.0, 0.0, 0.10915, 0.09465, 0.0823],
    "a": [0.0, -0.425, -0.39225, 0.0, 0.0, 0.0],
    "alpha": [math.pi / 2, 0.0, 0.0, math.pi / 2, -math.pi / 2, 0.0],
}


@pytest.mark.pybullet
def test_ur5_tool0_is_standard_dh(bullet) -> None:
    arm = BulletArm(bullet, robots.urdf_path("ur5"))
    joints = EXPECTED_CHAIN["ur5"]
    rng = np.random.default_rng(3)
    for q in [np.zeros(6), *(_random_q("ur5", joints, rng) for _ in range(N_SAMPLES))]:
        arm.set_q(joints, q)
        assert_pose_close(
            arm.pose("tool0"), standard_dh_fk(**UR5_DH, q=q), POS_TOL, ROT_TOL, f"tool0 at q = {q}"
        )
        # ee_link: at the flange, x along tool0's z (ur_description convention)
        T_tool_ee = np.linalg.inv(arm.pose("tool0")) @ arm.pose("ee_link")
        np.testing.assert_allclose(T_tool_ee[:3, 3], 0.0, atol=POS_TOL)
        np.testing.assert_allclose(
            T_tool_ee[:3, :3], [[0, -1, 0], [0, 0, -1], [1, 0, 0]], atol=ROT_TOL
        )


@pytest.mark.pybullet
def test_puma560_tool0_matches_robotics_toolbox(bullet) -> None:
    rtb = pytest.importorskip("roboticstoolbox")
    model = rtb.models.DH.Puma560()
    arm = BulletArm(bullet, robots.urdf_path("puma560"))
    joints = EXPECTED_CHAIN["puma560"]
    np.testing.assert_allclose(
        model.qlim.T, [_limits("puma560")[j] for j in joints], rtol=0, atol=1e-12
    )
    rng = np.random.default_rng(4)
    for q in [
        np.zeros(6),
        model.qr,
        model.qn,
        *(_random_q("puma560", joints, rng) for _ in range(N_SAMPLES)),
    ]:
        arm.set_q(joints, q)
        assert_pose_close(
            arm.pose("tool0"), model.fkine(q).A, POS_TOL, ROT_TOL, f"tool0 at q = {q}"
        )


# --------------------------------------------------------------------------- double precision
def _pinocchio_tool0(name: str, q_chain: np.ndarray, frame: str = "tool0") -> np.ndarray:
    pin = pytest.importorskip("pinocchio")
    model = pin.buildModelFromUrdf(str(robots.urdf_path(name)))
    data = model.createData()
    joint_names = [model.names[i] for i in range(1, model.njoints)]
    assert joint_names == EXPECTED_CHAIN[name]
    pin.framesForwardKinematics(model, data, np.asarray(q_chain, dtype=float))
    return data.oMf[model.getFrameId(frame)].homogeneous


def test_ur5_tool0_is_standard_dh_exactly() -> None:
    rng = np.random.default_rng(5)
    for _ in range(N_SAMPLES):
        q = _random_q("ur5", EXPECTED_CHAIN["ur5"], rng)
        np.testing.assert_allclose(
            _pinocchio_tool0("ur5", q), standard_dh_fk(**UR5_DH, q=q), rtol=0, atol=EXACT_TOL
        )


def test_puma560_tool0_matches_robotics_toolbox_exactly() -> None:
    rtb = pytest.importorskip("roboticstoolbox")
    model = rtb.models.DH.Puma560()
    rng = np.random.default_rng(6)
    for _ in range(N_SAMPLES):
        q = _random_q("puma560", EXPECTED_CHAIN["puma560"], rng)
        np.testing.assert_allclose(
            _pinocchio_tool0("puma560", q), model.fkine(q).A, rtol=0, atol=EXACT_TOL
        )

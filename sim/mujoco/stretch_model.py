"""The simulated Stretch 3: the official SE3 URDF turned into a MuJoCo MjSpec.

The URDF (`hello-robot-stretch-urdf`, `stretch_description_SE3_eoa_wrist_dw3_tool_sg3.urdf`) is parsed here
and rebuilt body by body with the MjSpec API, so link frames, joint origins and axes are exactly the URDF's
(and therefore exactly core.stretch's FK). What the conversion does:

- meshes MuJoCo cannot read (the D435's .dae) are converted to .stl with trimesh; meshes over 3000 triangles
  are decimated (open3d quadric decimation; the robot's 330k visual triangles would double the render time);
  every mesh is written under a plain name into a cache folder (`$OVMM_CACHE_DIR` or ~/.cache/ovmm, keyed by the package version),
  written atomically (a temp folder renamed into place);
- links with geometry or a moving joint become bodies; frames without either (grasp centre, camera optical
  frames) become sites;
- the base gets a planar joint set (slide x, slide y, hinge yaw) so it can be placed anywhere;
- the four telescoping arm joints stay separate (SimRobot sets each to a quarter of the extension);
- the SG3 finger joints (fixed at 0 in the URDF) become hinges so the gripper can open and close;
- visual meshes are drawn (group 1) and never collide; the URDF collision shapes (boxes of 12 triangles)
  of the main links collide (group 3, not drawn) with the scene but never with each other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mujoco
import numpy as np

from core.errors import InputError
from core.geometry import R_to_quat_xyzw, rpy_to_R
from sim.config import cache_dir

log = logging.getLogger(__name__)

URDF_NAME = "stretch_description_SE3_eoa_wrist_dw3_tool_sg3.urdf"
CACHE_FORMAT = 2
_MAX_FACES = 100_000
_VISUAL_FACES = 3000  # visual meshes are decimated to about this many triangles (render speed)

# Geom groups and collision bits (shared with sim.mujoco.world).
GROUP_VISUAL = 1
GROUP_COLLISION = 3
ROBOT_CONTYPE = 2  # robot collision geoms: touch anything whose conaffinity has bit 2 (walls, furniture, objects)
ROBOT_CONAFFINITY = 0  # ... but nothing touches them through their own affinity (no self-collision)

ARM_JOINTS = ("joint_arm_l3", "joint_arm_l2", "joint_arm_l1", "joint_arm_l0")
FINGER_JOINTS = ("joint_gripper_finger_left", "joint_gripper_finger_right")
BASE_JOINTS = ("base_x", "base_y", "base_yaw")
GRASP_SITE = "link_grasp_center"
HEADCAM_SITE = "camera_color_optical_frame"
FINGER_RANGE = (-0.6, 0.6)  # rad; hinge range given to the SG3 fingers (fixed in the URDF)

# Links whose URDF collision shapes collide in simulation (the rest are small markers and housings inside these).
_COLLIDING_LINKS = {
    "base_link", "link_mast", "link_lift", "link_arm_l4", "link_arm_l3", "link_arm_l2", "link_arm_l1",
    "link_arm_l0", "link_wrist_yaw", "link_wrist_yaw_bottom", "link_wrist_pitch", "link_wrist_roll",
    "link_gripper_s3_body", "link_gripper_finger_left", "link_gripper_finger_right",
    "link_gripper_fingertip_left", "link_gripper_fingertip_right", "link_head", "link_head_pan",
    "link_head_tilt",
}
FINGERTIP_LINKS = ("link_gripper_fingertip_left", "link_gripper_fingertip_right")
FINGER_LINKS = ("link_gripper_finger_left", "link_gripper_finger_right") + FINGERTIP_LINKS


@dataclass
class _Geom:
    kind: str  # "mesh", "box", "cylinder", "sphere"
    xyz: np.ndarray
    rpy: np.ndarray
    mesh: str | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    size: tuple[float, ...] = ()
    rgba: tuple[float, float, float, float] | None = None


@dataclass
class _Link:
    name: str
    visuals: list[_Geom]
    collisions: list[_Geom]
    mass: float = 0.0


@dataclass
class _Joint:
    name: str
    type: str
    parent: str
    child: str
    xyz: np.ndarray
    rpy: np.ndarray
    axis: np.ndarray
    lower: float
    upper: float


def urdf_path() -> Path:
    try:
        import stretch_urdf
    except ImportError as exc:  # pragma: no cover - the sim extra installs it
        raise InputError("the Stretch URDF package is missing: pip install hello-robot-stretch-urdf") from exc
    path = Path(stretch_urdf.__file__).parent / "SE3" / URDF_NAME
    if not path.is_file():
        raise InputError(f"the Stretch URDF {path} is missing from the hello-robot-stretch-urdf package")
    return path


def _floats(text: str | None, n: int, default: float = 0.0) -> np.ndarray:
    if not text:
        return np.full(n, default, dtype=float)
    return np.array([float(v) for v in text.split()], dtype=float)


def _parse_geom(el: ET.Element) -> _Geom | None:
    origin = el.find("origin")
    xyz = _floats(origin.get("xyz") if origin is not None else None, 3)
    rpy = _floats(origin.get("rpy") if origin is not None else None, 3)
    geometry = el.find("geometry")
    if geometry is None or len(geometry) == 0:
        return None
    shape = geometry[0]
    rgba = None
    color = el.find("material/color")
    if color is not None and color.get("rgba"):
        rgba = tuple(float(v) for v in color.get("rgba").split())
    if shape.tag == "mesh":
        scale = tuple(_floats(shape.get("scale"), 3, 1.0))
        return _Geom("mesh", xyz, rpy, mesh=shape.get("filename"), scale=scale, rgba=rgba)
    if shape.tag == "box":
        return _Geom("box", xyz, rpy, size=tuple(0.5 * _floats(shape.get("size"), 3)), rgba=rgba)
    if shape.tag == "cylinder":
        return _Geom("cylinder", xyz, rpy, size=(float(shape.get("radius")), 0.5 * float(shape.get("length"))), rgba=rgba)
    if shape.tag == "sphere":
        return _Geom("sphere", xyz, rpy, size=(float(shape.get("radius")),), rgba=rgba)
    return None


def parse_urdf(path: Path) -> tuple[dict[str, _Link], list[_Joint]]:
    root = ET.parse(path).getroot()
    links: dict[str, _Link] = {}
    for el in root.findall("link"):
        vis = [g for g in (_parse_geom(v) for v in el.findall("visual")) if g is not None]
        col = [g for g in (_parse_geom(c) for c in el.findall("collision")) if g is not None]
        mass_el = el.find("inertial/mass")
        links[el.get("name")] = _Link(el.get("name"), vis, col, float(mass_el.get("value")) if mass_el is not None else 0.0)
    joints = []
    for el in root.findall("joint"):
        origin = el.find("origin")
        limit = el.find("limit")
        axis = el.find("axis")
        joints.append(_Joint(
            name=el.get("name"), type=el.get("type"), parent=el.find("parent").get("link"),
            child=el.find("child").get("link"),
            xyz=_floats(origin.get("xyz") if origin is not None else None, 3),
            rpy=_floats(origin.get("rpy") if origin is not None else None, 3),
            axis=_floats(axis.get("xyz") if axis is not None else None, 3) if axis is not None else np.array([1.0, 0, 0]),
            lower=float(limit.get("lower", 0)) if limit is not None else 0.0,
            upper=float(limit.get("upper", 0)) if limit is not None else 0.0,
        ))
    return links, joints


def _package_version() -> str:
    try:
        return metadata.version("hello-robot-stretch-urdf")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def converted_meshes(cache_root: Path | None = None) -> Path:
    """The folder of plain-named meshes MuJoCo can read (built once per package version, atomically)."""
    root = Path(cache_root) if cache_root is not None else cache_dir()
    target = root / f"stretch_se3_{_package_version()}_v{CACHE_FORMAT}"
    if (target / "manifest.json").is_file():
        return target
    src = urdf_path()
    links, _ = parse_urdf(src)
    files = sorted({g.mesh for link in links.values() for g in link.visuals + link.collisions if g.mesh})
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".stretch_se3.", dir=root))
    try:
        manifest = {}
        for rel in files:
            path = (src.parent / rel).resolve()
            name = _plain_name(rel)
            import trimesh

            mesh = trimesh.load(path, force="mesh")
            if len(mesh.faces) > _MAX_FACES:  # the D435 model has 231k faces: keep its (box-like) hull
                mesh = mesh.convex_hull
            if len(mesh.faces) > _VISUAL_FACES:
                mesh = _decimate(mesh, _VISUAL_FACES)
            mesh.export(tmp / name)
            manifest[rel] = name
        (tmp / "manifest.json").write_text(json.dumps({"format": CACHE_FORMAT, "meshes": manifest}, indent=1))
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("converted Stretch meshes cached in %s", target)
    return target


def _decimate(mesh, target_faces: int):
    """Quadric decimation (open3d) to about `target_faces` triangles; the shape stays within a millimetre or so."""
    import open3d as o3d
    import trimesh

    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(np.asarray(mesh.vertices, dtype=np.float64)),
                                  o3d.utility.Vector3iVector(np.asarray(mesh.faces, dtype=np.int32)))
    m = m.simplify_quadric_decimation(target_number_of_triangles=target_faces)
    out = trimesh.Trimesh(np.asarray(m.vertices), np.asarray(m.triangles), process=True)
    return out if len(out.faces) > 0 else mesh


def _plain_name(rel: str) -> str:
    stem = Path(rel).stem.lower()
    return stem + ("_dae.stl" if Path(rel).suffix.lower() == ".dae" else ".stl")


def _quat_wxyz(R: np.ndarray) -> np.ndarray:
    x, y, z, w = R_to_quat_xyzw(R)
    return np.array([w, x, y, z])


def _set_pose(el, xyz: np.ndarray, rpy: np.ndarray) -> None:
    el.pos = np.asarray(xyz, dtype=float)
    el.quat = _quat_wxyz(rpy_to_R(*rpy))


def build_stretch_spec(visual_meshes: bool = True, cache_root: Path | None = None) -> mujoco.MjSpec:
    """An MjSpec holding the Stretch: worldbody -> base_link (planar joints) -> ... (URDF tree)."""
    meshdir = converted_meshes(cache_root)
    links, joints = parse_urdf(urdf_path())
    children: dict[str, list[_Joint]] = {}
    for j in joints:
        children.setdefault(j.parent, []).append(j)

    def needs_body(link: str) -> bool:
        lk = links[link]
        if lk.visuals or lk.collisions:
            return True
        return any(j.type != "fixed" or needs_body(j.child) for j in children.get(link, []))

    spec = mujoco.MjSpec()
    spec.modelname = "stretch_se3"
    spec.compiler.degree = False
    spec.compiler.boundmass = 1e-3
    spec.compiler.boundinertia = 1e-5
    mesh_names: dict[tuple[str, tuple], str] = {}

    def mesh_asset(rel: str, scale: tuple) -> str:
        key = (rel, tuple(scale))
        if key not in mesh_names:
            name = f"m{len(mesh_names)}_{Path(rel).stem.lower()}"
            m = spec.add_mesh()
            m.name = name
            m.file = str(meshdir / _plain_name(rel))
            m.scale = np.asarray(scale, dtype=float)
            mesh_names[key] = name
        return mesh_names[key]

    def add_geoms(body, link: _Link) -> None:
        draw_collision = not visual_meshes
        if visual_meshes:
            for g in link.visuals:
                _add_geom(body, g, mesh_asset, visual=True)
        if link.name in _COLLIDING_LINKS:
            for g in link.collisions:
                geom = _add_geom(body, g, mesh_asset, visual=False)
                if draw_collision:
                    geom.group = GROUP_VISUAL
                    geom.rgba = np.array([0.75, 0.77, 0.85, 1.0])

    base = spec.worldbody.add_body()
    base.name = "base_link"
    for name, axis, kind in (("base_x", (1, 0, 0), mujoco.mjtJoint.mjJNT_SLIDE),
                             ("base_y", (0, 1, 0), mujoco.mjtJoint.mjJNT_SLIDE),
                             ("base_yaw", (0, 0, 1), mujoco.mjtJoint.mjJNT_HINGE)):
        jt = base.add_joint()
        jt.name, jt.type, jt.axis = name, kind, np.array(axis, dtype=float)
    add_geoms(base, links["base_link"])

    def build(parent_body, link_name: str, T_body_link: np.ndarray) -> None:
        for j in children.get(link_name, []):
            T_link_child = np.eye(4)
            T_link_child[:3, :3] = rpy_to_R(*j.rpy)
            T_link_child[:3, 3] = j.xyz
            T = T_body_link @ T_link_child
            if j.type == "fixed" and not needs_body(j.child):
                site = parent_body.add_site()
                site.name = j.child
                site.pos = T[:3, 3]
                site.quat = _quat_wxyz(T[:3, :3])
                site.size = np.array([0.005, 0.005, 0.005])
                site.group = 5
                build(parent_body, j.child, T)
                continue
            body = parent_body.add_body()
            body.name = j.child
            body.pos = T[:3, 3]
            body.quat = _quat_wxyz(T[:3, :3])
            if links[j.child].mass > 0:
                body.mass = max(links[j.child].mass, 1e-3)
            if j.type in ("prismatic", "revolute", "continuous"):
                jt = body.add_joint()
                jt.name = j.name
                jt.type = mujoco.mjtJoint.mjJNT_SLIDE if j.type == "prismatic" else mujoco.mjtJoint.mjJNT_HINGE
                jt.axis = j.axis
                jt.damping = np.array([1.0, 0.0, 0.0])
                if j.name in FINGER_JOINTS:
                    jt.range = np.array(FINGER_RANGE)
                    jt.limited = mujoco.mjtLimited.mjLIMITED_TRUE
                elif j.type != "continuous" and j.upper > j.lower:
                    jt.range = np.array([j.lower, j.upper])
                    jt.limited = mujoco.mjtLimited.mjLIMITED_TRUE
            add_geoms(body, links[j.child])
            build(body, j.child, np.eye(4))

    build(base, "base_link", np.eye(4))
    return spec


def _add_geom(body, g: _Geom, mesh_asset, visual: bool):
    geom = body.add_geom()
    _set_pose(geom, g.xyz, g.rpy)
    if g.kind == "mesh":
        geom.type = mujoco.mjtGeom.mjGEOM_MESH
        geom.meshname = mesh_asset(g.mesh, g.scale)
    elif g.kind == "box":
        geom.type = mujoco.mjtGeom.mjGEOM_BOX
        geom.size = np.array(g.size)
    elif g.kind == "cylinder":
        geom.type = mujoco.mjtGeom.mjGEOM_CYLINDER
        geom.size = np.array([g.size[0], g.size[1], 0.0])
    else:
        geom.type = mujoco.mjtGeom.mjGEOM_SPHERE
        geom.size = np.array([g.size[0], 0.0, 0.0])
    if visual:
        geom.group = GROUP_VISUAL
        geom.contype = 0
        geom.conaffinity = 0
        geom.density = 0.0
        geom.rgba = np.array(g.rgba if g.rgba else (0.2, 0.2, 0.22, 1.0))
        if g.mesh and g.mesh.endswith(".dae"):
            geom.rgba = np.array([0.15, 0.15, 0.17, 1.0])
    else:
        geom.group = GROUP_COLLISION
        geom.contype = ROBOT_CONTYPE
        geom.conaffinity = ROBOT_CONAFFINITY
        geom.density = 200.0
        geom.rgba = np.array([0.8, 0.3, 0.3, 0.0])
    return geom


def finger_aperture_table(model: mujoco.MjModel, prefix: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(finger angles, fingertip-pad apertures in metres), aperture increasing, from the model's geometry.

    The aperture at an angle is the gap between the two fingertip collision boxes measured along the grasp
    frame's closing (y) axis at the grasp centre's height - what an object must fit through.
    """
    data = mujoco.MjData(model)
    jl = [model.joint(prefix + n) for n in FINGER_JOINTS]
    site = model.site(prefix + GRASP_SITE).id
    tips = [model.body(prefix + n).id for n in FINGERTIP_LINKS]
    angles = np.linspace(FINGER_RANGE[0], FINGER_RANGE[1], 121)
    gaps = []
    for a in angles:
        for j in jl:
            data.qpos[j.qposadr[0]] = a
        mujoco.mj_kinematics(model, data)
        R = data.site_xmat[site].reshape(3, 3)
        p = data.site_xpos[site]
        inner = []
        for side, b in zip((1.0, -1.0), tips, strict=True):
            ys = []
            for gid in np.nonzero(model.geom_bodyid == b)[0]:
                if model.geom_contype[gid] != ROBOT_CONTYPE:
                    continue
                ys.extend(_geom_vertices_y(model, data, gid, R, p))
            ys = np.asarray(ys)
            # The pad's inner face: the extreme towards the grasp centre.
            inner.append(ys.min() if side > 0 else ys.max())
        gaps.append(inner[0] - inner[1])
    gaps = np.asarray(gaps)
    order = np.argsort(gaps)
    return angles[order], gaps[order]


def _geom_vertices_y(model, data, gid, R_site, p_site) -> list[float]:
    """Closing-axis coordinates (grasp frame y) of a geom's vertices (mesh) or box corners."""
    Rg = data.geom_xmat[gid].reshape(3, 3)
    pg = data.geom_xpos[gid]
    if model.geom_type[gid] == mujoco.mjtGeom.mjGEOM_MESH:
        mid = model.geom_dataid[gid]
        adr, n = model.mesh_vertadr[mid], model.mesh_vertnum[mid]
        v = model.mesh_vert[adr : adr + n]
    else:
        s = model.geom_size[gid]
        v = np.array([[x, y, z] for x in (-s[0], s[0]) for y in (-s[1], s[1]) for z in (-s[2], s[2])])
    world = v @ Rg.T + pg
    return list(((world - p_site) @ R_site)[:, 1])


def angle_for_aperture(table: tuple[np.ndarray, np.ndarray], aperture_m: float) -> float:
    angles, gaps = table
    return float(np.interp(aperture_m, gaps, angles))


def aperture_for_angle(table: tuple[np.ndarray, np.ndarray], angle: float) -> float:
    angles, gaps = table
    order = np.argsort(angles)
    return float(np.interp(angle, angles[order], gaps[order]))

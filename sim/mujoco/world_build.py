"""SceneSpec -> MjSpec: floor, walls, receptacles, stages, objects, lights and the Stretch.

Collision bits (contype/conaffinity): the floor is 1/1, walls and furniture 1/3, objects 1/3, the robot 2/0.
So objects touch everything, the robot touches walls, furniture and objects but neither the floor (its
wheels rest on it kinematically) nor itself. Static geoms never collide with each other (MuJoCo skips
pairs of bodies welded to the world). Objects are meshes whose collision shape is their convex hull
(at most `_MAX_HULL_VERTS` vertices), except hollow objects (bowls, plates, cups, mugs: sim.mujoco.collision_parts),
which are drawn by a non-colliding visual geom and collide as hidden convex parts (group 3); stages (Habitat background meshes) are drawn but do not collide.
Receptacle parts honour their `role`: "visual" parts are drawn only, "collision" parts collide unseen.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError

from core.geometry import quat_xyzw_to_R, rot_z
from sim.config import SimConfig
from sim.mujoco.collision_parts import object_collision_parts
from sim.mujoco.stretch_model import GROUP_COLLISION, build_stretch_spec
from sim.scene.mesh_io import load_mesh_file, load_object_mesh
from sim.scene.spec import SceneSpec

log = logging.getLogger(__name__)

ROBOT_PREFIX = "robot/"
_MAX_HULL_VERTS = 64
_FLOOR_RGBA = (0.62, 0.6, 0.56, 1.0)


@dataclass
class BuiltScene:
    """The MjSpec plus the names that map geoms back to scene items."""

    spec: mujoco.MjSpec
    receptacle_bodies: dict[str, str] = field(default_factory=dict)  # receptacle id -> body name
    object_bodies: dict[str, str] = field(default_factory=dict)  # object id -> body name
    object_points: dict[str, np.ndarray] = field(default_factory=dict)  # object id -> (N, 3) surface samples (body frame)
    object_hulls: dict[str, np.ndarray] = field(default_factory=dict)  # object id -> hull vertices (body frame)


def _quat_wxyz(R: np.ndarray) -> np.ndarray:
    from core.geometry import R_to_quat_xyzw

    x, y, z, w = R_to_quat_xyzw(R)
    return np.array([w, x, y, z])


def _static(geom, rgba) -> None:
    geom.contype = 1
    geom.conaffinity = 3
    geom.group = 0
    geom.rgba = np.asarray(rgba, dtype=float)


def _add_mesh_asset(spec: mujoco.MjSpec, name: str, mesh: trimesh.Trimesh) -> None:
    m = spec.add_mesh()
    m.name = name
    m.uservert = np.asarray(mesh.vertices, dtype=np.float32).ravel()
    m.userface = np.asarray(mesh.faces, dtype=np.int32).ravel()
    m.maxhullvert = _MAX_HULL_VERTS
    m.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_CONVEX


def _object_collider(g, config: SimConfig) -> None:
    g.friction = np.array([config.object_friction, 0.01, 0.001])
    g.condim = 3
    g.contype, g.conaffinity = 1, 3


def _add_collision_parts(spec: mujoco.MjSpec, body, name: str, parts: list[np.ndarray], mass: float,
                         config: SimConfig) -> None:
    """One hidden convex mesh geom per part; the object's mass is shared by hull volume."""
    volumes = np.array([_hull_volume(p) for p in parts])
    weights = volumes / volumes.sum() if volumes.sum() > 0 else np.full(len(parts), 1.0 / len(parts))
    for k, (verts, w) in enumerate(zip(parts, weights, strict=True)):
        m = spec.add_mesh()
        m.name = f"{name}/part{k}"
        m.uservert = np.asarray(verts, dtype=np.float32).ravel()  # vertices only: MuJoCo builds the hull
        m.maxhullvert = _MAX_HULL_VERTS
        m.inertia = mujoco.mjtMeshInertia.mjMESH_INERTIA_CONVEX
        g = body.add_geom()
        g.name = f"{name}/part{k}"
        g.type = mujoco.mjtGeom.mjGEOM_MESH
        g.meshname = m.name
        g.mass = max(float(mass * w), 1e-6)
        g.group = GROUP_COLLISION
        g.rgba = np.array([0.5, 0.5, 0.5, 0.3])
        _object_collider(g, config)


def _hull_volume(verts: np.ndarray) -> float:
    try:
        return float(ConvexHull(np.asarray(verts, dtype=np.float64)).volume)
    except QhullError:  # degenerate (flat) point set
        return 0.0


def build_scene_spec(scene: SceneSpec, config: SimConfig, base_dir: Path | None = None) -> BuiltScene:
    base_dir = Path(base_dir) if base_dir is not None else scene.base_dir
    spec = mujoco.MjSpec()
    spec.modelname = f"ovmm_{scene.name}"
    spec.option.timestep = config.timestep_s
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    spec.option.noslip_iterations = 2
    spec.visual.global_.offwidth = max(config.camera_width, 1280)
    spec.visual.global_.offheight = max(config.camera_height, 1024)
    spec.visual.headlight.active = 0
    spec.visual.quality.shadowsize = 2048
    built = BuiltScene(spec)
    wb = spec.worldbody

    xmin, ymin, xmax, ymax = scene.bounds_xy()
    floor = wb.add_geom()
    floor.name = "floor"
    floor.type = mujoco.mjtGeom.mjGEOM_PLANE
    floor.size = np.array([max(xmax - xmin, ymax - ymin) + 20.0, max(xmax - xmin, ymax - ymin) + 20.0, 0.1])
    floor.pos = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, 0.0])
    floor.contype, floor.conaffinity = 1, 1
    floor.rgba = np.array(_FLOOR_RGBA)

    _add_lights(wb, (xmin, ymin, xmax, ymax))

    for w in scene.walls:
        g = wb.add_geom()
        g.name = f"wall/{w.id}"
        g.type = mujoco.mjtGeom.mjGEOM_BOX
        g.size = np.array([w.length / 2, w.thickness / 2, w.height / 2])
        g.pos = np.array([(w.start[0] + w.end[0]) / 2, (w.start[1] + w.end[1]) / 2, w.height / 2])
        g.quat = np.array([math.cos(w.yaw / 2), 0.0, 0.0, math.sin(w.yaw / 2)])
        _static(g, w.rgba)

    for rec in scene.receptacles:
        body = wb.add_body()
        body.name = f"rec/{rec.id}"
        body.pos = np.array([rec.pose[0], rec.pose[1], 0.0])
        body.quat = np.array([math.cos(rec.pose[2] / 2), 0.0, 0.0, math.sin(rec.pose[2] / 2)])
        built.receptacle_bodies[rec.id] = body.name
        for i, part in enumerate(rec.parts):
            g = body.add_geom()
            g.name = f"rec/{rec.id}/{i}"
            g.pos = np.asarray(part.pos, dtype=float)
            g.quat = _quat_wxyz(quat_xyzw_to_R(part.quat_xyzw))
            if part.type == "box":
                g.type = mujoco.mjtGeom.mjGEOM_BOX
                g.size = 0.5 * np.asarray(part.size, dtype=float)
            else:
                mesh = load_mesh_file(_resolve(part.mesh, base_dir), part.scale)
                _add_mesh_asset(spec, g.name + "/mesh", mesh)
                g.type = mujoco.mjtGeom.mjGEOM_MESH
                g.meshname = g.name + "/mesh"
            _static(g, part.rgba)
            if part.role == "visual":  # drawn only
                g.contype, g.conaffinity = 0, 0
            elif part.role == "collision":  # collides, never drawn (group 3 is hidden by the renderer)
                g.group = GROUP_COLLISION

    for i, stage in enumerate(scene.stages):
        mesh = load_mesh_file(_resolve(stage.mesh, base_dir), stage.scale)
        _add_mesh_asset(spec, f"stage/{i}/mesh", mesh)
        g = wb.add_geom()
        g.name = f"stage/{i}"
        g.type = mujoco.mjtGeom.mjGEOM_MESH
        g.meshname = f"stage/{i}/mesh"
        g.pos = np.asarray(stage.pos, dtype=float)
        g.quat = _quat_wxyz(quat_xyzw_to_R(stage.quat_xyzw))
        g.contype, g.conaffinity = 0, 0
        g.rgba = np.array([0.8, 0.8, 0.8, 1.0])

    for obj in scene.objects:
        mesh = load_object_mesh(obj, base_dir)
        body = wb.add_body()
        body.name = f"obj/{obj.id}"
        body.pos = np.asarray(obj.position, dtype=float)
        body.quat = _quat_wxyz(quat_xyzw_to_R(obj.quat_xyzw))
        free = body.add_freejoint()
        free.name = f"obj/{obj.id}/free"
        free.damping = np.array([0.005, 0.0, 0.0])  # a little drag so resting objects stop drifting
        _add_mesh_asset(spec, f"obj/{obj.id}/mesh", mesh)
        g = body.add_geom()
        g.name = f"obj/{obj.id}"
        g.type = mujoco.mjtGeom.mjGEOM_MESH
        g.meshname = f"obj/{obj.id}/mesh"
        g.rgba = np.asarray(obj.rgba, dtype=float)
        parts = object_collision_parts(obj, mesh)
        if parts is None:  # the convex hull of the mesh is the collision shape
            g.mass = float(obj.mass)
            _object_collider(g, config)
        else:  # drawn only; hidden convex parts collide (their union follows the walls)
            g.contype, g.conaffinity = 0, 0
            g.mass = 0.0
            _add_collision_parts(spec, body, f"obj/{obj.id}", parts, float(obj.mass), config)
        built.object_bodies[obj.id] = body.name
        pts, _ = trimesh.sample.sample_surface(mesh, 600, seed=0)
        built.object_points[obj.id] = np.vstack([pts, mesh.vertices[:: max(1, len(mesh.vertices) // 400)]])
        built.object_hulls[obj.id] = np.asarray(mesh.convex_hull.vertices)

    robot = build_stretch_spec(visual_meshes=config.robot_visual_meshes)
    frame = wb.add_frame()
    spec.attach(robot, prefix=ROBOT_PREFIX, frame=frame)
    return built


def _resolve(mesh: str, base_dir: Path | None) -> Path:
    from sim.scene.asset_paths import resolve_mesh_path

    return resolve_mesh_path(mesh, base_dir)


def _add_lights(wb, bounds: tuple[float, float, float, float]) -> None:
    """A sun-like directional light and a soft fill light (no headlight: lighting is camera independent)."""
    xmin, ymin, xmax, ymax = bounds
    sun = wb.add_light()
    sun.name = "sun"
    sun.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    sun.pos = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, 6.0])
    d = rot_z(0.6) @ np.array([0.35, 0.2, -1.0])
    sun.dir = d / np.linalg.norm(d)
    sun.diffuse = np.array([0.55, 0.55, 0.52])
    sun.ambient = np.array([0.35, 0.35, 0.35])
    sun.specular = np.array([0.1, 0.1, 0.1])
    sun.castshadow = True
    fill = wb.add_light()
    fill.name = "fill"
    fill.type = mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    fill.pos = np.array([(xmin + xmax) / 2, (ymin + ymax) / 2, 6.0])
    fill.dir = np.array([-0.3, -0.4, -0.85]) / np.linalg.norm([-0.3, -0.4, -0.85])
    fill.diffuse = np.array([0.25, 0.25, 0.27])
    fill.ambient = np.array([0.0, 0.0, 0.0])
    fill.specular = np.array([0.0, 0.0, 0.0])
    fill.castshadow = False

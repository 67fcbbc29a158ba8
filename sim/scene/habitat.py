"""Habitat scene-dataset assets -> a SceneSpec (the habitat-sim test assets in ../shared/data).

Supported (see docs/sim-scenes.md): a stage from its `*.stage_config.json` (render_asset, up, front,
scale, units_to_meters, origin; the floor is found on the mesh and moved to z = 0); rigid objects from
.glb files (Habitat's default orientation: y up, -z front) or their `*.object_config.json` (render_asset,
up, front, scale, units_to_meters, mass); articulated URDFs as static furniture (sim.scene.habitat_urdf).
Not supported: scene_instance.json files, semantic/nav/collision assets (our collision comes from the
URDF boxes and the stage is drawn only), lighting, physics coefficients, and `user_defined` receptacle
volumes (listed in the log, not converted). Mesh paths are stored absolute, so the scene works from any cwd.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.geometry import R_to_quat_xyzw
from core.types import Pose2D
from sim.scene.fields import SceneError
from sim.scene.habitat_urdf import urdf_receptacle_geometry
from sim.scene.mesh_io import load_mesh_file
from sim.scene.objects import default_library, shared_data_dir
from sim.scene.spec import ObjectSpec, ReceptacleSpec, RoomSpec, SceneSpec, StageSpec, WallSpec, validate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FurniturePlacement:
    """A URDF (relative to the assets folder) placed with its back to a wall: pose (x, y, yaw) on the floor."""

    urdf: str
    id: str
    label: str
    description: str
    pose: tuple[float, float, float]
    rgba: tuple[float, float, float, float] = (0.78, 0.76, 0.72, 1.0)


@dataclass(frozen=True)
class HabitatSceneConfig:
    stage_config: str = "simple_room.stage_config.json"
    furniture: tuple[FurniturePlacement, ...] = (
        FurniturePlacement("URDF/kitchen_counter/kitchen_counter.urdf", "kitchen_counter", "counter",
                           "white kitchen counter", (-2.6, 4.85, 0.0)),
        FurniturePlacement("URDF/fridge/fridge.urdf", "fridge", "fridge", "grey fridge", (-0.3, 4.75, 0.0),
                           (0.6, 0.62, 0.65, 1.0)),
        FurniturePlacement("URDF/cabinet/cabinet.urdf", "cabinet", "cabinet", "brown cabinet",
                           (-4.95, -1.5, math.pi / 2), (0.5, 0.34, 0.2, 1.0)),
    )
    donut_on: str = "kitchen_counter"
    chair_xy: tuple[float, float] = (-2.0, 1.5)
    extra_objects: int = 4
    """Objects from the default library placed on the furniture (0: none)."""
    seed: int = 0
    """Seed for placing the extra objects."""
    enclose: bool = True  # add walls along the floor's edges (simple_room's stage has a floor but no walls)


def habitat_assets_dir() -> Path | None:
    shared = shared_data_dir()
    p = shared / "scenes" / "habitat_test_assets" if shared else None
    return p if p is not None and p.is_dir() else None


def _vec(d: dict, key: str, default, path: Path) -> np.ndarray:
    v = d.get(key, default)
    if not isinstance(v, list) or len(v) != 3 or not all(isinstance(x, (int, float)) for x in v):
        raise SceneError(f"{path} field {key!r} must be a list of 3 numbers, got {v!r}")
    return np.asarray(v, dtype=np.float64)


def asset_to_zup(up: np.ndarray, front: np.ndarray) -> np.ndarray:
    """Rotation taking an asset's (up, front) to our (z, +y), i.e. Habitat's (y, -z) then y-up -> z-up."""
    u = up / np.linalg.norm(up)
    f = front - u * float(front @ u)
    if np.linalg.norm(f) < 1e-6:
        raise SceneError(f"asset up {up.tolist()} and front {front.tolist()} are parallel")
    f /= np.linalg.norm(f)
    return np.stack([np.cross(f, u), f, u])  # rows: the asset axes that become our x, y, z


def _read_config(path: Path) -> dict:
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SceneError(f"cannot read Habitat config {path}: {exc}") from None
    if not isinstance(d, dict) or not isinstance(d.get("render_asset"), str):
        raise SceneError(f"Habitat config {path} has no \"render_asset\" string")
    return d


def _asset_transform(d: dict, path: Path, default_up, default_front) -> tuple[Path, np.ndarray, np.ndarray, np.ndarray]:
    """(mesh path, R (3x3), scale (3,), origin (3,)) of a stage/object config, in our z-up frame."""
    mesh = (path.parent / d["render_asset"]).resolve()
    if not mesh.is_file():
        raise SceneError(f"Habitat config {path} names render_asset {mesh}, which does not exist")
    R = asset_to_zup(_vec(d, "up", default_up, path), _vec(d, "front", default_front, path))  # noqa: N806
    units = d.get("units_to_meters", 1.0)
    if not isinstance(units, (int, float)) or units <= 0:
        raise SceneError(f"{path} field 'units_to_meters' must be a positive number")
    scale = _vec(d, "scale", [1.0, 1.0, 1.0], path) * float(units)
    origin = _vec(d, "origin", [0.0, 0.0, 0.0], path)
    return mesh, R, scale, origin


def floor_height(points_z: np.ndarray, normals_z: np.ndarray, areas: np.ndarray) -> float:
    """Height of the upward-facing level with the most area (the floor)."""
    up = normals_z > 0.9
    if not up.any():
        return float(points_z.min())
    levels = np.round(points_z[up], 2)
    uniq, inv = np.unique(levels, return_inverse=True)
    return float(uniq[np.bincount(inv, weights=areas[up]).argmax()])


def load_stage(config_path: Path) -> tuple[StageSpec, RoomSpec]:
    """The stage (z-up, floor at z = 0) and a room covering its floor."""
    d = _read_config(config_path)
    mesh_path, R, scale, origin = _asset_transform(d, config_path, [0, 1, 0], [0, 0, -1])  # noqa: N806
    for k in sorted(d.get("user_defined", {}) or {}):
        log.info("stage %s: user_defined entry %r is not converted", config_path.name, k)
    mesh = load_mesh_file(mesh_path, scale)
    tri = mesh.triangles_center @ R.T
    normals = mesh.face_normals @ R.T
    z_floor = floor_height(tri[:, 2], normals[:, 2], mesh.area_faces)
    pos = R @ origin - np.array([0.0, 0.0, z_floor])
    floor = (normals[:, 2] > 0.9) & (np.abs(tri[:, 2] - z_floor) < 0.01)
    verts = mesh.vertices[mesh.faces[floor].ravel()] @ R.T
    lo, hi = verts[:, :2].min(axis=0) + pos[:2], verts[:, :2].max(axis=0) + pos[:2]
    stage = StageSpec(str(mesh_path), tuple(float(v) for v in np.round(pos, 6)), _quat(R), tuple(float(s) for s in scale))  # type: ignore[arg-type]
    room = RoomSpec("room", "room", (round(float(lo[0]), 3), round(float(lo[1]), 3)), (round(float(hi[0]), 3), round(float(hi[1]), 3)))
    return stage, room


def _quat(R: np.ndarray) -> tuple[float, float, float, float]:  # noqa: N803
    return tuple(float(round(v, 6)) for v in R_to_quat_xyzw(R))  # type: ignore[return-value]


def load_rigid_object(path: Path, obj_id: str, label: str, description: str, rgba, mass: float,
                      xy: tuple[float, float], floor_z: float, yaw: float = 0.0, on: str | None = None) -> ObjectSpec:
    """A rigid object from a .glb (Habitat default orientation) or an .object_config.json, resting at floor_z."""
    if path.name.endswith(".object_config.json"):
        d = _read_config(path)
        mesh_path, R, scale, _ = _asset_transform(d, path, [0, 1, 0], [0, 0, -1])  # noqa: N806
        mass = float(d.get("mass", mass))
    else:
        if not path.is_file():
            raise SceneError(f"object mesh {path} does not exist")
        mesh_path, R, scale = path.resolve(), asset_to_zup(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0])), np.ones(3)  # noqa: N806
    if not np.allclose(scale, scale[0]):
        raise SceneError(f"object {path} has a non-uniform scale {scale.tolist()}, which objects do not support")
    c, s = math.cos(yaw), math.sin(yaw)
    Rw = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ R  # noqa: N806
    v = np.asarray(load_mesh_file(mesh_path, scale).vertices) @ Rw.T
    z = floor_z - v[:, 2].min()
    cx, cy = (v[:, :2].min(axis=0) + v[:, :2].max(axis=0)) / 2
    position = (round(float(xy[0] - cx), 5), round(float(xy[1] - cy), 5), round(float(z), 5))
    return ObjectSpec(obj_id, 1, label, description, position,
                      mesh=str(mesh_path), scale=float(scale[0]), rgba=rgba, mass=mass, quat_xyzw=_quat(Rw), on=on)


def load_habitat_scene(assets_dir: str | Path | None = None, config: HabitatSceneConfig = HabitatSceneConfig()) -> SceneSpec:
    """The Habitat test assets as one scene: simple_room stage, URDF furniture, chair, donut (+ library objects)."""
    root = Path(assets_dir) if assets_dir is not None else habitat_assets_dir()
    if root is None or not root.is_dir():
        raise SceneError(f"Habitat assets folder {root or '<shared data>/scenes/habitat_test_assets'} not found "
                         "(pass --assets DIR or set OVMM_SHARED_DATA)")
    stage, room = load_stage(root / config.stage_config)
    recs: list[ReceptacleSpec] = []
    for i, f in enumerate(config.furniture):
        parts, surfaces, _ = urdf_receptacle_geometry(root / f.urdf, f.rgba)
        recs.append(ReceptacleSpec(f.id, i + 1, f.label, f.description, room.id, f.pose, parts, surfaces))
    spec = SceneSpec(name=f"habitat-{Path(config.stage_config).name.split('.')[0]}", seed=config.seed, rooms=[room],
                     stages=[stage], receptacles=recs, walls=_enclosing_walls(room) if config.enclose else [])
    objects = _place_habitat_objects(root, spec, config)
    spec.objects = [replace(o, instance_id=len(recs) + k + 1) for k, o in enumerate(objects)]
    spec.robot_start = _free_start(spec)
    validate(spec)
    return spec


def _enclosing_walls(room: RoomSpec, t: float = 0.1, h: float = 2.4) -> list[WallSpec]:
    (x0, y0), (x1, y1) = room.min, room.max
    ht = t / 2
    return [WallSpec("wall_south", (x0 - t, y0 - ht), (x1 + t, y0 - ht), t, h),
            WallSpec("wall_north", (x0 - t, y1 + ht), (x1 + t, y1 + ht), t, h),
            WallSpec("wall_west", (x0 - ht, y0), (x0 - ht, y1), t, h),
            WallSpec("wall_east", (x1 + ht, y0), (x1 + ht, y1), t, h)]


def _place_habitat_objects(root: Path, spec: SceneSpec, config: HabitatSceneConfig) -> list[ObjectSpec]:
    objects = [load_rigid_object(root / "chair.glb", "chair_0", "chair", "wooden chair", (0.55, 0.4, 0.25, 1.0), 5.0,
                                 config.chair_xy, 0.0, yaw=0.5)]
    host = spec.receptacle(config.donut_on)
    if host.surfaces:
        s = host.surfaces[0]
        wx, wy = host.to_world(s.pos[0] - s.size[0] / 4, s.pos[1])
        objects.append(load_rigid_object(root / "donut.glb", "donut_0", "donut", "pink donut", (0.95, 0.6, 0.7, 1.0),
                                         0.1, (wx, wy), s.pos[2], on=host.id))
    if config.extra_objects > 0:
        from sim.scene.generator import GeneratorConfig
        from sim.scene.placement import place_objects

        rng = np.random.default_rng(config.seed)
        lib = [e for e in default_library() if e.label not in ("chair", "donut")]
        cfg = GeneratorConfig(num_objects=(config.extra_objects + 2, config.extra_objects + 2))
        extras = place_objects(rng, spec.receptacles, lib, cfg) or []
        placed = [o for o in objects if o.on is not None]
        for o in extras:  # drop the ones that would overlap the donut
            if len(objects) - 1 >= config.extra_objects + len(placed):
                break
            if all(math.dist(o.position[:2], p.position[:2]) > 0.25 for p in placed):
                objects.append(o)
    return objects


def _free_start(spec: SceneSpec) -> Pose2D:
    from sim.scene.ground_truth import free_components, occupancy_grid_full

    grid = occupancy_grid_full(spec)
    labels = free_components(grid)
    room = spec.rooms[0]
    clear = grid.free_inflated(0.4)
    rc = np.argwhere(clear & (labels > 0))
    xy = grid.cell_to_world(rc)
    inside = (xy[:, 0] > room.min[0]) & (xy[:, 0] < room.max[0]) & (xy[:, 1] > room.min[1]) & (xy[:, 1] < room.max[1])
    if not inside.any():
        raise SceneError(f"scene {spec.name!r} has no free floor for the robot")
    centre = np.array([(room.min[0] + room.max[0]) / 2, (room.min[1] + room.max[1]) / 2])
    k = int(np.argmin(np.linalg.norm(xy[inside] - centre, axis=1)))
    x, y = xy[inside][k]
    return Pose2D(round(float(x), 3), round(float(y), 3), 0.0)


__all__ = ["HabitatSceneConfig", "FurniturePlacement", "load_habitat_scene", "load_stage", "load_rigid_object",
           "asset_to_zup", "habitat_assets_dir"]

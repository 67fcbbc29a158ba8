"""Our SceneSpec -> a complete Habitat scene dataset folder (habitat-sim's documented JSON formats).

    OUTDIR/<name>.scene_dataset_config.json   stages/objects/scene_instances/semantic paths
    OUTDIR/stages/<name>.glb + .stage_config.json      floor, walls and our background stages, y up
    OUTDIR/objects/<id>.glb (+ <id>_collision.glb) + <id>.object_config.json   one template per item
    OUTDIR/scenes/<name>.scene_instance.json  stage + object instances (translation, rotation w,x,y,z)
    OUTDIR/semantics/<name>.semantic_config.json      rooms as region_annotations
    OUTDIR/episodes/<name>.episodes.json      pick-and-place episodes (habitat-lab rearrange-style fields)

Meshes are glTF binaries in Habitat's frame (y up, -z forward), metres, one colour each (our rgba);
receptacle furniture gets its collision parts as `collision_asset` and each support surface as a
`user_defined.receptacle_aabb_*` volume (habitat-lab's receptacle convention: `position` = centre,
`scale` = half extents, bottom face = the surface). Each template's `user_defined.ovmm` block keeps what
Habitat has no field for (id, label, description, colour, room; walls, doors and robot start on the
stage) so that importing the export gives back the same scene. Files are written to a temporary folder
and moved into place, so a failed export leaves no half-written dataset.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from core.geometry import make_T, quat_xyzw_to_R, rot_z
from sim.habitat_dataset.frames import R_HAB_FROM_ZUP, R_to_quat_wxyz, zup_to_hab_point, zup_to_hab_rotation
from sim.scene.fields import SceneError
from sim.scene.mesh_io import load_mesh_file, load_object_mesh
from sim.scene.spec import ObjectSpec, ReceptacleSpec, SceneSpec

log = logging.getLogger(__name__)

SURFACE_VOLUME_HEIGHT_M = 0.1
TO_HAB = make_T(R_HAB_FROM_ZUP)


def _coloured(mesh: trimesh.Trimesh, rgba) -> trimesh.Trimesh:
    m = mesh.copy()
    m.visual = trimesh.visual.ColorVisuals(m, face_colors=np.tile((np.asarray(rgba) * 255).astype(np.uint8), (len(m.faces), 1)))
    return m


def _part_mesh(spec: SceneSpec, part) -> trimesh.Trimesh:
    if part.type == "box":
        m = trimesh.creation.box(extents=part.size)
    else:
        m = load_mesh_file(spec.resolve_mesh(part.mesh), part.scale)
    m.apply_transform(make_T(quat_xyzw_to_R(part.quat_xyzw), part.pos))
    return _coloured(m, part.rgba)


def _write_glb(meshes: list[trimesh.Trimesh], path: Path) -> None:
    scene = trimesh.Scene()
    for i, m in enumerate(meshes):
        h = m.copy()
        h.apply_transform(TO_HAB)
        scene.add_geometry(h, node_name=f"part_{i}", geom_name=f"part_{i}")
    path.write_bytes(scene.export(file_type="glb"))


def _rel(p: Path, start: Path) -> str:
    return os.path.relpath(p, start).replace(os.sep, "/")


def _receptacle_template(spec: SceneSpec, r: ReceptacleSpec, objdir: Path) -> dict:
    visual = [_part_mesh(spec, p) for p in r.parts if p.role in ("both", "visual")]
    collision = [_part_mesh(spec, p) for p in r.parts if p.role in ("both", "collision")]
    _write_glb(visual or collision, objdir / f"{r.id}.glb")
    cfg: dict = {"render_asset": f"{r.id}.glb", "up": [0, 1, 0], "front": [0, 0, -1], "mass": 50.0,
                 "semantic_id": r.instance_id}
    if collision and len(collision) != len(visual):
        _write_glb(collision, objdir / f"{r.id}_collision.glb")
        cfg["collision_asset"] = f"{r.id}_collision.glb"
    user: dict = {}
    for k, s in enumerate(r.surfaces):
        centre = np.array([s.pos[0], s.pos[1], s.pos[2] + SURFACE_VOLUME_HEIGHT_M / 2])
        user[f"receptacle_aabb_{r.id}_{k}"] = {
            "name": f"{r.id}_surface_{k}", "position": [round(float(v), 6) for v in zup_to_hab_point(centre)],
            "scale": [round(s.size[0] / 2, 6), SURFACE_VOLUME_HEIGHT_M / 2, round(s.size[1] / 2, 6)],
            "rotation": [1.0, 0.0, 0.0, 0.0], "up": [0.0, 1.0, 0.0]}
    user["ovmm"] = {"kind": "receptacle", "id": r.id, "label": r.label, "description": r.description,
                    "room": r.room, "rgba": list(r.parts[0].rgba), "pose": [round(float(v), 7) for v in r.pose]}
    cfg["user_defined"] = user
    return cfg


def _object_template(spec: SceneSpec, o: ObjectSpec, objdir: Path) -> dict:
    mesh = load_object_mesh(o, spec.base_dir)  # scaled, object frame (z up)
    _write_glb([_coloured(mesh, o.rgba)], objdir / f"{o.id}.glb")
    return {"render_asset": f"{o.id}.glb", "up": [0, 1, 0], "front": [0, 0, -1], "mass": o.mass,
            "semantic_id": o.instance_id,
            "user_defined": {"ovmm": {"kind": "object", "id": o.id, "label": o.label, "description": o.description,
                                      "rgba": list(o.rgba)}}}


def _stage_meshes(spec: SceneSpec) -> list[trimesh.Trimesh]:
    xmin, ymin, xmax, ymax = spec.bounds_xy()
    floor = trimesh.creation.box(extents=[xmax - xmin + 1.0, ymax - ymin + 1.0, 0.05])
    floor.apply_translation([(xmin + xmax) / 2, (ymin + ymax) / 2, -0.025])
    meshes = [_coloured(floor, (0.62, 0.6, 0.56, 1.0))]
    for w in spec.walls:
        b = trimesh.creation.box(extents=[w.length, w.thickness, w.height])
        c = ((w.start[0] + w.end[0]) / 2, (w.start[1] + w.end[1]) / 2, w.height / 2)
        b.apply_transform(make_T(rot_z(w.yaw), c))
        meshes.append(_coloured(b, w.rgba))
    for s in spec.stages:
        m = load_mesh_file(spec.resolve_mesh(s.mesh), s.scale)
        m.apply_transform(make_T(quat_xyzw_to_R(s.quat_xyzw), s.pos))
        meshes.append(_coloured(m, (0.8, 0.8, 0.8, 1.0)))
    return meshes


def _instance(template: str, pos, R: np.ndarray, motion: str) -> dict:  # noqa: N803
    return {"template_name": template, "translation": [round(float(v), 6) for v in zup_to_hab_point(pos)],
            "rotation": [round(v, 7) for v in R_to_quat_wxyz(zup_to_hab_rotation(R))], "motion_type": motion,
            "translation_origin": "asset_local"}


def episode_list(spec: SceneSpec, scene_instance: str, dataset_config: str, n: int, seed: int) -> dict:
    """Episodes in the scene as habitat-lab rearrange-style records (+ our request text)."""
    from sim.scene.episodes import make_episodes

    eps = make_episodes(spec, n, seed, scene_path=scene_instance)
    start = zup_to_hab_point([spec.robot_start.x, spec.robot_start.y, 0.0])
    heading = R_to_quat_wxyz(zup_to_hab_rotation(rot_z(spec.robot_start.theta)))
    out = []
    for k, e in enumerate(eps):
        o, r = spec.object(e.object_id), spec.receptacle(e.receptacle_id)
        out.append({"episode_id": str(k), "scene_id": scene_instance, "scene_dataset_config": dataset_config,
                    "start_position": [round(float(v), 6) for v in start], "start_rotation": heading[1:] + heading[:1],
                    "object_category": o.label, "goal_recep_category": r.label,
                    "target_object": o.id, "goal_receptacle": r.id,
                    "start_receptacle": o.on, "instruction": e.request, "info": {"seed": seed}})
    return {"episodes": out}


@dataclass(frozen=True)
class ExportConfig:
    """Options of `export_scene` (`ovmm sim export-habitat`)."""

    episodes: int = 10
    """Episodes to write to the episode list (0: none)."""
    seed: int = 0
    """Seed of the episode draw."""


def export_scene(spec: SceneSpec, outdir: str | os.PathLike, episodes: int = ExportConfig.episodes,
                 seed: int = ExportConfig.seed) -> Path:
    """Write `spec` as a Habitat scene dataset in `outdir` (created; must be empty or absent). Returns the config."""
    out = Path(outdir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SceneError(f"export folder {out} exists and is not empty")
    ids = [r.id for r in spec.receptacles] + [o.id for o in spec.objects]
    bad = [i for i in ids if not i.replace("_", "").replace("-", "").isalnum()]
    if bad:
        raise SceneError(f"scene ids {bad[:3]} cannot be file names (use letters, digits, _ and -)")
    name = spec.name.replace(" ", "_").replace("/", "_")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for sub in ("stages", "objects", "scenes", "semantics", "episodes"):
            (tmp / sub).mkdir()
        _write_glb(_stage_meshes(spec), tmp / "stages" / f"{name}.glb")
        stage_cfg = {"render_asset": f"{name}.glb", "up": [0, 1, 0], "front": [0, 0, -1], "scale": [1, 1, 1],
                     "units_to_meters": 1.0, "origin": [0, 0, 0],
                     "user_defined": {"ovmm": {"name": spec.name, "seed": spec.seed,
                                               "walls": [w.to_dict() for w in spec.walls],
                                               "doors": [d.to_dict() for d in spec.doors],
                                               "robot_start": spec.robot_start.to_list()}}}
        (tmp / "stages" / f"{name}.stage_config.json").write_text(json.dumps(stage_cfg, indent=2))
        instances = []
        for r in spec.receptacles:
            cfg = _receptacle_template(spec, r, tmp / "objects")
            (tmp / "objects" / f"{r.id}.object_config.json").write_text(json.dumps(cfg, indent=2))
            instances.append(_instance(f"objects/{r.id}.object_config.json", [r.pose[0], r.pose[1], 0.0], rot_z(r.pose[2]), "STATIC"))
        for o in spec.objects:
            cfg = _object_template(spec, o, tmp / "objects")
            (tmp / "objects" / f"{o.id}.object_config.json").write_text(json.dumps(cfg, indent=2))
            instances.append(_instance(f"objects/{o.id}.object_config.json", o.position, quat_xyzw_to_R(o.quat_xyzw), "DYNAMIC"))
        regions = []
        for room in spec.rooms:
            (x0, y0), (x1, y1) = room.min, room.max
            loop = [zup_to_hab_point([x, y, 0.0]).round(6).tolist() for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
            regions.append({"name": room.id, "label": room.label, "poly_loop": loop, "floor_height": 0.0,
                            "extrusion_height": 2.5})
        (tmp / "semantics" / f"{name}.semantic_config.json").write_text(json.dumps({"region_annotations": regions}, indent=2))
        scene = {"stage_instance": {"template_name": f"stages/{name}", "translation": [0, 0, 0],
                                    "rotation": [1, 0, 0, 0]},
                 "default_lighting": "", "translation_origin": "asset_local",
                 "object_instances": instances, "articulated_object_instances": [],
                 "semantic_scene_instance": f"{name}.semantic_config.json"}
        (tmp / "scenes" / f"{name}.scene_instance.json").write_text(json.dumps(scene, indent=1))
        dataset_name = f"{name}.scene_dataset_config.json"
        dataset = {"stages": {"paths": {".json": ["stages"]}},
                   "objects": {"paths": {".json": ["objects"]}},
                   "articulated_objects": {},
                   "light_setups": {},
                   "scene_instances": {"paths": {".json": ["scenes"]}},
                   "semantic_scene_descriptor_instances": {"paths": {".json": ["semantics"]}}}
        (tmp / dataset_name).write_text(json.dumps(dataset, indent=2))
        eps = episode_list(spec, f"scenes/{name}.scene_instance.json", dataset_name, episodes, seed) if episodes > 0 else {"episodes": []}
        (tmp / "episodes" / f"{name}.episodes.json").write_text(json.dumps(eps, indent=1))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported scene %s to %s (%d receptacles, %d objects)", spec.name, out, len(spec.receptacles), len(spec.objects))
    return out / dataset_name

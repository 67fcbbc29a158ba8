"""One scene of a Habitat scene dataset -> our SceneSpec (z up, floor at z = 0).

- The stage (`stage_instance`) becomes a drawn background mesh; its floor (the upward level with the most
  area) is moved to z = 0 and everything else moves with it. Receptacle volumes/meshes in the stage's
  `user_defined` become receptacles whose collision boxes are cut from the stage mesh under them.
- Rigid `object_instances`: DYNAMIC ones, and any instance whose scaled box fits in
  `pickable_max_size_m` on every side, become pickable objects; the others become furniture (receptacles
  with the visual mesh, collision boxes and support surfaces from sim.habitat_dataset.furniture, or the
  `user_defined` receptacle volumes/meshes of their template when it has some).
- `articulated_object_instances` (URDFs; sim.habitat_dataset.articulated) become furniture with the URDF's
  boxes, joints at the instance's `initial_joint_pose` (list in joint order or dict by name; others at 0),
  always fixed.
- Rooms come from the semantic descriptor's `region_annotations` (each polygon's bounding rectangle), else
  one room over the stage floor. Labels and descriptions: sim.habitat_dataset.naming.
- Poses: `translation` + `rotation` [w, x, y, z] (Habitat world, y up); `translation_origin` "COM"
  (template `COM`, else the asset's bounding-box centre) or "asset_local" (the scene's value is the default;
  habitat-sim's default is COM); `uniform_scale` and `non_uniform_scale` multiply the template's `scale`.
- Our own exports carry a `user_defined.ovmm` block (ids, labels, descriptions, colours, walls, doors,
  robot start) that restores those exactly; `ImportConfig.use_ovmm_metadata=False` ignores it.

Fields that are read but have no effect here (physics coefficients, lights, navmeshes, shaders, ...) are
listed once per scene in the log; values that would be converted wrongly raise a SceneError naming the
file and the field.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import trimesh

from core.geometry import make_T, rot_z
from core.types import Pose2D
from sim.habitat_dataset.articulated import articulated_receptacle
from sim.habitat_dataset.attributes import SceneDataset, Template
from sim.habitat_dataset.frames import (
    hab_to_zup_point,
    yaw_and_tilt,
)
from sim.habitat_dataset.furniture import (
    FurnitureConfig,
    cast_vertical,
    collision_boxes,
    furniture_geometry,
)
from sim.habitat_dataset.instances import (
    Asset,
    instance_pose,
    instance_scale,
    num,
    quat_of,
    template_asset,
    vec,
)
from sim.habitat_dataset.naming import (
    GREY,
    colour_name,
    label_from_name,
    label_from_user,
    mesh_colour,
    slug,
    unique_descriptions,
)
from sim.habitat_dataset.receptacle_volumes import receptacle_surfaces
from sim.habitat_dataset.semantics import scene_semantics
from sim.scene.fields import SceneError
from sim.scene.habitat import floor_height
from sim.scene.mesh_io import load_mesh_file
from sim.scene.spec import (
    DoorSpec,
    ObjectSpec,
    PartSpec,
    ReceptacleSpec,
    RoomSpec,
    SceneSpec,
    StageSpec,
    SurfaceSpec,
    WallSpec,
    validate,
)

log = logging.getLogger(__name__)

SCENE_KEYS = {"stage_instance", "object_instances", "articulated_object_instances", "translation_origin",
              "semantic_scene_instance", "user_defined"}
INSTANCE_KEYS = {"template_name", "translation", "rotation", "motion_type", "uniform_scale", "non_uniform_scale",
                 "translation_origin", "user_defined"}
AO_KEYS = INSTANCE_KEYS | {"fixed_base", "initial_joint_pose", "auto_clamp_joint_limits"}
TEMPLATE_KEYS = {"render_asset", "collision_asset", "up", "front", "scale", "units_to_meters", "mass", "origin",
                 "COM", "user_defined", "urdf_filepath", "semantic_id"}
MOTION_TYPES = ("static", "kinematic", "dynamic", "undefined")


@dataclass(frozen=True)
class ImportConfig:
    pickable_max_size_m: float = 0.4
    """Rigid instances whose scaled box fits in this on every side are pickable objects (DYNAMIC ones always)."""
    furniture: FurnitureConfig = FurnitureConfig()
    use_ovmm_metadata: bool = True
    """Use the `user_defined.ovmm` blocks our exports write (exact ids/labels/walls); False: ignore them."""
    on_tolerance_m: float = 0.04


@dataclass
class _Notes:
    """Fields seen but not converted: logged once per scene, with counts."""

    unused: Counter = field(default_factory=Counter)

    def fields(self, d: dict, known: set[str], where: str) -> None:
        for k in d:
            if k not in known:
                self.unused[f"{where}.{k}"] += 1

    def log(self, scene: str) -> None:
        if self.unused:
            items = ", ".join(f"{k} ({n})" if n > 1 else k for k, n in sorted(self.unused.items()))
            log.info("scene %s: fields not converted (no effect in ovmm): %s", scene, items)


@dataclass
class _Placed:
    """An instance in our world (before the floor shift): mesh vertex v -> R_world @ (scale * v) + p0."""

    index: int
    template: Template
    asset: Asset
    R_world: np.ndarray
    p0: np.ndarray
    scale: np.ndarray
    motion: str
    user: dict
    ctx: str


class _Importer:
    def __init__(self, dataset: SceneDataset, name: str, config: ImportConfig):
        self.ds, self.config, self.notes = dataset, config, _Notes()
        self.scene_t = dataset.scene_template(name)
        self.scene_file = self.scene_t.source
        self.name = self.scene_t.name
        d = self.scene_t.attrs
        if not isinstance(d, dict):
            raise SceneError(f"scene instance {self.scene_file} must hold a JSON object")
        self.d = d
        self.geometry_cache: dict = {}

    def ctx(self, field_: str) -> str:
        return f"{self.scene_file} field '{field_}'"

    # ------------------------------------------------------------------------------------------------
    def run(self) -> SceneSpec:
        d = self.d
        self.notes.fields(d, SCENE_KEYS, "scene")
        self.semantics = scene_semantics(self.ds, d, self.name, self.ctx("semantic_scene_instance"))
        scene_origin = str(d.get("translation_origin", "com"))
        stage, stage_mesh, stage_t, stage_T = self._stage(d.get("stage_instance"), scene_origin)
        placed: list[_Placed] = []
        insts = d.get("object_instances", [])
        if not isinstance(insts, list):
            raise SceneError(f"{self.ctx('object_instances')} must be a list")
        for i, inst in enumerate(insts):
            placed.append(self._place(i, inst, scene_origin))
        # floor: the stage's, else the lowest furniture bottom, else 0
        if stage_mesh is not None:
            z_floor = floor_height(stage_mesh.triangles_center[:, 2], stage_mesh.face_normals[:, 2], stage_mesh.area_faces)
        else:
            z_floor = 0.0
        shift = np.array([0.0, 0.0, -z_floor])
        stages = []
        if stage is not None:
            stages.append(StageSpec(stage.mesh, tuple(float(round(v, 6)) for v in np.asarray(stage.pos) + shift),  # type: ignore[arg-type]
                                    stage.quat_xyzw, stage.scale))
        meta = self._meta(stage_t.attrs.get("user_defined") if stage_t is not None else None)
        receptacles: list[ReceptacleSpec] = []
        objects: list[ObjectSpec] = []
        rec_meta, obj_meta = [], []
        for p in placed:
            p.p0 = p.p0 + shift
            if self._is_pickable(p):
                objects.append(self._object(p))
                obj_meta.append(self._meta(p.user) or self._meta(p.template.attrs.get("user_defined")))
            else:
                receptacles.append(self._furniture(p))
                rec_meta.append(self._meta(p.user) or self._meta(p.template.attrs.get("user_defined")))
        aos = d.get("articulated_object_instances", [])
        if not isinstance(aos, list):
            raise SceneError(f"{self.ctx('articulated_object_instances')} must be a list")
        for i, inst in enumerate(aos):
            ctx = self.ctx(f"articulated_object_instances[{i}]")
            if isinstance(inst, dict):
                self.notes.fields(inst, AO_KEYS, "articulated_object_instances[]")
            r, m = articulated_receptacle(self.ds, inst, ctx, self.notes.unused, self._meta, self.config.furniture, shift)
            receptacles.append(r)
            rec_meta.append(m)
        if stage_t is not None and stage_mesh is not None:
            for r in self._stage_receptacles(stage_t, stage_T, stage_mesh, shift):
                receptacles.append(r)
                rec_meta.append({})
        rooms = self._rooms(shift, stage_mesh, z_floor, receptacles, objects, meta)
        spec = self._assemble(rooms, receptacles, rec_meta, objects, obj_meta, stages, meta)
        self.notes.log(self.name)
        return spec

    def _meta(self, user) -> dict:
        if not self.config.use_ovmm_metadata or not isinstance(user, dict):
            return {}
        m = user.get("ovmm")
        return m if isinstance(m, dict) else {}

    # --- stage ----------------------------------------------------------------------------------------
    def _stage(self, inst, scene_origin):
        if inst is None:
            return None, None, None, None
        ctx = "stage_instance"
        if not isinstance(inst, dict) or not isinstance(inst.get("template_name"), str):
            raise SceneError(f"{self.ctx(ctx)} must be an object with a string 'template_name'")
        self.notes.fields(inst, INSTANCE_KEYS, "stage_instance")
        if inst["template_name"].upper() == "NONE":
            return None, None, None, None
        t = self.ds.template("stages", inst["template_name"], self.ctx(f"{ctx}.template_name"))
        self.notes.fields(t.attrs, TEMPLATE_KEYS, "stage")
        a = template_asset(t, self.ctx(ctx))
        tr, R, _ = instance_pose(inst, self.ctx(ctx), "asset_local")  # noqa: N806
        scale = a.scale * instance_scale(inst, self.ctx(ctx))
        mesh = load_mesh_file(a.mesh, scale)
        Rw = R @ a.R  # noqa: N806
        pos = tr + Rw @ a.origin
        T = make_T(Rw, pos)  # noqa: N806
        world = mesh.copy()
        world.apply_transform(T)
        st = StageSpec(str(a.mesh), tuple(float(v) for v in pos), quat_of(Rw), tuple(float(s) for s in scale))  # type: ignore[arg-type]
        for k in ("collision_asset", "semantic_asset", "nav_asset"):
            if k in t.attrs:
                self.notes.unused[f"stage.{k}"] += 1
        return st, world, t, T

    # --- rigid instances ------------------------------------------------------------------------------
    def _place(self, i: int, inst, scene_origin: str) -> _Placed:
        ctx = self.ctx(f"object_instances[{i}]")
        if not isinstance(inst, dict) or not isinstance(inst.get("template_name"), str):
            raise SceneError(f"{ctx} must be an object with a string 'template_name'")
        self.notes.fields(inst, INSTANCE_KEYS, "object_instances[]")
        t = self.ds.template("objects", inst["template_name"], f"{ctx[:-1]}.template_name'")
        self.notes.fields(t.attrs, TEMPLATE_KEYS, "object")
        a = template_asset(t, ctx)
        tr, R, origin = instance_pose(inst, ctx, scene_origin)  # noqa: N806
        motion = str(inst.get("motion_type", "undefined")).lower()
        if motion not in MOTION_TYPES:
            raise SceneError(f"{ctx} field 'motion_type' must be STATIC, KINEMATIC or DYNAMIC, got {inst['motion_type']!r}")
        scale = a.scale * instance_scale(inst, ctx)
        Rw = R @ a.R  # noqa: N806
        if origin == "com":
            if a.com is not None:
                com_local = hab_to_zup_point(a.com) * 1.0
                com_world = R @ com_local
            else:
                v = np.asarray(load_mesh_file(a.mesh, scale).vertices) @ Rw.T
                com_world = (v.min(axis=0) + v.max(axis=0)) / 2
            p0 = tr - com_world
        else:
            p0 = tr
        user = inst.get("user_defined", {}) if isinstance(inst.get("user_defined", {}), dict) else {}
        return _Placed(i, t, a, Rw, p0, scale, motion, user, ctx)

    def _extent(self, p: _Placed) -> np.ndarray:
        v = np.asarray(load_mesh_file(p.asset.mesh, p.scale).vertices) @ p.R_world.T
        return v.max(axis=0) - v.min(axis=0)

    def _is_pickable(self, p: _Placed) -> bool:
        meta = self._meta(p.user) or self._meta(p.template.attrs.get("user_defined"))
        if meta.get("kind") in ("object", "receptacle"):
            return meta["kind"] == "object"
        if p.motion == "dynamic":
            pick = True
        else:
            pick = bool((self._extent(p) <= self.config.pickable_max_size_m).all())
        if pick and np.ptp(p.scale) > 0.01 * float(np.max(p.scale)):
            log.info("%s: non-uniform scale %s on a small object: kept as static furniture", p.ctx, p.scale.round(3).tolist())
            return False
        return pick

    def _labels(self, p: _Placed) -> tuple[str, str | None, tuple]:
        user = {**(p.template.attrs.get("user_defined") or {}), **p.user}
        sid = p.template.attrs.get("semantic_id")
        sem_class = self.semantics.classes.get(sid) if isinstance(sid, int) else None
        label = label_from_user(user) or (sem_class.replace("_", " ").lower() if sem_class else None) \
            or label_from_name(p.template.name)
        rgba = user.get("rgba")
        if not (isinstance(rgba, list) and len(rgba) == 4):
            rgba = mesh_colour(p.asset.mesh) or GREY
        desc = user.get("description") if isinstance(user.get("description"), str) else None
        return label, desc, tuple(float(c) for c in rgba)

    def _object(self, p: _Placed) -> ObjectSpec:
        meta = self._meta(p.user) or self._meta(p.template.attrs.get("user_defined"))
        label, desc, rgba = self._labels(p)
        mass = num(p.template.attrs.get("mass", 0.2), f"{p.template.source} field 'mass'")
        return ObjectSpec(meta.get("id", ""), 1, meta.get("label", label), meta.get("description", desc or ""),
                          tuple(float(round(v, 6)) for v in p.p0), mesh=str(p.asset.mesh),  # type: ignore[arg-type]
                          scale=float(np.mean(p.scale)), rgba=tuple(meta.get("rgba", rgba)), mass=mass,  # type: ignore[arg-type]
                          quat_xyzw=quat_of(p.R_world))

    def _furniture(self, p: _Placed) -> ReceptacleSpec:
        meta = self._meta(p.user) or self._meta(p.template.attrs.get("user_defined"))
        label, desc, rgba = self._labels(p)
        rgba = tuple(meta.get("rgba", rgba))
        yaw, tilt = yaw_and_tilt(p.R_world)
        key = (str(p.asset.mesh), tuple(np.round(p.scale, 4)), tuple(np.round(tilt, 3).ravel()), round(float(p.p0[2]), 3),
               p.template.handle)
        if key not in self.geometry_cache:
            m = load_mesh_file(p.asset.mesh, p.scale)
            m.apply_transform(make_T(tilt, [0.0, 0.0, p.p0[2]]))
            lo, hi = m.bounds
            c = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0])
            m.apply_translation(-c)
            coll = p.template.attrs.get("collision_asset")
            cpath = (p.template.base_dir / coll).resolve() if isinstance(coll, str) else None
            if cpath is not None and cpath.is_file():  # collide with what Habitat collides with
                m = load_mesh_file(cpath, p.scale)
                m.apply_transform(make_T(tilt, [-c[0], -c[1], p.p0[2]]))
            elif cpath is not None:
                self.notes.unused["object.collision_asset (not a file: primitive shapes)"] += 1
            boxes, surfaces = furniture_geometry(m, rgba, self.config.furniture)
            volumes = receptacle_surfaces(p.template, make_T(tilt @ p.asset.R.T, [-c[0], -c[1], p.p0[2]]), p.scale, p.ctx,
                                          self.config.furniture)
            self.geometry_cache[key] = (c, boxes, volumes if volumes is not None else surfaces)
        c, boxes, surfaces = self.geometry_cache[key]
        visual = PartSpec("mesh", (round(-float(c[0]), 6), round(-float(c[1]), 6), round(float(p.p0[2]), 6)),
                          mesh=str(p.asset.mesh), scale=tuple(float(s) for s in p.scale),  # type: ignore[arg-type]
                          quat_xyzw=quat_of(tilt), rgba=rgba, role="visual")  # type: ignore[arg-type]
        boxes = [PartSpec(b.type, b.pos, size=b.size, rgba=rgba, role="collision") for b in boxes]
        cx, cy = p.p0[:2] + rot_z(yaw)[:2, :2] @ c[:2]
        pose = (round(float(cx), 6), round(float(cy), 6), round(float(yaw), 7))
        return ReceptacleSpec(meta.get("id", ""), 1, meta.get("label", label), meta.get("description", desc or ""),
                              meta.get("room"), pose, tuple([visual, *boxes]), tuple(surfaces))  # type: ignore[arg-type]

    def _stage_receptacles(self, t: Template, T_stage: np.ndarray, stage_world: trimesh.Trimesh, shift) -> list[ReceptacleSpec]:  # noqa: N803
        user = t.attrs.get("user_defined") or {}
        if not any(k.startswith("receptacle_") for k in user):
            return []
        # stage receptacles are given in the stage's Habitat frame: T_stage already maps our z-up asset frame
        T_world = make_T(t=shift) @ T_stage  # noqa: N806
        a = template_asset(t, self.ctx("stage_instance"))
        T_local = T_world @ make_T(a.R.T)  # noqa: N806  (our z-up version of the stage's Habitat frame -> world)
        names: list[str] = []
        surfaces = receptacle_surfaces(t, T_local, np.ones(3), self.ctx("stage_instance"), self.config.furniture, names) or []
        out = []
        mesh = stage_world.copy()
        mesh.apply_translation(shift)
        for k, s in enumerate(surfaces):
            lo = np.array([s.pos[0] - s.size[0] / 2, s.pos[1] - s.size[1] / 2, -1.0])
            hi = np.array([s.pos[0] + s.size[0] / 2, s.pos[1] + s.size[1] / 2, s.pos[2] + 0.01])
            grid = cast_vertical(mesh, self.config.furniture.cell_m, np.stack([lo, hi]))
            boxes = [(b0, b1) for b0, b1 in collision_boxes(grid, self.config.furniture)
                     if 0.05 < b1[2] <= s.pos[2] + 0.02]  # the stage under the volume, not its floor or ceiling
            if not boxes:
                boxes = [(np.array([lo[0], lo[1], s.pos[2] - 0.03]), np.array([hi[0], hi[1], s.pos[2]]))]
            c = np.array([s.pos[0], s.pos[1], 0.0])
            parts = tuple(PartSpec("box", tuple(float(v) for v in np.round((b0 + b1) / 2 - c, 5)),  # type: ignore[arg-type]
                                   size=tuple(float(v) for v in np.round(np.maximum(b1 - b0, 0.005), 5)),  # type: ignore[arg-type]
                                   rgba=GREY, role="collision") for b0, b1 in boxes)
            label = label_from_name(names[k]) if k < len(names) else "counter"
            out.append(ReceptacleSpec("", 1, label, "", None, (float(c[0]), float(c[1]), 0.0),
                                      parts, (SurfaceSpec((0.0, 0.0, s.pos[2]), s.size),)))
        return out

    # --- rooms and assembly ---------------------------------------------------------------------------
    def _rooms(self, shift, stage_mesh, z_floor, receptacles, objects, meta) -> list[RoomSpec]:
        sem_name = self.d.get("semantic_scene_instance")
        rooms: list[RoomSpec] = []
        if isinstance(sem_name, str) and sem_name:
            path, regions = self.semantics.path, self.semantics.regions
            ids: Counter = Counter()
            for k, r in enumerate(regions):
                ctx = f"semantic config {path} field 'region_annotations[{k}]'"
                if not isinstance(r, dict) or not isinstance(r.get("poly_loop"), list) or len(r["poly_loop"]) < 3:
                    raise SceneError(f"{ctx} needs a 'poly_loop' of at least 3 points")
                pts = np.array([hab_to_zup_point(vec(p, 3, f"{ctx}.poly_loop")) for p in r["poly_loop"]])
                lo, hi = pts[:, :2].min(axis=0) + shift[:2], pts[:, :2].max(axis=0) + shift[:2]
                label = str(r.get("label") or "room").replace("_", " ")
                rid = str(r.get("name") or slug(label))
                ids[rid] += 1
                rid = rid if ids[rid] == 1 else f"{rid}_{ids[rid]}"
                if hi[0] - lo[0] > 0.05 and hi[1] - lo[1] > 0.05:
                    rooms.append(RoomSpec(rid, label, (round(float(lo[0]), 3), round(float(lo[1]), 3)),
                                          (round(float(hi[0]), 3), round(float(hi[1]), 3))))
            if len(regions) and any(len(r.get("poly_loop", [])) != 4 for r in regions if isinstance(r, dict)):
                log.info("scene %s: region polygons are used as their bounding rectangles", self.name)
        if rooms:
            return rooms
        if stage_mesh is not None:
            up = (stage_mesh.face_normals[:, 2] > 0.9) & (np.abs(stage_mesh.triangles_center[:, 2] - z_floor) < 0.01)
            v = stage_mesh.vertices[stage_mesh.faces[up].ravel()]
            lo, hi = v[:, :2].min(axis=0), v[:, :2].max(axis=0)
        else:
            xy = [r.pose[:2] for r in receptacles] + [o.position[:2] for o in objects]
            if not xy:
                raise SceneError(f"scene {self.scene_file} has no stage and no objects: nothing to import")
            a = np.array(xy)
            lo, hi = a.min(axis=0) - 1.0, a.max(axis=0) + 1.0
        return [RoomSpec("room", "room", (round(float(lo[0]), 3), round(float(lo[1]), 3)),
                         (round(float(hi[0]), 3), round(float(hi[1]), 3)))]

    def _assemble(self, rooms, receptacles, rec_meta, objects, obj_meta, stages, meta) -> SceneSpec:
        # descriptions: "<colour> <label>" unless given; unique; ids from labels unless given
        rec_desc = [r.description or f"{colour_name(r.parts[0].rgba)} {r.label}" for r in receptacles]
        obj_desc = [o.description or f"{colour_name(o.rgba)} {o.label}" for o in objects]
        descs = unique_descriptions(rec_desc + obj_desc)
        given = Counter(x.id for x in [*receptacles, *objects] if x.id)
        taken = {k for k, n in given.items() if n == 1}  # ids given once keep them
        first: set[str] = set()

        def new_id(given_id: str, label: str) -> str:
            if given_id and given[given_id] == 1:
                return given_id
            if given_id and given_id not in first and given_id not in taken:
                first.add(given_id)
                taken.add(given_id)
                return given_id
            base, k = given_id or slug(label), 0
            while f"{base}_{k}" in taken:
                k += 1
            taken.add(f"{base}_{k}")
            return f"{base}_{k}"

        room_of = {}
        recs = []
        for k, r in enumerate(receptacles):
            rid = new_id(r.id, r.label)
            room = r.room if r.room in {x.id for x in rooms} else next((x.id for x in rooms if x.contains(r.pose[0], r.pose[1])), None)
            recs.append(ReceptacleSpec(rid, k + 1, r.label, descs[k], room, r.pose, r.parts, r.surfaces))
            room_of[rid] = room
        objs = []
        for k, o in enumerate(objects):
            oid = new_id(o.id, o.label)
            objs.append(ObjectSpec(oid, len(recs) + k + 1, o.label, descs[len(recs) + k], o.position, mesh=o.mesh,
                                   scale=o.scale, rgba=o.rgba, mass=o.mass, quat_xyzw=o.quat_xyzw,
                                   on=self._resting_on(o, recs)))
        walls = [WallSpec.from_dict(w, f"wall {i}") for i, w in enumerate(meta.get("walls", []))]
        doors = [DoorSpec.from_dict(w, f"door {i}") for i, w in enumerate(meta.get("doors", []))]
        spec = SceneSpec(name=str(meta.get("name", self.name)), seed=meta.get("seed"), rooms=rooms, walls=walls,
                         doors=doors, receptacles=recs, objects=objs, stages=stages)
        start = meta.get("robot_start")
        spec.robot_start = Pose2D.from_list(start) if isinstance(start, list) and len(start) == 3 else free_start(spec)
        validate(spec)
        return spec

    def _resting_on(self, o: ObjectSpec, recs: list[ReceptacleSpec]) -> str | None:
        from core.geometry import quat_xyzw_to_R
        from sim.scene.mesh_io import load_object_mesh

        v = np.asarray(load_object_mesh(o).vertices) @ quat_xyzw_to_R(o.quat_xyzw).T + np.asarray(o.position)
        bottom = float(v[:, 2].min())
        cx, cy = (v[:, :2].min(axis=0) + v[:, :2].max(axis=0)) / 2
        best, best_dz = None, self.config.on_tolerance_m
        for r in recs:
            lx, ly = r.to_local(float(cx), float(cy))
            for s in r.surfaces:
                if abs(lx - s.pos[0]) <= s.size[0] / 2 + 0.02 and abs(ly - s.pos[1]) <= s.size[1] / 2 + 0.02:
                    dz = abs(bottom - s.pos[2])
                    if dz <= best_dz:
                        best, best_dz = r.id, dz
        return best


def free_start(spec: SceneSpec, margin_m: float = 0.3) -> Pose2D:
    """A start pose on free floor (0.4 m clear) inside a room, in the free region that covers the most room
    floor (not the ring around the outside of a stage), nearest the centre of the rooms."""
    from sim.scene.ground_truth import free_components, occupancy_grid_full

    grid = occupancy_grid_full(spec)
    labels = free_components(grid)
    clear = grid.free_inflated(0.4) & (labels > 0)
    rc = np.argwhere(clear)
    xy = grid.cell_to_world(rc)
    inside = np.zeros(len(xy), dtype=bool)
    for r in spec.rooms:
        inside |= ((xy[:, 0] > r.min[0] + margin_m) & (xy[:, 0] < r.max[0] - margin_m)
                   & (xy[:, 1] > r.min[1] + margin_m) & (xy[:, 1] < r.max[1] - margin_m))
    if not inside.any():
        raise SceneError(f"scene {spec.name!r} has no free floor for the robot inside its rooms")
    lab = labels[rc[inside, 0], rc[inside, 1]]
    best = int(np.argmax(np.bincount(lab)))
    pts = xy[inside][lab == best]
    lo = np.min([r.min for r in spec.rooms], axis=0)
    hi = np.max([r.max for r in spec.rooms], axis=0)
    k = int(np.argmin(np.linalg.norm(pts - (lo + hi) / 2, axis=1)))
    return Pose2D(round(float(pts[k, 0]), 3), round(float(pts[k, 1]), 3), 0.0)


def import_scene(dataset: str | os.PathLike | SceneDataset, scene: str, config: ImportConfig = ImportConfig()) -> SceneSpec:
    """Scene `scene` of a Habitat scene dataset config as a validated SceneSpec (absolute mesh paths)."""
    ds = dataset if isinstance(dataset, SceneDataset) else SceneDataset.load(dataset)
    return _Importer(ds, scene, config).run()

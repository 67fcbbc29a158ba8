"""The scene spec: a simulated home as data (rooms, walls, doors, receptacles, objects, stages, robot start).

On disk it is a JSON file ("format": "ovmm-scene", "version": 1) written atomically; docs/sim-scenes.md
describes every field. Reading is strict: unknown fields, wrong types, duplicate ids or instance ids,
missing mesh files, dangling references and objects inside walls raise `SceneError` naming the item.

Relative mesh paths are relative to the scene file's folder (`SceneSpec.base_dir`); absolute paths are
used as they are. Receptacle parts and surfaces are given in the receptacle frame (pose x, y, yaw on the
floor); objects are given in the world frame.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from core.io import write_text_atomic
from core.types import Pose2D
from sim.scene_fields import (
    SceneError,
    as_float,
    as_int,
    as_list,
    as_quat,
    as_rgba,
    as_str,
    as_str_list,
    as_vec,
    check_keys,
    r6,
    rl,
)

__all__ = [
    "FORMAT", "VERSION", "SceneError", "RoomSpec", "WallSpec", "DoorSpec", "PartSpec", "SurfaceSpec",
    "ReceptacleSpec", "ObjectSpec", "StageSpec", "SceneSpec", "validate",
]

FORMAT = "ovmm-scene"
VERSION = 1
IDENTITY_QUAT = (0.0, 0.0, 0.0, 1.0)
GREY = (0.8, 0.8, 0.8, 1.0)


@dataclass(frozen=True)
class RoomSpec:
    """An axis-aligned rectangular room: floor area [min, max] (inner faces of its walls)."""

    id: str
    label: str
    min: tuple[float, float]
    max: tuple[float, float]

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "room") -> RoomSpec:
        check_keys(d, ctx, ("id", "label", "min", "max"))
        rid = as_str(d["id"], f"{ctx} field 'id'")
        ctx = f"room {rid!r}"
        lo, hi = as_vec(d["min"], 2, f"{ctx} field 'min'"), as_vec(d["max"], 2, f"{ctx} field 'max'")
        if not (hi[0] > lo[0] and hi[1] > lo[1]):
            raise SceneError(f"{ctx} has max {list(hi)} not above min {list(lo)}")
        return cls(rid, as_str(d["label"], f"{ctx} field 'label'"), lo, hi)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "min": rl(self.min), "max": rl(self.max)}

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        return self.min[0] + margin <= x <= self.max[0] - margin and self.min[1] + margin <= y <= self.max[1] - margin


@dataclass(frozen=True)
class WallSpec:
    """A straight wall segment (centre line start -> end) of the given thickness and height."""

    id: str
    start: tuple[float, float]
    end: tuple[float, float]
    thickness: float = 0.1
    height: float = 2.4
    rgba: tuple[float, float, float, float] = (0.92, 0.9, 0.86, 1.0)

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "wall") -> WallSpec:
        check_keys(d, ctx, ("id", "start", "end"), ("thickness", "height", "rgba"))
        wid = as_str(d["id"], f"{ctx} field 'id'")
        ctx = f"wall {wid!r}"
        w = cls(
            wid,
            as_vec(d["start"], 2, f"{ctx} field 'start'"),  # type: ignore[arg-type]
            as_vec(d["end"], 2, f"{ctx} field 'end'"),  # type: ignore[arg-type]
            as_float(d.get("thickness", 0.1), f"{ctx} field 'thickness'", positive=True),
            as_float(d.get("height", 2.4), f"{ctx} field 'height'", positive=True),
            as_rgba(d.get("rgba", cls.rgba), f"{ctx} field 'rgba'"),
        )
        if w.length < 1e-6:
            raise SceneError(f"{ctx} has zero length (start equals end)")
        return w

    def to_dict(self) -> dict:
        return {"id": self.id, "start": rl(self.start), "end": rl(self.end), "thickness": r6(self.thickness),
                "height": r6(self.height), "rgba": rl(self.rgba)}

    @property
    def length(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    @property
    def yaw(self) -> float:
        return math.atan2(self.end[1] - self.start[1], self.end[0] - self.start[0])

    def distance_to(self, x: float, y: float) -> float:
        """Distance from (x, y) to the wall's box footprint (0 inside; the wall has square ends)."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx, dy = x - self.start[0], y - self.start[1]
        u, v = c * dx + s * dy, -s * dx + c * dy
        du = max(0.0, -u, u - self.length)
        dv = max(0.0, abs(v) - self.thickness / 2)
        return math.hypot(du, dv)


@dataclass(frozen=True)
class DoorSpec:
    """A door opening (a gap between wall segments) of `width` metres centred on `center`."""

    id: str
    center: tuple[float, float]
    width: float
    rooms: tuple[str, ...]

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "door") -> DoorSpec:
        check_keys(d, ctx, ("id", "center", "width", "rooms"))
        did = as_str(d["id"], f"{ctx} field 'id'")
        ctx = f"door {did!r}"
        return cls(did, as_vec(d["center"], 2, f"{ctx} field 'center'"),  # type: ignore[arg-type]
                   as_float(d["width"], f"{ctx} field 'width'", positive=True),
                   as_str_list(d["rooms"], f"{ctx} field 'rooms'"))

    def to_dict(self) -> dict:
        return {"id": self.id, "center": rl(self.center), "width": r6(self.width), "rooms": list(self.rooms)}


@dataclass(frozen=True)
class PartSpec:
    """One rigid piece of a receptacle, in the receptacle frame.

    type "box": `size` = full extents (sx, sy, sz) centred on `pos`. type "mesh": `mesh` file scaled by
    `scale` per axis and placed at `pos`/`quat_xyzw`. `role`: "both" (drawn and colliding, the default),
    "visual" (drawn only) or "collision" (collides and counts as an obstacle, not drawn) — used by converted
    furniture whose detailed visual mesh comes with simple collision boxes.
    """

    type: str
    pos: tuple[float, float, float]
    size: tuple[float, float, float] | None = None
    mesh: str | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    quat_xyzw: tuple[float, float, float, float] = IDENTITY_QUAT
    rgba: tuple[float, float, float, float] = GREY
    role: str = "both"

    @classmethod
    def from_dict(cls, d: Any, ctx: str) -> PartSpec:
        check_keys(d, ctx, ("type", "pos"), ("size", "mesh", "scale", "quat_xyzw", "rgba", "role"))
        kind = as_str(d["type"], f"{ctx} field 'type'")
        if kind not in ("box", "mesh"):
            raise SceneError(f"{ctx} field 'type' must be 'box' or 'mesh', got {kind!r}")
        size = mesh = None
        if kind == "box":
            if "size" not in d or "mesh" in d:
                raise SceneError(f"{ctx} is a box: it needs 'size' and no 'mesh'")
            size = as_vec(d["size"], 3, f"{ctx} field 'size'", positive=True)
        else:
            if "mesh" not in d or "size" in d:
                raise SceneError(f"{ctx} is a mesh: it needs 'mesh' and no 'size'")
            mesh = as_str(d["mesh"], f"{ctx} field 'mesh'")
        role = as_str(d.get("role", "both"), f"{ctx} field 'role'")
        if role not in ("both", "visual", "collision"):
            raise SceneError(f"{ctx} field 'role' must be 'both', 'visual' or 'collision', got {role!r}")
        return cls(kind, as_vec(d["pos"], 3, f"{ctx} field 'pos'"), size, mesh,  # type: ignore[arg-type]
                   as_vec(d.get("scale", (1.0, 1.0, 1.0)), 3, f"{ctx} field 'scale'", positive=True),  # type: ignore[arg-type]
                   as_quat(d.get("quat_xyzw", IDENTITY_QUAT), f"{ctx} field 'quat_xyzw'"),
                   as_rgba(d.get("rgba", GREY), f"{ctx} field 'rgba'"), role)

    def to_dict(self) -> dict:
        d: dict = {"type": self.type, "pos": rl(self.pos)}
        if self.type == "box":
            d["size"] = rl(self.size or ())
        else:
            d["mesh"] = self.mesh
            d["scale"] = rl(self.scale)
        d["quat_xyzw"] = rl(self.quat_xyzw)
        d["rgba"] = rl(self.rgba)
        if self.role != "both":
            d["role"] = self.role
        return d


@dataclass(frozen=True)
class SurfaceSpec:
    """A horizontal support rectangle (receptacle frame): centre `pos` (z = top height), full `size` (sx, sy)."""

    pos: tuple[float, float, float]
    size: tuple[float, float]

    @classmethod
    def from_dict(cls, d: Any, ctx: str) -> SurfaceSpec:
        check_keys(d, ctx, ("pos", "size"))
        return cls(as_vec(d["pos"], 3, f"{ctx} field 'pos'"),  # type: ignore[arg-type]
                   as_vec(d["size"], 2, f"{ctx} field 'size'", positive=True))  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {"pos": rl(self.pos), "size": rl(self.size)}


@dataclass(frozen=True)
class ReceptacleSpec:
    """Static furniture that objects can be placed on; `pose` = (x, y, yaw) of its frame on the floor."""

    id: str
    instance_id: int
    label: str
    description: str
    room: str | None
    pose: tuple[float, float, float]
    parts: tuple[PartSpec, ...]
    surfaces: tuple[SurfaceSpec, ...] = ()

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "receptacle") -> ReceptacleSpec:
        check_keys(d, ctx, ("id", "instance_id", "label", "description", "pose", "parts"), ("room", "surfaces"))
        rid = as_str(d["id"], f"{ctx} field 'id'")
        ctx = f"receptacle {rid!r}"
        parts = tuple(PartSpec.from_dict(p, f"{ctx} part {i}") for i, p in enumerate(as_list(d["parts"], f"{ctx} field 'parts'")))
        if not parts:
            raise SceneError(f"{ctx} has no parts")
        surfaces = tuple(SurfaceSpec.from_dict(s, f"{ctx} surface {i}")
                         for i, s in enumerate(as_list(d.get("surfaces", []), f"{ctx} field 'surfaces'")))
        return cls(rid, as_int(d["instance_id"], f"{ctx} field 'instance_id'", minimum=1),
                   as_str(d["label"], f"{ctx} field 'label'"), as_str(d["description"], f"{ctx} field 'description'"),
                   as_str(d.get("room"), f"{ctx} field 'room'", allow_none=True),
                   as_vec(d["pose"], 3, f"{ctx} field 'pose'"), parts, surfaces)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {"id": self.id, "instance_id": self.instance_id, "label": self.label, "description": self.description,
                "room": self.room, "pose": rl(self.pose), "parts": [p.to_dict() for p in self.parts],
                "surfaces": [s.to_dict() for s in self.surfaces]}

    def to_world(self, x: float, y: float) -> tuple[float, float]:
        """Receptacle-frame (x, y) -> world (x, y)."""
        c, s = math.cos(self.pose[2]), math.sin(self.pose[2])
        return (self.pose[0] + c * x - s * y, self.pose[1] + s * x + c * y)

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """World (x, y) -> receptacle-frame (x, y)."""
        c, s = math.cos(self.pose[2]), math.sin(self.pose[2])
        dx, dy = x - self.pose[0], y - self.pose[1]
        return (c * dx + s * dy, -s * dx + c * dy)


@dataclass(frozen=True)
class ObjectSpec:
    """A free rigid object. Geometry: a mesh file (`mesh`) or a procedural mesh (`procedural` params).

    `position`/`quat_xyzw` place the object frame in the world; `on` names the receptacle it rests on.
    """

    id: str
    instance_id: int
    label: str
    description: str
    position: tuple[float, float, float]
    mesh: str | None = None
    procedural: dict | None = None
    scale: float = 1.0
    rgba: tuple[float, float, float, float] = GREY
    mass: float = 0.2
    quat_xyzw: tuple[float, float, float, float] = IDENTITY_QUAT
    on: str | None = None

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "object") -> ObjectSpec:
        check_keys(d, ctx, ("id", "instance_id", "label", "description", "position"),
                   ("mesh", "procedural", "scale", "rgba", "mass", "quat_xyzw", "on"))
        oid = as_str(d["id"], f"{ctx} field 'id'")
        ctx = f"object {oid!r}"
        mesh = as_str(d.get("mesh"), f"{ctx} field 'mesh'", allow_none=True)
        proc = d.get("procedural")
        if proc is not None:
            if not isinstance(proc, dict) or not isinstance(proc.get("kind"), str):
                raise SceneError(f"{ctx} field 'procedural' must be an object with a string 'kind'")
            for k, v in proc.items():
                if not isinstance(v, (str, int, float)) or isinstance(v, bool):
                    raise SceneError(f"{ctx} field 'procedural' key {k!r} must be a number or string")
        if (mesh is None) == (proc is None):
            raise SceneError(f"{ctx} needs exactly one of 'mesh' and 'procedural'")
        return cls(oid, as_int(d["instance_id"], f"{ctx} field 'instance_id'", minimum=1),
                   as_str(d["label"], f"{ctx} field 'label'"), as_str(d["description"], f"{ctx} field 'description'"),
                   as_vec(d["position"], 3, f"{ctx} field 'position'"), mesh,  # type: ignore[arg-type]
                   dict(proc) if proc is not None else None,
                   as_float(d.get("scale", 1.0), f"{ctx} field 'scale'", positive=True),
                   as_rgba(d.get("rgba", GREY), f"{ctx} field 'rgba'"),
                   as_float(d.get("mass", 0.2), f"{ctx} field 'mass'", positive=True),
                   as_quat(d.get("quat_xyzw", IDENTITY_QUAT), f"{ctx} field 'quat_xyzw'"),
                   as_str(d.get("on"), f"{ctx} field 'on'", allow_none=True))

    def to_dict(self) -> dict:
        proc = None
        if self.procedural is not None:
            proc = {k: (r6(v) if isinstance(v, float) else v) for k, v in sorted(self.procedural.items())}
        return {"id": self.id, "instance_id": self.instance_id, "label": self.label, "description": self.description,
                "mesh": self.mesh, "procedural": proc, "scale": r6(self.scale), "rgba": rl(self.rgba),
                "mass": r6(self.mass), "position": rl(self.position), "quat_xyzw": rl(self.quat_xyzw), "on": self.on}


@dataclass(frozen=True)
class StageSpec:
    """A static background mesh (e.g. a Habitat stage .glb), already converted to z-up by its pose."""

    mesh: str
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    quat_xyzw: tuple[float, float, float, float] = IDENTITY_QUAT
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)

    @classmethod
    def from_dict(cls, d: Any, ctx: str = "stage") -> StageSpec:
        check_keys(d, ctx, ("mesh",), ("pos", "quat_xyzw", "scale"))
        return cls(as_str(d["mesh"], f"{ctx} field 'mesh'"),  # type: ignore[arg-type]
                   as_vec(d.get("pos", (0.0, 0.0, 0.0)), 3, f"{ctx} field 'pos'"),  # type: ignore[arg-type]
                   as_quat(d.get("quat_xyzw", IDENTITY_QUAT), f"{ctx} field 'quat_xyzw'"),
                   as_vec(d.get("scale", (1.0, 1.0, 1.0)), 3, f"{ctx} field 'scale'", positive=True))  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {"mesh": self.mesh, "pos": rl(self.pos), "quat_xyzw": rl(self.quat_xyzw), "scale": rl(self.scale)}


@dataclass
class SceneSpec:
    """A whole scene. `base_dir` (not serialised) resolves relative mesh paths; `load` sets it."""

    name: str
    seed: int | None = None
    rooms: list[RoomSpec] = field(default_factory=list)
    walls: list[WallSpec] = field(default_factory=list)
    doors: list[DoorSpec] = field(default_factory=list)
    receptacles: list[ReceptacleSpec] = field(default_factory=list)
    objects: list[ObjectSpec] = field(default_factory=list)
    stages: list[StageSpec] = field(default_factory=list)
    robot_start: Pose2D = field(default_factory=lambda: Pose2D(0.0, 0.0, 0.0))
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    # --- (de)serialisation -------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Any, base_dir: str | os.PathLike | None = None, check_files: bool = True) -> SceneSpec:
        """Parse and validate a scene dict; `base_dir` resolves relative mesh paths (default: cwd)."""
        check_keys(d, "scene", ("format", "version", "name", "robot_start"),
                   ("seed", "rooms", "walls", "doors", "receptacles", "objects", "stages"))
        if d["format"] != FORMAT:
            raise SceneError(f"scene field 'format' must be {FORMAT!r}, got {d['format']!r}")
        if d["version"] != VERSION:
            raise SceneError(f"scene version {d['version']!r} is not supported (this ovmm reads version {VERSION})")

        def items(key, parse):
            return [parse(x, f"{key[:-1]} {i}") for i, x in enumerate(as_list(d.get(key, []), f"scene field {key!r}"))]

        seed = d.get("seed")
        spec = cls(
            name=as_str(d["name"], "scene field 'name'"),  # type: ignore[arg-type]
            seed=None if seed is None else as_int(seed, "scene field 'seed'"),
            rooms=items("rooms", RoomSpec.from_dict), walls=items("walls", WallSpec.from_dict),
            doors=items("doors", DoorSpec.from_dict), receptacles=items("receptacles", ReceptacleSpec.from_dict),
            objects=items("objects", ObjectSpec.from_dict), stages=items("stages", StageSpec.from_dict),
            robot_start=Pose2D.from_list(as_vec(d["robot_start"], 3, "scene field 'robot_start'")),
            base_dir=Path(base_dir) if base_dir is not None else None,
        )
        from sim.scene_validate import validate_scene

        validate_scene(spec, check_files=check_files)
        return spec

    def to_dict(self) -> dict:
        return {"format": FORMAT, "version": VERSION, "name": self.name, "seed": self.seed,
                "rooms": [r.to_dict() for r in self.rooms], "walls": [w.to_dict() for w in self.walls],
                "doors": [x.to_dict() for x in self.doors], "receptacles": [r.to_dict() for r in self.receptacles],
                "objects": [o.to_dict() for o in self.objects], "stages": [s.to_dict() for s in self.stages],
                "robot_start": rl(self.robot_start.to_list())}

    def to_json(self) -> str:
        """Deterministic JSON text: one line per room/wall/door/receptacle/object/stage."""
        lines = []
        for k, v in self.to_dict().items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                inner = ",\n".join("    " + json.dumps(x, separators=(", ", ": ")) for x in v)
                lines.append(f"  {json.dumps(k)}: [\n{inner}\n  ]")
            else:
                lines.append(f"  {json.dumps(k)}: {json.dumps(v, separators=(', ', ': '))}")
        return "{\n" + ",\n".join(lines) + "\n}\n"

    @classmethod
    def load(cls, path: str | os.PathLike, check_files: bool = True) -> SceneSpec:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SceneError(f"cannot read scene file {path}: {exc.strerror or exc}") from None
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SceneError(f"scene file {path} is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        try:
            return cls.from_dict(d, base_dir=path.resolve().parent, check_files=check_files)
        except SceneError as exc:
            raise SceneError(f"scene file {path}: {exc}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically; relative mesh paths are rebased so they still point at the same files."""
        path = Path(path)
        spec = self.rebased(path.resolve().parent)
        write_text_atomic(path, spec.to_json())
        self.base_dir = path.resolve().parent if self.base_dir is None else self.base_dir

    def rebased(self, new_dir: Path) -> SceneSpec:
        """A copy whose relative mesh paths are relative to `new_dir` (absolute paths stay absolute)."""
        old = self.base_dir or Path.cwd()
        if old.resolve() == Path(new_dir).resolve():
            return replace(self, base_dir=Path(new_dir))

        def fix(p: str | None) -> str | None:
            if p is None or os.path.isabs(p):
                return p
            return os.path.relpath((old / p).resolve(), new_dir)

        recs = [replace(r, parts=tuple(replace(p, mesh=fix(p.mesh)) for p in r.parts)) for r in self.receptacles]
        return replace(self, receptacles=recs, objects=[replace(o, mesh=fix(o.mesh)) for o in self.objects],
                       stages=[replace(s, mesh=fix(s.mesh)) for s in self.stages], base_dir=Path(new_dir))

    # --- queries -----------------------------------------------------------------------------------------
    def resolve_mesh(self, mesh: str) -> Path:
        """Absolute path of a mesh named in this spec."""
        p = Path(mesh)
        return p if p.is_absolute() else (self.base_dir or Path.cwd()) / p

    def object(self, object_id: str) -> ObjectSpec:
        for o in self.objects:
            if o.id == object_id:
                return o
        raise SceneError(f"scene {self.name!r} has no object {object_id!r}")

    def receptacle(self, receptacle_id: str) -> ReceptacleSpec:
        for r in self.receptacles:
            if r.id == receptacle_id:
                return r
        raise SceneError(f"scene {self.name!r} has no receptacle {receptacle_id!r}")

    def room(self, room_id: str) -> RoomSpec:
        for r in self.rooms:
            if r.id == room_id:
                return r
        raise SceneError(f"scene {self.name!r} has no room {room_id!r}")

    def instance_descriptions(self) -> dict[int, str]:
        out = {r.instance_id: r.description for r in self.receptacles}
        out.update({o.instance_id: o.description for o in self.objects})
        return out

    def instance_labels(self) -> dict[int, str]:
        out = {r.instance_id: r.label for r in self.receptacles}
        out.update({o.instance_id: o.label for o in self.objects})
        return out

    def bounds_xy(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) over rooms, walls (with thickness), receptacle poses and objects."""
        xs: list[float] = []
        ys: list[float] = []
        for r in self.rooms:
            xs += [r.min[0], r.max[0]]
            ys += [r.min[1], r.max[1]]
        for w in self.walls:
            nx, ny = -math.sin(w.yaw) * w.thickness / 2, math.cos(w.yaw) * w.thickness / 2
            for px, py in (w.start, w.end):
                xs += [px + nx, px - nx]
                ys += [py + ny, py - ny]
        for rec in self.receptacles:
            xs.append(rec.pose[0])
            ys.append(rec.pose[1])
        for o in self.objects:
            xs.append(o.position[0])
            ys.append(o.position[1])
        xs.append(self.robot_start.x)
        ys.append(self.robot_start.y)
        return (min(xs), min(ys), max(xs), max(ys))


def validate(spec: SceneSpec, check_files: bool = True) -> None:
    """Validate a spec built in code (from_dict/load do this already)."""
    from sim.scene_validate import validate_scene

    validate_scene(spec, check_files=check_files)

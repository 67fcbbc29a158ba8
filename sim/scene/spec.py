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

from core.bounded_json import BoundedJSONError, loads_bounded
from core.io import write_text_atomic
from core.types import Pose2D
from sim.scene.fields import SceneError, as_int, as_list, as_str, as_vec, check_keys, rl
from sim.scene.items import (
    GREY,
    IDENTITY_QUAT,
    DoorSpec,
    ObjectSpec,
    PartSpec,
    ReceptacleSpec,
    RoomSpec,
    StageSpec,
    SurfaceSpec,
    WallSpec,
)

__all__ = [
    "FORMAT", "VERSION", "SceneError", "RoomSpec", "WallSpec", "DoorSpec", "PartSpec", "SurfaceSpec",
    "ReceptacleSpec", "ObjectSpec", "StageSpec", "SceneSpec", "validate", "GREY", "IDENTITY_QUAT",
]

FORMAT = "ovmm-scene"
MAX_SCENE_FILE_BYTES = 64 << 20  # a generated apartment is ~0.1 MB; imported Habitat scenes a few MB
MAX_SCENE_JSON_DEPTH = 32
VERSION = 1
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
        from sim.scene.validate import validate_scene

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
            size = path.stat().st_size
            if size > MAX_SCENE_FILE_BYTES:
                raise SceneError(f"scene file {path} is {size / 1e6:.0f} MB, more than the "
                                 f"{MAX_SCENE_FILE_BYTES / 1e6:.0f} MB a scene may take")
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SceneError(f"cannot read scene file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            hint = " (that is a map; scenes are .json files from `ovmm sim generate`)" if path.suffix == ".npz" else ""
            raise SceneError(f"scene file {path} is not a JSON text file{hint}") from None
        try:
            d = loads_bounded(text, MAX_SCENE_FILE_BYTES * 4, max_depth=MAX_SCENE_JSON_DEPTH)
        except BoundedJSONError as exc:
            raise SceneError(f"scene file {path} is not acceptable JSON: {exc}") from None
        try:
            return cls.from_dict(d, base_dir=path.resolve().parent, check_files=check_files)
        except SceneError as exc:
            raise SceneError(f"scene file {path}: {exc}") from None

    def save(self, path: str | os.PathLike, relative_paths: bool = False) -> None:
        """Write atomically; relative mesh paths are rebased so they still point at the same files.

        `relative_paths`: every mesh path is written portably (sim.scene.asset_paths.portable_path): under the
        shared data folder as `${OVMM_SHARED_DATA}/...`, else relative to the file's folder."""
        path = Path(path)
        spec = self.rebased(path.resolve().parent)
        if relative_paths:
            spec = spec.portable()
        write_text_atomic(path, spec.to_json())
        self.base_dir = path.resolve().parent if self.base_dir is None else self.base_dir

    def rebased(self, new_dir: Path) -> SceneSpec:
        """A copy whose relative mesh paths are relative to `new_dir` (absolute paths stay absolute)."""
        old = self.base_dir or Path.cwd()
        if old.resolve() == Path(new_dir).resolve():
            return replace(self, base_dir=Path(new_dir))

        def fix(p: str | None) -> str | None:
            if p is None or os.path.isabs(p) or p.startswith("${"):
                return p
            return os.path.relpath((old / p).resolve(), new_dir)

        recs = [replace(r, parts=tuple(replace(p, mesh=fix(p.mesh)) for p in r.parts)) for r in self.receptacles]
        return replace(self, receptacles=recs, objects=[replace(o, mesh=fix(o.mesh)) for o in self.objects],
                       stages=[replace(s, mesh=fix(s.mesh)) for s in self.stages], base_dir=Path(new_dir))

    def portable(self) -> SceneSpec:
        """A copy whose mesh paths are `${ROOT}/...` or relative to `base_dir` (see sim.scene.asset_paths)."""
        from sim.scene.asset_paths import portable_path

        base = self.base_dir or Path.cwd()

        def fix(p: str | None) -> str | None:
            return None if p is None else portable_path(self.resolve_mesh(p), base)

        recs = [replace(r, parts=tuple(replace(p, mesh=fix(p.mesh)) for p in r.parts)) for r in self.receptacles]
        return replace(self, receptacles=recs, objects=[replace(o, mesh=fix(o.mesh)) for o in self.objects],
                       stages=[replace(s, mesh=fix(s.mesh)) for s in self.stages])

    # --- queries -----------------------------------------------------------------------------------------
    def resolve_mesh(self, mesh: str) -> Path:
        """Absolute path of a mesh named in this spec (relative to `base_dir`, or under a `${ROOT}`)."""
        from sim.scene.asset_paths import resolve_mesh_path

        return resolve_mesh_path(mesh, self.base_dir)

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
    from sim.scene.validate import validate_scene

    validate_scene(spec, check_files=check_files)

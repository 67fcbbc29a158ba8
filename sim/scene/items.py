"""The items of a scene spec (rooms, walls, doors, receptacle parts and surfaces, receptacles, objects,
stages): frozen dataclasses with strict `from_dict` (errors name the item) and `to_dict` (rounded floats).
`sim.scene.spec` re-exports them; import them from there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sim.scene.fields import (
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

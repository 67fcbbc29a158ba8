"""Cross-item checks of a SceneSpec: unique ids, references, mesh files, objects clear of walls."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from core.types import Pose2D
from sim.scene.fields import SceneError
from sim.scene.items import DoorSpec, ObjectSpec, ReceptacleSpec, RoomSpec, StageSpec, WallSpec


class SceneItems(Protocol):
    """What the checks read of a scene (sim.scene.spec.SceneSpec, which runs them when it is built)."""

    rooms: Sequence[RoomSpec]
    walls: Sequence[WallSpec]
    doors: Sequence[DoorSpec]
    receptacles: Sequence[ReceptacleSpec]
    objects: Sequence[ObjectSpec]
    stages: Sequence[StageSpec]
    robot_start: Pose2D

    def resolve_mesh(self, mesh: str) -> Path: ...


def _unique(values: list, what: str) -> None:
    seen: set = set()
    for v in values:
        if v in seen:
            raise SceneError(f"duplicate {what} {v!r}")
        seen.add(v)


MAX_ROOM_SIDE_M = 100.0  # a room wider than this is a unit mistake (mm for m) or a hostile file
MAX_SCENE_SIDE_M = 500.0
_BOUNDS_MARGIN_M = 1.0
_MIN_Z_M, _MAX_Z_M = -10.0, 100.0  # imported datasets place some objects below the floor plane


def _scene_bounds(spec: SceneItems) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 of the rooms and walls (a box of MAX_SCENE_SIDE_M around the origin when there are none)."""
    xs = [v for r in spec.rooms for v in (r.min[0], r.max[0])] + [v for w in spec.walls for v in (w.start[0], w.end[0])]
    ys = [v for r in spec.rooms for v in (r.min[1], r.max[1])] + [v for w in spec.walls for v in (w.start[1], w.end[1])]
    if not xs:
        h = MAX_SCENE_SIDE_M / 2
        return -h, -h, h, h
    return min(xs), min(ys), max(xs), max(ys)


def check_extents(spec: SceneItems) -> None:
    """Rooms at most MAX_ROOM_SIDE_M a side, the scene at most MAX_SCENE_SIDE_M, and every receptacle, object
    and the robot start inside the rooms' and walls' bounds (plus 1 m) at a sane height."""
    for r in spec.rooms:
        w, d = r.max[0] - r.min[0], r.max[1] - r.min[1]
        if not (0 < w <= MAX_ROOM_SIDE_M and 0 < d <= MAX_ROOM_SIDE_M):
            raise SceneError(f"room {r.id!r} is {w:.3g} x {d:.3g} m; rooms must be 0-{MAX_ROOM_SIDE_M:.0f} m a side")
    x0, y0, x1, y1 = _scene_bounds(spec)
    if x1 - x0 > MAX_SCENE_SIDE_M or y1 - y0 > MAX_SCENE_SIDE_M:
        raise SceneError(f"the scene spans {x1 - x0:.3g} x {y1 - y0:.3g} m, more than {MAX_SCENE_SIDE_M:.0f} m a side")
    m = _BOUNDS_MARGIN_M

    def inside(what: str, x: float, y: float, z: float = 0.0) -> None:
        if not (x0 - m <= x <= x1 + m and y0 - m <= y <= y1 + m and _MIN_Z_M <= z <= _MAX_Z_M):
            raise SceneError(f"{what} at [{x:.3g}, {y:.3g}, {z:.3g}] is outside the scene bounds "
                             f"x {x0:.3g}..{x1:.3g}, y {y0:.3g}..{y1:.3g} m (z {_MIN_Z_M:g}..{_MAX_Z_M:g} m)")

    for r in spec.receptacles:
        inside(f"receptacle {r.id!r}", r.pose[0], r.pose[1])
    for o in spec.objects:
        inside(f"object {o.id!r}", *o.position)
    inside("the robot start", spec.robot_start.x, spec.robot_start.y)


def validate_scene(spec: SceneItems, check_files: bool = True) -> None:
    """Raise SceneError naming the first invalid item of `spec`."""
    check_extents(spec)
    _unique([r.id for r in spec.rooms], "room id")
    _unique([w.id for w in spec.walls], "wall id")
    _unique([d.id for d in spec.doors], "door id")
    _unique([r.id for r in spec.receptacles] + [o.id for o in spec.objects], "receptacle/object id")
    _unique([r.instance_id for r in spec.receptacles] + [o.instance_id for o in spec.objects], "instance id")
    _unique([r.description for r in spec.receptacles] + [o.description for o in spec.objects], "description")

    room_ids = {r.id for r in spec.rooms}
    rec_ids = {r.id for r in spec.receptacles}
    for d in spec.doors:
        for rid in d.rooms:
            if rid not in room_ids:
                raise SceneError(f"door {d.id!r} connects unknown room {rid!r}")
    for r in spec.receptacles:
        if r.room is not None and r.room not in room_ids:
            raise SceneError(f"receptacle {r.id!r} is in unknown room {r.room!r}")
    for o in spec.objects:
        if o.on is not None and o.on not in rec_ids:
            raise SceneError(f"object {o.id!r} is on unknown receptacle {o.on!r}")
        if o.procedural is not None:
            from sim.scene.procedural import PROCEDURAL_KINDS

            if o.procedural["kind"] not in PROCEDURAL_KINDS:
                raise SceneError(f"object {o.id!r} has unknown procedural kind {o.procedural['kind']!r} "
                                 f"(known: {', '.join(sorted(PROCEDURAL_KINDS))})")

    for w in spec.walls:
        for o in spec.objects:
            if w.distance_to(o.position[0], o.position[1]) <= 0.0:
                raise SceneError(f"object {o.id!r} at {list(o.position[:2])} is inside wall {w.id!r}")
        for r in spec.receptacles:
            if w.distance_to(r.pose[0], r.pose[1]) <= 0.0:
                raise SceneError(f"receptacle {r.id!r} at {list(r.pose[:2])} is inside wall {w.id!r}")
        if w.distance_to(spec.robot_start.x, spec.robot_start.y) <= 0.0:
            raise SceneError(f"robot start {spec.robot_start.to_list()} is inside wall {w.id!r}")

    if check_files:
        for r in spec.receptacles:
            for i, p in enumerate(r.parts):
                if p.mesh is not None and not spec.resolve_mesh(p.mesh).is_file():
                    raise SceneError(f"receptacle {r.id!r} part {i} mesh file {spec.resolve_mesh(p.mesh)} does not exist")
        for o in spec.objects:
            if o.mesh is not None and not spec.resolve_mesh(o.mesh).is_file():
                raise SceneError(f"object {o.id!r} mesh file {spec.resolve_mesh(o.mesh)} does not exist")
        for i, s in enumerate(spec.stages):
            if not spec.resolve_mesh(s.mesh).is_file():
                raise SceneError(f"stage {i} mesh file {spec.resolve_mesh(s.mesh)} does not exist")

"""Placing furniture in rooms and objects on furniture surfaces (used by sim.scene.generator).

Furniture stands against a wall (back to the wall, +y of its frame) or free in the room (tables), with
yaw a multiple of 90 degrees, so footprints are axis-aligned world rectangles. Each piece keeps an access
strip (in front, or all around when free-standing) clear of other furniture, and no furniture stands in
front of a door. Objects are placed upright (mesh bottom on the surface) at a random yaw; their
footprints are circles that must lie inside the surface rectangle with a margin and not overlap.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.scene.floorplan import FloorPlan
from sim.scene.objects import LibraryEntry
from sim.scene.receptacles import TEMPLATES, receptacle_geometry
from sim.scene.spec import ObjectSpec, ReceptacleSpec, RoomSpec

if TYPE_CHECKING:
    from sim.scene.generator_config import GeneratorConfig

Rect = tuple[float, float, float, float]  # x0, y0, x1, y1

ROOM_FURNITURE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "kitchen": (("sink_counter",), ("counter", "table", "shelf", "cabinet")),
    "living room": (("sofa",), ("coffee_table", "shelf", "side_table", "cabinet", "table")),
    "bedroom": (("bed",), ("side_table", "cabinet", "shelf")),
    "bathroom": (("cabinet",), ("shelf",)),
    "office": (("table",), ("shelf", "cabinet", "side_table")),
    "hall": (("cabinet",), ("shelf", "side_table")),
}
_ROOM_IN_DESCRIPTION = {"table", "counter", "shelf", "cabinet", "side_table", "coffee_table"}
_WALL_GAP = 0.02
_TRIES = 40


def _overlap(a: Rect, b: Rect, pad: float = 0.0) -> bool:
    return a[0] < b[2] + pad and b[0] < a[2] + pad and a[1] < b[3] + pad and b[1] < a[3] + pad


def _rr(x: float, nd: int = 4) -> float:
    y = round(float(x), nd)
    return 0.0 if y == 0.0 else y


def _door_zones(plan: FloorPlan) -> list[Rect]:
    zones = []
    for d in plan.doors:
        along, across = d.width / 2 + 0.15, 0.9
        ax, ay = (across, along) if plan.door_axes[d.id] == 0 else (along, across)
        zones.append((d.center[0] - ax, d.center[1] - ay, d.center[0] + ax, d.center[1] + ay))
    return zones


def _candidate(rng, kind: str, size, room: RoomSpec, access: float):
    """One random pose for `kind` in `room`: (x, y, yaw, footprint, access rects) or None if it cannot fit."""
    w, d, _ = size
    (x0, y0), (x1, y1) = room.min, room.max
    if TEMPLATES[kind].against_wall:
        side = int(rng.integers(4))
        if side in (0, 1):  # south / north wall: footprint w x d
            if x1 - x0 < w + 2 * _WALL_GAP + 1e-6 or y1 - y0 < d + access + _WALL_GAP:
                return None
            cx = rng.uniform(x0 + w / 2 + _WALL_GAP, x1 - w / 2 - _WALL_GAP)
            if side == 0:
                cy, yaw = y0 + _WALL_GAP + d / 2, math.pi
                acc = (cx - w / 2, cy + d / 2, cx + w / 2, cy + d / 2 + access)
            else:
                cy, yaw = y1 - _WALL_GAP - d / 2, 0.0
                acc = (cx - w / 2, cy - d / 2 - access, cx + w / 2, cy - d / 2)
            foot = (cx - w / 2, cy - d / 2, cx + w / 2, cy + d / 2)
        else:  # west / east wall: footprint d x w
            if y1 - y0 < w + 2 * _WALL_GAP + 1e-6 or x1 - x0 < d + access + _WALL_GAP:
                return None
            cy = rng.uniform(y0 + w / 2 + _WALL_GAP, y1 - w / 2 - _WALL_GAP)
            if side == 2:
                cx, yaw = x0 + _WALL_GAP + d / 2, math.pi / 2
                acc = (cx + d / 2, cy - w / 2, cx + d / 2 + access, cy + w / 2)
            else:
                cx, yaw = x1 - _WALL_GAP - d / 2, -math.pi / 2
                acc = (cx - d / 2 - access, cy - w / 2, cx - d / 2, cy + w / 2)
            foot = (cx - d / 2, cy - w / 2, cx + d / 2, cy + w / 2)
        return cx, cy, yaw, foot, [acc]
    turned = bool(rng.integers(2))
    ex, ey = (d, w) if turned else (w, d)
    if x1 - x0 < ex + 2 * access + 1e-6 or y1 - y0 < ey + 2 * access + 1e-6:
        return None
    cx = rng.uniform(x0 + ex / 2 + access, x1 - ex / 2 - access)
    cy = rng.uniform(y0 + ey / 2 + access, y1 - ey / 2 - access)
    foot = (cx - ex / 2, cy - ey / 2, cx + ex / 2, cy + ey / 2)
    acc = [(foot[0] - access, foot[1], foot[0], foot[3]), (foot[2], foot[1], foot[2] + access, foot[3]),
           (foot[0], foot[1] - access, foot[2], foot[1]), (foot[0], foot[3], foot[2], foot[3] + access)]
    return cx, cy, (math.pi / 2 if turned else 0.0), foot, acc


def place_receptacles(rng: np.random.Generator, plan: FloorPlan, cfg: GeneratorConfig) -> list[ReceptacleSpec] | None:
    """Furniture for every room (one required piece each, then extras), or None if too few fitted."""
    lo, hi = cfg.num_receptacles
    n_target = int(rng.integers(max(lo, len(plan.rooms)), max(hi, len(plan.rooms)) + 1))
    wishes: list[tuple[RoomSpec, str]] = []
    for room in plan.rooms:
        for kind in ROOM_FURNITURE.get(room.label, ROOM_FURNITURE["hall"])[0]:
            wishes.append((room, kind))
    areas = np.array([(r.max[0] - r.min[0]) * (r.max[1] - r.min[1]) for r in plan.rooms])
    while len(wishes) < n_target:
        room = plan.rooms[int(rng.choice(len(plan.rooms), p=areas / areas.sum()))]
        extras = ROOM_FURNITURE.get(room.label, ROOM_FURNITURE["hall"])[1]
        wishes.append((room, extras[int(rng.integers(len(extras)))]))

    doors = _door_zones(plan)
    placed: list[tuple[Rect, list[Rect]]] = []
    out: list[ReceptacleSpec] = []
    used_desc: set[str] = set()
    used_ids: dict[str, int] = {}
    for room, kind in wishes:
        t = TEMPLATES[kind]
        size = tuple(_rr(rng.uniform(a, b), 2) for a, b in zip(t.size_min, t.size_max, strict=True))
        colour_order = rng.permutation(len(t.colours))
        for _ in range(_TRIES):
            cand = _candidate(rng, kind, size, room, cfg.access_depth_m)
            if cand is None:
                break
            cx, cy, yaw, foot, acc = cand
            if any(_overlap(foot, z) for z in doors):
                continue
            if any(_overlap(foot, f, 0.05) or any(_overlap(foot, a) for a in a_list) or any(_overlap(f, a) for a in acc)
                   for f, a_list in placed):
                continue
            desc = None
            for ci in colour_order:
                cname, rgba = t.colours[int(ci)]
                text = f"{cname} {room.label} {t.label}" if kind in _ROOM_IN_DESCRIPTION else f"{cname} {t.label}"
                if text not in used_desc:
                    desc = text
                    break
            if desc is None:
                break
            used_desc.add(desc)
            base = f"{room.id}_{kind}"
            used_ids[base] = used_ids.get(base, 0) + 1
            rid = base if used_ids[base] == 1 else f"{base}_{used_ids[base]}"
            parts, surfaces = receptacle_geometry(kind, size, rgba)  # type: ignore[arg-type]
            out.append(ReceptacleSpec(rid, len(out) + 1, t.label, desc, room.id, (_rr(cx), _rr(cy), _rr(yaw, 6)),
                                      parts, surfaces))
            placed.append((foot, acc))
            break
    return out if len(out) >= lo else None


# --- objects -----------------------------------------------------------------------------------------------
_MESH_INFO: dict[str, tuple[float, float, float, float, float]] = {}


def entry_footprint(entry: LibraryEntry) -> tuple[float, float, float, float, float]:
    """(min_z, height, centre_x, centre_y, radius) of the upright mesh's footprint circle (object frame)."""
    key = f"{entry.key}|{entry.mesh}|{sorted((entry.procedural or {}).items())}|{entry.scale}|{entry.up}"
    if key not in _MESH_INFO:
        v = np.asarray(entry.mesh_upright().vertices)
        c = (v[:, :2].min(axis=0) + v[:, :2].max(axis=0)) / 2
        r = float(np.linalg.norm(v[:, :2] - c, axis=1).max())
        _MESH_INFO[key] = (float(v[:, 2].min()), float(np.ptp(v[:, 2])), float(c[0]), float(c[1]), r)
    return _MESH_INFO[key]


def surface_clearance(rec: ReceptacleSpec, si: int) -> float:
    """Free height above surface `si`: distance to the lowest box part above it (inf if none)."""
    s = rec.surfaces[si]
    srect = (s.pos[0] - s.size[0] / 2, s.pos[1] - s.size[1] / 2, s.pos[0] + s.size[0] / 2, s.pos[1] + s.size[1] / 2)
    best = math.inf
    for p in rec.parts:
        if p.type != "box":
            continue
        sx, sy, sz = p.size  # type: ignore[misc]
        prect = (p.pos[0] - sx / 2 + 1e-3, p.pos[1] - sy / 2 + 1e-3, p.pos[0] + sx / 2 - 1e-3, p.pos[1] + sy / 2 - 1e-3)
        bottom = p.pos[2] - sz / 2
        if bottom > s.pos[2] + 1e-3 and _overlap(srect, prect):
            best = min(best, bottom - s.pos[2])
    return best


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_")


def place_objects(rng: np.random.Generator, receptacles: list[ReceptacleSpec], library: list[LibraryEntry],
                  cfg: GeneratorConfig) -> list[ObjectSpec] | None:
    """Objects from `library` (each entry at most once) resting on the receptacles' surfaces."""
    lo, hi = cfg.num_objects
    n_target = int(rng.integers(lo, hi + 1))
    surfaces = [(rec, si, surface_clearance(rec, si)) for rec in receptacles for si in range(len(rec.surfaces))]
    on_surface: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    out: list[ObjectSpec] = []
    counts: dict[str, int] = {}
    m, gap = cfg.surface_margin_m, cfg.object_gap_m
    for ei in rng.permutation(len(library)):
        if len(out) >= n_target:
            break
        entry = library[int(ei)]
        min_z, height, fcx, fcy, rad = entry_footprint(entry)
        fits = [(rec, si) for rec, si, clr in surfaces
                if min(rec.surfaces[si].size) >= 2 * (rad + m) and height + 0.03 <= clr]
        if not fits:
            continue
        weights = np.array([rec.surfaces[si].size[0] * rec.surfaces[si].size[1] for rec, si in fits])
        for _ in range(25):
            rec, si = fits[int(rng.choice(len(fits), p=weights / weights.sum()))]
            s = rec.surfaces[si]
            lx = rng.uniform(s.pos[0] - s.size[0] / 2 + rad + m, s.pos[0] + s.size[0] / 2 - rad - m)
            ly = rng.uniform(s.pos[1] - s.size[1] / 2 + rad + m, s.pos[1] + s.size[1] / 2 - rad - m)
            yaw = float(rng.uniform(-math.pi, math.pi))
            others = on_surface.setdefault((rec.id, si), [])
            if any(math.hypot(lx - ox, ly - oy) < rad + orad + gap for ox, oy, orad in others):
                continue
            others.append((lx, ly, rad))
            wx, wy = rec.to_world(lx, ly)
            wyaw = yaw + rec.pose[2]
            c, sn = math.cos(wyaw), math.sin(wyaw)
            px, py = wx - (c * fcx - sn * fcy), wy - (sn * fcx + c * fcy)
            q = np.array([0.0, 0.0, math.sin(wyaw / 2), math.cos(wyaw / 2)])
            if entry.up == "y":  # the upright turn (about x) is applied first, then the yaw
                h = math.sqrt(0.5)
                qx = np.array([h, 0.0, 0.0, h])
                q = np.array([q[3] * qx[0], q[2] * qx[0], q[2] * qx[3], q[3] * qx[3]])
            base = _slug(entry.label)
            k = counts.get(base, 0)
            counts[base] = k + 1
            out.append(ObjectSpec(
                id=f"{base}_{k}", instance_id=len(receptacles) + len(out) + 1, label=entry.label,
                description=entry.description, position=(_rr(px, 5), _rr(py, 5), _rr(s.pos[2] - min_z, 5)),
                mesh=entry.mesh, procedural=dict(entry.procedural) if entry.procedural else None, scale=entry.scale,
                rgba=entry.rgba, mass=entry.mass, quat_xyzw=tuple(_rr(v, 6) for v in q), on=rec.id))  # type: ignore[arg-type]
            break
    return out if len(out) >= lo else None

"""Receptacle templates: a kind + size -> box `parts` and support `surfaces` (receptacle frame).

Receptacle frame: origin on the floor at the centre of the footprint, x along the width, y along the depth,
z up. Furniture that stands against a wall has its back at +y (the generator turns +y towards the wall),
so the robot approaches from -y. `size` = (width, depth, height) of the footprint and overall height; for
the shelf the height is the top board's surface height.

Heights follow real furniture and the Stretch's reach (lift 0..1.1 m, the gripper reaches ~0.1 m above):
tables 0.75 m, counters 0.9 m, shelf boards up to 1.1 m, coffee tables 0.45 m, sofa seats 0.45 m.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.scene.fields import SceneError
from sim.scene.spec import PartSpec, SurfaceSpec

Size = tuple[float, float, float]
RGBA = tuple[float, float, float, float]


@dataclass(frozen=True)
class ReceptacleTemplate:
    """A receptacle kind: default size, the size range the generator samples, colours and placement."""

    kind: str
    label: str  # the class name used in descriptions and instance labels
    size_min: Size
    size_max: Size
    against_wall: bool
    colours: tuple[tuple[str, RGBA], ...]

    @property
    def default_size(self) -> Size:
        return tuple(round((a + b) / 2, 3) for a, b in zip(self.size_min, self.size_max, strict=True))  # type: ignore[return-value]


WOOD = (("brown wooden", (0.52, 0.35, 0.2, 1.0)), ("white", (0.93, 0.93, 0.92, 1.0)),
        ("black", (0.12, 0.12, 0.13, 1.0)), ("light oak", (0.8, 0.66, 0.45, 1.0)))
STONE = (("white marble", (0.9, 0.9, 0.88, 1.0)), ("grey granite", (0.45, 0.45, 0.47, 1.0)),
         ("black granite", (0.15, 0.15, 0.16, 1.0)))
FABRIC = (("grey", (0.5, 0.5, 0.52, 1.0)), ("blue", (0.2, 0.3, 0.6, 1.0)),
          ("green", (0.25, 0.45, 0.3, 1.0)), ("beige", (0.82, 0.75, 0.62, 1.0)))

TEMPLATES: dict[str, ReceptacleTemplate] = {t.kind: t for t in (
    ReceptacleTemplate("table", "table", (0.9, 0.6, 0.74), (1.5, 0.9, 0.76), False, WOOD),
    ReceptacleTemplate("counter", "counter", (1.0, 0.6, 0.9), (1.8, 0.62, 0.92), True, STONE),
    ReceptacleTemplate("sink_counter", "sink counter", (1.2, 0.6, 0.9), (1.8, 0.62, 0.92), True, STONE),
    ReceptacleTemplate("shelf", "shelf", (0.7, 0.32, 0.95), (1.2, 0.4, 1.1), True, WOOD),
    ReceptacleTemplate("sofa", "sofa", (1.6, 0.85, 0.8), (2.1, 0.95, 0.85), True, FABRIC),
    ReceptacleTemplate("bed", "bed", (1.4, 1.9, 0.5), (1.6, 2.05, 0.55), True, FABRIC),
    ReceptacleTemplate("cabinet", "cabinet", (0.8, 0.45, 0.8), (1.4, 0.5, 0.9), True, WOOD),
    ReceptacleTemplate("side_table", "side table", (0.45, 0.4, 0.55), (0.55, 0.45, 0.65), True, WOOD),
    ReceptacleTemplate("coffee_table", "coffee table", (0.9, 0.5, 0.42), (1.2, 0.65, 0.46), False, WOOD),
)}

_DARK = (0.2, 0.2, 0.22, 1.0)
_STEEL = (0.72, 0.74, 0.76, 1.0)


def _box(cx: float, cy: float, z0: float, sx: float, sy: float, sz: float, rgba: RGBA) -> PartSpec:
    """A box part from its footprint centre, bottom height and full extents."""
    return PartSpec("box", (cx, cy, z0 + sz / 2), size=(sx, sy, sz), rgba=rgba)


def _legged_table(w: float, d: float, h: float, rgba: RGBA, top: float = 0.04, leg: float = 0.05):
    parts = [_box(0.0, 0.0, h - top, w, d, top, rgba)]
    inset = leg / 2 + 0.03
    for sx in (-1, 1):
        for sy in (-1, 1):
            parts.append(_box(sx * (w / 2 - inset), sy * (d / 2 - inset), 0.0, leg, leg, h - top, rgba))
    return parts, [SurfaceSpec((0.0, 0.0, h), (w, d))]


def _counter(w: float, d: float, h: float, rgba: RGBA, top: float = 0.04):
    plinth = 0.08
    parts = [_box(0.0, 0.02, 0.0, w, d - 0.04, plinth, _DARK),  # recessed toe kick
             _box(0.0, 0.0, plinth, w, d, h - top - plinth, (0.9, 0.89, 0.86, 1.0)),
             _box(0.0, 0.0, h - top, w, d, top, rgba)]
    return parts, [SurfaceSpec((0.0, 0.0, h), (w, d))]


def _sink_counter(w: float, d: float, h: float, rgba: RGBA, basin=(0.5, 0.38), depth: float = 0.18):
    """A counter with a basin cut into the top: four rim boxes around the opening, the basin floor below."""
    bw, bd = min(basin[0], w - 0.5), min(basin[1], d - 0.16)
    bx, by = w / 2 - 0.25 - bw / 2, -0.02  # the basin sits towards the +x end, slightly to the front
    floor_z = h - depth
    wall = 0.02
    parts = [_box(0.0, 0.02, 0.0, w, d - 0.04, 0.08, _DARK),
             _box(0.0, 0.0, 0.08, w, d, floor_z - 0.08, (0.9, 0.89, 0.86, 1.0)),
             _box(bx, by, floor_z - wall, bw, bd, wall, _STEEL)]  # basin floor
    # the block under the counter top beside the basin (left of it) up to the counter top
    left = (bx - bw / 2) + w / 2
    parts.append(_box(-w / 2 + left / 2, 0.0, floor_z, left, d, depth, rgba))
    right = w / 2 - (bx + bw / 2)
    parts.append(_box(w / 2 - right / 2, 0.0, floor_z, right, d, depth, rgba))
    front = (by - bd / 2) + d / 2
    parts.append(_box(bx, -d / 2 + front / 2, floor_z, bw, front, depth, rgba))
    back = d / 2 - (by + bd / 2)
    parts.append(_box(bx, d / 2 - back / 2, floor_z, bw, back, depth, rgba))
    surfaces = [SurfaceSpec((-w / 2 + left / 2, 0.0, h), (left, d)), SurfaceSpec((bx, by, floor_z), (bw, bd))]
    return parts, surfaces


def _shelf(w: float, d: float, h: float, rgba: RGBA, boards: int | None = None, t: float = 0.025):
    """An open frame: two side panels, a thin back, and 2-3 boards (each a surface); the top board at `h`."""
    n = boards or (3 if h >= 1.0 else 2)
    lowest = 0.3 if n == 3 else 0.45
    heights = [lowest + (h - lowest) * i / (n - 1) for i in range(n)]
    parts = [_box(-w / 2 + t / 2, 0.0, 0.0, t, d, h, rgba), _box(w / 2 - t / 2, 0.0, 0.0, t, d, h, rgba),
             _box(0.0, d / 2 - 0.005, 0.0, w - 2 * t, 0.01, h, rgba)]
    surfaces = []
    iw, idp = w - 2 * t, d - 0.01
    for z in heights:
        parts.append(_box(0.0, -0.005, z - t, iw, idp, t, rgba))
        surfaces.append(SurfaceSpec((0.0, -0.005, z), (iw, idp)))
    return parts, surfaces


def _sofa(w: float, d: float, h: float, rgba: RGBA, seat_h: float = 0.45):
    arm_w, back_d, arm_h = 0.18, 0.2, 0.62
    parts = [_box(0.0, -back_d / 2, 0.0, w - 2 * arm_w, d - back_d, seat_h, rgba),
             _box(0.0, d / 2 - back_d / 2, 0.0, w, back_d, h, rgba),
             _box(-w / 2 + arm_w / 2, -back_d / 2, 0.0, arm_w, d - back_d, arm_h, rgba),
             _box(w / 2 - arm_w / 2, -back_d / 2, 0.0, arm_w, d - back_d, arm_h, rgba)]
    return parts, [SurfaceSpec((0.0, -back_d / 2, seat_h), (w - 2 * arm_w, d - back_d))]


def _bed(w: float, d: float, h: float, rgba: RGBA):
    frame_h, head_d = h - 0.2, 0.06
    parts = [_box(0.0, -head_d / 2, 0.0, w, d - head_d, frame_h, (0.45, 0.3, 0.18, 1.0)),
             _box(0.0, -head_d / 2, frame_h, w - 0.04, d - head_d - 0.04, 0.2, (0.95, 0.95, 0.95, 1.0)),
             _box(0.0, -head_d / 2 - 0.1, h, w - 0.06, d - head_d - 0.3, 0.04, rgba),  # blanket
             _box(0.0, d / 2 - head_d / 2, 0.0, w, head_d, h + 0.45, (0.45, 0.3, 0.18, 1.0))]
    # objects go on the foot end only, so the robot reaches them from the foot of the bed
    foot = min(0.8, d - head_d - 0.3)
    return parts, [SurfaceSpec((0.0, -d / 2 + 0.05 + foot / 2, h + 0.04), (w - 0.06, foot))]


def _cabinet(w: float, d: float, h: float, rgba: RGBA, top: float = 0.03):
    parts = [_box(0.0, 0.0, 0.0, w, d, h - top, rgba), _box(0.0, 0.0, h - top, w + 0.02, d + 0.01, top, rgba),
             _box(0.0, -d / 2 - 0.005, h * 0.45, w - 0.1, 0.01, h * 0.04, _DARK)]  # a handle rail
    return parts, [SurfaceSpec((0.0, 0.0, h), (w, d))]


_BUILDERS = {"table": _legged_table, "counter": _counter, "sink_counter": _sink_counter, "shelf": _shelf,
             "sofa": _sofa, "bed": _bed, "cabinet": _cabinet, "side_table": _legged_table,
             "coffee_table": _legged_table}


def receptacle_geometry(kind: str, size: Size | None = None, rgba: RGBA | None = None
                        ) -> tuple[tuple[PartSpec, ...], tuple[SurfaceSpec, ...]]:
    """Box parts and support surfaces (receptacle frame) of a `kind` of furniture of `size` (w, d, h)."""
    template = TEMPLATES.get(kind)
    if template is None:
        raise SceneError(f"unknown receptacle kind {kind!r} (known: {', '.join(sorted(TEMPLATES))})")
    w, d, h = size if size is not None else template.default_size
    if min(w, d, h) <= 0.05:
        raise SceneError(f"receptacle {kind!r} size {(w, d, h)} is too small (every extent must exceed 0.05 m)")
    colour = rgba if rgba is not None else template.colours[0][1]
    parts, surfaces = _BUILDERS[kind](float(w), float(d), float(h), colour)
    return tuple(parts), tuple(surfaces)

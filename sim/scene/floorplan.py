"""Random apartment floor plans: 2-5 rectangular rooms from a binary split of a rectangle, walls, doors.

Each split of a rectangle into two gets one door between a room on each side that share enough of the
split line, so every room is reachable (the split tree is connected by construction). Walls are centred on
cell borders (thickness t), so a room's floor (RoomSpec min/max) is its cell shrunk by t/2 on each side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim.scene.spec import DoorSpec, RoomSpec, WallSpec

# rank by typical size: larger rooms get the labels earlier in this list
SIZE_RANK = ("living room", "kitchen", "bedroom", "office", "hall", "bathroom")
DEFAULT_LABELS = {
    2: ("living room", "kitchen"),
    3: ("living room", "kitchen", "bedroom"),
    4: ("living room", "kitchen", "bedroom", "bathroom"),
    5: ("living room", "kitchen", "bedroom", "office", "bathroom"),
}


@dataclass(frozen=True)
class FloorPlanConfig:
    room_area_m2: tuple[float, float] = (11.0, 20.0)  # sampled per room, sets the apartment's total area
    min_room_side_m: float = 2.9
    wall_thickness_m: float = 0.1
    wall_height_m: float = 2.4
    door_width_m: float = 0.95
    door_margin_m: float = 0.25  # from a door edge to the nearest room corner


@dataclass
class _Node:
    rect: tuple[float, float, float, float]  # x0, y0, x1, y1 (cell, wall centre lines)
    children: list[int] = field(default_factory=list)
    split: tuple[int, float] | None = None  # (axis 0 = x, coordinate)


@dataclass
class FloorPlan:
    rooms: list[RoomSpec]
    walls: list[WallSpec]
    doors: list[DoorSpec]
    cells: dict[str, tuple[float, float, float, float]]
    door_axes: dict[str, int]  # door id -> 0: in a wall along y (x = const), 1: in a wall along x


def _r(x: float) -> float:
    return round(float(x), 2)


def _split_tree(rng: np.random.Generator, n: int, cfg: FloorPlanConfig) -> list[_Node] | None:
    area = float(sum(rng.uniform(*cfg.room_area_m2) for _ in range(n)))
    aspect = float(rng.uniform(1.0, 1.7))
    w = _r(math.sqrt(area * aspect))
    h = _r(area / w)
    if rng.random() < 0.5:
        w, h = h, w
    nodes = [_Node((0.0, 0.0, w, h))]
    leaves = [0]
    m = cfg.min_room_side_m
    while len(leaves) < n:
        leaves.sort(key=lambda i: -(nodes[i].rect[2] - nodes[i].rect[0]) * (nodes[i].rect[3] - nodes[i].rect[1]))
        for i in leaves:
            x0, y0, x1, y1 = nodes[i].rect
            axis = 0 if (x1 - x0) >= (y1 - y0) else 1
            lo, hi = (x0, x1) if axis == 0 else (y0, y1)
            if hi - lo >= 2 * m:
                break
        else:
            return None
        t = _r(rng.uniform(lo + m, hi - m))
        a = (x0, y0, t, y1) if axis == 0 else (x0, y0, x1, t)
        b = (t, y0, x1, y1) if axis == 0 else (x0, t, x1, y1)
        nodes[i].split = (axis, t)
        nodes[i].children = [len(nodes), len(nodes) + 1]
        nodes += [_Node(a), _Node(b)]
        leaves.remove(i)
        leaves += nodes[i].children
    return nodes


def _leaves(nodes: list[_Node], i: int) -> list[int]:
    return [i] if not nodes[i].children else _leaves(nodes, nodes[i].children[0]) + _leaves(nodes, nodes[i].children[1])


def make_floor_plan(rng: np.random.Generator, labels: tuple[str, ...], cfg: FloorPlanConfig = FloorPlanConfig()
                    ) -> FloorPlan | None:
    """A floor plan with one room per label, or None if this draw could not fit the doors (draw again)."""
    nodes = _split_tree(rng, len(labels), cfg)
    if nodes is None:
        return None
    leaf_ids = _leaves(nodes, 0)
    order = sorted(leaf_ids, key=lambda i: (-(nodes[i].rect[2] - nodes[i].rect[0]) * (nodes[i].rect[3] - nodes[i].rect[1]), i))
    ranked = sorted(labels, key=lambda s: SIZE_RANK.index(s) if s in SIZE_RANK else len(SIZE_RANK))
    room_of: dict[int, str] = {}
    used: dict[str, int] = {}
    for leaf, label in zip(order, ranked, strict=True):
        base = label.replace(" ", "_")
        used[base] = used.get(base, 0) + 1
        room_of[leaf] = base if used[base] == 1 else f"{base}_{used[base]}"
    label_of = {room_of[leaf]: label for leaf, label in zip(order, ranked, strict=True)}

    doors: list[DoorSpec] = []
    door_gaps: dict[int, list[tuple[float, float]]] = {}  # split node -> gaps along its line
    door_axes: dict[str, int] = {}
    need = cfg.door_width_m + 2 * cfg.door_margin_m
    for i, node in enumerate(nodes):
        if node.split is None:
            continue
        axis, t = node.split
        other = 1 - axis
        pairs = []
        for a in _leaves(nodes, node.children[0]):
            for b in _leaves(nodes, node.children[1]):
                ra, rb = nodes[a].rect, nodes[b].rect
                if abs(ra[axis + 2] - t) > 1e-6 or abs(rb[axis] - t) > 1e-6:
                    continue
                lo, hi = max(ra[other], rb[other]), min(ra[other + 2], rb[other + 2])
                if hi - lo >= need:
                    pairs.append((a, b, lo, hi))
        if not pairs:
            return None
        a, b, lo, hi = pairs[int(rng.integers(len(pairs)))]
        half = cfg.door_width_m / 2
        c = _r(rng.uniform(lo + cfg.door_margin_m + half, hi - cfg.door_margin_m - half))
        center = (t, c) if axis == 0 else (c, t)
        doors.append(DoorSpec(f"door_{len(doors)}", center, cfg.door_width_m, tuple(sorted((room_of[a], room_of[b])))))
        door_gaps[i] = [(c - half, c + half)]
        door_axes[doors[-1].id] = axis

    walls: list[WallSpec] = []
    ht = cfg.wall_thickness_m / 2

    def add_line(axis: int, t: float, lo: float, hi: float, gaps: list[tuple[float, float]]) -> None:
        # axis: the coordinate that is constant along the wall (0: x = t, vertical wall; 1: y = t)
        cuts = [lo]
        for g0, g1 in sorted(gaps):
            cuts += [g0, g1]
        cuts.append(hi)
        for s, e in zip(cuts[0::2], cuts[1::2], strict=True):
            if e - s > 1e-6:
                start, end = ((t, s), (t, e)) if axis == 0 else ((s, t), (e, t))
                walls.append(WallSpec(f"wall_{len(walls)}", start, end, cfg.wall_thickness_m, cfg.wall_height_m))

    X0, Y0, X1, Y1 = nodes[0].rect  # noqa: N806
    add_line(1, Y0, X0 - ht, X1 + ht, [])
    add_line(1, Y1, X0 - ht, X1 + ht, [])
    add_line(0, X0, Y0 + ht, Y1 - ht, [])
    add_line(0, X1, Y0 + ht, Y1 - ht, [])
    for i, node in enumerate(nodes):
        if node.split is not None:
            axis, t = node.split
            x0, y0, x1, y1 = node.rect
            lo, hi = (y0, y1) if axis == 0 else (x0, x1)
            add_line(axis, t, lo + ht, hi - ht, door_gaps.get(i, []))

    rooms, cells = [], {}
    for leaf in sorted(leaf_ids, key=lambda i: room_of[i]):
        x0, y0, x1, y1 = nodes[leaf].rect
        rid = room_of[leaf]
        rooms.append(RoomSpec(rid, label_of[rid], (_r(x0 + ht), _r(y0 + ht)), (_r(x1 - ht), _r(y1 - ht))))
        cells[rid] = nodes[leaf].rect
    return FloorPlan(rooms, walls, doors, cells, door_axes)

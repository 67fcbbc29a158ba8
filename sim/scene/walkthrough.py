"""A scan route through a scene, like a person walking through the home with the robot.

`scan_route(spec)` returns ScanStops: the robot start, then viewpoints on a grid (~`spacing_m` apart) in
the free space of every room (inflated by robot radius + margin, ground-truth grid), visited room by room
in geodesic nearest-neighbour order. Consecutive stops are joined by straight segments through free space:
where a straight line is blocked, intermediate stops (with no head pans: drive only) are inserted at the
corners of the shortcut grid path. A room the start reaches only through a gap narrower than that margin
(but wide enough for the task planner's) is reached through it, with `tight_margin_m`. Each scanning stop
turns the head through `num_pans` pans that cover 360 degrees (within the Stretch's pan limits) at a
downward tilt, so tables and counters are in view.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from core.errors import InputError
from core.stretch import STRETCH
from core.types import Pose2D, wrap_angle
from sim.scene.ground_truth import Grid, occupancy_grid_full
from sim.scene.spec import SceneSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanRouteConfig:
    spacing_m: float = 1.8  # distance between viewpoints in a room
    robot_radius_m: float = STRETCH.base_radius_m
    margin_m: float = 0.1  # extra clearance around the robot for stops and segments
    # Where a room is reachable from the start only through a narrower gap (a sofa and a coffee table 0.5 m
    # apart), the route passes it with this margin, what the task planner keeps (navigation.occupancy's
    # safety_margin_m); its cells cost `tight_cost` times their length, so the route takes them only there.
    tight_margin_m: float = 0.02
    tight_cost: float = 5.0
    num_pans: int = 6  # head pans per stop, evenly spread over 360 degrees
    head_tilt: float = -0.52  # about 30 degrees down
    resolution_m: float = 0.05
    room_change_penalty_m: float = 20.0  # finish a room before moving to the next


@dataclass(frozen=True)
class ScanStop:
    pose: Pose2D
    head_pans: tuple[float, ...]
    head_tilt: float


def head_pans(n: int) -> tuple[float, ...]:
    """`n` pans spaced 360/n degrees apart inside the Stretch's pan range (starting at its upper limit)."""
    lo, hi = STRETCH.limits.head_pan
    if n <= 0:
        return ()
    step = 2 * math.pi / n
    if step * (n - 1) > hi - lo:
        step = (hi - lo) / (n - 1)
    return tuple(round(hi - k * step, 4) for k in range(n))


def _graph(free: np.ndarray, res: float, cost: np.ndarray | None = None) -> sparse.csr_matrix:
    """8-connected graph of free cells (flat index row * cols + col), edge weights in metres (times the
    larger of the two cells' `cost` where given)."""
    rows, cols = free.shape
    idx = np.arange(rows * cols).reshape(rows, cols)
    src, dst, w = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        c0, c1 = max(0, -dc), cols - max(0, dc)
        a, b = free[0:rows - dr, c0:c1], free[dr:rows, c0 + dc:c1 + dc]
        ia, ib = idx[0:rows - dr, c0:c1], idx[dr:rows, c0 + dc:c1 + dc]
        m = a & b
        if dr and dc:  # no corner cutting past an obstacle
            m &= free[0:rows - dr, c0 + dc:c1 + dc] & free[dr:rows, c0:c1]
        src.append(ia[m])
        dst.append(ib[m])
        step = np.full(int(m.sum()), res * math.hypot(dr, dc))
        if cost is not None:
            step = step * np.maximum(cost[0:rows - dr, c0:c1][m], cost[dr:rows, c0 + dc:c1 + dc][m])
        w.append(step)
    s, d, ww = np.concatenate(src), np.concatenate(dst), np.concatenate(w)
    n = rows * cols
    return sparse.coo_matrix((np.concatenate([ww, ww]), (np.concatenate([s, d]), np.concatenate([d, s]))),
                             shape=(n, n)).tocsr()


def segment_clear(free: np.ndarray, grid: Grid, a, b) -> bool:
    """True if every grid cell on the straight segment a -> b (world xy) is free."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    n = max(2, int(math.ceil(np.linalg.norm(b - a) / (grid.resolution_m / 2))) + 1)
    pts = a + (b - a) * np.linspace(0.0, 1.0, n)[:, None]
    rc = grid.world_to_cell(pts)
    if not grid.in_bounds(rc).all():
        return False
    return bool(free[rc[:, 0], rc[:, 1]].all())


def _viewpoints(spec: SceneSpec, grid: Grid, free: np.ndarray, cfg: ScanRouteConfig) -> list[tuple[str, int]]:
    """Per room, grid viewpoints snapped to the nearest reachable free cell: (room id, flat cell index)."""
    cells = np.argwhere(free)
    xy = grid.cell_to_world(cells)
    out: list[tuple[str, int]] = []
    seen: set[int] = set()
    for room in spec.rooms:
        inside = (xy[:, 0] > room.min[0]) & (xy[:, 0] < room.max[0]) & (xy[:, 1] > room.min[1]) & (xy[:, 1] < room.max[1])
        if not inside.any():
            log.warning("room %r has no free space for the robot; it gets no scan stop", room.id)
            continue
        rc_room, xy_room = cells[inside], xy[inside]
        w, h = room.max[0] - room.min[0], room.max[1] - room.min[1]
        nx, ny = max(1, round(w / cfg.spacing_m)), max(1, round(h / cfg.spacing_m))
        for j in range(ny):
            for i in range(nx):
                target = np.array([room.min[0] + (i + 0.5) * w / nx, room.min[1] + (j + 0.5) * h / ny])
                k = int(np.argmin(np.linalg.norm(xy_room - target, axis=1)))
                if np.linalg.norm(xy_room[k] - target) > cfg.spacing_m * 0.75:
                    continue  # this part of the room is furniture; a neighbouring viewpoint covers it
                flat = int(rc_room[k, 0] * free.shape[1] + rc_room[k, 1])
                if flat not in seen:
                    seen.add(flat)
                    out.append((room.id, flat))
    return out


def _room_of(spec: SceneSpec, x: float, y: float) -> str | None:
    for r in spec.rooms:
        if r.contains(x, y):
            return r.id
    return None


def _shortcut(path_xy: np.ndarray, free: np.ndarray, grid: Grid) -> list[np.ndarray]:
    """Corners of a grid path such that consecutive corners see each other (greedy farthest visible)."""
    out = [path_xy[0]]
    i = 0
    while i < len(path_xy) - 1:
        j = len(path_xy) - 1
        while j > i + 1 and not segment_clear(free, grid, path_xy[i], path_xy[j]):
            j -= 1
        out.append(path_xy[j])
        i = j
    return out


def _free_from_start(grid: Grid, start_rc: np.ndarray, inflation_m: float, cfg: ScanRouteConfig,
                     spec: SceneSpec) -> np.ndarray:
    """Cells free at `inflation_m`, with a small disc cleared around a tight start so the route can leave it."""
    free = grid.free_inflated(inflation_m)
    if not grid.in_bounds(start_rc[None])[0] or not free[start_rc[0], start_rc[1]]:
        free_r = grid.free_inflated(cfg.robot_radius_m)
        if not grid.in_bounds(start_rc[None])[0] or not free_r[start_rc[0], start_rc[1]]:
            raise InputError(f"scene {spec.name!r}: the robot start {spec.robot_start.to_list()} is not in free space")
        free = free.copy()
        free[max(0, start_rc[0] - 1):start_rc[0] + 2, max(0, start_rc[1] - 1):start_rc[1] + 2] &= free_r[
            max(0, start_rc[0] - 1):start_rc[0] + 2, max(0, start_rc[1] - 1):start_rc[1] + 2]
        free[start_rc[0], start_rc[1]] = True
    return free


def _component(free: np.ndarray, grid: Grid, start_rc: np.ndarray) -> np.ndarray:
    """The free cells connected to the start cell."""
    _, labels = csgraph.connected_components(_graph(free, grid.resolution_m), directed=False)
    start_flat = int(start_rc[0] * free.shape[1] + start_rc[1])
    return (labels == labels[start_flat]).reshape(free.shape) & free


def _rooms_missed(spec: SceneSpec, grid: Grid, reach: np.ndarray) -> list[str]:
    """Ids of the rooms with no cell of `reach` inside."""
    xy = grid.cell_to_world(np.argwhere(reach))
    return [r.id for r in spec.rooms if not np.any((xy[:, 0] > r.min[0]) & (xy[:, 0] < r.max[0])
                                                   & (xy[:, 1] > r.min[1]) & (xy[:, 1] < r.max[1]))]


def scan_route(spec: SceneSpec, config: ScanRouteConfig = ScanRouteConfig()) -> list[ScanStop]:
    """A collision-free coverage route from the robot start through every reachable room."""
    cfg = config
    grid = occupancy_grid_full(spec, cfg.resolution_m)
    start_rc = grid.world_to_cell(spec.robot_start.xy)[0]
    free = _free_from_start(grid, start_rc, cfg.robot_radius_m + cfg.margin_m, cfg, spec)
    reach = _component(free, grid, start_rc)
    passable = reach  # where the route may drive: the wide free space, or with narrow gaps (below)
    cost = None
    missed = _rooms_missed(spec, grid, reach)
    if missed:
        tight = _free_from_start(grid, start_rc, cfg.robot_radius_m + cfg.tight_margin_m, cfg, spec) | free
        passable = _component(tight, grid, start_rc)
        if _rooms_missed(spec, grid, passable & free) != missed:
            log.info("scan route for %r: rooms %s are reached only through gaps narrower than the route's "
                     "margin; it passes them with %.2f m", spec.name, ", ".join(missed), cfg.tight_margin_m)
            reach = passable & free
            cost = np.where(free, 1.0, cfg.tight_cost)
        else:
            passable = reach
    start_flat = int(start_rc[0] * free.shape[1] + start_rc[1])
    start_xy = grid.cell_to_world(start_rc[None])[0]
    views = [v for v in _viewpoints(spec, grid, reach, cfg)
             if np.linalg.norm(grid.cell_to_world([(v[1] // free.shape[1], v[1] % free.shape[1])])[0] - start_xy)
             > 0.5 * cfg.spacing_m]
    graph = _graph(passable, grid.resolution_m, cost)
    nodes = [start_flat] + [flat for _, flat in views]
    rooms = [_room_of(spec, *spec.robot_start.xy)] + [rid for rid, _ in views]
    dist, pred = csgraph.dijkstra(graph, indices=nodes, return_predecessors=True)

    order, todo = [0], set(range(1, len(nodes)))
    while todo:
        cur = order[-1]
        best = min(todo, key=lambda k: (dist[cur, nodes[k]] + (cfg.room_change_penalty_m if rooms[k] != rooms[cur] else 0.0), k))
        order.append(best)
        todo.remove(best)

    pans = head_pans(cfg.num_pans)
    stops = [ScanStop(spec.robot_start, pans, cfg.head_tilt)]
    cols = free.shape[1]
    for a, b in zip(order[:-1], order[1:], strict=True):
        chain = [nodes[b]]
        while chain[-1] != nodes[a]:
            chain.append(int(pred[a, chain[-1]]))
        rc = np.array([(c // cols, c % cols) for c in reversed(chain)])
        path = grid.cell_to_world(rc)
        path[0] = stops[-1].pose.xy
        if cost is None:
            corners = _shortcut(path, reach, grid)
        else:  # narrow cells only where the grid path itself passes them
            on_path = np.zeros_like(reach)
            on_path[rc[:, 0], rc[:, 1]] = True
            corners = _shortcut(path, reach | (on_path & passable), grid)
        for k, p in enumerate(corners[1:], start=1):
            prev = corners[k - 1]
            theta = math.atan2(p[1] - prev[1], p[0] - prev[0]) if np.linalg.norm(p - prev) > 1e-6 else stops[-1].pose.theta
            last = k == len(corners) - 1
            pose = Pose2D(round(float(p[0]), 4), round(float(p[1]), 4), round(wrap_angle(theta), 4))
            stops.append(ScanStop(pose, pans if last else (), cfg.head_tilt))
    log.info("scan route for %r: %d stops (%d scanning)", spec.name, len(stops), sum(1 for s in stops if s.head_pans))
    return stops

"""A* over free space with a clearance cost: start and goal world points -> a collision-free polyline.

The planner
1. snaps a start/goal that is not traversable (inside the inflated obstacles) to the nearest traversable
   cell within `snap_radius_m`, or fails saying so;
2. fails at once when start and goal lie in different free components (a closed room, a blocked
   corridor): no search, no hang;
3. returns the straight segment when it is clear;
4. otherwise searches the coarse roadmap (cached per map, see roadmap.py) with scipy's Dijkstra, the start
   and goal joined to nearby roadmap nodes by clear segments;
5. falls back to the complete 8-connected fine-cell graph when the roadmap cannot connect them.
The result is a polyline of world points; smoothing.py turns it into a few waypoints.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from navigation.lineofsight import los_clearance, segments_clear
from navigation.occupancy import OccupancyGrid
from navigation.roadmap import CostConfig, Graph, Roadmap, build_fine_graph, build_roadmap, edge_costs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannerConfig:
    coarse_resolution_m: float = 0.15
    """Roadmap block size (the roadmap graph has one node per block of this size)."""
    cost: CostConfig = field(default_factory=CostConfig)
    snap_radius_m: float = 0.30
    """A start or goal inside the inflated obstacles moves to the nearest free cell within this radius."""
    connect_radius_blocks: int = 2
    """Start and goal are joined to roadmap nodes this many blocks around them."""
    cache_size: int = 4
    """Roadmaps kept (one per map)."""


@dataclass
class PathResult:
    """A planned path. `points_xy` (N, 2) starts at the (snapped) start and ends at the (snapped) goal."""

    success: bool
    reason: str
    points_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    start_xy: np.ndarray | None = None
    goal_xy: np.ndarray | None = None
    method: str = ""
    cost: float = math.inf
    time_s: float = 0.0

    @property
    def length_m(self) -> float:
        if len(self.points_xy) < 2:
            return 0.0
        return float(np.linalg.norm(np.diff(self.points_xy, axis=0), axis=1).sum())


def _fmt(xy: np.ndarray) -> str:
    return f"({xy[0]:.2f}, {xy[1]:.2f})"


class GridPlanner:
    """Plans on OccupancyGrids; keeps the roadmap and fine graph of the last few maps."""

    def __init__(self, config: PlannerConfig = PlannerConfig()):
        self.config = config
        self._roadmaps: OrderedDict[str, Roadmap] = OrderedDict()
        self._fine: OrderedDict[str, Graph] = OrderedDict()

    def _cached(self, store: OrderedDict, key: str, build):
        if key in store:
            store.move_to_end(key)
            return store[key]
        value = build()
        store[key] = value
        while len(store) > self.config.cache_size:
            store.popitem(last=False)
        return value

    def roadmap(self, grid: OccupancyGrid) -> Roadmap:
        return self._cached(
            self._roadmaps, grid.key, lambda: build_roadmap(grid, self.config.coarse_resolution_m, self.config.cost)
        )

    def fine_graph(self, grid: OccupancyGrid) -> Graph:
        return self._cached(self._fine, grid.key, lambda: build_fine_graph(grid, self.config.cost))

    def snap(self, grid: OccupancyGrid, xy: np.ndarray) -> np.ndarray | None:
        """World xy itself if traversable, else the centre of the nearest traversable cell within the
        snap radius, else None."""
        xy = np.asarray(xy, np.float64)[:2]
        if grid.is_traversable(xy)[0]:
            return xy.copy()
        rc = grid.nearest_traversable(xy, self.config.snap_radius_m)
        return None if rc is None else grid.cell_to_world(rc)[0]

    def plan(self, grid: OccupancyGrid, start_xy: np.ndarray, goal_xy: np.ndarray) -> PathResult:
        t0 = time.perf_counter()
        result = self._plan(grid, np.asarray(start_xy, np.float64)[:2], np.asarray(goal_xy, np.float64)[:2])
        result.time_s = time.perf_counter() - t0
        return result

    def _plan(self, grid: OccupancyGrid, start_raw: np.ndarray, goal_raw: np.ndarray) -> PathResult:
        r = self.config.snap_radius_m
        start = self.snap(grid, start_raw)
        if start is None:
            return PathResult(False, f"start {_fmt(start_raw)} is inside an obstacle or unknown space "
                              f"and no free cell is within {r:.2f} m of it")
        goal = self.snap(grid, goal_raw)
        if goal is None:
            return PathResult(False, f"goal {_fmt(goal_raw)} is inside an obstacle or unknown space "
                              f"and no free cell is within {r:.2f} m of it", start_xy=start)
        comp = grid.component_of(np.stack([start, goal]))
        if comp[0] != comp[1]:
            return PathResult(False, f"goal {_fmt(goal)} is not connected to the start {_fmt(start)}: no free "
                              "path (the goal is inside a closed room or behind blocked space)",
                              start_xy=start, goal_xy=goal)
        if np.allclose(start, goal) or segments_clear(grid, start[None], goal[None],
                                                      min(los_clearance(grid), *grid.clearance_at(np.stack([start, goal]))))[0]:
            cost, _ = edge_costs(grid, start[None], goal[None], self.config.cost)
            return PathResult(True, "direct", np.stack([start, goal]), start, goal, "direct", float(cost[0]))
        path = self._roadmap_path(grid, start, goal)
        if path is not None:
            return PathResult(True, "planned on the roadmap", path[0], start, goal, "roadmap", path[1])
        log.info("roadmap could not connect %s -> %s; searching the fine grid", _fmt(start), _fmt(goal))
        path = self._fine_path(grid, start, goal)
        if path is not None:
            return PathResult(True, "planned on the fine grid", path[0], start, goal, "fine", path[1])
        return PathResult(False, f"no free path from {_fmt(start)} to {_fmt(goal)}", start_xy=start, goal_xy=goal)

    def _roadmap_path(self, grid: OccupancyGrid, start: np.ndarray, goal: np.ndarray):
        rm = self.roadmap(grid)
        g = rm.graph
        ids = {"start": g.n, "goal": g.n + 1}
        rc = grid.world_to_cell(np.stack([start, goal]))
        eu, ev, ew = [], [], []
        for name, xy, cell in (("start", start, rc[0]), ("goal", goal, rc[1])):
            near = rm.nodes_near(cell, self.config.connect_radius_blocks)
            if len(near) == 0:
                return None
            need = min(los_clearance(grid), float(grid.clearance_at(xy)[0]))
            w, cmin = edge_costs(grid, np.repeat(xy[None], len(near), axis=0), rm.xy[near], self.config.cost)
            ok = cmin >= need
            if not ok.any():
                return None
            eu.append(np.full(int(ok.sum()), ids[name], np.int64))
            ev.append(near[ok].astype(np.int64))
            ew.append(w[ok])
        found = g.shortest_path(ids["start"], ids["goal"], tuple(np.concatenate(e) for e in (eu, ev, ew)),
                                extra_nodes=2)
        if found is None:
            return None
        nodes, cost = found
        pos = {ids["start"]: start, ids["goal"]: goal}
        pts = np.stack([pos[n] if n in pos else rm.xy[n] for n in nodes])
        return pts, cost

    def _fine_path(self, grid: OccupancyGrid, start: np.ndarray, goal: np.ndarray):
        g = self.fine_graph(grid)
        cols = grid.shape[1]
        rc = grid.world_to_cell(np.stack([start, goal]))
        s, t = int(rc[0, 0] * cols + rc[0, 1]), int(rc[1, 0] * cols + rc[1, 1])
        trav = grid.traversable
        if not (trav[rc[0, 0], rc[0, 1]] and trav[rc[1, 0], rc[1, 1]]):
            return None
        found = g.shortest_path(s, t)
        if found is None:
            return None
        nodes, cost = found
        cells = np.array([[n // cols, n % cols] for n in nodes], np.int64)
        pts = grid.cell_to_world(cells)
        pts[0], pts[-1] = start, goal
        return pts, cost

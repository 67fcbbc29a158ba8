"""Path smoothing: a planned polyline -> a few straight segments -> waypoints (Pose2D) for the base.

Greedy string pulling: from the current anchor, jump to the farthest later path point whose straight
segment is clear. "Clear" means every sampled point of the segment keeps
- at least the line-of-sight clearance (inflation radius + half a cell: the robot radius with margin), and
- no less clearance than the planned path had between the two points (capped at `keep_clearance_m`),
  minus `slack_m` — so shortcuts remove zig-zags but do not pull the path back against furniture that
  the clearance-aware planner kept away from.

Turning points: the base turns in place at every kept point, sweeping its whole footprint; with
`turn_clearance_m` the shortcut prefers ending on points with that much room.

Waypoint headings: each waypoint faces the next one (the base turns, then drives straight), the last one
takes the requested final heading (or keeps its travel direction when none is given).
"""

from __future__ import annotations

import math

import numpy as np

from core.types import Pose2D
from navigation.lineofsight import los_clearance, segment_min_clearance
from navigation.occupancy import OccupancyGrid


def shortcut(
    grid: OccupancyGrid,
    points_xy: np.ndarray,
    keep_clearance_m: float = 0.45,
    slack_m: float | None = None,
    turn_clearance_m: float | None = None,
) -> np.ndarray:
    """Returns the kept points (M, 2), M <= N, first and last always kept.

    turn_clearance_m: the robot turns at every kept point; prefer points with at least this clearance
    (room to turn the whole base) over farther ones without it.
    """
    pts = np.asarray(points_xy, np.float64).reshape(-1, 2)
    if len(pts) <= 2:
        return pts.copy()
    slack = grid.resolution_m if slack_m is None else slack_m
    los = los_clearance(grid)
    # Clearance along the original path: per vertex, the min over the edge leaving it (and the vertex).
    edge_min = segment_min_clearance(grid, pts[:-1], pts[1:])
    kept = [0]
    i = 0
    n = len(pts)
    while i < n - 1:
        js = np.arange(i + 1, n)
        run_min = np.minimum.accumulate(edge_min[i : n - 1])  # min clearance of the path from i to js
        need = np.maximum(los, np.minimum(keep_clearance_m, run_min) - slack)
        # Endpoints with low clearance (a snapped start, a tight goal) cannot demand more than they have.
        ends = np.minimum(grid.clearance_at(pts[i : i + 1])[0], grid.clearance_at(pts[js]))
        need = np.minimum(need, np.maximum(ends, 0.0))
        j = _farthest_ok(grid, pts, i, js, need, turn_clearance_m, n)
        kept.append(j)
        i = j
    return pts[kept]


def _farthest_ok(grid: OccupancyGrid, pts: np.ndarray, i: int, js: np.ndarray, need: np.ndarray,
                 turn_clearance_m: float | None, n: int, chunk: int = 12) -> int:
    """The farthest later point j whose segment from pts[i] keeps `need` (preferring points with room to
    turn, see shortcut). Segments are checked in chunks from the far end, stopping at the first chunk that
    settles the answer (a long path's far points are usually out of sight: most chunks are never sampled)."""
    roomy_pt = (js == n - 1) | (grid.clearance_at(pts[js]) >= turn_clearance_m) if turn_clearance_m is not None \
        else np.ones(len(js), bool)
    best_ok = 0  # index into js; the planned edge itself (js[0]) is always acceptable
    for hi in range(len(js), 0, -chunk):
        lo = max(hi - chunk, 0)
        if lo == 0 and hi == 1:
            ok = np.ones(1, bool)
        else:
            sel = np.arange(lo, hi)
            ok = segment_min_clearance(grid, np.repeat(pts[i : i + 1], len(sel), axis=0), pts[js[sel]]) >= need[sel]
            if lo == 0:
                ok[0] = True
        roomy = ok & roomy_pt[lo:hi]
        if roomy.any():
            return int(js[lo + np.nonzero(roomy)[0].max()])
        if ok.any() and best_ok == 0:
            best_ok = lo + int(np.nonzero(ok)[0].max())
        if turn_clearance_m is None and ok.any():
            return int(js[best_ok])
    return int(js[best_ok])


def to_waypoints(points_xy: np.ndarray, final_heading: float | None = None, min_step_m: float = 0.01) -> list[Pose2D]:
    """Poses at points_xy[1:] (the first point is where the robot is), each facing the next point."""
    pts = np.asarray(points_xy, np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return []
    keep = [0]
    for k in range(1, len(pts)):
        if np.linalg.norm(pts[k] - pts[keep[-1]]) >= min_step_m or k == len(pts) - 1:
            keep.append(k)
    pts = pts[keep]
    if len(pts) >= 2 and np.linalg.norm(pts[-1] - pts[-2]) < min_step_m:
        pts = np.delete(pts, -2, axis=0)
    out: list[Pose2D] = []
    for k in range(1, len(pts)):
        if k < len(pts) - 1:
            d = pts[k + 1] - pts[k]
        else:
            d = pts[k] - pts[k - 1]
        theta = math.atan2(d[1], d[0])
        if k == len(pts) - 1 and final_heading is not None:
            theta = final_heading
        out.append(Pose2D(float(pts[k, 0]), float(pts[k, 1]), float(theta)))
    if len(pts) == 1 and final_heading is not None:
        out.append(Pose2D(float(pts[0, 0]), float(pts[0, 1]), float(final_heading)))
    return out


def smooth_path(
    grid: OccupancyGrid,
    points_xy: np.ndarray,
    final_heading: float | None = None,
    keep_clearance_m: float = 0.45,
    slack_m: float | None = None,
    turn_clearance_m: float | None = None,
) -> tuple[np.ndarray, list[Pose2D]]:
    """(smoothed points (M, 2), waypoints) for a planned polyline."""
    pts = shortcut(grid, points_xy, keep_clearance_m, slack_m, turn_clearance_m)
    return pts, to_waypoints(pts, final_heading)


def densify(points_xy: np.ndarray, step_m: float = 0.02) -> np.ndarray:
    """Points every `step_m` along a polyline (for checks and drawing)."""
    pts = np.asarray(points_xy, np.float64).reshape(-1, 2)
    if len(pts) < 2:
        return pts.copy()
    out = [pts[0:1]]
    for a, b in zip(pts[:-1], pts[1:], strict=True):
        n = max(int(math.ceil(np.linalg.norm(b - a) / step_m)), 1)
        t = np.arange(1, n + 1)[:, None] / n
        out.append(a + t * (b - a))
    return np.concatenate(out)

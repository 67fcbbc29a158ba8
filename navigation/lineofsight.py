"""Straight-segment checks against an OccupancyGrid (vectorised over many segments at once).

A segment is clear when every point sampled along it at `step` (a quarter cell by default, so no cell the
segment crosses is skipped except ones it only clips at a corner) lies in a cell whose clearance is at
least `min_clearance_m`. Navigation asks for the inflation radius plus half a cell, which keeps every
point of the segment (not only cell centres) at least the robot radius from blocked cells.
"""

from __future__ import annotations

import numpy as np

from navigation.occupancy import OccupancyGrid


def segment_samples(a: np.ndarray, b: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along segments a[i] -> b[i] (both (N, 2)): returns (points (N, S, 2), valid (N, S))."""
    a = np.asarray(a, np.float64).reshape(-1, 2)
    b = np.asarray(b, np.float64).reshape(-1, 2)
    length = np.linalg.norm(b - a, axis=1)
    n = np.maximum(np.ceil(length / step_m).astype(np.int64), 1)
    s = int(n.max()) + 1 if len(n) else 1
    t = np.arange(s, dtype=np.float64)[None, :] / n[:, None]
    valid = t <= 1.0 + 1e-12
    t = np.minimum(t, 1.0)
    pts = a[:, None, :] + t[..., None] * (b - a)[:, None, :]
    return pts, valid


def segment_clearances(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cell clearance at points along segments a[i] -> b[i] (world (N, 2) each), `step_m` apart:
    (clearance (N, S) float32, valid (N, S)); 0 outside the grid. The same samples as `segment_samples`,
    computed in cell units in float32 with flat indexing (the roadmap checks ~10^5 segments per map)."""
    a = np.asarray(a, np.float64).reshape(-1, 2)
    b = np.asarray(b, np.float64).reshape(-1, 2)
    rows, cols = grid.shape
    res = float(grid.resolution_m)
    n = np.maximum(np.ceil(np.linalg.norm(b - a, axis=1) / step_m).astype(np.int64), 1)
    s = int(n.max()) + 1 if len(n) else 1
    t = np.arange(s, dtype=np.float32)[None, :] / n[:, None].astype(np.float32)
    valid = t <= 1.0 + 1e-6
    t = np.minimum(t, np.float32(1.0))
    ac = ((a - grid.origin_xy) / res).astype(np.float32)
    bc = ((b - grid.origin_xy) / res).astype(np.float32)
    col = np.floor(ac[:, 0:1] + t * (bc[:, 0:1] - ac[:, 0:1])).astype(np.int32)
    row = np.floor(ac[:, 1:2] + t * (bc[:, 1:2] - ac[:, 1:2])).astype(np.int32)
    inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    flat = np.clip(row, 0, rows - 1) * cols + np.clip(col, 0, cols - 1)
    c = np.asarray(grid.clearance_m, np.float32).ravel()[flat]
    c[~inside] = 0.0
    return c, valid


def segment_min_clearance(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, step_m: float | None = None) -> np.ndarray:
    """(N,) minimum cell clearance (m) over samples along each segment a[i] -> b[i]."""
    step = grid.resolution_m / 4 if step_m is None else step_m
    if np.asarray(a).size == 0:
        return np.zeros(0, np.float32)
    c, valid = segment_clearances(grid, a, b, step)
    return np.where(valid, c, np.inf).min(axis=1)


def segments_clear(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, min_clearance_m: float | None = None) -> np.ndarray:
    """(N,) bool: each segment keeps at least `min_clearance_m` (default: inflation + half a cell)."""
    need = los_clearance(grid) if min_clearance_m is None else min_clearance_m
    return segment_min_clearance(grid, a, b) >= need


def los_clearance(grid: OccupancyGrid) -> float:
    """Cell clearance a straight segment needs everywhere along it (inflation radius + half a cell)."""
    return float(grid.inflation_m + 0.5 * grid.resolution_m)


def segments_unobstructed(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, opaque: np.ndarray,
                          step_m: float | None = None) -> np.ndarray:
    """(N,) bool: no point sampled along segment a[i] -> b[i] (world (N, 2) each, `step_m` apart, a quarter
    cell by default) lies in an `opaque` cell (bool (rows, cols), e.g. the grid's seen obstacles: a camera
    at a sees b across free and unknown cells, not through a wall). Points outside the grid are not opaque."""
    a = np.asarray(a, np.float64).reshape(-1, 2)
    b = np.asarray(b, np.float64).reshape(-1, 2)
    if len(a) == 0:
        return np.zeros(0, bool)
    pts, valid = segment_samples(a, b, grid.resolution_m / 4 if step_m is None else step_m)
    rc = grid.world_to_cell(pts.reshape(-1, 2))
    inside = grid.in_bounds(rc)
    hit = np.zeros(len(rc), bool)
    hit[inside] = np.asarray(opaque, bool)[rc[inside, 0], rc[inside, 1]]
    return ~(hit.reshape(valid.shape) & valid).any(axis=1)

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


def segment_min_clearance(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, step_m: float | None = None) -> np.ndarray:
    """(N,) minimum cell clearance (m) over samples along each segment a[i] -> b[i]."""
    step = grid.resolution_m / 4 if step_m is None else step_m
    pts, valid = segment_samples(a, b, step)
    if pts.shape[0] == 0:
        return np.zeros(0, np.float32)
    c = grid.clearance_at(pts.reshape(-1, 2)).reshape(valid.shape)
    c = np.where(valid, c, np.inf)
    return c.min(axis=1)


def segments_clear(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, min_clearance_m: float | None = None) -> np.ndarray:
    """(N,) bool: each segment keeps at least `min_clearance_m` (default: inflation + half a cell)."""
    need = los_clearance(grid) if min_clearance_m is None else min_clearance_m
    return segment_min_clearance(grid, a, b) >= need


def los_clearance(grid: OccupancyGrid) -> float:
    """Cell clearance a straight segment needs everywhere along it (inflation radius + half a cell)."""
    return float(grid.inflation_m + 0.5 * grid.resolution_m)

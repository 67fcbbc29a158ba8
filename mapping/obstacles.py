"""Obstacle export for navigation: 3D points -> a 2D grid of what was seen where.

Points are classified by height above the floor (world z): `floor_band_m` = floor seen (free evidence),
`obstacle_band_m` = obstacle (something the robot's body could hit), higher = ignored (ceiling, lamps).
A cell with any obstacle point is an obstacle; a cell with floor points and no obstacle point is free; a
cell with neither is unknown. Navigation turns this into an inflated occupancy grid.

Grid layout: cell (row, col) covers world x in [origin_x + col*res, origin_x + (col+1)*res) and y in
[origin_y + row*res, origin_y + (row+1)*res): rows go along +y, columns along +x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNKNOWN, FREE, OBSTACLE = 0, 1, 2


@dataclass(frozen=True)
class ObstacleGridConfig:
    resolution_m: float = 0.05
    floor_band_m: tuple[float, float] = (-0.10, 0.05)
    obstacle_band_m: tuple[float, float] = (0.10, 1.50)
    min_points_per_obstacle_cell: int = 1
    """Depth points a cell needs to count as an obstacle (the task machine asks for 3: a stray noisy point
    must not block a base pose)."""
    padding_m: float = 0.5
    height_cap_m: float = 2.0
    """Points above this (ceilings) are left out of the per-cell obstacle height."""


class GridLayout:
    """Cell <-> world conversions for a 2D grid with `origin_xy`, `resolution_m` and `shape` (see the module
    docstring for the layout); shared by ObstacleGrid and navigation's OccupancyGrid."""

    origin_xy: np.ndarray
    resolution_m: float

    @property
    def shape(self) -> tuple[int, int]:
        raise NotImplementedError

    def world_to_cell(self, xy: np.ndarray) -> np.ndarray:
        """(N, 2) world xy -> (N, 2) int (row, col); may be outside the grid."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        colrow = np.floor((xy - self.origin_xy) / self.resolution_m).astype(np.int64)
        return colrow[:, ::-1]

    def cell_to_world(self, rc: np.ndarray) -> np.ndarray:
        """(N, 2) int (row, col) -> (N, 2) world xy of cell centres."""
        rc = np.asarray(rc, dtype=np.float64).reshape(-1, 2)
        return self.origin_xy + (rc[:, ::-1] + 0.5) * self.resolution_m

    def in_bounds(self, rc: np.ndarray) -> np.ndarray:
        rc = np.asarray(rc).reshape(-1, 2)
        return (rc[:, 0] >= 0) & (rc[:, 0] < self.shape[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < self.shape[1])


@dataclass
class ObstacleGrid(GridLayout):
    """A 2D grid of UNKNOWN (0) / FREE (1) / OBSTACLE (2) cells, plus per-cell point counts."""

    cells: np.ndarray  # uint8 (rows, cols)
    origin_xy: np.ndarray  # float64 (2,): world (x, y) of the corner of cell (0, 0)
    resolution_m: float
    obstacle_counts: np.ndarray  # int32 (rows, cols)
    floor_counts: np.ndarray  # int32 (rows, cols)
    max_height_m: np.ndarray | None = None
    """float32 (rows, cols): highest point above the obstacle band's floor and below `height_cap_m` (NaN
    where none); tells a wall (2+ m) from a table (0.75 m) for reach checks."""

    @property
    def shape(self) -> tuple[int, int]:
        return self.cells.shape  # type: ignore[return-value]



def obstacle_grid_from_points(
    xyz: np.ndarray,
    config: ObstacleGridConfig = ObstacleGridConfig(),
    bounds_xy: tuple[float, float, float, float] | None = None,
    weights: np.ndarray | None = None,
) -> ObstacleGrid:
    """Build an ObstacleGrid from (N, 3) world points (e.g. all valid depth points of a scan).

    bounds_xy: (xmin, ymin, xmax, ymax) of the grid; by default the points' extent plus `padding_m`.
    weights: optional (N,) point multiplicities (e.g. hit counts of voxel centres); counts sum them.
    """
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    w = np.ones(len(xyz)) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != xyz.shape[0]:
        raise ValueError(f"{w.shape[0]} weights for {xyz.shape[0]} points")
    finite = np.all(np.isfinite(xyz), axis=1)
    xyz, w = xyz[finite], w[finite]
    res = float(config.resolution_m)
    if bounds_xy is None:
        if len(xyz) == 0:
            raise ValueError("cannot build an obstacle grid from zero points")
        lo = xyz[:, :2].min(axis=0) - config.padding_m
        hi = xyz[:, :2].max(axis=0) + config.padding_m
    else:
        lo = np.array(bounds_xy[:2], dtype=np.float64)
        hi = np.array(bounds_xy[2:], dtype=np.float64)
    origin = np.floor(lo / res) * res
    cols, rows = (np.ceil((hi - origin) / res).astype(int) + 1).tolist()
    z = xyz[:, 2]
    floor = (z >= config.floor_band_m[0]) & (z <= config.floor_band_m[1])
    obst = (z >= config.obstacle_band_m[0]) & (z <= config.obstacle_band_m[1])

    def counts(mask: np.ndarray) -> np.ndarray:
        cr = np.floor((xyz[mask, :2] - origin) / res).astype(np.int64)
        ok = (cr[:, 0] >= 0) & (cr[:, 0] < cols) & (cr[:, 1] >= 0) & (cr[:, 1] < rows)
        flat = cr[ok, 1] * cols + cr[ok, 0]
        counted = np.bincount(flat, weights=w[mask][ok], minlength=rows * cols)
        return np.rint(counted).reshape(rows, cols).astype(np.int32)

    floor_counts = counts(floor)
    obstacle_counts = counts(obst)
    cells = np.full((rows, cols), UNKNOWN, np.uint8)
    cells[floor_counts > 0] = FREE
    cells[obstacle_counts >= config.min_points_per_obstacle_cell] = OBSTACLE
    tall = (z >= config.obstacle_band_m[0]) & (z <= config.height_cap_m)
    cr = np.floor((xyz[tall, :2] - origin) / res).astype(np.int64)
    ok = (cr[:, 0] >= 0) & (cr[:, 0] < cols) & (cr[:, 1] >= 0) & (cr[:, 1] < rows)
    height = np.full(rows * cols, -np.inf)
    np.maximum.at(height, cr[ok, 1] * cols + cr[ok, 0], z[tall][ok])
    height[~np.isfinite(height)] = np.nan
    return ObstacleGrid(cells, origin, res, obstacle_counts, floor_counts, height.reshape(rows, cols).astype(np.float32))

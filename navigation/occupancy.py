"""Occupancy grid for the Stretch base: what is blocked, what is traversable, how far from obstacles.

Input is a `mapping.obstacles.ObstacleGrid` (UNKNOWN / FREE / OBSTACLE cells built from map points in a
height band) or the map points themselves. The grid keeps the ObstacleGrid's layout: cell (row, col) covers
world x in [origin_x + col*res, +res) and y in [origin_y + row*res, +res); rows go along +y, columns
along +x.

Steps:
1. Small unknown holes (connected unknown regions of at most `fill_hole_max_cells` cells that touch
   neither an obstacle nor the grid border) become free: sparse floor returns leave such holes in open floor.
2. Optionally the neighbourhood of the robot's start becomes free (the robot stands there, so the floor
   under it is free even where the camera never saw it).
3. Blocked = obstacle, plus unknown when `unknown_is_blocked` (default). The grid border counts as blocked.
4. Clearance = distance (m) from each cell centre to the nearest blocked cell's edge
   (`scipy.ndimage.distance_transform_edt`, minus half a cell).
5. Traversable = clearance >= robot radius + safety margin (inflation by the base footprint).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from core.errors import InputError
from core.stretch import STRETCH
from core.types import Pose2D
from mapping.obstacles import (
    FREE,
    OBSTACLE,
    UNKNOWN,
    GridLayout,
    ObstacleGrid,
    ObstacleGridConfig,
    obstacle_grid_from_points,
)

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class OccupancyConfig:
    """How map evidence becomes a grid the base can drive on."""

    robot_radius_m: float = STRETCH.base_radius_m
    """Radius of the circle around the base footprint; obstacles are inflated by it."""
    safety_margin_m: float = 0.02
    """Extra inflation on top of the robot radius (covers grid discretisation)."""
    unknown_is_blocked: bool = True
    """Treat never-seen cells as obstacles (safe default); False treats them as free."""
    fill_hole_max_cells: int = 40
    """Unknown regions up to this many cells (40 = 0.1 m2 at 5 cm), surrounded by free cells and touching no
    obstacle, become free (0 disables): floor a scan happened not to see (behind a door frame, under where
    the robot stood) would otherwise, inflated by the robot radius, block a passage."""
    free_start_radius_m: float = 0.0
    """Unknown cells within this radius of the robot's start become free (0 disables)."""
    height_band_m: tuple[float, float] = (0.10, 1.50)
    """Obstacle height band above the floor, used when building the grid from points."""
    floor_band_m: tuple[float, float] = (-0.10, 0.05)
    """Heights counted as floor (free evidence), used when building the grid from points."""
    resolution_m: float = 0.05
    """Cell size, used when building the grid from points."""

    @property
    def inflation_m(self) -> float:
        return float(self.robot_radius_m + self.safety_margin_m)


@dataclass
class OccupancyGrid(GridLayout):
    """An inflated occupancy grid with a clearance field, in the ObstacleGrid's layout."""

    state: np.ndarray  # uint8 (rows, cols): UNKNOWN / FREE / OBSTACLE after hole filling
    blocked: np.ndarray  # bool (rows, cols): obstacle (and unknown when unknown_is_blocked)
    clearance_m: np.ndarray  # float32 (rows, cols): distance from the cell centre to the nearest blocked edge
    traversable: np.ndarray  # bool (rows, cols): the base centre may be here
    origin_xy: np.ndarray  # float64 (2,)
    resolution_m: float
    config: OccupancyConfig = field(default_factory=OccupancyConfig)
    max_height_m: np.ndarray | None = None
    """float32 (rows, cols) highest obstacle point per cell (NaN: none seen), from the ObstacleGrid."""
    _labels: np.ndarray | None = field(default=None, repr=False)
    _key: str | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.traversable.shape  # type: ignore[return-value]

    @property
    def inflation_m(self) -> float:
        return self.config.inflation_m

    @property
    def key(self) -> str:
        """Content hash (traversability, clearance, layout): planners cache per-map data under it."""
        if self._key is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(np.packbits(self.traversable).tobytes())
            h.update(self.clearance_m.tobytes())
            h.update(np.asarray([*self.origin_xy, self.resolution_m, *self.shape], np.float64).tobytes())
            self._key = h.hexdigest()
        return self._key

    def bounds_xy(self) -> tuple[float, float, float, float]:
        rows, cols = self.shape
        x0, y0 = (float(v) for v in self.origin_xy)
        return x0, y0, x0 + cols * self.resolution_m, y0 + rows * self.resolution_m

    def clearance_at(self, xy: np.ndarray) -> np.ndarray:
        """(N,) clearance (m) of the cells containing world points; 0 outside the grid."""
        rc = self.world_to_cell(xy)
        ok = self.in_bounds(rc)
        out = np.zeros(len(rc), np.float32)
        out[ok] = self.clearance_m[rc[ok, 0], rc[ok, 1]]
        return out

    def is_traversable(self, xy: np.ndarray) -> np.ndarray:
        """(N,) bool: the cell containing each world point is traversable (False outside the grid)."""
        rc = self.world_to_cell(xy)
        ok = self.in_bounds(rc)
        out = np.zeros(len(rc), bool)
        out[ok] = self.traversable[rc[ok, 0], rc[ok, 1]]
        return out

    @property
    def component_labels(self) -> np.ndarray:
        """int32 (rows, cols): 8-connected components of traversable cells (0 = not traversable)."""
        if self._labels is None:
            self._labels, _ = ndimage.label(self.traversable, structure=_EIGHT)
            self._labels = self._labels.astype(np.int32)
        return self._labels

    def component_of(self, xy: np.ndarray) -> np.ndarray:
        """(N,) component label of the cells containing world points (0 = not traversable / outside)."""
        rc = self.world_to_cell(xy)
        ok = self.in_bounds(rc)
        out = np.zeros(len(rc), np.int32)
        out[ok] = self.component_labels[rc[ok, 0], rc[ok, 1]]
        return out

    def nearest_traversable(self, xy: np.ndarray, max_radius_m: float) -> np.ndarray | None:
        """(row, col) of the traversable cell nearest to a world point within `max_radius_m`, else None."""
        rc = self.world_to_cell(np.asarray(xy, dtype=np.float64)[:2])[0]
        n = int(math.ceil(max_radius_m / self.resolution_m)) + 1
        r0, r1 = max(rc[0] - n, 0), min(rc[0] + n + 1, self.shape[0])
        c0, c1 = max(rc[1] - n, 0), min(rc[1] + n + 1, self.shape[1])
        if r0 >= r1 or c0 >= c1:
            return None
        rr, cc = np.nonzero(self.traversable[r0:r1, c0:c1])
        if len(rr) == 0:
            return None
        cells = np.stack([rr + r0, cc + c0], axis=1)
        d = np.linalg.norm(self.cell_to_world(cells) - np.asarray(xy, dtype=np.float64)[:2], axis=1)
        i = int(np.argmin(d))
        return cells[i] if d[i] <= max_radius_m + 1e-9 else None


def fill_small_unknown_holes(cells: np.ndarray, max_cells: int) -> np.ndarray:
    """Unknown regions of <= max_cells cells that touch no obstacle and not the border become FREE."""
    out = cells.copy()
    if max_cells <= 0:
        return out
    unknown = cells == UNKNOWN
    labels, n = ndimage.label(unknown, structure=_EIGHT)
    if n == 0:
        return out
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    bad = np.zeros(n + 1, bool)
    bad[0] = True
    bad[sizes > max_cells] = True
    near_obstacle = ndimage.binary_dilation(cells == OBSTACLE, structure=_EIGHT)
    bad[np.unique(labels[near_obstacle])] = True
    for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
        bad[np.unique(edge)] = True
    out[~bad[labels]] = FREE
    return out


def occupancy_from_obstacle_grid(
    grid: ObstacleGrid, config: OccupancyConfig = OccupancyConfig(), start: Pose2D | None = None
) -> OccupancyGrid:
    """Inflate an ObstacleGrid into an OccupancyGrid (see the module docstring for the steps)."""
    cells = np.asarray(grid.cells)
    if cells.ndim != 2 or cells.size == 0:
        raise InputError(f"the obstacle grid is empty or not 2D (shape {cells.shape})")
    res = float(grid.resolution_m)
    state = fill_small_unknown_holes(cells, config.fill_hole_max_cells)
    if start is not None and config.free_start_radius_m > 0:
        rr, cc = np.mgrid[0 : state.shape[0], 0 : state.shape[1]]
        centres_x = grid.origin_xy[0] + (cc + 0.5) * res
        centres_y = grid.origin_xy[1] + (rr + 0.5) * res
        near = np.hypot(centres_x - start.x, centres_y - start.y) <= config.free_start_radius_m
        state[near & (state == UNKNOWN)] = FREE
    blocked = state == OBSTACLE
    if config.unknown_is_blocked:
        blocked |= state == UNKNOWN
    # The border is blocked too: nothing is known beyond the grid.
    padded = np.pad(~blocked, 1, constant_values=False)
    dist_cells = ndimage.distance_transform_edt(padded)[1:-1, 1:-1]
    clearance = np.maximum(dist_cells * res - 0.5 * res, 0.0).astype(np.float32)
    clearance[blocked] = 0.0
    traversable = clearance >= config.inflation_m
    return OccupancyGrid(
        state=state,
        blocked=blocked,
        clearance_m=clearance,
        traversable=traversable,
        origin_xy=np.asarray(grid.origin_xy, dtype=np.float64).copy(),
        resolution_m=res,
        config=config,
        max_height_m=None if grid.max_height_m is None else np.asarray(grid.max_height_m, np.float32),
    )


def occupancy_from_points(
    xyz: np.ndarray,
    config: OccupancyConfig = OccupancyConfig(),
    start: Pose2D | None = None,
    bounds_xy: tuple[float, float, float, float] | None = None,
) -> OccupancyGrid:
    """Build the grid straight from (N, 3) world map points, with the config's height bands."""
    og_config = ObstacleGridConfig(
        resolution_m=config.resolution_m, floor_band_m=config.floor_band_m, obstacle_band_m=config.height_band_m
    )
    if len(np.asarray(xyz).reshape(-1, 3)) == 0 and bounds_xy is None:
        raise InputError("the map has no points to build an occupancy grid from")
    return occupancy_from_obstacle_grid(obstacle_grid_from_points(xyz, og_config, bounds_xy), config, start)


def obstacle_grid_from_mask(
    obstacle: np.ndarray, origin_xy: np.ndarray, resolution_m: float, known: np.ndarray | None = None
) -> ObstacleGrid:
    """An ObstacleGrid from a boolean obstacle mask (e.g. ground-truth occupancy): the rest is FREE, or
    UNKNOWN where `known` is False."""
    obstacle = np.asarray(obstacle, dtype=bool)
    cells = np.full(obstacle.shape, FREE, np.uint8)
    if known is not None:
        cells[~np.asarray(known, dtype=bool)] = UNKNOWN
    cells[obstacle] = OBSTACLE
    zeros = np.zeros(obstacle.shape, np.int32)
    return ObstacleGrid(
        cells, np.asarray(origin_xy, np.float64), float(resolution_m), obstacle.astype(np.int32), zeros + (~obstacle)
    )

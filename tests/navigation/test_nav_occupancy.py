"""Occupancy grid: hole filling, unknown handling, clearance field, inflation, building from points."""

from __future__ import annotations

import numpy as np
from navgrids import RES, distance_to_obstacles, two_rooms

from core.stretch import STRETCH
from core.types import Pose2D
from mapping.obstacles import FREE, OBSTACLE, UNKNOWN, ObstacleGrid
from navigation.occupancy import (
    OccupancyConfig,
    fill_small_unknown_holes,
    occupancy_from_obstacle_grid,
    occupancy_from_points,
)


def _grid(cells: np.ndarray) -> ObstacleGrid:
    z = np.zeros(cells.shape, np.int32)
    return ObstacleGrid(cells.astype(np.uint8), np.zeros(2), RES, z, z)


def test_single_unknown_holes_in_free_floor_become_free_but_not_near_obstacles_or_border():
    cells = np.full((20, 20), FREE, np.uint8)
    cells[5, 5] = UNKNOWN  # isolated hole -> free
    cells[10, 10] = UNKNOWN  # hole next to an obstacle -> stays unknown
    cells[10, 11] = OBSTACLE
    cells[0, 7] = UNKNOWN  # on the border -> stays unknown
    cells[14:18, 14:18] = UNKNOWN  # a 16-cell unknown patch -> too big, stays unknown
    out = fill_small_unknown_holes(cells, max_cells=2)
    assert out[5, 5] == FREE
    assert out[10, 10] == UNKNOWN and out[0, 7] == UNKNOWN
    assert (out[14:18, 14:18] == UNKNOWN).all()
    assert (fill_small_unknown_holes(cells, 0) == cells).all()


def test_unknown_is_blocked_by_default_and_configurable():
    cells = np.full((60, 60), FREE, np.uint8)
    cells[:, 30:] = UNKNOWN
    blocked = occupancy_from_obstacle_grid(_grid(cells))
    assert not blocked.traversable[:, 30:].any()
    assert blocked.blocked[:, 30:].all()
    open_ = occupancy_from_obstacle_grid(_grid(cells), OccupancyConfig(unknown_is_blocked=False))
    assert open_.traversable[30, 35]


def test_clearance_field_and_inflation_keep_the_robot_radius_from_obstacles():
    canvas = two_rooms()
    occ = occupancy_from_obstacle_grid(canvas.grid())
    rr, cc = np.nonzero(occ.traversable)
    assert len(rr) > 1000
    centres = occ.cell_to_world(np.stack([rr, cc], axis=1))
    true_d = distance_to_obstacles(centres, canvas.mask, occ.origin_xy, RES)
    # the clearance field is the distance from cell centre to obstacle edge, within a cell's diagonal
    assert np.all(np.abs(true_d - occ.clearance_m[rr, cc]) <= RES * 0.71)
    assert true_d.min() >= STRETCH.base_radius_m
    # cells right next to a wall are blocked; the room centre has large clearance
    assert not occ.traversable[occ.world_to_cell([1.0, 0.2])[0][0], occ.world_to_cell([1.0, 0.2])[0][1]]
    assert occ.clearance_at(np.array([[2.2, 3.0]]))[0] > 0.7


def test_free_start_radius_clears_unknown_around_the_robot():
    cells = np.full((40, 40), UNKNOWN, np.uint8)
    cells[:, :5] = FREE
    start = Pose2D(1.0, 1.0)
    assert occupancy_from_obstacle_grid(_grid(cells), start=start).state[20, 20] == UNKNOWN
    occ = occupancy_from_obstacle_grid(_grid(cells), OccupancyConfig(free_start_radius_m=0.4), start=start)
    assert occ.state[20, 20] == FREE
    assert occ.state[20, 29] == UNKNOWN  # 0.45 m away


def test_grid_from_points_uses_the_height_band():
    xs, ys = np.meshgrid(np.arange(0, 3, 0.02), np.arange(0, 3, 0.02))
    floor = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)], axis=1)
    table = np.array([[1.5, 1.5, 0.7]])  # in the 0.1-1.5 m band -> obstacle
    lamp = np.array([[0.5, 2.5, 1.9]])  # above the band -> ignored
    occ = occupancy_from_points(np.concatenate([floor, table, lamp]), OccupancyConfig(), bounds_xy=(0, 0, 3, 3))
    r, c = occ.world_to_cell([1.5, 1.5])[0]
    assert occ.state[r, c] == OBSTACLE
    r, c = occ.world_to_cell([0.5, 2.5])[0]
    assert occ.state[r, c] == FREE
    high = occupancy_from_points(
        np.concatenate([floor, table, lamp]), OccupancyConfig(height_band_m=(0.1, 2.0)), bounds_xy=(0, 0, 3, 3)
    )
    assert high.state[r, c] == OBSTACLE

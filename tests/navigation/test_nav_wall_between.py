"""A wall between the base and the target must block the arm even when unknown space joins the wall to the
receptacle behind it (what a scan leaves when the gap between a wall and a cabinet was never seen)."""

from __future__ import annotations

import numpy as np

from core.types import Pose2D
from mapping.obstacles import obstacle_grid_from_points
from navigation.base_goal import choose_base_goal
from navigation.occupancy import occupancy_from_obstacle_grid


def _points() -> np.ndarray:
    """Two rooms split by a wall at y = 3.0 (2.4 m high); a 0.85 m cabinet against its far side at
    y = 3.15..3.6; the strip 3.05..3.15 between wall and cabinet never seen (no floor, no obstacle)."""
    pts = []
    xs = np.arange(0.0, 4.0, 0.025)
    for y in np.arange(0.0, 6.0, 0.025):  # floor, except the unseen strip and under the cabinet/wall
        if 2.95 <= y < 3.6:
            continue
        pts += [(x, y, 0.0) for x in xs]
    for z in np.arange(0.1, 2.4, 0.05):  # the wall
        pts += [(x, 3.0, z) for x in xs]
    for y in np.arange(3.15, 3.6, 0.025):  # the cabinet's top and front
        pts += [(x, y, 0.85) for x in np.arange(1.0, 3.0, 0.025)]
    for z in np.arange(0.1, 0.85, 0.05):
        pts += [(x, 3.15, z) for x in np.arange(1.0, 3.0, 0.025)]
    return np.asarray(pts, np.float32)


def test_base_goal_is_not_chosen_behind_a_wall():
    grid = obstacle_grid_from_points(_points())
    assert grid.max_height_m is not None
    rc = grid.world_to_cell([[2.0, 3.0], [2.0, 3.4]])
    assert grid.max_height_m[rc[0, 0], rc[0, 1]] >= 1.9  # the wall is tall (capped at 2 m: ceilings are left out)
    assert grid.max_height_m[rc[1, 0], rc[1, 1]] < 1.0  # the cabinet is not
    occ = occupancy_from_obstacle_grid(grid)
    target = np.array([2.0, 3.45, 0.9])  # an object on the cabinet, beyond the wall
    result = choose_base_goal(occ, Pose2D(2.0, 4.8, 0.0), target)
    assert result.success, result.reason
    assert result.goal.pose.y > 3.6  # parked in the cabinet's room, not on the other side of the wall
    assert all(g.pose.y > 3.0 for g in result.ranked)
    # From the other room the only poses that reach the object are behind the wall: refused.
    other = choose_base_goal(occ, Pose2D(2.0, 1.0, 0.0), target)
    assert not other.success


def _shelf_points() -> np.ndarray:
    """A room with a 1.05 m shelf (boards at 0.30, 0.66 and 1.05 m, x 1.0..2.0, y 3.0..3.4) against a wall
    at y = 3.5; the floor in front of it seen."""
    pts = []
    xs = np.arange(0.0, 3.0, 0.025)
    for y in np.arange(0.0, 3.0, 0.025):
        pts += [(x, y, 0.0) for x in xs]
    for z in np.arange(0.1, 2.4, 0.05):
        pts += [(x, 3.5, z) for x in xs]
    for zb in (0.30, 0.66, 1.05):
        for y in np.arange(3.0, 3.4, 0.025):
            pts += [(x, y, zb) for x in np.arange(1.0, 2.0, 0.025)]
    return np.asarray(pts, np.float32)


def test_an_object_inside_a_shelf_is_reachable_under_the_boards_above_it():
    occ = occupancy_from_obstacle_grid(obstacle_grid_from_points(_shelf_points()))
    target = np.array([1.5, 3.15, 0.36])  # a can on the lowest board: two boards above it, no wall between
    result = choose_base_goal(occ, Pose2D(1.5, 1.0, 0.0), target)
    assert result.success, result.reason
    assert result.goal.pose.y < 3.0  # in front of the shelf

"""Frontiers of a partly seen grid (navigation.frontiers): clusters, viewpoints, reachability, order."""

from __future__ import annotations

import numpy as np

from navigation.frontiers import FrontierConfig, find_frontiers, frontier_mask
from navigation.occupancy import obstacle_grid_from_mask, occupancy_from_obstacle_grid

RES = 0.05


def _grid(known_cols: int, rows: int = 80, solid: tuple[int, int] | None = None):
    """A rows x 120-cell room seen up to column `known_cols`; optionally a solid band of rows (a closed-off
    part of the home: no door, and thicker than a viewpoint's reach)."""
    obstacle = np.zeros((rows, 120), bool)
    obstacle[[0, -1], :] = True
    obstacle[:, [0, -1]] = True
    if solid is not None:
        obstacle[solid[0]:solid[1], :] = True
    known = np.zeros_like(obstacle)
    known[:, :known_cols] = True
    return occupancy_from_obstacle_grid(obstacle_grid_from_mask(obstacle, np.zeros(2), RES, known))


def test_the_edge_of_what_was_seen_is_one_reachable_frontier():
    occ = _grid(60)
    mask = frontier_mask(occ)
    assert mask[:, 59].sum() > 50 and not mask[:, :55].any()
    fronts = find_frontiers(occ, np.array([1.0, 2.0]))
    assert len(fronts) == 1 and fronts[0].reachable
    f = fronts[0]
    assert abs(f.centroid_xy[0] - 2.975) < 0.05 and f.gain_m > 2.5
    assert np.linalg.norm(f.viewpoint_xy - f.centroid_xy) <= FrontierConfig().max_view_distance_m + 1e-9
    assert 1.0 < f.travel_m < 3.5


def test_a_frontier_behind_a_closed_wall_is_listed_unreachable_and_last():
    occ = _grid(60, rows=160, solid=(60, 100))  # two rooms 2 m apart, no way between them
    fronts = find_frontiers(occ, np.array([1.0, 1.5]))  # the robot in the lower room
    assert [f.reachable for f in fronts] == [True, False]
    assert fronts[0].centroid_xy[1] < 3.0 and fronts[1].centroid_xy[1] > 5.0 and fronts[1].score(1.0) == 0.0


def test_region_and_small_clusters_are_filtered():
    occ = _grid(60)
    assert find_frontiers(occ, np.array([1.0, 2.0]), region=(0.0, 0.0, 2.0, 4.0)) == []
    assert find_frontiers(occ, np.array([1.0, 2.0]), FrontierConfig(min_cells=10_000)) == []

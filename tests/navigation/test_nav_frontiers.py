"""Frontiers of a partly seen grid (navigation.frontiers): clusters, viewpoints, reachability, order."""

from __future__ import annotations

import numpy as np

from mapping.obstacles import OBSTACLE
from navigation.frontiers import FrontierConfig, find_frontiers, frontier_mask
from navigation.lineofsight import segments_unobstructed
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


def test_a_viewpoint_sees_its_frontier_not_across_a_thin_wall():
    # Two rooms side by side, split by a one-cell wall with a door at the far end; the right room is seen
    # only near the wall (as if through the door). The cells nearest that frontier are just left of the
    # wall, but they do not see it: the viewpoint must be on the frontier's own side or look through the door.
    obstacle = np.zeros((80, 120), bool)
    obstacle[[0, -1], :] = True
    obstacle[:, [0, -1]] = True
    obstacle[:, 60] = True
    obstacle[70:79, 60] = False  # the door, near the top
    known = np.zeros_like(obstacle)
    known[:, :70] = True  # the left room and a 0.45 m strip of the right one
    occ = occupancy_from_obstacle_grid(obstacle_grid_from_mask(obstacle, np.zeros(2), RES, known))
    fronts = [f for f in find_frontiers(occ, np.array([1.0, 2.0])) if f.reachable]
    assert fronts
    for f in fronts:
        x, y = f.viewpoint_xy
        assert x > 3.05 or y > 3.45, f.viewpoint_xy  # right of the wall (x = 3.0-3.05 m) or level with the door
        nearest = f.cells[np.argmin(np.linalg.norm(occ.cell_to_world(f.cells) - f.viewpoint_xy, axis=1))]
        assert segments_unobstructed(occ, f.viewpoint_xy[None], occ.cell_to_world(nearest[None]),
                                     occ.state == OBSTACLE)[0]

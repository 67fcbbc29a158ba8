"""Planner on hand-made grids: rooms and doors, a closed room, snapping, the fine-grid fallback, quality."""

from __future__ import annotations

import time

import numpy as np
import pytest
from navgrids import RES, Canvas, apartment, distance_to_obstacles, two_rooms
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from core.stretch import STRETCH
from navigation.occupancy import occupancy_from_obstacle_grid
from navigation.planner import GridPlanner, PlannerConfig
from navigation.smoothing import densify


@pytest.fixture(scope="module")
def flat():
    canvas = apartment()
    return canvas, occupancy_from_obstacle_grid(canvas.grid())


def _assert_clear(points_xy, canvas, occ):
    d = distance_to_obstacles(densify(points_xy, 0.01), canvas.mask, occ.origin_xy, RES)
    assert d.min() >= STRETCH.base_radius_m, f"path comes {d.min():.3f} m from an obstacle"


def test_path_through_the_door_keeps_the_robot_radius():
    canvas = two_rooms()
    occ = occupancy_from_obstacle_grid(canvas.grid())
    res = GridPlanner().plan(occ, [1.0, 3.0], [5.0, 3.2])
    assert res.success, res.reason
    assert res.method == "roadmap"
    _assert_clear(res.points_xy, canvas, occ)
    # it crosses the wall x = 3 only through the door (y in 1.55..2.45)
    pts = densify(res.points_xy, 0.01)
    crossing = pts[np.abs(pts[:, 0] - 3.0) < 0.02]
    assert len(crossing) and np.all((crossing[:, 1] > 1.55) & (crossing[:, 1] < 2.45))


def test_no_door_means_a_clear_unreachable_result_fast():
    occ = occupancy_from_obstacle_grid(two_rooms(door=False).grid())
    t0 = time.perf_counter()
    res = GridPlanner().plan(occ, [1.0, 3.0], [5.0, 1.0])
    assert not res.success
    assert "not connected" in res.reason and "closed room" in res.reason
    assert time.perf_counter() - t0 < 1.0


def test_closed_closet_is_unreachable_and_other_rooms_are_reachable(flat):
    canvas, occ = flat
    planner = GridPlanner()
    closet = planner.plan(occ, [0.6, 0.6], [9.2, 7.2])
    assert not closet.success and "not connected" in closet.reason
    for goal in ([9.0, 5.0], [3.0, 6.5], [7.5, 2.5]):
        res = planner.plan(occ, [0.6, 0.6], goal)
        assert res.success, res.reason
        assert np.allclose(res.points_xy[-1], goal) and np.allclose(res.points_xy[0], [0.6, 0.6])
        _assert_clear(res.points_xy, canvas, occ)


def test_start_inside_an_obstacle_snaps_or_fails(flat):
    _, occ = flat
    planner = GridPlanner(PlannerConfig(snap_radius_m=0.3))
    near_wall = planner.plan(occ, [0.25, 3.0], [3.0, 3.0])  # 0.15 m from the wall: inside the inflation
    assert near_wall.success
    assert occ.is_traversable(near_wall.start_xy)[0]
    assert np.linalg.norm(near_wall.start_xy - [0.25, 3.0]) <= 0.3
    inside = planner.plan(occ, [1.6, 1.4], [3.0, 3.0])  # the middle of the table
    assert not inside.success and "start" in inside.reason and "0.30 m" in inside.reason
    goal_inside = planner.plan(occ, [3.0, 3.0], [1.6, 1.4])
    assert not goal_inside.success and "goal" in goal_inside.reason


def test_fine_grid_fallback_when_the_roadmap_cannot_connect():
    # A zig-zag corridor one robot wide; 1 m roadmap blocks cannot see through it.
    c = Canvas(6.0, 3.0)
    c.box(0, 0, 6, 0.1).box(0, 2.9, 6, 3).box(0, 0, 0.1, 3).box(5.9, 0, 6, 3)
    c.box(1.9, 0.0, 2.1, 2.3).box(3.9, 0.7, 4.1, 3.0)
    occ = occupancy_from_obstacle_grid(c.grid())
    res = GridPlanner(PlannerConfig(coarse_resolution_m=1.0, connect_radius_blocks=0)).plan(occ, [1.0, 1.0], [5.0, 2.0])
    assert res.success, res.reason
    assert res.method == "fine"
    _assert_clear(res.points_xy, c, occ)


def _grid_distances(occ, start_xy):
    """Shortest 8-connected path lengths over traversable cells from a start (independent of the planner)."""
    rows, cols = occ.shape
    trav = occ.traversable
    ids = np.arange(rows * cols).reshape(rows, cols)
    src, dst, w = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = np.zeros_like(trav)
        a[: rows - dr, max(0, -dc) : cols - max(0, dc)] = (
            trav[: rows - dr, max(0, -dc) : cols - max(0, dc)] & trav[dr:, max(0, dc) : cols + min(0, dc) or None]
        )
        r, cc = np.nonzero(a)
        src.append(ids[r, cc])
        dst.append(ids[r + dr, cc + dc])
        w.append(np.full(len(r), RES * np.hypot(dr, dc)))
    m = coo_matrix((np.concatenate(w), (np.concatenate(src), np.concatenate(dst))), shape=(rows * cols,) * 2)
    s = occ.world_to_cell(start_xy)[0]
    return dijkstra(m.tocsr(), directed=False, indices=int(ids[s[0], s[1]])).reshape(rows, cols)


def test_found_iff_connected_and_length_close_to_the_grid_optimum(flat):
    canvas, occ = flat
    planner = GridPlanner()
    # ground-truth free space for a disc robot, computed independently from the obstacle mask
    true_free = ndimage.distance_transform_edt(~canvas.mask) * RES - RES * 0.71 >= STRETCH.base_radius_m + 0.03
    rng = np.random.default_rng(0)
    start = np.array([0.6, 0.6])
    dist = _grid_distances(occ, start)
    labels, _ = ndimage.label(true_free, structure=np.ones((3, 3)))
    s_lab = labels[tuple(occ.world_to_cell(start)[0])]
    rr, cc = np.nonzero(true_free)
    pick = rng.choice(len(rr), 25, replace=False)
    for r, c in zip(rr[pick], cc[pick], strict=True):
        goal = occ.cell_to_world([[r, c]])[0]
        res = planner.plan(occ, start, goal)
        assert res.success == (labels[r, c] == s_lab), (goal, res.reason)
        if res.success:
            assert res.length_m <= 1.1 * dist[r, c] + 0.05

"""Navigation on generated apartments (sim.scene.generator) against ground-truth occupancy (sim.scene.ground_truth).

The planner input is the ground-truth obstacle mask as an ObstacleGrid. Checked: a path is found exactly
when the ground-truth free space (disc robot) connects start and goal; every path keeps the robot radius
from ground-truth obstacle cells; base goals put every reachable object within arm reach (core.stretch FK)
with the arm on the robot's right; closing a room's doors makes its targets unreachable with a clear
reason.
"""

from __future__ import annotations

import numpy as np
import pytest
from navgrids import distance_to_obstacles, fk_reach_error

from core.stretch import STRETCH
from core.types import Pose2D
from navigation.navigator import Navigator
from navigation.occupancy import obstacle_grid_from_mask
from navigation.smoothing import densify

generator = pytest.importorskip("sim.scene.generator")
ground_truth = pytest.importorskip("sim.scene.ground_truth")

SEEDS = (0, 1, 2, 3)


@pytest.fixture(scope="module", params=SEEDS)
def apartment(request):
    spec = generator.generate_scene(request.param)
    gt = ground_truth.occupancy_grid_full(spec, resolution_m=0.05)
    labels = ground_truth.free_components(gt, STRETCH.base_radius_m)
    grid = obstacle_grid_from_mask(gt.obstacle, gt.origin_xy, gt.resolution_m)
    return spec, gt, labels, grid, Navigator()


def _check_clear(points_xy, gt):
    """Every path point keeps the robot radius (a start already closer than that may only move away)."""
    d = distance_to_obstacles(densify(points_xy, 0.01), gt.obstacle, gt.origin_xy, gt.resolution_m)
    floor = min(STRETCH.base_radius_m, d[0])
    assert d.min() >= floor, f"path passes {d.min():.3f} m from an obstacle"
    assert d[np.argmax(d >= STRETCH.base_radius_m):].min() >= STRETCH.base_radius_m


def _start_component(spec, gt, labels) -> int:
    rc = gt.world_to_cell(spec.robot_start.xy)[0]
    lab = int(labels[rc[0], rc[1]])
    assert lab > 0, "the generator's robot start is not in ground-truth free space"
    return lab


def test_path_found_exactly_when_ground_truth_connects(apartment):
    spec, gt, labels, grid, nav = apartment
    home = _start_component(spec, gt, labels)
    rng = np.random.default_rng(7)
    rr, cc = np.nonzero(labels == home)
    orr, occ_ = np.nonzero((labels > 0) & (labels != home))
    n_found = 0
    for k in range(14):
        a = gt.cell_to_world([[rr[i], cc[i]] for i in rng.choice(len(rr), 1)])[0]
        if k % 4 == 3 and len(orr):  # a goal in another free component (closed space, outside the walls)
            b = gt.cell_to_world([[orr[i], occ_[i]] for i in rng.choice(len(orr), 1)])[0]
        else:
            b = gt.cell_to_world([[rr[i], cc[i]] for i in rng.choice(len(rr), 1)])[0]
        connected = ground_truth.component_at(gt, labels, b) == home
        res = nav.plan_to_pose(grid, Pose2D(*a), Pose2D(*b, 0.5))
        assert res.success == connected, res.reason
        if res.success:
            n_found += 1
            _check_clear(res.smoothed_xy, gt)
            assert np.allclose(res.waypoints[-1].xy, b, atol=0.08)
    assert n_found >= 8


def test_base_goals_reach_objects_with_the_arm_facing_them(apartment):
    spec, gt, labels, grid, nav = apartment
    home = _start_component(spec, gt, labels)
    ok = 0
    for obj in spec.objects:
        target = np.asarray(obj.position, np.float64)
        res = nav.plan_to_target(grid, spec.robot_start, target)
        if not res.success:
            assert "reach" in res.reason or "connected" in res.reason, res.reason
            continue
        ok += 1
        pose = res.base_goal.pose
        assert fk_reach_error(pose, target) < 0.03
        T_base_world = np.linalg.inv(pose.as_matrix())
        p = T_base_world[:3, :3] @ target + T_base_world[:3, 3]
        assert p[1] < -0.1 and abs(p[0]) < 0.05  # on the robot's right, level with the arm
        assert ground_truth.component_at(gt, labels, pose.xy) == home
        _check_clear(res.smoothed_xy, gt)
    assert ok >= 0.75 * len(spec.objects)


def test_targets_in_a_room_with_closed_doors_are_unreachable(apartment):
    spec, gt, labels, grid, nav = apartment
    start = spec.robot_start
    rooms = [r for r in spec.rooms if not (r.min[0] <= start.x <= r.max[0] and r.min[1] <= start.y <= r.max[1])]
    room = rooms[0]
    mask = gt.obstacle.copy()
    yy, xx = np.mgrid[0 : mask.shape[0], 0 : mask.shape[1]]
    cx, cy = gt.origin_xy[0] + (xx + 0.5) * gt.resolution_m, gt.origin_xy[1] + (yy + 0.5) * gt.resolution_m
    for door in spec.doors:
        if room.id in door.rooms:
            mask |= np.hypot(cx - door.center[0], cy - door.center[1]) <= door.width / 2 + 0.15
    closed = obstacle_grid_from_mask(mask, gt.origin_xy, gt.resolution_m)
    in_room = (cx > room.min[0]) & (cx < room.max[0]) & (cy > room.min[1]) & (cy < room.max[1])
    free = np.nonzero(in_room & (labels > 0))
    assert len(free[0]), "the room has no free floor"
    k = len(free[0]) // 2
    spot = gt.cell_to_world([[free[0][k], free[1][k]]])[0]
    # reachable through its doors in the original map, not once they are closed
    assert nav.plan_to_pose(grid, start, Pose2D(*spot)).success
    res = nav.plan_to_pose(closed, start, Pose2D(*spot))
    assert not res.success and "not connected" in res.reason
    res = nav.plan_to_target(closed, start, np.array([*spot, 0.5]))
    assert not res.success and "connected" in res.reason
    inside = [o for o in spec.objects
              if room.min[0] < o.position[0] < room.max[0] and room.min[1] < o.position[1] < room.max[1]]
    for obj in inside:
        assert not nav.plan_to_target(closed, start, np.asarray(obj.position)).success

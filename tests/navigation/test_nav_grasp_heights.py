"""Base goals for a short object on a high counter, from held-out apartment 2202 (the debugging apartment of
the "arm cannot reach" pick failures): the map sees the orange cup on the kitchen sink counter as one voxel
layer, 0.95-1.00 m, so the object's centre (0.975 m) lies just above the pitched-down wrist's range (at most
0.96 m at full lift), while the top-down grasps of it sit 0.93-0.96 m high. Parking for top-down grasps must
consider the object's heights, not only its centre, or the base only parks for level side grasps, which
cannot hold a cup this short deep on a surface (the gripper body hangs below the fingers). The cup is put
0.2 m in from the counter's front edge (where it stood, 0.5 m in with a wall behind the counter, no
pitched-down reach exists: that episode needs an oblique grasp)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.stretch import T_world_grasp
from navigation.base_goal import REACH_MODES, BaseGoalConfig
from navigation.navigator import NavigationConfig, Navigator
from navigation.occupancy import obstacle_grid_from_mask

generator = pytest.importorskip("sim.scene.generator")
ground_truth = pytest.importorskip("sim.scene.ground_truth")

SEEN_Z = 0.975  # the task machine's target height for the cup's hit (0.95-1.00 m)
SPAN = (0.90, 1.00)  # the hit's heights, its bottom lower than the map saw


@pytest.fixture(scope="module")
def kitchen():
    spec = generator.generate_scene(2202)
    gt = ground_truth.occupancy_grid_full(spec, resolution_m=0.05)
    grid = obstacle_grid_from_mask(gt.obstacle, gt.origin_xy, gt.resolution_m)
    cup = next(o for o in spec.objects if o.id == "cup_1")
    counter = spec.receptacle(cup.on)
    x, y, yaw = counter.pose
    surf = max(counter.surfaces, key=lambda s: s.pos[2])
    # The counter top's corners in the world, to find its front edge (the side away from the wall).
    c, s = math.cos(yaw), math.sin(yaw)
    corners = np.array([[x + c * (surf.pos[0] + u) - s * (surf.pos[1] + v), y + s * (surf.pos[0] + u) + c * (surf.pos[1] + v)]
                        for u in (-surf.size[0] / 2, surf.size[0] / 2) for v in (-surf.size[1] / 2, surf.size[1] / 2)])
    nav = Navigator(NavigationConfig(base_goal=BaseGoalConfig(modes=("down",), preferred_extension=0.35)))
    return spec, grid, cup, corners, nav


def test_a_short_object_on_a_high_counter_gets_a_top_down_parking_pose(kitchen):
    spec, grid, cup, corners, nav = kitchen
    front_x = corners[:, 0].max()  # the counter stands against the wall at its low-x side
    assert corners[:, 0].min() < cup.position[0] < front_x
    target = np.array([front_x - 0.2, cup.position[1], SEEN_Z])  # the cup 0.2 m in from the front edge
    centre_only = nav.plan_to_target(grid, spec.robot_start, target)
    assert not centre_only.success and "outside the arm's reach" in centre_only.reason
    res = nav.plan_to_target(grid, spec.robot_start, target, None, SPAN)
    assert res.success, res.reason
    goal = res.base_goal
    down = next(m for m in REACH_MODES if m.name == "down")
    assert goal.mode == "down"
    assert SPAN[0] <= goal.reach_xyz[2] <= down.height_range()[1]
    assert 0.93 <= goal.reach_xyz[2]  # as high as the top-down grasps of the cup go
    # Core FK of the goal's joints puts the grasp centre on the reach point, over the target.
    p = T_world_grasp(goal.pose, goal.joints)[:3, 3]
    assert np.linalg.norm(p - goal.reach_xyz) < 0.01
    assert np.linalg.norm(goal.reach_xyz[:2] - target[:2]) < 1e-6
    assert goal.pose.x > front_x  # in front of the counter (a wall stands behind it)



def test_the_top_down_reach_the_base_goal_parks_for_is_one_the_ik_solves():
    """The base goal's pitched-down mode counts on the gripper turned outwards (4.5 cm more reach than at
    wrist yaw 0); the IK must try that yaw, or a pick parked for near full extension fails with "arm cannot
    reach: needs 0.52 m" (held-out apartment 5109's banana)."""
    from core.geometry import rot_x
    from core.types import Pose2D
    from grasping.kinematics import solve_ik

    down = next(m for m in REACH_MODES if m.name == "down")
    cfg = BaseGoalConfig()
    lateral = down.lateral_range()[1] - cfg.lateral_margin_m  # the farthest the base goal parks for
    base = Pose2D(1.0, 2.0, 0.3)
    T = T_world_grasp(base, down.joints_for(lateral, 0.8))
    T_top = T.copy()  # the same point, approached straight down, the closing axis turned 1 rad
    T_top[:3, :3] = T[:3, :3] @ rot_x(1.0)
    assert T_top[2, 0] < -0.999
    r = solve_ik(T_top, base)
    assert r.ok, r.reason
    assert np.linalg.norm(r.solution.T_world_grasp[:3, 3] - T[:3, 3]) < 0.01

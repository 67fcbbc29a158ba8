"""Base goals: the arm (to the robot's right) reaches the target, checked with core.stretch FK."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from navgrids import Canvas, apartment, fk_reach_error

from core.stretch import STRETCH
from core.types import Pose2D
from navigation.base_goal import REACH_MODES, BaseGoalConfig, choose_base_goal
from navigation.occupancy import occupancy_from_obstacle_grid

START = Pose2D(0.6, 0.6, 0.0)


@pytest.fixture(scope="module")
def occ():
    return occupancy_from_obstacle_grid(apartment().grid())


def test_reach_modes_match_the_stretch_fk():
    straight = {m.name: m for m in REACH_MODES}["straight"]
    lo, hi = straight.lateral_range()
    assert lo == pytest.approx(0.415, abs=0.01) and hi == pytest.approx(0.935, abs=0.01)
    assert straight.forward_m == pytest.approx(-0.02, abs=0.01)


@pytest.mark.parametrize(
    "target",
    [(1.6, 1.4, 0.75), (1.0, 1.2, 0.75), (7.0, 0.6, 0.90), (6.9, 5.4, 0.45), (3.0, 3.0, 0.03), (8.5, 2.0, 1.1)],
)
def test_chosen_pose_reaches_the_target_with_the_arm_on_the_right(occ, target):
    res = choose_base_goal(occ, START, np.array(target))
    assert res.success, res.reason
    g = res.goal
    # the FK of some lift/arm values within limits puts the grasp centre on the target
    assert fk_reach_error(g.pose, target) < 0.03
    assert STRETCH.limits.within(g.joints)
    # the arm faces the target: it is on the robot's right (-y of the base), beside the base, not ahead
    T_base_world = np.linalg.inv(g.pose.as_matrix())
    p = T_base_world[:3, :3] @ np.asarray(target) + T_base_world[:3, 3]
    assert p[1] < -0.1 and abs(p[0]) < 0.05
    # the base is free, clear of obstacles and connected to the robot
    assert occ.is_traversable(g.pose.xy)[0]
    assert occ.component_of(g.pose.xy)[0] == occ.component_of(START.xy)[0]
    # it is the best-scoring feasible candidate
    c = res.candidates
    assert len(c) > 100 and g.score == pytest.approx(c.scores[c.feasible].max())


def test_extent_lets_the_arm_reach_any_point_of_a_large_receptacle(occ):
    centre, extent = np.array([1.6, 1.4, 0.75]), np.array([1.2, 0.8, 0.75])
    res = choose_base_goal(occ, START, centre, extent=extent)
    assert res.success, res.reason
    reach = res.goal.reach_xyz
    assert np.all(np.abs(reach[:2] - centre[:2]) <= extent[:2] / 2)
    assert fk_reach_error(res.goal.pose, reach) < 0.03


def test_unreachable_targets_say_why(occ):
    closet = choose_base_goal(occ, START, np.array([9.2, 7.2, 0.5]))
    assert not closet.success and "none is connected to the robot" in closet.reason
    high = choose_base_goal(occ, START, np.array([3.0, 3.0, 2.0]))
    assert not high.success and "height" in high.reason
    # the middle of a 2 m x 2 m block: every pose within arm reach is inside the block
    c = Canvas(6.0, 6.0).box(2.0, 2.0, 4.0, 4.0)
    block = occupancy_from_obstacle_grid(c.grid())
    far = choose_base_goal(block, Pose2D(0.7, 0.7), np.array([3.0, 3.0, 0.5]))
    assert not far.success and "no free base pose within arm reach" in far.reason
    assert len(far.candidates) > 0 and not far.candidates.traversable.any()
    # a target on the block's edge is reachable; 0.5 m into the block is beyond the pitched-down reach
    edge = choose_base_goal(block, Pose2D(0.7, 0.7), np.array([3.0, 2.1, 0.5]))
    assert edge.success and edge.goal.pose.y < 2.0
    down_only = choose_base_goal(block, Pose2D(0.7, 0.7), np.array([3.0, 2.5, 0.5]), config=BaseGoalConfig(modes=("down",)))
    assert not down_only.success  # 0.5 m into the block is beyond the pitched-down reach (0.64 m - radius)


def test_heading_is_perpendicular_to_the_base_target_direction(occ):
    res = choose_base_goal(occ, START, np.array([7.0, 0.6, 0.9]))
    g = res.goal
    d = np.asarray([7.0, 0.6]) - g.pose.xy
    heading = np.array([math.cos(g.pose.theta), math.sin(g.pose.theta)])
    assert abs(float(heading @ d)) / np.linalg.norm(d) < 0.06


def _long_table_grid():
    """A 5 x 5 m room with a 2 m long table (x 1.5..3.5, y 2..3, top 0.75 m) in the middle."""
    from mapping.obstacles import obstacle_grid_from_points

    pts = [(x, y, 0.0) for y in np.arange(0.0, 5.0, 0.025) for x in np.arange(0.0, 5.0, 0.025)]
    pts += [(x, y, 0.75) for y in np.arange(2.0, 3.0, 0.025) for x in np.arange(1.5, 3.5, 0.025)]
    return occupancy_from_obstacle_grid(obstacle_grid_from_points(np.asarray(pts, np.float32)))


def test_parks_side_on_along_the_middle_of_a_long_table_by_driving_in_along_its_edge():
    """A mug 40 cm in from the middle of the table's long edge: top-down it is only reachable with the base
    closer to the table than the planner's 0.24 m disc allows, and there the base cannot turn. The base
    rectangle fits (0.18 m each side), and the robot gets there straight along the edge from beyond the
    table's end."""
    from navigation.navigator import Navigator

    grid = _long_table_grid()
    target = np.array([2.5, 2.405, 0.80])
    start = Pose2D(2.5, 0.5, 0.0)
    cfg = BaseGoalConfig(modes=("down",), tight_parking=True)
    assert not choose_base_goal(grid, start, target, config=BaseGoalConfig(modes=("down",))).success  # default
    res = choose_base_goal(grid, start, target, config=cfg)
    assert res.success, res.reason
    goal = res.goal.pose
    assert fk_reach_error(goal, target) < 0.03
    assert not grid.is_traversable(goal.xy)[0]  # inside the disc inflation...
    assert res.goal.clearance_m >= 0.181 + 0.03 - 1e-6  # ...but the rectangle keeps its margin
    assert abs(math.sin(goal.theta)) < 0.2  # parallel to the long edge (the arm faces the table)
    nav = Navigator()
    plan = nav.plan_to_pose(grid, start, goal)
    assert plan.success, plan.reason
    last, before = plan.waypoints[-1], plan.waypoints[-2]
    assert last.distance_to(goal) < 1e-6
    # the last stretch is straight along the goal's heading, from a point with room to turn
    d = np.subtract(last.xy, before.xy)
    assert abs(math.remainder(math.atan2(d[1], d[0]) - goal.theta, math.pi)) < 0.05
    assert abs(math.remainder(before.theta - goal.theta, 2 * math.pi)) < 1e-6
    assert grid.clearance_at(before.xy)[0] >= 0.338 + 0.03


@pytest.mark.parametrize("heading", [0.0, math.pi / 2, -2.5])
def test_an_arm_heading_parks_with_the_arm_along_it(occ, heading):
    """A side grasp planned from the object's points (grasping.approaches) comes in along its approach
    heading: every ranked goal points the arm within the tolerance of it, and still reaches the target."""
    from dataclasses import replace

    target = np.array([1.6, 1.4, 0.75])
    free = choose_base_goal(occ, START, target, config=replace(BaseGoalConfig(), modes=("straight",)))
    cfg = replace(BaseGoalConfig(), modes=("straight",), arm_heading=heading, arm_heading_tolerance_rad=0.3)
    res = choose_base_goal(occ, START, target, config=cfg)
    assert res.success, res.reason
    for g in res.ranked:
        arm = g.pose.theta - math.pi / 2
        assert abs(math.remainder(arm - heading, 2 * math.pi)) <= 0.3 + 1e-6
        assert fk_reach_error(g.pose, target) < 0.03
    # without the heading the best goals point the arm every which way
    arms = [abs(math.remainder(g.pose.theta - math.pi / 2 - heading, 2 * math.pi)) for g in free.ranked]
    assert max(arms) > 0.3


def test_an_object_deep_on_a_counter_against_a_wall_is_reached_at_the_arms_farthest_extension():
    """A 1 m deep counter against a wall, a mug 64 cm in from its only free edge (held-out apartment 10162):
    only the arm's farthest lateral reach (its range less the margin, whatever the sampling step) gets
    there from where the base fits against the edge."""
    pts = [(x, y, 0.0) for y in np.arange(0.0, 5.0, 0.025) for x in np.arange(0.0, 5.0, 0.025)]
    pts += [(x, y, 0.75) for y in np.arange(2.0, 3.0, 0.025) for x in np.arange(1.0, 4.0, 0.025)]
    pts += [(x, y, 1.5) for y in np.arange(3.0, 3.1, 0.025) for x in np.arange(0.0, 5.0, 0.025)]
    from mapping.obstacles import obstacle_grid_from_points

    grid = occupancy_from_obstacle_grid(obstacle_grid_from_points(np.asarray(pts, np.float32)))
    target = np.array([2.5, 2.64, 0.80])
    cfg = BaseGoalConfig(modes=("straight",), tight_parking=True)
    res = choose_base_goal(grid, Pose2D(2.5, 0.5, 0.0), target, config=cfg)
    assert res.success, res.reason
    lo, hi = {m.name: m for m in REACH_MODES}["straight"].lateral_range()
    assert res.goal.lateral_m == pytest.approx(hi - cfg.lateral_margin_m)
    assert fk_reach_error(res.goal.pose, target) < 0.03 and STRETCH.limits.within(res.goal.joints)
    assert res.goal.pose.y < 2.0 - 0.18  # south of the counter, the base's side against its edge
    # the 5 cm grid alone stops 4 cm short of it: no pose
    grid_only = choose_base_goal(grid, Pose2D(2.5, 0.5, 0.0), target, config=replace(cfg, farthest_reach=False))
    assert not grid_only.success

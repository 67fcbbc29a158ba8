"""Leaving a pose that already sits inside the footprint margin (navigation.footprint.leaving): after a pick
nudged the base, or a stop a little off the goal, the outline can be 2.5 cm from a counter without touching
it. Every turn and straight drive from there used to count as blocked, so the robot swung its back into
furniture (or gave up); now it may move away as long as it comes no closer to anything than it already is."""

from __future__ import annotations

import math

import numpy as np
from navgrids import Canvas

from core.types import Pose2D
from navigation.footprint import Footprint, leaving, outline_clearance, poses_clear
from navigation.maneuvers import escape_point
from navigation.navigator import NavigationConfig, Navigator
from navigation.occupancy import OccupancyConfig, occupancy_from_obstacle_grid

FP = Footprint()
START = Pose2D(1.5, 1.0, 0.0)  # facing a counter whose edge is one cell beyond the base's front


def _counter_in_front():
    """A 4 m room; a counter just in front of the robot (its front edge at x = 1.558 m, the counter's at 1.60)
    and a cabinet behind-left of it."""
    c = Canvas(4.0, 4.0)
    c.hwall(0.05, 0, 4).hwall(3.95, 0, 4).vwall(0.05, 0, 4).vwall(3.95, 0, 4)
    c.box(1.60, 0.6, 1.9, 1.4)
    c.box(0.9, 1.25, 1.4, 1.5)
    return occupancy_from_obstacle_grid(c.grid(), OccupancyConfig())


def test_a_start_inside_the_margin_may_leave_without_coming_closer():
    occ = _counter_in_front()
    have = outline_clearance(occ, START.xy, START.theta, FP)
    assert 0.01 < have < FP.margin_m  # inside the margin, not touching
    assert not poses_clear(occ, START.xy[None], np.array([START.theta]), FP)[0]
    leave = leaving(occ, START.xy, START.theta, FP)
    assert leave.margin_m < have and leave.margin_m >= 0.01
    assert poses_clear(occ, START.xy[None], np.array([START.theta]), leave)[0]
    # Driving into the counter is still blocked under the relaxed margin.
    ahead = START.xy + np.array([0.05, 0.0])
    assert not poses_clear(occ, ahead[None], np.array([START.theta]), leave)[0]


def test_a_clear_or_overlapping_start_keeps_the_full_margin():
    occ = _counter_in_front()
    assert leaving(occ, np.array([2.5, 2.5]), 0.0, FP) == FP  # nothing near
    overlapping = Pose2D(1.55, 1.0, 0.0)  # the front edge is inside the counter's cells
    assert outline_clearance(occ, overlapping.xy, overlapping.theta, FP) == 0.0
    assert leaving(occ, overlapping.xy, overlapping.theta, FP) == FP


def test_the_robot_backs_out_to_a_spot_that_meets_the_full_margin():
    occ = _counter_in_front()
    d = NavigationConfig().escape_distances_m
    toward = np.array([1.0, 3.0])
    assert escape_point(occ, START, toward, d, FP) is None  # every drive from the start "touches"
    e = escape_point(occ, START, toward, d, FP, leave_fp=leaving(occ, START.xy, START.theta, FP))
    assert e is not None
    assert np.dot(e - START.xy, [math.cos(START.theta), math.sin(START.theta)]) < 0  # behind: away from the counter
    assert poses_clear(occ, e[None], np.array([START.theta]), FP)[0]


def test_a_plan_from_inside_the_margin_has_no_blocked_start_turn():
    occ = _counter_in_front()
    for goal in (Pose2D(1.0, 3.0, math.pi / 2), Pose2D(0.6, 0.6, math.pi), Pose2D(3.0, 3.0, 0.0)):
        r = Navigator().plan_to_pose(occ, START, goal)
        assert r.success, r.reason
        assert -1 not in r.blocked_turns and r.blocked_turns == []
        # Each waypoint pose after the start meets the full margin again.
        later = [w for w in r.waypoints if math.hypot(w.x - START.x, w.y - START.y) > 0.01]
        assert poses_clear(occ, np.array([w.xy for w in later]), np.array([w.theta for w in later]), FP).all()

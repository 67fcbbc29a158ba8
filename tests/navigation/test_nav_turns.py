"""Turns in place as the base makes them: a waypoint more than 90 degrees off the heading is reached by the
smaller turn and backing up (sim.base_motion.drive_to), so that is the sweep to check; where it touches, the
base turns in place the clear way first (navigation.maneuvers.clear_start_turn)."""

from __future__ import annotations

import math

import numpy as np
from navgrids import Canvas

from core.stretch import drive_heading
from core.types import Pose2D, wrap_angle
from navigation.footprint import Footprint, poses_clear, turn_clear
from navigation.maneuvers import arc_clear, clear_start_turn, turn_checks
from navigation.navigator import Navigator
from navigation.occupancy import OccupancyConfig, occupancy_from_obstacle_grid

FP = Footprint()
START = Pose2D(1.5, 1.0, 0.0)
BEHIND_LEFT = np.array([0.6, 1.8])  # 138 degrees off the heading: drive_to turns -42 degrees and backs up


def _room_with_a_box():
    """A 4 m room; a 30 x 10 cm box just behind-left of the robot's back, where its back-left corner swings
    when it turns clockwise (the turn that backs up towards BEHIND_LEFT), not when it turns anticlockwise."""
    c = Canvas(4.0, 4.0)
    c.hwall(0.05, 0, 4).hwall(3.95, 0, 4).vwall(0.05, 0, 4).vwall(3.95, 0, 4)
    c.box(1.0, 1.25, 1.3, 1.35)
    return c.grid()


def _executed_sweep_clear(occ, start: Pose2D, waypoints: list[Pose2D]) -> bool:
    """Every pose of the turns drive_to makes along the waypoints (2 degree steps) is clear."""
    x, y, h = start.x, start.y, start.theta
    ok = True

    def sweep(a0: float, a1: float) -> bool:
        d = wrap_angle(a1 - a0)
        n = max(int(math.ceil(abs(d) / math.radians(2.0))), 1)
        th = a0 + d * np.arange(n + 1) / n
        return bool(poses_clear(occ, np.repeat([[x, y]], n + 1, axis=0), th, FP).all())

    for w in waypoints:
        if math.hypot(w.x - x, w.y - y) > 0.01:
            t = drive_heading(h, math.atan2(w.y - y, w.x - x))
            ok = ok and sweep(h, t)
            h, x, y = t, w.x, w.y
        ok = ok and sweep(h, w.theta)
        h = w.theta
    return ok


def test_the_turn_checked_is_the_one_the_base_makes_backing_up():
    occ = occupancy_from_obstacle_grid(_room_with_a_box(), OccupancyConfig())
    travel = math.atan2(BEHIND_LEFT[1] - START.y, BEHIND_LEFT[0] - START.x)
    assert math.degrees(travel) > 90
    assert drive_heading(START.theta, travel) == wrap_angle(travel + math.pi)  # it backs up
    # Facing the waypoint (the old check) sweeps clear; the turn it really makes (clockwise) does not.
    assert turn_clear(occ, START.xy, START.theta, travel, FP)
    assert not turn_clear(occ, START.xy, START.theta, drive_heading(START.theta, travel), FP)
    checks = dict(turn_checks(occ, START, [Pose2D(*BEHIND_LEFT, travel)], FP))
    assert checks[-1] is False


def test_a_touching_start_turn_is_replaced_by_the_clear_way_round():
    occ = occupancy_from_obstacle_grid(_room_with_a_box(), OccupancyConfig())
    headings = clear_start_turn(occ, START, BEHIND_LEFT, FP)
    assert headings is not None
    travel = math.atan2(BEHIND_LEFT[1] - START.y, BEHIND_LEFT[0] - START.x)
    # Anticlockwise to face it and drive forwards (the clockwise backing-up turn touches the box).
    assert abs(wrap_angle(headings[-1] - travel)) < 1e-9
    steps = np.diff(np.unwrap([START.theta, *headings]))
    assert np.all(steps > 0) and np.all(steps <= math.radians(100.0) + 1e-9)
    assert arc_clear(occ, START.xy, START.theta, float(steps.sum()), FP)
    turns = [Pose2D(START.x, START.y, h) for h in headings]
    assert _executed_sweep_clear(occ, START, [*turns, Pose2D(*BEHIND_LEFT, travel)])
    assert not _executed_sweep_clear(occ, START, [Pose2D(*BEHIND_LEFT, travel)])


def test_no_clear_turn_is_none():
    c = Canvas(2.0, 2.0)
    c.box(0.0, 0.0, 2.0, 0.75).box(0.0, 1.25, 2.0, 2.0)  # a 50 cm corridor: no room to turn at all
    occ = occupancy_from_obstacle_grid(c.grid(), OccupancyConfig())
    assert clear_start_turn(occ, Pose2D(1.0, 1.0, 0.0), np.array([1.0, 1.8]), FP) is None


def test_the_navigator_turns_the_clear_way_before_driving_off():
    """A goal ahead-right: drive_to's one clockwise turn swings the base's back into the box; the plan turns
    anticlockwise in place first (to back up towards it), and every turn it then makes is clear."""
    grid = _room_with_a_box()
    nav = Navigator()
    occ = nav.occupancy(grid)
    goal = Pose2D(1.9, 0.7, 0.0)
    assert not _executed_sweep_clear(occ, START, [goal])  # what driving there directly would do
    res = nav.plan_to_pose(grid, START, goal)
    assert res.success and "turning in place" in res.reason, res.reason
    assert res.blocked_turns == []
    assert all(np.allclose(w.xy, START.xy) for w in res.waypoints[:-1])
    assert _executed_sweep_clear(occ, START, res.waypoints), [w.to_list() for w in res.waypoints]

"""A start the planner snaps out of blocked space (the base centre a few cm inside a sofa's inflation, where
a pick or a stop left it). Driving to the snapped point first made a differential base turn up to 90 degrees
on the spot to move 3 cm sideways, and that turn is what touched the sofa in evaluation episodes (10343:1,
10364:0 of `ovmm eval --seed 10300`)."""

from __future__ import annotations

import math

import numpy as np
from navgrids import Canvas

from core.types import Pose2D
from navigation.footprint import Footprint, poses_clear
from navigation.navigator import NavigationConfig, Navigator
from navigation.occupancy import OccupancyConfig, occupancy_from_obstacle_grid

FP = Footprint()
GOAL = Pose2D(3.5, 3.0, 0.0)


def _room_with_a_sofa():
    c = Canvas(4.0, 4.0)
    c.hwall(0.05, 0, 4).hwall(3.95, 0, 4).vwall(0.05, 0, 4).vwall(3.95, 0, 4)
    c.box(1.0, 1.0, 3.0, 1.3)
    return occupancy_from_obstacle_grid(c.grid(), OccupancyConfig())


def _drives(start: Pose2D, waypoints: list[Pose2D]) -> list[float]:
    """Lengths of the straight drives between consecutive positions (heading-only waypoints skipped)."""
    xy = [start.xy] + [w.xy for w in waypoints]
    d = [float(np.hypot(*(b - a))) for a, b in zip(xy, xy[1:], strict=False)]
    return [v for v in d if v > 0.01]


def test_a_start_snapped_a_few_cm_is_not_driven_to_first():
    occ = _room_with_a_sofa()
    start = Pose2D(1.975, 1.545, 0.0)  # 3 cm below the first traversable cell, facing along the sofa
    assert not occ.is_traversable(start.xy[None])[0]
    old = Navigator(NavigationConfig(snap_drive_min_m=0.0)).plan_to_pose(occ, start, GOAL)
    new = Navigator().plan_to_pose(occ, start, GOAL)
    assert old.success and new.success, (old.reason, new.reason)
    # Before: a 3 cm drive sideways to the snapped cell centre (a 90 degree turn to make it) comes first.
    assert min(_drives(start, old.waypoints)) < 0.05
    turn = abs(math.degrees(old.waypoints[0].theta - start.theta))
    assert turn > 60
    # Now the first drive is the path's own first leg, from where the robot stands.
    assert min(_drives(start, new.waypoints)) > 0.3
    assert new.blocked_turns == []


def test_a_longer_snap_whose_turn_touches_is_planned_on_from_the_snapped_pose():
    occ = _room_with_a_sofa()
    start = Pose2D(2.0, 1.5, 0.0)  # 8 cm from the snapped cell centre; its outline 2.5 cm from the sofa
    r = Navigator().plan_to_pose(occ, start, GOAL)
    assert r.success, r.reason
    assert "snapped out of blocked space" in r.reason
    assert r.blocked_turns == []
    snap = r.waypoints[1]
    assert 0.05 < float(np.hypot(*(snap.xy - start.xy))) < 0.1
    # From the snapped point on, every pose keeps the full margin.
    later = r.waypoints[1:]
    assert poses_clear(occ, np.array([w.xy for w in later]), np.array([w.theta for w in later]), FP).all()

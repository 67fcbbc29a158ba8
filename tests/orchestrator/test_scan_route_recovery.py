"""A scan that backed up to a stop gets clear of what is behind it (issue 13).

Apartment 10521 (`ovmm eval --seed 10521 --scan-route ground-truth`): the route's third stop is reached
backing up north, the base's rear 4 cm from the sofa's seat. Every turn towards the next stop swings the
rear corners (0.34 m from the wheel axis) into the sofa, and the recovery only stepped back (into the sofa)
or diagonally (another turn), so the robot stayed there and 38 of the 41 stops failed: half the apartment
was never seen and all three of its episodes ended "not in the map". Stepping straight ahead comes next
after stepping back now.
"""

from __future__ import annotations

import math

import pytest

from core.types import Pose2D
from orchestrator.scanning import robot_walkthrough_frames, travel_goal
from sim.backends import simulated_robot
from sim.scene.generator import generate_scene
from sim.scene.walkthrough import ScanStop, scan_route


@pytest.fixture(scope="module")
def apartment_10521():
    return generate_scene(10521)


def _drive(robot, stops) -> list[int]:
    failed: list[int] = []
    # No head pans: only the driving (and its recovery) runs, no frames are rendered.
    bare = [ScanStop(s.pose, (), s.head_tilt) for s in stops]
    for _ in robot_walkthrough_frames(robot, bare, lambda i, _r: failed.append(i)):
        pass
    return failed


def test_the_whole_scan_route_of_apartment_10521_is_driven(apartment_10521):
    stops = scan_route(apartment_10521)
    with simulated_robot(apartment_10521) as robot:
        failed = _drive(robot, stops)
        assert failed == [], f"stops not reached: {failed}"
        assert robot.get_base_pose().distance_to(stops[-1].pose) < 0.1


def test_the_stop_by_the_sofa_is_reached_backing_up_and_left_going_ahead(apartment_10521):
    stops = scan_route(apartment_10521)
    with simulated_robot(apartment_10521) as robot:
        assert _drive(robot, stops[:3]) == []
        here = robot.get_base_pose()
        # It backed up to the stop: the heading points away from the way it came (south, the sofa behind).
        assert abs(here.theta + math.pi / 2) < 0.1, here
        # The plain move to the next stop turns first, and the turn hits the sofa.
        plain = robot.move_base_to(travel_goal(here, stops[3].pose))
        assert not plain.success and "sofa" in plain.reason, plain.reason
        assert _drive(robot, stops[3:4]) == []
        assert robot.get_base_pose().distance_to(Pose2D(*stops[3].pose.xy, 0.0)) < 0.1

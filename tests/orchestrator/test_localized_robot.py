"""The localising robot (orchestrator.localized_robot) on the simulated Stretch with drifting odometry.

Real components throughout: a generated apartment in MuJoCo, the simulated A1 lidar with its noise, the
odometry error model of sim.realism (amplified here, so that odometry alone visibly fails), scan matching
and open3d ICP. Checked: a map built while driving keeps the pose within a few centimetres where odometry
alone drifts; in a saved map the robot relocalises with no initial guess, drives to goals in the map frame and
reports frames posed in it; a robot carried to another room is found again; a robot without a lidar and a
map with nothing to localise against give one clear error.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from core.errors import InputError, RobotError
from core.types import Pose2D
from navigation.localization import compose, inverse
from navigation.scan_matching import ScanMap

generator = pytest.importorskip("sim.scene.generator")
from orchestrator.commands.localize import scan_map_from_scene  # noqa: E402
from orchestrator.localized_robot import LocalizedRobot, localized_in_map  # noqa: E402
from orchestrator.scanning import travel_goal  # noqa: E402
from sim.backends import make_world, simulated_robot  # noqa: E402
from sim.config import SimConfig  # noqa: E402
from sim.realism import LidarConfig, OdometryNoise, RealismConfig  # noqa: E402
from sim.scene.walkthrough import ScanRouteConfig, scan_route  # noqa: E402

SMALL = SimConfig(camera_width=96, camera_height=72)
# Twice the realistic profile's wheel-odometry error: tens of centimetres over one apartment.
DRIFT = RealismConfig(name="drift", seed=3, odometry=OdometryNoise(rot_per_rad=0.04, rot_per_m=0.02, trans_per_m=0.04),
                      lidar=LidarConfig())
DRIFT = replace(DRIFT, depth=replace(DRIFT.depth, enabled=False), perception=replace(DRIFT.perception, enabled=False),
                arm=replace(DRIFT.arm, enabled=False))


@pytest.fixture(scope="module")
def apartment():
    spec = generator.generate_scene(2)
    world = make_world(spec, SMALL)
    yield spec, world, scan_map_from_scene(spec)
    world.close()


def _reset(world, spec):
    world.set_robot_state(spec.robot_start, world.joints)


def test_map_built_while_driving_keeps_the_pose(apartment):
    spec, world, _ = apartment
    _reset(world, spec)
    stops = scan_route(spec, ScanRouteConfig())[:10]
    with simulated_robot(world=world, realism=DRIFT) as sim:
        robot = LocalizedRobot(sim, None)
        errors, odo_errors = [], []
        for stop in stops:
            robot.move_base_to(travel_goal(robot.get_base_pose(), stop.pose))
            true = sim.true_base_pose()
            errors.append(true.distance_to(robot.get_base_pose()))
            odo_errors.append(true.distance_to(sim.get_base_pose()))
    assert robot.log.tracks >= len(stops) - 1
    assert max(odo_errors) > 0.15, odo_errors  # the drift is real ...
    assert max(errors) < 0.15, errors  # ... and the scan map built on the way removes most of it
    assert float(np.median(errors)) < 0.05, errors  # the tracking targets: 5 cm median, 15 cm max
    assert len(robot.growing) > 500


def test_relocalises_in_a_saved_map_and_drives_in_its_frame(apartment):
    spec, world, scan_map = apartment
    _reset(world, spec)
    with simulated_robot(world=world, realism=DRIFT) as sim:
        robot = LocalizedRobot(sim, scan_map)
        ans = robot.localise()  # no initial guess
        assert ans.localised, ans.reason
        assert robot.get_base_pose().distance_to(sim.true_base_pose()) < 0.10
        start = sim.true_base_pose()
        goals = [travel_goal(start, p.pose) for p in scan_route(spec, ScanRouteConfig())[1:6]]
        misses = []
        for g in goals:
            res = robot.move_base_to(g)
            if res.success:
                misses.append(sim.true_base_pose().distance_to(g))
        assert len(misses) >= 3
        assert max(misses) < 0.10, misses  # where the map says, not where the odometry believes
        obs = robot.observe()
        # The frame is posed in the map: its camera sits above the true base, not the odometry's.
        cam_xy = np.asarray(obs.frame.T_world_cam)[:2, 3]
        assert np.linalg.norm(cam_xy - sim.true_base_pose().xy) < 0.35
        assert obs.base_pose.distance_to(sim.true_base_pose()) < 0.10
        assert obs.scan is not None and obs.scan.pose.distance_to(sim.true_base_pose()) < 0.4


def test_carried_to_another_room_is_found_again(apartment):
    spec, world, scan_map = apartment
    _reset(world, spec)
    stops = scan_route(spec, ScanRouteConfig())
    far = max(stops, key=lambda s: s.pose.distance_to(spec.robot_start)).pose
    with simulated_robot(world=world, realism=DRIFT) as sim:
        robot = LocalizedRobot(sim, scan_map)
        robot.localise()
        # Kidnapped: carried to the farthest scan stop; the wheels did not turn, so the odometry still reports
        # where it was (the odometry model's odom -> true transform jumps by the carry).
        reported = sim.get_base_pose()
        carried = Pose2D(far.x, far.y, far.theta + 1.0)
        world.set_robot_state(carried, world.joints)
        sim._odom.T_true_odom = compose(carried, inverse(reported))
        assert sim.get_base_pose().distance_to(reported) < 1e-6
        ans = robot.track(force=True)
        assert ans is not None and ans.relocalised and ans.localised, ans
        assert robot.get_base_pose().distance_to(sim.true_base_pose()) < 0.10
        assert math.degrees(abs(robot.get_base_pose().heading_error(sim.true_base_pose()))) < 5.0
        assert robot.log.relocalisations >= 2


def test_without_a_lidar_the_head_camera_sweeps(apartment):
    spec, world, scan_map = apartment
    _reset(world, spec)
    no_lidar = replace(DRIFT, lidar=replace(DRIFT.lidar, enabled=False))
    with simulated_robot(world=world, realism=no_lidar) as sim:
        robot = LocalizedRobot(sim, scan_map)
        head = sim.get_joints()
        ans = robot.localise()  # from depth frames all around, cut to the lidar's band
        assert ans.localised, ans.reason
        assert robot.log.sweeps >= 1
        assert robot.get_base_pose().distance_to(sim.true_base_pose()) < 0.10
        assert math.degrees(abs(robot.get_base_pose().heading_error(sim.true_base_pose()))) < 5.0
        after = sim.get_joints()
        assert abs(after.head_pan - head.head_pan) < 0.05 and abs(after.head_tilt - head.head_tilt) < 0.05


def test_no_lidar_or_nothing_to_match_is_one_clear_error(apartment):
    from orchestrator.localized_robot import LocalizationConfig

    spec, world, scan_map = apartment
    _reset(world, spec)
    no_lidar = replace(DRIFT, lidar=replace(DRIFT.lidar, enabled=False))
    with simulated_robot(world=world, realism=no_lidar) as sim:
        with pytest.raises(RobotError, match="lidar"):
            LocalizedRobot(sim, scan_map, LocalizationConfig(camera_sweep=False)).get_base_pose()

    class EmptyMap:
        def occupancy_points(self):
            return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0)

    with simulated_robot(world=world, realism=DRIFT) as sim, pytest.raises(InputError, match="empty"):
        localized_in_map(sim, EmptyMap())


def test_ambiguous_map_refuses_to_move(apartment):
    spec, world, scan_map = apartment
    _reset(world, spec)
    cand = scan_map.candidates_xy
    twin = ScanMap(np.r_[scan_map.points, scan_map.points + [40.0, 0.0]], np.r_[cand, cand + [40.0, 0.0]])
    with simulated_robot(world=world, realism=DRIFT) as sim:
        robot = LocalizedRobot(sim, twin)
        with pytest.raises(RobotError, match="not localised: ambiguous"):
            robot.move_base_to(Pose2D(0.0, 0.0, 0.0))
        assert sim.true_base_pose().distance_to(spec.robot_start) < 0.05  # turned in place, never drove


def test_which_commands_localise_and_a_registration_override(apartment, tmp_path):
    from orchestrator.configs import RobotOptions
    from orchestrator.localized_robot import localized_for, wants_localization

    assert not wants_localization(RobotOptions(kind="sim"))  # the oracle robot is told its pose
    assert wants_localization(RobotOptions(kind="sim", realism="realistic"))
    assert wants_localization(RobotOptions(kind="stretch"))
    assert not wants_localization(RobotOptions(kind="stretch", localize="off"))
    with pytest.raises(InputError, match="--localize"):
        wants_localization(RobotOptions(localize="sometimes"))
    spec, world, _ = apartment
    _reset(world, spec)

    class Points:  # a saved map's occupied voxels: the scene's walls and furniture at lidar height
        def __init__(self, xy):
            self.xy = xy

        def occupancy_points(self):
            xyz = np.c_[self.xy, np.full(len(self.xy), 0.2)]
            return xyz, np.zeros_like(xyz), np.full(len(xyz), 5)

    _, _, scan_map = apartment
    with simulated_robot(world=world, realism=DRIFT) as sim:
        robot = localized_for(sim, Points(scan_map.points),
                              RobotOptions(kind="sim", realism="realistic", map_registration=(0.0, 0.0, 0.0)))
        assert isinstance(robot, LocalizedRobot)
        assert robot.get_base_pose().distance_to(sim.true_base_pose()) < 1e-6  # from the registration
        assert robot.log.relocalisations == 0 and robot.log.last.reason == "registration"
        goal = travel_goal(robot.get_base_pose(), scan_route(spec, ScanRouteConfig())[2].pose)
        assert robot.move_base_to(goal).success
        assert robot.log.tracks >= 1 and sim.true_base_pose().distance_to(goal) < 0.10

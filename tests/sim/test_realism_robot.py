"""The realism profile on the simulated Stretch (MuJoCo): lidar ranges to known walls, drifting odometry
reported everywhere while the true pose stays in the simulator, noisy frames, joint offsets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.stretch import T_world_headcam
from core.types import Pose2D
from sim.lidar import LASER_XYZ, laser_pose
from sim.mujoco.world import SimWorld
from sim.realism import RealismConfig
from sim.robot import SimRobot
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE

# The example scene is a 4 x 4 m room; walls 0.1 m thick centred on x = 0, x = 4, y = 0, y = 4.
INNER = (0.05, 3.95)


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    yield w
    w.close()


def _wall_range(lp: Pose2D, angle: float) -> float:
    """Range from the lidar to the room's inner wall faces along world heading `angle`."""
    c, s = math.cos(angle), math.sin(angle)
    ts = []
    if abs(c) > 1e-9:
        ts += [(INNER[1] - lp.x) / c if c > 0 else (INNER[0] - lp.x) / c]
    if abs(s) > 1e-9:
        ts += [(INNER[1] - lp.y) / s if s > 0 else (INNER[0] - lp.y) / s]
    return min(ts)


@pytest.mark.parametrize("profile", ["oracle", "realistic"])
def test_lidar_ranges_to_known_walls(world, profile):
    cfg = RealismConfig.oracle() if profile == "oracle" else RealismConfig.realistic()
    with SimRobot(world, cfg) as robot:
        obs = robot.observe()
    scan = obs.scan
    assert scan is not None and len(scan.angles_rad) == 360 and scan.height_m == LASER_XYZ[2]
    lp = laser_pose(world.base_pose)
    want = np.array([_wall_range(lp, lp.theta + a) for a in scan.angles_rad])
    # Rays towards the walls that nothing stands in front of (the table and objects are nearer).
    err = scan.ranges_m - want
    clear = np.isfinite(err) & (np.abs(err) < 0.2)
    assert clear.mean() > 0.5
    if profile == "oracle":
        assert np.abs(err[clear]).max() < 0.005
    else:
        sigma = np.where(want > 1.5, 0.01 * want, 0.0005)[clear]
        z = err[clear] / sigma
        assert abs(z.mean()) < 0.5 and 0.7 < z.std() < 1.3
    assert np.all(scan.ranges_m[np.isfinite(scan.ranges_m)] >= 0.15)


def test_rays_from_one_origin_match_rays_cast_one_by_one(world):
    """The batched path (mj_multiRay, past the laser's own housing) gives the per-ray path's ranges."""
    lp = laser_pose(world.base_pose)
    a = np.radians(np.arange(0.0, 360.0, 1.0)) + lp.theta
    dirs = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=1)
    origin = np.array([lp.x, lp.y, LASER_XYZ[2]])
    batched = world.cast_rays(np.tile(origin, (len(a), 1)), dirs, 12.0)
    single = np.array([world.cast_rays(origin[None], d[None], 12.0)[0] for d in dirs])
    assert np.isfinite(batched).mean() > 0.9
    np.testing.assert_allclose(batched, single, atol=1e-9)
    assert np.isinf(world.cast_rays(np.tile(origin, (3, 1)), dirs[:3], 0.01)).all()  # beyond max_m: no hit


def test_realistic_odometry_drifts_and_true_pose_stays_inside():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    try:
        with SimRobot(w, RealismConfig.realistic().with_seed(4)) as robot:
            start = robot.get_base_pose()
            goals = [Pose2D(1.6, 1.0, 1.5), Pose2D(1.6, 1.6, 3.0), Pose2D(1.0, 1.6, -1.5), Pose2D(1.0, 1.0, 0.0)]
            for g in goals:
                res = robot.move_base_to(g)
                assert res.success, res.reason
                assert res.base_pose.distance_to(g) < 0.05  # the odometry says it arrived
            true = robot.true_base_pose()
            assert true == w.base_pose
            assert true.distance_to(robot.get_base_pose()) > 0.005  # ... but it drifted
            obs = robot.observe()
            assert obs.base_pose == robot.get_base_pose() and start.distance_to(obs.base_pose) < 0.05
            j = obs.joints
            np.testing.assert_allclose(obs.frame.T_world_cam, T_world_headcam(obs.base_pose, j.head_pan, j.head_tilt))
            assert obs.scan.pose == laser_pose(obs.base_pose)
    finally:
        w.close()


def test_oracle_reports_the_truth_and_exact_frames(world):
    with SimRobot(world) as robot:
        obs = robot.observe()
        assert obs.base_pose == world.base_pose
        rgb, depth, ids = world.render(obs.frame.T_world_cam, obs.frame.intrinsics)
        assert np.array_equal(depth, obs.frame.depth_m) and np.array_equal(ids, obs.frame.instance_ids)


def test_realistic_frames_are_noisy_and_joints_offset(world):
    cfg = RealismConfig.realistic().with_seed(2)
    with SimRobot(world, cfg) as robot:
        obs = robot.observe()
        rgb, depth, _ = world.render(T_world_headcam(world.base_pose, world.joints.head_pan, world.joints.head_tilt),
                                     obs.frame.intrinsics)
        both = (depth > 0) & (obs.frame.depth_m > 0)
        assert both.mean() > 0.5 and not np.array_equal(depth, obs.frame.depth_m)
        assert np.abs(obs.frame.depth_m[both] / depth[both] - 1).mean() < 0.05
        res = robot.move_arm(lift_m=0.8)
        assert res.success, res.reason
        # The encoders say the lift is within the backlash of the target; truly it is off by the offset.
        assert abs(res.joints.lift_m - 0.8) <= cfg.arm.backlash_m + 1e-6
        assert abs(world.joints.lift_m - res.joints.lift_m) > 0.0


def test_scan_travels_over_the_robot_wire(world):
    from robots.wire import WireError, observation_from_wire, observation_to_wire

    with SimRobot(world, RealismConfig.realistic()) as robot:
        obs = robot.observe()
    result, arrays = observation_to_wire(obs)
    back = observation_from_wire(json.loads(json.dumps(result)), arrays)
    assert back.scan is not None and np.array_equal(back.scan.ranges_m, obs.scan.ranges_m)
    assert back.scan.pose == obs.scan.pose
    result["scan"]["ranges_m"] = "nope"
    with pytest.raises(WireError, match="scan"):
        observation_from_wire(result, arrays)
    del result["scan"]
    assert observation_from_wire(result, arrays).scan is None  # no lidar: reported as absent, not faked


def test_carried_object_slips_and_is_holding_notices():
    from dataclasses import replace

    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    try:
        cfg = RealismConfig.realistic()
        cfg = replace(cfg, arm=replace(cfg.arm, slip_rate_per_m=1.0))  # certain to slip within a metre
        robot = SimRobot(w, cfg)
        robot.connect()
        obj = w.object_ids()[0]
        w.attach(obj)
        assert robot.is_holding()
        for k in range(8):  # chance >= 0.6 per 0.6 m leg
            robot.move_base_to(Pose2D(1.6 if k % 2 == 0 else 1.0, 1.0, 0.0))
            if not robot.is_holding():
                break
        assert robot.is_holding() is False and robot.slips == 1 and w.held_object() is None
    finally:
        w.close()

"""Episodes: feasible object/receptacle pairs, request text, and the phase checks on a live world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.types import Pose2D
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.episodes import (
    EPISODE_ROBOT_RADIUS_M,
    PITCH_DOWN_ONLY,
    SIDE_GRASP_MAX_WIDTH_M,
    SIDE_GRASP_MIN_HEIGHT_M,
    TOP_DOWN_CLEARANCE_M,
    Episode,
    ReachOracle,
    make_episodes,
    pick_reachable,
    point_reachable_from,
)
from sim.scene.episodes import _object_bounds as object_bounds
from sim.scene.generator import generate_scene
from sim.scene.spec import SceneSpec
from sim.scoring import object_held, object_on_receptacle, object_reachable_from
from tests.sim.world_fixtures import EXAMPLE_SCENE, side_grasp_pose


def test_episodes_over_20_generated_seeds_are_feasible():
    for seed in range(20):
        spec = generate_scene(seed)
        episodes = make_episodes(spec, 2, seed)
        assert episodes, f"seed {seed}: no feasible episode"
        oracle = ReachOracle(spec)
        for ep in episodes:
            obj, rec = spec.object(ep.object_id), spec.receptacle(ep.receptacle_id)
            assert rec.id != obj.on
            assert ep.request == f"put the {obj.description} {'in' if rec.label == 'sink' else 'on'} the {rec.description}"
            base = oracle.base_pose_for(np.array(obj.position) + [0, 0, 0.03])
            assert base is not None, f"seed {seed}: {obj.id} unreachable"
            assert point_reachable_from(base, np.array(obj.position) + [0, 0, 0.03])
        assert make_episodes(spec, 2, seed) == episodes  # deterministic


def test_episode_free_space_is_the_planners_inflated_free_space():
    from navigation.occupancy import OccupancyConfig

    assert EPISODE_ROBOT_RADIUS_M == pytest.approx(OccupancyConfig().inflation_m)


def test_the_side_grasp_limits_match_the_grasp_planners_gripper():
    from grasping.config import GraspConfig

    cfg = GraspConfig()
    g = cfg.gripper
    # proposals.side: the pads' centre stays above the support by the body's overhang, and is covered by
    # the object over half the pad height.
    lowest = cfg.collision_margin_m + cfg.support_clearance_m + max(g.finger_height_m / 2, -g.body_box[0][2])
    assert SIDE_GRASP_MIN_HEIGHT_M == pytest.approx(lowest + g.finger_height_m / 2, abs=0.005)
    assert SIDE_GRASP_MAX_WIDTH_M == pytest.approx(g.max_aperture_m - cfg.width_margin_m, abs=1e-3)


def test_objects_only_graspable_from_above_need_their_top_within_the_lift_range():
    """A bowl or a banana on a 1.05 m shelf top cannot be picked by a Stretch (too flat or wide for a side
    grasp, too high for the pitched-down wrist): never an episode. Seeds 0-5 have such objects."""
    refused = 0
    for seed in range(6):
        spec = generate_scene(seed)
        oracle = ReachOracle(spec, robot_radius_m=EPISODE_ROBOT_RADIUS_M)
        chosen = {ep.object_id for ep in make_episodes(spec, 50, seed)}
        for obj in spec.objects:
            lo, hi, width = object_bounds(obj, spec.base_dir)
            side_ok = hi[2] - lo[2] >= SIDE_GRASP_MIN_HEIGHT_M and width <= SIDE_GRASP_MAX_WIDTH_M
            top = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] + TOP_DOWN_CLEARANCE_M])
            if not side_ok and hi[2] > 1.0:
                assert not pick_reachable(oracle, obj), f"seed {seed}: {obj.id} top {hi[2]:.2f} m"
                assert oracle.base_pose_for(top, pitches=PITCH_DOWN_ONLY) is None
                assert obj.id not in chosen
                refused += 1
            if not pick_reachable(oracle, obj):
                assert obj.id not in chosen
    assert refused >= 1


def test_single_receptacle_scene_has_no_episode():
    assert make_episodes(SceneSpec.load(EXAMPLE_SCENE), 3, 0) == []


def test_episode_round_trips_through_dict():
    ep = Episode("scene.json", "mug_0", "table", "put the red mug on the table")
    assert Episode.from_dict(ep.to_dict()) == ep


@pytest.fixture(scope="module")
def robot():
    world = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    with SimRobot(world) as r:
        yield r
    world.close()


def test_phase_checks_follow_the_world(robot):
    world = robot.world
    base, joints = side_grasp_pose(world.object_center("mug_0"), theta=math.pi)
    assert object_reachable_from(world, base, "mug_0")
    assert not object_reachable_from(world, Pose2D(0.5, 0.5, 0.0), "mug_0")
    assert object_on_receptacle(world, "mug_0", "kitchen_table") and not object_held(world, "mug_0")
    world.set_robot_state(base, joints)
    assert robot.close_gripper().success
    assert object_held(world, "mug_0") and not object_on_receptacle(world, "mug_0", "kitchen_table")
    robot.move_arm(lift_m=joints.lift_m + 0.05)
    robot.open_gripper()
    assert object_on_receptacle(world, "mug_0", "kitchen_table") and not object_held(world, "mug_0")

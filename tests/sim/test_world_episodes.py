"""Episodes: feasible object/receptacle pairs, request text, and the phase checks on a live world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.types import Pose2D
from sim.episodes import (
    Episode,
    ReachOracle,
    make_episodes,
    object_held,
    object_on_receptacle,
    object_reachable_from,
    point_reachable_from,
)
from sim.generator import generate_scene
from sim.robot import SimRobot
from sim.scene_spec import SceneSpec
from sim.world import SimWorld
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

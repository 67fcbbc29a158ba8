"""Episodes: feasible object/receptacle pairs, request text, and the phase checks on a live world."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.types import Pose2D
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.episodes import (
    OUT_OF_REACH,
    PITCH_DOWN_ONLY,
    PITCHED_GRASP_MIN_HEIGHT_M,
    SIDE_GRASP_MAX_WIDTH_M,
    SIDE_GRASP_MIN_HEIGHT_M,
    TOO_HIGH,
    TOP_DOWN_CLEARANCE_M,
    Episode,
    ReachOracle,
    draw_episodes,
    exclusion_summary,
    make_episodes,
    pick_exclusion,
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
        if seed < 3:
            assert make_episodes(spec, 2, seed) == episodes  # deterministic


def test_the_base_stands_wherever_its_box_is_clear_not_where_the_planners_disc_is():
    """Episodes are judged with the Stretch's own footprint (core.stretch's base box, x -0.286..0.058 m,
    y +-0.181 m), not the planner's inflated disc: 0.20 m from a wall, side-on or facing it the box is clear
    (a disc of the planner's inflation radius would not be); with its long back towards the wall it is not."""
    from navigation.occupancy import OccupancyConfig

    oracle = ReachOracle(generate_scene(0))
    g = oracle.grid
    rows, cols = np.nonzero(g.obstacle)
    # an obstacle cell with free cells 1 m to its +x side and 0.4 m either way along y
    r, c = next((r, c) for r, c in zip(rows, cols, strict=True)
                if c + 22 < g.obstacle.shape[1] and r >= 8 and not g.obstacle[r - 8:r + 9, c + 1:c + 22].any())
    face_x = g.origin_xy[0] + (c + 1) * g.resolution_m
    xy = np.array([[face_x + 0.20, g.origin_xy[1] + (r + 0.5) * g.resolution_m]])
    assert 0.20 < OccupancyConfig().inflation_m  # the planner's disc would touch the wall here
    assert oracle.base_clear(xy, np.array([math.pi / 2]))  # the side towards the wall: 1.9 cm to spare
    assert oracle.base_clear(xy, np.array([math.pi]))  # facing the wall: the front is 5.8 cm long
    assert not oracle.base_clear(xy, np.array([0.0]))  # the back (0.286 m) would be in the wall


def test_what_no_stretch_could_pick_is_left_out_and_reported_with_reasons():
    """Apartment 3002's sponge lies on a 1 m shelf top (too flat for a sideways or 45 degree grasp, too high
    for the pitched-down gripper); apartment 3009's wooden block lies in the middle of a bed, 0.93 m from
    anywhere the base can stand. Both are left out, counted with their reasons; everything else is drawn."""
    spec = generate_scene(3002)
    sponge = spec.object("sponge_0")
    assert pick_exclusion(ReachOracle(spec), sponge) == TOO_HIGH
    draw = draw_episodes(spec, 100, 3002)
    assert draw.excluded_objects.get(TOO_HIGH, 0) >= 1
    assert "sponge_0" not in {ep.object_id for ep in draw.episodes}
    drawn = {ep.object_id for ep in draw.episodes}
    assert len(drawn) == draw.objects - sum(draw.excluded_objects.values())  # every other object has one
    assert draw.episodes == make_episodes(spec, 100, 3002)

    spec = generate_scene(3009)
    assert pick_exclusion(ReachOracle(spec), spec.object("wood_block_0")) == OUT_OF_REACH
    left = exclusion_summary([draw.to_dict(), draw_episodes(spec, 3, 3009).to_dict()])
    assert left["scenes"] == 2 and left["objects_left_out"] >= 2
    assert left["object_reasons"][TOO_HIGH] >= 1 and left["object_reasons"][OUT_OF_REACH] >= 1
    assert left["objects_left_out_share"] == pytest.approx(left["objects_left_out"] / left["objects"], abs=1e-4)


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
    """A flat or wide object (no sideways or 45 degree grasp) on a top above 1 m cannot be picked by a
    Stretch (too high for the pitched-down wrist): never an episode. Seeds 0-5 have such objects."""
    refused = 0
    for seed in range(6):
        spec = generate_scene(seed)
        oracle = ReachOracle(spec)
        chosen = {ep.object_id for ep in make_episodes(spec, 50, seed)}
        for obj in spec.objects:
            lo, hi, width = object_bounds(obj, spec.base_dir)
            only_from_above = hi[2] - lo[2] < PITCHED_GRASP_MIN_HEIGHT_M or width > SIDE_GRASP_MAX_WIDTH_M
            top = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, hi[2] + TOP_DOWN_CLEARANCE_M])
            if only_from_above and hi[2] > 1.0:
                assert pick_exclusion(oracle, obj) == TOO_HIGH, f"seed {seed}: {obj.id} top {hi[2]:.2f} m"
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

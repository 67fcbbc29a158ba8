"""A detector that gives the requested phrase to two objects (a confused label, a similar object beside it):
the pick takes the mask where the map says the object is, not whichever the detector listed first, and drops
the frames where it scored the other object well below what it scored the target in the rest.
Apartment 10480 under the realistic profile grasped a white mug 0.35 m from the blue coffee can it was
asked for, and reported success. Simulated head camera (MuJoCo), a table with the target and a distractor
0.26 m beside it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("mujoco")

from fixtures.grasp_trials import make_trial_scene, parking_pose  # noqa: E402
from grasping.config import PickConfig  # noqa: E402
from grasping.execute import perceive  # noqa: E402
from grasping.object_points import ObjectNotSeenError  # noqa: E402
from sim.mujoco.world import SimWorld  # noqa: E402
from sim.robot import SimRobot  # noqa: E402
from sim.scene.objects import procedural_library  # noqa: E402


@pytest.fixture(scope="module")
def table_with_two():
    lib = procedural_library()
    spec = make_trial_scene(lib[0], [lib[1]], "table", 3)
    world = SimWorld(spec)
    robot = SimRobot(world)
    robot.connect()
    target, other = world.object_center("target"), world.object_center("distractor_0")
    world.set_robot_state(parking_pose(spec, "table", target), world.joints)
    ids = (spec.object("target").instance_id, spec.object("distractor_0").instance_id)
    yield robot, target, other, ids
    world.close()


def _both_named(ids):
    """The phrase's masks as a confused detector gives them: the other object first, both scored alike."""
    target_id, other_id = ids
    return lambda f: [(f.instance_ids == other_id, 0.9), (f.instance_ids == target_id, 0.9)]


def test_of_masks_alike_the_one_where_the_object_should_be_is_taken(table_with_two):
    robot, target, other, ids = table_with_two
    assert np.hypot(*(other - target)[:2]) < 0.35  # as near as the mug was to the can
    cfg = PickConfig()
    cloud, _ = perceive(robot, _both_named(ids), "mug", target, cfg)
    assert np.hypot(*(cloud.centroid - target)[:2]) < 0.06
    # Where it should be decides: expected at the other object, the other object is taken.
    cloud, _ = perceive(robot, _both_named(ids), "mug", other, cfg)
    assert np.hypot(*(cloud.centroid - other)[:2]) < 0.06


def _missed_twice(ids):
    """A detector that misses the target in the first and third frames and gives the phrase, with a lower
    score, to the similar object beside it (a white mug for "blue coffee can")."""
    target_id, other_id = ids
    calls = []

    def provider(f):
        calls.append(1)
        if len(calls) % 2 == 1:
            return [(f.instance_ids == other_id, 0.6)]
        return [(f.instance_ids == target_id, 0.95)]
    return provider


def test_views_scoring_well_below_the_best_are_dropped(table_with_two):
    robot, target, other, ids = table_with_two
    cfg = PickConfig()
    cloud, _ = perceive(robot, _missed_twice(ids), "mug", target, cfg, recentre=False)
    assert np.hypot(*(cloud.centroid - target)[:2]) < 0.06
    # Kept, the two views of the other object outvote the one of the target.
    keep_all = replace(cfg, mask_score_margin=1.0)
    cloud, _ = perceive(robot, _missed_twice(ids), "mug", target, keep_all, recentre=False)
    assert np.hypot(*(cloud.centroid - other)[:2]) < 0.06


def _only_the_other(ids):
    """A detector that, the target hidden from here, gives the phrase to the other object alone (apartment
    10644 under the oracle profile: a blue coffee mug on the shelf board above the blue plastic cup)."""
    _, other_id = ids
    return lambda f: [(f.instance_ids == other_id, 0.8)]


def test_once_seen_a_mask_far_from_where_the_object_was_is_another_object(table_with_two):
    robot, target, other, ids = table_with_two
    cfg = PickConfig()
    assert np.linalg.norm(other - target) > cfg.seen_offset_m
    # Without where the pick saw it, the only mask there is is taken.
    cloud, _ = perceive(robot, _only_the_other(ids), "cup", target, cfg)
    assert np.hypot(*(cloud.centroid - other)[:2]) < 0.06
    # Seen before at the target, the other object's mask is not the object: not in view.
    with pytest.raises(ObjectNotSeenError):
        perceive(robot, _only_the_other(ids), "cup", target, cfg, seen_at=target)
    # The target's own mask, where it was seen, is still taken.
    cloud, _ = perceive(robot, _both_named(ids), "cup", target, cfg, seen_at=target)
    assert np.hypot(*(cloud.centroid - target)[:2]) < 0.06

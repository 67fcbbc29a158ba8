"""Regression: a flat random solid on the shelf's lower board (0.475 m free above it), where a top-down
pre-grasp 10 cm above the object put the arm into the board above and every grasp was rejected ("every
reachable grasp collides on the approach or with the arm"). Built from the scene where it happened
(benchmarks/grasping.py --library random-shapes --sources shelf --every 12 --offset 2, solid 016, seed 1):
the object seen by the simulated head camera, then planned; the short pre-grasp clears the object's top
and stays under the board."""

from __future__ import annotations

import pytest

pytest.importorskip("mujoco")

from core.stretch import T_world_grasp  # noqa: E402
from fixtures.grasp_trials import make_trial_scene, parking_pose  # noqa: E402
from grasping.config import PickConfig  # noqa: E402
from grasping.execute import perceive  # noqa: E402
from grasping.planner import plan_grasps  # noqa: E402
from sim.mujoco.world import SimWorld  # noqa: E402
from sim.robot import SimRobot  # noqa: E402
from sim.scene.objects import procedural_library  # noqa: E402
from sim.scene.random_shapes import random_shapes_library  # noqa: E402


def test_flat_solid_under_a_shelf_board_gets_a_short_top_down_approach():
    lib = {e.key: e for e in random_shapes_library()}
    if "random_shapes/016" not in lib:
        pytest.skip("the shared random solids are absent")
    dl = procedural_library()
    spec = make_trial_scene(lib["random_shapes/016"], [dl[3], dl[4]], "shelf", 1)
    world = SimWorld(spec)
    try:
        robot = SimRobot(world)
        robot.connect()
        xyz = world.object_center("target")
        world.set_robot_state(parking_pose(spec, "shelf", xyz), world.joints)
        iid = spec.object("target").instance_id
        cfg = PickConfig()
        cloud, _ = perceive(robot, lambda f: [(f.instance_ids == iid, 1.0)], "solid", xyz, cfg)
        plan = plan_grasps(cloud, robot.get_base_pose(), cfg.grasp, cfg.ik)
    finally:
        world.close()
    assert plan.grasps, plan.reason
    g = plan.grasps[0]
    assert g.top_down and g.from_above
    pre_tip = T_world_grasp(g.solution.base_pose, g.pre_joints)[2, 3]
    # Shorter than the default back-off, yet the fingertips clear the object's top.
    assert pre_tip - g.T_world_grasp[2, 3] < cfg.grasp.approach_backoff_m - 0.01
    assert pre_tip >= plan.shape.top_z + cfg.grasp.pregrasp_clearance_m

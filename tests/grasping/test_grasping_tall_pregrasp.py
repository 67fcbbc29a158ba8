"""A from-above pre-grasp rises as far as the fingertips need to clear the object's top (grasping.planner).

Modelled on apartment 10465's white water bottle (issue 13): a 20 cm bottle deep on a sofa with another
bottle in front of it. The pitched-down wrist is out of reach, a level approach sweeps through the bottle in
front, and an angled grasp held at the bottle's middle must come down from above its top: with the fixed
10 cm rise its pre-grasp was inside the bottle's top and the grasp was dropped.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import trimesh
from grasp_synth import TABLE_Z, on_table, sample

from core.stretch import T_world_grasp
from grasping.config import GraspConfig
from grasping.kinematics import base_pose_for_reach
from grasping.planner import approach_options, plan_grasps
from grasping.proposals import object_shape

XY = np.array([1.80, 2.50])
HEIGHT = 0.20


def _scene():
    bottle = sample(trimesh.creation.cylinder(radius=0.03, height=HEIGHT), (*XY, TABLE_Z))
    front = sample(trimesh.creation.cylinder(radius=0.03, height=HEIGHT), (XY[0] - 0.20, XY[1], TABLE_Z), seed=1)
    return on_table(bottle, XY, extra=front)


def _base():
    """The arm pointing +x at the bottle, extended 0.40 m: too far for the pitched-down wrist."""
    return base_pose_for_reach(np.array([*XY, TABLE_Z + HEIGHT / 2]), approach_heading=0.0, arm_m=0.40,
                               top_down=False)


def test_an_angled_grasp_of_a_tall_bottle_comes_down_from_above_its_top():
    cloud = _scene()
    plan = plan_grasps(cloud, _base(), GraspConfig(), name="bottle")
    assert plan.grasps, plan.reason
    top = TABLE_Z + HEIGHT
    rises = []
    for g in plan.grasps:
        assert g.kind == "angled"
        pre_z = float(T_world_grasp(g.solution.base_pose, g.pre_joints)[2, 3])
        # The fingertips, 2 cm below the grasp centre, clear the top by the pre-grasp clearance.
        assert pre_z >= top + GraspConfig().pregrasp_clearance_m + 0.02 - 1e-3
        rises.append(pre_z - float(g.T_world_grasp[2, 3]))
    assert max(rises) > GraspConfig().approach_backoff_m + 0.01


def test_with_the_fixed_rise_the_same_bottle_has_no_grasp_from_here():
    cfg = replace(GraspConfig(), max_pregrasp_rise_m=GraspConfig().approach_backoff_m)
    plan = plan_grasps(_scene(), _base(), cfg, name="bottle")
    assert not plan.grasps


def test_the_rise_grows_only_where_needed_and_up_to_its_cap():
    cfg = GraspConfig()
    shape = object_shape(_scene().points, _scene().scene)
    clearance = cfg.pregrasp_clearance_m + 0.02
    # Held near its top: the usual 10 cm.
    (above, backoff, _), _level = approach_options(False, False, shape.top_z - 0.03, shape, cfg, angled=True)
    assert above and backoff == cfg.approach_backoff_m
    # Held at its middle: up to the top plus the clearance.
    grasp_z = shape.top_z - 0.10
    _, backoff, _ = approach_options(False, False, grasp_z, shape, cfg, angled=True)[0]
    assert abs(grasp_z + backoff - (shape.top_z + clearance)) < 0.005
    # Held lower than the cap allows: the usual rise (the planner then drops the from-above approach).
    _, backoff, _ = approach_options(False, False, shape.top_z - 0.40, shape, cfg, angled=True)[0]
    assert backoff == cfg.approach_backoff_m

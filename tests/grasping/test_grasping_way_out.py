"""The open fingers' way out to a level pre-grasp is checked, not only the approach (grasping.extension).

Modelled on apartment 10495's blue cardboard box (issue 13): the side grasps' approach (pre-grasp ->
grasp) was clear, but extending the open gripper from the base to the pre-grasp swept a fingertip through
a bleach bottle standing beside the arm's line, and the pick stopped at that contact. A neighbour beside
the line of the arm, nearer the robot than the pre-grasp, now drops the side grasps that would pass it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import trimesh
from grasp_synth import TABLE_Z, on_table, sample

from core.stretch import T_world_grasp
from grasping.collision import gripper_boxes
from grasping.config import GraspConfig
from grasping.extension import way_out_blocked, way_out_poses
from grasping.kinematics import LIMITS, base_pose_for_reach
from grasping.planner import plan_grasps

XY = np.array([1.80, 2.50])
NEIGHBOUR = np.array([-0.45, 0.08])  # beside the arm's line, 35 cm nearer the robot than the pre-grasp


def _cloud(neighbour: bool):
    can = sample(trimesh.creation.cylinder(radius=0.033, height=0.10), (*XY, TABLE_Z))
    extra = sample(trimesh.creation.cylinder(radius=0.03, height=0.12), (*(XY + NEIGHBOUR), TABLE_Z), seed=1)
    return on_table(can, XY, extra=extra if neighbour else None)


@pytest.fixture(scope="module")
def base():
    """The arm pointing +x at the can, extended 0.40 m."""
    return base_pose_for_reach(np.array([*XY, TABLE_Z + 0.05]), approach_heading=0.0, arm_m=0.40, top_down=False)


def test_side_grasps_are_planned_when_nothing_stands_beside_the_way(base):
    plan = plan_grasps(_cloud(False), base, GraspConfig(), name="can")
    assert any(g.kind == "side" for g in plan.grasps), plan.reason
    assert not plan.rejected.get("the way out to the pre-grasp hits points")


def test_a_neighbour_beside_the_arm_drops_the_side_grasps_that_pass_it(base):
    plan = plan_grasps(_cloud(True), base, GraspConfig(), name="can")
    assert plan.rejected.get("the way out to the pre-grasp hits points", 0) > 0
    assert plan.grasps, plan.reason  # grasps from above, which travel over it, are left
    boxes, fingers = gripper_boxes(GraspConfig().gripper)
    neighbour = _cloud(True).scene
    neighbour = neighbour[np.linalg.norm(neighbour[:, :2] - (XY + NEIGHBOUR), axis=1) < 0.04]
    for g in plan.grasps:
        level = abs(g.pre_joints.lift_m - g.solution.joints.lift_m) < 1e-6
        assert not level or not way_out_blocked(g.solution.base_pose, g.pre_joints,
                                                [(neighbour, GraspConfig().collision_margin_m)], boxes[fingers])


def test_the_way_out_runs_along_the_extension_to_the_pre_grasp(base):
    plan = plan_grasps(_cloud(False), base, GraspConfig(), name="can")
    g = next(g for g in plan.grasps if g.kind == "side")
    centres, rots = way_out_poses(g.solution.base_pose, g.pre_joints)
    pre = T_world_grasp(g.solution.base_pose, g.pre_joints)
    assert np.allclose(centres[-1], pre[:3, 3], atol=1e-6) and np.allclose(rots, pre[:3, :3], atol=1e-6)
    start = replace(g.pre_joints, arm_m=LIMITS.arm_m[0] + 0.10)
    assert np.allclose(centres[0], T_world_grasp(g.solution.base_pose, start)[:3, 3], atol=1e-6)
    # No two consecutive poses are farther apart than a fingertip pad is thick (4 cm): none skips a point.
    assert float(np.max(np.linalg.norm(np.diff(centres, axis=0), axis=1))) <= 0.021
    # A pre-grasp nearer the base than where the check starts has nothing to check.
    near = replace(g.pre_joints, arm_m=0.05)
    assert len(way_out_poses(g.solution.base_pose, near)[0]) == 0

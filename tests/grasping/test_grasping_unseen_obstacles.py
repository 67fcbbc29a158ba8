"""The map's voxels where the head camera did not see join the grasp planner's checks (issue 13).

Modelled on apartment 10644's blue plastic cup (oracle profile): the cup stood in a bathroom shelf, seen from
afar; the base parked with its retracted gripper beside the shelf's side panel, which the camera's frame of
the cup did not show. The map had the panel's voxels, but the planner saw only the camera's points and did
not check the first 10 cm of the extension, and a fingertip touched the panel. Now the map's voxels that no
camera point accounts for are coarse points (half a voxel of margin), checked along the whole way out.
"""

from __future__ import annotations

import numpy as np
import trimesh
from grasp_synth import TABLE_Z, on_table, sample

from core.stretch import T_world_grasp
from core.types import JointState
from grasping.collision import gripper_boxes
from grasping.config import GraspConfig
from grasping.kinematics import base_pose_for_reach
from grasping.object_points import ObjectCloud
from grasping.planner import plan_grasps
from grasping.scene_around import unseen_obstacles

XY = np.array([1.80, 2.50])


def _can() -> ObjectCloud:
    return on_table(sample(trimesh.creation.cylinder(radius=0.033, height=0.10), (*XY, TABLE_Z)), XY)


def _level(plan):
    return [g for g in plan.grasps if abs(g.pre_joints.lift_m - g.solution.joints.lift_m) < 1e-6]


def _panel_beside_the_fingers(plan) -> np.ndarray:
    """5 cm voxel centres of a panel 1 cm outside the open fingers' outer side with the arm nearly retracted,
    for the first level grasp: what the map holds of a shelf's side beside the parked gripper."""
    g = _level(plan)[0]
    boxes, fingers = gripper_boxes(GraspConfig().gripper)
    T = T_world_grasp(g.solution.base_pose, JointState(lift_m=g.pre_joints.lift_m, arm_m=0.02,
                                                      wrist_yaw=g.pre_joints.wrist_yaw,
                                                      wrist_pitch=g.pre_joints.wrist_pitch,
                                                      wrist_roll=g.pre_joints.wrist_roll))
    outer = boxes[fingers][:, 1, 1].max() + 0.01  # beyond the fingers' +y side, in the grasp frame
    local = np.array([[x, outer, z] for x in (-0.05, 0.0) for z in (-0.025, 0.025)])
    pts = local @ T[:3, :3].T + T[:3, 3]
    return (np.floor(pts / 0.05) + 0.5) * 0.05  # where the map's voxels would put them


def test_coarse_points_beside_the_retracted_fingers_drop_the_level_grasps_passing_them():
    base = base_pose_for_reach(np.array([*XY, TABLE_Z + 0.05]), approach_heading=0.0, arm_m=0.25, top_down=False)
    plan = plan_grasps(_can(), base, GraspConfig(), name="can")
    assert _level(plan), plan.reason
    panel = _panel_beside_the_fingers(plan)
    # As camera points the first 10 cm of the extension goes unchecked (it is the robot's own body there);
    # as the map's coarse points they are checked from the arm retracted, with half a voxel of margin.
    seen = _can()
    as_seen = plan_grasps(ObjectCloud(seen.points, np.concatenate([seen.scene, panel])), base, GraspConfig(),
                          name="can")
    coarse = plan_grasps(_can(), base, GraspConfig(), name="can", coarse=panel)
    way_out = "the way out to the pre-grasp hits points"
    assert coarse.rejected.get(way_out, 0) > as_seen.rejected.get(way_out, 0)
    assert len(_level(coarse)) < len(_level(as_seen))
    first = _level(plan)[0].T_world_grasp
    assert any(np.allclose(g.T_world_grasp, first) for g in _level(as_seen))
    assert not any(np.allclose(g.T_world_grasp, first) for g in _level(coarse))


def test_only_the_map_voxels_the_camera_did_not_see_are_coarse_points():
    cloud = _can()
    seen_voxel = cloud.scene[0] + np.array([0.01, 0.0, 0.0])  # the table where the camera saw it
    own = cloud.points.mean(axis=0)  # the object itself, which the map holds too
    back = own + np.array([cloud.points[:, 0].max() - own[0] + 0.03, 0.0, 0.0])  # its far side, unseen from here
    unseen = np.array([XY[0] - 0.45, XY[1] + 0.2, TABLE_Z + 0.3])  # nothing of the camera's near it
    far = np.array([XY[0] + 1.5, XY[1], TABLE_Z])  # farther than a metre from the object
    out = unseen_obstacles(cloud, np.array([seen_voxel, own, back, unseen, far], np.float32))
    assert np.allclose(out, unseen[None], atol=1e-6)
    assert len(unseen_obstacles(cloud, None)) == 0

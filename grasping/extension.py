"""The open fingers' way out to a level pre-grasp, which the approach sweep does not cover.

grasping.execute runs a grasp whose approach slides in level (side grasps; angled and top-down grasps
that slide in) as: arm in, lift at the pre-grasp height, base turned, wrist set, gripper opened, arm
extended to the pre-grasp, then the approach. The planner's approach sweep covers the pre-grasp -> grasp
only; the extension before it can pass what stands beside the arm's line: a bottle beside the target
(10495:0) or the counter's edge (10511:0). The open fingers (6-10 cm either side of the grasp centre, wider
than the arm) are swept along it here, from `start_m` out, against the same points as the approach.

Not checked against the camera's points: the first `start_m` of the extension and the wrist turning beside
the base, where they are the robot's own body the self filter left. The map's voxels where the camera did
not see (the planner's coarse points, half a voxel of margin) are checked from the arm retracted: a shelf's
side panel beside the parked gripper (10644:0). The wrist turning is not checked; grasping.execute's
contact stop still catches a real touch there.
"""

from __future__ import annotations

import math

import numpy as np

from core.stretch import T_world_grasp
from core.types import JointState, Pose2D
from grasping.collision import boxes_hit, off_robot_column, to_local
from grasping.kinematics import LIMITS


def way_out_poses(base: Pose2D, pre: JointState, start_m: float = 0.10,
                  step_m: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Grasp-frame poses (centres (P, 3), rotations (P, 3, 3)) of the extension to the level pre-grasp
    `pre` (at its lift and wrist), from the arm at `start_m` out to `pre`, `step_m` apart; empty when the
    pre-grasp is nearer than `start_m`."""
    a0 = LIMITS.arm_m[0] + start_m
    if pre.arm_m <= a0:
        return np.zeros((0, 3)), np.zeros((0, 3, 3))
    arms = np.linspace(a0, pre.arm_m, max(2, math.ceil((pre.arm_m - a0) / step_m) + 1))
    T = np.array([T_world_grasp(base, JointState(lift_m=pre.lift_m, arm_m=float(a), wrist_yaw=pre.wrist_yaw,
                                                 wrist_pitch=pre.wrist_pitch, wrist_roll=pre.wrist_roll))
                  for a in arms])
    return T[:, :3, 3], T[:, :3, :3]


def way_out_blocked(base: Pose2D, pre: JointState, parts: list[tuple[np.ndarray, float]],
                    boxes: np.ndarray, start_m: float = 0.10) -> bool:
    """Do `boxes` (the open fingers', grasp frame) touch any of `parts` ((points (N, 3), margin) each) on the
    extension to `pre`, from the arm at `start_m` out? Points in the column above the base (the robot's own
    body, grasping.collision.off_robot_column) are left out."""
    centres, rots = way_out_poses(base, pre, start_m=start_m)
    if not len(centres):
        return False
    T = base.as_matrix()
    for points, margin in parts:
        if not len(points):
            continue
        points = points[off_robot_column((points - T[:3, 3]) @ T[:3, :3])]
        if len(points) and boxes_hit(to_local(points, centres, rots), boxes, margin).any():
            return True
    return False

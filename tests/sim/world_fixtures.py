"""Helpers shared by the sim-world tests (not a test module)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from core.stretch import T_base_grasp
from core.types import JointState, Pose2D

EXAMPLE_SCENE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"


def side_grasp_pose(target_xyz, theta: float, arm_m: float = 0.25, gripper_m: float = 0.11
                    ) -> tuple[Pose2D, JointState]:
    """Base pose and joints that put the grasp centre at `target_xyz` with a horizontal gripper (yaw 0)."""
    j = JointState(lift_m=0.0, arm_m=arm_m, wrist_yaw=0.0, wrist_pitch=0.0, wrist_roll=0.0, gripper_m=gripper_m)
    pb = T_base_grasp(j)[:3, 3]
    c, s = math.cos(theta), math.sin(theta)
    R = np.array([[c, -s], [s, c]])
    xy = np.asarray(target_xyz[:2]) - R @ pb[:2]
    lift = float(target_xyz[2] - pb[2])
    return Pose2D(float(xy[0]), float(xy[1]), theta), JointState(lift_m=lift, arm_m=arm_m, wrist_yaw=0.0,
                                                                 wrist_pitch=0.0, gripper_m=gripper_m)


def top_grasp_pose(target_xyz, theta: float, arm_m: float = 0.25, gripper_m: float = 0.11, roll: float = 0.0
                   ) -> tuple[Pose2D, JointState]:
    """Base pose and joints that put the grasp centre at `target_xyz` with the gripper pointing down."""
    j = JointState(lift_m=0.0, arm_m=arm_m, wrist_yaw=0.0, wrist_pitch=-1.57, wrist_roll=roll, gripper_m=gripper_m)
    pb = T_base_grasp(j)[:3, 3]
    c, s = math.cos(theta), math.sin(theta)
    R = np.array([[c, -s], [s, c]])
    xy = np.asarray(target_xyz[:2]) - R @ pb[:2]
    return Pose2D(float(xy[0]), float(xy[1]), theta), JointState(
        lift_m=float(target_xyz[2] - pb[2]), arm_m=arm_m, wrist_yaw=0.0, wrist_pitch=-1.57, wrist_roll=roll,
        gripper_m=gripper_m)

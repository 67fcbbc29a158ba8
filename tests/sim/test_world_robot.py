"""SimRobot: collision-checked motion, the grasp rule, holding and releasing, observations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.stretch import T_world_headcam
from core.types import JointState, Pose2D
from robots.protocol import Robot
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE, side_grasp_pose, top_grasp_pose

TABLE_TOP = 0.75


@pytest.fixture()
def robot():
    """A fresh world per test (0.6 s): these tests move objects around."""
    world = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    with SimRobot(world) as r:
        yield r
    world.close()


def _go(robot: SimRobot, base: Pose2D, joints: JointState) -> None:
    """Approach a grasp pose: open, lift with the arm in, drive, then extend (each motion must succeed)."""
    assert robot.set_gripper(joints.gripper_m).success
    res = robot.move_arm(lift_m=joints.lift_m + 0.05, arm_m=0.0, wrist_yaw=joints.wrist_yaw,
                         wrist_pitch=joints.wrist_pitch, wrist_roll=joints.wrist_roll)
    assert res.success, res.reason
    res = robot.move_base_to(base)
    assert res.success, res.reason
    res = robot.move_arm(arm_m=joints.arm_m)
    assert res.success, res.reason
    res = robot.move_arm(lift_m=joints.lift_m)
    assert res.success, res.reason


def test_implements_the_robot_protocol(robot):
    assert isinstance(robot, Robot)
    obs = robot.observe()
    j = robot.get_joints()
    assert obs.frame.instance_ids is not None and obs.frame.instance_ids.shape == obs.frame.depth_m.shape
    assert np.allclose(obs.frame.T_world_cam, T_world_headcam(robot.get_base_pose(), j.head_pan, j.head_tilt))
    assert obs.holding is False
    assert robot.set_head(0.3, -0.4).success and math.isclose(robot.get_joints().head_pan, 0.3)
    assert robot.set_head(10.0, 0.0).success and robot.get_joints().head_pan <= 1.5  # clamped


def test_base_cannot_drive_through_a_wall(robot):
    start = robot.get_base_pose()  # (1, 1, 0) in a 4 x 4 m room; the east wall's inner face is at x = 3.95
    res = robot.move_base_to(Pose2D(5.0, start.y, 0.0))
    assert not res.success
    assert "wall" in res.reason
    pose = robot.get_base_pose()
    # Stopped on this side: the base's front edge (x = +0.058 m in the base frame) short of the wall's face.
    assert 2.0 < pose.x < 3.95 - 0.058 + 0.01
    assert robot.world.robot_contact() is None
    # It can still drive away from the wall.
    assert robot.move_base_to(Pose2D(1.0, 1.0, 0.0)).success


def test_base_cannot_drive_through_furniture(robot):
    res = robot.move_base_to(Pose2D(2.0, 3.6, math.pi / 2))  # straight through the table
    assert not res.success and "kitchen_table" in res.reason
    assert robot.get_base_pose().y < 3.0


def test_move_arm_refuses_targets_outside_limits_and_stops_at_contact(robot):
    before = robot.get_joints()
    res = robot.move_arm(lift_m=1.5)
    assert not res.success and "limits" in res.reason
    assert robot.get_joints().lift_m == before.lift_m
    # Put the gripper above the table, pointing down, then lower it into the table top.
    base, joints = top_grasp_pose([2.3, 2.75, TABLE_TOP + 0.1], theta=math.pi)
    _go(robot, base, joints)
    res = robot.move_arm(lift_m=0.0)
    assert not res.success and "kitchen_table" in res.reason
    lift = robot.get_joints().lift_m
    assert joints.lift_m - 0.1 - 0.03 < lift < joints.lift_m - 0.05  # stopped at the table top, not through it


def test_held_object_follows_the_gripper_and_lands_when_released(robot):
    world = robot.world
    base, joints = side_grasp_pose(world.object_center("mug_0"), theta=math.pi)
    _go(robot, base, joints)
    res = robot.close_gripper()
    assert res.success and robot.is_holding() and world.held_object() == "mug_0", res.reason
    p0 = world.object_pose("mug_0")[:3, 3].copy()
    assert robot.move_arm(lift_m=joints.lift_m + 0.1).success
    p1 = world.object_pose("mug_0")[:3, 3].copy()
    assert np.allclose(p1 - p0, [0, 0, 0.1], atol=1e-3)
    assert robot.move_base_to(Pose2D(base.x + 0.3, base.y, base.theta)).success
    p2 = world.object_pose("mug_0")[:3, 3].copy()
    assert np.allclose(p2 - p1, [0.3, 0, 0], atol=1e-3)
    world.step_physics(0.5)  # physics does not make a held object fall
    assert np.allclose(world.object_pose("mug_0")[:3, 3], p2, atol=1e-6)
    assert robot.observe().holding is True
    # Release 10 cm above the table: it falls and rests on the table.
    assert robot.open_gripper().success and not robot.is_holding()
    assert world.is_on("mug_0", "kitchen_table")
    lo, _ = world.object_aabb("mug_0")
    assert abs(lo[2] - TABLE_TOP) < 0.01
    assert abs(world.object_pose("mug_0")[0, 3] - p2[0]) < 0.03


def test_closing_on_nothing_holds_nothing(robot):
    base, joints = side_grasp_pose([2.2, 2.95, TABLE_TOP + 0.05], theta=math.pi)  # between mug and bowl
    _go(robot, base, joints)
    res = robot.close_gripper()
    assert not robot.is_holding() and robot.world.held_object() is None
    assert "nothing between" in res.reason


def test_grasp_with_a_finger_in_collision_holds_nothing(robot):
    world = robot.world
    c = world.object_pose("mug_0")[:3, 3]  # the mug body's axis (the AABB centre includes the handle)
    # Top-down grasp with the fingertips pushed 1 cm into the table top (placed directly: moves stop at contact).
    base, joints = top_grasp_pose([c[0], c[1], TABLE_TOP - 0.01], theta=math.pi, gripper_m=0.12, roll=math.pi / 2)
    world.set_robot_state(base, joints)
    res = robot.close_gripper()
    assert not robot.is_holding()
    assert "collision" in res.reason and "kitchen_table" in res.reason


def test_object_wider_than_the_opening_is_not_held(robot):
    world = robot.world
    base, joints = side_grasp_pose(world.object_center("bowl_0"), theta=math.pi, gripper_m=0.11)
    world.set_robot_state(base, joints)  # the bowl (15 cm) is wider than the 11 cm opening
    robot.close_gripper()
    assert not robot.is_holding()


def test_top_down_grasp_of_the_mug_holds_it(robot):
    world = robot.world
    c = world.object_pose("mug_0")[:3, 3]
    lo, hi = world.object_aabb("mug_0")
    base, joints = top_grasp_pose([c[0], c[1], hi[2] - 0.03], theta=math.pi, gripper_m=0.12, roll=math.pi / 2)
    world.set_robot_state(base, joints)
    res = robot.close_gripper()
    assert robot.is_holding(), res.reason
    assert 0.005 <= robot.get_joints().gripper_m <= 0.12

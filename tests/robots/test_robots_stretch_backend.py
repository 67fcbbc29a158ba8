"""The stretch_body backend over a fake stretch_body (joints that move over time) and a fake head camera."""

from __future__ import annotations

import importlib.util
import math
import threading
import time

import numpy as np
import pytest
from fake_camera import FakeHeadCamera
from fake_stretch_body import make_module
from stretch_fixtures import fast_config

from core.errors import RobotError
from core.stretch import STRETCH, T_world_headcam
from core.types import Pose2D
from robots.stretch_body_backend import StretchBodyRobot
from robots.stretch_body_config import GripperCalibration, StretchBodyConfig


def test_observe_gives_upright_frame_posed_by_head_kinematics(make_stretch):
    robot, body, camera = make_stretch(fast_config(map_T_odom=(1.0, 2.0, math.pi / 2)))
    assert robot.set_head(-1.2, -0.5).success
    obs = robot.observe()
    assert obs.frame.rgb.shape == (64, 48, 3) and obs.frame.depth_m.dtype == np.float32
    assert obs.base_pose == Pose2D(1.0, 2.0, math.pi / 2)  # odometry origin placed in the map
    expected = T_world_headcam(obs.base_pose, obs.joints.head_pan, obs.joints.head_tilt)
    np.testing.assert_allclose(obs.frame.T_world_cam, expected, atol=1e-9)
    assert obs.joints.head_pan == pytest.approx(-1.2, abs=0.05)
    assert camera.started == 1


def test_move_arm_uses_bounded_speeds_and_reaches_targets(make_stretch):
    cfg = fast_config()
    robot, body, _ = make_stretch(cfg)
    result = robot.move_arm(lift_m=0.75, arm_m=0.1, wrist_yaw=0.5)
    assert result.success, result.reason
    j = robot.get_joints()
    assert j.lift_m == pytest.approx(0.75, abs=cfg.tol_m)
    assert j.arm_m == pytest.approx(0.1, abs=cfg.tol_m)
    assert j.wrist_yaw == pytest.approx(0.5, abs=cfg.tol_rad)
    (_, _, args, kwargs), = body.commands("lift.move_to")
    assert args == (0.75,) and kwargs["v_m"] == cfg.lift_speed_m_s and kwargs["a_m"] == cfg.lift_accel_m_s2
    (_, _, args, kwargs), = body.commands("end_of_arm.move_to")
    assert args == ("wrist_yaw", 0.5) and kwargs["v_r"] == cfg.wrist_speed_rad_s


def test_move_arm_refuses_targets_outside_limits(make_stretch):
    robot, body, _ = make_stretch()
    result = robot.move_arm(lift_m=STRETCH.limits.lift_m[1] + 0.1)
    assert not result.success and "lift_m" in result.reason and "limits" in result.reason
    assert body.commands("lift.move_to") == []


def test_contact_stops_motion_and_is_reported(make_stretch):
    robot, _, _ = make_stretch(lift_block_at=0.66)
    result = robot.move_arm(lift_m=0.8)
    assert not result.success and "stopped short" in result.reason
    assert result.joints.lift_m == pytest.approx(0.66, abs=1e-6)


def test_move_base_to_goal_in_map_frame(make_stretch):
    cfg = fast_config(map_T_odom=(0.5, -0.2, 0.3))
    robot, body, _ = make_stretch(cfg)
    goal = Pose2D(0.8, 0.1, -0.4)
    result = robot.move_base_to(goal, tolerance_m=0.03, tolerance_rad=0.05)
    assert result.success, result.reason
    pose = robot.get_base_pose()
    assert pose.distance_to(goal) < 0.03 and pose.heading_error(goal) < 0.05
    assert body.commands("base.translate_by"), "the base should drive straight"
    assert all(c[3]["v_m"] == cfg.base_speed_m_s for c in body.commands("base.translate_by"))
    assert all(c[3]["v_r"] == cfg.base_rot_speed_rad_s for c in body.commands("base.rotate_by"))


def test_a_goal_behind_is_reached_by_the_smaller_turn_and_backing_up(make_stretch):
    """The real base makes the turn the planner checked (core.stretch.drive_heading), as the simulated one."""
    robot, body, _ = make_stretch(fast_config())
    start = robot.get_base_pose()
    c, s = math.cos(start.theta), math.sin(start.theta)
    goal = Pose2D(start.x - 0.4 * c - 0.15 * s, start.y - 0.4 * s + 0.15 * c, start.theta)  # behind, to the left
    result = robot.move_base_to(goal, tolerance_m=0.03, tolerance_rad=0.05)
    assert result.success, result.reason
    assert robot.get_base_pose().distance_to(goal) < 0.03
    turns = [abs(c[2][0]) if c[2] else abs(c[3]["x_r"]) for c in body.commands("base.rotate_by")]
    assert turns and max(turns) < math.pi / 2  # never the half-turn to face the goal
    assert body.commands("base.translate_by")[0][2][0] < 0  # it drove backwards


def test_stop_from_another_thread_interrupts_a_motion(make_stretch):
    robot, body, _ = make_stretch(fast_config(lift_speed_m_s=0.02), speedup=1.0)
    threading.Timer(0.2, robot.stop).start()
    t0 = time.monotonic()
    result = robot.move_arm(lift_m=1.0)
    assert time.monotonic() - t0 < 1.0
    assert not result.success and "stopped" in result.reason
    assert body.halt_times, "stop() must halt the hardware"
    lift_after = robot.get_joints().lift_m
    time.sleep(0.1)
    assert robot.get_joints().lift_m == pytest.approx(lift_after, abs=1e-6) and lift_after < 0.7


def test_gripper_aperture_mapping_and_holding(make_stretch):
    g = GripperCalibration()
    assert g.aperture_to_pct(0.125) == pytest.approx(50.0)
    assert g.pct_to_aperture(g.aperture_to_pct(0.05)) == pytest.approx(0.05)
    assert g.aperture_to_pct(0.0) == g.grip_pct < 0

    robot, body, _ = make_stretch(gripper_block_pct=12.0)  # an object stops the fingers at 12 %
    assert robot.set_gripper(0.08).success
    assert robot.get_joints().gripper_m == pytest.approx(0.08, abs=0.01)
    result = robot.close_gripper()
    assert result.success, result.reason
    assert robot.is_holding() is True
    assert body.commands("end_of_arm.move_to")[-1][2] == ("stretch_gripper", g.grip_pct)

    empty, _, _ = make_stretch()
    assert empty.set_gripper(0.1).success and empty.close_gripper().success
    assert empty.is_holding() is False


def test_not_homed_is_refused_unless_homing_is_allowed():
    robot = StretchBodyRobot(fast_config(), camera=FakeHeadCamera(), body_module=make_module(homed=False))
    with pytest.raises(RobotError, match="not homed"):
        robot.connect()
    module = make_module(homed=False)
    robot = StretchBodyRobot(fast_config(home_if_needed=True), camera=FakeHeadCamera(), body_module=module)
    robot.connect()
    assert module.instances[0].commands("home")
    robot.disconnect()
    assert module.instances[0].stopped


@pytest.mark.skipif(importlib.util.find_spec("stretch_body") is not None, reason="stretch_body is installed")
def test_missing_stretch_body_gives_install_hint():
    with pytest.raises(RobotError, match="stretch_body.*pip install"):
        StretchBodyRobot(camera=FakeHeadCamera()).connect()


def test_speeds_are_bounded():
    with pytest.raises(ValueError, match="lift_speed_m_s"):
        StretchBodyConfig(lift_speed_m_s=1.0)
    with pytest.raises(ValueError, match="base_speed_m_s"):
        StretchBodyConfig(base_speed_m_s=0.0)


def test_commands_before_connect_raise():
    robot = StretchBodyRobot(camera=FakeHeadCamera(), body_module=make_module())
    with pytest.raises(RobotError, match="not connected"):
        robot.get_joints()

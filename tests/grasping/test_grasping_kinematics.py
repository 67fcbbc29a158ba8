"""Stretch IK: round trips through core FK, limits, reasons for unreachable poses, pre-grasp poses."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from core.geometry import rot_z
from core.stretch import STRETCH, T_world_grasp
from core.types import JointState, Pose2D
from grasping.config import IKConfig
from grasping.kinematics import (
    arm_heading_through,
    base_pose_for_reach,
    grasp_pose_error,
    pregrasp_joints,
    reach_distance,
    solve_ik,
)

LIM = STRETCH.limits


def _random_joints(rng, top_down: bool) -> JointState:
    return JointState(
        lift_m=rng.uniform(0.05, 1.05), arm_m=rng.uniform(0.02, 0.5),
        wrist_yaw=0.0 if top_down else rng.uniform(-1.5, 1.5),
        wrist_pitch=-math.pi / 2 if top_down else rng.uniform(-1.45, 0.5),
        wrist_roll=rng.uniform(-3.0, 3.0),
    )


@pytest.mark.parametrize("top_down", [False, True])
def test_ik_round_trip_through_core_fk(top_down):
    rng = np.random.default_rng(7 + top_down)
    for _ in range(150):
        base = Pose2D(rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-math.pi, math.pi))
        T = T_world_grasp(base, _random_joints(rng, top_down))
        # Start from a base heading up to 0.4 rad off: IK must turn the base back in place.
        start = Pose2D(base.x, base.y, base.theta + rng.uniform(-0.4, 0.4))
        r = solve_ik(T, start)
        assert r.ok, r.reason
        sol = r.solution
        assert LIM.within(sol.joints)
        assert (sol.base_pose.x, sol.base_pose.y) == (start.x, start.y)
        # Independent check: core FK of the returned joints at the returned base pose.
        dp, ang = grasp_pose_error(T_world_grasp(sol.base_pose, sol.joints), T)
        assert dp < 0.01 and ang < math.radians(2)


def test_closing_axis_flip_is_the_same_grasp():
    base = Pose2D(0.0, 0.0, 0.0)
    j = JointState(lift_m=0.5, arm_m=0.2, wrist_yaw=0.3, wrist_pitch=-0.4, wrist_roll=2.9)
    T = T_world_grasp(base, j)
    r = solve_ik(T, base)
    assert r.ok
    # The symmetric gripper prefers the roll nearer zero: 2.9 - pi.
    assert r.solution.joints.wrist_roll == pytest.approx(2.9 - math.pi, abs=1e-3)
    strict = solve_ik(T, base, symmetric=False)
    assert strict.solution.joints.wrist_roll == pytest.approx(2.9, abs=1e-3)


def test_unreachable_poses_say_why():
    base = Pose2D(0.0, 0.0, 0.0)
    T = T_world_grasp(base, JointState(lift_m=0.5, arm_m=0.3, wrist_pitch=-math.pi / 2))
    far = T.copy()
    far[1, 3] -= 0.4  # 40 cm further along the arm
    r = solve_ik(far, base)
    m = re.match(r"arm cannot reach: needs (\d\.\d\d) m extension, max 0\.52$", r.reason)
    # 0.70 m at the grasp's own wrist yaw; the outward-turned yaw (IKConfig.preferred_top_yaws) holds the
    # grasp centre ~4.5 cm farther out, so the shortfall reported is the smaller one.
    assert not r.ok and m and 0.62 <= float(m.group(1)) <= 0.67, r.reason
    high = T.copy()
    high[2, 3] = 1.6
    r = solve_ik(high, base)
    assert not r.ok and r.reason == "out of lift range: needs lift 1.74 m, above [0.00, 1.10]"
    up = T.copy()
    up[:3, :3] = T[:3, :3] @ np.diag([-1.0, 1.0, -1.0])  # approach pointing up
    r = solve_ik(up, base)
    assert not r.ok and "orientation not realisable" in r.reason
    behind = T.copy()
    behind[:3, :3] = rot_z(math.pi) @ T[:3, :3]
    behind[:2, 3] = -T[:2, 3]  # the same grasp on the robot's left: the base would have to turn 180 deg
    r = solve_ik(behind, base, IKConfig(max_base_rotation_rad=0.5))
    assert not r.ok and "turn" in r.reason


def test_pregrasp_backs_off_along_the_approach():
    base = Pose2D(1.0, 2.0, 0.3)
    for j, top in [(JointState(lift_m=0.4, arm_m=0.3, wrist_pitch=-math.pi / 2), True),
                   (JointState(lift_m=0.6, arm_m=0.35), False)]:
        T = T_world_grasp(base, j)
        sol = solve_ik(T, base).solution
        pre = pregrasp_joints(sol, 0.1, top)
        T_pre = T_world_grasp(sol.base_pose, pre)
        d = T[:3, 3] - T_pre[:3, 3]
        assert np.linalg.norm(d) == pytest.approx(0.1, abs=1e-3)
        # The gripper moves along its approach axis from the pre-grasp to the grasp.
        assert d / np.linalg.norm(d) @ T[:3, 0] > 0.999
        assert pre.gripper_m == LIM.gripper_m[1]


def test_base_pose_for_reach_and_arm_heading_agree_with_fk():
    target = np.array([2.0, -1.0, 0.8])
    base = base_pose_for_reach(target, approach_heading=1.0, arm_m=0.3)
    T = T_world_grasp(base, JointState(lift_m=0.5, arm_m=0.3, wrist_pitch=-math.pi / 2))
    assert np.linalg.norm(T[:2, 3] - target[:2]) < 1e-3
    assert math.hypot(*(T[:2, 3] - base.xy)) == pytest.approx(reach_distance(0.3, True), abs=1e-4)
    # A straight side extension at the heading arm_heading_through() gives reaches the target line.
    h = arm_heading_through(base.xy, target[:2])
    r = solve_ik(_side_pose(target, h), base)
    assert r.ok and abs(r.solution.joints.wrist_yaw) < 0.01


def _side_pose(p: np.ndarray, heading: float) -> np.ndarray:
    T = np.eye(4)
    a = np.array([math.cos(heading), math.sin(heading), 0.0])
    c = np.array([-a[1], a[0], 0.0])
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = a, c, np.cross(a, c), p
    return T

"""The way back after a grasp (grasping.retract), on the scene where a fixed retract failed.

Apartment 1001 (generated, seed 1001): a 20 cm water bottle stands in the kitchen sink (basin floor at
0.72 m, rim top at 0.90 m). The old retract (lift 10 cm + 8 cm, pull in) dragged it through the rim and the
robot then drove off with the arm out. Held from above, the lift's limit cannot raise its bottom over the
rim: the plan must say so (so the grasp is never tried), while the same bottle on the flat counter beside
the sink comes back with the minimum rise, and a board above the arm caps the rise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.stretch import T_base_grasp
from core.types import JointState, Pose2D
from grasping.kinematics import solve_ik
from grasping.retract import HeldShape, plan_retract
from sim.scene.generator import generate_scene

BASE = Pose2D(5.699, 1.001, 1.4856)  # where the robot parked in that episode


def _box_points(centre, size, yaw, origin, step=0.02) -> np.ndarray:
    """Points on the faces of a box part (receptacle frame) in the world."""
    axes = [np.arange(-s / 2, s / 2 + 1e-9, step) for s in size]
    pts = []
    for k in range(3):
        for side in (-size[k] / 2, size[k] / 2):
            g = np.meshgrid(*[axes[i] if i != k else np.array([side]) for i in range(3)], indexing="ij")
            pts.append(np.stack([a.ravel() for a in g], axis=1))
    p = np.concatenate(pts) + np.asarray(centre)
    c, s = math.cos(yaw), math.sin(yaw)
    x = origin[0] + c * p[:, 0] - s * p[:, 1]
    y = origin[1] + s * p[:, 0] + c * p[:, 1]
    return np.stack([x, y, p[:, 2]], axis=1)


@pytest.fixture(scope="module")
def sink_scene():
    spec = generate_scene(1001)
    rec = spec.receptacle("kitchen_sink_counter")
    bottle = next(o for o in spec.objects if o.id == "bottle_2")
    pts = np.concatenate([_box_points(p.pos, p.size, rec.pose[2], rec.pose) for p in rec.parts if p.type == "box"])
    return pts, np.asarray(bottle.position, float)


def _top_down(xyz: np.ndarray, base: Pose2D = BASE) -> tuple[Pose2D, JointState]:
    """(base pose after the IK's turn in place, joints) of a top-down grasp at xyz."""
    R = np.zeros((3, 3))
    R[:, 0] = [0, 0, -1]  # approach: down
    R[:, 1] = [math.cos(base.theta), math.sin(base.theta), 0]  # closing: along the base heading
    R[:, 2] = np.cross(R[:, 0], R[:, 1])
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, xyz
    r = solve_ik(T, base)
    assert r.ok, r.reason
    return r.solution.base_pose, r.solution.joints


BOTTLE = HeldShape(centre_in_grasp=np.zeros(3), radius_m=0.033, bottom_m=-0.185, top_m=0.015)


def test_a_bottle_held_from_above_cannot_come_out_of_the_sink(sink_scene):
    pts, bottom = sink_scene
    base, joints = _top_down(bottom + [0, 0, 0.185])
    plan = plan_retract(base, joints, pts, held=BOTTLE, min_rise_m=0.10)
    assert not plan.ok
    assert "lift's limit" in plan.reason


def test_a_short_object_on_the_counter_beside_the_sink_comes_back(sink_scene):
    pts, _ = sink_scene
    spot = np.array([6.25, 1.45, 0.90])  # on the counter top left of the basin, near its front edge
    assert np.any(np.linalg.norm(pts - spot, axis=1) < 0.02)
    can = HeldShape(centre_in_grasp=np.zeros(3), radius_m=0.03, bottom_m=-0.03, top_m=0.02)
    base, joints = _top_down(spot + [0, 0, 0.03], Pose2D(5.70, 1.47, BASE.theta))
    plan = plan_retract(base, joints, pts, held=can, min_rise_m=0.10)
    assert plan.ok, plan.reason
    # The lift has less than the usual 10 cm left up there: the plan uses what there is.
    assert 0.0 < plan.rise_m < 0.10
    assert plan.lift_m == pytest.approx(1.1)


def test_a_board_above_the_arm_caps_the_rise():
    base = Pose2D(0.0, 0.0, 0.0)
    joints = JointState(lift_m=0.5, arm_m=0.3, wrist_yaw=0.0, wrist_pitch=0.0)
    g = T_base_grasp(joints)[:3, 3]
    # A shelf board 5 cm above the arm tube (which rides 0.165-0.225 m above the lift) over the whole reach.
    xs, ys = np.meshgrid(np.arange(-0.3, 0.3, 0.02), np.arange(g[1] - 0.2, 0.1, 0.02))
    board = np.stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.5 + 0.225 + 0.05)], axis=1)
    plan = plan_retract(base, joints, board, min_rise_m=0.10)
    assert plan.ok  # capped below the board, the rise still leaves the way back clear
    assert plan.rise_m < 0.05
    # A block right behind the gripper at its height, under the board: no rise fits between them.
    block = np.stack([np.full(20, g[0]), np.linspace(g[1] + 0.12, g[1] + 0.2, 20), np.full(20, g[2])], axis=1)
    plan = plan_retract(base, joints, np.concatenate([board, block]), min_rise_m=0.10)
    assert not plan.ok
    assert "above the arm" in plan.reason

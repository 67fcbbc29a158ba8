"""Retract paths for the arm (with or without a held object) planned against scene points.

After a grasp (or a release) the arm has to come home: the Stretch's arm only telescopes along the base's
-y axis and the lift only moves vertically, so a retract is "rise by some amount, then pull the arm in"
(rise 0: pull in along a free corridor at the current height). A fixed order of joint moves (lift 8 cm,
pull in) drags a bottle held deep in a sink through the sink's rim, or a wrist lifted under a shelf board
into the board. `plan_retract` chooses the smallest rise that works, or says that none does:

- the moving assembly is the open gripper (grasping.config.GripperModel's boxes), the wrist block and the
  held object (a vertical cylinder: the footprint centre and radius measured at pick time, from its bottom
  to its top); its base-frame bounding box (x, y) and height range (z) are computed from forward kinematics;
- the pull sweeps that box along +y (towards the robot) by the arm extension: a scene point inside the
  swept box's x/y blocks the rises that put it within the assembly's height range (plus a margin);
- the rise sweeps the assembly and the arm tube (which rises with the lift) straight up: a point above them
  within their x/y bounds limits the rise.

Points are the head camera's scene points around the object and, where the caller has one, the map's
occupied voxels (the camera may not see what is between the gripper and the robot). Bounding boxes make the
check conservative; the simulator's exact collision check still guards every motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.stretch import STRETCH, T_base_grasp, arm_boxes_base
from core.types import JointState, Pose2D
from grasping.collision import gripper_boxes, off_robot_column
from grasping.config import GripperModel


@dataclass(frozen=True)
class HeldShape:
    """The held object in the grasp frame: footprint centre (3,), radius, and its bottom/top relative to
    the grasp centre's height (bottom < 0 < top for an object held around its middle)."""

    centre_in_grasp: np.ndarray
    radius_m: float
    bottom_m: float
    top_m: float


@dataclass(frozen=True)
class RetractPlan:
    ok: bool
    rise_m: float = 0.0
    """How far to raise the lift before pulling the arm in."""
    lift_m: float = 0.0
    """The lift to pull the arm in at (current lift + rise)."""
    reason: str = ""


def _assembly(joints: JointState, gripper: GripperModel, held: HeldShape | None) -> tuple[np.ndarray, np.ndarray]:
    """Base-frame (lo (3,), hi (3,)) bounding box of the moving gripper, wrist block and held object."""
    T = T_base_grasp(joints)
    boxes, _ = gripper_boxes(gripper)
    corners = np.array([[lo[0] if i & 1 else hi[0], lo[1] if i & 2 else hi[1], lo[2] if i & 4 else hi[2]]
                        for lo, hi in boxes for i in range(8)])
    pts = corners @ T[:3, :3].T + T[:3, 3]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    wrist = arm_boxes_base(joints.lift_m, joints.arm_m)[-1]
    lo, hi = np.minimum(lo, wrist[0]), np.maximum(hi, wrist[1])
    if held is not None:
        c = T[:3, :3] @ np.asarray(held.centre_in_grasp, float) + T[:3, 3]
        g = T[2, 3]
        r = held.radius_m
        lo = np.minimum(lo, [c[0] - r, c[1] - r, g + held.bottom_m])
        hi = np.maximum(hi, [c[0] + r, c[1] + r, g + held.top_m])
    return lo, hi


def plan_retract(base: Pose2D, joints: JointState, points_world: np.ndarray, gripper: GripperModel | None = None,
                 held: HeldShape | None = None, min_rise_m: float = 0.0, margin_m: float = 0.02,
                 step_m: float = 0.01) -> RetractPlan:
    """The smallest rise of at least `min_rise_m` (or, where the lift's limit or something above caps the
    rise below that, the largest one that works) after which the arm pulls in to 0 without the assembly
    touching `points_world`; ok False with a reason when none does."""
    gripper = gripper or GripperModel()
    lift_max = STRETCH.limits.lift_m[1]
    room = max(lift_max - joints.lift_m, 0.0)
    pts = np.asarray(points_world, np.float64).reshape(-1, 3)
    if len(pts):
        T = base.as_matrix()
        pts = (pts - T[:3, 3]) @ T[:3, :3]
        pts = pts[off_robot_column(pts)]  # the robot's own body as the camera saw it
    lo, hi = _assembly(joints, gripper, held)
    m = margin_m
    # Pull in: the box slides along +y by the arm extension.
    in_x = (pts[:, 0] >= lo[0] - m) & (pts[:, 0] <= hi[0] + m)
    corridor = in_x & (pts[:, 1] >= lo[1] - m) & (pts[:, 1] <= hi[1] + joints.arm_m + m)
    h = pts[corridor, 2]
    # Rise: the assembly and the arm tube go straight up; the lowest point above them caps the rise.
    tube = arm_boxes_base(joints.lift_m, joints.arm_m)[:-1]
    clo, chi = np.minimum(lo, tube[:, 0].min(axis=0)), np.maximum(hi, tube[:, 1].max(axis=0))
    column = (pts[:, 0] >= clo[0] - m) & (pts[:, 0] <= chi[0] + m) & (pts[:, 1] >= clo[1] - m) & \
        (pts[:, 1] <= chi[1] + m) & (pts[:, 2] > chi[2] + m)
    cap = room if not column.any() else min(room, float(pts[column, 2].min()) - chi[2] - m)
    cap = max(cap, 0.0)
    want = min(min_rise_m, cap)
    # Rising at least `min_rise_m` first (the object leaves its support), then less (a board above).
    up = np.append(np.arange(want, cap, step_m), cap)
    down = np.arange(want - step_m, -1e-9, -step_m)
    for d in np.concatenate([up, np.maximum(down, 0.0)]):
        blocked = (h >= lo[2] + d - m) & (h <= hi[2] + d + m)
        if not blocked.any():
            return RetractPlan(True, float(d), float(joints.lift_m + d))
    top = float(h.max()) if len(h) else 0.0
    why = "the lift's limit" if cap >= room - 1e-9 else f"something above the arm at {float(pts[column, 2].min()):.2f} m"
    return RetractPlan(False, 0.0, float(joints.lift_m),
                       f"no retract path: the way back to the robot is blocked up to {top:.2f} m high and {why} "
                       f"allows a rise of only {cap:.2f} m")


def retract_along(robot, plan: RetractPlan, steps: list[str]) -> bool:
    """Carry out a planned retract (rise, then pull the arm in); True when the arm came home."""
    if plan.rise_m > 1e-3:
        r = robot.move_arm(lift_m=plan.lift_m)
        steps.append(f"rise {plan.rise_m:.2f} m to pull in: {'ok' if r.success else r.reason}")
        if not r.success:
            return False
    r = robot.move_arm(arm_m=0.0)
    steps.append(f"pull the arm in: {'ok' if r.success else r.reason}")
    return bool(r.success)

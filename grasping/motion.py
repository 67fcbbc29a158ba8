"""Small joint-motion helpers shared by pick and place: logged moves that raise on failure, safe retract."""

from __future__ import annotations

from core.stretch import STRETCH
from robots.protocol import Robot


class MotionFailed(Exception):  # noqa: N818 - internal control flow, turned into a result reason
    """A robot motion did not complete; the message names the step and the robot's reason."""


def move_joints_safely(robot: Robot, label: str, steps: list[str], **joints: float) -> None:
    """robot.move_arm(**joints), logged in `steps`; raises MotionFailed with the robot's reason."""
    res = robot.move_arm(**joints)
    steps.append(f"{label}: {'ok' if res.success else res.reason}")
    if not res.success:
        raise MotionFailed(f"{label} failed: {res.reason}")


def retract(robot: Robot, steps: list[str], open_first: bool = False, clear_m: float = 0.08) -> None:
    """Bring the arm home: optionally open the gripper, lift clear of what is below, retract the arm.

    Never raises: a blocked step is logged and the next one is still tried (the arm must come back).
    """
    if open_first:
        r = robot.set_gripper(STRETCH.limits.gripper_m[1])
        steps.append(f"open: {'ok' if r.success else r.reason}")
    j = robot.get_joints()
    if j.arm_m <= 0.01:
        return
    up = min(j.lift_m + clear_m, STRETCH.limits.lift_m[1])
    if up > j.lift_m + 1e-3:
        r = robot.move_arm(lift_m=up)
        steps.append(f"lift clear: {'ok' if r.success else r.reason}")
    r = robot.move_arm(arm_m=0.0)
    steps.append(f"retract arm: {'ok' if r.success else r.reason}")

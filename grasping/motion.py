"""Small joint-motion helpers shared by pick and place: logged moves that raise on failure, safe retract."""

from __future__ import annotations

import math

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


def clear_view(robot: Robot, target_z: float, steps: list[str]) -> None:
    """Get the arm out of the head camera's line of sight to a target at height `target_z`.

    The arm is retracted, the wrist turned to point forward (yaw pi/2, level) and the lift lowered to about
    the target's height, so neither the gripper nor the arm's end hangs between the camera and the target.
    A sweep that touches something turns back off the contact; after the lift has moved it is tried once more
    (at the other height the held object may pass what it touched).
    """
    retract(robot, steps)
    j = robot.get_joints()
    swept = _sweep_wrist(robot, steps)
    lift = min(j.lift_m, max(0.3, target_z - 0.05))
    if lift < j.lift_m - 0.02:
        r = robot.move_arm(lift_m=lift)
        steps.append(f"lift out of view: {'ok' if r.success else r.reason}")
        if r.success and not swept:
            _sweep_wrist(robot, steps)


def _sweep_wrist(robot: Robot, steps: list[str]) -> bool:
    """Turn the wrist forward and level (out of the head camera's view); False if it touched something."""
    j = robot.get_joints()
    if abs(j.wrist_yaw - math.pi / 2) <= 0.05 and abs(j.wrist_pitch) <= 0.05 and abs(j.wrist_roll) <= 0.05:
        return True
    r = robot.move_arm(wrist_yaw=math.pi / 2, wrist_pitch=0.0, wrist_roll=0.0)
    steps.append(f"wrist out of view: {'ok' if r.success else r.reason}")
    if not r.success:
        _back_off(robot, j, steps)
    return r.success


def _back_off(robot: Robot, start, steps: list[str], yaw_back_rad: float = 0.3) -> None:
    """After a wrist sweep stopped at contact: turn back a little along the sweep (off the contact, the
    gripper still mostly out of the view), or all the way to `start` (the joints before the sweep) if that
    is blocked too. A held object tucked over the base swings out past the arm's side into the receptacle
    the base parked at (10452:0); left touching, the next lift fails."""
    s = robot.get_joints()
    span = abs(start.wrist_yaw - s.wrist_yaw)
    f = 1.0 if span < 1e-6 else min(1.0, yaw_back_rad / span)
    for frac in ((f, 1.0) if f < 1.0 else (1.0,)):
        r = robot.move_arm(**{k: getattr(s, k) + frac * (getattr(start, k) - getattr(s, k))
                              for k in ("wrist_yaw", "wrist_pitch", "wrist_roll")})
        steps.append(f"wrist back {'a little' if frac < 1.0 else 'to where it was'}: "
                     f"{'ok' if r.success else r.reason}")
        if r.success:
            return

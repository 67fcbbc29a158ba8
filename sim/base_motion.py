"""Kinematic, collision-checked motion of the simulated Stretch (base and joints).

Motions advance in small steps (SimConfig.base_step_m / base_step_rad / arm_step_*). After every step the
robot's collision shapes (base, mast, arm, gripper, head) and a held object are checked against walls,
furniture and objects (mj_collision). A step that makes a contact deeper than the deepest contact before it
(beyond `contact_tol_m`) is undone and the motion stops there with the contact as the reason. A robot that
starts in light contact can therefore still move away, but nothing can be pushed through a wall.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from core.stretch import drive_heading
from core.types import JointState, Pose2D, wrap_angle
from sim.protocol import World

STOPPED = "stopped by stop()"


@dataclass(frozen=True)
class StepResult:
    success: bool
    reason: str = ""


def follow_states(world: World, states: Iterable[tuple[Pose2D, JointState]], seconds_per_step: float = 0.0,
                  should_stop: Callable[[], bool] | None = None) -> StepResult:
    """Move through robot states in order, stopping before the first one that collides, or where
    `should_stop()` turns true (a stop() from another thread: the robot halts where it is)."""
    tol = world.config.contact_tol_m
    c0 = world.robot_contact()
    allowed = max(tol, c0.depth_m if c0 else 0.0) + 1e-4
    prev = (world.base_pose, world.joints)
    for base, joints in states:
        if should_stop is not None and should_stop():
            return StepResult(False, STOPPED)
        world.set_robot_state(base, joints)
        c = world.robot_contact()
        if c is not None and c.depth_m > allowed:
            world.set_robot_state(*prev)
            return StepResult(False, f"stopped at contact: {c.describe()}")
        # Contact may only get shallower from here on.
        allowed = max(tol, min(allowed, (c.depth_m if c is not None else 0.0) + 1e-4))
        prev = (base, joints)
        world.sim_time_s += seconds_per_step
    return StepResult(True)


def drive_to(world: World, goal: Pose2D, tolerance_m: float = 0.05,
             should_stop: Callable[[], bool] | None = None) -> StepResult:
    """Rotate towards the goal, drive straight to it, rotate to its heading (each in collision-checked steps).

    A goal behind the robot is reached by turning less and backing up (as a Stretch can), so a robot that
    stopped against a wall can back away from it.
    """
    cfg = world.config
    start = world.base_pose
    joints = world.joints
    dx, dy = goal.x - start.x, goal.y - start.y
    dist = math.hypot(dx, dy)
    phases: list[list[Pose2D]] = []
    heading = start.theta
    if dist > min(tolerance_m, 0.01):
        heading = drive_heading(start.theta, math.atan2(dy, dx))  # a goal behind: back up instead of turning
        phases.append(_rotation(start.x, start.y, start.theta, heading, cfg.base_step_rad))
        n = max(1, math.ceil(dist / cfg.base_step_m))
        phases.append([Pose2D(start.x + dx * k / n, start.y + dy * k / n, heading) for k in range(1, n + 1)])
    phases.append(_rotation(goal.x if dist > min(tolerance_m, 0.01) else start.x,
                            goal.y if dist > min(tolerance_m, 0.01) else start.y, heading, goal.theta, cfg.base_step_rad))
    names = ("turning towards the goal", "driving", "turning to the goal heading")[-len(phases):]
    for name, poses in zip(names, phases, strict=True):
        dt = cfg.base_step_m / cfg.base_speed_mps if name == "driving" else cfg.base_step_rad / cfg.base_yaw_speed_rps
        res = follow_states(world, ((p, joints) for p in poses), dt, should_stop)
        if not res.success:
            return StepResult(False, f"{name}: {res.reason}")
    return StepResult(True)


def _rotation(x: float, y: float, a0: float, a1: float, step: float) -> list[Pose2D]:
    delta = wrap_angle(a1 - a0)
    n = max(1, math.ceil(abs(delta) / step))
    return [Pose2D(x, y, wrap_angle(a0 + delta * k / n)) for k in range(1, n + 1)]


def joint_path(start: JointState, goal: JointState, step_m: float, step_rad: float) -> list[JointState]:
    """Straight interpolation in joint space with at most `step_m` / `step_rad` per joint per step."""
    lin = ("lift_m", "arm_m", "gripper_m")
    ang = ("wrist_yaw", "wrist_pitch", "wrist_roll", "head_pan", "head_tilt")
    d = {f: getattr(goal, f) - getattr(start, f) for f in lin + ang}
    n = max([1] + [math.ceil(abs(d[f]) / step_m) for f in lin] + [math.ceil(abs(d[f]) / step_rad) for f in ang])
    out = []
    for k in range(1, n + 1):
        t = k / n
        out.append(replace(start, **{f: float(getattr(start, f) + t * d[f]) for f in d}))
    return out


"""Robot-side motion limits: what a Stretch may be asked to do in one command, checked where it executes.

The planner already keeps goals sensible; these limits hold even when it does not (a wrong map registration,
a client bug, a hostile but authenticated client): the robot-server checks every motion command against
them before it starts, and the stretch_body backend checks again before it moves (its own `max_*` settings
in StretchBodyConfig). A violation is refused with a `LimitError` saying which limit, and counted.

- every number finite, every pose coordinate within `max_coordinate_m` of the map origin;
- `move_base_to`: the goal at most `max_goal_distance_m` (default 3 m) from where the robot is;
- `follow_waypoints`: at most MAX_WAYPOINTS poses, the whole path at most `max_path_m` (default 60 m, the
  extent of a large home); straight segments longer than `max_translation_m` (3 m) are split into pieces
  of at most that length, so no single straight translation is longer;
- tolerances: 0 < tolerance_m <= 0.5 m, 0 < tolerance_rad <= 1 rad;
- `move_arm`: lift, arm and wrist targets within core.stretch limits (refused, not clamped);
- `set_head` and `set_gripper`: finite values within 2 pi rad / [-0.05, 0.2] m (then clamped by the backend).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.stretch import STRETCH
from core.types import Pose2D

ARM_LIMITS = {
    "lift_m": STRETCH.limits.lift_m, "arm_m": STRETCH.limits.arm_m, "wrist_yaw": STRETCH.limits.wrist_yaw,
    "wrist_pitch": STRETCH.limits.wrist_pitch, "wrist_roll": STRETCH.limits.wrist_roll,
}


class LimitError(ValueError):
    """A motion command outside the robot-side limits."""


@dataclass(frozen=True)
class MotionLimits:
    max_translation_m: float = 3.0
    """Longest straight base translation one command may ask (m)."""
    max_goal_distance_m: float = 3.0
    """Farthest a base goal may lie from the robot's current pose (m)."""
    max_path_m: float = 60.0
    """Longest path (sum of its segments) one follow-path command may ask (m)."""
    max_coordinate_m: float = 1000.0
    """Largest |x| or |y| of any pose in a command (m from the map origin)."""
    max_tolerance_m: float = 0.5
    """Loosest position tolerance a motion may ask (m)."""
    max_tolerance_rad: float = 1.0
    """Loosest heading tolerance a motion may ask (rad)."""

    def __post_init__(self) -> None:
        for name in ("max_translation_m", "max_goal_distance_m", "max_path_m", "max_coordinate_m"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"MotionLimits.{name} must be a finite positive number, got {v!r}")


def _finite(name: str, v: float) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
        raise LimitError(f"{name} is not a finite number ({v!r})")
    return float(v)


def check_pose(what: str, p: Pose2D, limits: MotionLimits) -> None:
    for axis, v in (("x", p.x), ("y", p.y), ("theta", p.theta)):
        _finite(f"{what} {axis}", v)
    if max(abs(p.x), abs(p.y)) > limits.max_coordinate_m:
        raise LimitError(f"{what} ({p.x:.3g}, {p.y:.3g}) is more than {limits.max_coordinate_m:g} m from the map origin")


def distance(a: Pose2D, b: Pose2D) -> float:
    """Planar distance that cannot overflow (coordinates are bounded first by check_pose)."""
    return math.hypot(b.x - a.x, b.y - a.y)


def check_move_base(current: Pose2D, goal: Pose2D, tolerance_m: float, tolerance_rad: float,
                    limits: MotionLimits) -> None:
    check_pose("the goal", goal, limits)
    if not 0 < _finite("tolerance_m", tolerance_m) <= limits.max_tolerance_m:
        raise LimitError(f"tolerance_m {tolerance_m:g} is outside (0, {limits.max_tolerance_m:g}] m")
    if not 0 < _finite("tolerance_rad", tolerance_rad) <= limits.max_tolerance_rad:
        raise LimitError(f"tolerance_rad {tolerance_rad:g} is outside (0, {limits.max_tolerance_rad:g}] rad")
    d = distance(current, goal)
    if d > limits.max_goal_distance_m:
        raise LimitError(f"the goal is {d:.2f} m away, more than the {limits.max_goal_distance_m:g} m one move_base_to "
                         "may drive (use follow_waypoints along a planned path)")


def plan_waypoints(current: Pose2D, waypoints: Sequence[Pose2D], limits: MotionLimits) -> list[Pose2D]:
    """The waypoints with straight segments longer than max_translation_m split; LimitError if out of limits."""
    out: list[Pose2D] = []
    prev, total = current, 0.0
    for i, wp in enumerate(waypoints):
        check_pose(f"waypoint {i + 1}", wp, limits)
        seg = distance(prev, wp)
        total += seg
        if total > limits.max_path_m:
            raise LimitError(f"the path is longer than the {limits.max_path_m:g} m one follow_waypoints may drive "
                             f"(at waypoint {i + 1})")
        pieces = max(1, math.ceil(seg / limits.max_translation_m - 1e-9))
        for k in range(1, pieces):
            t = k / pieces
            out.append(Pose2D(prev.x + t * (wp.x - prev.x), prev.y + t * (wp.y - prev.y),
                              math.atan2(wp.y - prev.y, wp.x - prev.x)))
        out.append(wp)
        prev = wp
    return out


def check_arm(targets: dict[str, float]) -> None:
    for name, value in targets.items():
        lo, hi = ARM_LIMITS[name]
        if not lo <= _finite(name, value) <= hi:
            raise LimitError(f"{name}={value:.3f} is outside its limits [{lo}, {hi}]")


def check_head(pan: float, tilt: float) -> None:
    for name, v in (("pan", pan), ("tilt", tilt)):
        if abs(_finite(f"head {name}", v)) > 2 * math.pi:
            raise LimitError(f"head {name} {v:.3g} rad is beyond a full turn")


def check_gripper(aperture_m: float) -> None:
    if not -0.05 <= _finite("aperture_m", aperture_m) <= 0.2:
        raise LimitError(f"gripper aperture {aperture_m:.3g} m is outside [-0.05, 0.2] m")

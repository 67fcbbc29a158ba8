"""Settings of the real-Stretch backend: bounded speeds, tolerances, timeouts, map registration, gripper units.

Speeds are deliberately conservative; each has a hard ceiling (`HARD_MAX`) that a config cannot exceed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from core.types import Pose2D, wrap_angle

# Ceilings no configuration may exceed (m/s, m/s^2, rad/s, rad/s^2).
HARD_MAX = {
    "base_speed_m_s": 0.30, "base_accel_m_s2": 0.30, "base_rot_speed_rad_s": 0.80, "base_rot_accel_rad_s2": 1.0,
    "lift_speed_m_s": 0.15, "lift_accel_m_s2": 0.20, "arm_speed_m_s": 0.15, "arm_accel_m_s2": 0.20,
    "wrist_speed_rad_s": 1.5, "wrist_accel_rad_s2": 3.0, "head_speed_rad_s": 1.5, "head_accel_rad_s2": 3.0,
}


@dataclass(frozen=True)
class GripperCalibration:
    """Linear map between the fingertip aperture (m) and stretch_gripper position units ("robotis" percent).

    stretch_body's own conversion (stretch_body.gripper_conversion) is linear too: about 0 = fingertips just
    touching, about 50 = fully open (~0.125 m between the fingertips on an SE3 gripper), negative values
    squeeze (down to -100). Measure open_aperture_m at open_pct on your robot to calibrate. A close command
    (aperture 0) is sent as `grip_pct` so the fingers keep squeezing a grasped object.
    """

    closed_pct: float = 0.0
    open_pct: float = 50.0
    open_aperture_m: float = 0.125
    grip_pct: float = -30.0
    holding_min_m: float = 0.004  # after a close, a wider aperture than this means something is in the way

    def aperture_to_pct(self, aperture_m: float) -> float:
        if aperture_m <= 0.0:
            return self.grip_pct
        slope = (self.open_pct - self.closed_pct) / self.open_aperture_m
        return self.closed_pct + slope * aperture_m

    def pct_to_aperture(self, pct: float) -> float:
        slope = self.open_aperture_m / (self.open_pct - self.closed_pct)
        return max(0.0, (pct - self.closed_pct) * slope)


@dataclass
class StretchBodyConfig:
    """Speeds (bounded by HARD_MAX), tolerances and timeouts of the stretch_body backend."""

    base_speed_m_s: float = 0.10
    base_accel_m_s2: float = 0.10
    base_rot_speed_rad_s: float = 0.30
    base_rot_accel_rad_s2: float = 0.40
    lift_speed_m_s: float = 0.08
    lift_accel_m_s2: float = 0.10
    arm_speed_m_s: float = 0.08
    arm_accel_m_s2: float = 0.10
    wrist_speed_rad_s: float = 0.8
    wrist_accel_rad_s2: float = 1.5
    head_speed_rad_s: float = 0.8
    head_accel_rad_s2: float = 1.5
    poll_s: float = 0.02  # status polling period while waiting for a motion
    timeout_margin_s: float = 5.0  # added to distance / speed when waiting for a motion
    stall_s: float = 1.5  # no progress for this long (and not at the target): stopped by contact
    stall_eps: float = 0.002  # m or rad of progress that counts as moving
    tol_m: float = 0.01  # lift / arm target tolerance
    tol_rad: float = 0.05  # wrist / head target tolerance
    gripper_tol_pct: float = 4.0
    base_corrections: int = 2  # extra rotate-translate-rotate rounds to reach a base goal
    map_T_odom: tuple[float, float, float] = (0.0, 0.0, 0.0)  # pose of the odometry origin in the map frame
    home_if_needed: bool = False  # home the joints on connect if the robot is not homed (moves every joint!)
    max_translation_m: float = 3.0  # longest straight base translation one command may drive
    max_goal_distance_m: float = 3.0  # farthest move_base_to goal from the current pose
    max_motion_s: float = 120.0  # every motion's timeout is finite and at most this
    gripper: GripperCalibration = field(default_factory=GripperCalibration)

    def __post_init__(self) -> None:
        for name, ceiling in (("max_translation_m", 10.0), ("max_goal_distance_m", 10.0), ("max_motion_s", 600.0)):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and 0.0 < v <= ceiling):
                raise ValueError(f"{name}={v} is outside (0, {ceiling}]")
        for f in fields(self):
            if f.name in HARD_MAX:
                v = getattr(self, f.name)
                if not (0.0 < v <= HARD_MAX[f.name]):
                    raise ValueError(f"{f.name}={v} is outside (0, {HARD_MAX[f.name]}]")

    @property
    def map_pose_of_odom(self) -> Pose2D:
        return Pose2D.from_list(self.map_T_odom)


def compose(a: Pose2D, b: Pose2D) -> Pose2D:
    """a * b for planar poses (b expressed in a's frame)."""
    c, s = math.cos(a.theta), math.sin(a.theta)
    return Pose2D(a.x + c * b.x - s * b.y, a.y + s * b.x + c * b.y, wrap_angle(a.theta + b.theta))


def inverse(a: Pose2D) -> Pose2D:
    c, s = math.cos(a.theta), math.sin(a.theta)
    return Pose2D(-(c * a.x + s * a.y), -(-s * a.x + c * a.y), wrap_angle(-a.theta))

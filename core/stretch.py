"""Hello Robot Stretch 3 geometry, joint limits and forward kinematics — the one source of truth.

The kinematic chains below are copied from the official SE3 URDF (package `hello-robot-stretch-urdf`,
`stretch_description_SE3_eoa_wrist_dw3_tool_sg3.urdf`): joint origins (xyz, rpy), types and axes from
`base_link` to `link_grasp_center` (the point midway between the fingertips) and to the head camera's
colour optical frame. Navigation (base goals), grasping (IK) and the simulator all use these functions, so
a base pose + joint state means the same gripper pose everywhere.

Base frame: origin on the floor midway between the drive wheels, x forward, y left, z up. The telescoping
arm extends along -y (to the robot's right); with wrist yaw 0 the gripper points along -y too, with yaw
+pi/2 it points forward (+x). Wrist pitch < 0 tilts the gripper down (-pi/2: pointing at the floor).

The head camera frame returned here is *upright*: OpenCV axes with image x to the right and y down when the
head is level. The D435 on a real Stretch is mounted rotated by 90 degrees; the real backend rotates its
images to match this frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.geometry import rot_z, rpy_to_R
from core.types import JointState, Pose2D, wrap_angle


@dataclass(frozen=True)
class _J:
    name: str
    type: str
    xyz: tuple[float, float, float]
    rpy: tuple[float, float, float]
    axis: tuple[float, float, float]


_ARM_CHAIN = (
    _J("joint_mast", "fixed", (-0.067, 0.135, 0.0284), (1.5708, 0, 4.8006e-17), (0, 0, 0)),
    _J("joint_lift", "prismatic", (-0.037385, 0.1666, 0), (-1.5708, 1.5708, 0), (0, 0, 1)),
    _J("joint_arm_l4", "fixed", (-0.2547, 0, 0), (1.5708, 2.4721e-15, -1.5708), (0, 0, 0)),
    # The four telescoping segments (l3..l0) share the extension equally; summed into one joint here.
    _J("joint_arm", "prismatic", (0, 0, 0.013 + 0.013 + 0.013 - 0.01375), (0, 0, 0), (0, 0, 1)),
    _J("joint_wrist_yaw", "revolute", (0.083, -0.03075, 0), (-1.5708, 0, 3.14159265358978), (0, 0, -1)),
    _J("joint_wrist_yaw_bottom", "fixed", (0, 0, 0), (-3.14159265358979, 0, -1.5707963267949), (0, 0, 0)),
    _J("joint_wrist_pitch", "revolute", (0, -0.019455, -0.0305), (1.5708, 0, 3.1416), (0, 0, -1)),
    _J("joint_wrist_roll", "revolute", (-0.018859, -0.024, 0.01955), (3.1416, 1.5708, 0), (0, 0, 1)),
    _J("joint_gripper_s3_body", "fixed", (0, 0, 0.0209999999993159), (0, 0, -3.14159265358975), (0, 0, 0)),
    _J("joint_grasp_center", "fixed", (0, 0, 0.23), (-1.5707963267949, -1.5707963267948, 0), (0, 0, 0)),
)

_HEAD_CHAIN = (
    _J("joint_mast", "fixed", (-0.067, 0.135, 0.0284), (1.5708, 0, 4.8006e-17), (0, 0, 0)),
    _J("joint_head", "fixed", (0, 1.33, 0), (1.5707963267949, -1.5707963267949, 3.1416), (0, 0, 0)),
    _J("joint_head_pan", "revolute", (0.135, 0.0731000000000001, -0.00319621125547975), (0, 0, 1.5707963267949), (0, 0, 1)),
    _J("joint_head_tilt", "revolute", (-0.00130000001785262, 0.0277624999926072, -0.0533107920897029),
       (1.5707963267949, 3.36459255518345e-15, -8.42914893687103e-17), (0, 0, 1)),
    _J("camera_joint", "fixed", (0.03, -0.0122, 0.0182), (0, 0, 0), (0, 0, 0)),
    _J("camera_link_joint", "fixed", (0.0106, 0.0175, 0.0125), (0, 0, 0), (0, 0, 0)),
    _J("camera_color_joint", "fixed", (0, 0.015, 0), (0, 0, 0), (0, 0, 0)),
    _J("camera_color_optical_joint", "fixed", (0, 0, 0), (-1.5707963267948966, 0, -1.5707963267948966), (0, 0, 0)),
)

# Rotate the URDF optical frame (image x = down on the sideways-mounted D435) to an upright image.
_UPRIGHT = rot_z(-math.pi / 2)


@dataclass(frozen=True)
class StretchLimits:
    """Joint limits (URDF values; gripper aperture approximate for the SE3 gripper)."""

    lift_m: tuple[float, float] = (0.0, 1.1)
    arm_m: tuple[float, float] = (0.0, 0.52)
    wrist_yaw: tuple[float, float] = (-1.75, 4.0)
    wrist_pitch: tuple[float, float] = (-1.57, 0.56)
    wrist_roll: tuple[float, float] = (-3.14, 3.14)
    head_pan: tuple[float, float] = (-3.9, 1.5)
    head_tilt: tuple[float, float] = (-1.53, 0.79)
    gripper_m: tuple[float, float] = (0.0, 0.12)

    def clamp(self, joints: JointState) -> JointState:
        def c(v, lim):
            return float(min(max(v, lim[0]), lim[1]))

        return JointState(
            lift_m=c(joints.lift_m, self.lift_m),
            arm_m=c(joints.arm_m, self.arm_m),
            wrist_yaw=c(joints.wrist_yaw, self.wrist_yaw),
            wrist_pitch=c(joints.wrist_pitch, self.wrist_pitch),
            wrist_roll=c(joints.wrist_roll, self.wrist_roll),
            gripper_m=c(joints.gripper_m, self.gripper_m),
            head_pan=c(joints.head_pan, self.head_pan),
            head_tilt=c(joints.head_tilt, self.head_tilt),
            extra=dict(joints.extra),
        )

    def within(self, joints: JointState, tol: float = 1e-6) -> bool:
        pairs = [
            (joints.lift_m, self.lift_m),
            (joints.arm_m, self.arm_m),
            (joints.wrist_yaw, self.wrist_yaw),
            (joints.wrist_pitch, self.wrist_pitch),
            (joints.wrist_roll, self.wrist_roll),
            (joints.gripper_m, self.gripper_m),
            (joints.head_pan, self.head_pan),
            (joints.head_tilt, self.head_tilt),
        ]
        return all(lo - tol <= v <= hi + tol for v, (lo, hi) in pairs)


@dataclass(frozen=True)
class StretchGeometry:
    """Body dimensions used for collision checks, planning and the simulator.

    The base footprint is the SE3 URDF's base_link collision box: x in `base_x_m` (the body extends behind
    the wheel axis, the base origin midway between the drive wheels), y in `base_y_m`, about 0.34 m x 0.36 m;
    `base_radius_m` is the circle the planner inflates by (it covers the base while driving straight, not
    while turning: a turn in place sweeps the box's corners through a circle of ~0.34 m).
    Fingers: each fingertip pad is `finger_width_m` wide (across the closing direction), `finger_depth_m`
    thick, and reaches `finger_length_m` from the gripper body; the grasp centre sits between the pads.
    """

    base_radius_m: float = 0.22
    base_x_m: tuple[float, float] = (-0.286, 0.058)
    base_y_m: tuple[float, float] = (-0.181, 0.181)
    base_height_m: float = 0.30
    wheel_separation_m: float = 0.3407
    finger_length_m: float = 0.18
    finger_width_m: float = 0.022
    finger_depth_m: float = 0.03
    head_height_m: float = 1.32
    limits: StretchLimits = StretchLimits()


STRETCH = StretchGeometry()

ARM_SEGMENTS: tuple[tuple[float, tuple[float, float, float], tuple[float, float, float]], ...] = (
    (0.0, (-0.142, -0.120, 0.157), (-0.067, 0.103, 0.233)),  # link_arm_l4 (the outer tube, fixed to the lift)
    (0.25, (-0.140, -0.133, 0.159), (-0.069, 0.094, 0.231)),  # link_arm_l3
    (0.5, (-0.138, -0.146, 0.161), (-0.071, 0.081, 0.229)),  # link_arm_l2
    (0.75, (-0.136, -0.159, 0.163), (-0.073, 0.068, 0.227)),  # link_arm_l1
    (1.0, (-0.123, -0.170, 0.165), (0.001, -0.113, 0.224)),  # link_arm_l0 (the inner tube's end piece)
)
"""The telescoping arm's URDF collision boxes in the base frame at lift 0 and arm 0, as (share of the arm
extension that moves the segment along -y, lo, hi): the SE3 URDF's l4..l0 boxes at the joint origins
above (sim.mujoco.stretch_model builds the simulated arm from the same boxes; tests/test_core_stretch_arm.py
compares them). z is above the lift joint's value: the outer tube's top is 23.3 cm above it."""

WRIST_BLOCK: tuple[tuple[float, float, float], tuple[float, float, float]] = (
    (-0.1186, -0.03, -0.0442), (0.03, 0.03, 0.0608))
"""The wrist at the arm's end as one box around every wrist yaw, relative to the wrist-yaw axis at the top
of the arm (`wrist_yaw_axis_base`): the yaw motor (link_wrist_yaw) and the bracket beneath it
(link_wrist_yaw_bottom) where the gripper and its own boxes (grasping.config.GripperModel) begin."""


def arm_boxes_base(lift_m: float, arm_m: float) -> np.ndarray:
    """(6, 2, 3) lo/hi boxes in the base frame: the five arm segments (outer to inner) and the wrist block."""
    out = np.empty((len(ARM_SEGMENTS) + 1, 2, 3))
    for i, (share, lo, hi) in enumerate(ARM_SEGMENTS):
        out[i] = (lo, hi)
        out[i, :, 1] -= share * arm_m
        out[i, :, 2] += lift_m
    w = wrist_yaw_axis_base(lift_m, arm_m)
    out[-1] = (w + np.asarray(WRIST_BLOCK[0]), w + np.asarray(WRIST_BLOCK[1]))
    return out

STOW_WRIST_YAW = 3.4
"""Wrist yaw of Hello Robot's stow pose: the gripper folded back over the base (inside its footprint), the
pose to drive in."""


def _joint_values(joints: JointState) -> dict[str, float]:
    return {
        "joint_lift": joints.lift_m,
        "joint_arm": joints.arm_m,
        "joint_wrist_yaw": joints.wrist_yaw,
        "joint_wrist_pitch": joints.wrist_pitch,
        "joint_wrist_roll": joints.wrist_roll,
        "joint_head_pan": joints.head_pan,
        "joint_head_tilt": joints.head_tilt,
    }


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    x, y, z = axis
    c, s, C = math.cos(angle), math.sin(angle), 1 - math.cos(angle)
    return np.array(
        [[c + x * x * C, x * y * C - z * s, x * z * C + y * s],
         [y * x * C + z * s, c + y * y * C, y * z * C - x * s],
         [z * x * C - y * s, z * y * C + x * s, c + z * z * C]]
    )


def _chain_fk(chain: tuple[_J, ...], values: dict[str, float]) -> np.ndarray:
    T = np.eye(4)
    for j in chain:
        To = np.eye(4)
        To[:3, :3] = rpy_to_R(*j.rpy)
        To[:3, 3] = j.xyz
        M = np.eye(4)
        v = values.get(j.name, 0.0)
        if j.type == "prismatic":
            M[:3, 3] = np.asarray(j.axis, dtype=float) * v
        elif j.type == "revolute":
            M[:3, :3] = _axis_angle(np.asarray(j.axis, dtype=float), v)
        T = T @ To @ M
    return T


def T_base_grasp(joints: JointState) -> np.ndarray:  # noqa: N802
    """Pose of the grasp centre in the base frame.

    The grasp frame's x axis is the approach direction (from the wrist out between the fingers); its y axis
    is the closing direction (fingertip to fingertip).
    """
    return _chain_fk(_ARM_CHAIN, _joint_values(joints))


def T_base_headcam(head_pan: float, head_tilt: float) -> np.ndarray:  # noqa: N802
    """Pose of the upright head-camera optical frame (OpenCV axes) in the base frame."""
    T = _chain_fk(_HEAD_CHAIN, {"joint_head_pan": head_pan, "joint_head_tilt": head_tilt})
    T[:3, :3] = T[:3, :3] @ _UPRIGHT
    return T


def T_world_grasp(base: Pose2D, joints: JointState) -> np.ndarray:  # noqa: N802
    return base.as_matrix() @ T_base_grasp(joints)


def T_world_headcam(base: Pose2D, head_pan: float, head_tilt: float) -> np.ndarray:  # noqa: N802
    return base.as_matrix() @ T_base_headcam(head_pan, head_tilt)


def wrist_yaw_axis_base(lift_m: float, arm_m: float) -> np.ndarray:
    """Position of the wrist-yaw axis in the base frame (it is vertical)."""
    T = _chain_fk(_ARM_CHAIN[:5], {"joint_lift": lift_m, "joint_arm": arm_m})
    return T[:3, 3].copy()


ANGLED_WRIST_PITCH = -math.pi / 4
"""Wrist pitch of an angled grasp (grasping.proposals' "angled" family, navigation.base_goal's "angled" reach
mode, the episode generator's 45-degree feasibility): the gripper comes down at 45 degrees along the arm, its
body up and behind the fingers, so it reaches about 0.15 m farther out than pitched straight down and stays
clear of the surface a short object stands on."""


def arm_top_above_grasp(wrist_pitch: float) -> float:
    """Height of the arm's top (its outer segment, `ARM_SEGMENTS`) above the grasp centre at this wrist pitch
    (any lift and extension): 0.369 m with the gripper pointing down, 0.123 m level."""
    j = JointState(lift_m=0.0, arm_m=0.0, wrist_pitch=wrist_pitch)
    return float(arm_boxes_base(0.0, 0.0)[:-1, 1, 2].max() - T_base_grasp(j)[2, 3])


def head_look_at(base: Pose2D, target_xyz_world: np.ndarray) -> tuple[float, float]:
    """Head pan and tilt (rad) that point the camera at a world point (approximate, within a few degrees)."""
    T_base_world = np.linalg.inv(base.as_matrix())
    p = T_base_world[:3, :3] @ np.asarray(target_xyz_world, dtype=float) + T_base_world[:3, 3]
    cam0 = T_base_headcam(0.0, 0.0)[:3, 3]
    d = p - cam0
    pan = math.atan2(d[1], d[0])
    tilt = math.atan2(d[2], math.hypot(d[0], d[1]))
    lim = STRETCH.limits
    return (min(max(pan, lim.head_pan[0]), lim.head_pan[1]), min(max(tilt, lim.head_tilt[0]), lim.head_tilt[1]))


LASER_XYZ = (0.004, 0.0, 0.1664)
"""base_link -> laser (the RPLidar A1's scan plane), Stretch URDF `joint_laser`."""
LASER_YAW = math.pi
"""The laser frame is turned by pi about z against base_link (URDF `joint_laser` rpy)."""


def laser_pose(base: Pose2D) -> Pose2D:
    """The lidar's planar pose for a base pose (same frame as the base pose)."""
    c, s = math.cos(base.theta), math.sin(base.theta)
    return Pose2D(base.x + c * LASER_XYZ[0] - s * LASER_XYZ[1], base.y + s * LASER_XYZ[0] + c * LASER_XYZ[1],
                  math.remainder(base.theta + LASER_YAW, 2 * math.pi))



def drive_heading(heading: float, travel: float) -> float:
    """The heading the Stretch's base drives at to a point in direction `travel` when it faces `heading`:
    the travel direction, or its opposite when that is the smaller turn (it backs up to a point behind it).
    One rule for the planner's turn checks (navigation.maneuvers), the simulated base (sim.base_motion) and
    the real one (robots.stretch_body_backend), so the turn that was checked is the turn that is made."""
    return travel if abs(wrap_angle(travel - heading)) <= math.pi / 2 else wrap_angle(travel + math.pi)

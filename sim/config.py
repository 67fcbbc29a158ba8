"""Configuration of the MuJoCo world and the simulated Stretch (one place for every default)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from core.types import CameraIntrinsics


def cache_dir() -> Path:
    """Where converted assets are cached: $OVMM_CACHE_DIR, else ~/.cache/ovmm."""
    env = os.environ.get("OVMM_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "ovmm"


@dataclass(frozen=True)
class SimConfig:
    """Parameters of the simulated world.

    The head camera imitates the D435 depth stream: 640 x 480 pixels, 58 degrees vertical field of view
    (about 73 degrees horizontal with square pixels), principal point at the image centre, depth valid from
    `depth_min_m` to `depth_max_m` (0 elsewhere).
    """

    camera_width: int = 640
    camera_height: int = 480
    camera_vfov_deg: float = 58.0
    depth_min_m: float = 0.1
    depth_max_m: float = 10.0
    # Rendering: shadows cost ~30% render time on a software renderer; off by default.
    shadows: bool = False
    robot_visual_meshes: bool = True  # False: draw the robot's (box) collision shapes instead of its meshes
    # Physics.
    timestep_s: float = 0.004
    settle_max_s: float = 3.0
    settle_speed_tol: float = 0.01  # m/s (linear, or angular x 0.1 m) below which an object is at rest
    object_friction: float = 1.0
    # Kinematic motion (base and arm move in small steps, checked for collision at every step).
    base_step_m: float = 0.05
    base_step_rad: float = 0.1
    base_speed_mps: float = 0.3  # simulated time per base step (for step_physics while driving)
    base_yaw_speed_rps: float = 0.6
    arm_step_m: float = 0.02
    arm_step_rad: float = 0.08
    gripper_step_m: float = 0.01
    # Collision tolerance: penetrations shallower than this are not collisions (mesh contact noise).
    contact_tol_m: float = 0.002

    def intrinsics(self) -> CameraIntrinsics:
        return CameraIntrinsics.from_fov(self.camera_width, self.camera_height, math.radians(self.camera_vfov_deg))

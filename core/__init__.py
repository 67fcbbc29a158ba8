"""Shared types and geometry for ovmm: cameras, frames, observations, poses, SE(3) helpers, model loading."""

from core.errors import OvmmError
from core.types import CameraIntrinsics, Observation, Pose2D, RGBDFrame

__all__ = ["CameraIntrinsics", "Observation", "OvmmError", "Pose2D", "RGBDFrame"]

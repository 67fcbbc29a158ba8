"""A planar scan from head-camera depth: what a robot without a lidar localises with.

The head pans around (a "sweep"); every depth frame is back-projected (core.geometry.backproject, posed by
its T_world_cam in the robot's odometry frame), the points at the lidar's height band above the floor are
kept, and per `step_deg` bearing around the base the nearest one becomes that bearing's range, so the result
is a `core.types.LaserScan` at the base pose, matched against the map exactly like a lidar scan
(navigation.localization). Bearings no frame saw are inf (no return).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.geometry import backproject
from core.types import LaserScan, Pose2D, RGBDFrame

SWEEP_BAND_M = (0.10, 0.30)
"""The same height band the map side keeps (navigation.localization.SCAN_BAND_M)."""


def depth_sweep_scan(frames: Sequence[RGBDFrame], base_pose: Pose2D, band_m: tuple[float, float] = SWEEP_BAND_M,
                     step_deg: float = 1.0, max_m: float = 8.0, stride: int = 2) -> LaserScan:
    """The frames' depth at `band_m` as a scan around `base_pose` (both in the same frame: odometry)."""
    pts = []
    for f in frames:
        xyz, _ = backproject(f.depth_m, f.intrinsics, f.T_world_cam, max_depth_m=max_m, stride=stride)
        pts.append(xyz[(xyz[:, 2] >= band_m[0]) & (xyz[:, 2] <= band_m[1]), :2])
    xy = np.concatenate(pts) if pts else np.zeros((0, 2))
    c, s = math.cos(base_pose.theta), math.sin(base_pose.theta)
    rel = (xy - base_pose.xy) @ np.array([[c, -s], [s, c]])  # into the base frame
    n = int(round(360.0 / step_deg))
    angles = -math.pi + (np.arange(n) + 0.5) * (2 * math.pi / n)
    ranges = np.full(n, np.inf)
    if len(rel):
        r = np.hypot(rel[:, 0], rel[:, 1])
        b = np.floor((np.arctan2(rel[:, 1], rel[:, 0]) + math.pi) / (2 * math.pi / n)).astype(np.int64) % n
        np.minimum.at(ranges, b, r)
    return LaserScan(angles_rad=angles, ranges_m=ranges, pose=base_pose, height_m=float(np.mean(band_m)),
                     min_m=0.0, max_m=max_m)

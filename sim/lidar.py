"""A planar lidar like the Stretch's Slamtec RPLidar A1, by ray casts against the simulated scene.

The lidar sits where the Stretch URDF puts it (`joint_laser`: 0.004 m ahead of base_link, 0.1664 m above
the floor, turned by pi about z). Rays are cast through World.cast_rays (MuJoCo mj_multiRay, skipping the
robot's own geometry) in `step_deg` steps over `fov_deg`; ranges outside [min_m, max_m] are invalid (inf).
With noise on, each range is quantised/perturbed by the A1's resolution: under 1% of the distance beyond
1.5 m (`resolution_frac`, taken as the 1-sigma error) and `near_resolution_m` below.
"""

from __future__ import annotations

import numpy as np

from core.stretch import LASER_XYZ, laser_pose
from core.types import LaserScan, Pose2D
from sim.protocol import World
from sim.realism import LidarConfig


def scan_angles(cfg: LidarConfig) -> np.ndarray:
    n = max(1, int(round(cfg.fov_deg / cfg.step_deg)))
    return np.radians(-0.5 * cfg.fov_deg + cfg.step_deg * np.arange(n)).astype(np.float64)


def true_ranges(world: World, true_base: Pose2D, cfg: LidarConfig) -> np.ndarray:
    """Exact ranges (inf where nothing lies within max_m) from the lidar at a true base pose."""
    lp = laser_pose(true_base)
    a = scan_angles(cfg) + lp.theta
    dirs = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=1)
    origins = np.tile([lp.x, lp.y, LASER_XYZ[2]], (len(a), 1))
    return world.cast_rays(origins, dirs, cfg.max_m)


def simulate_scan(world: World, true_base: Pose2D, reported_base: Pose2D, cfg: LidarConfig,
                  rng: np.random.Generator, stamp: float) -> LaserScan:
    """One scan: ranges measured at the true pose, the lidar pose given in the reported (odometry) frame."""
    r = true_ranges(world, true_base, cfg)
    if cfg.noise:
        sigma = np.where(r > 1.5, cfg.resolution_frac * r, cfg.near_resolution_m)
        r = r + rng.standard_normal(r.shape) * np.where(np.isfinite(r), sigma, 0.0)
    r = np.where((r >= cfg.min_m) & (r <= cfg.max_m), r, np.inf)
    return LaserScan(angles_rad=scan_angles(cfg), ranges_m=r.astype(np.float64), pose=laser_pose(reported_base),
                     height_m=LASER_XYZ[2], timestamp=stamp, min_m=cfg.min_m, max_m=cfg.max_m)

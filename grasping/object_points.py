"""The target object's points (world frame) from a head-camera frame and the target's mask.

Masked depth pixels are back-projected with the frame's pose, limited to a depth range, voxel-downsampled,
cleaned of statistical outliers (open3d) and reduced to the largest DBSCAN clusters (mask bleed onto the
table or the wall behind ends up in small clusters; a thin-walled bowl seen from above may split into its
near and far walls, so clusters at least `cluster_keep_ratio` of the largest are kept). The scene points around the object (every other
valid depth pixel within a radius) are kept for collision checks and the support surface.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import open3d as o3d
from scipy import ndimage

from core.errors import OvmmError
from core.geometry import backproject
from core.types import RGBDFrame
from grasping.config import ObjectPointsConfig

log = logging.getLogger(__name__)


class ObjectNotSeenError(OvmmError):
    """The target's mask gave too few valid depth points to grasp from."""


@dataclass
class ObjectCloud:
    """Cleaned object points and the scene around them, float32 (N, 3) world frame."""

    points: np.ndarray
    scene: np.ndarray

    @property
    def centroid(self) -> np.ndarray:
        return self.points.mean(axis=0)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.points.min(axis=0), self.points.max(axis=0)


def voxel_down(xyz: np.ndarray, voxel_m: float) -> np.ndarray:
    """One point (the mean) per occupied voxel; numpy only, order-independent."""
    if len(xyz) == 0 or voxel_m <= 0:
        return xyz.astype(np.float32)
    keys = np.floor(xyz / voxel_m).astype(np.int64)
    _, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    sums = np.zeros((len(counts), 3), np.float64)
    np.add.at(sums, inv, xyz)
    return (sums / counts[:, None]).astype(np.float32)


def clean_points(xyz: np.ndarray, config: ObjectPointsConfig | None = None) -> np.ndarray:
    """Voxel-downsample, drop statistical outliers and keep the largest DBSCAN cluster(s)."""
    config = config or ObjectPointsConfig()
    xyz = voxel_down(np.asarray(xyz, dtype=np.float32), config.voxel_m)
    if len(xyz) < config.min_points:
        return xyz
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(xyz.astype(np.float64)))
    pcd, _ = pcd.remove_statistical_outlier(nb_neighbors=config.outlier_neighbors, std_ratio=config.outlier_std_ratio)
    if len(pcd.points) < config.min_points:
        return np.asarray(pcd.points, dtype=np.float32)
    labels = np.asarray(pcd.cluster_dbscan(eps=config.dbscan_eps_m, min_points=config.dbscan_min_points))
    pts = np.asarray(pcd.points, dtype=np.float32)
    if labels.size == 0 or labels.max() < 0:
        return pts
    counts = np.bincount(labels[labels >= 0])
    keep = np.flatnonzero(counts >= config.cluster_keep_ratio * counts.max())
    return pts[np.isin(labels, keep)]


def object_cloud(
    frame: RGBDFrame, mask: np.ndarray, config: ObjectPointsConfig | None = None, name: str = "object"
) -> ObjectCloud:
    """The cleaned object points and the scene points around them.

    Raises ObjectNotSeenError when the mask holds fewer than `config.min_points` valid points after cleaning.
    """
    config = config or ObjectPointsConfig()
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != frame.depth_m.shape:
        raise ObjectNotSeenError(f"the mask for {name} is {mask.shape}, the depth image is {frame.depth_m.shape}")
    core_mask = mask
    if config.mask_erode_px > 0 and mask.sum() > 200:
        eroded = ndimage.binary_erosion(mask, iterations=config.mask_erode_px)
        core_mask = eroded if eroded.sum() >= config.min_points else mask
    xyz, _ = backproject(frame.depth_m, frame.intrinsics, frame.T_world_cam, core_mask,
                         config.min_depth_m, config.max_depth_m)
    pts = clean_points(xyz, config)
    if len(pts) < config.min_points:
        raise ObjectNotSeenError(
            f"{name}: only {len(pts)} valid depth points in its mask (need {config.min_points}); "
            "it is too far, too small or hidden from the head camera"
        )
    # Scene: every other valid pixel (the full mask is excluded so silhouette pixels are not obstacles).
    others = ndimage.binary_dilation(mask, iterations=2)
    sxyz, _ = backproject(frame.depth_m, frame.intrinsics, frame.T_world_cam, ~others,
                          config.min_depth_m, config.max_depth_m, stride=2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = 0.5 * (lo + hi)
    r = config.scene_radius_m + 0.5 * float(np.linalg.norm(hi - lo))
    near = np.linalg.norm(sxyz - centre, axis=1) <= r
    scene = voxel_down(sxyz[near], config.scene_voxel_m)
    log.debug("%s: %d object points, %d scene points", name, len(pts), len(scene))
    return ObjectCloud(points=pts, scene=scene)


def cloud_from_points(points: np.ndarray, scene: np.ndarray | None = None,
                      config: ObjectPointsConfig | None = None) -> ObjectCloud:
    """An ObjectCloud from already-segmented world points (e.g. a map query), cleaned the same way."""
    config = config or ObjectPointsConfig()
    pts = clean_points(np.asarray(points, dtype=np.float32).reshape(-1, 3), config)
    if len(pts) < config.min_points:
        raise ObjectNotSeenError(f"only {len(pts)} object points after cleaning (need {config.min_points})")
    sc = np.zeros((0, 3), np.float32) if scene is None else voxel_down(
        np.asarray(scene, dtype=np.float32).reshape(-1, 3), config.scene_voxel_m)
    return ObjectCloud(points=pts, scene=sc)

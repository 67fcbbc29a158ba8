"""The target object's points (world frame) from a head-camera frame and the target's mask.

Masked depth pixels are back-projected with the frame's pose, limited to a depth range, voxel-downsampled,
cleaned of statistical outliers (open3d) and reduced to the largest DBSCAN clusters (mask bleed onto the
table or the wall behind ends up in small clusters; a thin-walled bowl seen from above may split into its
near and far walls, so clusters at least `cluster_keep_ratio` of the largest are kept). The scene points around the object (every other
valid depth pixel within a radius) are kept for collision checks and the support surface.

Several frames of a still robot (`fused_object_cloud`): a detector errs per frame — a missed frame, another
object's mask given the target's label, a spurious patch carrying it, a mask shifted or grown onto the
table — and a stereo camera's depth is noisy per frame. Points are kept where the masks of a majority of
the frames agree (a 1.5 cm voxel, with its neighbours, holds points of at least `fuse_min_share` of the
frames), then cleaned together (the voxel mean averages the depth noise). Without such agreement the single
frame nearest the expected position is used.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, replace

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
    if np.abs(keys).max() < (1 << 20):  # one int64 per voxel: a 1-D unique, in the rows' lexicographic order
        _, inv, counts = np.unique(_voxel_codes(keys), return_inverse=True, return_counts=True)
    else:
        _, inv, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inv = inv.reshape(-1)
    sums = np.stack([np.bincount(inv, weights=xyz[:, a], minlength=len(counts)) for a in range(3)], axis=1)
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


def _mask_points(frame: RGBDFrame, mask: np.ndarray, config: ObjectPointsConfig, name: str) -> np.ndarray:
    """The raw world points of the mask's valid depth pixels (eroded by `mask_erode_px` where it is big)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != frame.depth_m.shape:
        raise ObjectNotSeenError(f"the mask for {name} is {mask.shape}, the depth image is {frame.depth_m.shape}")
    core_mask = mask
    if config.mask_erode_px > 0 and mask.sum() > 200:
        eroded = ndimage.binary_erosion(mask, iterations=config.mask_erode_px)
        core_mask = eroded if eroded.sum() >= config.min_points else mask
    xyz, _ = backproject(frame.depth_m, frame.intrinsics, frame.T_world_cam, core_mask,
                         config.min_depth_m, config.max_depth_m)
    return xyz


def mask_centre(frame: RGBDFrame, mask: np.ndarray, config: ObjectPointsConfig) -> np.ndarray | None:
    """The median world point of a mask's valid depth pixels (None when it has none or another shape)."""
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != frame.depth_m.shape:
        return None
    xyz, _ = backproject(frame.depth_m, frame.intrinsics, frame.T_world_cam, mask, config.min_depth_m,
                         config.max_depth_m, stride=2 if mask.sum() > 400 else 1)
    return np.median(xyz, axis=0) if len(xyz) else None


def choose_mask(frame: RGBDFrame, masks: list[tuple[np.ndarray, float]], near: np.ndarray | None,
                score_margin: float, config: ObjectPointsConfig) -> tuple[np.ndarray, float]:
    """Of one frame's (mask, score) pairs (at least one), the one to take: among those scoring within
    `score_margin` of the best, the one whose points lie nearest `near` horizontally (the best-scored
    without `near`). Two masks alike for the phrase are a confused label or a similar object beside the
    one meant: where it should be decides (apartment 10480)."""
    top = max(s for _, s in masks)
    alike = [(m, s) for m, s in masks if s >= top - score_margin]
    if near is None or len(alike) == 1:
        return max(alike, key=lambda ms: ms[1])

    def distance(ms: tuple[np.ndarray, float]) -> float:
        c = mask_centre(frame, ms[0], config)
        return np.inf if c is None else float(np.hypot(c[0] - near[0], c[1] - near[1]))

    return min(alike, key=distance)


def _not_seen(name: str, n: int, config: ObjectPointsConfig) -> ObjectNotSeenError:
    return ObjectNotSeenError(
        f"{name}: only {n} valid depth points in its mask (need {config.min_points}); "
        "it is too far, too small or hidden from the head camera"
    )


def object_cloud(
    frame: RGBDFrame, mask: np.ndarray, config: ObjectPointsConfig | None = None, name: str = "object"
) -> ObjectCloud:
    """The cleaned object points and the scene points around them.

    Raises ObjectNotSeenError when the mask holds fewer than `config.min_points` valid points after cleaning.
    """
    config = config or ObjectPointsConfig()
    pts = clean_points(_mask_points(frame, mask, config, name), config)
    if len(pts) < config.min_points:
        raise _not_seen(name, len(pts), config)
    return ObjectCloud(points=pts, scene=_scene_around(frame, mask, pts, config, name))


_NEIGHBOURS = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], np.int64)


def _voxel_codes(keys: np.ndarray) -> np.ndarray:
    """One int64 per voxel key (each axis offset into 21 bits: +-1 million voxels)."""
    k = keys + (1 << 20)
    return (k[:, 0] << 42) | (k[:, 1] << 21) | k[:, 2]


def agreeing_points(clouds: list[np.ndarray], voxel_m: float, min_share: float) -> np.ndarray:
    """The points (of all clouds) whose voxel or one of its 26 neighbours holds points of at least
    `min_share` of the clouds, and of two at least (its own included), concatenated; all points when there
    is only one cloud."""
    clouds = [np.asarray(c, np.float32).reshape(-1, 3) for c in clouds]
    if len(clouds) <= 1:
        return clouds[0] if clouds else np.zeros((0, 3), np.float32)
    need = max(2, int(np.ceil(min_share * len(clouds) - 1e-9)))
    keys = [np.floor(c / voxel_m).astype(np.int64) for c in clouds]
    near = [np.unique(_voxel_codes((k[:, None, :] + _NEIGHBOURS[None]).reshape(-1, 3))) for k in keys]
    kept = []
    for c, k in zip(clouds, keys, strict=True):
        codes = _voxel_codes(k)
        votes = sum(np.isin(codes, n, assume_unique=False).astype(np.int32) for n in near)
        kept.append(c[votes >= need])
    return np.concatenate(kept)


def median_depth_frame(frames: list[RGBDFrame], min_valid: int = 2, max_shift_m: float = 0.005,
                       max_turn_rad: float = 0.005) -> RGBDFrame:
    """The first frame with each pixel's depth replaced by its median over the frames (valid where at least
    `min_valid` of them measured it): a still camera's per-frame depth noise shrinks and a pixel that drops
    out or jumps in one frame is outvoted. Frames whose camera moved (more than `max_shift_m` /
    `max_turn_rad` from the first) are left out; with fewer than two the first frame comes back unchanged."""
    first = frames[0]
    T0 = np.asarray(first.T_world_cam, np.float64)
    still = []
    for f in frames:
        T = np.asarray(f.T_world_cam, np.float64)
        if f.depth_m.shape != first.depth_m.shape:
            continue
        turn = np.arccos(np.clip((np.trace(T0[:3, :3].T @ T[:3, :3]) - 1.0) / 2.0, -1.0, 1.0))
        if np.linalg.norm(T[:3, 3] - T0[:3, 3]) <= max_shift_m and turn <= max_turn_rad:
            still.append(np.asarray(f.depth_m, np.float32))
    if len(still) < 2:
        return first
    stack = np.stack(still)
    valid = np.isfinite(stack) & (stack > 0)
    with warnings.catch_warnings():  # pixels no frame measured: all-NaN, set to 0 below
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(valid, stack, np.nan), axis=0)
    depth = np.where(valid.sum(axis=0) >= min(min_valid, len(still)), med, 0.0).astype(np.float32)
    return replace(first, depth_m=depth)


def fused_object_cloud(views: list[tuple[RGBDFrame, np.ndarray]], config: ObjectPointsConfig | None = None,
                       name: str = "object", near: np.ndarray | None = None) -> tuple[ObjectCloud, RGBDFrame]:
    """The object's points from several (frame, mask) views of a still camera, and the frame whose scene
    points came with it: the points on which a majority of the views agree (`agreeing_points`), cleaned
    together; where they do not agree (too few points), the single view whose cleaned points lie nearest
    `near` (the expected position; the largest without it).

    Raises ObjectNotSeenError when no view gives `config.min_points` cleaned points.
    """
    config = config or ObjectPointsConfig()
    if not views:
        raise _not_seen(name, 0, config)
    raw = [voxel_down(_mask_points(f, m, config, name), config.voxel_m) for f, m in views]
    frame = views[0][0]
    if len(views) > 1:
        pts = clean_points(agreeing_points(raw, config.fuse_voxel_m, config.fuse_min_share), config)
        if len(pts) >= config.min_points:
            # The scene leaves out the pixels most masks give the object (the camera is still).
            masks = [np.asarray(m, bool) for _, m in views if np.shape(m) == frame.depth_m.shape]
            need = max(2, int(np.ceil(config.fuse_min_share * len(masks) - 1e-9)))
            mask = np.sum(masks, axis=0) >= min(need, len(masks))
            scene_frame = median_depth_frame([f for f, _ in views], need)
            return ObjectCloud(points=pts, scene=_scene_around(scene_frame, mask, pts, config, name)), frame
    singles = [(clean_points(r, config), f, m) for r, (f, m) in zip(raw, views, strict=True)]
    singles = [s for s in singles if len(s[0]) >= config.min_points]
    if not singles:
        raise _not_seen(name, max((len(r) for r in raw), default=0), config)
    if near is not None:
        target = np.asarray(near, np.float64).reshape(3)
        pts, frame, mask = min(singles, key=lambda s: float(np.linalg.norm(np.median(s[0], axis=0) - target)))
    else:
        pts, frame, mask = max(singles, key=lambda s: len(s[0]))
    return ObjectCloud(points=pts, scene=_scene_around(frame, mask, pts, config, name)), frame


def _scene_around(frame: RGBDFrame, mask: np.ndarray, pts: np.ndarray, config: ObjectPointsConfig,
                  name: str) -> np.ndarray:
    """Every valid depth pixel outside the (dilated) mask within `scene_radius_m` of the object's box."""
    mask = np.asarray(mask, dtype=bool)
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
    return scene


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

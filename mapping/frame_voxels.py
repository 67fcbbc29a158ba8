"""One frame's valid depth pixels -> world voxels, fast.

This is `core.geometry.backproject` (same validity rule: finite depth within [min_depth_m, max_depth_m];
same pinhole model) specialised for fusion: the per-pixel ray directions are cached per intrinsics, the
world transform is applied per coordinate column in float32 and the points go straight to voxel
coordinates, which are then made distinct by counting in the frame's dense local box
(mapping.voxel_keys.unique_voxel_columns). About 5x faster than backproject + np.unique at 640x480, which
is what keeps fusion above 30 frames/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.types import CameraIntrinsics, RGBDFrame
from mapping.voxel_keys import COORD_LIMIT, VoxelRangeError, unique_voxel_columns


@dataclass
class FrameVoxels:
    """flat: int64 (N,) pixel indices (v * W + u) of the valid points; coords: int32 (U, 3) distinct voxels;
    inverse: (N,) voxel number of each point; n_points: (U,) points per voxel."""

    flat: np.ndarray
    coords: np.ndarray
    inverse: np.ndarray
    n_points: np.ndarray


class FrameVoxelizer:
    """Back-projects frames to voxel coordinates; caches the pixel rays of the last intrinsics seen."""

    def __init__(self, voxel_size_m: float, min_depth_m: float, max_depth_m: float) -> None:
        self.voxel_size = float(voxel_size_m)
        self.min_depth = float(min_depth_m)
        self.max_depth = float(max_depth_m)
        self._intr: CameraIntrinsics | None = None
        self._rays: tuple[np.ndarray, np.ndarray] | None = None

    def _pixel_rays(self, intr: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
        if self._intr != intr or self._rays is None:
            u = (np.arange(intr.width, dtype=np.float64) - intr.cx) / intr.fx
            v = (np.arange(intr.height, dtype=np.float64) - intr.cy) / intr.fy
            rx = np.broadcast_to(u[None, :], (intr.height, intr.width)).astype(np.float32).ravel()
            ry = np.broadcast_to(v[:, None], (intr.height, intr.width)).astype(np.float32).ravel()
            self._intr, self._rays = intr, (rx, ry)
        return self._rays

    def points(self, frame: RGBDFrame) -> tuple[np.ndarray, np.ndarray]:
        """(xyz world float32 (N, 3), flat pixel indices (N,)) of the valid depth pixels."""
        flat, cols = self._world_columns(frame, scale=1.0)
        xyz = np.stack(cols, axis=1).astype(np.float32) if flat.size else np.zeros((0, 3), np.float32)
        return xyz, flat

    def _world_columns(self, frame: RGBDFrame, scale: float) -> tuple[np.ndarray, list[np.ndarray]]:
        depth = np.asarray(frame.depth_m, dtype=np.float32).ravel()
        flat = np.flatnonzero((depth >= self.min_depth) & (depth <= self.max_depth))  # NaN compares False
        rx, ry = self._pixel_rays(frame.intrinsics)
        z = depth[flat]
        x = rx[flat] * z
        y = ry[flat] * z
        T = np.asarray(frame.T_world_cam, dtype=np.float64)
        R = (T[:3, :3] * scale).astype(np.float32)
        t = (T[:3, 3] * scale).astype(np.float32)
        cols = [x * R[i, 0] + y * R[i, 1] + z * R[i, 2] + t[i] for i in range(3)]
        return flat.astype(np.int64), cols

    def voxelize(self, frame: RGBDFrame) -> FrameVoxels:
        """The frame's valid points as distinct voxels (see FrameVoxels)."""
        flat, cols = self._world_columns(frame, scale=1.0 / self.voxel_size)
        if flat.size == 0:
            return FrameVoxels(flat, np.zeros((0, 3), np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))
        for c in cols:
            if not (-COORD_LIMIT <= float(c.min()) and float(c.max()) <= COORD_LIMIT):
                raise VoxelRangeError(f"voxel coordinates outside +-{COORD_LIMIT} cannot be packed")
        ijk = [np.floor(c, out=c).astype(np.int32) for c in cols]
        coords, inverse, n_points = unique_voxel_columns(ijk)
        return FrameVoxels(flat, coords, inverse, n_points)

"""Line of sight through the map's occupied voxels: can a camera at `eye` see a point?

A sight line is sampled every half voxel from the eye to the target; it is blocked when a sample falls in
an occupied voxel outside the target's own box (the object's voxels and a voxel of padding around them,
where its support and its neighbours' edges touch it). Used to park where the head camera sees an object,
not behind a shelf board or a counter's side (orchestrator.task_machine).
"""

from __future__ import annotations

import numpy as np

from core.stretch import T_base_headcam
from mapping.voxel_keys import pack_keys

HEAD_CAMERA_IN_BASE = T_base_headcam(0.0, 0.0)[:3, 3].copy()
"""The head camera's position in the base frame with the head straight (pan and tilt move it by a few cm)."""


class VoxelSight:
    """Occupied voxels (centres (M, 3), `voxel_m` apart) as a sorted key set for sight-line checks."""

    def __init__(self, occupied_xyz: np.ndarray, voxel_m: float):
        self.voxel_m = float(voxel_m)
        xyz = np.asarray(occupied_xyz, np.float64).reshape(-1, 3)
        self._keys = np.unique(pack_keys(np.floor(xyz / self.voxel_m)))

    def visible(self, eyes: np.ndarray, target: np.ndarray, box_lo: np.ndarray | None = None,
                box_hi: np.ndarray | None = None) -> np.ndarray:
        """(N,) bool: the segment from each eye (N, 3) to `target` (3,) crosses no occupied voxel outside the
        box [box_lo, box_hi] (padded by one voxel; default: the target's own voxel)."""
        eyes = np.asarray(eyes, np.float64).reshape(-1, 3)
        t = np.asarray(target, np.float64).reshape(3)
        lo = t if box_lo is None else np.minimum(np.asarray(box_lo, np.float64), t)
        hi = t if box_hi is None else np.maximum(np.asarray(box_hi, np.float64), t)
        lo, hi = lo - self.voxel_m, hi + self.voxel_m
        if len(eyes) == 0 or self._keys.size == 0:
            return np.ones(len(eyes), bool)
        step = self.voxel_m / 2
        n = int(np.ceil(np.linalg.norm(eyes - t, axis=1).max() / step)) + 1
        s = np.linspace(0.0, 1.0, n)
        pts = eyes[:, None, :] + s[None, :, None] * (t - eyes)[:, None, :]  # (N, n, 3)
        inside_box = np.all((pts >= lo) & (pts <= hi), axis=2)
        keys = pack_keys(np.floor(pts.reshape(-1, 3) / self.voxel_m))
        pos = np.minimum(np.searchsorted(self._keys, keys), self._keys.size - 1)
        occupied = (self._keys[pos] == keys).reshape(pts.shape[:2])
        return ~np.any(occupied & ~inside_box, axis=1)

    def head_camera_sees(self, poses: np.ndarray, target: np.ndarray, box_lo: np.ndarray | None = None,
                         box_hi: np.ndarray | None = None) -> np.ndarray:
        """(N,) bool: from each base pose (N, 3: x, y, theta) the head camera has a clear line to `target`."""
        p = np.asarray(poses, np.float64).reshape(-1, 3)
        c, s = np.cos(p[:, 2]), np.sin(p[:, 2])
        ex, ey, ez = HEAD_CAMERA_IN_BASE
        eyes = np.stack([p[:, 0] + c * ex - s * ey, p[:, 1] + s * ex + c * ey, np.full(len(p), ez)], axis=1)
        return self.visible(eyes, target, box_lo, box_hi)

"""Synthetic posed RGB-D frames of a box world with known objects, for map tests (no simulator needed).

A room floor (z=0) and axis-aligned boxes; frames are ray-cast analytically from given camera poses, with
per-pixel instance ids, so object masks and their true centres are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.geometry import make_T, rot_z
from core.types import CameraIntrinsics, Observation, RGBDFrame


@dataclass
class Box:
    instance_id: int
    lo: tuple[float, float, float]
    hi: tuple[float, float, float]
    rgb: tuple[int, int, int]

    @property
    def center(self) -> np.ndarray:
        return (np.array(self.lo) + np.array(self.hi)) / 2.0


def camera_pose(eye, yaw: float, pitch: float = -0.5) -> np.ndarray:
    """T_world_cam for an OpenCV camera at `eye` looking along heading `yaw`, tilted down by -pitch."""
    # OpenCV camera looking along world +x: z_cam = +x_world, x_cam = -y_world, y_cam = -z_world.
    R0 = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)
    c, s = math.cos(pitch), math.sin(pitch)
    R_pitch = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])  # rotate about world y (nose down for pitch<0)
    return make_T(rot_z(yaw) @ R_pitch @ R0, eye)


def render(boxes: list[Box], T_world_cam: np.ndarray, intr: CameraIntrinsics, floor_rgb=(120, 120, 120)
           ) -> RGBDFrame:
    """Ray-cast the floor plane and boxes; returns a frame with instance ids."""
    v, u = np.mgrid[0 : intr.height, 0 : intr.width]
    d_cam = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u, float)], -1).reshape(-1, 3)
    R, o = T_world_cam[:3, :3], T_world_cam[:3, 3]
    d = d_cam @ R.T
    t_best = np.full(len(d), np.inf)
    ids = np.zeros(len(d), np.int32)
    rgb = np.zeros((len(d), 3), np.uint8)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(d[:, 2] < -1e-9, -o[2] / d[:, 2], np.inf)
        hit = t_floor < t_best
        t_best[hit] = t_floor[hit]
        rgb[hit] = floor_rgb
        for b in boxes:
            lo, hi = np.array(b.lo), np.array(b.hi)
            t1 = (lo - o) / d
            t2 = (hi - o) / d
            tmin = np.nanmax(np.minimum(t1, t2), axis=1)
            tmax = np.nanmin(np.maximum(t1, t2), axis=1)
            hit = (tmax >= tmin) & (tmin > 0) & (tmin < t_best)
            t_best[hit] = tmin[hit]
            ids[hit] = b.instance_id
            rgb[hit] = b.rgb
    depth = np.where(np.isfinite(t_best), t_best, 0.0).astype(np.float32)  # d_cam has z=1, so t = depth
    depth[depth > 8.0] = 0.0
    H, W = intr.height, intr.width
    return RGBDFrame(rgb.reshape(H, W, 3), depth.reshape(H, W), intr, T_world_cam,
                     instance_ids=ids.reshape(H, W))


def observations_from_ids(frame: RGBDFrame, features: dict[int, np.ndarray], score: float = 0.9
                          ) -> list[Observation]:
    """Ground-truth-style observations: one per visible instance with its feature."""
    out = []
    for iid in np.unique(frame.instance_ids):
        if iid == 0 or int(iid) not in features:
            continue
        mask = frame.instance_ids == iid
        out.append(Observation(mask=mask, score=score, feature=features[int(iid)], instance_id=int(iid)))
    return out


def random_features(ids, dim: int = 32, seed: int = 0) -> dict[int, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for i in ids:
        f = rng.normal(size=dim).astype(np.float32)
        out[int(i)] = f / np.linalg.norm(f)
    return out


def default_boxes() -> list[Box]:
    """A table with a mug on it, a box on the floor with a second mug beside it, and a sink cabinet."""
    return [
        Box(1, (2.0, -0.6, 0.0), (2.8, 0.6, 0.75), (200, 200, 200)),  # table
        Box(2, (2.3, -0.1, 0.75), (2.4, 0.0, 0.87), (220, 30, 30)),  # mug on the table
        Box(3, (1.5, 1.5, 0.0), (1.9, 1.9, 0.4), (30, 30, 220)),  # box on the floor
        Box(4, (2.5, -1.8, 0.0), (3.3, -1.2, 0.9), (90, 160, 90)),  # sink cabinet
        Box(5, (1.5, 1.2, 0.0), (1.6, 1.3, 0.12), (30, 60, 200)),  # mug on the floor next to the box
    ]


DESCRIPTIONS = {1: "wooden kitchen table", 2: "red coffee mug", 3: "cardboard box", 4: "kitchen sink",
                5: "blue coffee mug"}


def scan_poses() -> list[np.ndarray]:
    """Camera poses at 1.3 m height around the origin looking at the objects."""
    poses = []
    for yaw in np.linspace(-0.9, 0.9, 7):
        poses.append(camera_pose((0.0, 0.0, 1.3), float(yaw), -0.45))
    for yaw in (-0.3, 0.3):
        poses.append(camera_pose((1.0, 0.5, 1.3), float(yaw), -0.6))
    return poses

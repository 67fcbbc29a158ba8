"""Synthetic point clouds for grasping tests: objects on a table, walls, shelves (sampled mesh surfaces)."""

from __future__ import annotations

import math

import numpy as np
import trimesh

from grasping.object_points import ObjectCloud

TABLE_Z = 0.74


def plane(cx: float, cy: float, z: float, sx: float, sy: float, step: float = 0.01) -> np.ndarray:
    g = np.mgrid[-sx / 2:sx / 2 + 1e-9:step, -sy / 2:sy / 2 + 1e-9:step].reshape(2, -1).T + np.array([cx, cy])
    return np.c_[g, np.full(len(g), z)].astype(np.float32)


def wall(x0: float, y0: float, x1: float, y1: float, z0: float, z1: float, step: float = 0.008) -> np.ndarray:
    n = max(2, int(math.hypot(x1 - x0, y1 - y0) / step))
    m = max(2, int((z1 - z0) / step))
    t, z = np.meshgrid(np.linspace(0, 1, n), np.linspace(z0, z1, m))
    x = x0 + t * (x1 - x0)
    y = y0 + t * (y1 - y0)
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1).astype(np.float32)


def sample(mesh: trimesh.Trimesh, xyz, n: int = 4000, seed: int = 0) -> np.ndarray:
    m = mesh.copy()
    m.apply_translation(np.asarray(xyz, dtype=float) - [0, 0, m.bounds[0, 2]])
    pts, _ = trimesh.sample.sample_surface_even(m, n, seed=seed)
    return pts.astype(np.float32)


def mug(radius: float = 0.04, height: float = 0.095) -> trimesh.Trimesh:
    body = trimesh.creation.annulus(r_min=radius - 0.005, r_max=radius, height=height)
    bottom = trimesh.creation.cylinder(radius=radius, height=0.005)
    bottom.apply_translation([0, 0, -height / 2 + 0.0025])
    T = trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0])
    T[:3, 3] = [radius + 0.012, 0.0, 0.0]
    handle = trimesh.creation.torus(0.02, 0.006, transform=T)
    return trimesh.util.concatenate([body, bottom, handle])


def bowl(radius: float = 0.08, height: float = 0.055) -> trimesh.Trimesh:
    prof = [(0.0, 0.0), (radius * 0.5, 0.0), (radius, height), (radius - 0.004, height),
            (radius * 0.5 - 0.004, 0.004), (0.0, 0.004)]
    return trimesh.creation.revolve(np.array(prof), sections=48)


def on_table(obj_pts: np.ndarray, centre_xy, extra: np.ndarray | None = None, hole_m: float = 0.0) -> ObjectCloud:
    """An ObjectCloud of object points on a 1.2 x 0.8 m table top centred near the object."""
    t = plane(centre_xy[0], centre_xy[1], TABLE_Z, 1.0, 0.8)
    if hole_m > 0:
        t = t[np.linalg.norm(t[:, :2] - np.asarray(centre_xy), axis=1) > hole_m]
    scene = t if extra is None else np.concatenate([t, extra])
    return ObjectCloud(points=obj_pts, scene=scene)

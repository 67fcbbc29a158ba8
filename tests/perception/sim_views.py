"""Rendered simulator views of the objects on each receptacle, with ground-truth boxes and masks (test helper)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.types import CameraIntrinsics


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """T_world_cam of an OpenCV camera at `eye` looking at `target` with world z up."""
    f = np.asarray(target, float) - np.asarray(eye, float)
    f /= np.linalg.norm(f)
    r = np.cross(f, [0.0, 0.0, 1.0])
    r /= np.linalg.norm(r)
    T = np.eye(4)
    T[:3, :3] = np.stack([r, np.cross(f, r), f], axis=1)
    T[:3, 3] = eye
    return T


@dataclass
class ObjectView:
    rgb: np.ndarray
    depth_m: np.ndarray
    instance_ids: np.ndarray
    T_world_cam: np.ndarray
    objects: list[tuple[str, int, np.ndarray, tuple[int, int, int, int]]]  # (description, id, mask, box)


def object_views(world, spec, intrinsics: CameraIntrinsics, min_pixels: int = 300, max_objects: int = 12,
                 directions: int = 4, distance_m: float = 1.2, height_m: float = 0.7) -> list[ObjectView]:
    """For each receptacle holding objects (most objects first): the view (of `directions` around it) showing most object pixels;
    keeps objects with at least `min_pixels` visible pixels whose mask does not touch the image border."""
    h, w = intrinsics.height, intrinsics.width
    views: list[ObjectView] = []
    total = 0
    by_receptacle = [[o for o in spec.objects if o.on == rec.id] for rec in spec.receptacles]
    for objs in sorted(by_receptacle, key=len, reverse=True):  # fewest images for max_objects
        if not objs:
            continue
        c = np.mean([world.object_center(o.id) for o in objs], axis=0)
        best = None
        for a in np.linspace(0.0, 2 * math.pi, directions, endpoint=False):
            T = look_at(c + np.array([distance_m * math.cos(a), distance_m * math.sin(a), height_m]), c)
            rgb, depth, ids = world.render(T, intrinsics)
            seen = sum(int((ids == o.instance_id).sum()) for o in objs)
            if best is None or seen > best[0]:
                best = (seen, ObjectView(rgb, depth, ids, T, []))
        view = best[1]
        for o in objs:
            m = view.instance_ids == o.instance_id
            if m.sum() < min_pixels:
                continue
            ys, xs = np.nonzero(m)
            if xs.min() == 0 or ys.min() == 0 or xs.max() == w - 1 or ys.max() == h - 1:
                continue
            view.objects.append((o.description, o.instance_id, m, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)))
        if view.objects:
            views.append(view)
            total += len(view.objects)
        if total >= max_objects:
            break
    return views

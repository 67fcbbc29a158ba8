"""Negative evidence: voxels the camera now sees through lose what they held (the home changed).

Each new depth frame is compared with the map before it is fused (DynaMem's rule): every stored voxel is
projected into the frame; a voxel whose projected footprint shows depth clearly *beyond* it (the ray
passes through where the voxel is) is a miss for that voxel. Voxels that are occluded (depth in front of
them), at the surface (depth within the margin), behind the camera, outside the image, beyond
`max_range_m`, or whose footprint has any invalid depth pixel are left alone. The footprint is a 3 x 3
stencil of pixels spanning the voxel's projected size, and all nine must see through it, so a voxel at
an object's silhouette (where some pixels still hit the object) is not counted as a miss.

A miss multiplies a semantic voxel's weight by `decay`; `clear_after` misses in a row (with no
observation of the voxel in between; any observation resets the count) remove a semantic voxel and zero
an occupancy voxel's point count (so the obstacle grid no longer holds it: moved chairs leave). One noisy
frame therefore never deletes anything. Everything is vectorised over the layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from core.types import RGBDFrame

_HALF_DIAGONAL = 0.5 * np.sqrt(3.0)


@dataclass(frozen=True)
class ClearingConfig:
    """When stored voxels count as seen through, and what that costs them."""

    enabled: bool = True
    max_range_m: float = 2.5
    """Voxels farther than this from the camera are left alone (depth noise grows with range)."""
    margin_m: float = 0.03
    """Depth beyond the voxel's far corner by more than this (plus `relative_margin` x depth) = seen through."""
    relative_margin: float = 0.02
    decay: float = 0.5
    """A miss multiplies a semantic voxel's fusion weight by this."""
    clear_after: int = 3
    """Misses in a row that remove a semantic voxel and empty an occupancy voxel."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ClearingStats:
    """What one frame's negative evidence did."""

    semantic_misses: int = 0
    semantic_removed: int = 0
    occupancy_misses: int = 0
    occupancy_cleared: int = 0


def seen_through(coords: np.ndarray, voxel_size: float, frame: RGBDFrame, config: ClearingConfig,
                 min_depth_m: float) -> np.ndarray:
    """Bool (N,): which voxels (int coords (N, 3)) this frame's depth sees through (module docstring)."""
    n = len(coords)
    out = np.zeros(n, bool)
    if n == 0:
        return out
    T = np.asarray(frame.T_world_cam, dtype=np.float64)
    R = T[:3, :3].astype(np.float32)
    t = T[:3, 3].astype(np.float32)
    # Cheap integer cull first: only voxels in the cube of half side max_range_m around the camera can be in
    # range, and on a home-sized map that is a small share of them (the float work below is per candidate).
    reach = config.max_range_m / voxel_size + 1.0
    lo = np.floor(t / voxel_size - reach).astype(np.int64)
    hi = np.ceil(t / voxel_size + reach).astype(np.int64)
    c = coords
    box = np.flatnonzero((c[:, 0] >= lo[0]) & (c[:, 0] <= hi[0]) & (c[:, 1] >= lo[1]) & (c[:, 1] <= hi[1])
                         & (c[:, 2] >= lo[2]) & (c[:, 2] <= hi[2]))
    if box.size == 0:
        return out
    centres = (coords[box].astype(np.float32) + 0.5) * np.float32(voxel_size) - t
    # camera coordinates = R^T (p - t): column j of the product is p . R[:, j]
    z = centres @ R[:, 2]
    sel = np.flatnonzero((z > min_depth_m) & (z <= config.max_range_m))
    near = box[sel]
    centres, z = centres[sel], z[sel]
    if near.size == 0:
        return out
    pc = centres
    intr = frame.intrinsics
    u = intr.fx * (pc @ R[:, 0]) / z + intr.cx
    v = intr.fy * (pc @ R[:, 1]) / z + intr.cy
    h, w = frame.depth_m.shape
    inside = (u >= 0) & (u < w) & (v >= 0) & (v < h)
    if not np.any(inside):
        return out
    near, z, u, v = near[inside], z[inside], u[inside], v[inside]
    r = 0.5 * voxel_size / z  # the voxel's half size in normalised image units
    ru, rv = intr.fx * r, intr.fy * r
    depth = np.asarray(frame.depth_m, dtype=np.float32)
    limit = z + _HALF_DIAGONAL * voxel_size + config.margin_m + config.relative_margin * z
    through = np.ones(near.size, bool)
    for du in (-1.0, 0.0, 1.0):
        cu = np.clip(np.floor(u + du * ru), 0, w - 1).astype(np.int64)
        for dv in (-1.0, 0.0, 1.0):
            cv = np.clip(np.floor(v + dv * rv), 0, h - 1).astype(np.int64)
            d = depth[cv, cu]
            through &= np.isfinite(d) & (d > limit)  # invalid depth (0 or NaN) never sees through
    out[near[through]] = True
    return out


def apply_negative_evidence(vmap, frame: RGBDFrame, config: ClearingConfig) -> ClearingStats:
    """Count this frame's misses on both layers of `vmap` (a mapping.voxel_map.VoxelMap) and clear what
    has been missed `clear_after` times in a row; call before fusing the frame's own points."""
    stats = ClearingStats()
    if not config.enabled:
        return stats
    vs, min_depth = vmap.voxel_size, vmap.config.min_depth_m
    sem = vmap.semantic
    if len(sem):
        miss = np.flatnonzero(seen_through(sem.coords, vs, frame, config, min_depth))
        if miss.size:
            sem.misses[miss] += 1
            sem.weights[miss] *= np.float32(config.decay)
            stats.semantic_misses = int(miss.size)
            keep = sem.misses < config.clear_after
            stats.semantic_removed = sem.remove(keep)
    occ = vmap.occupancy
    if len(occ):
        live = np.flatnonzero(occ.counts > 0)
        miss = live[seen_through(occ.coords[live], vs, frame, config, min_depth)]
        if miss.size:
            occ.misses[miss] += 1
            stats.occupancy_misses = int(miss.size)
            gone = miss[occ.misses[miss] >= config.clear_after]
            occ.counts[gone] = 0
            stats.occupancy_cleared = int(gone.size)
    return stats

"""Second looks during exploration: aim the head at what a look-around detected in too few frames.

A detector misses an object in some frames (a quarter of them or more for a small, far or half-hidden one),
so a look-around's sweep of pans often detects an object in one frame only; one frame's detection is also
all that a false positive or a confused label leaves. After each look-around, `second_look_targets` picks
the places whose object evidence from this look is thin (semantic voxels fused from fewer than `min_support`
frames, within `max_range_m` of the base) and the explorer points the head at each (core.stretch.head_look_at)
for `frames` more frames, the object centred in the view: a real object is detected again and gathers the
frames a query needs to find it (mapping.query ranks hits by support), a spurious detection is not.

Targets are chosen greedily, thinnest evidence first; a place within `field_rad` of a view already aimed at
is covered by that view; at most `max_targets` per look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from core.stretch import head_look_at
from core.types import Pose2D


@dataclass(frozen=True)
class SecondLookConfig:
    """What a look-around looks at again (module docstring); `max_targets` 0 switches second looks off."""

    max_targets: int = 4
    """Views aimed after one look-around, at most."""
    frames: int = 2
    """Frames per aimed view (the head steps `pan_step_rad` between them)."""
    pan_step_rad: float = 0.06
    min_support: int = 3
    """Semantic voxels fused from fewer frames than this are thin evidence."""
    min_voxels: int = 3
    """A place needs at least this many thin voxels (a lone voxel is a mask's edge)."""
    max_range_m: float = 3.5
    """Only places this close to the base (farther ones are seen again from a later viewpoint)."""
    min_height_m: float = 0.03
    cell_m: float = 0.25
    """Thin voxels are grouped into places of this size."""
    field_rad: float = 0.3
    """A place within this angle (pan and tilt) of an aimed view is in that view."""

    def validate(self) -> None:
        if self.max_targets < 0 or self.frames < 1 or self.min_support < 1 or self.min_voxels < 1:
            raise InputError("second looks: max_targets must be >= 0 and frames, min_support, min_voxels >= 1 "
                             f"(got {self.max_targets}, {self.frames}, {self.min_support}, {self.min_voxels})")
        if not (self.cell_m > 0 and self.max_range_m > 0 and self.field_rad >= 0):
            raise InputError("second looks: cell_m and max_range_m must be positive and field_rad not negative")


def second_look_targets(vmap, base: Pose2D, since_frame: int, config: SecondLookConfig = SecondLookConfig()
                        ) -> list[tuple[float, float]]:
    """Head (pan, tilt) of the views to aim from `base` at places of thin evidence fused since the map's frame
    `since_frame` (module docstring); thinnest first, at most `max_targets`."""
    config.validate()
    sem = vmap.semantic
    if config.max_targets == 0 or len(sem) == 0:
        return []
    xyz = vmap.semantic_centers()
    d = np.hypot(xyz[:, 0] - base.x, xyz[:, 1] - base.y)
    thin = ((sem.last_seen >= since_frame) & (sem.counts < config.min_support) & (d <= config.max_range_m)
            & (xyz[:, 2] >= config.min_height_m))
    rows = np.flatnonzero(thin)
    if rows.size == 0:
        return []
    cells, inv, n = np.unique(np.floor(xyz[rows] / config.cell_m).astype(np.int64), axis=0, return_inverse=True,
                              return_counts=True)
    inv = inv.reshape(-1)
    support = np.full(len(cells), np.iinfo(np.int32).max, np.int64)
    np.minimum.at(support, inv, sem.counts[rows].astype(np.int64))
    centre = np.stack([np.bincount(inv, weights=xyz[rows, a], minlength=len(cells)) for a in range(3)], 1) / n[:, None]
    places = [i for i in np.lexsort((-n, support)) if n[i] >= config.min_voxels]
    views: list[tuple[float, float]] = []
    for i in places:
        pan, tilt = head_look_at(base, centre[i])
        if any(abs(math.remainder(pan - p, 2 * math.pi)) <= config.field_rad and abs(tilt - t) <= config.field_rad
               for p, t in views):
            continue
        views.append((pan, tilt))
        if len(views) >= config.max_targets:
            break
    return views

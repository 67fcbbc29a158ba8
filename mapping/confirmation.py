"""Confirmation of object evidence across views: drop semantic voxels that most frames seeing them did not detect.

A detector's false positive (a patch of wall or furniture taken for a mug in one frame) and a confused label
(a mug called a cup once) carry the same pure text feature as a real detection, so in the map they score as
high as the real object. What tells them apart is the other frames: a real object is detected in most
frames whose depth hits it, a spurious patch in one frame out of the many that saw the same surface.

Per semantic voxel, `k` = observations fused into it (SemanticLayer.counts) and `n` = frames whose depth hit
the same voxel (OccupancyLayer.views, at least k). With a detection rate `detect_rate` for a real object in
view and a per-frame rate `false_rate` of a spurious detection on a surface, the log-likelihood ratio of
"an object is here" against "nothing is" is

    k log(detect_rate / false_rate) + (n - k) log((1 - detect_rate) / (1 - false_rate)),

and voxels with a ratio below 0 (and at least `min_views` views) are dropped (`drop_unconfirmed`). Views are
counted in memory while frames are fused (a loaded map has none: nothing is dropped from it).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import InputError
from mapping.voxel_keys import pack_keys

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmationConfig:
    """When a semantic voxel's detections are too few for the frames that saw it (module docstring)."""

    enabled: bool = True
    detect_rate: float = 0.3
    """Share of the frames seeing a real object's voxel that detect it (below the detector's per-instance
    rate: small, far or half-occluded views and mask edges are detected less often)."""
    false_rate: float = 0.02
    """Per-frame chance that a surface voxel carries a spurious detection (false positive or confused label)."""
    min_views: int = 3
    """Voxels seen in fewer frames are kept whatever their detections (too little evidence either way)."""

    def validate(self) -> None:
        if not (0.0 < self.false_rate < self.detect_rate < 1.0):
            raise InputError("confirmation: need 0 < false_rate < detect_rate < 1, got "
                             f"false_rate={self.false_rate}, detect_rate={self.detect_rate}")
        if self.min_views < 1:
            raise InputError(f"confirmation: min_views must be at least 1, got {self.min_views}")

    def to_dict(self) -> dict:
        return asdict(self)


def detection_evidence(vmap) -> tuple[np.ndarray, np.ndarray]:
    """(k, n) int64 per semantic voxel: observations fused into it and frames whose depth hit it (n >= k;
    n = k where the occupancy layer has no views of it, e.g. a loaded map)."""
    sem, occ = vmap.semantic, vmap.occupancy
    k = sem.counts.astype(np.int64)
    if len(sem) == 0 or len(occ) == 0:
        return k, k.copy()
    rows = occ.index.lookup(pack_keys(sem.coords))
    n = np.where(rows >= 0, occ.views[np.maximum(rows, 0)], 0).astype(np.int64)
    return k, np.maximum(n, k)


def unconfirmed(vmap, config: ConfirmationConfig = ConfirmationConfig()) -> np.ndarray:
    """Bool per semantic voxel: its detections are fewer than the frames that saw it make likely for a real
    object (log-likelihood ratio below 0 with at least `min_views` views)."""
    config.validate()
    k, n = detection_evidence(vmap)
    if not config.enabled or k.size == 0:
        return np.zeros(k.size, bool)
    p, q = config.detect_rate, config.false_rate
    llr = k * math.log(p / q) + (n - k) * math.log((1.0 - p) / (1.0 - q))
    return (n >= config.min_views) & (llr < 0.0)


def drop_unconfirmed(vmap, config: ConfirmationConfig = ConfirmationConfig()) -> int:
    """Remove the `unconfirmed` semantic voxels from the map; returns how many went."""
    bad = unconfirmed(vmap, config)
    if not bad.any():
        return 0
    gone = vmap.semantic.remove(~bad)
    log.info("confirmation: dropped %d of %d semantic voxels seen in many frames but detected in few",
             gone, gone + len(vmap.semantic))
    return gone

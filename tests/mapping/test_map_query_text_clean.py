"""Map queries are NFKC-normalised with invisible characters removed before they are embedded."""

from __future__ import annotations

import numpy as np
from map_synthetic_scene import default_boxes, observations_from_ids, random_features, render, scan_poses

from core.types import CameraIntrinsics
from mapping.voxel_map import VoxelMap, VoxelMapConfig


def test_query_text_is_cleaned_before_encoding():
    boxes = default_boxes()
    feats = random_features([b.instance_id for b in boxes], dim=16)
    vmap = VoxelMap(VoxelMapConfig(voxel_size_m=0.05))
    intr = CameraIntrinsics.from_fov(80, 60, 1.0)
    for T in scan_poses()[:2]:
        f = render(boxes, T, intr)
        vmap.add_frame(f, observations_from_ids(f, feats))
    seen: list[str] = []
    target = next(iter(feats.values()))

    def encode(texts):
        seen.extend(texts)
        return np.stack([target for _ in texts])

    plain = vmap.query_text("mug", encode)
    dirty = vmap.query_text("ｍｕ\u200bｇ\ufeff", encode)
    assert "mug" in seen and not any("\u200b" in t or "ｍ" in t for t in seen)
    assert [h.score for h in plain] == [h.score for h in dirty]

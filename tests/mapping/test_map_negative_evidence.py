"""Negative evidence (mapping.negative_evidence): what the camera now sees through leaves the map; what is
hidden behind an occluder, or missed by one noisy frame, stays."""

from __future__ import annotations

import numpy as np
import pytest
from map_synthetic_scene import Box, default_boxes, observations_from_ids, random_features, render, scan_poses

from core.types import CameraIntrinsics, RGBDFrame
from mapping.negative_evidence import ClearingConfig
from mapping.voxel_map import VoxelMap

INTR = CameraIntrinsics.from_fov(160, 120, 1.0)
PERSON = Box(9, (0.75, 0.35, 0.0), (1.15, 0.75, 1.8), (150, 110, 90))  # between the camera and the floor box


def _scan(boxes, feats, vmap, poses=None):
    for T in poses or scan_poses():
        f = render(boxes, T, INTR)
        vmap.add_frame(f, observations_from_ids(f, feats))


def _voxels_of(vmap: VoxelMap, feature: np.ndarray) -> int:
    sem = vmap.semantic
    if len(sem) == 0:
        return 0
    f = sem.features / np.maximum(np.linalg.norm(sem.features, axis=1, keepdims=True), 1e-9)
    return int(np.count_nonzero(f @ feature > 0.9))


@pytest.fixture()
def scanned():
    boxes = default_boxes()
    feats = random_features([b.instance_id for b in boxes] + [PERSON.instance_id], dim=16)
    vmap = VoxelMap()
    _scan(boxes, feats, vmap)
    return boxes, feats, vmap


def test_a_removed_object_leaves_the_map_and_the_others_stay(scanned):
    boxes, feats, vmap = scanned
    before = {i: _voxels_of(vmap, feats[i]) for i in (2, 3, 5)}
    assert before[2] > 0 and before[3] > 0 and before[5] > 0
    _scan([b for b in boxes if b.instance_id != 2], feats, vmap)  # the mug on the table was taken away
    assert _voxels_of(vmap, feats[2]) == 0
    for i in (3, 5):
        assert _voxels_of(vmap, feats[i]) >= 0.9 * before[i]


def test_nothing_is_removed_behind_a_person_sized_occluder(scanned):
    boxes, feats, vmap = scanned
    before = {i: _voxels_of(vmap, feats[i]) for i in (2, 3, 5)}
    _scan([*boxes, PERSON], feats, vmap)
    for i in (2, 3, 5):
        assert _voxels_of(vmap, feats[i]) >= before[i]


def test_one_noisy_frame_removes_nothing(scanned):
    boxes, feats, vmap = scanned
    n = len(vmap.semantic)
    rng = np.random.default_rng(3)
    f = render(boxes, scan_poses()[3], INTR)
    noisy = RGBDFrame(f.rgb, (f.depth_m * (1 + 0.2 * rng.standard_normal(f.depth_m.shape))).astype(np.float32),
                      f.intrinsics, f.T_world_cam)
    stats = vmap.add_frame(noisy)
    assert stats.semantic_removed == 0 and len(vmap.semantic) >= n


def test_clearing_can_be_switched_off(scanned):
    boxes, feats, _ = scanned
    vmap = VoxelMap(clearing=ClearingConfig(enabled=False))
    _scan(boxes, feats, vmap)
    _scan([b for b in boxes if b.instance_id != 2], feats, vmap)
    assert _voxels_of(vmap, feats[2]) > 0

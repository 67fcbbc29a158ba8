"""Negative evidence (mapping.negative_evidence): what the camera now sees through leaves the map; what is
hidden behind an occluder, or missed by one noisy frame, stays."""

from __future__ import annotations

import json

import numpy as np
import pytest
from map_synthetic_scene import Box, default_boxes, observations_from_ids, random_features, render, scan_poses

from core.types import CameraIntrinsics, RGBDFrame
from mapping.negative_evidence import ClearingConfig
from mapping.obstacles import OBSTACLE
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


def _centre_of(vmap: VoxelMap, feature: np.ndarray) -> np.ndarray:
    sem = vmap.semantic
    f = sem.features / np.maximum(np.linalg.norm(sem.features, axis=1, keepdims=True), 1e-9)
    rows = f @ feature > 0.9
    return (sem.coords[rows].astype(float) + 0.5).mean(axis=0) * vmap.voxel_size


def test_a_moved_object_is_only_at_its_new_place(scanned):
    boxes, feats, vmap = scanned
    # the mug on the table moves 0.4 m along it (within the 2.5 m the camera's depth is trusted for)
    moved = [b if b.instance_id != 2 else Box(2, (2.3, 0.3, 0.75), (2.4, 0.4, 0.87), b.rgb) for b in boxes]
    _scan(moved, feats, vmap)
    c = _centre_of(vmap, feats[2])
    assert np.hypot(c[0] - 2.35, c[1] - 0.35) < 0.06  # not between the old place (y -0.05) and the new one


def test_the_obstacle_grid_follows_a_moved_box(scanned):
    boxes, feats, vmap = scanned
    grid = vmap.obstacle_grid()
    old_cell = tuple(grid.world_to_cell(np.array([[1.7, 1.7]]))[0])
    assert grid.cells[old_cell] == OBSTACLE
    # the box on the floor was carried away; only the two near views see it within 2.5 m, so look twice
    for _ in range(2):
        _scan([b for b in boxes if b.instance_id != 3], feats, vmap)
    grid = vmap.obstacle_grid()
    assert grid.cells[tuple(grid.world_to_cell(np.array([[1.7, 1.7]]))[0])] != OBSTACLE
    assert grid.cells[tuple(grid.world_to_cell(np.array([[2.4, 0.0]]))[0])] == OBSTACLE  # the table stays


def test_a_map_file_saved_before_negative_evidence_loads_and_then_follows_the_home(scanned, tmp_path):
    boxes, feats, vmap = scanned
    path = vmap.save(tmp_path / "map")
    with np.load(path) as npz:  # as an older ovmm wrote it: format version 1, no header checksum
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays["header"].tobytes())
    header["version"] = 1
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    del arrays["header_sha256"]
    old = tmp_path / "old.npz"
    with open(old, "wb") as fh:
        np.savez(fh, **arrays)
    loaded = VoxelMap.load(old)
    assert len(loaded.semantic) == len(vmap.semantic) and not loaded.semantic.misses.any()
    _scan([b for b in boxes if b.instance_id != 2], feats, loaded)
    assert _voxels_of(loaded, feats[2]) == 0 and _voxels_of(loaded, feats[3]) > 0
    again = VoxelMap.load(loaded.save(tmp_path / "updated"))  # the updated map saves in the current format
    assert len(again.semantic) == len(loaded.semantic) and _voxels_of(again, feats[2]) == 0

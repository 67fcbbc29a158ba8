"""Voxel map fusion on analytic box-world frames: keys, occupancy, weighted-mean features, obstacle grid."""

from __future__ import annotations

import numpy as np
import pytest
from map_synthetic_scene import default_boxes, observations_from_ids, random_features, render, scan_poses

from core.geometry import backproject
from core.types import CameraIntrinsics, Observation
from mapping.frame_voxels import FrameVoxelizer
from mapping.obstacles import FREE, OBSTACLE
from mapping.voxel_keys import VoxelIndex, pack_keys, unique_voxels, unpack_keys
from mapping.voxel_map import VoxelMap, VoxelMapConfig

INTR = CameraIntrinsics.from_fov(160, 120, 1.0)


@pytest.fixture(scope="module")
def box_world():
    boxes = default_boxes()
    feats = random_features([b.instance_id for b in boxes], dim=16)
    frames = [render(boxes, T, INTR) for T in scan_poses()]
    vmap = VoxelMap()
    for f in frames:
        vmap.add_frame(f, observations_from_ids(f, feats))
    return boxes, feats, frames, vmap


def test_keys_roundtrip_and_index():
    rng = np.random.default_rng(0)
    c = rng.integers(-5000, 5000, (1000, 3))
    assert np.array_equal(unpack_keys(pack_keys(c)), c)
    uniq, inv = unique_voxels(np.concatenate([c, c[:10]]))
    assert len(uniq) == len(np.unique(pack_keys(c)))
    assert np.array_equal(uniq[inv[-10:]], c[:10])
    idx = VoxelIndex()
    keys = np.unique(pack_keys(c))
    idx.insert(keys[::2], np.arange(0, len(keys), 2))
    idx.insert(keys[1::2], np.arange(1, len(keys), 2))
    assert np.array_equal(idx.lookup(keys), np.arange(len(keys)))
    assert idx.lookup(pack_keys(np.array([[9999, 9999, 9999]])))[0] == -1


def test_sparse_fallback_of_unique_voxels_matches_dense():
    c = np.array([[0, 0, 0], [100000, 5, 5], [0, 0, 0], [-3, 2, 1]])
    uniq, inv = unique_voxels(c)  # bounding box far above the dense limit
    assert len(uniq) == 3
    assert np.array_equal(uniq[inv], c)


def test_fast_backprojection_equals_core(box_world):
    _, _, frames, _ = box_world
    f = frames[3]
    xyz_core, flat_core = backproject(f.depth_m, f.intrinsics, f.T_world_cam, min_depth_m=0.1, max_depth_m=6.0)
    xyz, flat = FrameVoxelizer(0.05, 0.1, 6.0).points(f)
    assert np.array_equal(flat, flat_core)
    assert np.abs(xyz - xyz_core).max() < 1e-4


def test_occupancy_counts_every_valid_point(box_world):
    _, _, frames, _ = box_world
    vmap = VoxelMap()
    lo, hi = vmap.config.min_depth_m, vmap.config.max_depth_m
    n_valid = 0
    for f in frames[:3]:
        n_valid += int(((f.depth_m >= lo) & (f.depth_m <= hi)).sum())
        vmap.add_frame(f)
    assert int(vmap.occupancy.counts.sum()) == n_valid
    assert len(vmap) == 0  # no observations: no semantic voxels
    xyz, rgb, counts = vmap.occupancy_points()
    assert xyz.shape == rgb.shape and rgb.dtype == np.uint8 and len(counts) == len(xyz)
    floor = (np.abs(xyz[:, 2]) < 0.05) & (xyz[:, 0] < 1.4)  # open floor, no box within a voxel
    assert floor.sum() > 100
    assert np.all(np.abs(rgb[floor].astype(int) - 120) <= 1)  # the floor's colour survives averaging


def test_objects_fused_at_their_boxes(box_world):
    boxes, feats, _, vmap = box_world
    centres = vmap.semantic_centers()
    sims = vmap.semantic.features @ np.stack([feats[b.instance_id] for b in boxes]).T
    owner = np.argmax(sims, axis=1)
    for k, b in enumerate(boxes):
        pts = centres[owner == k]
        assert len(pts) > 0
        assert np.all(pts >= np.array(b.lo) - 0.1) and np.all(pts <= np.array(b.hi) + 0.1)
    assert vmap.semantic.counts.min() >= 1 and vmap.semantic.last_seen.max() == len(scan_poses()) - 1


def test_weighted_mean_of_two_observations():
    boxes = default_boxes()
    f = render(boxes, scan_poses()[3], INTR)
    mask = f.instance_ids == 1
    a = np.array([1, 0, 0, 0], np.float32)
    b = np.array([0, 1, 0, 0], np.float32)
    vmap = VoxelMap(VoxelMapConfig(mask_erode_px=0))
    vmap.add_frame(f, [Observation(mask=mask, score=0.75, feature=a), Observation(mask=mask, score=0.25, feature=b)])
    feats = vmap.semantic.features
    assert np.allclose(feats[:, 0], 0.75) and np.allclose(feats[:, 1], 0.25)
    assert np.allclose(vmap.semantic.weights, 1.0) and np.all(vmap.semantic.counts == 2)
    vmap.add_frame(f, [Observation(mask=mask, score=1.0, feature=b)])
    assert np.allclose(vmap.semantic.features[:, 1], 0.625)  # (0.25 + 1.0) / 2


def test_bad_observations_are_skipped_or_refused():
    boxes = default_boxes()
    f = render(boxes, scan_poses()[3], INTR)
    vmap = VoxelMap()
    nan_obs = Observation(mask=f.instance_ids == 1, score=0.9, feature=np.full(4, np.nan, np.float32))
    empty = Observation(mask=np.zeros_like(f.instance_ids, bool), score=0.9, feature=np.ones(4, np.float32))
    stats = vmap.add_frame(f, [nan_obs, empty])
    assert stats.observations_fused == 0 and len(vmap) == 0
    with pytest.raises(ValueError, match="mask"):
        vmap.add_frame(f, [Observation(mask=np.ones((3, 3), bool), score=1.0, feature=np.ones(4, np.float32))])


def test_obstacle_grid_marks_boxes_and_floor(box_world):
    boxes, _, _, vmap = box_world
    grid = vmap.obstacle_grid()
    for b in boxes:
        r, c = grid.world_to_cell(np.array([b.center[:2]]))[0]
        assert (grid.cells[r - 1 : r + 2, c - 1 : c + 2] == OBSTACLE).sum() >= 6  # sparse 160x120 rays
    rc = grid.world_to_cell(np.array([[1.0, 0.0]]))  # open floor in front of the camera
    assert grid.cells[rc[0, 0], rc[0, 1]] == FREE
    assert grid.obstacle_counts.sum() > 0


def test_frame_with_a_corrupt_pose_is_refused(box_world):
    from core.errors import InputError

    _, _, frames, _ = box_world
    f = frames[0]
    bad = type(f)(f.rgb, f.depth_m, f.intrinsics, f.T_world_cam.copy(), index=7)
    bad.T_world_cam[0, 3] = 1e9
    vmap = VoxelMap()
    with pytest.raises(InputError, match="frame 7 .* pose"):
        vmap.add_frame(bad)
    assert len(vmap.occupancy) == 0


def test_robot_body_is_removed_from_frames(box_world):
    from core.types import Pose2D
    from mapping.self_filter import SelfFilterConfig, remove_robot_body

    _, _, frames, _ = box_world
    f = frames[3]
    xyz, flat = FrameVoxelizer(0.05, 0.01, 100.0).points(f)
    base = Pose2D(float(xyz[0, 0]), float(xyz[0, 1]))  # pretend the robot stands where the first point is
    out = remove_robot_body(f, base, SelfFilterConfig(radius_m=0.5, max_height_m=2.0))
    d = np.hypot(xyz[:, 0] - base.x, xyz[:, 1] - base.y)
    removed = out.depth_m.reshape(-1)[flat] == 0
    floor = xyz[:, 2] <= 0.05
    assert np.array_equal(removed, (d < 0.5) & ~floor) and removed.any() and not removed.all()
    assert (floor & (d < 0.5)).any()  # floor around the robot is kept: it is free-floor evidence
    assert f.depth_m.reshape(-1)[flat].min() > 0  # the input frame is not modified


def test_driven_floor_becomes_free_but_never_hides_an_obstacle(box_world):
    """Where the robot drove during a scan is free floor, though the camera never sees under the robot."""
    from core.types import Pose2D
    from mapping.obstacles import FREE, OBSTACLE, UNKNOWN
    from orchestrator.scanning import DRIVEN_FLOOR_RADIUS_M, mark_driven_floor

    _, _, frames, _ = box_world
    vmap = VoxelMap()  # not the shared fixture's map: this test changes it
    for f in frames:
        vmap.add_frame(f)
    before = vmap.obstacle_grid()
    lo = before.origin_xy
    bounds = (lo[0], lo[1], lo[0] + (before.shape[1] - 1) * 0.05, lo[1] + (before.shape[0] - 1) * 0.05)
    before = vmap.obstacle_grid(bounds_xy=bounds)
    obstacle_xy = before.cell_to_world(np.argwhere(before.cells == OBSTACLE))
    unseen_xy = before.cell_to_world(np.argwhere(before.cells == UNKNOWN))
    assert len(obstacle_xy) and len(unseen_xy)
    # drive from an unseen cell to an obstacle cell (as if the robot had brushed past it)
    a, b = unseen_xy[0], obstacle_xy[0]
    n = mark_driven_floor(vmap, [Pose2D(*a), Pose2D(*b)])
    assert n > 0
    after = vmap.obstacle_grid(bounds_xy=bounds)
    assert after.shape == before.shape
    on_line = np.linspace(a, b, 20)
    states = after.cells[tuple(after.world_to_cell(on_line).T)]
    assert after.cells[tuple(after.world_to_cell(a[None])[0])] == FREE  # the unseen start is now free floor
    assert after.cells[tuple(after.world_to_cell(b[None])[0])] == OBSTACLE  # obstacle evidence wins
    assert (states != UNKNOWN).all()
    far = np.linalg.norm(unseen_xy - a, axis=1) > DRIVEN_FLOOR_RADIUS_M + np.linalg.norm(b - a) + 0.1
    far_states = after.cells[tuple(after.world_to_cell(unseen_xy[far]).T)]
    assert (far_states == UNKNOWN).all()  # nothing else changed

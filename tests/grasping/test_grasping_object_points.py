"""Object points from a ray-cast RGB-D frame and a mask with bleed, a stray blob and flying pixels; fused
over several frames whose masks carry a detector's per-frame errors (a spurious patch, a missed frame)."""

from __future__ import annotations

import numpy as np
import open3d as o3d
import pytest
import trimesh

from core.geometry import make_T
from core.types import CameraIntrinsics, RGBDFrame
from grasping.object_points import ObjectNotSeenError, fused_object_cloud, object_cloud

BOX_LO = np.array([0.95, -0.04, 0.75])
BOX_HI = np.array([1.05, 0.04, 0.87])


@pytest.fixture(scope="module")
def frame_and_ids():
    table = trimesh.creation.box((1.2, 1.2, 0.02))
    table.apply_translation((1.0, 0.0, 0.74))
    box = trimesh.creation.box(BOX_HI - BOX_LO)
    box.apply_translation((BOX_LO + BOX_HI) / 2)
    other = trimesh.creation.box((0.05, 0.05, 0.05))
    other.apply_translation((1.2, 0.25, 0.775))
    scene = trimesh.util.concatenate([table, box, other])
    owner = np.concatenate([np.zeros(len(table.faces), int), np.ones(len(box.faces), int),
                            np.full(len(other.faces), 2)])
    intr = CameraIntrinsics.from_fov(160, 120, np.radians(58))
    # Camera 1.3 m high at x=0.2, looking at the box, tilted down ~40 deg.
    eye, target = np.array([0.2, 0.0, 1.3]), np.array([1.0, 0.0, 0.8])
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = make_T(np.stack([x, y, z], axis=1), eye)
    v, u = np.mgrid[0:intr.height, 0:intr.width]
    dirs_cam = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones_like(u, float)], -1).reshape(-1, 3)
    dirs = dirs_cam @ T[:3, :3].T
    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(o3d.core.Tensor(scene.vertices.astype(np.float32)),
                     o3d.core.Tensor(scene.faces.astype(np.uint32)))
    rays = np.concatenate([np.repeat(eye[None], len(dirs), 0), dirs], axis=1).astype(np.float32)
    hit = rc.cast_rays(o3d.core.Tensor(rays))
    t = hit["t_hit"].numpy()
    prim = hit["primitive_ids"].numpy().astype(np.int64)
    ok = np.isfinite(t)
    depth = np.where(ok, t * (dirs @ T[:3, 2]), 0.0).astype(np.float32).reshape(intr.height, intr.width)
    ids = np.where(ok, owner[np.where(ok, prim, 0)], 0).astype(np.int32).reshape(intr.height, intr.width)
    rgb = np.zeros((intr.height, intr.width, 3), np.uint8)
    return RGBDFrame(rgb=rgb, depth_m=depth, intrinsics=intr, T_world_cam=T, instance_ids=ids), ids


def test_cleaned_points_are_the_object_and_the_scene_is_the_rest(frame_and_ids):
    frame, ids = frame_and_ids
    mask = ids == 1
    assert mask.sum() > 100
    # Corrupt the mask: a stray blob on the other object, and flying pixels with wrong depth on the object.
    mask = mask | (ids == 2)
    depth = frame.depth_m.copy()
    rows, cols = np.nonzero(ids == 1)
    depth[rows[::23], cols[::23]] += 0.4
    noisy = RGBDFrame(frame.rgb, depth, frame.intrinsics, frame.T_world_cam, instance_ids=frame.instance_ids)
    cloud = object_cloud(noisy, mask, name="box")
    pts = cloud.points
    assert len(pts) >= 50
    assert np.all(pts >= BOX_LO - 0.015) and np.all(pts <= BOX_HI + 0.015)
    # The stray object and the flying pixels are gone.
    assert not np.any(np.linalg.norm(pts[:, :2] - [1.2, 0.25], axis=1) < 0.05)
    # Scene points: the table around the object, none on the object itself.
    sc = cloud.scene
    assert np.sum(np.abs(sc[:, 2] - 0.75) < 0.01) > 50
    inside = np.all((sc >= BOX_LO + 0.01) & (sc <= BOX_HI - 0.01), axis=1)
    assert not inside.any()


def test_empty_mask_raises_object_not_seen(frame_and_ids):
    frame, ids = frame_and_ids
    mask = np.zeros_like(ids, dtype=bool)
    mask[0, 0] = True
    with pytest.raises(ObjectNotSeenError, match="mug: only 0 valid depth points"):
        object_cloud(frame, mask, name="mug")


def _noisy(frame: RGBDFrame, seed: int) -> RGBDFrame:
    """The frame with D435-like per-frame depth noise (about 4 mm at 1 m)."""
    rng = np.random.default_rng(seed)
    d = frame.depth_m
    depth = np.where(d > 0, d + rng.standard_normal(d.shape) * 0.0036 * d * d, 0).astype(np.float32)
    return RGBDFrame(frame.rgb, depth, frame.intrinsics, frame.T_world_cam, instance_ids=frame.instance_ids)


def _table_patch(ids: np.ndarray, rows: slice, cols: slice) -> np.ndarray:
    patch = np.zeros_like(ids, dtype=bool)
    patch[rows, cols] = True
    return patch & (ids == 0)


def test_fused_frames_drop_a_spurious_patch_one_frame_gave_the_target(frame_and_ids):
    frame, ids = frame_and_ids
    box = ids == 1
    # Frame 0: a detector's false positive, a patch of table bigger than the box, carries the box's label.
    spurious = _table_patch(ids, slice(85, 115), slice(10, 60))
    assert spurious.sum() > box.sum()
    views = [(_noisy(frame, 0), box | spurious), (_noisy(frame, 1), box), (_noisy(frame, 2), box)]
    single = object_cloud(*views[0], name="box").points
    assert np.any(np.any((single < BOX_LO - 0.05) | (single > BOX_HI + 0.05), axis=1))  # one frame: wrong
    cloud, used = fused_object_cloud(views, name="box")
    pts = cloud.points
    assert len(pts) >= 50 and used is views[0][0]
    assert np.all(pts >= BOX_LO - 0.015) and np.all(pts <= BOX_HI + 0.015)
    # The table where the patch was is scene, not object (the majority of masks leaves it out).
    assert np.sum(np.abs(cloud.scene[:, 2] - 0.75) < 0.015) > 50


def test_fused_frames_without_agreement_take_the_view_nearest_the_expected_position(frame_and_ids):
    frame, ids = frame_and_ids
    box = ids == 1
    # The box is missed in one frame, where a patch of table carries its label instead: nothing agrees.
    spurious = _table_patch(ids, slice(85, 115), slice(10, 60))
    views = [(_noisy(frame, 3), spurious), (_noisy(frame, 4), box)]
    cloud, used = fused_object_cloud(views, name="box", near=(BOX_LO + BOX_HI) / 2)
    assert used is views[1][0]
    assert np.all(cloud.points >= BOX_LO - 0.015) and np.all(cloud.points <= BOX_HI + 0.015)
    with pytest.raises(ObjectNotSeenError, match="box: only 0 valid depth points"):
        fused_object_cloud([], name="box")


def test_fused_scene_is_the_median_depth_so_a_noisy_table_stays_flat(frame_and_ids):
    frame, ids = frame_and_ids
    box = ids == 1
    rng = np.random.default_rng(5)
    views = []
    for _ in range(3):  # 8 mm depth noise (a D435 at 1.5 m) and a few flying pixels in each frame
        d = frame.depth_m
        depth = d + rng.standard_normal(d.shape).astype(np.float32) * 0.008
        depth[rng.random(d.shape) < 0.01] -= 0.3
        depth = np.where(d > 0, depth, 0).astype(np.float32)
        views.append((RGBDFrame(frame.rgb, depth, frame.intrinsics, frame.T_world_cam), box))

    def standing_up(scene):  # table points (away from the box) more than 2 cm above the table's top
        off_box = (np.linalg.norm(scene[:, :2] - [1.0, 0.0], axis=1) > 0.12) & (
            np.linalg.norm(scene[:, :2] - [1.2, 0.25], axis=1) > 0.08)  # nor the small box standing there
        on_table = off_box & (scene[:, 2] > 0.70)
        return int(np.sum(on_table & (scene[:, 2] > 0.75 + 0.02))), int(on_table.sum())

    single, n1 = standing_up(object_cloud(*views[0], name="box").scene)
    fused, n3 = standing_up(fused_object_cloud(views, name="box")[0].scene)
    assert n1 > 100 and n3 > 100
    assert single >= 5 and fused <= single // 5


def test_voxel_down_is_the_mean_per_voxel_in_lexicographic_voxel_order():
    from grasping.object_points import voxel_down

    rng = np.random.default_rng(3)
    pts = (rng.random((5000, 3)) * 0.2 - 0.1 + np.array([-3.0, 2.0, 0.5])).astype(np.float32)
    far = np.vstack([pts, [[9000.0, 0.0, 0.0]]]).astype(np.float32)  # beyond the 1-D codes' range
    for xyz in (pts, far):
        keys = np.floor(xyz / 0.01).astype(np.int64)
        uniq, inv = np.unique(keys, axis=0, return_inverse=True)
        want = np.array([xyz[inv.reshape(-1) == k].mean(axis=0) for k in range(len(uniq))], np.float32)
        np.testing.assert_allclose(voxel_down(xyz, 0.01), want, atol=1e-5)


class _StillHeadCamera:
    """The head camera at the hardware boundary: the same view each frame, with or without depth noise."""

    def __init__(self, frame: RGBDFrame, noise_m: float) -> None:
        self.frame, self.noise_m, self.frames = frame, noise_m, 0
        self.rng = np.random.default_rng(5)

    def observe(self):
        from types import SimpleNamespace

        self.frames += 1
        f = self.frame
        if self.noise_m > 0:
            d = f.depth_m + (self.rng.normal(0, self.noise_m, f.depth_m.shape) * (f.depth_m > 0)).astype(np.float32)
            f = RGBDFrame(f.rgb, d, f.intrinsics, f.T_world_cam, instance_ids=f.instance_ids)
        return SimpleNamespace(frame=f)


def test_a_noiseless_camera_is_not_asked_for_frames_that_add_nothing(frame_and_ids):
    from grasping.config import PickConfig
    from grasping.execute import perceive

    frame, ids = frame_and_ids
    config = PickConfig()
    assert config.fuse_frames >= 3
    provider = lambda f: [(f.instance_ids == 1, 1.0)]  # noqa: E731
    exact, noisy = _StillHeadCamera(frame, 0.0), _StillHeadCamera(frame, 0.004)
    a, _ = perceive(exact, provider, "box", None, config, recentre=False)
    b, _ = perceive(noisy, provider, "box", None, config, recentre=False)
    assert exact.frames == 2  # the second frame equals the first to the bit: nothing more to fuse
    assert noisy.frames == config.fuse_frames  # a real camera's frames differ: all of them are fused
    for cloud in (a, b):
        assert np.all(cloud.points >= BOX_LO - 0.02) and np.all(cloud.points <= BOX_HI + 0.02)

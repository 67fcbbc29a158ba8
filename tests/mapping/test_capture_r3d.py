"""Record3D reader: geometry of a synthetic .r3d recovered in the project's world, filtering, errors."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from capture_fixtures import (  # noqa: E402
    ARKIT_CAM_FROM_CV,
    R3DSpec,
    default_poses,
    distance_to_scene,
    point_in_box,
    write_r3d,
)

from core.geometry import backproject, frame_points  # noqa: E402
from mapping.sources import CaptureConfig, CaptureError, open_capture  # noqa: E402
from mapping.sources.r3d import R3DFrameSource  # noqa: E402


@pytest.fixture(scope="module")
def r3d_path(tmp_path_factory) -> Path:
    return write_r3d(tmp_path_factory.mktemp("r3d") / "scan.r3d")


def test_r3d_recovers_scene_geometry_in_z_up_world(r3d_path):
    with open_capture(r3d_path) as src:
        assert isinstance(src, R3DFrameSource) and src.format == "r3d"
        assert len(src) == 2
        # poses: ARKit (camera y up, z back; world y up, origin 1.3 m above the floor) -> OpenCV, z up, floor 0
        np.testing.assert_allclose(src.poses(), np.stack(default_poses()), atol=1e-4)
        assert src.describe()["world_alignment"]["floor_offset_m"] == pytest.approx(-1.3, abs=0.005)
        n_box = 0
        for f in src:
            xyz, rgb = frame_points(f)
            assert len(xyz) > 1000
            assert distance_to_scene(xyz).max() < 0.01
            n_box += int(point_in_box(xyz).sum())
            red = (rgb[:, 0] > 150) & (rgb[:, 1] < 80)
            assert red.sum() > 50 and point_in_box(xyz[red], margin=0.02).mean() > 0.95  # colour aligned to depth
        assert n_box > 300  # the box is seen, not only the floor


def test_r3d_wrong_camera_convention_would_be_caught(r3d_path):
    """Keeping ARKit's camera axes (no y/z flip) puts the points far from the scene: the test above can fail."""
    with open_capture(r3d_path) as src:
        f = src.frame(0)
        wrong = f.T_world_cam @ ARKIT_CAM_FROM_CV
        xyz, _ = backproject(f.depth_m, f.intrinsics, wrong)
        assert np.median(distance_to_scene(xyz)) > 0.1


def test_r3d_frames_are_at_depth_resolution_with_scaled_intrinsics(r3d_path):
    spec = R3DSpec()
    with open_capture(r3d_path) as src:
        assert src.rgb_size == spec.rgb_size
        assert (src.intrinsics.width, src.intrinsics.height) == spec.depth_size
        K = spec.depth_K
        assert src.intrinsics.fx == pytest.approx(K.fx) and src.intrinsics.cx == pytest.approx(K.cx)
        f = src.frame(-1)
        assert f.index == 1 and f.rgb.shape == (48, 64, 3) and f.depth_m.dtype == np.float32
        assert src.timestamps() == pytest.approx([0.0, 1 / 30.0])
        with pytest.raises(IndexError):
            src.frame(2)


def test_r3d_drops_low_confidence_nan_and_far_depth(r3d_path):
    with open_capture(r3d_path) as src:
        d = src.frame(0).depth_m
        assert np.all(d[:, 0:4] == 0)  # confidence 0 columns
        assert d[47, 63] == 0  # NaN in the file
        assert np.all((d == 0) | ((d >= 0.1) & (d <= 3.0)))
        assert np.isfinite(d).all()
    with open_capture(r3d_path, CaptureConfig(min_confidence=0, max_depth_m=10.0)) as src:
        d_all = src.frame(0).depth_m
        assert (d_all[:, 0:4] > 0).mean() > 0.5
        np.testing.assert_array_equal(d_all[:, 4:][d[:, 4:] > 0], d[:, 4:][d[:, 4:] > 0])
        assert d_all.max() > 3.0  # the far floor is kept when allowed


def test_r3d_poses_do_not_decode_colour(r3d_path, monkeypatch):
    src = open_capture(r3d_path)
    monkeypatch.setattr(R3DFrameSource, "_decode_rgb", lambda self, i: pytest.fail("colour decoded"))
    assert src.poses().shape == (2, 4, 4)
    src.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (R3DSpec(omit_metadata=True), "has no metadata"),
        (R3DSpec(omit_depth_of=1), "frame 1 has no depth"),
        (R3DSpec(bad_pose_of=0), "pose of frame 0 has non-finite values"),
        (R3DSpec(zero_quaternion_of=1), "quaternion of zero norm"),
        (R3DSpec(poses=[]), "empty capture"),
    ],
)
def test_r3d_open_errors_name_the_file(tmp_path, spec, message):
    path = write_r3d(tmp_path / "bad.r3d", spec)
    with pytest.raises(CaptureError, match=message) as err:
        open_capture(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_r3d_mismatched_rgb_size_fails_when_decoded(tmp_path):
    path = write_r3d(tmp_path / "bad.r3d", R3DSpec(wrong_rgb_size_of=1))
    with open_capture(path) as src:
        src.frame(0)
        with pytest.raises(CaptureError, match=r"rgbd/1.jpg is 128x192 but metadata says 256x192"):
            src.frame(1)


def test_r3d_truncated_and_corrupt_members(tmp_path, r3d_path):
    data = r3d_path.read_bytes()
    cut = tmp_path / "cut.r3d"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(CaptureError, match="corrupt or truncated zip"):
        open_capture(cut)
    # a depth member that is not LZFSE data
    bad = tmp_path / "baddepth.r3d"
    with zipfile.ZipFile(r3d_path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            payload = b"not lzfse at all" if item.filename == "rgbd/0.depth" else zin.read(item.filename)
            zout.writestr(item, payload)
    with open_capture(bad) as src, pytest.raises(CaptureError, match=r"rgbd/0.depth"):
        src.frame(0)


def test_r3d_without_confidence_maps_keeps_depth(tmp_path):
    path = write_r3d(tmp_path / "noconf.r3d", R3DSpec(no_conf=True))
    with open_capture(path) as src:
        assert (src.frame(0).depth_m[:, 0:4] > 0).mean() > 0.5


def test_unzipped_r3d_folder_reads_the_same(tmp_path, r3d_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(r3d_path) as z:
        z.extractall(folder)
    with open_capture(folder) as a, open_capture(r3d_path) as b:
        assert a.format == "r3d"
        np.testing.assert_array_equal(a.frame(1).depth_m, b.frame(1).depth_m)
        np.testing.assert_allclose(a.poses(), b.poses())

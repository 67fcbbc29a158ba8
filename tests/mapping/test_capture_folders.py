"""TUM and Redwood/ICL-NUIM readers: synthetic TUM geometry, the real ICL frames, errors, live streams."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).parent))
from capture_fixtures import distance_to_scene, write_tum  # noqa: E402

from core.geometry import backproject, frame_points, invert_T  # noqa: E402
from mapping.sources import CaptureConfig, CaptureError, StreamFrameSource, open_capture  # noqa: E402
from mapping.sources.redwood import RedwoodFrameSource  # noqa: E402
from mapping.sources.tum import TUMFrameSource  # noqa: E402

ICL = "rgbd/icl_nuim_livingroom_5frames"


@pytest.fixture(scope="module")
def tum_capture(tmp_path_factory) -> tuple[Path, np.ndarray]:
    return write_tum(tmp_path_factory.mktemp("tum") / "rgbd_dataset_freiburg1_synthetic")


@pytest.fixture
def icl_copy(shared_data, tmp_path) -> Path:
    dst = tmp_path / "icl"
    shutil.copytree(shared_data / ICL, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


# -- TUM -----------------------------------------------------------------------------------------------
def test_tum_recovers_geometry_and_interpolated_poses(tum_capture):
    folder, truth = tum_capture
    with open_capture(folder) as src:
        assert isinstance(src, TUMFrameSource) and len(src) == 4  # the unmatched rgb line is skipped
        al = src.describe()["world_alignment"]
        assert al["up_axis_in_file"] == "-y" and al["floor_offset_m"] == pytest.approx(-0.7, abs=0.005)
        np.testing.assert_allclose(src.poses(), truth, atol=2e-3)  # y-down file world -> z up, floor 0
        assert src.timestamps() == pytest.approx([0.0, 0.5, 1.0, 1.5])
        for f in src:
            xyz, _ = frame_points(f)
            assert len(xyz) > 1000 and distance_to_scene(xyz).max() < 0.01


def test_tum_intrinsics_from_folder_name(tum_capture, tmp_path):
    folder, _ = tum_capture
    named = tmp_path / "rgbd_dataset_freiburg3_long_office"
    shutil.copytree(folder, named)
    (named / "camera.json").unlink()
    with pytest.raises(CaptureError, match="is 80x60 but the camera intrinsics are for 640x480"):
        open_capture(named).frame(0)  # fr3 calibration is 640x480; the synthetic images are not
    assert open_capture(named).intrinsics.fx == pytest.approx(535.4)


def test_tum_errors(tum_capture, tmp_path):
    folder, _ = tum_capture
    bad = tmp_path / "tum_bad"
    shutil.copytree(folder, bad)
    gt = (bad / "groundtruth.txt").read_text().splitlines()
    gt[5] = gt[5].rsplit(" ", 4)[0] + " 0 0 0 0"
    (bad / "groundtruth.txt").write_text("\n".join(gt) + "\n")
    with pytest.raises(CaptureError, match=r"groundtruth.txt: the pose of line 3 has a quaternion of zero norm"):
        open_capture(bad)
    (bad / "groundtruth.txt").write_text("# nothing\n")
    with pytest.raises(CaptureError, match="groundtruth.txt lists no poses"):
        open_capture(bad)
    (bad / "groundtruth.txt").write_text("1.0 2.0 3.0\n")
    with pytest.raises(CaptureError, match="groundtruth.txt line 1 is malformed"):
        open_capture(bad)


# -- Redwood / ICL-NUIM (real data) -------------------------------------------------------------------
def _overlap_error(src, T0, T4) -> float:  # noqa: N803
    """Median distance of frame 4's points to frame 0's cloud, for given poses of the two frames."""
    a, _ = backproject(src.depth(0), src.intrinsics, T0, stride=2)
    b, _ = backproject(src.depth(4), src.intrinsics, T4, stride=2)
    dist, _ = cKDTree(a).query(b, distance_upper_bound=1.0)
    return float(np.median(np.where(np.isfinite(dist), dist, 1.0)))


def test_icl_frames_agree_in_world_and_floor_is_z0(shared_data):
    with open_capture(shared_data / ICL) as src:
        assert isinstance(src, RedwoodFrameSource) and len(src) == 5
        assert src.describe()["world_alignment"]["up_axis_in_file"] == "+y"  # ICL's log world is y up
        P = src.poses()
        assert np.all(P[:, 2, 1] < -0.99)  # the image "down" axis points to world -z: the world is z up
        good = _overlap_error(src, P[0], P[4])
        assert good < 0.012
        # a reader that inverted or transposed the poses would put frame 4 visibly off frame 0
        R = P.copy()
        R[:, :3, :3] = np.transpose(P[:, :3, :3], (0, 2, 1))
        for T0, T4 in [(invert_T(P[0]), invert_T(P[4])), (R[0], R[4])]:
            bad = _overlap_error(src, T0, T4)
            assert bad > 3 * good and bad > 0.02
        xyz, rgb = frame_points(src.frame(2))
        assert abs(np.percentile(xyz[:, 2], 1)) < 0.03  # the floor is at z = 0
        assert rgb.std() > 10  # real colours


def test_icl_gravity_none_keeps_the_logged_world(shared_data):
    lines = (shared_data / ICL / "trajectory.log").read_text().splitlines()
    T0 = np.array([[float(v) for v in ln.split()] for ln in lines[1:5]])
    with open_capture(shared_data / ICL, CaptureConfig(up="none", floor_to_zero=False)) as src:
        np.testing.assert_allclose(src.poses()[0], T0, atol=1e-12)
    with open_capture(shared_data / ICL, CaptureConfig(up="+y", floor_to_zero=False)) as src:
        # +y up -> rot_x(+90 deg): (x, y, z) -> (x, -z, y)
        np.testing.assert_allclose(src.poses()[0][:3, 3], [T0[0, 3], -T0[2, 3], T0[1, 3]], atol=1e-12)


def test_redwood_errors(icl_copy):
    (icl_copy / "depth" / "00004.png").unlink()
    with pytest.raises(CaptureError, match="has 5 colour images but 4 depth images"):
        open_capture(icl_copy)
    (icl_copy / "color" / "00004.jpg").unlink()
    with pytest.raises(CaptureError, match="trajectory.log has 5 poses for 4 frames"):
        open_capture(icl_copy)
    shutil.copy(icl_copy / "color" / "00000.jpg", icl_copy / "color" / "00004.jpg")
    (icl_copy / "depth" / "00004.png").write_bytes(b"\x89PNG broken")
    src = open_capture(icl_copy)
    with pytest.raises(CaptureError, match=r"depth image .*00004.png cannot be decoded"):
        src.frame(4)
    lines = (icl_copy / "trajectory.log").read_text().splitlines()
    lines[2] = "nan nan nan nan"
    (icl_copy / "trajectory.log").write_text("\n".join(lines) + "\n")
    with pytest.raises(CaptureError, match="trajectory .* the pose of frame 0 is not finite"):
        open_capture(icl_copy)


def test_redwood_images_pair_in_numeric_order(icl_copy, shared_data):
    for sub, ext in (("color", ".jpg"), ("depth", ".png")):
        for k in range(5):
            (icl_copy / sub / f"0000{k}{ext}").rename(icl_copy / sub / f"{k * 5}{ext}")  # 0, 5, 10, 15, 20
    with open_capture(icl_copy) as renamed, open_capture(shared_data / ICL) as original:
        for k in range(5):  # "10.png" is frame 2, not frame 1 as a plain name sort would make it
            np.testing.assert_array_equal(renamed.depth(k), original.depth(k))


def test_redwood_default_intrinsics_and_unknown_folder(icl_copy, tmp_path, caplog):
    (icl_copy / "camera_primesense.json").unlink()
    with open_capture(icl_copy) as src:
        assert src.intrinsics.fx == 525.0 and "PrimeSense" in caplog.text
    with pytest.raises(CaptureError, match="cannot tell the capture format"):
        open_capture(tmp_path)


# -- live streams -----------------------------------------------------------------------------------
def test_stream_source_wraps_lists_and_generators(shared_data):
    with open_capture(shared_data / ICL) as src:
        frames = [src.frame(i) for i in range(3)]
    listed = StreamFrameSource(frames)
    assert len(listed) == 3 and listed.frame(-1) is frames[2] and listed.poses().shape == (3, 4, 4)
    live = StreamFrameSource(iter(frames), name="head camera")
    assert live.intrinsics == frames[0].intrinsics  # peeks without losing the first frame
    assert [f.index for f in live] == [0, 1, 2]
    with pytest.raises(TypeError):
        len(live)
    assert live  # truthy although its length is unknown
    with pytest.raises(CaptureError, match="already been read"):
        list(live)
    with pytest.raises(CaptureError, match="live stream"):
        live.frame(0)

"""`ovmm info` and `ovmm export-cloud` through the CLI entry point, including bad captures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import open3d as o3d
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from capture_fixtures import R3DSpec, distance_to_scene, write_r3d  # noqa: E402

from orchestrator.cli import main  # noqa: E402

ICL = "rgbd/icl_nuim_livingroom_5frames"


@pytest.fixture(scope="module")
def good_r3d(tmp_path_factory) -> Path:
    return write_r3d(tmp_path_factory.mktemp("cli") / "scan.r3d")


def test_info_text_and_json(good_r3d, capsys):
    assert main(["info", str(good_r3d)]) == 0
    out = capsys.readouterr().out
    assert "Record3D (.r3d)" in out and "frames:     2" in out
    assert "256x192" in out and "64x48" in out
    assert "floor:" in out and "shifted by +1.300 m" in out
    assert main(["info", "--json", str(good_r3d)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "r3d" and info["frames"] == 2
    assert info["rgb_resolution"] == [256, 192] and info["depth_resolution"] == [64, 48]
    assert info["duration_s"] == pytest.approx(1 / 30, abs=1e-3)
    # the fixture's cameras are at (-0.6, -0.9, 1.2) and (0.4, 1.6, 1.4): 2.7 m apart
    assert info["trajectory_length_m"] == pytest.approx(2.7, abs=0.002)
    assert info["camera_extent_m"]["min"][2] == pytest.approx(1.2, abs=0.01)


def test_export_cloud_r3d_writes_scene_points(good_r3d, tmp_path, capsys):
    out = tmp_path / "cloud.ply"
    assert main(["export-cloud", str(good_r3d), str(out), "--voxel", "0.01"]) == 0
    summary = capsys.readouterr().out.strip()
    assert summary.startswith(f"wrote {out}:") and "\n" not in summary
    pcd = o3d.io.read_point_cloud(str(out))
    pts = np.asarray(pcd.points)
    assert len(pts) > 1000 and pcd.has_colors()
    assert np.percentile(distance_to_scene(pts), 99) < 0.01  # voxel centroids stay on the surfaces
    assert [p.name for p in tmp_path.iterdir()] == ["cloud.ply"]  # no temp files left


def test_export_cloud_icl(shared_data, tmp_path, capsys):
    out = tmp_path / "out.ply"
    assert main(["export-cloud", str(shared_data / ICL), str(out), "--stride", "2"]) == 0
    assert "from 3 frames" in capsys.readouterr().out
    pcd = o3d.io.read_point_cloud(str(out))
    pts, cols = np.asarray(pcd.points), np.asarray(pcd.colors)
    assert len(pts) > 5000 and cols.std() > 0.05
    assert pts[:, 2].min() > -0.05 and np.percentile(pts[:, 2], 2) < 0.05  # floor at z = 0
    coarse = tmp_path / "coarse.ply"
    assert main(["export-cloud", str(shared_data / ICL), str(coarse), "--stride", "2", "--voxel", "0.05"]) == 0
    assert len(o3d.io.read_point_cloud(str(coarse)).points) < 0.3 * len(pts)  # the voxel size is applied


BAD_CAPTURES = [
    (R3DSpec(omit_metadata=True), "has no metadata"),
    (R3DSpec(omit_depth_of=1), "frame 1 has no depth"),
    (R3DSpec(wrong_rgb_size_of=1), "is 128x192 but metadata says 256x192"),
    (R3DSpec(bad_pose_of=1), "non-finite"),
    (R3DSpec(zero_quaternion_of=0), "quaternion of zero norm"),
    ("truncated", "corrupt or truncated zip"),
    ("missing", "does not exist"),
]


@pytest.mark.parametrize(
    ("command", "spec", "message"),
    [
        (command, spec, message)
        for command in ("info", "export-cloud")
        for spec, message in BAD_CAPTURES
        # `info` decodes no colour image, so only export-cloud can see a wrong colour size
        if not (command == "info" and "128x192" in message)
    ],
)
def test_bad_captures_exit_1_with_one_line_and_no_output(tmp_path, capsys, good_r3d, spec, message, command):
    path = tmp_path / "bad.r3d"
    if spec == "truncated":
        data = good_r3d.read_bytes()
        path.write_bytes(data[: len(data) - 200])
    elif spec != "missing":
        write_r3d(path, spec)
    out_dir = tmp_path / "out"
    argv = ["info", str(path)] if command == "info" else ["export-cloud", str(path), str(out_dir / "cloud.ply")]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message in err and str(path) in err
    assert not out_dir.exists() or not any(out_dir.iterdir())


def test_export_cloud_rejects_bad_arguments(good_r3d, tmp_path, capsys):
    assert main(["export-cloud", str(good_r3d), str(tmp_path / "cloud.txt")]) == 1
    assert "must end in .ply" in capsys.readouterr().err
    assert main(["export-cloud", str(good_r3d), str(tmp_path / "c.ply"), "--voxel", "0"]) == 1
    assert main(["export-cloud", str(good_r3d), str(tmp_path / "c.ply"), "--max-depth", "0.05"]) == 1
    assert "--max-depth" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_export_cloud_merging_on_long_captures_keeps_the_same_cloud(good_r3d, tmp_path, monkeypatch, capsys):
    from orchestrator.commands import capture

    once = tmp_path / "once.ply"
    assert main(["export-cloud", str(good_r3d), str(once)]) == 0
    monkeypatch.setattr(capture, "MERGE_EVERY_POINTS", 10)  # merge after every frame
    merged = tmp_path / "merged.ply"
    assert main(["export-cloud", str(good_r3d), str(merged)]) == 0
    a = np.asarray(o3d.io.read_point_cloud(str(once)).points)
    b = np.asarray(o3d.io.read_point_cloud(str(merged)).points)
    assert abs(len(a) - len(b)) < 0.1 * len(a)
    assert np.percentile(distance_to_scene(b), 99) < 0.015


def test_capture_options_come_from_the_config():
    from mapping.sources import CaptureConfig
    from orchestrator.cli import build_parser
    from orchestrator.commands.capture import _config

    parser = build_parser()
    assert _config(parser.parse_args(["info", "x.r3d"])) == CaptureConfig()
    cfg = _config(parser.parse_args(["export-cloud", "x", "o.ply", "--keep-height", "--max-time-diff", "0.05",
                                     "--intrinsics", "k.json", "--max-depth", "2.5"]))
    assert cfg == CaptureConfig(floor_to_zero=False, max_time_diff_s=0.05, intrinsics_path="k.json", max_depth_m=2.5)
    assert not _config(parser.parse_args(["info", "x", "--no-floor-to-zero"])).floor_to_zero

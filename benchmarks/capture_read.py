"""Capture reading speed: a synthetic Record3D capture at the iPhone's real resolutions.

Writes a `.r3d` with 1920x1440 JPEG colour and 256x192 LZFSE depth + confidence (a few ray-cast views of a
floor and a box, cycled), then times: opening it, `poses()` (what `ovmm info` needs, including the floor
estimate), decoding every frame, and `ovmm export-cloud`. Prints one JSON object.

    .venv/bin/python benchmarks/capture_read.py [--frames 60] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import liblzfse
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "mapping"))
from capture_fixtures import R3DSpec, arkit_pose_row, jpeg_bytes, look_at, render  # noqa: E402

from mapping.sources import open_capture  # noqa: E402
from orchestrator.cli import main as ovmm_main  # noqa: E402


def write_big_r3d(path: Path, n_frames: int, rgb_size: tuple[int, int], n_views: int = 4) -> None:
    spec = R3DSpec(rgb_size=rgb_size, depth_size=(256, 192))
    views = []
    for k in range(n_views):
        a = 2 * np.pi * k / n_views
        T = look_at([1.05 + 2.0 * np.cos(a), 2.0 * np.sin(a), 1.3], [1.05, 0.0, 0.3])
        _, rgb = render(T, spec.rgb_K)
        depth, _ = render(T, spec.depth_K)
        views.append((T, jpeg_bytes(rgb), liblzfse.compress(depth.tobytes()), liblzfse.compress(np.full(depth.shape, 2, np.uint8).tobytes())))
    K = spec.rgb_K
    meta = {
        "K": [K.fx, 0, 0, 0, K.fy, 0, K.cx, K.cy, 1], "w": rgb_size[0], "h": rgb_size[1], "dw": 256, "dh": 192,
        "fps": 60, "poses": [arkit_pose_row(views[i % n_views][0]) for i in range(n_frames)],
    }  # fmt: skip
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata", json.dumps(meta))
        for i in range(n_frames):
            _, jpg, dep, conf = views[i % n_views]
            z.writestr(f"rgbd/{i}.jpg", jpg)
            z.writestr(f"rgbd/{i}.depth", dep)
            z.writestr(f"rgbd/{i}.conf", conf)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--quick", action="store_true", help="20 frames at 960x720 colour")
    args = ap.parse_args()
    n, rgb_size = (20, (960, 720)) if args.quick else (args.frames, (1920, 1440))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.r3d"
        write_big_r3d(path, n, rgb_size)
        t0 = time.perf_counter()
        src = open_capture(path)
        t1 = time.perf_counter()
        src.poses()
        t2 = time.perf_counter()
        for f in src:
            assert f.rgb.shape == (192, 256, 3)
        t3 = time.perf_counter()
        src.close()
        out = Path(tmp) / "cloud.ply"
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):
            code = ovmm_main(["export-cloud", str(path), str(out)])
        t4 = time.perf_counter()
        result = {
            "benchmark": "capture_read",
            "frames": n,
            "rgb_size": list(rgb_size),
            "depth_size": [256, 192],
            "file_mb": round(path.stat().st_size / 1e6, 2),
            "open_s": round(t1 - t0, 4),
            "poses_with_floor_estimate_s": round(t2 - t1, 4),
            "decode_fps": round(n / (t3 - t2), 1),
            "export_cloud_s": round(t4 - t3, 3),
            "export_cloud_ok": code == 0,
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

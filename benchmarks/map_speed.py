"""Voxel map speed and size: fusion throughput, query latency, bytes per 100k voxels. Prints one JSON object.

- fusion_fps: `VoxelMap.add_frame` on 640x480 frames (a room-like depth image, 6 object masks per frame
  with 512-d features), model inference excluded, with negative evidence (every stored voxel projected
  into the frame; the map's default; target >= 20 frames/s) and without it (target >= 30 frames/s).
  The map of that run stays small, so negative evidence is also timed alone on the 200k-voxel query map
  (both layers, camera in the middle of the home), and fusion_fps_cpu_time_on_query_map adds it to the
  plain fusion time: the per-frame cost on a home-sized map.
- query_ms: `VoxelMap.query` (similarity + clustering) on a map of `--query-voxels` (200k) semantic voxels
  with 512-d features; median of repeats; target <= 10 ms. Measured with the int8 first pass
  (mapping.query_index, the default for maps >= 50k voxels) and with the float32 product only.
- disk / memory bytes per 100k voxels for that map (float16 features on disk, float32 in RAM).
Times are given by wall clock and by this process's CPU time (the latter is steadier on a shared CPU).

Usage: python benchmarks/map_speed.py [--frames 60] [--query-voxels 200000] [--dim 512] [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.geometry import make_T, rot_z  # noqa: E402
from core.types import CameraIntrinsics, Observation, RGBDFrame  # noqa: E402
from mapping.negative_evidence import ClearingConfig, apply_negative_evidence  # noqa: E402
from mapping.query import QueryConfig  # noqa: E402
from mapping.voxel_map import VoxelMap  # noqa: E402


def room_frame(i: int, intr: CameraIntrinsics, rng: np.random.Generator, dim: int) -> tuple[RGBDFrame, list]:
    """A camera turning inside a 6 x 6 x 2.5 m room (floor, walls, ceiling by ray casting) with 6 masks."""
    yaw = 2 * math.pi * i / 90.0
    R0 = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]], dtype=float)
    c, s = math.cos(-0.3), math.sin(-0.3)
    R_pitch = np.array([[c, 0, -s], [0, 1, 0], [s, 0, c]])
    T = make_T(rot_z(yaw) @ R_pitch @ R0, (0.3 * math.cos(yaw), 0.3 * math.sin(yaw), 1.3))
    v, u = np.mgrid[0 : intr.height, 0 : intr.width]
    d = np.stack([(u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy, np.ones(u.shape)], -1).reshape(-1, 3) @ T[:3, :3].T
    o = T[:3, 3]
    lo, hi = np.array([-3.0, -3.0, 0.0]), np.array([3.0, 3.0, 2.5])
    with np.errstate(divide="ignore"):
        t = np.maximum((lo - o) / d, (hi - o) / d).min(axis=1)  # exit distance from inside the box
    depth = (t * 1.0).astype(np.float32).reshape(intr.height, intr.width)  # d_cam z = 1 -> t is the depth
    rgb = rng.integers(0, 255, (intr.height, intr.width, 3), dtype=np.uint8)
    obs = []
    for _ in range(6):
        x0, y0 = int(rng.integers(0, intr.width - 120)), int(rng.integers(0, intr.height - 120))
        mask = np.zeros((intr.height, intr.width), bool)
        mask[y0 : y0 + int(rng.integers(30, 120)), x0 : x0 + int(rng.integers(30, 120))] = True
        f = rng.normal(size=dim).astype(np.float32)
        obs.append(Observation(mask=mask, score=float(rng.uniform(0.3, 1.0)), feature=f / np.linalg.norm(f)))
    return RGBDFrame(rgb, depth, intr, T), obs


def fusion_fps(n_frames: int, dim: int, clearing: bool = True) -> tuple[float, float]:
    """(frames/s by wall clock, frames/s by this process's CPU time: robust when the CPU is shared).
    clearing: with negative evidence (mapping.negative_evidence), the map's default."""
    intr = CameraIntrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480)
    rng = np.random.default_rng(0)
    frames = [room_frame(i, intr, rng, dim) for i in range(n_frames)]
    vmap = VoxelMap(clearing=ClearingConfig(enabled=clearing))
    vmap.add_frame(*frames[0])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for frame, obs in frames[1:]:
        vmap.add_frame(frame, obs)
    return (n_frames - 1) / (time.perf_counter() - t0), (n_frames - 1) / (time.process_time() - c0)


def big_map(n_voxels: int, dim: int, n_objects: int = 400) -> tuple[VoxelMap, np.ndarray]:
    """A map of n_voxels semantic voxels in a 20 x 20 x 2.5 m home: n_objects compact blobs (8^3-voxel
    boxes, most cells filled), each voxel a noisy copy of its object's feature."""
    rng = np.random.default_rng(1)
    objects = rng.normal(size=(n_objects, dim)).astype(np.float32)
    objects /= np.linalg.norm(objects, axis=1, keepdims=True)
    per = int(math.ceil(n_voxels / n_objects))
    centres = rng.integers((0, 0, 0), (400, 400, 42), size=(n_objects, 3))
    local = np.stack(np.unravel_index(np.arange(512), (8, 8, 8)), 1)
    coords = np.concatenate([c + local[rng.choice(512, per, replace=False)] for c in centres])
    owner = np.repeat(np.arange(n_objects), per)
    _, first = np.unique(coords[:, 0] * 10**8 + coords[:, 1] * 10**4 + coords[:, 2], return_index=True)
    keep = np.sort(first)[:n_voxels]
    coords, owner = coords[keep], owner[keep]
    n = len(coords)
    feats = objects[owner] + 0.5 * rng.normal(size=(n, dim)).astype(np.float32) / math.sqrt(dim)
    vmap = VoxelMap()
    vmap.semantic.update(coords.astype(np.int32), np.ones(n), feats, np.ones(n, np.int64), 0)
    vmap.occupancy.update(coords.astype(np.int32), np.ones(n, np.int64), np.full((n, 3), 128.0), 0)
    return vmap, objects


def negative_evidence_ms(vmap: VoxelMap, dim: int, repeats: int) -> float:
    """CPU ms of one frame's negative evidence (both layers) on `vmap` (the big home map): the part of
    fusion that grows with the map, since every stored voxel is projected into the frame."""
    intr = CameraIntrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480)
    frame, _ = room_frame(0, intr, np.random.default_rng(2), dim)
    T = frame.T_world_cam.copy()
    T[:2, 3] += 10.0  # in the middle of the 20 x 20 m home
    frame = RGBDFrame(frame.rgb, frame.depth_m, intr, T)
    cfg = ClearingConfig(clear_after=10**4)  # count misses but remove nothing, so every repeat does the same
    cpu = []
    for _ in range(repeats):
        c0 = time.process_time()
        apply_negative_evidence(vmap, frame, cfg)
        cpu.append(time.process_time() - c0)
    return 1000 * float(np.median(cpu))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--query-voxels", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.repeats = 15, 5
    fps, fps_cpu = fusion_fps(args.frames, args.dim)
    fps_plain, fps_plain_cpu = fusion_fps(args.frames, args.dim, clearing=False)
    vmap, objects = big_map(args.query_voxels, args.dim)
    t0 = time.perf_counter()
    vmap.query_index()
    index_build_s = time.perf_counter() - t0
    timings = {}
    for name, cfg in (("indexed", QueryConfig()), ("float32_only", QueryConfig(index_min_voxels=10**12))):
        times, cpu_times = [], []
        for i in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            vmap.query(objects[i % len(objects)], cfg)
            times.append(time.perf_counter() - t0)
            cpu_times.append(time.process_time() - c0)
        timings[name] = (float(np.median(times)), float(np.median(cpu_times)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_map.npz"
        vmap.save(path)
        disk = os.path.getsize(path)
    per = 100_000 / len(vmap)
    ne_ms = negative_evidence_ms(vmap, args.dim, args.repeats)
    print(json.dumps({
        "fusion_fps_640x480": round(fps, 1),
        "fusion_fps_640x480_cpu_time": round(fps_cpu, 1),
        "fusion_fps_640x480_without_negative_evidence": round(fps_plain, 1),
        "fusion_fps_640x480_without_negative_evidence_cpu_time": round(fps_plain_cpu, 1),
        "fusion_target_fps": 30,
        "fusion_with_negative_evidence_target_fps": 20,
        "negative_evidence_ms_cpu_time_on_query_map": round(ne_ms, 2),
        "fusion_fps_cpu_time_on_query_map": round(1000 / (1000 / fps_plain_cpu + ne_ms), 1),
        "query_ms_median": round(1000 * timings["indexed"][0], 2),
        "query_ms_median_cpu_time": round(1000 * timings["indexed"][1], 2),
        "query_ms_float32_only": round(1000 * timings["float32_only"][0], 2),
        "query_index_build_s": round(index_build_s, 2),
        "query_target_ms": 10,
        "query_voxels": len(vmap),
        "feature_dim": args.dim,
        "disk_bytes_per_100k_voxels": int(disk * per),
        "memory_bytes_per_100k_voxels": int(vmap.memory_bytes() * per),
        "memory_bytes_per_100k_voxels_without_index": int((vmap.memory_bytes() - vmap.query_index().nbytes) * per),
        "threads": os.environ.get("OMP_NUM_THREADS", "default"),
    }))


if __name__ == "__main__":
    main()

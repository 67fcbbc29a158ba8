"""`ovmm info CAPTURE` and `ovmm export-cloud CAPTURE OUT.ply`: look at an RGB-D capture before mapping it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.geometry import frame_points
from core.io import atomic_path
from mapping.sources import CaptureConfig, CaptureError, FrameSource, open_capture
from mapping.sources.align import UP_CHOICES
from orchestrator.config_options import Option, add_config_options, config_from_args

FORMAT_NAMES = {"r3d": "Record3D (.r3d)", "redwood": "Redwood / ICL-NUIM folder", "tum": "TUM RGB-D folder"}
PROGRESS_MIN_FRAMES = 50
MERGE_EVERY_POINTS = 2_000_000


@dataclass(frozen=True)
class ExportCloudConfig:
    """Defaults of `ovmm export-cloud`."""

    voxel_m: float = 0.02
    """Voxel size for downsampling (m)."""
    frame_stride: int = 1
    """Use every Nth frame."""
    pixel_stride: int = 1
    """Use every Nth pixel row and column."""


def _add_capture_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("capture", help="a Record3D .r3d file, a TUM folder or a Redwood/ICL folder")
    add_config_options(p, CaptureConfig, {
        "min_depth_m": Option(flag="--min-depth"), "max_depth_m": Option(flag="--max-depth"),
        "min_confidence": Option(choices=(0, 1, 2)), "up": Option(choices=UP_CHOICES),
        "intrinsics_path": Option(flag="--intrinsics", metavar="JSON"), "depth_scale": Option(type=float),
        "max_time_diff_s": Option(flag="--max-time-diff"),
    })  # fmt: skip
    p.add_argument("--keep-height", dest="floor_to_zero", action="store_false",
                   help="the same as --no-floor-to-zero: keep the capture's heights")


def _config(args: argparse.Namespace) -> CaptureConfig:
    cfg = config_from_args(CaptureConfig, args)
    for name, value in (("--max-depth", cfg.max_depth_m), ("--min-depth", cfg.min_depth_m)):
        if not np.isfinite(value) or value < 0:
            raise InputError(f"{name} must be a non-negative number of metres, got {value}")
    if cfg.max_depth_m <= cfg.min_depth_m:
        raise InputError(f"--max-depth ({cfg.max_depth_m}) must be larger than --min-depth ({cfg.min_depth_m})")
    if cfg.depth_scale is not None and not cfg.depth_scale > 0:
        raise InputError(f"--depth-scale must be positive, got {cfg.depth_scale}")
    if cfg.floor_sample_frames < 1 or not cfg.max_time_diff_s > 0:
        raise InputError("--floor-sample-frames must be at least 1 and --max-time-diff positive")
    return cfg


def register(subparsers) -> None:
    p = subparsers.add_parser("info", help="summarise an RGB-D capture (format, frames, camera, trajectory)")
    _add_capture_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run_info)

    p = subparsers.add_parser(
        "export-cloud", help="fuse a capture's frames into one coloured point cloud (PLY)"
    )
    _add_capture_options(p)
    p.add_argument("out", help="output .ply file")
    add_config_options(p, ExportCloudConfig, {"voxel_m": Option(flag="--voxel"),
                                              "frame_stride": Option(flag="--stride")})
    p.set_defaults(func=run_export_cloud)


# -- info ------------------------------------------------------------------------------------------------
def capture_summary(src: FrameSource) -> dict:
    """Facts about a capture that need no colour image decoding."""
    T = src.poses()
    t = src.timestamps()
    pos = T[:, :3, 3]
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1) if len(pos) > 1 else np.zeros(0)
    K = src.intrinsics
    rgb_w, rgb_h = src.rgb_size
    return {
        "path": str(src.path),
        "format": src.format,
        "frames": len(src),
        "rgb_resolution": [rgb_w, rgb_h],
        "depth_resolution": [K.width, K.height],
        "intrinsics": K.to_dict(),
        "duration_s": round(float(t[-1] - t[0]) if len(t) > 1 else 0.0, 3),
        "trajectory_length_m": round(float(steps.sum()), 3),
        "camera_extent_m": {
            "min": [round(float(v), 3) for v in pos.min(axis=0)],
            "max": [round(float(v), 3) for v in pos.max(axis=0)],
        },
        **src.describe(),
    }


def _fmt_range(lo: float, hi: float) -> str:
    return f"[{lo:+.2f}, {hi:+.2f}]"


def run_info(args: argparse.Namespace) -> int:
    with open_capture(args.capture, _config(args)) as src:
        s = capture_summary(src)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    K = s["intrinsics"]
    lo, hi = s["camera_extent_m"]["min"], s["camera_extent_m"]["max"]
    al = s.get("world_alignment", {})
    floor = al.get("floor_offset_m")
    lines = [
        ("capture", s["path"]),
        ("format", FORMAT_NAMES.get(s["format"], s["format"])),
        ("frames", str(s["frames"])),
        ("rgb", "{}x{}".format(*s["rgb_resolution"])),
        ("depth", "{}x{} (frames are delivered at this size)".format(*s["depth_resolution"])),
        ("intrinsics", f"fx={K['fx']:.2f} fy={K['fy']:.2f} cx={K['cx']:.2f} cy={K['cy']:.2f}"),
        ("duration", f"{s['duration_s']:.2f} s"),
        ("trajectory", f"{s['trajectory_length_m']:.2f} m"),
        ("camera xyz", "x {} y {} z {} m".format(*(_fmt_range(lo[a], hi[a]) for a in range(3)))),
        ("world", f"up axis {al.get('up_axis_in_file', '+z')} in the file ({al.get('up_source', 'given')})"),
        (
            "floor",
            f"z=0 (shifted by {-floor:+.3f} m)"
            if floor is not None
            else al.get("floor_source", "as recorded"),
        ),
    ]
    width = max(len(k) for k, _ in lines) + 1
    for k, v in lines:
        print(f"{k + ':':<{width}} {v}")
    return 0


# -- export-cloud ----------------------------------------------------------------------------------------
def run_export_cloud(args: argparse.Namespace) -> int:
    import open3d as o3d
    from tqdm import tqdm

    out = Path(args.out)
    if out.suffix.lower() != ".ply":
        raise InputError(f"output {out} must end in .ply")
    if not args.voxel_m > 0 or args.frame_stride < 1 or args.pixel_stride < 1:
        raise InputError("--voxel must be positive and --stride / --pixel-stride at least 1")
    cfg = _config(args)
    with open_capture(args.capture, cfg) as src:
        indices = range(0, len(src), args.frame_stride)
        bar = tqdm(
            indices, desc="fusing frames", unit="frame",
            disable=len(indices) < PROGRESS_MIN_FRAMES or not sys.stderr.isatty(),
        )  # fmt: skip
        clouds: list[tuple[np.ndarray, np.ndarray]] = []
        pending = 0
        for i in bar:
            xyz, rgb = frame_points(
                src.frame(i),
                min_depth_m=cfg.min_depth_m,
                max_depth_m=cfg.max_depth_m,
                stride=args.pixel_stride,
            )
            if len(xyz):
                clouds.append(_voxel_down(o3d, xyz, rgb, args.voxel_m))
                pending += len(clouds[-1][0])
            if pending > MERGE_EVERY_POINTS:  # bound memory on long captures: merge what we have so far
                merged = _voxel_down(
                    o3d,
                    np.concatenate([c[0] for c in clouds]),
                    np.concatenate([c[1] for c in clouds]),
                    args.voxel_m,
                )
                clouds, pending = [merged], 0
    if not clouds:
        raise CaptureError(f"{args.capture} has no valid depth within {cfg.min_depth_m}-{cfg.max_depth_m} m")
    xyz = np.concatenate([c[0] for c in clouds])
    rgb = np.concatenate([c[1] for c in clouds])
    pcd = _voxel_down(o3d, xyz, rgb, args.voxel_m, as_cloud=True)
    with atomic_path(out) as tmp:
        if not o3d.io.write_point_cloud(str(tmp), pcd, write_ascii=False):
            raise CaptureError(f"could not write point cloud {out}")
    pts = np.asarray(pcd.points)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    print(
        f"wrote {out}: {len(pts):,} points from {len(indices)} frames (voxel {args.voxel_m} m), "
        f"x {_fmt_range(lo[0], hi[0])} y {_fmt_range(lo[1], hi[1])} z {_fmt_range(lo[2], hi[2])} m"
    )
    return 0


def _voxel_down(o3d, xyz: np.ndarray, rgb: np.ndarray, voxel: float, as_cloud: bool = False):
    pcd = o3d.geometry.PointCloud()
    pcd.points = o3d.utility.Vector3dVector(np.asarray(xyz, dtype=np.float64))
    pcd.colors = o3d.utility.Vector3dVector(np.asarray(rgb, dtype=np.float64) / 255.0)
    pcd = pcd.voxel_down_sample(voxel)
    if as_cloud:
        return pcd
    return np.asarray(pcd.points, dtype=np.float32), (np.asarray(pcd.colors) * 255.0).round().astype(np.uint8)

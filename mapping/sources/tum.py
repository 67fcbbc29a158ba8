"""TUM RGB-D benchmark folders (https://cvg.cit.tum.de/data/datasets/rgbd-dataset/file_formats).

Layout:
- `rgb.txt`, `depth.txt`: lines `timestamp filename` (lines starting with `#` are comments);
- `groundtruth.txt`: lines `timestamp tx ty tz qx qy qz qw`, the colour camera's optical centre (OpenCV
  axes: x right, y down, z forward) in the motion-capture world;
- depth PNGs are 16-bit, 5000 units per metre.

Association: each depth image takes the colour image nearest in time (one-to-one, at most
`max_time_diff_s` apart, 0.02 s by default); its pose is interpolated from the ground truth at the depth
image's time (linear position, spherical rotation), provided a ground-truth sample lies within
`max_time_diff_s`. Frames without a colour match or a pose are dropped (logged).

Intrinsics: a camera JSON (`camera*.json` / `intrinsic*.json`, Open3D format) or `intrinsics_path` if given;
otherwise the published calibration chosen by the folder name (`freiburg1`/`fr1`, `freiburg2`/`fr2`,
`freiburg3`/`fr3`), else the ROS default fx = fy = 525, cx = 319.5, cy = 239.5 (with a warning). Lens
distortion (small; fr3 images are already undistorted) is not modelled. The motion-capture world has no
guaranteed up axis; it is aligned like the other formats (`CaptureConfig.up`, `floor_to_zero`).
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np

from core.types import CameraIntrinsics
from mapping.sources.base import CaptureConfig, CaptureError
from mapping.sources.recorded import (
    RecordedFrameSource,
    load_open3d_intrinsics,
    poses_from_quaternions,
    read_png_depth,
    read_rgb_image,
)
from mapping.sources.redwood import find_camera_json

log = logging.getLogger(__name__)

TUM_INTRINSICS: dict[str, CameraIntrinsics] = {
    "freiburg1": CameraIntrinsics(fx=517.3, fy=516.5, cx=318.6, cy=255.3, width=640, height=480),
    "freiburg2": CameraIntrinsics(fx=520.9, fy=521.0, cx=325.1, cy=249.7, width=640, height=480),
    "freiburg3": CameraIntrinsics(fx=535.4, fy=539.2, cx=320.1, cy=247.6, width=640, height=480),
    "default": CameraIntrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480),
}
DEPTH_SCALE = 5000.0


def is_tum(path: Path) -> bool:
    return (path / "rgb.txt").is_file() and (path / "depth.txt").is_file()


def read_stamped_list(path: Path, ncols: int) -> tuple[np.ndarray, list[list[str]]]:
    """Read a TUM list file -> (timestamps (N,), the remaining columns of each line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaptureError(f"{path} is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureError(f"{path} cannot be read ({exc})") from None
    stamps, rest = [], []
    for k, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(",", " ").split()
        try:
            if len(parts) != ncols:
                raise ValueError(f"expected {ncols} columns, got {len(parts)}")
            stamps.append(float(parts[0]))
        except ValueError as exc:
            raise CaptureError(f"{path} line {k} is malformed ({exc})") from None
        rest.append(parts[1:])
    return np.asarray(stamps, dtype=np.float64), rest


def nearest(sorted_t: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest element of `sorted_t` for each query time, and the absolute difference."""
    j = np.clip(np.searchsorted(sorted_t, query), 1, len(sorted_t) - 1) if len(sorted_t) > 1 else None
    if j is None:
        idx = np.zeros(len(query), dtype=np.int64)
    else:
        left_closer = np.abs(query - sorted_t[j - 1]) <= np.abs(sorted_t[j] - query)
        idx = np.where(left_closer, j - 1, j)
    return idx, np.abs(sorted_t[idx] - query)


def tum_intrinsics_for(folder: Path) -> tuple[CameraIntrinsics, str]:
    name = folder.resolve().name.lower()
    m = re.search(r"(?:freiburg|fr)([123])", name)
    if m:
        key = f"freiburg{m.group(1)}"
        return TUM_INTRINSICS[key], f"TUM {key} calibration (from the folder name)"
    log.warning(
        "%s: no camera file and no freiburg1/2/3 in the folder name; using fx=fy=525, cx=319.5, cy=239.5",
        folder,
    )
    return TUM_INTRINSICS["default"], "ROS default (fx=fy=525)"


class TUMFrameSource(RecordedFrameSource):
    """Frames of a TUM RGB-D folder, lazily decoded."""

    format = "tum"

    def __init__(self, path: str | os.PathLike, config: CaptureConfig | None = None) -> None:
        super().__init__(path, config or CaptureConfig())
        root = self.path
        assert root is not None
        max_dt = float(self.config.max_time_diff_s)
        t_rgb, rgb_files = read_stamped_list(root / "rgb.txt", 2)
        t_depth, depth_files = read_stamped_list(root / "depth.txt", 2)
        t_gt, gt_rows = read_stamped_list(root / "groundtruth.txt", 8)
        if len(t_rgb) == 0 or len(t_depth) == 0:
            raise CaptureError(f"{root} is an empty capture (rgb.txt or depth.txt lists no images)")
        if len(t_gt) == 0:
            raise CaptureError(f"{root / 'groundtruth.txt'} lists no poses")
        gt = np.asarray(gt_rows, dtype=np.float64)
        T_gt = poses_from_quaternions(gt[:, 3:7], gt[:, 0:3], f"{root / 'groundtruth.txt'}", item="line")

        # depth -> nearest colour image, one-to-one (a colour image keeps its closest depth image)
        o_rgb = np.argsort(t_rgb, kind="stable")
        k, dt = nearest(t_rgb[o_rgb], t_depth)
        ci = o_rgb[k]
        ok = dt <= max_dt
        best = {}
        for d in np.flatnonzero(ok):
            c = int(ci[d])
            if c not in best or dt[d] < dt[best[c]]:
                best[c] = int(d)
        pairs = sorted(((d, c) for c, d in best.items()), key=lambda p: t_depth[p[0]])
        d_idx = np.asarray([p[0] for p in pairs], dtype=np.int64)
        c_idx = np.asarray([p[1] for p in pairs], dtype=np.int64)

        # poses at the depth times
        o_gt = np.argsort(t_gt, kind="stable")
        t_gt, T_gt = t_gt[o_gt], T_gt[o_gt]
        keep_gt = np.concatenate([[True], np.diff(t_gt) > 0])
        t_gt, T_gt = t_gt[keep_gt], T_gt[keep_gt]
        tq = t_depth[d_idx]
        _, gdt = nearest(t_gt, tq) if len(tq) else (None, np.zeros(0))
        has_pose = (gdt <= max_dt) & (tq >= t_gt[0] - max_dt) & (tq <= t_gt[-1] + max_dt)
        dropped = len(t_depth) - int(has_pose.sum())
        d_idx, c_idx, tq = d_idx[has_pose], c_idx[has_pose], tq[has_pose]
        if len(d_idx) == 0:
            raise CaptureError(
                f"{root}: no depth image has a colour image and a ground-truth pose within {max_dt} s"
            )
        if dropped:
            log.info(
                "%s: %d of %d depth images have no colour match or pose and are skipped",
                root,
                dropped,
                len(t_depth),
            )
        self._poses = interpolate_poses(t_gt, T_gt, tq)
        self._times = tq - tq[0]
        self._rgb_paths = [root / rgb_files[c][0] for c in c_idx]
        self._depth_paths = [root / depth_files[d][0] for d in d_idx]
        self._intrinsics, self._camera_source = self._load_intrinsics(root)
        self._scale = float(self.config.depth_scale or DEPTH_SCALE)

    def _load_intrinsics(self, root: Path) -> tuple[CameraIntrinsics, str]:
        if self.config.intrinsics_path:
            p = Path(self.config.intrinsics_path)
            return load_open3d_intrinsics(p), str(p)
        p = find_camera_json(root)
        if p is not None:
            return load_open3d_intrinsics(p), str(p)
        return tum_intrinsics_for(root)

    def describe(self) -> dict:
        return {**super().describe(), "intrinsics_source": self._camera_source, "depth_scale": self._scale}

    def _decode_depth(self, i: int) -> np.ndarray:
        return read_png_depth(self._depth_paths[i], self._scale, self._intrinsics)

    def _decode_rgb(self, i: int) -> np.ndarray:
        return read_rgb_image(self._rgb_paths[i], self._intrinsics)


def interpolate_poses(t_gt: np.ndarray, T_gt: np.ndarray, tq: np.ndarray) -> np.ndarray:  # noqa: N803
    """Poses at times `tq`: linear in position, spherical-linear in rotation, clamped at the ends."""
    from scipy.spatial.transform import Rotation, Slerp

    tc = np.clip(tq, t_gt[0], t_gt[-1])
    out = np.tile(np.eye(4), (len(tq), 1, 1))
    if len(t_gt) == 1:
        out[:] = T_gt[0]
        return out
    out[:, :3, :3] = Slerp(t_gt, Rotation.from_matrix(T_gt[:, :3, :3]))(tc).as_matrix()
    for a in range(3):
        out[:, a, 3] = np.interp(tc, t_gt, T_gt[:, a, 3])
    return out

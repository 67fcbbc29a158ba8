"""Redwood / ICL-NUIM style folders (the Open3D RGB-D test data layout).

Layout:
- `color/` (or `image/`, `rgb/`): colour images (jpg/png), sorted by name (numbers compare as numbers);
- `depth/`: 16-bit PNG depth, sorted by name, `depth_scale` units per metre (1000: millimetres);
- `trajectory.log`: per frame a line of three integers (the first is the frame index) then four lines of the
  4x4 camera-to-world matrix; the camera frame is OpenCV's (x right, y down, z forward);
- a camera JSON (`camera*.json` or `intrinsic*.json`, Open3D PinholeCameraIntrinsic: `width`, `height`,
  column-major `intrinsic_matrix`); when absent the PrimeSense defaults fx = fy = 525, cx = 319.5,
  cy = 239.5 (640x480) are used with a warning.

The log's world frame has no fixed up axis (ICL-NUIM's is +y up); by default it is estimated from the
cameras and the world is rotated to z up with the floor at z = 0 (`CaptureConfig.up`, `floor_to_zero`).
There are no timestamps: frames are taken as 30 Hz.
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
    check_poses,
    load_open3d_intrinsics,
    read_png_depth,
    read_rgb_image,
)

log = logging.getLogger(__name__)

PRIMESENSE = CameraIntrinsics(fx=525.0, fy=525.0, cx=319.5, cy=239.5, width=640, height=480)
COLOR_DIRS = ("color", "image", "rgb")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def is_redwood(path: Path) -> bool:
    return (path / "trajectory.log").is_file() and (path / "depth").is_dir()


def read_trajectory_log(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse an Open3D/Redwood trajectory log -> (frame ids (N,), T (N, 4, 4))."""
    try:
        lines = [ln.split() for ln in Path(path).read_text(encoding="utf-8").splitlines()]
    except (OSError, UnicodeDecodeError) as exc:
        raise CaptureError(f"trajectory {path} cannot be read ({exc})") from None
    numbered = [(k + 1, ln) for k, ln in enumerate(lines) if ln]
    if len(numbered) % 5:
        raise CaptureError(f"trajectory {path} has {len(numbered)} non-empty lines, not a multiple of 5")
    ids, mats = [], []
    for e in range(0, len(numbered), 5):
        block = numbered[e : e + 5]
        for lineno, row in block:
            want = 3 if lineno == block[0][0] else 4
            if len(row) != want:
                raise CaptureError(f"trajectory {path} line {lineno} is malformed (expected {want} numbers)")
        try:
            ids.append(int(block[0][1][0]))
            mats.append([[float(v) for v in row] for _, row in block[1:]])
        except ValueError as exc:
            raise CaptureError(f"trajectory {path} near line {block[0][0]} is malformed ({exc})") from None
    return np.asarray(ids, dtype=np.int64), np.asarray(mats, dtype=np.float64).reshape(-1, 4, 4)


def _natural_key(p: Path) -> list:
    """Sort "2.png" before "10.png" (numbers compare as numbers), whatever the zero padding."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def list_images(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()), key=_natural_key)


def find_camera_json(folder: Path) -> Path | None:
    for pattern in ("camera*.json", "intrinsic*.json"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


class RedwoodFrameSource(RecordedFrameSource):
    """Frames of a Redwood / ICL-NUIM folder, lazily decoded."""

    format = "redwood"

    def __init__(self, path: str | os.PathLike, config: CaptureConfig | None = None) -> None:
        super().__init__(path, config or CaptureConfig())
        root = self.path
        assert root is not None
        color_dir = next((root / d for d in COLOR_DIRS if (root / d).is_dir()), None)
        if color_dir is None:
            raise CaptureError(f"{root} has no colour image folder ({', '.join(COLOR_DIRS)})")
        self._colors = list_images(color_dir)
        self._depths = [p for p in list_images(root / "depth") if p.suffix.lower() == ".png"]
        if not self._colors and not self._depths:
            raise CaptureError(f"{root} is an empty capture (no images in {color_dir.name}/ and depth/)")
        if len(self._colors) != len(self._depths):
            raise CaptureError(
                f"{root} has {len(self._colors)} colour images but {len(self._depths)} depth images"
            )
        traj = root / "trajectory.log"
        ids, T = read_trajectory_log(traj)
        if len(ids) != len(self._colors):
            raise CaptureError(f"trajectory {traj} has {len(ids)} poses for {len(self._colors)} frames")
        order = np.argsort(ids, kind="stable")
        if not np.array_equal(ids[order], np.arange(len(ids))) and not np.array_equal(
            ids[order], np.arange(1, len(ids) + 1)
        ):
            order = np.arange(len(ids))  # ids are not frame numbers: keep the file's order
        self._poses = T[order]
        check_poses(self._poses, f"trajectory {traj}")
        self._intrinsics, self._camera_file = self._load_intrinsics(root)
        self._scale = float(self.config.depth_scale or 1000.0)

    def _load_intrinsics(self, root: Path) -> tuple[CameraIntrinsics, Path | None]:
        if self.config.intrinsics_path:
            p = Path(self.config.intrinsics_path)
            return load_open3d_intrinsics(p), p
        p = find_camera_json(root)
        if p is not None:
            return load_open3d_intrinsics(p), p
        log.warning(
            "%s has no camera JSON; using the PrimeSense defaults fx=fy=525, cx=319.5, cy=239.5", root
        )
        return PRIMESENSE, None

    def describe(self) -> dict:
        return {
            **super().describe(),
            "camera_file": str(self._camera_file) if self._camera_file else "PrimeSense defaults",
            "depth_scale": self._scale,
        }

    def _decode_depth(self, i: int) -> np.ndarray:
        return read_png_depth(self._depths[i], self._scale, self._intrinsics)

    def _decode_rgb(self, i: int) -> np.ndarray:
        return read_rgb_image(self._colors[i], self._intrinsics)

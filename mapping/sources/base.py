"""The `FrameSource` interface every RGB-D capture reader implements and its config (open_capture: mapping.sources.open).

A frame source is a sized, re-iterable sequence of posed `RGBDFrame`s in the project's conventions: metres,
OpenCV camera (x right, y down, z forward), world z up with the floor at z = 0 (see `mapping.sources.align`
for how each format's world is brought there). Readers are lazy: images are decoded when a frame is asked
for; `poses()` and `timestamps()` never decode colour images, so summaries (`ovmm info`) stay fast.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.types import CameraIntrinsics, RGBDFrame

log = logging.getLogger(__name__)


class CaptureError(InputError):
    """An RGB-D capture (file or folder) is missing, corrupt or inconsistent; the message names the file."""


@dataclass(frozen=True)
class CaptureConfig:
    """Options shared by the capture readers (these defaults are the CLI's: `ovmm info`, `export-cloud`)."""

    min_depth_m: float = 0.1
    """Drop depth below this (m)."""
    max_depth_m: float = 3.0
    """Drop depth beyond this (m): phone LiDAR and Kinect-style depth get noisy further out."""
    min_confidence: int = 2
    """Keep Record3D depth with ARKit confidence at least this (0 low .. 2 high; 2 is OK-Robot's choice)."""
    up: str = "auto"
    """Up axis of the capture's world: auto (from the camera orientations), +x, -x, +y, -y, +z, -z or none
    (keep the file's world); Record3D is always +y."""
    floor_to_zero: bool = True
    """Shift the world vertically so the floor estimated from a sample of depth images is z = 0."""
    floor_sample_frames: int = 12
    """How many evenly spaced frames the floor estimate decodes (depth only)."""
    intrinsics_path: str | None = None
    """An Open3D camera intrinsics JSON overriding the capture's (Redwood and TUM folders)."""
    depth_scale: float | None = None
    """PNG depth units per metre (default per format: 1000 Redwood/ICL, 5000 TUM)."""
    max_time_diff_s: float = 0.02
    """Largest time difference (s) when associating TUM rgb, depth and ground truth."""


class FrameSource(ABC):
    """A sequence of posed RGB-D frames (a recorded capture or a live stream)."""

    #: short format name shown by `ovmm info` ("r3d", "redwood", "tum", "stream")
    format: str = "unknown"

    def __init__(self, path: str | os.PathLike | None = None, name: str | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self.name = name if name is not None else (self.path.name if self.path is not None else self.format)

    @property
    @abstractmethod
    def intrinsics(self) -> CameraIntrinsics:
        """Intrinsics of the frames this source yields (the depth image's resolution)."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of frames."""

    @abstractmethod
    def frame(self, i: int) -> RGBDFrame:
        """Decode frame `i` (0-based; negative counts from the end)."""

    @abstractmethod
    def poses(self) -> np.ndarray:
        """float64 (N, 4, 4) `T_world_cam` of every frame, without decoding any colour image."""

    def timestamps(self) -> np.ndarray:
        """float64 (N,) seconds of every frame (from the capture's start where the format has no clock)."""
        return np.arange(len(self), dtype=np.float64) / 30.0

    @property
    def rgb_size(self) -> tuple[int, int]:
        """(width, height) of the colour images as stored (before any resizing to the depth size)."""
        return self.intrinsics.width, self.intrinsics.height

    def describe(self) -> dict:
        """Format-specific facts for `ovmm info` (world alignment, depth scale...)."""
        return {}

    def __iter__(self) -> Iterator[RGBDFrame]:
        for i in range(len(self)):
            yield self.frame(i)

    def close(self) -> None:
        """Release open files (a no-op for sources that hold none)."""
        return None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _index(self, i: int) -> int:
        n = len(self)
        j = i + n if i < 0 else i
        if not 0 <= j < n:
            raise IndexError(f"frame {i} out of range for {self.name} with {n} frames")
        return j

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path or self.name)!r}, frames={len(self)})"

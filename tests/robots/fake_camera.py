"""A stand-in for the head camera: upright synthetic RGB-D frames (a floor plane seen from the head)."""

from __future__ import annotations

import time

import numpy as np

from core.types import CameraIntrinsics
from robots.realsense_camera import CameraFrame


class FakeHeadCamera:
    def __init__(self, width: int = 48, height: int = 64) -> None:
        # Upright image of the sideways D435: taller than wide, like the real one after rotation.
        self.intrinsics = CameraIntrinsics(fx=60.0, fy=60.0, cx=(width - 1) / 2, cy=(height - 1) / 2,
                                           width=width, height=height)
        self.started = 0
        self.stopped = 0
        self.reads = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1

    def read(self) -> CameraFrame:
        self.reads += 1
        h, w = self.intrinsics.height, self.intrinsics.width
        rgb = np.zeros((h, w, 3), np.uint8)
        rgb[..., 0] = np.arange(w, dtype=np.uint8)[None, :] * 5
        rgb[..., 1] = np.arange(h, dtype=np.uint8)[:, None] * 3
        rgb[..., 2] = self.reads % 256
        depth = np.linspace(0.5, 3.0, h, dtype=np.float32)[:, None].repeat(w, axis=1)
        depth[:2] = 0.0  # invalid rows
        return CameraFrame(rgb=rgb, depth_m=depth, intrinsics=self.intrinsics, timestamp=time.time())

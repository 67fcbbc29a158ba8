"""The Stretch head camera (Intel RealSense D435i) through pyrealsense2, delivered upright.

The D435 on the Stretch head is mounted turned by 90 degrees. core.stretch.T_base_headcam describes the
*upright* optical frame (the URDF optical frame times rot_z(-pi/2)), so this module turns every image a
quarter turn clockwise and transforms the intrinsics to match (`rotate_upright`). Depth is aligned to the
colour stream and converted to metres with the device's depth scale; 0 marks invalid depth.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.errors import RobotError
from core.types import CameraIntrinsics

log = logging.getLogger(__name__)


@dataclass
class CameraFrame:
    """An upright colour image with aligned depth (metres, 0 = invalid) and its intrinsics."""

    rgb: np.ndarray
    depth_m: np.ndarray
    intrinsics: CameraIntrinsics
    timestamp: float


class HeadCamera(Protocol):
    def start(self) -> None: ...

    def read(self) -> CameraFrame: ...

    def stop(self) -> None: ...


@dataclass
class RealSenseConfig:
    width: int = 640
    height: int = 480
    fps: int = 15
    serial: str | None = None  # a specific device; None: the first one found
    timeout_s: float = 5.0
    rotate_k: int = -1  # np.rot90 turns: -1 = a quarter turn clockwise (the Stretch head mount)
    depth_min_m: float = 0.1
    depth_max_m: float = 8.0
    warmup_frames: int = 10  # auto-exposure settles during these


def rotate_upright(rgb: np.ndarray, depth_m: np.ndarray, intrinsics: CameraIntrinsics,
                   k: int = -1) -> tuple[np.ndarray, np.ndarray, CameraIntrinsics]:
    """Turn an image pair by k quarter turns (np.rot90 convention: +1 = counter-clockwise) and return
    intrinsics that describe the turned image.

    k = -1 (clockwise): pixel (u, v) of the raw W x H image goes to (H - 1 - v, u); the new camera frame is
    the raw one rotated by rot_z(-pi/2), i.e. X_new = -Y_raw, Y_new = X_raw (this is core.stretch's upright
    frame). k = +1: (u, v) -> (v, W - 1 - u), X_new = Y_raw, Y_new = -X_raw. k = 0: unchanged.
    """
    k = int(k)
    i = intrinsics
    if k == 0:
        return rgb, depth_m, i
    if k == -1:
        new = CameraIntrinsics(fx=i.fy, fy=i.fx, cx=i.height - 1 - i.cy, cy=i.cx, width=i.height, height=i.width)
    elif k == 1:
        new = CameraIntrinsics(fx=i.fy, fy=i.fx, cx=i.cy, cy=i.width - 1 - i.cx, width=i.height, height=i.width)
    else:
        raise ValueError(f"rotate_k must be -1, 0 or 1, got {k}")
    return (np.ascontiguousarray(np.rot90(rgb, k)), np.ascontiguousarray(np.rot90(depth_m, k)), new)


class RealSenseHeadCamera:
    """Colour + aligned depth from a RealSense camera, rotated upright."""

    def __init__(self, config: RealSenseConfig | None = None, rs_module=None) -> None:
        self.config = config or RealSenseConfig()
        self._rs = rs_module
        self._pipeline = None
        self._align = None
        self._depth_scale = 0.001

    def _import(self):
        if self._rs is None:
            try:
                import pyrealsense2 as rs  # noqa: PLC0415 - hardware dependency, only on the robot
            except ImportError as exc:
                raise RobotError("the head camera needs pyrealsense2: pip install 'ovmm[robot]' on the robot") from exc
            self._rs = rs
        return self._rs

    def start(self) -> None:
        if self._pipeline is not None:
            return
        rs = self._import()
        c = self.config
        pipeline = rs.pipeline()
        cfg = rs.config()
        if c.serial:
            cfg.enable_device(c.serial)
        cfg.enable_stream(rs.stream.color, c.width, c.height, rs.format.rgb8, c.fps)
        cfg.enable_stream(rs.stream.depth, c.width, c.height, rs.format.z16, c.fps)
        try:
            profile = pipeline.start(cfg)
        except RuntimeError as exc:
            raise RobotError(f"could not start the RealSense head camera ({exc}); is it connected, and not used by "
                             "another process?") from exc
        self._depth_scale = float(profile.get_device().first_depth_sensor().get_depth_scale())
        self._align = rs.align(rs.stream.color)
        self._pipeline = pipeline
        for _ in range(max(0, c.warmup_frames)):
            self._wait()
        log.info("RealSense head camera started (%dx%d @ %d Hz, depth scale %.5f m)", c.width, c.height, c.fps,
                 self._depth_scale)

    def _wait(self):
        try:
            return self._pipeline.wait_for_frames(int(self.config.timeout_s * 1000))
        except RuntimeError as exc:
            raise RobotError(f"the RealSense head camera sent no frame within {self.config.timeout_s:.1f} s") from exc

    def read(self) -> CameraFrame:
        if self._pipeline is None:
            self.start()
        frames = self._align.process(self._wait())
        color, depth = frames.get_color_frame(), frames.get_depth_frame()
        if not color or not depth:
            raise RobotError("the RealSense head camera returned an incomplete frame (no colour or no depth)")
        rgb = np.asanyarray(color.get_data()).copy()
        depth_m = np.asanyarray(depth.get_data()).astype(np.float32) * self._depth_scale
        depth_m[(depth_m < self.config.depth_min_m) | (depth_m > self.config.depth_max_m)] = 0.0
        intr = color.profile.as_video_stream_profile().get_intrinsics()
        intrinsics = CameraIntrinsics(fx=float(intr.fx), fy=float(intr.fy), cx=float(intr.ppx), cy=float(intr.ppy),
                                      width=int(intr.width), height=int(intr.height))
        rgb, depth_m, intrinsics = rotate_upright(rgb, depth_m, intrinsics, self.config.rotate_k)
        return CameraFrame(rgb=rgb, depth_m=depth_m, intrinsics=intrinsics, timestamp=time.time())

    def stop(self) -> None:
        if self._pipeline is not None:
            try:
                self._pipeline.stop()
            finally:
                self._pipeline = None

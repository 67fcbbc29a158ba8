"""Head camera: the upright rotation agrees with core.stretch's head frame, and the pyrealsense2 code path
(aligned depth, depth scale, intrinsics from the stream profile) runs over a fake pyrealsense2 module."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from core import stretch
from core.errors import RobotError
from core.geometry import rot_z
from core.types import CameraIntrinsics
from robots.realsense_camera import RealSenseConfig, RealSenseHeadCamera, rotate_upright

RAW = CameraIntrinsics(fx=600.0, fy=610.0, cx=321.3, cy=236.7, width=640, height=480)


def project(K: CameraIntrinsics, p: np.ndarray) -> tuple[int, int]:
    return int(round(K.fx * p[0] / p[2] + K.cx)), int(round(K.fy * p[1] / p[2] + K.cy))


def R_raw_upright(k: int) -> np.ndarray:  # noqa: N802
    """Rotation taking upright-frame coordinates to raw-frame coordinates for k quarter turns."""
    return rot_z(-np.pi / 2) if k == -1 else rot_z(np.pi / 2)


@pytest.mark.parametrize("k", [-1, 1])
def test_rotated_pixels_and_intrinsics_agree(k):
    rng = np.random.default_rng(0)
    for _ in range(20):
        p_raw = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.4, 0.4), rng.uniform(1.0, 3.0)])
        u, v = project(RAW, p_raw)
        rgb = np.zeros((RAW.height, RAW.width, 3), np.uint8)
        depth = np.zeros((RAW.height, RAW.width), np.float32)
        rgb[v, u] = 255
        depth[v, u] = p_raw[2]
        rgb2, depth2, K2 = rotate_upright(rgb, depth, RAW, k)
        assert rgb2.shape == (RAW.width, RAW.height, 3) and (K2.width, K2.height) == (RAW.height, RAW.width)
        p_up = R_raw_upright(k).T @ p_raw
        u2, v2 = project(K2, p_up)
        assert rgb2[v2, u2, 0] == 255 and depth2[v2, u2] == pytest.approx(p_raw[2])


def test_clockwise_turn_matches_core_stretch_upright_head_frame():
    # The URDF optical frame (raw D435 image) and core.stretch's upright frame differ by rot_z(-pi/2):
    raw = stretch._chain_fk(stretch._HEAD_CHAIN, {"joint_head_pan": 0.3, "joint_head_tilt": -0.4})
    upright = stretch.T_base_headcam(0.3, -0.4)
    np.testing.assert_allclose(raw[:3, :3].T @ upright[:3, :3], R_raw_upright(RealSenseConfig().rotate_k), atol=1e-9)
    # ...and with the head level the upright image's y axis points down in the base frame.
    level = stretch.T_base_headcam(0.0, 0.0)
    assert level[2, 1] < -0.99


class _FakeFrame:
    def __init__(self, data: np.ndarray, intr=None) -> None:
        self._data = data
        self.profile = SimpleNamespace(as_video_stream_profile=lambda: SimpleNamespace(get_intrinsics=lambda: intr))

    def get_data(self):
        return self._data

    def __bool__(self) -> bool:
        return True


def fake_rs(depth_units: np.ndarray, rgb: np.ndarray, intr, fail_start: bool = False):
    """Just enough of pyrealsense2 for RealSenseHeadCamera."""
    calls = SimpleNamespace(enabled=[], stopped=0, aligned_to=None)

    class Pipeline:
        def start(self, cfg):
            if fail_start:
                raise RuntimeError("No device connected")
            sensor = SimpleNamespace(get_depth_scale=lambda: 0.001)
            return SimpleNamespace(get_device=lambda: SimpleNamespace(first_depth_sensor=lambda: sensor))

        def wait_for_frames(self, timeout_ms):
            return "frames"

        def stop(self):
            calls.stopped += 1

    class Config:
        def enable_stream(self, *args):
            calls.enabled.append(args)

        def enable_device(self, serial):
            calls.serial = serial

    class Align:
        def __init__(self, stream):
            calls.aligned_to = stream

        def process(self, frames):
            return SimpleNamespace(get_color_frame=lambda: _FakeFrame(rgb, intr),
                                   get_depth_frame=lambda: _FakeFrame(depth_units))

    return SimpleNamespace(pipeline=Pipeline, config=Config, align=Align,
                           stream=SimpleNamespace(color="color", depth="depth"),
                           format=SimpleNamespace(rgb8="rgb8", z16="z16")), calls


def test_realsense_read_aligns_scales_and_rotates():
    h, w = 6, 8
    depth_units = np.full((h, w), 1500, np.uint16)
    depth_units[0, 0] = 20  # 2 cm: closer than depth_min_m -> invalid
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[0, w - 1] = (1, 2, 3)  # top-right of the raw image
    intr = SimpleNamespace(fx=10.0, fy=11.0, ppx=3.5, ppy=2.5, width=w, height=h)
    rs, calls = fake_rs(depth_units, rgb, intr)
    cam = RealSenseHeadCamera(RealSenseConfig(width=w, height=h, warmup_frames=2), rs_module=rs)
    frame = cam.read()
    assert calls.aligned_to == "color" and len(calls.enabled) == 2
    assert frame.rgb.shape == (w, h, 3) and frame.depth_m.shape == (w, h)
    assert frame.intrinsics == CameraIntrinsics(fx=11.0, fy=10.0, cx=h - 1 - 2.5, cy=3.5, width=h, height=w)
    # clockwise quarter turn: raw (u, v) -> (h - 1 - v, u); raw top-right ends bottom-right
    assert tuple(frame.rgb[w - 1, h - 1]) == (1, 2, 3)
    assert frame.depth_m[0, h - 1] == 0.0  # raw (0, 0) -> upright (h - 1, 0)
    assert np.count_nonzero(np.isclose(frame.depth_m, 1.5)) == h * w - 1
    cam.stop()
    assert calls.stopped == 1


def test_realsense_start_failure_and_missing_package():
    rs, _ = fake_rs(np.zeros((2, 2), np.uint16), np.zeros((2, 2, 3), np.uint8), None, fail_start=True)
    with pytest.raises(RobotError, match="could not start the RealSense"):
        RealSenseHeadCamera(rs_module=rs).start()
    try:
        import pyrealsense2  # noqa: F401
    except ImportError:
        with pytest.raises(RobotError, match="pip install"):
            RealSenseHeadCamera().start()

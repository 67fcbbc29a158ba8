"""Record3D `.r3d` captures (the iPhone/iPad LiDAR app OK-Robot scans homes with).

A `.r3d` file is a zip holding:
- `metadata`: JSON with `K` (3x3 RGB intrinsics, column-major), `w`, `h` (RGB size), `dw`, `dh` (depth
  size), `fps`, `poses` (one `[qx, qy, qz, qw, px, py, pz]` per frame: camera to ARKit world), optionally
  `frameTimestamps` (seconds) and `initPose` (not needed: the poses are already in ARKit's world).
- `rgbd/<i>.jpg` (colour, `w` x `h`), `rgbd/<i>.depth` (LZFSE-compressed float32 metres, `dw` x `dh`),
  `rgbd/<i>.conf` (LZFSE-compressed uint8 ARKit confidence 0 low, 1 medium, 2 high; optional).
An unzipped folder with the same layout is read the same way.

Conversion to the project's conventions:
- camera: ARKit's camera has x right, y up, z backwards; OpenCV's is x right, y down, z forward, so
  `T_file_cam = T_arkit_cam @ diag(1, -1, -1, 1)`.
- world: ARKit's world is gravity-aligned with +y up; it is rotated by `rot_x(+90 deg)` ((x, y, z) ->
  (x, -z, y)) so +z is up, then shifted so the floor is at z = 0 (see `mapping.sources.align`).
- resolution: frames come at the depth resolution (typically 256x192); the colour image is downscaled to
  it (JPEG draft decoding + area filter) and `K` is scaled with the pixel-centre convention.
- depth: NaN / non-positive, below `min_confidence`, or outside [min_depth_m, max_depth_m] -> 0.
"""

from __future__ import annotations

import io
import logging
import math
import os
import zipfile
import zlib
from pathlib import Path

import liblzfse
import numpy as np
from PIL import Image

from core.bounded_json import BoundedJSONError, loads_bounded
from core.types import CameraIntrinsics
from mapping.sources.base import CaptureConfig, CaptureError
from mapping.sources.recorded import RecordedFrameSource, poses_from_quaternions, rgb_array

log = logging.getLogger(__name__)

MAX_METADATA_BYTES = 64 << 20  # ~150 bytes of poses a frame: room for 400k frames (3.7 h at 30 fps)

#: T_arkitcam_cvcam: flips y and z
ARKIT_CAM_TO_OPENCV = np.diag([1.0, -1.0, -1.0, 1.0])


def is_r3d(path: Path) -> bool:
    """A `.r3d` file (even a broken one, so its reader reports what is wrong), a zip with `metadata`, or
    an unzipped Record3D folder."""
    if path.is_dir():
        return (path / "metadata").is_file() and (path / "rgbd").is_dir()
    if path.suffix.lower() == ".r3d":
        return True
    try:
        with zipfile.ZipFile(path) as z:
            return "metadata" in z.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


class _Archive:
    """Read members of a zip file or an unzipped folder by name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        if path.is_dir():
            root = path
            self.names = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        else:
            try:
                self._zip = zipfile.ZipFile(path)
            except zipfile.BadZipFile as exc:
                raise CaptureError(
                    f"{path} is not a readable .r3d file (corrupt or truncated zip: {exc})"
                ) from None
            except OSError as exc:
                raise CaptureError(f"{path} cannot be read: {exc}") from None
            self.names = set(self._zip.namelist())

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """A member's bytes; with `max_bytes`, refused (CaptureError) when it declares or yields more."""
        try:
            if max_bytes is not None:
                size = (self.path / name).stat().st_size if self._zip is None else self._zip.getinfo(name).file_size
                if size > max_bytes:
                    raise CaptureError(f"{self.path}: {name} is {size / 1e6:.1f} MB, more than the "
                                       f"{max_bytes / 1e6:.0f} MB it may take (corrupt or not a Record3D export)")
            if self._zip is None:
                return (self.path / name).read_bytes()
            if max_bytes is None:
                return self._zip.read(name)
            with self._zip.open(name) as fh:
                data = fh.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise CaptureError(f"{self.path}: {name} decompresses to more than {max_bytes / 1e6:.0f} MB")
            return data
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as exc:
            raise CaptureError(f"{self.path}: {name} cannot be read (corrupt or truncated: {exc})") from None

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()
            self._zip = None


class R3DFrameSource(RecordedFrameSource):
    """Frames of a Record3D capture, lazily decoded."""

    format = "r3d"
    fixed_up = "+y"

    def __init__(self, path: str | os.PathLike, config: CaptureConfig | None = None) -> None:
        super().__init__(path, config or CaptureConfig())
        assert self.path is not None
        self._archive = _Archive(self.path)
        self._warned_no_conf = False
        try:
            meta = self._read_metadata()
            self._rgb_wh, self._depth_wh, self._rgb_K, self._fps = self._parse_camera(meta)
            self._poses = self._parse_poses(meta)
            self._times = self._parse_times(meta, len(self._poses))
            self._intrinsics = self._rgb_K.resized(*self._depth_wh)
            self._check_members(len(self._poses))
        except BaseException:
            self._archive.close()
            raise

    # -- metadata -----------------------------------------------------------------------------------
    def _read_metadata(self) -> dict:
        if "metadata" not in self._archive.names:
            raise CaptureError(f"{self.path} has no metadata (not a Record3D export?)")
        try:
            meta = loads_bounded(self._archive.read("metadata", MAX_METADATA_BYTES), MAX_METADATA_BYTES, max_depth=16,
                                 allow_nan=True)  # non-finite poses get their own message below
        except BoundedJSONError as exc:
            raise CaptureError(f"{self.path}: metadata is not acceptable JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise CaptureError(f"{self.path}: metadata is not a JSON object")
        for key in ("K", "w", "h", "poses"):
            if key not in meta:
                raise CaptureError(f"{self.path}: metadata has no '{key}'")
        return meta

    def _parse_camera(self, meta: dict) -> tuple[tuple[int, int], tuple[int, int], CameraIntrinsics, float]:
        try:
            w, h = int(meta["w"]), int(meta["h"])
            K = np.asarray(meta["K"], dtype=np.float64).reshape(3, 3).T
            fps = float(meta.get("fps") or 30.0)
            dw, dh = int(meta.get("dw") or 0), int(meta.get("dh") or 0)
        except (TypeError, ValueError) as exc:
            raise CaptureError(
                f"{self.path}: metadata has a malformed K, w, h, dw, dh or fps ({exc})"
            ) from None
        if w <= 0 or h <= 0 or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
            raise CaptureError(f"{self.path}: metadata has an invalid image size or intrinsics K")
        if dw <= 0 or dh <= 0:
            dw, dh = self._infer_depth_size(w, h)
        if not math.isfinite(fps) or fps <= 0:
            fps = 30.0
        intr = CameraIntrinsics(
            fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]), width=w, height=h
        )
        return (w, h), (dw, dh), intr, fps

    def _infer_depth_size(self, w: int, h: int) -> tuple[int, int]:
        """Older exports lack dw/dh: infer them from frame 0's depth size and the RGB aspect ratio."""
        if "rgbd/0.depth" not in self._archive.names:
            raise CaptureError(f"{self.path}: metadata has no depth size (dw, dh) and frame 0 has no depth")
        n = self._decompress("rgbd/0.depth").size // 4
        dh = int(round(math.sqrt(n * h / w)))
        dw = n // dh if dh else 0
        if dw * dh != n:
            raise CaptureError(f"{self.path}: metadata has no depth size (dw, dh) and it cannot be inferred")
        log.info("%s: depth size %dx%d inferred from frame 0", self.path, dw, dh)
        return dw, dh

    def _parse_poses(self, meta: dict) -> np.ndarray:
        try:
            raw = np.asarray(meta["poses"], dtype=np.float64)
        except (TypeError, ValueError):
            raise CaptureError(f"{self.path}: metadata poses are not a list of 7 numbers per frame") from None
        if raw.size == 0:
            raise CaptureError(f"{self.path} is an empty capture (no frames)")
        if raw.ndim != 2 or raw.shape[1] != 7:
            raise CaptureError(f"{self.path}: metadata poses must be [qx, qy, qz, qw, px, py, pz] per frame")
        T_arkit = poses_from_quaternions(raw[:, :4], raw[:, 4:], f"{self.path} metadata")
        return T_arkit @ ARKIT_CAM_TO_OPENCV

    def _parse_times(self, meta: dict, n: int) -> np.ndarray:
        ts = meta.get("frameTimestamps")
        if ts is not None:
            try:
                t = np.asarray(ts, dtype=np.float64).reshape(-1)
                if t.size == n and np.all(np.isfinite(t)):
                    return t - t[0]
            except (TypeError, ValueError):
                pass
            log.warning("%s: ignoring malformed frameTimestamps; using frame index / fps", self.path)
        return np.arange(n, dtype=np.float64) / self._fps

    def _check_members(self, n: int) -> None:
        names = self._archive.names
        for i in range(n):
            if f"rgbd/{i}.depth" not in names:
                raise CaptureError(f"{self.path}: frame {i} has no depth (rgbd/{i}.depth is missing)")
            if f"rgbd/{i}.jpg" not in names:
                raise CaptureError(f"{self.path}: frame {i} has no colour image (rgbd/{i}.jpg is missing)")

    # -- FrameSource --------------------------------------------------------------------------------
    @property
    def rgb_size(self) -> tuple[int, int]:
        return self._rgb_wh

    def close(self) -> None:
        self._archive.close()

    def describe(self) -> dict:
        return {
            **super().describe(),
            "rgb_intrinsics": self._rgb_K.to_dict(),
            "fps": self._fps,
            "min_confidence": self.config.min_confidence,
        }

    # -- decoding -----------------------------------------------------------------------------------
    def _decompress(self, name: str) -> np.ndarray:
        data = self._archive.read(name)
        try:
            return np.frombuffer(liblzfse.decompress(data), dtype=np.uint8)
        except liblzfse.error as exc:
            raise CaptureError(f"{self.path}: {name} is not LZFSE-compressed data ({exc})") from None

    def _decode_depth(self, i: int) -> np.ndarray:
        dw, dh = self._depth_wh
        name = f"rgbd/{i}.depth"
        raw = self._decompress(name)
        if raw.size != dw * dh * 4:
            raise CaptureError(
                f"{self.path}: {name} holds {raw.size // 4} depth values but metadata says {dw}x{dh} = {dw * dh}"
            )
        depth = raw.view(np.float32).reshape(dh, dw)
        depth = np.where(np.isfinite(depth) & (depth > 0), depth, np.float32(0.0))
        if self.config.min_confidence > 0:
            cname = f"rgbd/{i}.conf"
            if cname in self._archive.names:
                conf = self._decompress(cname)
                if conf.size != dw * dh:
                    raise CaptureError(
                        f"{self.path}: {cname} holds {conf.size} values but metadata says {dw}x{dh} = {dw * dh}"
                    )
                depth[conf.reshape(dh, dw) < self.config.min_confidence] = 0.0
            elif not self._warned_no_conf:
                log.warning(
                    "%s: frame %d has no confidence map; its depth is not confidence-filtered", self.path, i
                )
                self._warned_no_conf = True
        return depth

    def _decode_rgb(self, i: int) -> np.ndarray:
        name = f"rgbd/{i}.jpg"
        img = decode_image_header(self._archive.read(name), f"{self.path}: {name}")
        if img.size != self._rgb_wh:
            raise CaptureError(
                f"{self.path}: {name} is {img.size[0]}x{img.size[1]} but metadata says "
                f"{self._rgb_wh[0]}x{self._rgb_wh[1]}"
            )
        dw, dh = self._depth_wh
        if (dw, dh) != self._rgb_wh:
            img.draft("RGB", (dw, dh))  # JPEG DCT-domain downscaling: decodes at 1/2, 1/4 or 1/8 size
        img = decode_image_loaded(img, f"{self.path}: {name}")
        if img.size != (dw, dh):
            img = img.convert("RGB").resize((dw, dh), Image.Resampling.BOX)
        return rgb_array(img)


def decode_image_header(data: bytes, what: str) -> Image.Image:
    """Open an image lazily (header only) from bytes."""
    try:
        return Image.open(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for bad data
        raise CaptureError(f"{what} cannot be decoded as an image ({exc})") from None


def decode_image_loaded(img: Image.Image, what: str) -> Image.Image:
    try:
        img.load()
        return img
    except Exception as exc:  # noqa: BLE001 - truncated/corrupt JPEG data
        raise CaptureError(f"{what} cannot be decoded as an image ({exc})") from None

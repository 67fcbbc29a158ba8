"""Shared machinery of the recorded-capture readers: depth range filtering, world alignment, frame assembly.

A subclass provides the raw poses (`T_file_cam`: OpenCV camera to the file's world), the decoded depth in
metres and the colour image at the depth resolution; this class turns them into project-convention frames.
"""

from __future__ import annotations

import io
import logging
import os
from abc import abstractmethod
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.types import CameraIntrinsics, RGBDFrame
from mapping.sources.align import Alignment, compute_alignment
from mapping.sources.base import CaptureConfig, CaptureError, FrameSource

log = logging.getLogger(__name__)


class RecordedFrameSource(FrameSource):
    """Base of the file readers (Record3D, Redwood/ICL, TUM)."""

    #: the format's fixed world up axis (Record3D: ARKit's +y), or None to follow `config.up`
    fixed_up: str | None = None

    def __init__(self, path: str | os.PathLike, config: CaptureConfig) -> None:
        super().__init__(path)
        self.config = config
        self._alignment: Alignment | None = None
        # What a format's __init__ reads from the files (after this one): the camera poses, the depth
        # images' intrinsics (self._intrinsics) and, where the format has a clock, each frame's time from
        # the start (else 30 frames per second).
        self._poses = np.zeros((0, 4, 4))
        self._times: np.ndarray | None = None

    _intrinsics: CameraIntrinsics

    @property
    def intrinsics(self) -> CameraIntrinsics:
        return self._intrinsics

    def __len__(self) -> int:
        return len(self._poses)

    def raw_poses(self) -> np.ndarray:
        """float64 (N, 4, 4): OpenCV camera -> the file's own world frame."""
        return self._poses

    def timestamps(self) -> np.ndarray:
        return super().timestamps() if self._times is None else self._times

    # -- what a format provides ---------------------------------------------------------------------

    @abstractmethod
    def _decode_depth(self, i: int) -> np.ndarray:
        """float32 (H, W) metres at the intrinsics' size; non-finite or masked-out pixels may be anything <= 0."""

    @abstractmethod
    def _decode_rgb(self, i: int) -> np.ndarray:
        """uint8 (H, W, 3) at the intrinsics' size."""

    # -- shared behaviour ---------------------------------------------------------------------------
    def depth(self, i: int) -> np.ndarray:
        """Frame i's depth in metres with out-of-range and invalid pixels set to 0."""
        d = self._decode_depth(self._index(i))
        c = self.config
        ok = np.isfinite(d) & (d >= c.min_depth_m) & (d <= c.max_depth_m)
        return np.where(ok, d, np.float32(0.0)).astype(np.float32, copy=False)

    @property
    def alignment(self) -> Alignment:
        """The transform from the file's world to the project's (computed once; may decode a few depths)."""
        if self._alignment is None:
            up = self.fixed_up or self.config.up
            try:
                self._alignment = compute_alignment(
                    self.raw_poses(),
                    up,
                    self.config.floor_to_zero,
                    self.depth,
                    self.intrinsics,
                    self.config.floor_sample_frames,
                    up_source="fixed by the format" if self.fixed_up else None,
                )
            except ValueError as exc:
                raise CaptureError(f"{self.path}: {exc}") from None
        return self._alignment

    def poses(self) -> np.ndarray:
        return np.einsum("ij,njk->nik", self.alignment.T_aligned_file, self.raw_poses())

    def frame(self, i: int) -> RGBDFrame:
        j = self._index(i)
        depth = self.depth(j)
        rgb = self._decode_rgb(j)
        if rgb.shape[:2] != depth.shape:
            raise CaptureError(
                f"{self.path}: frame {j} colour is {rgb.shape[1]}x{rgb.shape[0]} but its depth is "
                f"{depth.shape[1]}x{depth.shape[0]}"
            )
        T = self.alignment.T_aligned_file @ self.raw_poses()[j]
        return RGBDFrame(
            rgb=rgb,
            depth_m=depth,
            intrinsics=self.intrinsics,
            T_world_cam=T,
            timestamp=float(self.timestamps()[j]),
            index=j,
        )

    def describe(self) -> dict:
        return {"world_alignment": self.alignment.to_dict()}


# -- helpers shared by the folder formats --------------------------------------------------------------
def decode_image(data: bytes | Path, what: str) -> Image.Image:
    """Open an image from bytes or a path, raising CaptureError naming `what` when it cannot be decoded."""
    try:
        img = Image.open(io.BytesIO(data) if isinstance(data, bytes) else data)
        img.load()
        return img
    except FileNotFoundError:
        raise CaptureError(f"{what} is missing") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CaptureError(f"{what} cannot be decoded as an image ({exc})") from None


def rgb_array(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.uint8)


def read_rgb_image(path: Path, expected: CameraIntrinsics) -> np.ndarray:
    """A colour image file -> uint8 RGB; checks it matches the depth image's size."""
    rgb = rgb_array(decode_image(path, f"colour image {path}"))
    if rgb.shape[:2] != (expected.height, expected.width):
        raise CaptureError(
            f"colour image {path} is {rgb.shape[1]}x{rgb.shape[0]} but its depth image is "
            f"{expected.width}x{expected.height}"
        )
    return rgb


def read_png_depth(path: Path, scale: float, expected: CameraIntrinsics) -> np.ndarray:
    """A 16-bit depth PNG in units of 1/scale metres -> float32 metres; checks its size."""
    img = decode_image(path, f"depth image {path}")
    arr = np.asarray(img)
    if arr.ndim != 2:
        raise CaptureError(f"depth image {path} has {arr.shape[2]} channels; expected a single-channel PNG")
    if arr.shape != (expected.height, expected.width):
        raise CaptureError(
            f"depth image {path} is {arr.shape[1]}x{arr.shape[0]} but the camera intrinsics are for "
            f"{expected.width}x{expected.height}"
        )
    return arr.astype(np.float32) / np.float32(scale)


def load_open3d_intrinsics(path: Path) -> CameraIntrinsics:
    """Read an Open3D PinholeCameraIntrinsic JSON (width, height, column-major `intrinsic_matrix`)."""
    import json

    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        K = np.asarray(d["intrinsic_matrix"], dtype=np.float64).reshape(3, 3).T
        intr = CameraIntrinsics(
            fx=float(K[0, 0]), fy=float(K[1, 1]), cx=float(K[0, 2]), cy=float(K[1, 2]),
            width=int(d["width"]), height=int(d["height"]),
        )  # fmt: skip
    except FileNotFoundError:
        raise CaptureError(f"camera intrinsics file {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CaptureError(
            f"camera intrinsics file {path} is not an Open3D PinholeCameraIntrinsic JSON "
            f"(width, height, intrinsic_matrix): {type(exc).__name__}: {exc}"
        ) from None
    if not (intr.fx > 0 and intr.fy > 0 and intr.width > 0 and intr.height > 0):
        raise CaptureError(f"camera intrinsics file {path} has non-positive focal lengths or size")
    return intr


def check_poses(T: np.ndarray, where: str) -> None:
    """Raise CaptureError when a pose is not finite or its rotation is not a rotation (within 1e-3)."""
    bad = ~np.all(np.isfinite(T.reshape(len(T), -1)), axis=1)
    if bad.any():
        raise CaptureError(f"{where}: the pose of frame {int(np.flatnonzero(bad)[0])} is not finite")
    R = T[:, :3, :3]
    err = np.abs(np.einsum("nji,njk->nik", R, R) - np.eye(3)).reshape(len(T), -1).max(axis=1)
    det = np.linalg.det(R) if len(T) else np.zeros(0)
    bad = (err > 1e-3) | (det < 0)
    if bad.any():
        raise CaptureError(
            f"{where}: the pose of frame {int(np.flatnonzero(bad)[0])} is not a rigid transform"
        )


def poses_from_quaternions(q_xyzw: np.ndarray, t: np.ndarray, where: str, item: str = "frame") -> np.ndarray:
    """(N, 4) quaternions (x, y, z, w) and (N, 3) translations -> (N, 4, 4) transforms, validated."""
    from scipy.spatial.transform import Rotation

    q = np.asarray(q_xyzw, dtype=np.float64).reshape(-1, 4)
    t = np.asarray(t, dtype=np.float64).reshape(-1, 3)
    finite = np.all(np.isfinite(q), axis=1) & np.all(np.isfinite(t), axis=1)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        raise CaptureError(f"{where}: the pose of {item} {k} has non-finite values")
    norm = np.linalg.norm(q, axis=1)
    if (norm < 1e-6).any():
        k = int(np.flatnonzero(norm < 1e-6)[0])
        raise CaptureError(f"{where}: the pose of {item} {k} has a quaternion of zero norm")
    T = np.tile(np.eye(4), (len(q), 1, 1))
    if len(q):
        T[:, :3, :3] = Rotation.from_quat(q / norm[:, None]).as_matrix()
        T[:, :3, 3] = t
    return T

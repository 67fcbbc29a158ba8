"""SE(3) helpers and back-projection of depth to points."""

from __future__ import annotations

import math

import numpy as np

from core.types import CameraIntrinsics, RGBDFrame


def make_T(R: np.ndarray | None = None, t=None) -> np.ndarray:  # noqa: N802, N803
    """A 4x4 homogeneous transform from a 3x3 rotation and a translation."""
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    if t is not None:
        T[:3, 3] = np.asarray(t, dtype=float).reshape(3)
    return T


def invert_T(T: np.ndarray) -> np.ndarray:  # noqa: N802, N803
    """Inverse of a rigid transform."""
    R, t = T[:3, :3], T[:3, 3]
    Ti = np.eye(4)
    Ti[:3, :3] = R.T
    Ti[:3, 3] = -R.T @ t
    return Ti


def transform_points(T: np.ndarray, xyz: np.ndarray) -> np.ndarray:  # noqa: N803
    """Apply a 4x4 transform to (N, 3) points; returns float32 (N, 3)."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    return (xyz @ T[:3, :3].T + T[:3, 3]).astype(np.float32)


def quat_xyzw_to_R(q) -> np.ndarray:  # noqa: N802
    """Rotation matrix from a quaternion (x, y, z, w); the quaternion is normalised first."""
    x, y, z, w = (float(v) for v in q)
    n = math.sqrt(x * x + y * y + z * z + w * w)
    if not math.isfinite(n) or n < 1e-9:
        raise ValueError(f"invalid quaternion {q}")
    x, y, z, w = x / n, y / n, z / n, w / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def R_to_quat_xyzw(R: np.ndarray) -> np.ndarray:  # noqa: N802, N803
    """Quaternion (x, y, z, w) of a rotation matrix, w >= 0."""
    from scipy.spatial.transform import Rotation

    q = Rotation.from_matrix(np.asarray(R, dtype=float)).as_quat()
    return q if q[3] >= 0 else -q


def rot_x(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=float)


def rot_y(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], dtype=float)


def rot_z(a: float) -> np.ndarray:
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=float)


def rpy_to_R(roll: float, pitch: float, yaw: float) -> np.ndarray:  # noqa: N802
    """URDF convention: R = Rz(yaw) @ Ry(pitch) @ Rx(roll)."""
    return rot_z(yaw) @ rot_y(pitch) @ rot_x(roll)


def yaw_of(T: np.ndarray) -> float:  # noqa: N803
    """Heading (rotation about world z) of a transform's x axis."""
    return float(math.atan2(T[1, 0], T[0, 0]))


def pixel_grid(intrinsics: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) pixel coordinate arrays of shape (H, W)."""
    v, u = np.mgrid[0 : intrinsics.height, 0 : intrinsics.width]
    return u, v


def backproject(
    depth_m: np.ndarray,
    intrinsics: CameraIntrinsics,
    T_world_cam: np.ndarray | None = None,  # noqa: N803
    mask: np.ndarray | None = None,
    min_depth_m: float = 0.05,
    max_depth_m: float = float("inf"),
    stride: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Back-project valid depth pixels to 3D.

    Returns (xyz, flat_index): float32 (N, 3) points in the world frame (camera frame if `T_world_cam` is
    None) and the int64 flat pixel index (v * W + u) of each point, so callers can gather colours or ids.
    A pixel is valid when its depth is finite, within [min_depth_m, max_depth_m] and (if given) `mask` is
    True there. `stride` subsamples rows and columns.
    """
    depth = np.asarray(depth_m, dtype=np.float32)
    H, W = depth.shape
    valid = np.isfinite(depth) & (depth >= min_depth_m) & (depth <= max_depth_m)
    if mask is not None:
        if mask.shape != depth.shape:
            raise ValueError(f"mask {mask.shape} and depth {depth.shape} sizes differ")
        valid &= mask.astype(bool)
    if stride > 1:
        sub = np.zeros_like(valid)
        sub[::stride, ::stride] = True
        valid &= sub
    flat = np.flatnonzero(valid)
    if flat.size == 0:
        return np.zeros((0, 3), np.float32), flat.astype(np.int64)
    v = (flat // W).astype(np.float32)
    u = (flat % W).astype(np.float32)
    z = depth.reshape(-1)[flat]
    x = (u - intrinsics.cx) * z / intrinsics.fx
    y = (v - intrinsics.cy) * z / intrinsics.fy
    xyz = np.stack([x, y, z], axis=1)
    if T_world_cam is not None:
        xyz = transform_points(T_world_cam, xyz)
    return xyz.astype(np.float32), flat.astype(np.int64)


def frame_points(
    frame: RGBDFrame,
    mask: np.ndarray | None = None,
    min_depth_m: float = 0.05,
    max_depth_m: float = float("inf"),
    stride: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """World points and their RGB colours (uint8 (N, 3)) for a frame's valid (masked) depth."""
    xyz, flat = backproject(frame.depth_m, frame.intrinsics, frame.T_world_cam, mask, min_depth_m, max_depth_m, stride)
    rgb = frame.rgb.reshape(-1, 3)[flat]
    return xyz, rgb


def project(xyz_cam: np.ndarray, intrinsics: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Project camera-frame points to pixels; returns (uv float (N, 2), in_front bool (N,))."""
    xyz_cam = np.asarray(xyz_cam, dtype=np.float64).reshape(-1, 3)
    z = xyz_cam[:, 2]
    in_front = z > 1e-6
    zs = np.where(in_front, z, 1.0)
    u = intrinsics.fx * xyz_cam[:, 0] / zs + intrinsics.cx
    v = intrinsics.fy * xyz_cam[:, 1] / zs + intrinsics.cy
    return np.stack([u, v], axis=1), in_front

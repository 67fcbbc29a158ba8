"""Synthetic RGB-D captures of known geometry, written in the real file formats (Record3D `.r3d`, TUM).

The scene, in the project's world (z up, metres): a floor z = 0 over |x|, |y| <= FLOOR_HALF and a box
BOX_MIN..BOX_MAX standing on it. Images are rendered analytically by ray casting, so every depth pixel lies
exactly on a known surface; a reader that gets an axis or pose convention wrong puts points far from it.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import liblzfse
import numpy as np
from PIL import Image

from core.geometry import R_to_quat_xyzw, invert_T, make_T, rot_x, rot_z
from core.types import CameraIntrinsics

FLOOR_HALF = 4.0
BOX_MIN = np.array([0.8, -0.3, 0.0])
BOX_MAX = np.array([1.3, 0.3, 0.6])
BOX_RGB = (200, 30, 30)
FLOOR_RGB = (110, 120, 130)
#: ARKit's world origin is where the phone started: here 1.3 m above the floor
ARKIT_ORIGIN_HEIGHT = 1.3


def look_at(eye, target) -> np.ndarray:
    """T_world_cam of an OpenCV camera at `eye` looking at `target`, image x horizontal (world z up)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_T(np.stack([x, y, z], axis=1), eye)


def default_poses() -> list[np.ndarray]:
    """Two views of the box from different sides, camera 1.2-1.4 m high, looking down at it."""
    return [look_at([-0.6, -0.9, 1.2], [1.05, 0.0, 0.3]), look_at([0.4, 1.6, 1.4], [1.05, 0.0, 0.2])]


def render(T_world_cam: np.ndarray, K: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
    """Ray-cast the scene: (depth float32 (H, W) metres along the optical axis, 0 = nothing; rgb uint8)."""
    v, u = np.mgrid[0 : K.height, 0 : K.width].astype(np.float64)
    d_cam = np.stack([(u - K.cx) / K.fx, (v - K.cy) / K.fy, np.ones_like(u)], axis=-1).reshape(-1, 3)
    R, o = T_world_cam[:3, :3], T_world_cam[:3, 3]
    d = d_cam @ R.T  # ray directions in the world with camera-z component 1: t is the depth
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(d[:, 2] < -1e-9, -o[2] / d[:, 2], np.inf)
        hit = o + t_floor[:, None] * d
        t_floor[(np.abs(hit[:, 0]) > FLOOR_HALF) | (np.abs(hit[:, 1]) > FLOOR_HALF)] = np.inf
        t1 = (BOX_MIN - o) / d
        t2 = (BOX_MAX - o) / d
    tn = np.nanmax(np.minimum(t1, t2), axis=1)
    tf = np.nanmin(np.maximum(t1, t2), axis=1)
    t_box = np.where((tn <= tf) & (tn > 0), tn, np.inf)
    t = np.minimum(t_floor, t_box)
    depth = np.where(np.isfinite(t), t, 0.0).astype(np.float32).reshape(K.height, K.width)
    rgb = np.zeros((K.height * K.width, 3), np.uint8)
    rgb[np.isfinite(t_floor) & (t_floor <= t_box)] = FLOOR_RGB
    rgb[np.isfinite(t_box) & (t_box < t_floor)] = BOX_RGB
    return depth, rgb.reshape(K.height, K.width, 3)


def distance_to_scene(xyz: np.ndarray) -> np.ndarray:
    """Distance of world points to the nearest scene surface (floor plane or box surface)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    d_floor = np.abs(xyz[:, 2])
    c, h = (BOX_MIN + BOX_MAX) / 2, (BOX_MAX - BOX_MIN) / 2
    q = np.abs(xyz - c) - h
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    inside = np.minimum(q.max(axis=1), 0.0)
    return np.minimum(d_floor, np.abs(outside + inside))


def point_in_box(xyz: np.ndarray, margin: float = 0.01) -> np.ndarray:
    return np.all((xyz >= BOX_MIN - margin) & (xyz <= BOX_MAX + margin), axis=1)


# -- Record3D ----------------------------------------------------------------------------------------
T_WORLD_ARKIT = make_T(rot_x(math.pi / 2), [0.0, 0.0, ARKIT_ORIGIN_HEIGHT])  # ARKit world (y up) -> z up
ARKIT_CAM_FROM_CV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass
class R3DSpec:
    """What to write; the fault options make broken files for the error tests."""

    poses: list[np.ndarray] = field(default_factory=default_poses)
    rgb_size: tuple[int, int] = (256, 192)
    depth_size: tuple[int, int] = (64, 48)
    vfov_deg: float = 60.0
    low_conf_columns: tuple[int, int] = (0, 4)  # depth columns given confidence 0
    nan_pixel: tuple[int, int] = (47, 63)  # (row, col) with NaN depth
    omit_metadata: bool = False
    omit_depth_of: int | None = None
    wrong_rgb_size_of: int | None = None
    bad_pose_of: int | None = None
    bad_pose_value: float = float("nan")
    zero_quaternion_of: int | None = None
    no_conf: bool = False

    @property
    def rgb_K(self) -> CameraIntrinsics:  # noqa: N802
        return CameraIntrinsics.from_fov(self.rgb_size[0], self.rgb_size[1], math.radians(self.vfov_deg))

    @property
    def depth_K(self) -> CameraIntrinsics:  # noqa: N802
        return self.rgb_K.resized(*self.depth_size)


def arkit_pose_row(T_world_cam: np.ndarray) -> list[float]:  # noqa: N803
    """[qx, qy, qz, qw, px, py, pz] of the ARKit camera in the ARKit world for an OpenCV camera pose."""
    T = invert_T(T_WORLD_ARKIT) @ T_world_cam @ ARKIT_CAM_FROM_CV
    return [*map(float, R_to_quat_xyzw(T[:3, :3])), *map(float, T[:3, 3])]


def jpeg_bytes(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=95)
    return buf.getvalue()


def write_r3d(path: Path, spec: R3DSpec | None = None) -> Path:
    """Write a Record3D capture of the scene seen from `spec.poses`."""
    spec = spec or R3DSpec()
    K = spec.rgb_K
    rows = [arkit_pose_row(T) for T in spec.poses]
    if spec.bad_pose_of is not None:
        rows[spec.bad_pose_of][5] = spec.bad_pose_value
    if spec.zero_quaternion_of is not None:
        rows[spec.zero_quaternion_of][:4] = [0.0, 0.0, 0.0, 0.0]
    meta = {
        "K": [K.fx, 0.0, 0.0, 0.0, K.fy, 0.0, K.cx, K.cy, 1.0],  # column-major, as Record3D writes it
        "w": spec.rgb_size[0],
        "h": spec.rgb_size[1],
        "dw": spec.depth_size[0],
        "dh": spec.depth_size[1],
        "fps": 30,
        "cameraType": 1,
        "poses": rows,
        "initPose": rows[0] if rows else [0, 0, 0, 1, 0, 0, 0],
        "frameTimestamps": [100.0 + i / 30.0 for i in range(len(rows))],
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        if not spec.omit_metadata:
            z.writestr("metadata", json.dumps(meta))
        for i, T in enumerate(spec.poses):
            rgb_size = (spec.rgb_size[0] // 2, spec.rgb_size[1]) if spec.wrong_rgb_size_of == i else spec.rgb_size
            _, rgb = render(T, K.resized(*rgb_size))
            z.writestr(f"rgbd/{i}.jpg", jpeg_bytes(rgb))
            depth, _ = render(T, spec.depth_K)
            depth[depth == 0] = np.nan  # ARKit reports no return as NaN
            depth[spec.nan_pixel] = np.nan
            conf = np.full(depth.shape, 2, np.uint8)
            conf[:, spec.low_conf_columns[0] : spec.low_conf_columns[1]] = 0
            if spec.omit_depth_of != i:
                z.writestr(f"rgbd/{i}.depth", liblzfse.compress(depth.astype(np.float32).tobytes()))
            if not spec.no_conf:
                z.writestr(f"rgbd/{i}.conf", liblzfse.compress(conf.tobytes()))
    return path


# -- TUM ---------------------------------------------------------------------------------------------
#: the TUM file's world: y down (up = -y) with the floor 0.7 m below its origin
T_WORLD_TUMFILE = make_T(rot_x(-math.pi / 2), [0.0, 0.0, 0.7])


def tum_trajectory(t: np.ndarray) -> np.ndarray:
    """Camera poses at times t (s): moving linearly and yawing at a constant rate (so slerp is exact)."""
    T0 = look_at([-0.8, -0.6, 1.2], [1.05, 0.0, 0.3])
    out = []
    for ti in np.atleast_1d(t):
        out.append(make_T(rot_z(0.15 * ti) @ T0[:3, :3], T0[:3, 3] + np.array([0.3, 0.1, 0.0]) * ti))
    return np.stack(out)


def write_tum(folder: Path, n_frames: int = 4, size: tuple[int, int] = (80, 60)) -> tuple[Path, np.ndarray]:
    """Write a TUM RGB-D folder; returns (folder, the true T_world_cam of each depth frame)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rgb").mkdir(exist_ok=True)
    (folder / "depth").mkdir(exist_ok=True)
    K = CameraIntrinsics.from_fov(size[0], size[1], math.radians(50.0))
    (folder / "camera.json").write_text(
        json.dumps({"width": K.width, "height": K.height, "intrinsic_matrix": [K.fx, 0, 0, 0, K.fy, 0, K.cx, K.cy, 1]})
    )
    t0 = 1305031102.0
    gt_t = np.arange(0.0, 0.5 * n_frames + 0.5, 0.01)
    gt_lines = ["# ground truth trajectory", "# timestamp tx ty tz qx qy qz qw"]
    for ti, T in zip(gt_t, tum_trajectory(gt_t), strict=True):
        Tf = invert_T(T_WORLD_TUMFILE) @ T
        q, p = R_to_quat_xyzw(Tf[:3, :3]), Tf[:3, 3]
        gt_lines.append(f"{t0 + ti:.4f} " + " ".join(f"{v:.9f}" for v in (*p, *q)))
    rgb_lines, depth_lines, truth = ["# color images"], ["# depth maps"], []
    for k in range(n_frames):
        t_depth = 0.2 + 0.5 * k + 0.0033
        t_rgb = 0.2 + 0.5 * k
        T = tum_trajectory(np.array([t_depth]))[0]
        depth, _ = render(T, K)
        _, rgb = render(tum_trajectory(np.array([t_rgb]))[0], K)
        Image.fromarray(np.round(depth * 5000.0).astype(np.uint16)).save(folder / "depth" / f"{t0 + t_depth:.6f}.png")
        Image.fromarray(rgb).save(folder / "rgb" / f"{t0 + t_rgb:.6f}.png")
        depth_lines.append(f"{t0 + t_depth:.6f} depth/{t0 + t_depth:.6f}.png")
        rgb_lines.append(f"{t0 + t_rgb:.6f} rgb/{t0 + t_rgb:.6f}.png")
        truth.append(T)
    rgb_lines.append(f"{t0 + 50.0:.6f} rgb/unmatched.png")  # no depth near it: must be skipped
    (folder / "rgb.txt").write_text("\n".join(rgb_lines) + "\n")
    (folder / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    (folder / "groundtruth.txt").write_text("\n".join(gt_lines) + "\n")
    return folder, np.stack(truth)

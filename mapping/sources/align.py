"""Bring a capture's world frame to the project's convention: z up, floor at z = 0.

The alignment is one rigid transform `T_aligned_file` applied on the left of every pose:
`T_world_cam = T_aligned_file @ T_file_cam`. It is a rotation that takes the file's up axis to +z (the
smallest rotation, so +y up becomes `rot_x(+90 deg)`: (x, y, z) -> (x, -z, y)), followed by a vertical
shift that puts the estimated floor at z = 0. Yaw and the horizontal origin are kept as recorded.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.geometry import backproject
from core.types import CameraIntrinsics

log = logging.getLogger(__name__)

AXES: dict[str, np.ndarray] = {
    "+x": np.array([1.0, 0.0, 0.0]),
    "-x": np.array([-1.0, 0.0, 0.0]),
    "+y": np.array([0.0, 1.0, 0.0]),
    "-y": np.array([0.0, -1.0, 0.0]),
    "+z": np.array([0.0, 0.0, 1.0]),
    "-z": np.array([0.0, 0.0, -1.0]),
}
UP_CHOICES = ("auto", "none", *AXES)

#: the floor layer must hold at least this share of the sampled points to be trusted
MIN_FLOOR_SHARE = 0.02
#: the floor must be at least this far below the median camera height
MIN_CAMERA_HEIGHT_M = 0.15


@dataclass
class Alignment:
    """The transform from the file's world to the project's world, and how it was found."""

    T_aligned_file: np.ndarray = field(default_factory=lambda: np.eye(4))  # noqa: N815
    up_axis: str = "+z"
    up_source: str = "given"  # "given", "estimated", "format" (fixed by the format) or "none"
    floor_z_file: float | None = None  # the floor's height along the up axis, before the shift
    floor_source: str = "not estimated"

    def to_dict(self) -> dict:
        return {
            "up_axis_in_file": self.up_axis,
            "up_source": self.up_source,
            "floor_offset_m": None if self.floor_z_file is None else round(float(self.floor_z_file), 4),
            "floor_source": self.floor_source,
        }


def rotation_up_to_z(up: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector `up` to +z (Rodrigues); 180 deg about x for -z."""
    u = np.asarray(up, dtype=float)
    u = u / np.linalg.norm(u)
    z = np.array([0.0, 0.0, 1.0])
    c = float(u @ z)
    if c < -1.0 + 1e-12:
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(u, z)
    vx = np.array([[0.0, -v[2], v[1]], [v[2], 0.0, -v[0]], [-v[1], v[0], 0.0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def estimate_up_axis(T_file_cam: np.ndarray) -> tuple[str, float]:  # noqa: N803
    """The world axis nearest to "up" as the cameras see it: minus the mean of their (OpenCV) y axes.

    Handheld and robot cameras are held roughly upright, so their image "down" direction averages to
    gravity. Returns (axis name, angle in degrees between the estimate and that axis).
    """
    down = T_file_cam[:, :3, 1].mean(axis=0)
    n = float(np.linalg.norm(down))
    if not math.isfinite(n) or n < 1e-6:
        return "+z", 90.0
    up = -down / n
    name = max(AXES, key=lambda k: float(AXES[k] @ up))
    angle = math.degrees(math.acos(float(np.clip(AXES[name] @ up, -1.0, 1.0))))
    return name, angle


def estimate_floor_height(z: np.ndarray, bin_m: float = 0.02) -> tuple[float | None, str]:
    """Height of the floor among world z values (z up): the lowest dense horizontal layer.

    Horizontal surfaces make peaks in the height histogram; the floor is the lowest peak holding at least a
    fifth of the largest bin's count and `MIN_FLOOR_SHARE` of all points, refined to the median of the
    points within one bin of it. Returns (height or None, reason).
    """
    z = np.asarray(z, dtype=np.float64)
    z = z[np.isfinite(z)]
    if z.size < 100:
        return None, f"too few depth points ({z.size}) to find the floor"
    lo, hi = float(z.min()), float(z.max())
    nbins = max(1, int(math.ceil((hi - lo) / bin_m)))
    counts, edges = np.histogram(z, bins=nbins, range=(lo, lo + nbins * bin_m))
    smooth = np.convolve(counts, [1, 1, 1], mode="same")
    peak_min = 0.2 * smooth.max()
    for b in range(nbins):
        left = smooth[b - 1] if b > 0 else -1
        right = smooth[b + 1] if b + 1 < nbins else -1
        if smooth[b] >= peak_min and smooth[b] >= left and smooth[b] >= right:
            centre = 0.5 * (edges[b] + edges[b + 1])
            layer = z[np.abs(z - centre) <= 1.5 * bin_m]
            if layer.size < MIN_FLOOR_SHARE * z.size:
                return None, "no dominant horizontal layer at the bottom of the scene"
            return float(np.median(layer)), "estimated from depth"
    return None, "no horizontal layer found"


def compute_alignment(
    T_file_cam: np.ndarray,  # noqa: N803
    up: str,
    floor_to_zero: bool,
    depth_of: Callable[[int], np.ndarray],
    intrinsics: CameraIntrinsics,
    sample_frames: int = 12,
    up_source: str | None = None,
) -> Alignment:
    """Alignment for a capture with poses `T_file_cam` (N, 4, 4); `depth_of(i)` decodes frame i's depth.

    `up` is an axis name, "auto" or "none"; `up_source` overrides how the report names its origin
    ("format" when the format fixes the up axis).
    """
    if up not in UP_CHOICES:
        raise ValueError(f"up must be one of {', '.join(UP_CHOICES)}, got {up!r}")
    al = Alignment()
    if up == "none":
        al.up_axis, al.up_source = "+z", "none (kept as recorded)"
    elif up == "auto":
        al.up_axis, angle = estimate_up_axis(T_file_cam)
        al.up_source = f"estimated from camera orientations ({angle:.0f} deg off the axis)"
        if angle > 30.0:
            log.warning(
                "cameras are tilted %.0f deg from the nearest world axis %s on average; the up axis may be "
                "wrong (set it explicitly)",
                angle,
                al.up_axis,
            )
    else:
        al.up_axis, al.up_source = up, up_source or "given"
    T = np.eye(4)
    T[:3, :3] = rotation_up_to_z(AXES[al.up_axis])
    if floor_to_zero and len(T_file_cam) > 0:
        n = len(T_file_cam)
        idx = np.unique(np.linspace(0, n - 1, min(n, max(1, sample_frames))).round().astype(int))
        step = max(1, int(round(math.sqrt(intrinsics.width * intrinsics.height / 20000.0))))
        zs = []
        for i in idx:
            xyz, _ = backproject(depth_of(int(i)), intrinsics, T @ T_file_cam[i], stride=step)
            zs.append(xyz[:, 2])
        floor, reason = estimate_floor_height(np.concatenate(zs) if zs else np.zeros(0))
        cam_z = float(np.median((T[:3, :3] @ T_file_cam[:, :3, 3].T)[2]))
        if floor is not None and cam_z - floor < MIN_CAMERA_HEIGHT_M:
            floor, reason = None, f"the lowest layer found ({floor:.2f} m) is not below the cameras"
        if floor is None:
            log.warning("floor not found (%s); the world keeps its recorded height", reason)
            al.floor_source = f"not found: {reason}"
        else:
            T[2, 3] = -floor
            al.floor_z_file, al.floor_source = floor, reason
    al.T_aligned_file = T
    return al

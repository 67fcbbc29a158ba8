"""Core data types shared by every package.

Conventions (see ARCHITECTURE.md): metres, radians, seconds; world frame right-handed with z up and the
floor at z = 0; camera frame OpenCV (x right, y down, z forward); `T_a_b` maps coordinates in frame b to
frame a.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics of an image of `width` x `height` pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @property
    def K(self) -> np.ndarray:  # noqa: N802 - the conventional name
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def resized(self, width: int, height: int) -> CameraIntrinsics:
        """Intrinsics of the same camera for an image resized to `width` x `height`.

        Uses the pixel-centre convention: a pixel's centre (u + 0.5) scales with the image.
        """
        sx = width / self.width
        sy = height / self.height
        return CameraIntrinsics(
            fx=self.fx * sx,
            fy=self.fy * sy,
            cx=(self.cx + 0.5) * sx - 0.5,
            cy=(self.cy + 0.5) * sy - 0.5,
            width=int(width),
            height=int(height),
        )

    @classmethod
    def from_fov(cls, width: int, height: int, vfov_rad: float) -> CameraIntrinsics:
        """Square-pixel intrinsics from a vertical field of view, principal point at the image centre."""
        f = 0.5 * height / math.tan(0.5 * vfov_rad)
        return cls(fx=f, fy=f, cx=(width - 1) / 2.0, cy=(height - 1) / 2.0, width=width, height=height)

    def to_dict(self) -> dict:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, d: dict) -> CameraIntrinsics:
        return cls(float(d["fx"]), float(d["fy"]), float(d["cx"]), float(d["cy"]), int(d["width"]), int(d["height"]))


@dataclass
class RGBDFrame:
    """One posed RGB-D frame.

    rgb: uint8 (H, W, 3). depth_m: float32 (H, W), metres, 0 = invalid. `T_world_cam`: float64 (4, 4),
    camera (OpenCV) to world. `instance_ids`: optional int32 (H, W) per-pixel instance ids (simulation only;
    0 = no instance). If the depth resolution differs from the RGB resolution, `intrinsics` describe the
    depth image and the RGB image is resized to the depth size by the reader.
    """

    rgb: np.ndarray
    depth_m: np.ndarray
    intrinsics: CameraIntrinsics
    T_world_cam: np.ndarray
    timestamp: float = 0.0
    index: int = 0
    instance_ids: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.rgb.shape}")
        if self.depth_m.shape != self.rgb.shape[:2]:
            raise ValueError(f"depth {self.depth_m.shape} and rgb {self.rgb.shape[:2]} sizes differ")
        if (self.intrinsics.height, self.intrinsics.width) != self.depth_m.shape:
            raise ValueError(
                f"intrinsics are for {self.intrinsics.width}x{self.intrinsics.height}, "
                f"depth is {self.depth_m.shape[1]}x{self.depth_m.shape[0]}"
            )
        if self.T_world_cam.shape != (4, 4) or not np.all(np.isfinite(self.T_world_cam)):
            raise ValueError("T_world_cam must be a finite 4x4 matrix")
        if self.instance_ids is not None and self.instance_ids.shape != self.depth_m.shape:
            raise ValueError("instance_ids must have the depth image's shape")

    @property
    def height(self) -> int:
        return int(self.depth_m.shape[0])

    @property
    def width(self) -> int:
        return int(self.depth_m.shape[1])


@dataclass
class Observation:
    """One object seen in one frame, as perception reports it to the map.

    mask: bool (H, W) aligned to the frame. score: detection confidence in [0, 1] (the fusion weight).
    feature: float32 (D,), L2-normalised, in the embedder's image-text space. box: pixel box
    (x0, y0, x1, y1) or None. label: the query text or class that produced it, if any. instance_id: the
    simulator's instance id in ground-truth mode, else None.
    """

    mask: np.ndarray
    score: float
    feature: np.ndarray
    label: str | None = None
    box: tuple[float, float, float, float] | None = None
    instance_id: int | None = None


@dataclass(frozen=True)
class Pose2D:
    """A planar base pose in the world frame: position (x, y) in metres and heading theta in radians."""

    x: float
    y: float
    theta: float = 0.0

    @property
    def xy(self) -> np.ndarray:
        return np.array([self.x, self.y])

    def distance_to(self, other: Pose2D) -> float:
        return float(math.hypot(self.x - other.x, self.y - other.y))

    def heading_error(self, other: Pose2D) -> float:
        return abs(wrap_angle(self.theta - other.theta))

    def as_matrix(self) -> np.ndarray:
        """T_world_base (4, 4) for a base on the floor."""
        c, s = math.cos(self.theta), math.sin(self.theta)
        T = np.eye(4)
        T[:2, :2] = [[c, -s], [s, c]]
        T[0, 3], T[1, 3] = self.x, self.y
        return T

    def to_list(self) -> list[float]:
        return [float(self.x), float(self.y), float(self.theta)]

    @classmethod
    def from_list(cls, v) -> Pose2D:
        v = list(v)
        return cls(float(v[0]), float(v[1]), float(v[2]) if len(v) > 2 else 0.0)

    @classmethod
    def parse(cls, text: str) -> Pose2D:
        """Parse "x,y" or "x,y,theta" (as written on a command line)."""
        try:
            parts = [float(p) for p in text.split(",")]
        except ValueError:
            parts = []
        if len(parts) not in (2, 3) or not all(math.isfinite(p) for p in parts):
            raise ValueError(f"expected 'x,y' or 'x,y,theta' in metres/radians, got {text!r}")
        return cls.from_list(parts)


def wrap_angle(a: float) -> float:
    """Wrap an angle to [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


@dataclass
class JointState:
    """Stretch joint positions: lift (m), telescoping arm extension (m), wrist yaw/pitch/roll (rad),
    gripper aperture between the fingertips (m), head pan/tilt (rad)."""

    lift_m: float = 0.6
    arm_m: float = 0.0
    wrist_yaw: float = 0.0
    wrist_pitch: float = 0.0
    wrist_roll: float = 0.0
    gripper_m: float = 0.0
    head_pan: float = 0.0
    head_tilt: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class LaserScan:
    """One planar lidar scan. `angles_rad` (N,) in the lidar frame (counter-clockwise, 0 = the lidar's x
    axis); `ranges_m` (N,), inf where no return (out of range or invalid); `pose` the lidar's planar pose in
    the robot's reported (odometry/map) frame at `height_m` above the floor."""

    angles_rad: np.ndarray
    ranges_m: np.ndarray
    pose: Pose2D
    height_m: float = 0.0
    timestamp: float = 0.0
    min_m: float = 0.0
    max_m: float = float("inf")

    def __post_init__(self) -> None:
        self.angles_rad = np.asarray(self.angles_rad, dtype=np.float64).reshape(-1)
        self.ranges_m = np.asarray(self.ranges_m, dtype=np.float64).reshape(-1)
        if self.angles_rad.shape != self.ranges_m.shape:
            raise ValueError(f"{len(self.angles_rad)} angles but {len(self.ranges_m)} ranges")

    def points_world(self) -> np.ndarray:
        """(M, 2) endpoints of the valid returns in the reported frame."""
        ok = np.isfinite(self.ranges_m)
        a = self.angles_rad[ok] + self.pose.theta
        r = self.ranges_m[ok]
        return np.stack([self.pose.x + r * np.cos(a), self.pose.y + r * np.sin(a)], axis=1)

    def to_dict(self) -> dict:
        """JSON-serialisable form (inf ranges as null)."""
        return {"angles_rad": self.angles_rad.tolist(),
                "ranges_m": [float(r) if math.isfinite(r) else None for r in self.ranges_m],
                "pose": self.pose.to_list(), "height_m": float(self.height_m), "timestamp": float(self.timestamp),
                "min_m": float(self.min_m), "max_m": float(self.max_m) if math.isfinite(self.max_m) else None}

    @classmethod
    def from_dict(cls, d: dict) -> LaserScan:
        return cls(angles_rad=np.asarray(d["angles_rad"], dtype=np.float64),
                   ranges_m=np.asarray([np.inf if r is None else float(r) for r in d["ranges_m"]]),
                   pose=Pose2D.from_list(d["pose"]), height_m=float(d.get("height_m", 0.0)),
                   timestamp=float(d.get("timestamp", 0.0)), min_m=float(d.get("min_m", 0.0)),
                   max_m=float("inf") if d.get("max_m") is None else float(d["max_m"]))

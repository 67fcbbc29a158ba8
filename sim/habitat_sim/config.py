"""The pure half of the habitat-sim backend: sensor specs, camera-pose conversion and simulator settings,
as plain data (no habitat_sim import), so they are tested where habitat-sim is not installed.

- Sensors: one RGB, one depth and one semantic camera with our head camera's resolution and horizontal
  field of view (habitat-sim's pinhole sensors take `hfov`; our intrinsics give it as 2 atan(W / 2 fx)).
- Camera pose: our `T_world_cam` (z-up world, OpenCV camera: x right, y down, z forward) -> Habitat's
  sensor pose (y-up world, OpenGL camera: x right, y up, looking along -z).
- Settings: the scene dataset config and scene instance habitat-sim loads through its metadata mediator
  (written by sim.habitat_dataset.exporter, whose object configs carry our instance ids as `semantic_id`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.types import CameraIntrinsics
from sim.habitat_dataset.frames import R_HAB_FROM_ZUP, R_ZUP_FROM_HAB, R_to_quat_wxyz

CV_TO_GL = np.diag([1.0, -1.0, -1.0])  # OpenCV camera axes -> OpenGL camera axes (same optical centre)
INSTALL_HINT = ("habitat-sim has no Linux pip wheel: install it with conda "
                "(`conda install habitat-sim headless -c conda-forge -c aihabitat`) or build it from source")


@dataclass(frozen=True)
class SensorSpecData:
    """One habitat-sim camera sensor, as data: uuid, kind ("color", "depth", "semantic"), (H, W), hfov (deg)."""

    uuid: str
    kind: str
    resolution: tuple[int, int]
    hfov_deg: float


@dataclass(frozen=True)
class HabitatSimSettings:
    """What the backend asks habitat-sim for (translated to habitat_sim.Configuration in sim.habitat_sim.world)."""

    scene_dataset_config_file: str
    scene_id: str
    sensors: tuple[SensorSpecData, ...]
    enable_physics: bool = False
    """Physics stays in our MuJoCo world; habitat-sim only renders (objects are posed from our world)."""
    gpu_device_id: int = 0
    extra: dict = field(default_factory=dict)


def hfov_deg(intrinsics: CameraIntrinsics) -> float:
    """Horizontal field of view of a pinhole camera (habitat-sim's sensors need square pixels, centred)."""
    return math.degrees(2.0 * math.atan(intrinsics.width / (2.0 * intrinsics.fx)))


def check_habitat_intrinsics(intrinsics: CameraIntrinsics) -> None:
    """habitat-sim's pinhole sensor has square pixels and the principal point at the image centre."""
    from core.errors import InputError

    if abs(intrinsics.fx - intrinsics.fy) > 1e-3 * intrinsics.fx:
        raise InputError(f"habitat-sim sensors need square pixels (fx {intrinsics.fx:.2f} != fy {intrinsics.fy:.2f})")
    if abs(intrinsics.cx - (intrinsics.width - 1) / 2) > 1.0 or abs(intrinsics.cy - (intrinsics.height - 1) / 2) > 1.0:
        raise InputError("habitat-sim sensors need the principal point at the image centre")


def sensor_specs(intrinsics: CameraIntrinsics) -> tuple[SensorSpecData, ...]:
    """RGB, depth and semantic sensors matching the Stretch head camera's intrinsics."""
    check_habitat_intrinsics(intrinsics)
    res = (int(intrinsics.height), int(intrinsics.width))
    h = round(hfov_deg(intrinsics), 6)
    return (SensorSpecData("rgb", "color", res, h), SensorSpecData("depth", "depth", res, h),
            SensorSpecData("semantic", "semantic", res, h))


def habitat_camera_pose(T_world_cam: np.ndarray) -> tuple[list[float], list[float]]:  # noqa: N803
    """Our OpenCV camera pose -> (position [x, y, z], rotation [w, x, y, z]) of a Habitat sensor (y up, -z view)."""
    T = np.asarray(T_world_cam, dtype=np.float64)
    R = R_HAB_FROM_ZUP @ T[:3, :3] @ CV_TO_GL  # noqa: N806
    p = R_HAB_FROM_ZUP @ T[:3, 3]
    return [float(v) for v in p], R_to_quat_wxyz(R)


def our_camera_pose(position, rotation_wxyz) -> np.ndarray:
    """The inverse of habitat_camera_pose: a Habitat sensor pose -> our 4x4 T_world_cam (OpenCV)."""
    from sim.habitat_dataset.frames import quat_wxyz_to_R

    R_gl = quat_wxyz_to_R(list(rotation_wxyz), "habitat sensor rotation")  # noqa: N806
    T = np.eye(4)
    T[:3, :3] = R_ZUP_FROM_HAB @ R_gl @ CV_TO_GL
    T[:3, 3] = R_ZUP_FROM_HAB @ np.asarray(position, dtype=np.float64)
    return T


def habitat_object_pose(T_world_obj: np.ndarray) -> tuple[list[float], list[float]]:  # noqa: N803
    """Our object pose (z-up world, object frame of the exported glb turned z-up) -> Habitat translation and
    rotation [w, x, y, z] of the rigid object whose asset is that glb (y up)."""
    T = np.asarray(T_world_obj, dtype=np.float64)
    R = R_HAB_FROM_ZUP @ T[:3, :3] @ R_ZUP_FROM_HAB  # noqa: N806
    return [float(v) for v in R_HAB_FROM_ZUP @ T[:3, 3]], R_to_quat_wxyz(R)


def settings_for(dataset_config: str, scene: str, intrinsics: CameraIntrinsics, gpu_device_id: int = 0) -> HabitatSimSettings:
    return HabitatSimSettings(str(dataset_config), scene, sensor_specs(intrinsics), gpu_device_id=gpu_device_id)

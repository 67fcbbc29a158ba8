"""The pure parts of the optional habitat-sim backend (habitat-sim itself is not installable here)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from core.errors import InputError
from core.stretch import T_world_headcam
from core.types import CameraIntrinsics, Pose2D
from sim.config import SimConfig
from sim.habitat_dataset.frames import R_HAB_FROM_ZUP, quat_wxyz_to_R
from sim.habitat_sim.config import (
    habitat_camera_pose,
    habitat_object_pose,
    hfov_deg,
    our_camera_pose,
    sensor_specs,
    settings_for,
)

HAVE_HABITAT = importlib.util.find_spec("habitat_sim") is not None


def test_sensor_specs_match_the_head_camera():
    k = SimConfig().intrinsics()
    specs = sensor_specs(k)
    assert [s.kind for s in specs] == ["color", "depth", "semantic"]
    assert all(s.resolution == (480, 640) for s in specs)
    # 58 deg vertical over 480 rows with square pixels -> 2 atan(320 / fx) horizontal, about 73 deg
    fx = 240 / math.tan(math.radians(29))
    assert specs[0].hfov_deg == pytest.approx(math.degrees(2 * math.atan(320 / fx)), abs=1e-4)
    assert 72 < hfov_deg(k) < 74
    with pytest.raises(InputError, match="square pixels"):
        sensor_specs(CameraIntrinsics(640, 480, 500.0, 450.0, 319.5, 239.5))
    s = settings_for("/x/d.scene_dataset_config.json", "apt", k)
    assert s.scene_id == "apt" and not s.enable_physics and len(s.sensors) == 3


@pytest.mark.parametrize("pan,tilt", [(0.0, 0.0), (-1.2, -0.52), (0.7, 0.3)])
def test_camera_pose_at_the_stretch_head(pan, tilt):
    T = T_world_headcam(Pose2D(1.5, -2.0, 0.8), pan, tilt)
    pos, q = habitat_camera_pose(T)
    R_gl = quat_wxyz_to_R(q, "q")
    # the optical axis (OpenCV +z) is the Habitat camera's -z; image "down" (OpenCV +y) is its -y
    assert np.allclose(R_gl @ [0, 0, -1], R_HAB_FROM_ZUP @ T[:3, :3] @ [0, 0, 1], atol=1e-9)
    assert np.allclose(R_gl @ [0, -1, 0], R_HAB_FROM_ZUP @ T[:3, :3] @ [0, 1, 0], atol=1e-9)
    # Habitat's y is our height: the head camera is ~1.3 m above the floor
    assert 1.0 < pos[1] < 1.6 and np.allclose(pos, R_HAB_FROM_ZUP @ T[:3, 3])
    assert np.allclose(our_camera_pose(pos, q), T, atol=1e-9)


def test_object_pose_places_the_exported_asset_where_our_world_has_it():
    rng = np.random.default_rng(0)
    from core.geometry import make_T, rpy_to_R

    T = make_T(rpy_to_R(*rng.uniform(-1, 1, 3)), rng.uniform(-3, 3, 3))
    v_obj = rng.uniform(-0.1, 0.1, (20, 3))
    v_glb = v_obj @ R_HAB_FROM_ZUP.T  # the exporter writes object meshes y-up
    t, q = habitat_object_pose(T)
    world_hab = v_glb @ quat_wxyz_to_R(q, "q").T + t
    assert np.allclose(world_hab, (v_obj @ T[:3, :3].T + T[:3, 3]) @ R_HAB_FROM_ZUP.T, atol=1e-9)


def test_backend_is_registered_and_says_how_to_install():
    from sim.backends import BACKENDS, backend

    assert BACKENDS["habitat"].requires == "habitat_sim"
    if HAVE_HABITAT:
        pytest.skip("habitat-sim is installed here")
    with pytest.raises(InputError, match="conda install habitat-sim"):
        backend("habitat")
    with pytest.raises(InputError, match="habitat-sim"):
        importlib.import_module("sim.habitat_sim.world")

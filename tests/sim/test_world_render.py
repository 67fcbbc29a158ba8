"""Rendering: depth agrees with ray casts, instance ids match the scene, images are deterministic."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from core.geometry import make_T, project
from core.stretch import T_world_headcam
from core.types import CameraIntrinsics, JointState
from sim.mujoco.world import ROBOT_PREFIX, SimWorld
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    yield w
    w.close()


def look_at(eye, target) -> np.ndarray:
    """OpenCV camera pose at `eye` looking at `target` (image up roughly world +z)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_T(np.stack([x, y, z], axis=1), eye)


def _ray_depth(world: SimWorld, T: np.ndarray, K: CameraIntrinsics, u: int, v: int) -> tuple[float, int]:  # noqa: N803
    d_cam = np.array([(u - K.cx) / K.fx, (v - K.cy) / K.fy, 1.0])
    d_world = T[:3, :3] @ (d_cam / np.linalg.norm(d_cam))
    geomid = np.array([-1], dtype=np.int32)
    groups = np.array([1, 1, 1, 0, 0, 0], dtype=np.uint8)
    dist = mujoco.mj_ray(world.model, world.data, T[:3, 3], d_world, groups, 1, -1, geomid)
    return (dist * float(d_world @ T[:3, 2]) if dist >= 0 else 0.0), int(geomid[0])


@pytest.mark.parametrize("intr", [None, CameraIntrinsics(fx=300.0, fy=310.0, cx=150.0, cy=110.0, width=320, height=240)])
def test_depth_agrees_with_ray_casts(world, intr):
    T = look_at([0.8, 1.2, 1.4], [2.0, 3.0, 0.75])
    K = intr or world.config.intrinsics()
    _, depth, _ = world.render(T, K)
    rng = np.random.default_rng(3)
    checked = 0
    for u, v in zip(rng.integers(0, K.width, 150), rng.integers(0, K.height, 150), strict=True):
        ref, _ = _ray_depth(world, T, K, int(u), int(v))
        if depth[v, u] == 0 or ref == 0:
            continue
        # Pixels on an edge can see either surface; compare where the neighbourhood is smooth.
        patch = depth[max(v - 1, 0): v + 2, max(u - 1, 0): u + 2]
        if patch.max() - patch.min() > 0.05:
            continue
        assert abs(depth[v, u] - ref) < 0.01, (u, v, depth[v, u], ref)
        checked += 1
    assert checked > 100


def test_instance_ids_match_projected_object_centres(world):
    T = look_at([2.0, 2.0, 1.6], [2.0, 3.0, 0.75])
    K = world.config.intrinsics()
    rgb, depth, ids = world.render(T, K)
    assert rgb.dtype == np.uint8 and depth.dtype == np.float32 and ids.dtype == np.int32
    cam = np.linalg.inv(T)
    for obj in world.spec.objects:
        c = world.object_center(obj.id)
        uv, z = project((cam[:3, :3] @ c + cam[:3, 3])[None].astype(np.float32), K)
        u, v = int(round(float(uv[0, 0]))), int(round(float(uv[0, 1])))
        assert 0 <= u < K.width and 0 <= v < K.height
        assert ids[v, u] == obj.instance_id, obj.id
    table = world.spec.receptacle("kitchen_table").instance_id
    assert set(np.unique(ids)) == {0, table} | {o.instance_id for o in world.spec.objects}


def test_robot_is_background_in_instance_render(world):
    # The head camera looking down at the robot's own arm: robot pixels must have id 0 but valid depth.
    world.set_robot_state(world.spec.robot_start, JointState(lift_m=0.5, arm_m=0.3, head_pan=-math.pi / 2,
                                                             head_tilt=-1.0))
    T = T_world_headcam(world.base_pose, -math.pi / 2, -1.0)
    K = world.config.intrinsics()
    _, depth, ids = world.render(T, K)
    robot_pixels = 0
    for v in range(0, K.height, 24):
        for u in range(0, K.width, 24):
            ref, gid = _ray_depth(world, T, K, u, v)
            if gid >= 0 and world.model.body(world.model.geom_bodyid[gid]).name.startswith(ROBOT_PREFIX):
                if ids[v, u] == 0 and depth[v, u] > 0:
                    robot_pixels += 1
                else:
                    raise AssertionError(f"robot pixel {(u, v)} has id {ids[v, u]} depth {depth[v, u]}")
    assert robot_pixels > 5
    world.set_robot_state(world.spec.robot_start, JointState())


def test_same_scene_renders_equal_images(world):
    other = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    try:
        other.set_robot_state(world.base_pose, world.joints)
        T = look_at([1.0, 1.5, 1.3], [2.0, 3.0, 0.8])
        a = world.render(T)
        b = other.render(T)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y)
        for oid in world.object_ids():
            assert np.array_equal(world.object_pose(oid), other.object_pose(oid))
    finally:
        other.close()

"""The simulated Stretch: FK equals core.stretch, mesh cache, gripper aperture mapping."""

from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import pytest

from core.stretch import _UPRIGHT, STRETCH, T_world_grasp, T_world_headcam
from core.types import JointState, Pose2D
from sim.mujoco.stretch_model import build_stretch_spec, converted_meshes, finger_aperture_table
from sim.mujoco.world import SimWorld
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    yield w
    w.close()


def _angle_deg(A: np.ndarray, B: np.ndarray) -> float:  # noqa: N803
    c = (np.trace(A[:3, :3].T @ B[:3, :3]) - 1) / 2
    return math.degrees(math.acos(float(np.clip(c, -1, 1))))


def _random_joints(rng: np.random.Generator) -> JointState:
    L = STRETCH.limits
    return JointState(*(float(rng.uniform(*lim)) for lim in (L.lift_m, L.arm_m, L.wrist_yaw, L.wrist_pitch,
                                                            L.wrist_roll, L.gripper_m, L.head_pan, L.head_tilt)))


def test_sim_fk_equals_core_fk(world):
    rng = np.random.default_rng(7)
    for _ in range(40):
        joints = _random_joints(rng)
        base = Pose2D(float(rng.uniform(-3, 3)), float(rng.uniform(-3, 3)), float(rng.uniform(-math.pi, math.pi)))
        world.set_robot_state(base, joints)
        Ts, Tc = world.site_pose(world.grasp_site), T_world_grasp(base, joints)
        assert np.linalg.norm(Ts[:3, 3] - Tc[:3, 3]) < 0.005
        assert _angle_deg(Ts, Tc) < 0.5
        Hs = world.site_pose(world.headcam_site)
        Hs[:3, :3] = Hs[:3, :3] @ _UPRIGHT
        Hc = T_world_headcam(base, joints.head_pan, joints.head_tilt)
        assert np.linalg.norm(Hs[:3, 3] - Hc[:3, 3]) < 0.005
        assert _angle_deg(Hs, Hc) < 0.5
    world.set_robot_state(world.spec.robot_start, JointState())


def test_gripper_aperture_table_spans_the_limits(world):
    angles, gaps = world.finger_table
    assert np.all(np.diff(gaps) > 0)
    assert gaps[0] <= 0.0 + 1e-3 and gaps[-1] >= STRETCH.limits.gripper_m[1]
    # Setting an aperture puts the pads that far apart.
    from sim.mujoco.grasp_rule import pad_region

    for ap in (0.03, 0.08, 0.12):
        world.set_robot_state(world.spec.robot_start, JointState(gripper_m=ap))
        assert abs(pad_region(world).opening_m - ap) < 0.002
    world.set_robot_state(world.spec.robot_start, JointState())


def test_mesh_cache_is_built_once_with_every_mesh(tmp_path):
    d = converted_meshes(tmp_path)
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["meshes"], "no meshes cached"
    for name in manifest["meshes"].values():
        assert (d / name).is_file() and (d / name).stat().st_size > 0
    assert any(n.endswith("_dae.stl") for n in manifest["meshes"].values())  # the D435 .dae was converted
    mtime = (d / "manifest.json").stat().st_mtime_ns
    assert converted_meshes(tmp_path) == d
    assert (d / "manifest.json").stat().st_mtime_ns == mtime
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp folder left


def test_robot_model_compiles_alone_with_planar_base():
    model = build_stretch_spec(visual_meshes=False).compile()
    names = {model.joint(i).name for i in range(model.njnt)}
    assert {"base_x", "base_y", "base_yaw", "joint_lift", "joint_arm_l0", "joint_wrist_roll",
            "joint_gripper_finger_left", "joint_head_tilt"} <= names
    lo, hi = model.joint("joint_lift").range
    assert (lo, hi) == STRETCH.limits.lift_m
    table = finger_aperture_table(model)
    assert table[1].max() > 0.12
    assert mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, "link_grasp_center") >= 0

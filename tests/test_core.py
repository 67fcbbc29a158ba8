import math

import numpy as np
import pytest

from core.geometry import R_to_quat_xyzw, backproject, invert_T, make_T, project, quat_xyzw_to_R, rpy_to_R
from core.io import atomic_path, write_json_atomic
from core.stretch import STRETCH, T_base_grasp, T_base_headcam, head_look_at
from core.types import CameraIntrinsics, JointState, Pose2D, RGBDFrame


def test_backproject_roundtrip():
    K = CameraIntrinsics.from_fov(64, 48, math.radians(60))
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 3.0, (48, 64)).astype(np.float32)
    depth[0, 0] = 0.0
    T = make_T(rpy_to_R(0.1, -0.2, 0.3), [1.0, 2.0, 0.5])
    xyz, flat = backproject(depth, K, T)
    assert xyz.shape == (48 * 64 - 1, 3) and flat[0] == 1
    cam = (xyz - T[:3, 3]) @ T[:3, :3]
    uv, front = project(cam, K)
    assert front.all()
    v, u = np.divmod(flat, 64)
    np.testing.assert_allclose(uv, np.stack([u, v], 1), atol=1e-3)


def test_backproject_mask_and_range():
    K = CameraIntrinsics.from_fov(8, 6, 1.0)
    depth = np.full((6, 8), 2.0, np.float32)
    mask = np.zeros((6, 8), bool)
    mask[2:4, 3:5] = True
    xyz, _ = backproject(depth, K, None, mask=mask)
    assert len(xyz) == 4
    xyz, _ = backproject(depth, K, None, max_depth_m=1.5)
    assert len(xyz) == 0


def test_rgbd_frame_validates_sizes():
    K = CameraIntrinsics.from_fov(8, 6, 1.0)
    with pytest.raises(ValueError):
        RGBDFrame(np.zeros((6, 8, 3), np.uint8), np.zeros((5, 8), np.float32), K, np.eye(4))
    bad = np.eye(4)
    bad[0, 3] = np.nan
    with pytest.raises(ValueError):
        RGBDFrame(np.zeros((6, 8, 3), np.uint8), np.zeros((6, 8), np.float32), K, bad)


def test_intrinsics_resize_keeps_rays():
    K = CameraIntrinsics(500.0, 500.0, 319.5, 239.5, 640, 480)
    k2 = K.resized(320, 240)
    assert k2.fx == 250.0 and k2.cx == pytest.approx(159.5)


def test_quaternion_roundtrip():
    R = rpy_to_R(0.3, -0.4, 1.2)
    np.testing.assert_allclose(quat_xyzw_to_R(R_to_quat_xyzw(R)), R, atol=1e-9)
    with pytest.raises(ValueError):
        quat_xyzw_to_R([0, 0, 0, 0])


def test_pose2d_parse_and_matrix():
    p = Pose2D.parse("1,2,0.5")
    assert p == Pose2D(1.0, 2.0, 0.5)
    np.testing.assert_allclose(invert_T(p.as_matrix()) @ p.as_matrix(), np.eye(4), atol=1e-12)
    with pytest.raises(ValueError):
        Pose2D.parse("1;2")


def test_stretch_fk_matches_urdf_reference():
    # Reference values computed from the SE3 URDF chain (link_grasp_center) with a generic URDF walker.
    np.testing.assert_allclose(T_base_grasp(JointState(lift_m=0, arm_m=0))[:3, 3], [-0.0213, -0.4148, 0.1097], atol=2e-4)
    T = T_base_grasp(JointState(lift_m=0.5, arm_m=0.4, wrist_yaw=math.pi / 2))
    np.testing.assert_allclose(T[:3, 3], [0.2485, -0.5449, 0.6097], atol=2e-4)
    np.testing.assert_allclose(T[:3, 0], [1, 0, 0], atol=1e-3)  # approach points forward
    down = T_base_grasp(JointState(lift_m=0.3, wrist_pitch=-math.pi / 2))
    np.testing.assert_allclose(down[:3, 0], [0, 0, -1], atol=1e-3)  # approach points at the floor
    cam = T_base_headcam(0.0, 0.0)
    np.testing.assert_allclose(cam[:3, 2], [1, 0, 0], atol=1e-3)  # looks forward
    np.testing.assert_allclose(cam[:3, 1], [0, 0, -1], atol=1e-3)  # image y is down: upright
    assert cam[2, 3] == pytest.approx(1.3222, abs=1e-3)


def test_head_look_at_points_camera_at_target():
    base = Pose2D(1.0, -1.0, 0.7)
    target = np.array([2.5, 0.5, 0.4])
    pan, tilt = head_look_at(base, target)
    T = base.as_matrix() @ T_base_headcam(pan, tilt)
    d = target - T[:3, 3]
    cosang = d @ T[:3, 2] / np.linalg.norm(d)
    assert cosang > math.cos(math.radians(5))
    assert STRETCH.limits.within(JointState(head_pan=pan, head_tilt=tilt))


def test_atomic_write_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_json_atomic(target, {"a": 1})
    assert target.read_text().strip().startswith("{")

"""Sight lines through the map's occupied voxels (mapping.sight)."""

from __future__ import annotations

import numpy as np

from core.stretch import T_world_headcam
from core.types import Pose2D
from mapping.sight import VoxelSight

V = 0.05


def _slab(x0, x1, y0, y1, z0, z1):
    """Voxel centres filling a box."""
    g = np.mgrid[x0:x1:V, y0:y1:V, z0:z1:V].reshape(3, -1).T
    return (np.floor(g / V) + 0.5) * V


def test_a_wall_between_eye_and_target_blocks_the_sight_line_and_the_targets_own_voxels_do_not():
    target = np.array([2.0, 0.0, 0.8])
    bottle = _slab(1.95, 2.05, -0.05, 0.05, 0.7, 0.95)  # the object itself
    table = _slab(1.6, 2.4, -0.4, 0.4, 0.65, 0.7)  # the surface it stands on
    wall = _slab(1.0, 1.05, -1.0, 1.0, 0.0, 2.0)  # a board between the first eye and the target
    sight = VoxelSight(np.vstack([bottle, table, wall]), V)
    eyes = np.array([[0.0, 0.0, 1.3], [3.0, 0.0, 1.3], [2.0, 1.2, 1.3]])
    seen = sight.visible(eyes, target, bottle.min(0) - V / 2, bottle.max(0) + V / 2)
    assert seen.tolist() == [False, True, True]
    # without the wall every eye sees it: neither the bottle nor the table it stands on blocks the line
    assert VoxelSight(np.vstack([bottle, table]), V).visible(eyes, target, bottle.min(0), bottle.max(0)).all()
    # an empty map blocks nothing
    assert VoxelSight(np.zeros((0, 3)), V).visible(eyes, target).all()


def test_head_camera_sees_matches_the_camera_pose_from_forward_kinematics():
    sight = VoxelSight(_slab(1.0, 1.05, -1.0, 1.0, 0.0, 2.0), V)
    poses = np.array([[0.0, 0.0, 0.0], [2.0, 0.0, np.pi], [0.0, 0.0, 1.0]])
    target = np.array([2.0, 0.0, 0.8])
    assert sight.head_camera_sees(poses, target).tolist() == [False, True, False]
    eye = T_world_headcam(Pose2D(2.0, 0.0, np.pi), 0.0, 0.0)[:3, 3]
    assert sight.visible(eye[None], target)[0]

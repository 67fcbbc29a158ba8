"""Parking where the head camera sees the object (choose_base_goal's `sees`, mapping.sight in the task machine)."""

from __future__ import annotations

import numpy as np
import pytest
from navgrids import apartment

from core.stretch import T_world_headcam
from core.types import Pose2D
from mapping.sight import VoxelSight
from navigation.base_goal import choose_base_goal
from navigation.occupancy import occupancy_from_obstacle_grid

V = 0.05


@pytest.fixture(scope="module")
def occ():
    return occupancy_from_obstacle_grid(apartment().grid())


def test_parking_prefers_a_pose_the_head_camera_sees_the_target_from(occ):
    start, target = Pose2D(0.6, 0.6, 0.0), np.array([1.6, 1.4, 0.75])
    plain = choose_base_goal(occ, start, target)
    assert plain.success, plain.reason
    # a tall board right between the best pose's head camera and the target
    eye = T_world_headcam(plain.goal.pose, 0.0, 0.0)[:3, 3]
    mid = (eye[:2] + target[:2]) / 2
    d = (target[:2] - eye[:2]) / np.linalg.norm(target[:2] - eye[:2])
    n = np.array([-d[1], d[0]])
    board = np.array([np.r_[mid + n * t, z] for t in np.arange(-0.4, 0.41, V / 2) for z in np.arange(0.0, 2.0, V / 2)])
    sight = VoxelSight(board, V)

    def sees(poses):
        return sight.head_camera_sees(poses, target)

    assert not sees(np.array([plain.goal.pose.to_list()]))[0]
    chosen = choose_base_goal(occ, start, target, sees=sees)
    assert chosen.success
    assert sees(np.array([chosen.goal.pose.to_list()]))[0]
    assert chosen.goal.score <= plain.goal.score  # a worse-scoring pose, taken for the view
    # when no pose sees it, the ranking is the plain one
    blind = choose_base_goal(occ, start, target, sees=lambda p: np.zeros(len(p), bool))
    assert blind.goal.pose.to_list() == plain.goal.pose.to_list()

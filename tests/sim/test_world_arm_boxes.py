"""The arm's geometry in core.stretch (the planners' arm boxes) is the simulated Stretch's: each telescoping
segment's URDF collision box, as MuJoCo places it for a lift and extension, lies within 1.5 mm of
core.stretch.arm_boxes_base; and the arm's top above the grasp centre (core.stretch.arm_top_above_grasp)
is the simulated one. The planner's arm box used to be a copied 0.165-0.225 m above the lift while the
outer segment reaches 0.233 m: an arm extending under a shelf board touched it (random solid 174)."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from core.stretch import ARM_SEGMENTS, arm_boxes_base, arm_top_above_grasp
from core.types import JointState, Pose2D
from grasping.config import PickConfig
from sim.mujoco.stretch_model import GROUP_COLLISION
from sim.mujoco.world import SimWorld
from sim.mujoco.world_build import ROBOT_PREFIX
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE

_SEGMENTS = ("link_arm_l4", "link_arm_l3", "link_arm_l2", "link_arm_l1", "link_arm_l0")


@pytest.fixture(scope="module")
def world():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    yield w
    w.close()


def _body_box(world: SimWorld, body: str) -> tuple[np.ndarray, np.ndarray]:
    """World-frame bounds of a robot body's collision geoms (the base sits at the origin, heading 0)."""
    m, d = world.model, world.data
    bid = m.body(ROBOT_PREFIX + body).id
    pts = []
    for g in np.flatnonzero((m.geom_bodyid == bid) & (m.geom_group == GROUP_COLLISION)):
        R, p = d.geom_xmat[g].reshape(3, 3), d.geom_xpos[g]
        if m.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
            mid = m.geom_dataid[g]
            v = m.mesh_vert[m.mesh_vertadr[mid]: m.mesh_vertadr[mid] + m.mesh_vertnum[mid]]
        else:
            v = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * m.geom_size[g]
        pts.append(v @ R.T + p)
    pts = np.concatenate(pts)
    return pts.min(axis=0), pts.max(axis=0)


@pytest.mark.parametrize("lift, arm", [(0.3, 0.0), (0.62, 0.27), (1.0, 0.52)])
def test_arm_segments_are_the_simulated_ones(world, lift, arm):
    world.set_robot_state(Pose2D(0.0, 0.0, 0.0), JointState(lift_m=lift, arm_m=arm))
    boxes = arm_boxes_base(lift, arm)
    assert len(ARM_SEGMENTS) == len(_SEGMENTS)
    for name, (lo, hi) in zip(_SEGMENTS, boxes[:-1], strict=True):
        slo, shi = _body_box(world, name)
        np.testing.assert_allclose(lo, slo, atol=0.0015, err_msg=name)
        np.testing.assert_allclose(hi, shi, atol=0.0015, err_msg=name)
    # The wrist block holds the yaw motor whatever the extension.
    wlo, whi = _body_box(world, "link_wrist_yaw")
    assert np.all(boxes[-1][0] <= wlo + 1e-3) and np.all(boxes[-1][1] >= whi - 1e-3)


def test_arm_top_above_the_grasp_centre_is_the_simulated_one(world):
    for pitch in (-math.pi / 2, 0.0):
        j = JointState(lift_m=0.5, arm_m=0.2, wrist_pitch=pitch)
        world.set_robot_state(Pose2D(0.0, 0.0, 0.0), j)
        top = _body_box(world, "link_arm_l4")[1][2]
        assert abs((top - world.T_world_grasp()[2, 3]) - arm_top_above_grasp(pitch)) < 0.002
    # The execution's clearance under boards above reads it (fingertips 8 mm past the grasp centre).
    assert abs(PickConfig().gripper_height_m - (arm_top_above_grasp(-1.57) + 0.008)) < 1e-3
    assert PickConfig().gripper_height_m > 0.37

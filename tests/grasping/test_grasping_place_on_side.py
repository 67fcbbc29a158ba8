"""An object held from above that the pitched-down wrist cannot put on a shelf board (the board above is
closer than the wrist's 0.36 m from fingertips to arm top, the top board is above the lift's reach) goes
down on its side with the wrist level (HeldObject.laid_on_side). Modelled on tuning apartment 5000's black
kitchen shelf (boards at 0.30, 0.68 and 1.06 m, 0.32 m deep) and the lemon held from above there."""

from __future__ import annotations

import math

import numpy as np
import pytest
from grasp_synth import plane, wall

from core.stretch import T_world_grasp
from grasping.config import GraspConfig, PlaceConfig
from grasping.kinematics import base_pose_for_reach, grasp_pose_error
from grasping.place import HeldObject, NoPlaceError, choose_place

CFG = PlaceConfig()
GRIPPER = GraspConfig().gripper
CX, CY, BOARDS, DEPTH = 0.0, -0.9, (0.30, 0.68, 1.06), 0.32
# Held from above 4.5 cm over its bottom, 0.5 cm off the grasp centre across the fingers' closing axis.
LEMON = HeldObject(below_grasp_m=0.045, radius_m=0.035, top_down=True, centre_in_grasp=np.array([0.0, 0.0, 0.005]),
                   height_m=0.07)


def _shelf() -> np.ndarray:
    sides = [wall(CX + dx, CY - DEPTH / 2, CX + dx, CY + DEPTH / 2, 0.0, BOARDS[-1]) for dx in (-0.4, 0.4)]
    return np.concatenate([plane(CX, CY, z, 0.8, DEPTH) for z in BOARDS] + sides)


def test_laid_on_side_geometry():
    side = LEMON.laid_on_side()
    assert side is not None and not side.top_down and side.on_side
    # Lowest point: the radius across the grasp, less the 0.5 cm the object sits on the upper side.
    assert side.below_grasp_m == pytest.approx(0.035 - 0.005)
    # Its footprint's centre: mid-height along the approach axis (now along the arm), 1 cm beyond the grasp.
    assert side.centre_in_grasp[0] == pytest.approx(0.045 - 0.035)
    assert side.radius_m == pytest.approx(0.035) and side.height_m == pytest.approx(0.07)
    tall = HeldObject(below_grasp_m=0.15, radius_m=0.03, top_down=True, height_m=0.2).laid_on_side()
    assert tall.radius_m == pytest.approx(0.1)  # lying, it reaches half its height along the arm
    assert HeldObject(below_grasp_m=0.05, radius_m=0.03, top_down=False, height_m=0.1).laid_on_side() is None
    assert HeldObject(below_grasp_m=0.05, radius_m=0.03).laid_on_side() is None  # height unknown


def test_a_shelf_the_pitched_down_wrist_cannot_use_takes_it_on_its_side():
    base = base_pose_for_reach(np.array([CX, CY, BOARDS[1]]), approach_heading=-math.pi / 2, arm_m=0.35)
    with pytest.raises(NoPlaceError, match="out of lift range"):
        choose_place(_shelf(), base, LEMON, config=CFG, name="shelf", gripper=GRIPPER)
    side = LEMON.laid_on_side()
    t = choose_place(_shelf(), base, side, config=CFG, name="shelf", gripper=GRIPPER)
    assert any(t.point[2] == pytest.approx(z, abs=0.01) for z in BOARDS[:2])
    assert abs(t.solution.joints.wrist_pitch) < 1e-6  # level
    # The release pose puts the object's lowest point the release height above the board...
    assert t.T_world_grasp[2, 3] == pytest.approx(t.point[2] + side.below_grasp_m + CFG.release_height_m, abs=0.005)
    dp, ang = grasp_pose_error(T_world_grasp(t.solution.base_pose, t.solution.joints), t.T_world_grasp)
    assert dp < 0.01 and ang < math.radians(2)
    # ...and its footprint's centre (1 cm out along the gripper) on the spot, inside the board.
    centre = t.T_world_grasp[:3, :3] @ side.centre_in_grasp + t.T_world_grasp[:3, 3]
    assert np.linalg.norm(centre[:2] - t.point[:2]) < 1e-4
    assert abs(centre[1] - CY) <= DEPTH / 2 - 0.04  # the edge margin, less the free-spot grid's cell


def test_a_long_object_on_its_side_keeps_half_its_length_from_the_edges():
    base = base_pose_for_reach(np.array([CX, CY, BOARDS[1]]), approach_heading=-math.pi / 2, arm_m=0.35)
    bottle = HeldObject(below_grasp_m=0.24, radius_m=0.03, top_down=True, height_m=0.3).laid_on_side()
    board = plane(CX, CY, BOARDS[1], 0.8, 0.2)
    with pytest.raises(NoPlaceError, match="no spot 0.13 m from its edges"):
        choose_place(board, base, bottle, config=CFG, name="narrow board", gripper=GRIPPER)
    upright = HeldObject(below_grasp_m=0.05, radius_m=0.03, top_down=False, height_m=0.3)
    assert choose_place(board, base, upright, config=CFG, name="narrow board", gripper=GRIPPER) is not None


def test_in_the_simulator_a_box_held_from_above_goes_onto_the_shelf_on_its_side():
    """The whole motion in MuJoCo (pytest.importorskip below): a box picked from above on the trial room's
    table (benchmarks' fixtures.grasp_trials), the robot parked at the shelf (boards at 0.45 and 0.95 m); as
    held, no spot (the top board needs lift 1.20 m, the lower board a base turn past the IK's limit); on its
    side, the wrist pitched level with the box in the gripper, it is released on a board and rests there."""
    pytest.importorskip("mujoco")
    from fixtures.grasp_trials import make_trial_scene, parking_pose
    from grasping.config import PickConfig
    from grasping.execute import pick, place
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot
    from sim.scene.objects import procedural_library

    lib = {e.key: e for e in procedural_library()}
    dl = procedural_library()
    spec = make_trial_scene(lib["procedural/blue_box"], [dl[3], dl[4]], "table", 1)
    world = SimWorld(spec)
    try:
        robot = SimRobot(world)
        robot.connect()
        xyz = world.object_center("target")
        world.set_robot_state(parking_pose(spec, "table", xyz), world.joints)
        iid = spec.object("target").instance_id
        res = pick(robot, lambda f: [(f.instance_ids == iid, 1.0)], PickConfig(), look_at=xyz)
        assert res.success and res.held.top_down, res.reason
        rec = spec.receptacle("shelf")
        top = rec.surfaces[-1]
        spot = np.array([*rec.to_world(top.pos[0] + 0.1, top.pos[1]), top.pos[2]])
        world.set_robot_state(parking_pose(spec, "shelf", spot), robot.get_joints())
        shelf = lambda f: [(f.instance_ids == rec.instance_id, 1.0)]  # noqa: E731
        as_held = place(robot, shelf, res.held, PickConfig(), look_at=spot)
        assert not as_held.success and "out of lift range" in as_held.reason
        side = place(robot, shelf, res.held.laid_on_side(), PickConfig(), look_at=spot)
        assert side.success, side.reason
        assert abs(side.target.solution.joints.wrist_pitch) < 1e-6
        world.settle()
        assert world.is_on("target", "shelf")
    finally:
        world.close()

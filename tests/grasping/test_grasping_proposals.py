"""Grasp proposals on synthetic clouds: widths fit the gripper, nothing hits nearby points, clear reasons."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest
import trimesh
from grasp_synth import TABLE_Z, bowl, mug, on_table, sample, wall

from core.geometry import rot_x
from core.stretch import STRETCH
from grasping.config import GraspConfig
from grasping.kinematics import base_pose_for_reach
from grasping.planner import NoFeasibleGraspError, distinct_first, plan_grasps

CFG = GraspConfig()
GRIPPER = CFG.gripper
OPENING = STRETCH.limits.gripper_m[1]
XY = (1.5, -0.4)


def _base():
    return base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=0.25)


SHAPES = {
    "box": trimesh.creation.box((0.05, 0.09, 0.14)),
    "cylinder": trimesh.creation.cylinder(0.033, 0.12),
    "mug": mug(),
}


def _finger_points(T: np.ndarray) -> np.ndarray:
    """Points on the open fingers' centre lines, from the sim's URDF finger shapes (independent of the
    planner's box model): pads 6.0..9.5 cm from the centre over the last 4.2 cm, shafts converging to
    ~7 cm at 13 cm behind the tips."""
    a, c = T[:3, 0], T[:3, 1]
    xs = np.concatenate([np.linspace(0.0, -0.09, 8), np.linspace(-0.09, -0.13, 4)])
    ys = np.concatenate([np.full(8, 0.078), np.linspace(0.078, 0.07, 4)])
    pts = [T[:3, 3] + x * a + sgn * y * c for x, y in zip(xs, ys, strict=True) for sgn in (1, -1)]
    return np.array(pts)


FINGER_HALF_THICKNESS = 0.015


def _material_width(points: np.ndarray, T: np.ndarray) -> float:
    """Extent along the closing axis of the points between the pads (the sim's pad slab: 4.2 x 4 cm)."""
    local = (points - T[:3, 3]) @ T[:3, :3]
    sel = (local[:, 0] > -0.042) & (local[:, 0] <= 0.001) & (np.abs(local[:, 2]) < 0.02) & \
          (np.abs(local[:, 1]) < OPENING / 2)
    return float(np.ptp(local[sel, 1])) if sel.any() else 0.0


@pytest.mark.parametrize("name", list(SHAPES))
def test_proposals_fit_the_gripper_and_avoid_a_nearby_wall(name):
    obj = sample(SHAPES[name], (XY[0], XY[1], TABLE_Z))
    # A wall of points 3 cm beyond the object's far side (seen from the robot) and one on its left.
    far = wall(XY[0] + 0.075, XY[1] - 0.3, XY[0] + 0.075, XY[1] + 0.3, TABLE_Z, TABLE_Z + 0.25)
    cloud = on_table(obj, XY, extra=far)
    plan = plan_grasps(cloud, _base(), CFG, name=name)
    assert plan.grasps, plan.reason
    scores = [g.score for g in plan.grasps]
    assert scores[0] == max(scores)  # best first; near-repeats of better grasps come after the distinct ones
    assert plan.grasps == distinct_first(sorted(plan.grasps, key=lambda g: -g.score))
    for g in plan.grasps[:15]:
        w = _material_width(obj, g.T_world_grasp)
        assert 0.0 < w <= OPENING - CFG.width_margin_m + 1e-6
        assert abs(w - g.width_m) < 0.01
        fingers = _finger_points(g.T_world_grasp)
        d_wall = np.min(np.linalg.norm(fingers[:, None, :] - far[None, ::7, :], axis=2))
        assert d_wall > FINGER_HALF_THICKNESS, f"{g.kind} grasp reaches into the wall"
        # Fingertips stay above the table top.
        assert g.T_world_grasp[2, 3] > TABLE_Z + 0.005


def test_box_is_grasped_across_its_narrow_side():
    obj = sample(trimesh.creation.box((0.05, 0.16, 0.08)), (XY[0], XY[1], TABLE_Z))
    plan = plan_grasps(on_table(obj, XY), _base(), CFG)
    best = plan.grasps[0]
    closing = best.T_world_grasp[:3, 1]
    assert abs(closing[0]) > 0.95  # the 5 cm side is along world x
    assert best.width_m == pytest.approx(0.05, abs=0.01)


def test_bowl_too_wide_for_a_centre_grasp_gets_a_rim_grasp():
    obj = sample(bowl(0.08, 0.055), (XY[0], XY[1], TABLE_Z), n=6000)
    plan = plan_grasps(on_table(obj, XY), _base(), CFG, name="bowl")
    assert plan.grasps, plan.reason
    # Only grasps on the thin wall survive: rim grasps, or top-down ones whose closing axis crosses the wall.
    assert "rim" in {g.kind for g in plan.grasps}
    assert all(g.width_m < 0.05 for g in plan.grasps)
    assert plan.grasps[0].kind == "rim" and plan.grasps[0].width_m < 0.03


def test_wide_solid_object_has_no_feasible_grasp_with_its_width():
    obj = sample(trimesh.creation.box((0.18, 0.2, 0.1)), (XY[0], XY[1], TABLE_Z))
    plan = plan_grasps(on_table(obj, XY), _base(), CFG, name="big box")
    assert not plan.grasps
    assert "no feasible grasp of big box" in plan.reason
    assert "0.18 m wide exceeds the 0.12 m opening" in plan.reason
    with pytest.raises(NoFeasibleGraspError, match="exceeds the 0.12 m opening"):
        plan.require_grasps()


def test_out_of_reach_object_reports_the_extension_needed():
    obj = sample(SHAPES["cylinder"], (XY[0], XY[1], TABLE_Z))
    base = base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=1.0)
    plan = plan_grasps(on_table(obj, XY), base, CFG, name="can")
    assert not plan.grasps
    m = re.search(r"arm cannot reach: needs (\d\.\d\d) m extension, max 0\.52", plan.reason)
    assert m and float(m.group(1)) > 0.52, plan.reason


def test_clutter_between_the_fingers_rejects_top_grasps_there():
    obj = sample(SHAPES["cylinder"], (XY[0], XY[1], TABLE_Z))
    neighbour = sample(trimesh.creation.cylinder(0.03, 0.12), (XY[0], XY[1] + 0.085, TABLE_Z))
    plan = plan_grasps(on_table(obj, XY, extra=neighbour), _base(), CFG)
    assert plan.grasps
    for g in plan.grasps:
        fingers = _finger_points(g.T_world_grasp)
        assert np.min(np.linalg.norm(fingers[:, None] - neighbour[None], axis=2)) > GRIPPER.finger_height_m / 2
    assert plan.rejected.get("collides with the scene", 0) > 0


def test_top_down_grasps_point_down_and_side_grasps_are_horizontal():
    obj = sample(SHAPES["box"], (XY[0], XY[1], TABLE_Z))
    base = base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=0.45)
    plan = plan_grasps(on_table(obj, XY), base, CFG)
    kinds = {g.kind for g in plan.grasps}
    assert "top" in kinds and "side" in kinds
    for g in plan.grasps:
        a = g.T_world_grasp[:3, 0]
        if g.kind == "top":
            assert a[2] < -math.cos(math.radians(3))
        elif g.kind == "side":
            assert abs(a[2]) < math.sin(math.radians(3))


def test_a_tall_bottle_going_onto_a_counter_is_grasped_so_the_lift_can_place_it():
    """Held from above, a 22 cm bottle's grasp centre sits ~20 cm over its support: on a 0.92 m counter
    that is beyond the pitched-down wrist's lift range, so grasps from the side (placed level) rank first."""
    from grasping.planner import placeable

    bottle = trimesh.creation.cylinder(0.03, 0.22)
    obj = sample(bottle, (XY[0], XY[1], TABLE_Z))
    base = _base()
    free = plan_grasps(on_table(obj, XY), base, CFG, name="bottle")
    assert free.grasps and any(g.top_down for g in free.grasps) and any(not g.top_down for g in free.grasps)
    support = free.shape.support_z
    tops = [g for g in free.grasps if g.top_down]
    assert not any(placeable(g, support, 0.92) for g in tops if g.T_world_grasp[2, 3] - support > 0.1)
    assert all(placeable(g, support, 0.45) for g in free.grasps)  # a low table takes any of them
    planned = plan_grasps(on_table(obj, XY), base, CFG, name="bottle", place_height_m=0.92)
    assert len(planned.grasps) == len(free.grasps)  # nothing dropped, only re-ranked
    first = planned.grasps[0]
    assert placeable(first, support, 0.92) and not first.top_down
    ranks = [placeable(g, support, 0.92) for g in planned.grasps]
    assert ranks == sorted(ranks, reverse=True)  # every placeable grasp before every other


def test_a_short_cup_deep_on_a_surface_is_held_at_45_degrees():
    """Held-out apartment 2202's orange cup, 6 cm tall and 0.5 m deep on a counter: side grasps hit the
    surface (the gripper body hangs below the fingers), top-down ones are out of reach from the front. The
    angled family reaches it (the gripper pitched 45 degrees down, its body rising behind the fingers)."""
    cup = on_table(sample(trimesh.creation.cylinder(0.03, 0.06), (XY[0], XY[1], TABLE_Z)), XY)
    base = base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=0.7)
    plan = plan_grasps(cup, base, CFG, name="cup")
    assert plan.grasps and {g.kind for g in plan.grasps} == {"angled"}, plan.reason
    for g in plan.grasps:
        assert abs(g.solution.joints.wrist_pitch + math.pi / 4) < 0.02
        assert abs(g.T_world_grasp[2, 0] + math.sin(math.pi / 4)) < 0.02  # coming down at 45 degrees
        # ...closing across the cup, its centre between the pads at the cup's middle heights
        assert abs(g.T_world_grasp[2, 1]) < 0.02 and TABLE_Z + 0.015 < g.T_world_grasp[2, 3] < TABLE_Z + 0.05
        assert np.linalg.norm(g.T_world_grasp[:2, 3] - XY) < 0.03


def test_a_short_cup_out_of_every_reach_says_which_grasps_are_left_and_why():
    """Deeper still, nothing reaches: the reason names the families that got to the IK and why the other
    was rejected before it, not only the extension the top-down grasps would need."""
    cup = on_table(sample(trimesh.creation.cylinder(0.03, 0.06), (XY[0], XY[1], TABLE_Z)), XY)
    base = base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=0.8)
    plan = plan_grasps(cup, base, CFG, name="cup")
    assert not plan.grasps
    assert re.search(r"arm cannot reach: needs 0\.\d\d m extension, max 0\.52 \(angled/top grasps only; side "
                     r"grasps rejected: collides with the scene \(\d+\)\)$", plan.reason), plan.reason
    near = base_pose_for_reach(np.array([XY[0], XY[1], TABLE_Z]), approach_heading=0.4, arm_m=0.4)
    kinds = [g.kind for g in plan_grasps(cup, near, CFG).grasps]
    assert kinds[0] == "top" and "side" not in kinds


def test_near_repeats_of_a_better_grasp_are_tried_after_the_distinct_ones():
    obj = sample(trimesh.creation.box((0.05, 0.05, 0.08)), (XY[0], XY[1], TABLE_Z))
    best = max(plan_grasps(on_table(obj, XY), _base(), CFG).grasps, key=lambda g: g.score)

    def turned(angle: float, score: float, shift_m: float = 0.0):
        T = best.T_world_grasp.copy()
        T[:3, :3] = T[:3, :3] @ rot_x(angle)  # about the approach axis
        T[0, 3] += shift_m
        return dataclasses.replace(best, T_world_grasp=T, score=score)

    near, other, moved = turned(0.05, best.score - 0.01), turned(0.6, best.score - 0.02), turned(0.0, 0.0, 0.03)
    # 3 degrees turned is the same grasp: tried after 34 degrees turned and after 3 cm along
    assert distinct_first([best, near, other, moved]) == [best, other, moved, near]
    assert distinct_first([near, other]) == [near, other]  # nothing better to repeat


def test_a_bowl_on_a_high_counter_is_held_by_its_rim_pitched_when_from_above_is_past_the_lift():
    """Held-out apartment 9703's red bowl (15 cm, 5.4 cm tall) on a 0.91 m surface: from above, its rim grasp
    needs the lift 1 cm past its limit for the pre-grasp. Pitched 45 degrees down along the rim's tangent
    the lift holds the gripper 0.19 m higher: the wall passes between the fingers coming straight down."""
    from grasp_synth import bowl, plane

    from grasping.object_points import ObjectCloud

    z = 0.915
    xy = np.array([2.0, 1.0])
    pts = sample(bowl(0.077, 0.054), (xy[0], xy[1], z), n=5000)
    cloud = ObjectCloud(points=pts, scene=plane(xy[0], xy[1], z, 1.0, 0.8))
    base = base_pose_for_reach(np.array([xy[0], xy[1], z]), approach_heading=0.3, arm_m=0.3)
    plan = plan_grasps(cloud, base, CFG, name="bowl")
    assert plan.grasps, plan.reason
    assert all(g.kind == "rim" and g.pitched for g in plan.grasps)
    for g in plan.grasps:
        closing = g.T_world_grasp[:3, 1]
        radial = g.T_world_grasp[:2, 3] - xy
        assert abs(closing[2]) < 0.02 and abs(closing[:2] @ radial) / np.linalg.norm(radial) > 0.95  # radial
        assert g.pre_joints.lift_m <= 1.1 and g.from_above
    # the same bowl on a 0.75 m table is held from above, as before
    low = ObjectCloud(points=pts - [0, 0, z - TABLE_Z], scene=plane(xy[0], xy[1], TABLE_Z, 1.0, 0.8))
    base = base_pose_for_reach(np.array([xy[0], xy[1], TABLE_Z]), approach_heading=0.3, arm_m=0.3)
    first = plan_grasps(low, base, CFG, name="bowl").grasps[0]
    assert first.kind == "rim" and first.top_down


def test_grasp_families_can_be_left_out():
    """A wrist that cannot pitch 45 degrees: GraspConfig.families without "angled" proposes no pitched
    grasp (nor pitched rims); a family that does not exist is refused by name."""
    from dataclasses import replace

    from grasping.proposals import object_shape, pitched, propose

    pts = sample(trimesh.creation.cylinder(0.07, 0.05), (XY[0], XY[1], TABLE_Z))
    cloud = on_table(pts, XY)
    shape = object_shape(cloud.points, cloud.scene)
    every = propose(cloud.points, shape, CFG, None)
    assert any(pitched(R) for R in every.rotations) and set(every.kinds) == {0, 1, 2, 3}
    level = propose(cloud.points, shape, replace(CFG, families=("top", "side", "rim")), None)
    assert len(level) and not any(pitched(R) for R in level.rotations) and 3 not in set(level.kinds)
    with pytest.raises(ValueError, match="unknown grasp families"):
        propose(cloud.points, shape, replace(CFG, families=("top", "diagonal")), None)

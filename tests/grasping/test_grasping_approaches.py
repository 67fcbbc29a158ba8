"""Grasps from any side (grasping.approaches): what to park for when no grasp works from the first pose.

Modelled on held-out apartment 9103's purple box (issue 13): a 7 x 5 x 12 cm box on a table with a mug
20 cm in front of it, the base parked 0.8 m away on the mug's side. Top-down grasps are out of reach from
there, the side grasps that face the base sweep through the mug: the plan from that pose is empty. The
approaches proposed from every side include one that comes past the mug, and parking for it works.
"""

from __future__ import annotations

import math

import numpy as np
import trimesh
from grasp_synth import TABLE_Z, mug, on_table, sample

from core.stretch import T_world_headcam, head_look_at
from grasping.approaches import free_approaches
from grasping.config import GraspConfig
from grasping.kinematics import base_pose_for_reach
from grasping.planner import plan_grasps

CFG = GraspConfig()
BOX_XY = np.array([1.85, 2.68])
MUG_XY = np.array([1.63, 2.74])


def _scene():
    box = sample(trimesh.creation.box((0.07, 0.05, 0.12)), (*BOX_XY, TABLE_Z))
    cup = sample(mug(), (*MUG_XY, TABLE_Z), n=3000, seed=1)
    return on_table(box, BOX_XY, extra=cup)


def _front_base():
    """Arm pointing +x at the box from 0.8 m, past the mug (as the base parked in apartment 9103)."""
    return base_pose_for_reach(np.array([*BOX_XY, TABLE_Z]), approach_heading=0.1, arm_m=0.40, top_down=False)


def test_no_grasp_works_from_the_front_but_an_approach_from_another_side_does():
    cloud = _scene()
    base = _front_base()
    # Level and top-down grasps all fail from here (an angled one may come down over the mug).
    assert not [g for g in plan_grasps(cloud, base, CFG, name="box").grasps if g.kind != "angled"]
    camera = T_world_headcam(base, *head_look_at(base, cloud.centroid))[:3, 3]
    approaches = free_approaches(cloud, camera, CFG)
    assert approaches, "the box is free on three sides"
    worked = []
    for a in (a for a in approaches if not a.top_down):
        # Park for it the way navigation does: the arm along the approach heading, a moderate extension.
        here = base_pose_for_reach(a.centre, approach_heading=a.heading, arm_m=0.2, top_down=False)
        if plan_grasps(cloud, here, CFG, name="box", camera_xyz=camera).grasps:
            worked.append(math.degrees(a.heading))
    # ...coming past the mug, not along the blocked front line (heading 0.1 rad).
    assert any(abs(math.remainder(math.radians(h) - 0.1, 2 * math.pi)) > math.radians(20) for h in worked), worked


def test_approaches_never_sweep_through_the_mug_in_front():
    cloud = _scene()
    base = _front_base()
    camera = T_world_headcam(base, *head_look_at(base, cloud.centroid))[:3, 3]
    for a in free_approaches(cloud, camera, CFG):
        if a.top_down:
            continue
        # The pre-grasp 10 cm back along the approach, and the gripper body behind it: none of it near the mug.
        back = a.centre[:2] - np.array([math.cos(a.heading), math.sin(a.heading)]) * np.linspace(0.0, 0.33, 12)[:, None]
        assert np.min(np.linalg.norm(back - MUG_XY, axis=1)) > 0.05, (a.kind, math.degrees(a.heading))


def test_an_object_without_a_free_grasp_has_no_approach():
    """A box wider than the opening from every side: nothing to park for (the failure stays a grasp one)."""
    wide = sample(trimesh.creation.box((0.3, 0.3, 0.1)), (*BOX_XY, TABLE_Z))
    cloud = on_table(wide, BOX_XY)
    base = _front_base()
    camera = T_world_headcam(base, *head_look_at(base, cloud.centroid))[:3, 3]
    assert free_approaches(cloud, camera, CFG) == []


def _seen_surface(mesh: trimesh.Trimesh, xyz, camera: np.ndarray, n: int = 5000) -> np.ndarray:
    """Surface points of `mesh` standing at `xyz` on the faces turned towards `camera` (a one-sided view)."""
    m = mesh.copy()
    m.apply_translation(np.asarray(xyz, float) - [0, 0, m.bounds[0, 2]])
    pts, face = trimesh.sample.sample_surface_even(m, n, seed=3)
    facing = np.einsum("ij,ij->i", m.face_normals[face], camera - pts) > 0
    return pts[facing].astype(np.float32)


def test_a_tall_box_turned_on_a_counter_is_held_across_its_thin_side_from_one_sided_view():
    """Apartment 9514's cracker box (issue 13): 16 x 7 x 21 cm, turned 40 deg, seen from the front only (one
    long face and one short face). Between the pads only the long face was seen, so every side grasp seemed
    to hold its edge and the top-down grasps were out of lift range: no approach at all. The guessed far side
    counts in the width, and approaches along the box's axes are proposed, so the thin side is grasped."""
    box = trimesh.creation.box((0.164, 0.069, 0.21))
    box.apply_transform(trimesh.transformations.rotation_matrix(math.radians(140), [0, 0, 1]))
    base = base_pose_for_reach(np.array([*BOX_XY, TABLE_Z + 0.1]), approach_heading=math.pi / 2, arm_m=0.3,
                               top_down=False)
    camera = T_world_headcam(base, *head_look_at(base, np.array([*BOX_XY, TABLE_Z + 0.1])))[:3, 3]
    cloud = on_table(_seen_surface(box, (*BOX_XY, TABLE_Z), camera), BOX_XY)
    sides = [a for a in free_approaches(cloud, camera, CFG) if not a.top_down]
    thin = [a for a in sides if min(abs(math.remainder(a.heading - math.radians(140), math.pi)),
                                    abs(math.remainder(a.heading - math.radians(140) - math.pi, math.pi))) < 0.1]
    assert thin, [round(math.degrees(a.heading)) for a in sides]
    here = base_pose_for_reach(thin[0].centre, approach_heading=thin[0].heading, arm_m=0.2, top_down=False)
    plan = plan_grasps(cloud, here, CFG, name="box", camera_xyz=camera)
    assert plan.grasps, plan.reason
    side = [g for g in plan.grasps if g.kind == "side"]
    assert side and abs(side[0].width_m - 0.069) < 0.012

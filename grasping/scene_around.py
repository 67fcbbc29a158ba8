"""The scene around the object and along the arm's way, for pick and place (grasping.execute): the lift the
arm extends at over what lies between the base and the object or the place spot, and the map's occupied
voxels near the object (for the way back, and where the head camera did not see, for the grasp planner).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from core.stretch import STRETCH, T_world_grasp
from grasping.config import PickConfig
from grasping.object_points import ObjectCloud
from grasping.place import HeldObject, PlaceTarget
from grasping.planner import Grasp


def place_travel_lift(target: PlaceTarget, held: HeldObject, points: np.ndarray, config: PickConfig) -> float:
    """Lift at which the arm extends the held object over the scene to above the place spot: the object's
    bottom clears what lies along the arm's way (a sofa's armrest, a counter's edge) and the gripper stays
    under a shelf board above the spot. Never higher than needed, so it fits between shelf boards."""
    pre, base = target.pre_joints, target.solution.base_pose
    bottom = T_world_grasp(base, pre)[2, 3] - held.below_grasp_m
    reach_up = held.below_grasp_m + (config.gripper_height_m if held.top_down else
                                     held.gripper_above_m() if held.angled else 0.1)
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if len(pts) == 0:
        return float(pre.lift_m)
    rel = pts[:, :2] - base.xy
    g = np.asarray(target.T_world_grasp[:2, 3]) - base.xy
    along = rel @ g / max(float(np.linalg.norm(g)) ** 2, 1e-9)
    lateral = np.abs(rel @ np.array([-g[1], g[0]])) / max(float(np.linalg.norm(g)), 1e-9)
    path = (along > 0.1) & (along < 1.0) & (lateral < held.radius_m + 0.05)
    # What is lower than halfway up the held object and gripper is cleared by lifting; what is higher is
    # overhead (a shelf board) and the gripper must stay under it.
    below = pts[:, 2] < bottom + 0.5 * reach_up
    need = (float(pts[path & below, 2].max()) + 0.03 - bottom) if np.any(path & below) else 0.0
    over = path & ~below
    if np.any(over):
        need = min(need, float(pts[over, 2].min()) - 0.02 - (bottom + reach_up))
    return float(min(pre.lift_m + max(need, 0.0), STRETCH.limits.lift_m[1]))


def travel_lift(grasp: Grasp, cloud: ObjectCloud, config: PickConfig) -> float:
    """Lift at which the open gripper can extend over the scene to the pre-grasp (at most the lift's top)."""
    return min(travel_need(grasp, cloud, config), STRETCH.limits.lift_m[1])


def travel_need(grasp: Grasp, cloud: ObjectCloud, config: PickConfig) -> float:
    """Lift at which the open gripper would extend over the scene to the pre-grasp, uncapped: above the lift's
    range, what stands before the object (a cup in front of a lemon on a high counter: 10610:0) is in the
    way of every extension from above."""
    pre = grasp.pre_joints
    if not grasp.from_above:  # level approaches travel at grasp height: their sweep was checked
        return float(pre.lift_m)
    lo_tip = T_world_grasp(grasp.solution.base_pose, pre)[2, 3]
    if not grasp.top_down:  # a horizontal gripper's lowest point: its pads, half their height below
        lo_tip -= config.grasp.gripper.finger_height_m / 2
    pts = np.concatenate([cloud.scene, cloud.points]) if len(cloud.scene) else cloud.points
    # Only what lies between the base and the grasp matters for the extension.
    base = grasp.solution.base_pose
    rel = pts[:, :2] - base.xy
    g = grasp.T_world_grasp[:2, 3] - base.xy
    along = rel @ g / max(np.linalg.norm(g) ** 2, 1e-9)
    lateral = np.abs(rel @ np.array([-g[1], g[0]])) / max(np.linalg.norm(g), 1e-9)
    path = (along > 0.1) & (along < 1.05) & (lateral < 0.12)
    # Overhead structure (a shelf board above) is no obstacle to extending below it...
    below = pts[:, 2] < lo_tip + config.gripper_height_m
    top = float(pts[path & below, 2].max()) if np.any(path & below) else -np.inf
    need = top + config.safe_lift_margin_m * 0.5 - lo_tip
    # ...but the raised gripper and arm must stay under it (the pre-grasp itself was checked clear of it).
    over = path & ~below
    if np.any(over):
        need = min(need, float(pts[over, 2].min()) - 0.02 - (lo_tip + config.gripper_height_m))
    return float(max(pre.lift_m, pre.lift_m + need))


def map_near(cloud: ObjectCloud, obstacles: np.ndarray | None, radius_m: float) -> np.ndarray:
    """`obstacles` (world points) within `radius_m` of the object (x, y), less those inside the object's own
    box grown by 2 cm (the map holds the object too)."""
    if obstacles is None or len(obstacles) == 0:
        return np.zeros((0, 3), np.float32)
    pts = np.asarray(obstacles, np.float32).reshape(-1, 3)
    lo, hi = cloud.points.min(axis=0) - 0.02, cloud.points.max(axis=0) + 0.02
    own = np.all((pts >= lo) & (pts <= hi), axis=1)
    near = np.linalg.norm(pts[:, :2] - cloud.centroid[:2], axis=1) < radius_m
    return pts[near & ~own]


def way_back_points(cloud: ObjectCloud, obstacles: np.ndarray | None, radius_m: float = 1.0) -> np.ndarray:
    """Scene points for planning the way back: the camera's, plus the map's `obstacles` near the object."""
    return np.concatenate([np.asarray(cloud.scene, np.float32).reshape(-1, 3), map_near(cloud, obstacles, radius_m)])


def unseen_obstacles(cloud: ObjectCloud, obstacles: np.ndarray | None, radius_m: float = 1.0,
                     explained_m: float = 0.05, voxel_m: float = 0.05) -> np.ndarray:
    """The map's `obstacles` near the object that no scene point of the camera lies within `explained_m` of:
    what the head camera did not see from where it looked (the side panel of a shelf the arm extends past,
    the object seen from afar: 10601:2, 10644:0). The grasp planner checks them as coarse points (voxel
    centres); where the camera saw, its finer points stand alone. The object's own voxels are left out: those
    within its seen points' box grown by half a voxel, and sideways by its seen width more (the map holds the
    far side the camera does not see from here: a mug's back on a high shelf, 10626:1)."""
    extra = map_near(cloud, obstacles, radius_m)
    lo, hi = cloud.points.min(axis=0), cloud.points.max(axis=0)
    grow = np.full(3, 0.5 * voxel_m)
    grow[:2] += float((hi - lo)[:2].max())
    extra = extra[~np.all((extra >= lo - grow) & (extra <= hi + grow), axis=1)]
    scene = np.asarray(cloud.scene, np.float32).reshape(-1, 3)
    if len(extra) and len(scene):
        d, _ = cKDTree(scene).query(extra, distance_upper_bound=explained_m)
        extra = extra[~np.isfinite(d)]
    return extra

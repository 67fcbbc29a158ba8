"""Where to put the held object: a free, reachable spot on the receptacle's support surface.

1. Support surfaces: repeated RANSAC plane fits (open3d segment_plane) on the receptacle's points, keeping
   near-horizontal planes (a table top, a counter, each shelf board that was seen).
2. Each surface is rasterised on a grid; a cell is a candidate when it lies at least `edge_margin_m` inside
   the seen surface (distance transform) and no point rises above the plane within the clearance radius
   (other objects, the board above on a shelf only if it is lower than the gripper needs).
3. Candidates are tried best first (far from edges and objects, near the arm's comfortable reach) through
   the IK with the given base pose; the first reachable one is the place target. The release pose holds the
   object `release_height_m` above the surface, with the gripper pointing down (or horizontal for objects
   that were grasped from the side, so they stay upright).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace

import numpy as np
import open3d as o3d
from scipy import ndimage

from core.errors import OvmmError
from core.geometry import rot_z
from core.stretch import STRETCH, T_base_grasp, T_world_grasp
from core.types import JointState, Pose2D
from grasping.collision import arm_collides, gripper_boxes, sweep_hits
from grasping.config import GripperModel, IKConfig, PlaceConfig, gripper_top_above_grasp
from grasping.kinematics import LIMITS, ArmSolution, pregrasp_joints, reach_distance, solve_ik
from grasping.object_points import voxel_down

log = logging.getLogger(__name__)


class NoPlaceError(OvmmError):
    """No free, reachable spot on the receptacle. `free_spots`: free spots (K, 3) that the arm could not
    reach from this base pose, nearest to the base first and at least `PlaceConfig.spot_spacing_m` apart
    (drive closer to one of them and try again); `free_spot`: the first of them, or None."""

    def __init__(self, message: str, free_spots: np.ndarray | None = None) -> None:
        super().__init__(message)
        spots = np.zeros((0, 3)) if free_spots is None else np.asarray(free_spots, dtype=float).reshape(-1, 3)
        self.free_spots = spots
        self.free_spot = spots[0].copy() if len(spots) else None


@dataclass
class SupportSurface:
    z: float  # plane height at its inliers' centroid
    normal: np.ndarray  # unit (3,), z > 0
    inliers: np.ndarray  # (M, 3) points on the plane

    def height_at(self, xy: np.ndarray) -> np.ndarray:
        c = self.inliers.mean(axis=0)
        n = self.normal
        return c[2] - ((np.asarray(xy) - c[:2]) @ n[:2]) / n[2]


@dataclass
class HeldObject:
    """What the gripper holds, measured at pick time."""

    below_grasp_m: float  # object's bottom below the grasp centre
    radius_m: float  # half of the footprint's larger extent
    top_down: bool = True  # grasped with the gripper pointing down
    centre_in_grasp: np.ndarray | None = None
    """(3,) the object's footprint centre in the grasp frame at pick time (a plate held by its rim sits
    ~12 cm off the grasp centre); the place spot is where this centre goes. None: at the grasp centre."""
    height_m: float | None = None
    """The object's height (bottom to top) measured at pick time; None: unknown."""
    pitch_rad: float | None = None
    """The wrist pitch of an angled grasp (neither pointing down nor level; core.stretch's
    ANGLED_WRIST_PITCH): released at the same pitch and `roll_rad`, so the object stands on the surface as
    it stood when picked. None for top-down and level grasps."""
    roll_rad: float = 0.0
    on_side: bool = False
    """Held from above, the wrist then pitched level (laid_on_side): it goes down on its side, and its
    footprint's centre keeps its radius (half its height, along the arm) from the surface's edges."""

    @property
    def angled(self) -> bool:
        return self.pitch_rad is not None

    @property
    def reach_mode(self) -> str:
        """navigation.base_goal's reach mode of the wrist posture it is released in."""
        return "down" if self.top_down else "angled" if self.angled else "straight"

    @property
    def wrist_pitch(self) -> float:
        return LIMITS.wrist_pitch[0] if self.top_down else 0.0 if self.pitch_rad is None else float(self.pitch_rad)

    def gripper_above_m(self) -> float:
        """From the fingertips to the arm's top in the posture it is released in."""
        return gripper_top_above_grasp(self.wrist_pitch)

    def protrusion_m(self, joints: JointState) -> float:
        """How far the held object's footprint sticks out of the base's rectangle with the arm at `joints`."""
        out = self.outline_in_base(joints)
        (x0, x1), (y0, y1) = STRETCH.base_x_m, STRETCH.base_y_m
        dx = np.maximum(np.maximum(x0 - out[:, 0], out[:, 0] - x1), 0.0)
        dy = np.maximum(np.maximum(y0 - out[:, 1], out[:, 1] - y1), 0.0)
        return float(np.max(np.hypot(dx, dy)))

    def tucked_wrist_yaw(self, joints: JointState, samples: int = 24, gain_m: float = 0.05,
                         above_base_m: float = 0.03) -> float | None:
        """For carrying an angled hold (which the pitched wrist holds 0.32 m out from the base's centre with
        the arm in): the wrist yaw, within its limits, that tucks the object farthest in over the base (the
        gripper turned back along the base), its bottom at least `above_base_m` over the base's top; None
        when no yaw brings it `gain_m` further in than it is, or for other holds (pointing down or level,
        the wrist stows as before)."""
        if not self.angled:
            return None
        now = self.protrusion_m(joints)
        lo, hi = LIMITS.wrist_yaw
        best, best_yaw = now - gain_m, None
        for yaw in np.linspace(lo + 0.05, hi - 0.05, samples):
            j = replace(joints, wrist_yaw=float(yaw))
            if float(T_base_grasp(j)[2, 3]) - self.below_grasp_m < STRETCH.base_height_m + above_base_m:
                continue
            p = self.protrusion_m(j)
            if p < best - 1e-9:
                best, best_yaw = p, float(yaw)
        return best_yaw

    def laid_on_side(self) -> HeldObject | None:
        """The object as the gripper holds it after pitching the wrist from pointing down to level (the grip
        unchanged): what hung below the grasp now points out along the arm, and the object is put down on its
        side. A release for a surface the pitched-down wrist cannot reach (a shelf board with the next board
        0.4 m above, a counter above the lift's reach less the hanging object). In the grasp frame (x along
        the approach, z up once level) the object spans x from its top to `below_grasp_m` and a disc of
        `radius_m` about `centre_in_grasp` across it, so its lowest point is `radius_m - centre_z` below the
        grasp centre and its footprint's centre lies mid-height along x. None for a side grasp (already level)
        or when the object's height is unknown."""
        if not self.top_down or self.angled or self.height_m is None:
            return None
        c = np.zeros(3) if self.centre_in_grasp is None else np.asarray(self.centre_in_grasp, dtype=float)
        h = float(self.height_m)
        return HeldObject(below_grasp_m=float(self.radius_m - c[2]), radius_m=float(max(self.radius_m, 0.5 * h)),
                          top_down=False, centre_in_grasp=np.array([self.below_grasp_m - 0.5 * h, c[1], c[2]]),
                          height_m=float(2.0 * self.radius_m), on_side=True)

    def outline_in_base(self, joints: JointState, samples: int = 16) -> np.ndarray:
        """(samples, 2) base-frame points around the held object's footprint (a circle of `radius_m` about
        its centre) with the arm at `joints`: where it sticks out of the base while the robot carries it."""
        c = np.zeros(3) if self.centre_in_grasp is None else np.asarray(self.centre_in_grasp, dtype=float)
        T = T_base_grasp(joints)
        centre = T[:2, :3] @ c + T[:2, 3]
        a = np.linspace(0.0, 2 * math.pi, samples, endpoint=False)
        return centre + self.radius_m * np.stack([np.cos(a), np.sin(a)], axis=1)


@dataclass
class PlaceTarget:
    point: np.ndarray  # (3,) on the surface
    surface: SupportSurface
    T_world_grasp: np.ndarray  # gripper pose at release
    solution: ArmSolution
    pre_joints: JointState  # above / in front of the release pose
    edge_distance_m: float
    clearance_m: float


def support_surfaces(points: np.ndarray, cfg: PlaceConfig | None = None, max_planes: int = 5) -> list[SupportSurface]:
    """Near-horizontal planes in the points, largest first."""
    cfg = cfg or PlaceConfig()
    pts = voxel_down(np.asarray(points, dtype=np.float32).reshape(-1, 3), cfg.voxel_m)
    out: list[SupportSurface] = []
    rest = pts
    for _ in range(max_planes * 2):
        if len(rest) < cfg.min_plane_points:
            break
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(rest.astype(np.float64)))
        # Deterministic RANSAC: a fixed seed, and probability 1 so that all iterations run. open3d samples in
        # parallel threads and, by default, stops early once its confidence is reached; which sample the
        # threads had drawn by then depends on their timing, so the plane changed from one run to the next.
        o3d.utility.random.seed(0)
        model, idx = pcd.segment_plane(cfg.plane_distance_m, 3, cfg.plane_iterations, probability=1.0)
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) < cfg.min_plane_points:
            break
        n = np.asarray(model[:3], dtype=float)
        n = n / np.linalg.norm(n)
        if n[2] < 0:
            n = -n
        inl = rest[idx]
        rest = np.delete(rest, idx, axis=0)
        if math.acos(min(1.0, n[2])) <= cfg.max_normal_tilt_rad:
            # A plane may be two boards at the same height: keep the largest connected part only.
            out.append(SupportSurface(float(inl[:, 2].mean()), n, inl))
            if len(out) >= max_planes:
                break
    out.sort(key=lambda s: -len(s.inliers))
    return out


def _grid(surface: SupportSurface, others: np.ndarray, cfg: PlaceConfig, gripper_height_m: float):
    """Candidate cells: (xy (C, 2), edge distance (C,), clearance (C,))."""
    g = cfg.grid_m
    xy = surface.inliers[:, :2]
    lo = xy.min(axis=0) - 2 * g
    shape = np.ceil((xy.max(axis=0) + 2 * g - lo) / g).astype(int) + 1
    occ = np.zeros(shape, dtype=bool)
    ij = np.floor((xy - lo) / g).astype(int)
    occ[ij[:, 0], ij[:, 1]] = True
    occ = ndimage.binary_closing(occ, iterations=2) | occ
    edge = ndimage.distance_transform_edt(occ) * g
    blocked = np.zeros(shape, dtype=bool)
    if len(others):
        h = others[:, 2] - surface.height_at(others[:, :2])
        above = others[(h > cfg.above_plane_m) & (h < gripper_height_m)]
        oij = np.floor((above[:, :2] - lo) / g).astype(int)
        ok = np.all((oij >= 0) & (oij < shape), axis=1)
        blocked[oij[ok, 0], oij[ok, 1]] = True
    clear = ndimage.distance_transform_edt(~blocked) * g if blocked.any() else np.full(shape, 10.0)
    ii, jj = np.nonzero(occ)
    cxy = lo + (np.stack([ii, jj], axis=1) + 0.5) * g
    return cxy, edge[ii, jj], clear[ii, jj]


def _release_pose(point: np.ndarray, base: Pose2D, held: HeldObject, cfg: PlaceConfig) -> np.ndarray:
    T = np.eye(4)
    c, s = math.cos(base.theta), math.sin(base.theta)
    if held.angled:  # the wrist pitched and rolled as at the pick, the arm straight
        T[:3, :3] = rot_z(base.theta) @ T_base_grasp(JointState(lift_m=0.0, wrist_pitch=float(held.pitch_rad),
                                                                wrist_roll=held.roll_rad))[:3, :3]
    elif held.top_down:
        T[:3, 0], T[:3, 1] = (0.0, 0.0, -1.0), (c, s, 0.0)
        T[:3, 2] = np.cross(T[:3, 0], T[:3, 1])
    else:  # horizontal, along the arm (base -y), closing horizontal
        T[:3, 0], T[:3, 1] = (s, -c, 0.0), (c, s, 0.0)
        T[:3, 2] = np.cross(T[:3, 0], T[:3, 1])
    T[:3, 3] = point + np.array([0.0, 0.0, held.below_grasp_m + cfg.release_height_m])
    if held.centre_in_grasp is not None:  # put the object's centre, not the grasp centre, on the spot
        off = T[:3, :3] @ np.asarray(held.centre_in_grasp, dtype=float)
        T[:2, 3] -= off[:2]
    return T


def _gripper_hits(solution: ArmSolution, pre: JointState, points: np.ndarray, gripper: GripperModel,
                  config: PlaceConfig) -> bool:
    """Does the open gripper, moving from the pre-release to the release pose, or the arm at the release
    pose or at the pre-release pose (where it extends, a little higher: under a shelf's board above) touch
    any of the points?"""
    if len(points) == 0:
        return False
    T = solution.T_world_grasp
    pre_T = T_world_grasp(solution.base_pose, pre)
    boxes, _ = gripper_boxes(gripper)
    hit = sweep_hits(points, T[:3, 3][None], T[:3, :3][None], (T[:3, 3] - pre_T[:3, 3])[None], boxes,
                     config.gripper_margin_m)
    return (bool(hit.any()) or arm_collides(solution, points, config.gripper_margin_m)
            or arm_collides(replace(solution, joints=pre), points, config.gripper_margin_m))


def choose_place(receptacle_points: np.ndarray, base: Pose2D, held: HeldObject,
                 scene_points: np.ndarray | None = None, config: PlaceConfig | None = None,
                 ik_config: IKConfig | None = None, name: str = "receptacle", max_tries: int = 60,
                 gripper: GripperModel | None = None, above_points: np.ndarray | None = None) -> PlaceTarget:
    """A reachable, free spot on the receptacle's best support surface, with the release pose and IK.

    With `gripper`, a spot is also refused when the open gripper, lowered from the pre-release pose to the
    release pose, or the arm at the release pose would touch the scene (a sofa's armrest next to the spot,
    the board above on a shelf); points within `robot_exclusion_m` of the base (the robot and what it holds)
    are left out of that check. `above_points` (world points, e.g. the map's occupied voxels above the
    receptacle's surfaces) join that check only: the gripper and arm clear what the map saw there too.

    Raises NoPlaceError naming the receptacle and why (no horizontal surface, no free spot, out of reach).
    """
    config = config or PlaceConfig()
    ik_config = ik_config or IKConfig()
    surfaces = support_surfaces(receptacle_points, config)
    if not surfaces:
        raise NoPlaceError(f"no horizontal support surface found on {name} "
                           f"({len(receptacle_points)} points, need a plane of {config.min_plane_points})")
    others = np.zeros((0, 3), np.float32) if scene_points is None else np.asarray(scene_points, np.float32)
    others = np.concatenate([others, np.asarray(receptacle_points, np.float32)])
    margin = max(config.clearance_radius_m, held.radius_m + 0.03)
    obstacles = others[np.hypot(others[:, 0] - base.x, others[:, 1] - base.y) > config.robot_exclusion_m]
    above = np.zeros((0, 3), np.float32)
    if above_points is not None and len(above_points):
        # What the map knows above the receptacle (a shelf board the head camera does not see from here)
        # joins the gripper and arm check, never the free-spot grid (its voxels are coarser than the surface).
        above = np.asarray(above_points, np.float32).reshape(-1, 3)
        r = np.hypot(above[:, 0] - base.x, above[:, 1] - base.y)
        above = above[(r > config.robot_exclusion_m) & (r < config.robot_exclusion_m + LIMITS.arm_m[1] + 0.6)]
    reasons = []
    spots: list[np.ndarray] = []  # free spots of every surface with room, reachable from here or not
    for surf in surfaces:
        # Points of the receptacle above this surface (a shelf board) block only below the gripper's reach.
        gripper_h = held.below_grasp_m + config.release_height_m + (
            0.35 if held.top_down else 0.15 if held.angled else 0.08)  # angled: the body rises behind the spot
        cxy, edge, clear = _grid(surf, others, config, gripper_h)
        edge_need = max(config.edge_margin_m, held.radius_m - 0.02) if held.on_side else config.edge_margin_m
        ok = (edge >= edge_need) & (clear >= margin)
        if not np.any(ok):
            reasons.append(f"surface at {surf.z:.2f} m has no spot {edge_need:.2f} m from its edges "
                           f"and {margin:.2f} m from other objects")
            continue
        cxy, edge, clear = cxy[ok], edge[ok], clear[ok]
        d = np.linalg.norm(cxy - base.xy, axis=1)
        spots.extend(np.array([cxy[k, 0], cxy[k, 1], float(surf.height_at(cxy[k]))]) for k in np.argsort(d)[:400])
        over = above
        if len(above):  # over the surface (and a gripper's width around it), up to the gripper's top
            lo, hi = surf.inliers[:, :2].min(axis=0) - 0.15, surf.inliers[:, :2].max(axis=0) + 0.15
            h = above[:, 2] - surf.height_at(above[:, :2])
            over = above[(h > config.map_above_m) & (h < gripper_h + 0.15)
                         & np.all((above[:, :2] >= lo) & (above[:, :2] <= hi), axis=1)]
        surf_obstacles = np.concatenate([obstacles, over]) if len(over) else obstacles
        # Prefer spots where the arm is at mid extension, then far from edges and objects.
        reach_pref = -np.abs(d - reach_distance(0.5 * LIMITS.arm_m[1], held.top_down))
        score = reach_pref + 0.5 * np.minimum(edge, 0.2) + 0.3 * np.minimum(clear, 0.2)
        last = ""
        for k in np.argsort(-score)[:max_tries]:
            p = np.array([cxy[k, 0], cxy[k, 1], float(surf.height_at(cxy[k]))])
            T = _release_pose(p, base, held, config)
            r = solve_ik(T, base, ik_config, symmetric=not held.angled)  # an angled hold keeps its roll
            if r.ok:
                pre = pregrasp_joints(r.solution, config.release_height_m + 0.04, held.top_down or held.angled)
                if gripper is not None and _gripper_hits(r.solution, pre, surf_obstacles, gripper, config):
                    last = "the gripper or arm would touch the scene above the free spots"
                    continue
                log.debug("%s: place at %s (edge %.2f m, clear %.2f m)", name, p.round(3), edge[k], clear[k])
                return PlaceTarget(p, surf, r.solution.T_world_grasp, r.solution, pre, float(edge[k]),
                                   float(min(clear[k], 10.0)))
            last = r.reason
        reasons.append(f"surface at {surf.z:.2f} m: no free spot is reachable ({last})")
    raise NoPlaceError(f"cannot place on {name}: " + "; ".join(reasons), _spread(spots, base, config))


def _spread(spots: list[np.ndarray], base: Pose2D, config: PlaceConfig) -> np.ndarray:
    """Up to `config.max_free_spots` of the free spots, nearest to the base first, each at least
    `config.spot_spacing_m` from those kept before it."""
    if not spots:
        return np.zeros((0, 3))
    pts = np.stack(spots)
    order = np.argsort(np.linalg.norm(pts[:, :2] - base.xy, axis=1), kind="stable")
    kept: list[np.ndarray] = []
    for k in order:
        if all(np.linalg.norm(pts[k, :2] - q[:2]) >= config.spot_spacing_m for q in kept):
            kept.append(pts[k])
            if len(kept) >= config.max_free_spots:
                break
    return np.stack(kept)

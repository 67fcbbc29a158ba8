"""Pick-and-place episodes and their ground-truth feasibility (the checks in a running world: sim.scoring).

An episode asks the robot to move one object onto a different receptacle: "put the red coffee mug on the
brown wooden table" ("in the sink" for sinks). `make_episodes` only picks pairs that are feasible by
ground truth: the object and a free spot on the receptacle are both reachable by the Stretch's arm from a
collision-free base pose (free space of the ground-truth occupancy grid, in the robot start's component),
and the receptacle has a free spot big enough for the object.

Reach uses core.stretch's FK: the grasp centre can be at a point if some wrist yaw/pitch (side grasp,
45 degrees down or top-down) puts it there with lift in [0, 1.1] m and arm extension in [0, 0.52] m.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.stretch import STRETCH, T_base_grasp, wrist_yaw_axis_base
from core.types import JointState, Pose2D
from sim.scene.ground_truth import Grid, component_at, free_components, occupancy_grid_full
from sim.scene.objects import load_object_mesh
from sim.scene.spec import ObjectSpec, ReceptacleSpec, SceneSpec

REACH_TOL_M = 0.03
_SPOT_MARGIN_M = 0.03
# What the gripper can hold sideways (grasping.config's gripper model; tests/sim checks they agree): a
# horizontal gripper's body hangs 4.7 cm below the pads' centre and the 4 cm pads must be covered by the
# object, so shorter objects (a banana lying flat, a plate) and ones wider than the 12 cm opening (a bowl)
# can only be picked from above, which needs their top within the pitched-down wrist's lift range.
SIDE_GRASP_MIN_HEIGHT_M = 0.075
SIDE_GRASP_MAX_WIDTH_M = 0.108
TOP_DOWN_CLEARANCE_M = 0.03
# Episodes leave the robot some slack: the object (and a place spot) must be reachable with the arm and lift
# 5 cm inside their limits, within 1 cm (the planner on the scanned map keeps 4 cm from the limits too).
EPISODE_MARGIN_M = 0.05
EPISODE_TOL_M = 0.01
EPISODE_ROBOT_RADIUS_M = STRETCH.base_radius_m + 0.02  # the base's free space as the planner inflates it
PITCHES_ALL = (0.0, -math.pi / 4, -math.pi / 2)
PITCH_DOWN_ONLY = (-math.pi / 2,)


@dataclass(frozen=True)
class Episode:
    """One task: move `object_id` onto `receptacle_id` in the scene at `scene_path`."""

    scene_path: str
    object_id: str
    receptacle_id: str
    request: str

    def to_dict(self) -> dict:
        return {"scene_path": self.scene_path, "object_id": self.object_id, "receptacle_id": self.receptacle_id,
                "request": self.request}

    @classmethod
    def from_dict(cls, d: dict) -> Episode:
        try:
            return cls(str(d["scene_path"]), str(d["object_id"]), str(d["receptacle_id"]), str(d["request"]))
        except KeyError as exc:
            raise InputError(f"episode entry is missing the field {exc.args[0]!r}") from None


def request_text(obj: ObjectSpec, rec: ReceptacleSpec) -> str:
    prep = "in" if rec.label.lower() == "sink" else "on"
    return f"put the {obj.description} {prep} the {rec.description}"


# --- reach -------------------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _grasp_offsets(pitches: tuple[float, ...] = PITCHES_ALL) -> np.ndarray:
    """(K, 3) grasp-centre offsets from the wrist-yaw axis (base frame) over wrist yaw x pitch choices."""
    w0 = wrist_yaw_axis_base(0.0, 0.0)
    lim = STRETCH.limits
    out = []
    for pitch in pitches:
        for yaw in np.linspace(lim.wrist_yaw[0], lim.wrist_yaw[1], 32):
            p = T_base_grasp(JointState(lift_m=0.0, arm_m=0.0, wrist_yaw=float(yaw), wrist_pitch=pitch))[:3, 3]
            out.append(p - w0)
    return np.asarray(out)


def reachable_in_base(p_base: np.ndarray, tol_m: float = REACH_TOL_M,
                      pitches: tuple[float, ...] = PITCHES_ALL, margin_m: float = 0.0) -> np.ndarray:
    """For (N, 3) points in base frames: can the grasp centre reach each (bool (N,)) with one of `pitches`,
    keeping arm extension and lift `margin_m` inside their limits?"""
    p = np.asarray(p_base, dtype=float).reshape(-1, 3)
    w0 = wrist_yaw_axis_base(0.0, 0.0)
    lim = STRETCH.limits
    need = p[:, None, :] - w0 - _grasp_offsets(tuple(pitches))[None]  # = (0, -arm, lift) if reachable
    arm = np.clip(-need[..., 1], lim.arm_m[0] + margin_m, lim.arm_m[1] - margin_m)
    lift = np.clip(need[..., 2], lim.lift_m[0] + margin_m, lim.lift_m[1] - margin_m)
    err = np.sqrt(need[..., 0] ** 2 + (need[..., 1] + arm) ** 2 + (need[..., 2] - lift) ** 2)
    return (err <= tol_m).any(axis=1)


def point_reachable_from(base: Pose2D, xyz_world, tol_m: float = REACH_TOL_M) -> bool:
    T = np.linalg.inv(base.as_matrix())
    p = T[:3, :3] @ np.asarray(xyz_world, dtype=float) + T[:3, 3]
    return bool(reachable_in_base(p[None], tol_m)[0])


class ReachOracle:
    """Ground-truth reachability for a scene: free base cells (disc robot) connected to the robot start."""

    def __init__(self, spec: SceneSpec, resolution_m: float = 0.05, robot_radius_m: float = STRETCH.base_radius_m) -> None:
        self.spec = spec
        self.grid: Grid = occupancy_grid_full(spec, resolution_m)
        labels = free_components(self.grid, robot_radius_m)
        start = component_at(self.grid, labels, spec.robot_start.xy)
        self.free_xy = self.grid.cell_to_world(np.argwhere(labels == start)) if start else np.zeros((0, 2))

    def base_pose_for(self, xyz_world, pitches: tuple[float, ...] = PITCHES_ALL, tol_m: float = REACH_TOL_M,
                      margin_m: float = 0.0) -> Pose2D | None:
        """A free base pose from which the grasp centre reaches the point (with one of `pitches`, joints
        `margin_m` inside their limits, within `tol_m`), or None."""
        target = np.asarray(xyz_world, dtype=float)
        if len(self.free_xy) == 0:
            return None
        d = np.hypot(*(self.free_xy - target[:2]).T)
        near = (d < 1.0) & (d > 0.2)
        cand = self.free_xy[near]
        for dtheta in (0.0, -0.3, 0.3, -0.6, 0.6):
            theta = np.arctan2(target[1] - cand[:, 1], target[0] - cand[:, 0]) + math.pi / 2 + dtheta
            c, s = np.cos(theta), np.sin(theta)
            dx, dy = target[0] - cand[:, 0], target[1] - cand[:, 1]
            p = np.stack([c * dx + s * dy, -s * dx + c * dy, np.full(len(cand), target[2])], axis=1)
            ok = np.nonzero(reachable_in_base(p, tol_m, pitches, margin_m))[0]
            if len(ok):
                k = ok[np.argmin(np.abs(d[near][ok] - 0.7))]
                return Pose2D(float(cand[k, 0]), float(cand[k, 1]), float(theta[k]))
        return None


# --- episode generation ------------------------------------------------------------------------------
def _footprint_radius(obj: ObjectSpec, base_dir) -> tuple[float, float]:
    mesh = load_object_mesh(obj, base_dir)
    ext = mesh.bounds[1] - mesh.bounds[0]
    return 0.5 * math.hypot(ext[0], ext[1]), float(ext[2])


def _object_bounds(obj: ObjectSpec, base_dir) -> tuple[np.ndarray, np.ndarray, float]:
    """World-axis bounds (lo, hi) of the object as placed, and its narrowest horizontal width."""
    mesh = load_object_mesh(obj, base_dir)
    x, y, z, w = obj.quat_xyzw
    R = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    v = np.asarray(mesh.vertices) @ R.T + np.asarray(obj.position, dtype=float)
    a = np.linspace(0.0, math.pi, 36, endpoint=False)
    proj = v[:, :2] @ np.stack([np.cos(a), np.sin(a)])
    return v.min(axis=0), v.max(axis=0), float((proj.max(axis=0) - proj.min(axis=0)).min())


def pick_reachable(oracle: ReachOracle, obj: ObjectSpec) -> bool:
    """Can the Stretch pick the object where it stands: sideways (tall and narrow enough) at its centre, or
    from above with the pitched-down wrist's grasp centre just over its top?"""
    lo, hi, width = _object_bounds(obj, oracle.spec.base_dir)
    ext, centre = hi - lo, 0.5 * (lo + hi)
    slack = {"tol_m": EPISODE_TOL_M, "margin_m": EPISODE_MARGIN_M}
    if ext[2] >= SIDE_GRASP_MIN_HEIGHT_M and width <= SIDE_GRASP_MAX_WIDTH_M and oracle.base_pose_for(centre, **slack):
        return True
    top = np.array([centre[0], centre[1], hi[2] + TOP_DOWN_CLEARANCE_M])
    return oracle.base_pose_for(top, pitches=PITCH_DOWN_ONLY, **slack) is not None


def free_spots(spec: SceneSpec, rec: ReceptacleSpec, radius_m: float, step_m: float = 0.05,
               sizes: dict[str, tuple[float, float]] | None = None) -> np.ndarray:
    """(N, 3) world points (x, y, z_top) on the receptacle's surfaces where a disc of `radius_m` is clear of objects."""
    sizes = sizes or {o.id: _footprint_radius(o, spec.base_dir) for o in spec.objects}
    others = np.array([(o.position[0], o.position[1], sizes[o.id][0]) for o in spec.objects]).reshape(-1, 3)
    spots = []
    for s in rec.surfaces:
        hx, hy = s.size[0] / 2 - radius_m - _SPOT_MARGIN_M, s.size[1] / 2 - radius_m - _SPOT_MARGIN_M
        if hx < 0 or hy < 0:
            continue
        lx, ly = np.meshgrid(np.arange(-hx, hx + 1e-9, step_m), np.arange(-hy, hy + 1e-9, step_m))
        lx, ly = lx.ravel() + s.pos[0], ly.ravel() + s.pos[1]
        c, sn = math.cos(rec.pose[2]), math.sin(rec.pose[2])
        x, y = rec.pose[0] + c * lx - sn * ly, rec.pose[1] + sn * lx + c * ly
        d = np.hypot(x[:, None] - others[:, 0], y[:, None] - others[:, 1]) - others[:, 2]
        free = (d > radius_m + 0.01).all(axis=1)
        spots.append(np.stack([x[free], y[free], np.full(int(free.sum()), s.pos[2])], axis=1))
    return np.vstack(spots) if spots else np.zeros((0, 3))


def make_episodes(spec: SceneSpec, n: int, seed: int, scene_path: str | Path | None = None) -> list[Episode]:
    """Up to `n` feasible episodes (distinct object/receptacle pairs), deterministic for (spec, seed).

    Objects are visited in a seeded random order, each paired with the first feasible receptacle of a
    seeded random order; once every object has one episode, further receptacles are used.
    """
    rng = np.random.default_rng(seed)
    oracle = ReachOracle(spec, robot_radius_m=EPISODE_ROBOT_RADIUS_M)
    path = str(scene_path) if scene_path is not None else (str(spec.base_dir / f"{spec.name}.json") if spec.base_dir else spec.name)
    sizes = {o.id: _footprint_radius(o, spec.base_dir) for o in spec.objects}
    objects = [spec.objects[i] for i in rng.permutation(len(spec.objects))]
    rec_orders = {o.id: [spec.receptacles[i] for i in rng.permutation(len(spec.receptacles))] for o in objects}
    spot_ok: dict[tuple[str, float, float], bool] = {}

    def feasible(obj: ObjectSpec, rec: ReceptacleSpec) -> bool:
        radius, height = sizes[obj.id]
        key = (rec.id, round(radius, 2), round(height, 1))
        if key not in spot_ok:
            spots = free_spots(spec, rec, radius, sizes=sizes)
            spot_ok[key] = any(oracle.base_pose_for(p + [0, 0, 0.5 * height + 0.02], tol_m=EPISODE_TOL_M,
                                                    margin_m=EPISODE_MARGIN_M) for p in spots[::3])
        return spot_ok[key]

    reachable = [o for o in objects if pick_reachable(oracle, o)]
    episodes: list[Episode] = []
    used: set[tuple[str, str]] = set()
    for _ in range(len(spec.receptacles)):
        for obj in reachable:
            if len(episodes) >= n:
                return episodes
            for rec in rec_orders[obj.id]:
                if rec.id == obj.on or (obj.id, rec.id) in used or not feasible(obj, rec):
                    continue
                used.add((obj.id, rec.id))
                episodes.append(Episode(path, obj.id, rec.id, request_text(obj, rec)))
                break
    return episodes

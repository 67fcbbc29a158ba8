"""Pick-and-place episodes and their ground-truth feasibility (the checks in a running world: sim.scoring).

An episode asks the robot to move one object onto a different receptacle: "put the red coffee mug on the
brown wooden table" ("in the sink" for sinks). `draw_episodes` leaves out only what no Stretch motion could
do, judged from the scene's ground truth with the Stretch's own geometry (core.stretch), never with the
grasp or navigation planners: an object neither a sideways nor a top-down grasp can reach from any pose
where the base box is clear of the furniture (in free space the base's width can reach from the start),
and a receptacle with no free spot for the object within such reach. It says how many objects and pairs
it left out and why (`EpisodeDraw`); episodes the planners find hard stay in and count as failures.

Reach uses core.stretch's FK: the grasp centre (midway between the fingertips) can be at a point if some
wrist yaw/pitch (side grasp, 45 degrees down or top-down) puts it there with lift in [0, 1.1] m and arm
extension in [0, 0.52] m.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.stretch import ANGLED_WRIST_PITCH, STRETCH, T_base_grasp, wrist_yaw_axis_base
from core.types import JointState, Pose2D
from sim.scene.ground_truth import Grid, component_at, free_components, occupancy_grid_full
from sim.scene.objects import load_object_mesh
from sim.scene.spec import ObjectSpec, ReceptacleSpec, SceneSpec

REACH_TOL_M = 0.03  # the wrist yaw is sampled every ~10 degrees: a grasp centre ~20 cm out moves ~3.5 cm per step
_SPOT_MARGIN_M = 0.03
# What the gripper can hold sideways (grasping.config's gripper model; tests/sim checks they agree): a
# horizontal gripper's body hangs 4.7 cm below the pads' centre and the 4 cm pads must be covered by the
# object, so shorter objects (a banana lying flat, a plate) and ones wider than the 12 cm opening (a bowl)
# can only be picked from above, which needs the fingertips lowered onto the object from just over its top.
SIDE_GRASP_MIN_HEIGHT_M = 0.075
SIDE_GRASP_MAX_WIDTH_M = 0.108
# Pitched 45 degrees down, the fingertips are the gripper's lowest point, the pads' 4 cm height reaching
# 1.4 cm below the grasp centre: an object at least 4 cm tall can be held at its middle that way.
PITCHED_GRASP_MIN_HEIGHT_M = 0.04
TOP_DOWN_CLEARANCE_M = 0.02  # the fingertips pass this far over the object's top before closing around it
PITCHES_ALL = (0.0, ANGLED_WRIST_PITCH, -math.pi / 2)
PITCH_DOWN_ONLY = (-math.pi / 2,)
# The reasons an object or a pair is left out (EpisodeDraw's keys).
TOO_HIGH = "too short or wide to hold sideways or at 45 degrees, and its top above the pitched-down gripper's reach"
OUT_OF_REACH = "out of reach from every pose the base can stand at"
NO_FREE_SPOT = "no free spot on the receptacle big enough for it"
SPOT_OUT_OF_REACH = "no free spot on the receptacle within reach"
NO_RECEPTACLE = "no other receptacle with a free spot within reach"


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


def base_box_points(step_m: float = 0.04) -> np.ndarray:
    """(K, 2) points covering the Stretch's base box (core.stretch) in the base frame, edges included."""
    (x0, x1), (y0, y1) = STRETCH.base_x_m, STRETCH.base_y_m
    xs = np.linspace(x0, x1, max(2, math.ceil((x1 - x0) / step_m) + 1))
    ys = np.linspace(y0, y1, max(2, math.ceil((y1 - y0) / step_m) + 1))
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


class ReachOracle:
    """Ground-truth reachability for a scene: where the base can stand (connected to the robot start), and
    from where the grasp centre reaches a point.

    `robot_radius_m=None` (the default) is the Stretch as it is: free space connected through gaps as wide
    as its base, and a pose counts when the base box itself is clear of every obstacle cell, so a pose
    close to furniture with the base's side towards it counts. A radius makes it a disc robot instead
    (every pose in the disc's free space).
    """

    def __init__(self, spec: SceneSpec, resolution_m: float = 0.05, robot_radius_m: float | None = None) -> None:
        self.spec = spec
        self.grid: Grid = occupancy_grid_full(spec, resolution_m)
        self.box = robot_radius_m is None
        half_width = min(-STRETCH.base_y_m[0], STRETCH.base_y_m[1])
        labels = free_components(self.grid, half_width - 0.5 * resolution_m if self.box else robot_radius_m)
        start = component_at(self.grid, labels, spec.robot_start.xy)
        self.free_xy = self.grid.cell_to_world(np.argwhere(labels == start)) if start else np.zeros((0, 2))
        self._box_points = base_box_points(0.5 * resolution_m)

    def base_clear(self, xy: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """bool (N,): is the base box at each pose (x, y, theta) clear of obstacle cells (and on the grid)?"""
        if not self.box:
            return np.ones(len(xy), dtype=bool)
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        bx, by = self._box_points[:, 0][None], self._box_points[:, 1][None]
        wx, wy = xy[:, 0:1] + c * bx - s * by, xy[:, 1:2] + s * bx + c * by
        rc = self.grid.world_to_cell(np.stack([wx.ravel(), wy.ravel()], axis=1))
        inside = self.grid.in_bounds(rc)
        hit = np.ones(len(rc), dtype=bool)
        hit[inside] = self.grid.obstacle[rc[inside, 0], rc[inside, 1]]
        return ~hit.reshape(len(xy), -1).any(axis=1)

    def base_pose_for(self, xyz_world, pitches: tuple[float, ...] = PITCHES_ALL, tol_m: float = REACH_TOL_M,
                      margin_m: float = 0.0) -> Pose2D | None:
        """A free base pose from which the grasp centre reaches the point (with one of `pitches`, joints
        `margin_m` inside their limits, within `tol_m`), or None."""
        target = np.asarray(xyz_world, dtype=float)
        if len(self.free_xy) == 0:
            return None
        d = np.hypot(*(self.free_xy - target[:2]).T)
        near = (d < 1.0) & (d > 0.2)
        cand, dn = self.free_xy[near], d[near]
        for dtheta in (0.0, -0.3, 0.3, -0.6, 0.6):
            theta = np.arctan2(target[1] - cand[:, 1], target[0] - cand[:, 0]) + math.pi / 2 + dtheta
            c, s = np.cos(theta), np.sin(theta)
            dx, dy = target[0] - cand[:, 0], target[1] - cand[:, 1]
            p = np.stack([c * dx + s * dy, -s * dx + c * dy, np.full(len(cand), target[2])], axis=1)
            ok = np.nonzero(reachable_in_base(p, tol_m, pitches, margin_m))[0]
            ok = ok[np.argsort(np.abs(dn[ok] - 0.7), kind="stable")]  # the base 0.7 m away first
            for chunk in range(0, len(ok), 32):  # the box check is the costly part: the best few first
                idx = ok[chunk:chunk + 32]
                clear = idx[self.base_clear(cand[idx], theta[idx])]
                if len(clear):
                    k = clear[0]
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


def pick_exclusion(oracle: ReachOracle, obj: ObjectSpec) -> str | None:
    """Why no Stretch motion can pick the object where it stands (None: one can), from its mesh as placed:
    sideways (tall and narrow enough) at its centre, from above with the pitched-down wrist's fingertips
    just over its top, or with the wrist pitched 45 degrees down at its centre (narrow, at least 4 cm tall)."""
    lo, hi, width = _object_bounds(obj, oracle.spec.base_dir)
    ext, centre = hi - lo, 0.5 * (lo + hi)
    if ext[2] >= SIDE_GRASP_MIN_HEIGHT_M and width <= SIDE_GRASP_MAX_WIDTH_M and oracle.base_pose_for(centre):
        return None
    top = np.array([centre[0], centre[1], hi[2] + TOP_DOWN_CLEARANCE_M])
    if oracle.base_pose_for(top, pitches=PITCH_DOWN_ONLY) is not None:
        return None
    if ext[2] >= PITCHED_GRASP_MIN_HEIGHT_M and width <= SIDE_GRASP_MAX_WIDTH_M \
            and oracle.base_pose_for(centre, pitches=(ANGLED_WRIST_PITCH,)) is not None:
        return None
    # Would it be reachable lower down? Then only the height stops it, else the base cannot get close.
    low = np.array([centre[0], centre[1], min(top[2], 0.8)])
    return TOO_HIGH if oracle.base_pose_for(low, pitches=PITCH_DOWN_ONLY) is not None else OUT_OF_REACH


def pick_reachable(oracle: ReachOracle, obj: ObjectSpec) -> bool:
    """Can the Stretch pick the object where it stands (see pick_exclusion)?"""
    return pick_exclusion(oracle, obj) is None


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


@dataclass
class EpisodeDraw:
    """The episodes drawn from a scene, and what was left out as impossible for any Stretch (and why)."""

    episodes: list[Episode]
    objects: int  # objects in the scene
    pairs: int  # (object, other receptacle) pairs of the objects a Stretch can pick
    excluded_objects: dict[str, int] = field(default_factory=dict)  # reason -> objects never in an episode
    excluded_pairs: dict[str, int] = field(default_factory=dict)  # reason -> pairs left out

    def to_dict(self) -> dict:
        return {"objects": self.objects, "excluded_objects": dict(self.excluded_objects), "pairs": self.pairs,
                "excluded_pairs": dict(self.excluded_pairs)}


def exclusion_summary(draws: list[dict]) -> dict:
    """Totals and shares over several scenes' `EpisodeDraw.to_dict()`s (the evaluation JSON's entry)."""
    objects, pairs = sum(d["objects"] for d in draws), sum(d["pairs"] for d in draws)
    by_obj: Counter = Counter()
    by_pair: Counter = Counter()
    for d in draws:
        by_obj.update(d["excluded_objects"])
        by_pair.update(d["excluded_pairs"])
    return {"scenes": len(draws), "objects": objects, "objects_left_out": sum(by_obj.values()),
            "objects_left_out_share": round(sum(by_obj.values()) / objects, 4) if objects else 0.0,
            "object_reasons": dict(by_obj.most_common()), "pairs": pairs, "pairs_left_out": sum(by_pair.values()),
            "pairs_left_out_share": round(sum(by_pair.values()) / pairs, 4) if pairs else 0.0,
            "pair_reasons": dict(by_pair.most_common())}


def draw_episodes(spec: SceneSpec, n: int, seed: int, scene_path: str | Path | None = None) -> EpisodeDraw:
    """Up to `n` episodes (distinct object/receptacle pairs a Stretch can do), deterministic for (spec, seed),
    with the count of what was left out.

    Objects are visited in a seeded random order, each paired with the first feasible receptacle of a
    seeded random order; once every object has one episode, further receptacles are used.
    """
    rng = np.random.default_rng(seed)
    oracle = ReachOracle(spec)
    path = str(scene_path) if scene_path is not None else (str(spec.base_dir / f"{spec.name}.json") if spec.base_dir else spec.name)
    sizes = {o.id: _footprint_radius(o, spec.base_dir) for o in spec.objects}
    objects = [spec.objects[i] for i in rng.permutation(len(spec.objects))]
    rec_orders = {o.id: [spec.receptacles[i] for i in rng.permutation(len(spec.receptacles))] for o in objects}
    spot_why: dict[tuple[str, float, float], str | None] = {}

    def pair_exclusion(obj: ObjectSpec, rec: ReceptacleSpec) -> str | None:
        radius, height = sizes[obj.id]
        key = (rec.id, round(radius, 2), round(height, 1))
        if key not in spot_why:
            spots = free_spots(spec, rec, radius, sizes=sizes)
            if not len(spots):
                spot_why[key] = NO_FREE_SPOT
            else:
                reach = any(oracle.base_pose_for(p + [0, 0, 0.5 * height + 0.02]) for p in spots[::3])
                spot_why[key] = None if reach else SPOT_OUT_OF_REACH
        return spot_why[key]

    why_obj: Counter = Counter()
    why_pair: Counter = Counter()
    options: dict[str, list[ReceptacleSpec]] = {}
    for obj in objects:
        why = pick_exclusion(oracle, obj)
        if why is not None:
            why_obj[why] += 1
            continue
        options[obj.id] = []
        for rec in rec_orders[obj.id]:
            if rec.id == obj.on:
                continue
            why = pair_exclusion(obj, rec)
            if why is None:
                options[obj.id].append(rec)
            else:
                why_pair[why] += 1
        if not options[obj.id]:
            why_obj[NO_RECEPTACLE] += 1
    episodes: list[Episode] = []
    pickable = [o for o in objects if options.get(o.id)]
    for k in range(len(spec.receptacles)):
        for obj in pickable:
            if len(episodes) < n and k < len(options[obj.id]):
                rec = options[obj.id][k]
                episodes.append(Episode(path, obj.id, rec.id, request_text(obj, rec)))
    pairs = sum(len(rec_orders[o.id]) - any(r.id == o.on for r in rec_orders[o.id]) for o in objects if o.id in options)
    return EpisodeDraw(episodes, len(spec.objects), pairs, dict(why_obj), dict(why_pair))


def make_episodes(spec: SceneSpec, n: int, seed: int, scene_path: str | Path | None = None) -> list[Episode]:
    """Up to `n` episodes a Stretch can do (see draw_episodes)."""
    return draw_episodes(spec, n, seed, scene_path).episodes

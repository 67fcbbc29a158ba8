"""Pick-and-place trials in the MuJoCo simulator for grasping tests and benchmarks/grasping.py.

A trial: a room with a table, a counter, a shelf and a side table (sim.scene.receptacles templates); the target object from the
object library on one receptacle's surface near its front edge, two distractors beside it; the robot parked
(kinematically) at a base pose from which the arm reaches the object, computed here from core.stretch FK
(grasping.kinematics.base_pose_for_reach) and checked clear of the furniture; grasping.execute.pick with
perception's ground-truth language segmentation on the object's description; then the robot is parked in
front of another receptacle and grasping.execute.place puts the object there. Success is judged by the
simulator: world.held_object() after the pick, world.is_on() after the place (settled).

Driving between receptacles is navigation's job and is not exercised: the robot is re-parked directly.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from core.stretch import STRETCH
from core.types import Pose2D
from grasping.config import PickConfig
from grasping.execute import pick, place
from grasping.kinematics import LIMITS, base_pose_for_reach, lift_for_height
from perception.ground_truth import GroundTruthPerception
from perception.language_seg import segment_phrase_ground_truth
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.objects import LibraryEntry
from sim.scene.placement import entry_footprint
from sim.scene.receptacles import receptacle_geometry
from sim.scene.spec import SceneSpec

ROOM = (6.0, 5.0)
# (id, kind, size (w, d, h), pose (x, y, yaw), description); the robot approaches each from its -y side.
RECEPTACLES = (
    ("table", "table", (1.2, 0.8, 0.75), (2.0, 2.2, 0.0), "brown wooden table"),
    ("counter", "counter", (1.4, 0.6, 0.9), (4.4, ROOM[1] - 0.32, 0.0), "white marble counter"),
    ("shelf", "shelf", (0.9, 0.36, 0.95), (1.3, ROOM[1] - 0.2, 0.0), "light oak shelf"),
    ("side_table", "side_table", (0.55, 0.45, 0.6), (ROOM[0] - 0.245, 1.6, -math.pi / 2), "white side table"),
)
# Objects are picked from the shelf's lower board (0.45 m, 0.475 m free above it: a top-down grasp needs
# ~0.38 m for the wrist and arm above the fingertips) and placed on its top board (0.95 m).
SHELF_PICK_BOARD = 0


@dataclass
class TrialResult:
    entry: str
    label: str
    source: str
    target: str
    pick_ok: bool
    place_ok: bool
    pick_reason: str = ""
    place_reason: str = ""
    grasp_kind: str = ""
    attempts: int = 0
    planning_s: list[float] = field(default_factory=list)
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)
    place_reported: bool = False  # what place() itself concluded (by looking), vs the simulator's place_ok


def _surface(rec: dict, board: int | None = None):
    s = rec["surfaces"]
    return s[board if board is not None and board < len(s) else (len(s) - 1 if rec["kind"] != "shelf" else 0)]


def _receptacles() -> list[dict]:
    out = []
    for i, (rid, kind, size, pose, desc) in enumerate(RECEPTACLES):
        parts, surfaces = receptacle_geometry(kind, size)
        out.append({"id": rid, "instance_id": i + 1, "label": kind, "description": desc, "room": "room",
                    "pose": list(pose), "parts": [p.to_dict() for p in parts],
                    "surfaces": [s.to_dict() for s in surfaces], "kind": kind})
    return out


def _world_xy(rec: dict, lx: float, ly: float) -> tuple[float, float]:
    x, y, yaw = rec["pose"]
    c, s = math.cos(yaw), math.sin(yaw)
    return x + c * lx - s * ly, y + s * lx + c * ly


def _object(entry: LibraryEntry, oid: str, iid: int, rec: dict, surf: dict, lx: float, yaw: float) -> dict:
    min_z, height, fcx, fcy, rad = entry_footprint(entry)
    depth = surf["size"][1]
    ly = surf["pos"][1] - depth / 2 + max(0.11, rad + 0.05)
    wx, wy = _world_xy(rec, surf["pos"][0] + lx, ly)
    wyaw = yaw + rec["pose"][2]
    c, s = math.cos(wyaw), math.sin(wyaw)
    q = [0.0, 0.0, math.sin(wyaw / 2), math.cos(wyaw / 2)]
    if entry.up == "y":
        h = math.sqrt(0.5)
        q = [q[3] * h, q[2] * h, q[2] * h, q[3] * h]
    return {"id": oid, "instance_id": iid, "label": entry.label, "description": entry.description,
            "mesh": entry.mesh, "procedural": dict(entry.procedural) if entry.procedural else None,
            "scale": entry.scale, "rgba": list(entry.rgba), "mass": entry.mass,
            "position": [wx - (c * fcx - s * fcy), wy - (s * fcx + c * fcy), surf["pos"][2] - min_z],
            "quat_xyzw": q, "on": rec["id"]}


def make_trial_scene(target: LibraryEntry, distractors: list[LibraryEntry], source: str, seed: int) -> SceneSpec:
    rng = np.random.default_rng(seed)
    recs = _receptacles()
    rec = next(r for r in recs if r["id"] == source)
    surf = _surface(rec, SHELF_PICK_BOARD if rec["kind"] == "shelf" else None)
    objs = [_object(target, "target", len(recs) + 1, rec, surf, 0.0, float(rng.uniform(-math.pi, math.pi)))]
    for k, e in enumerate(distractors[:2]):
        lx = (0.26 if k == 0 else -0.26) * min(1.0, surf["size"][0] / 1.0)
        objs.append(_object(e, f"distractor_{k}", len(recs) + 2 + k, rec, surf, lx, float(rng.uniform(-3, 3))))
    W, H = ROOM
    walls = [{"id": f"wall_{i}", "start": list(a), "end": list(b), "thickness": 0.1, "height": 2.4,
              "rgba": [0.92, 0.9, 0.86, 1.0]}
             for i, (a, b) in enumerate([((-0.05, 0), (W + 0.05, 0)), ((W, 0), (W, H)), ((W + 0.05, H), (-0.05, H)),
                                         ((0, H), (0, 0))])]
    for r in recs:
        r.pop("kind")
    d = {"format": "ovmm-scene", "version": 1, "name": f"grasp-trial-{seed}", "seed": seed,
         "rooms": [{"id": "room", "label": "kitchen", "min": [0.0, 0.0], "max": [W, H]}], "walls": walls,
         "doors": [], "receptacles": recs, "objects": objs, "stages": [], "robot_start": [3.0, 0.8, 0.0]}
    return SceneSpec.from_dict(d)


def _boxes_world(spec: SceneSpec) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for rec in spec.receptacles:
        for p in rec.parts:
            if p.type != "box":
                continue
            half = np.asarray(p.size[:2]) / 2
            corners = np.array([[sx * half[0], sy * half[1]] for sx in (-1, 1) for sy in (-1, 1)]) + p.pos[:2]
            w = np.array([rec.to_world(*c) for c in corners])
            out.append((w.min(axis=0), w.max(axis=0)))
    return out


def base_clear(spec: SceneSpec, pose: Pose2D, margin: float = 0.04) -> bool:
    """The base disc (plus margin) is inside the room and clear of every receptacle part."""
    r = STRETCH.base_radius_m + margin
    if not (r <= pose.x <= ROOM[0] - r and r <= pose.y <= ROOM[1] - r):
        return False
    for lo, hi in _boxes_world(spec):
        q = np.clip(pose.xy, lo, hi)
        if np.hypot(*(pose.xy - q)) < r:
            return False
    return True


def parking_pose(spec: SceneSpec, rec_id: str, xyz: np.ndarray) -> Pose2D:
    """A clear base pose in front of the receptacle with the arm pointing into it, reaching `xyz`."""
    rec = spec.receptacle(rec_id)
    heading = rec.pose[2] + math.pi / 2  # into the receptacle (its +y)
    for arm in (0.42, 0.36, 0.48, 0.30, 0.24):
        for dh in (0.0, 0.15, -0.15, 0.3, -0.3):
            pose = base_pose_for_reach(xyz, heading + dh, arm_m=arm, top_down=True)
            if base_clear(spec, pose):
                return pose
    raise RuntimeError(f"no clear parking pose in front of {rec_id} for {np.round(xyz, 2)}")


class Segmenter:
    """perception's ground-truth language segmentation as a `segment(frame, phrase)` callable."""

    def __init__(self, spec: SceneSpec, encoder) -> None:
        self.gt = GroundTruthPerception(spec.instance_descriptions(), encoder, min_mask_pixels=30)

    def __call__(self, frame, phrase: str):
        return segment_phrase_ground_truth(frame, phrase, self.gt, 0.35, 0.05)  # Observations


def place_target_for(spec: SceneSpec, source: str, held, k: int) -> str:
    """Another receptacle whose top surface the arm can release the held object on: a top-down-held
    object needs the lift to hold it above the surface with the gripper pointing down (tables, not the
    0.9 m counter unless held near its bottom, never under a shelf board); a side-held one fits anywhere."""
    options = []
    for rid, *_ in RECEPTACLES:
        if rid == source:
            continue
        z = spec.receptacle(rid).surfaces[-1].pos[2] + held.below_grasp_m + PickConfig().place.release_height_m
        if lift_for_height(z, held.top_down) <= LIMITS.lift_m[1] - 0.01:
            options.append(rid)
    return options[k % len(options)] if options else ""


def run_trial(entry: LibraryEntry, distractors: list[LibraryEntry], source: str, encoder, seed: int,
              config: PickConfig | None = None, robot_cls: type[SimRobot] = SimRobot, park_back_m: float = 0.0,
              do_place: bool = True, instance_masks: bool = False) -> TrialResult:
    """One pick (and place) trial; `park_back_m` parks the robot that much farther from the object."""
    t0 = time.perf_counter()
    spec = make_trial_scene(entry, distractors, source, seed)
    world = SimWorld(spec)
    try:
        robot = robot_cls(world)
        robot.connect()
        seg = Segmenter(spec, encoder)
        obj_xyz = world.object_center("target")
        park = parking_pose(spec, source, obj_xyz)
        if park_back_m:
            c, s_ = math.cos(park.theta), math.sin(park.theta)  # the arm points along the base's -y
            park = Pose2D(park.x - s_ * park_back_m, park.y + c * park_back_m, park.theta)
        world.set_robot_state(park, world.joints)
        if instance_masks:  # a mask provider straight from the simulator's instance ids
            iid = spec.object("target").instance_id
            target = lambda frame: [(frame.instance_ids == iid, 1.0)]  # noqa: E731
        else:
            target = entry.description
        res = pick(robot, target, config, segment=seg, look_at=obj_xyz)
        picked = world.held_object() == "target"
        out = TrialResult(entry.key, entry.label, source, "", picked, False, res.reason,
                          grasp_kind=res.grasp.kind if res.grasp else "", attempts=res.attempts,
                          planning_s=res.planning_s, log=res.log)
        if not picked or not do_place:
            out.seconds = time.perf_counter() - t0
            return out
        target = place_target_for(spec, source, res.held, seed)
        out.target = target
        if not target:
            out.place_reason = "no receptacle in this room can take the object as it is held"
            out.seconds = time.perf_counter() - t0
            return out
        trec = spec.receptacle(target)
        surf = trec.surfaces[-1]
        spot = np.array([*trec.to_world(surf.pos[0] + 0.1, surf.pos[1] - surf.size[1] / 2 + 0.2), surf.pos[2]])
        world.set_robot_state(parking_pose(spec, target, spot), robot.get_joints())
        pr = place(robot, trec.description, res.held, config, segment=seg, look_at=spot,
                   placed_object=entry.description)
        out.log += pr.log
        out.place_reported = pr.success
        world.settle()
        out.place_ok = world.is_on("target", target)
        out.place_reason = pr.reason if not out.place_ok else ""
        if not out.place_ok and not out.place_reason:
            out.place_reason = f"released but not resting on {target} (on {world.surface_under('target')})"
        out.seconds = time.perf_counter() - t0
        return out
    finally:
        world.close()

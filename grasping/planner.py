"""Grasp planning: propose -> measure/reject/score -> IK -> approach sweep -> ranked, reachable grasps.

`plan_grasps(cloud, base_pose)` returns a GraspPlan whose `grasps` are ranked best first, each with its arm
solution (base rotation in place, lift, arm, wrist) and pre-grasp joints. When nothing is feasible the plan
is empty and `plan.reason` says why in one sentence ("no feasible grasp: object 0.16 m wide exceeds the
0.12 m opening", "no feasible grasp: arm cannot reach: needs 0.61 m extension, max 0.52", ...);
`require_grasps()` raises NoFeasibleGraspError with that sentence.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from core.errors import OvmmError
from core.stretch import T_base_grasp, T_world_grasp, T_world_headcam, head_look_at
from core.types import JointState, Pose2D
from grasping.collision import arm_collides, gripper_boxes, sweep_hits
from grasping.config import GraspConfig, IKConfig
from grasping.extension import way_out_blocked
from grasping.kinematics import LIMITS, ArmSolution, pregrasp_joints, solve_ik
from grasping.object_points import ObjectCloud, voxel_down
from grasping.proposals import (
    KINDS,
    TOP_DOWN_Z,
    ObjectShape,
    carve_seen_free,
    mirrored_points,
    object_shape,
    pitched,
    propose,
)
from grasping.scoring import evaluate, support_points

log = logging.getLogger(__name__)
_FLIP = np.diag([1.0, -1.0, -1.0])  # a roll by pi about the approach axis


class NoFeasibleGraspError(OvmmError):
    """No grasp of the object is collision-free, fits the gripper and is reachable from the base pose."""


@dataclass
class Grasp:
    """A feasible grasp: world pose (x approach, y closing), measured width, score and how to reach it."""

    T_world_grasp: np.ndarray
    kind: str
    width_m: float
    score: float
    terms: dict[str, float]
    solution: ArmSolution
    pre_joints: JointState  # backed off upward (from above) or by retracting the arm (level approach)

    @property
    def top_down(self) -> bool:
        return bool(self.T_world_grasp[2, 0] < TOP_DOWN_Z)

    @property
    def pitched(self) -> bool:
        """Pitched 45 degrees down (an angled grasp, or a rim grasp made like one)."""
        return pitched(self.T_world_grasp[:3, :3])

    @property
    def from_above(self) -> bool:
        return self.pre_joints.lift_m > self.solution.joints.lift_m + 1e-3


@dataclass
class GraspPlan:
    grasps: list[Grasp]
    shape: ObjectShape
    candidates: int
    rejected: dict[str, int] = field(default_factory=dict)
    reason: str = ""
    seconds: float = 0.0

    def require_grasps(self) -> list[Grasp]:
        if not self.grasps:
            raise NoFeasibleGraspError(self.reason)
        return self.grasps


def _pose(centre: np.ndarray, R: np.ndarray) -> np.ndarray:  # noqa: N803
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = R, centre
    return T


def plan_grasps(cloud: ObjectCloud, base: Pose2D, config: GraspConfig | None = None,
                ik_config: IKConfig | None = None, name: str = "object",
                place_height_m: float | None = None, release_m: float = 0.03,
                camera_xyz: np.ndarray | None = None, coarse: np.ndarray | None = None) -> GraspPlan:
    """Ranked feasible grasps of `cloud`'s object for a robot at `base` (it may turn in place).

    `place_height_m`: the surface the object goes on next, if known. A grasp that would hold the object
    too high above it for the lift to lower it there (a tall object held from above, going onto a counter)
    is ranked after every grasp that can place it, not dropped: the receptacle may have a lower surface.
    `camera_xyz`: where the head camera saw the object from (world), to carve the guessed far side where
    the camera saw through it; default: the head at this base pose looking at the object.
    `coarse`: world points known only to about half a voxel (the map's occupied voxels where the camera did
    not see, grasping.execute.unseen_obstacles), checked with `config.coarse_margin_m` by the approach, the
    arm and the whole way out to the pre-grasp.
    """
    config = config or GraspConfig()
    ik_config = ik_config or IKConfig()
    t0 = time.perf_counter()
    pts, scene = working_points(cloud, config)
    coarse = _cropped(np.zeros((0, 3), np.float32) if coarse is None else coarse, pts, config)
    shape = object_shape(pts, scene)
    hidden = mirrored_points(pts, shape) if config.complete_by_symmetry else np.zeros((0, 3), np.float32)
    if len(hidden):
        if camera_xyz is None:  # the head looking at the object from this base (as grasping.execute does)
            camera_xyz = T_world_headcam(base, *head_look_at(base, cloud.centroid))[:3, 3]
        hidden = carve_seen_free(hidden, np.concatenate([pts, scene]), camera_xyz)
    cands = propose(pts, shape, config, base.xy)
    cands, ev = evaluate(cands, pts, scene, shape, config, hidden)
    rejected = Counter(r for r in ev.reasons if r)
    kept = np.flatnonzero(ev.kept)
    order = kept[np.argsort(-ev.score[kept], kind="stable")]
    # IK budget per family, so lower-preference families (side, rim) are still tried.
    order = np.concatenate([order[cands.kinds[order] == i][: config.max_candidates_per_kind]
                            for i in range(len(KINDS))])
    order = order[np.argsort(-ev.score[order], kind="stable")]

    sols: list[tuple[int, ArmSolution, JointState]] = []
    ik_fail: list[str] = []
    ik_kinds: set[str] = set()  # the families whose candidates failed IK
    for k in order:
        R = cands.rotations[k] if ev.rolls[k] != 1 else cands.rotations[k] @ _FLIP
        T = _pose(cands.centres[k], R)
        # Where only one roll keeps the gripper body clear, IK must realise exactly that roll.
        r = solve_ik(T, base, ik_config, symmetric=bool(ev.rolls[k] == 2))
        if not r.ok:
            ik_fail.append(r.reason)
            ik_kinds.add(KINDS[int(cands.kinds[k])])
            continue
        top = bool(cands.rotations[k][2, 0] < TOP_DOWN_Z)
        # Top-down grasps come from above where the lift allows it, else (or if that path is blocked) slide
        # in level from behind with the object passing between the open fingers; side grasps slide in;
        # angled ones come down from above or slide in level, each one joint's move.
        kind = KINDS[int(cands.kinds[k])]
        for from_above, backoff, clearance in approach_options(top, kind == "rim", float(r.solution.T_world_grasp[2, 3]),
                                                          shape, config, angled=pitched(cands.rotations[k])):
            pre = pregrasp_joints(r.solution, backoff, from_above)
            if from_above and T_world_grasp(r.solution.base_pose, pre)[2, 3] < shape.top_z + clearance:
                continue
            sols.append((int(k), r.solution, pre))
    rejected.update(f"unreachable: {r}" for r in ik_fail)

    grasps: list[Grasp] = []
    done: set[int] = set()
    if sols:
        # The approach is one straight joint move from the pre-grasp; check what it sweeps through.
        pre = np.array([T_world_grasp(s[1].base_pose, s[2])[:3, 3] for s in sols])
        fin = np.array([s[1].T_world_grasp[:3, 3] for s in sols])
        rots = np.array([s[1].T_world_grasp[:3, :3] for s in sols])
        boxes, fingers = gripper_boxes(config.gripper)
        on_support = support_points(scene, shape, config)
        hit_scene = np.zeros((len(sols), len(boxes)), bool)
        fine_parts = [(scene[~on_support], config.collision_margin_m), (scene[on_support], config.support_margin_m)]
        scene_parts = [*fine_parts, (coarse, config.coarse_margin_m)]
        for part, margin in scene_parts:
            if len(part):
                hit_scene |= sweep_hits(part, fin, rots, fin - pre, boxes, margin)
        whole = np.concatenate([pts, hidden])
        hit_obj = sweep_hits(whole, fin, rots, fin - pre, boxes, config.object_margin_m)
        way_out = [*fine_parts, (whole, config.object_margin_m)]  # checked like the approach
        for j, (k, sol, pre_j) in enumerate(sols):
            if k in done:
                continue
            if hit_scene[j].any() or hit_obj[j].any():
                rejected["approach sweeps through points"] += 1
                continue
            at_pre = ArmSolution(sol.base_pose, pre_j, sol.base_rotation, sol.T_world_grasp)
            if any(arm_collides(s, part, margin) for s in (sol, at_pre)
                   for part, margin in ((scene, config.collision_margin_m), (coarse, config.coarse_margin_m))):
                rejected["arm hits the scene"] += 1
                continue
            if abs(pre_j.lift_m - sol.joints.lift_m) < 1e-6 and (
                    way_out_blocked(sol.base_pose, pre_j, way_out, boxes[fingers])
                    or way_out_blocked(sol.base_pose, pre_j, [(coarse, config.coarse_margin_m)], boxes[fingers],
                                       start_m=0.0)):
                rejected["the way out to the pre-grasp hits points"] += 1
                continue
            done.add(k)
            level_kind = KINDS[int(cands.kinds[k])] in ("side", "angled")
            penalty = 0.05 * abs(sol.base_rotation) + 0.03 * abs(sol.joints.wrist_yaw if level_kind else 0)
            terms = {name_: float(v[k]) for name_, v in ev.terms.items()}
            grasps.append(Grasp(sol.T_world_grasp, KINDS[int(cands.kinds[k])], float(ev.width[k]),
                                float(ev.score[k] - penalty), terms, sol, pre_j))
    if place_height_m is not None:
        for g in grasps:
            if not placeable(g, shape.support_z, place_height_m, release_m):
                g.score -= 1.0
                g.terms["cannot_place"] = 1.0
    # Near-repeats go after the distinct grasps within each tier (placeable there, or not).
    grasps = sorted(grasps, key=lambda g: -g.score)
    grasps = distinct_first([g for g in grasps if "cannot_place" not in g.terms]) + distinct_first(
        [g for g in grasps if "cannot_place" in g.terms])
    plan = GraspPlan(grasps, shape, len(cands), dict(rejected), seconds=time.perf_counter() - t0)
    if not grasps:
        collided = {r: rejected[r] for r in ("approach sweeps through points", "arm hits the scene",
                                             "the way out to the pre-grasp hits points") if rejected.get(r)}
        plan.reason = _reason(plan, ev.reasons, ik_fail, config, name,
                              _unreached_kinds(cands, ev.reasons, ik_kinds), collided)
        log.info("%s: %s", name, plan.reason)
    else:
        log.debug("%s: %d grasps from %d candidates in %.0f ms (best %s %.2f)", name, len(grasps), len(cands),
                  plan.seconds * 1000, grasps[0].kind, grasps[0].score)
    return plan


def distinct_first(grasps: list[Grasp], centre_m: float = 0.01, angle_rad: float = math.radians(10)) -> list[Grasp]:
    """`grasps` (best first) with each near-repeat of a better grasp (same family and approach, centre within
    `centre_m`, closing axis within `angle_rad`) moved behind all distinct ones: the few grasps tried before
    re-perceiving should differ, so that one failing in the hand (a thin plate pinched across its 2 mm side)
    is not followed by the same grasp turned 3 degrees."""
    firsts: list[Grasp] = []
    repeats: list[Grasp] = []
    cos = math.cos(angle_rad)
    for g in grasps:
        R, c = g.T_world_grasp[:3, :3], g.T_world_grasp[:3, 3]
        same = any(f.kind == g.kind and float(np.linalg.norm(f.T_world_grasp[:3, 3] - c)) <= centre_m
                   and float(f.T_world_grasp[:3, 0] @ R[:, 0]) >= cos
                   and abs(float(f.T_world_grasp[:3, 1] @ R[:, 1])) >= cos for f in firsts)
        (repeats if same else firsts).append(g)
    return firsts + repeats


def approach_options(top: bool, rim: bool, grasp_z: float, shape: ObjectShape,
                     config: GraspConfig, angled: bool = False) -> list[tuple[bool, float, float]]:
    """(from_above, backoff, clearance) of the approaches to try for one grasp, in order of preference.

    From above, the pre-grasp backs off `approach_backoff_m`; where that leaves no room (a shelf board
    above a flat object), a short pre-grasp whose fingertips just clear the object's top is tried next: the
    straight descent from there is all the approach needs, and its sweep is checked like the long one.
    An angled grasp comes straight down (its fingertips, 2 cm below its centre, over the object's top), or
    slides in level along the arm.
    """
    if angled and rim:  # the fingers' lowest corners (2 cm below the centre) just over the rim
        clearance = config.rim_pregrasp_clearance_m + 0.02
        return [(True, min(config.approach_backoff_m, config.rim_depth_m + 2 * clearance), clearance)]
    if angled:
        clearance = config.pregrasp_clearance_m + 0.02
        return [(True, _clearing_backoff(grasp_z, clearance, shape, config), clearance),
                (False, config.approach_backoff_m, config.pregrasp_clearance_m)]
    if not top:
        return [(False, config.approach_backoff_m, config.pregrasp_clearance_m)]
    out = []
    if rim:  # only the fingers must clear the rim (see GraspConfig)
        clearance = config.rim_pregrasp_clearance_m
        out.append((True, min(config.approach_backoff_m, config.rim_depth_m + 2 * clearance), clearance))
    else:
        clearance = config.pregrasp_clearance_m
        out.append((True, _clearing_backoff(grasp_z, clearance, shape, config), clearance))
        short = shape.top_z + clearance + config.short_pregrasp_extra_m - grasp_z
        if short < config.approach_backoff_m - 0.01:
            out.append((True, max(short, config.short_pregrasp_extra_m), clearance))
    out.append((False, config.approach_backoff_m, config.pregrasp_clearance_m))
    return out


def _clearing_backoff(grasp_z: float, clearance: float, shape: ObjectShape, config: GraspConfig) -> float:
    """A from-above pre-grasp's rise: `approach_backoff_m`, or more where that leaves the grasp centre less
    than `clearance` over the object's top (a tall bottle held at its middle with the wrist pitched 45
    degrees: the descent must start above its top), up to `max_pregrasp_rise_m`; the longer descent's sweep
    is checked like any other."""
    need = shape.top_z + clearance - grasp_z + 0.002
    if config.approach_backoff_m < need <= config.max_pregrasp_rise_m:
        return float(need)
    return config.approach_backoff_m


def placeable(grasp: Grasp, support_z: float, place_height_m: float, release_m: float = 0.03,
              margin_m: float = 0.02) -> bool:
    """Can the arm hold the object, grasped like this, `release_m` above a surface at `place_height_m`?
    The grasp centre then sits at the same height above that surface as above the current one; the lift
    range bounds it (at the grasp's wrist pitch: down, 45 degrees or level)."""
    wrist = float(grasp.solution.joints.wrist_pitch)
    z_max = float(T_base_grasp(JointState(lift_m=LIMITS.lift_m[1], arm_m=0.0, wrist_pitch=wrist))[2, 3])
    return place_height_m + float(grasp.T_world_grasp[2, 3] - support_z) + release_m <= z_max - margin_m


def working_points(cloud: ObjectCloud, cfg: GraspConfig) -> tuple[np.ndarray, np.ndarray]:
    """Object points thinned to `cfg.object_voxel_m`; scene points near the object, thinned to `scene_voxel_m`."""
    pts = np.asarray(cloud.points, dtype=np.float32)
    if len(pts) > cfg.max_object_points:
        pts = voxel_down(pts, cfg.object_voxel_m)
    scene = _cropped(cloud.scene, pts, cfg)
    if len(scene):
        # Fine near the object (fingers), coarse farther out (only the big body, wrist and arm boxes reach).
        near = np.all((scene >= pts.min(axis=0) - cfg.scene_fine_m) & (scene <= pts.max(axis=0) + cfg.scene_fine_m),
                      axis=1)
        scene = np.concatenate([voxel_down(scene[near], cfg.scene_voxel_m),
                                voxel_down(scene[~near], 2 * cfg.scene_voxel_m)])
    return pts, scene


def _cropped(scene: np.ndarray, pts: np.ndarray, cfg: GraspConfig) -> np.ndarray:
    """Scene points within `scene_crop_m` of the object's box (from 5 cm below its bottom to
    `scene_crop_above_m` above its top: the wrist and arm rise well above the fingertips)."""
    scene = np.asarray(scene, dtype=np.float32).reshape(-1, 3)
    lo = pts.min(axis=0) - cfg.scene_crop_m
    hi = pts.max(axis=0) + cfg.scene_crop_m
    lo[2] = pts[:, 2].min() - 0.05
    hi[2] = pts[:, 2].max() + cfg.scene_crop_above_m
    return scene[np.all((scene >= lo) & (scene <= hi), axis=1)]


def _unreached_kinds(cands, reasons: list[str], ik_kinds: set[str]) -> str:
    """Where only some grasp families reached IK and failed there: which, and why each other family had no
    candidate left (a short cup deep on a counter: side grasps hit the counter, top-down ones are out of
    reach). "" when that does not apply."""
    if not ik_kinds or len(ik_kinds) == len(KINDS):
        return ""
    notes = []
    for i, kind in enumerate(KINDS):
        if kind in ik_kinds:
            continue
        mine = [r for r, c in zip(reasons, cands.kinds, strict=True) if int(c) == i]
        why = Counter(mine)
        if mine and all(mine):  # every candidate of the family rejected before IK
            notes.append(f"{kind} grasps rejected: {why.most_common(1)[0][0]} ({sum(why.values())})")
    if not notes:
        return ""
    return f" ({'/'.join(sorted(ik_kinds))} grasps only; {'; '.join(notes)})"


def _reason(plan: GraspPlan, reasons: list[str], ik_fail: list[str], cfg: GraspConfig, name: str,
            unreached: str = "", collided: dict[str, int] | None = None) -> str:
    """Why no grasp is left. `collided`: the grasps that reached IK and were then rejected (reason -> count);
    where some did, the reason says so first, then why the others failed IK (a mug's side grasps reach but
    slide a finger through its handle, the rest are out of reach: 10463:1)."""
    opening = cfg.gripper.max_aperture_m
    fit = opening - cfg.width_margin_m
    shape = plan.shape
    static = Counter(r for r in reasons if r)
    if ik_fail and collided:
        what = ", ".join(f"{r} ({n})" for r, n in collided.items())
        return (f"no feasible grasp of {name}: every reachable grasp collides on the approach or with the arm "
                f"({what}); the others: {Counter(ik_fail).most_common(1)[0][0]}{unreached}")
    if ik_fail:
        return f"no feasible grasp of {name}: {Counter(ik_fail).most_common(1)[0][0]}{unreached}"
    if not any(r == "" for r in reasons):
        if shape.extent_minor > fit:
            return (f"no feasible grasp of {name}: object {shape.extent_minor:.2f} m wide exceeds the "
                    f"{opening:.2f} m opening and has no thin rim")
        top = ", ".join(f"{r} ({n})" for r, n in static.most_common(3))
        return f"no feasible grasp of {name}: all {len(reasons)} candidates rejected: {top}"
    return f"no feasible grasp of {name}: every reachable grasp collides on the approach or with the arm"

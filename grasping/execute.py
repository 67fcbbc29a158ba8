"""Pick and place on any robots.protocol.Robot, with a retry ladder and a reason on every failure.

pick(): look at the object, perceive it (a `segment(frame, phrase) -> [(mask, score)]` callable, or a mask
provider `provider(frame) -> [(mask, score)]`; lists of perception Observations work too), plan grasps, then for each grasp tried:
  retract the arm -> lift to a travel height that clears the scene -> turn the base in place -> set the wrist
  -> open -> extend to the pre-grasp -> descend/extend along the approach -> close -> rise -> verify held
  (robot.is_holding() where the backend knows, else the object must have left its surface in a new frame)
  -> pull the arm in. The rise and pull-in are planned before the grasp (grasping.retract) against the
  scene points and the map's voxels: where a way back is found the arm rises as far as it needs (over a
  sink's rim, under a board above) before pulling in; otherwise the default retract runs, and a held object
  that cannot be pulled back is a failed pick (never carried with the arm out).
Retry ladder, one rung per attempt, every step logged in PickResult.log:
  1. the best grasps of the first perception;  2. re-centre the head on the object, re-perceive, re-plan;
  3. shift the base along its heading (+7 cm, then -7 cm), re-perceive, re-plan;  then stop.
place(): find the receptacle's free, reachable support spot (grasping.place), move above it, lower,
release, retract, and check the object rests there where the backend can tell.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.errors import OvmmError
from core.stretch import STRETCH, head_look_at
from core.types import Pose2D, RGBDFrame
from grasping.config import PickConfig
from grasping.kinematics import ArmSolution
from grasping.motion import MotionFailed, clear_view, move_joints_safely, retract
from grasping.object_points import (
    ObjectCloud,
    ObjectNotSeenError,
    choose_mask,
    fused_object_cloud,
    mask_centre,
    object_cloud,
)
from grasping.place import HeldObject, NoPlaceError, PlaceTarget, choose_place
from grasping.planner import Grasp, plan_grasps
from grasping.proposals import ObjectShape
from grasping.retract import HeldShape, RetractPlan, plan_retract, retract_along
from grasping.scene_around import (
    place_travel_lift,
    travel_lift,
    travel_need,
    unseen_obstacles,
    way_back_points,
)
from robots.protocol import Robot

log = logging.getLogger(__name__)

Masks = list[tuple[np.ndarray, float]]
SegmentFn = Callable[[RGBDFrame, str], Masks]
MaskProvider = Callable[[RGBDFrame], Masks]


@dataclass
class PickResult:
    success: bool
    reason: str = ""
    grasp: Grasp | None = None
    held: HeldObject | None = None
    attempts: int = 0
    log: list[str] = field(default_factory=list)
    planning_s: list[float] = field(default_factory=list)
    object_xyz: np.ndarray | None = None
    cloud: ObjectCloud | None = None
    """The object's points as last seen (for grasping.approaches when no grasp reached from here)..."""
    camera_xyz: np.ndarray | None = None
    """...and where the head camera saw them from (world)."""


@dataclass
class PlaceResult:
    success: bool
    reason: str = ""
    target: PlaceTarget | None = None
    attempts: int = 0
    log: list[str] = field(default_factory=list)
    free_spot: np.ndarray | None = None
    """When no spot was reachable: a free spot seen on the receptacle (world xyz) to drive closer to."""
    free_spots: np.ndarray | None = None
    """...and (K, 3) several of them, nearest to the base first (`free_spot` is the first)."""
    seen: bool = True
    """False when the receptacle was not found in the head camera's view (nothing was tried)."""


def _as_masks(items) -> Masks:
    """(mask, score) pairs from pairs or from perception Observations (anything with .mask and .score)."""
    return [(it.mask, float(it.score)) if hasattr(it, "mask") else (it[0], float(it[1])) for it in items]


def _provider(target: str | MaskProvider, segment: SegmentFn | None) -> tuple[MaskProvider, str]:
    if callable(target):
        return (lambda frame: _as_masks(target(frame))), getattr(target, "__name__", "object")
    if segment is None:
        raise OvmmError(f"pick({target!r}) needs a segment(frame, phrase) function to find the object")
    return (lambda frame: _as_masks(segment(frame, target))), target


def perceive(robot: Robot, provider: MaskProvider, name: str, look_at: np.ndarray | None,
             config: PickConfig, recentre: bool = True, steps: list[str] | None = None,
             seen_at: np.ndarray | None = None) -> tuple[ObjectCloud, RGBDFrame]:
    """Point the head, segment the object, back-project and clean its points (re-centring the head once).
    Of masks alike for the phrase the one nearest `look_at` is taken, and views scoring well below the best
    are dropped (`PickConfig.mask_score_margin`). `seen_at` (world xyz: the centre of the object's points
    seen before in this pick) drops masks centred farther from it than `PickConfig.seen_offset_m`, as does
    the first view for the re-centred one: another object the phrase fits, on the board above (10644:0)."""
    if look_at is not None:
        clear_view(robot, float(look_at[2]), steps if steps is not None else [])
        robot.set_head(*head_look_at(robot.get_base_pose(), look_at))
    seen: tuple[ObjectCloud, RGBDFrame] | None = None
    near = None if look_at is None else np.asarray(look_at, dtype=float)
    anchor = None if seen_at is None else np.asarray(seen_at, dtype=float)

    def where_seen(frame: RGBDFrame, mask: np.ndarray) -> bool:
        if anchor is None:
            return True
        c = mask_centre(frame, mask, config.points)
        return c is not None and float(np.linalg.norm(c - anchor)) <= config.seen_offset_m
    for step in range(2 if recentre else 1):
        scored: list[tuple[RGBDFrame, np.ndarray, float]] = []
        frames = 0
        # Up to `looks` frames until one shows the object, then until `fuse_frames` do: the object's points
        # are where most of them agree (a detector's per-frame errors, the camera's per-frame depth noise).
        while frames < max(1, config.looks) + (len(scored) > 0) * (config.fuse_frames - 1) \
                and len(scored) < max(1, config.fuse_frames):
            frame = robot.observe().frame
            frames += 1
            masks = [(m, s) for m, s in provider(frame)
                     if s >= config.min_mask_score and np.any(m) and where_seen(frame, m)]
            if masks:
                scored.append((frame, *choose_mask(frame, masks, near, config.mask_score_margin, config.points)))
                if len(scored) >= 2 and _same_view(scored[-2], scored[-1]):
                    scored.pop()  # a noiseless camera (a simulator's oracle): more frames would add nothing
                    break
        # A view scoring well below the best shows something else the phrase roughly fits (the object missed).
        top = max((s for _, _, s in scored), default=0.0)
        views = [(f, m) for f, m, s in scored if s >= top - config.mask_score_margin]
        if not views:
            if seen is not None:  # seen before re-centring: keep that view
                return seen
            raise ObjectNotSeenError(f"{name} is not in the head camera's view (no mask scored "
                                     f">= {config.min_mask_score} in {max(1, config.looks)} frames)")
        if len(views) == 1:
            cloud, frame = object_cloud(views[0][0], views[0][1], config.points, name=name), views[0][0]
        else:
            cloud, frame = fused_object_cloud(views, config.points, name=name, near=near)
        seen = (cloud, frame)
        near = anchor = cloud.centroid.astype(float)
        if step == 0 and recentre:
            robot.set_head(*head_look_at(robot.get_base_pose(), cloud.centroid))
    return seen


def _same_view(a: tuple, b: tuple) -> bool:
    """Two views of a still camera that agree to the bit: the same depth image and the same mask."""
    return (np.array_equal(a[0].depth_m, b[0].depth_m) and np.array_equal(a[1], b[1])
            and np.array_equal(a[0].T_world_cam, b[0].T_world_cam))


def _held(robot: Robot, provider: MaskProvider, name: str, before_z: float, config: PickConfig) -> bool:
    holding = robot.is_holding()
    if holding is not None:
        return bool(holding)
    try:  # unknown backend state: the object must have risen off its surface
        cloud, _ = perceive(robot, provider, name, None, config, recentre=False)
    except ObjectNotSeenError:
        return False
    return float(np.median(cloud.points[:, 2])) > before_z + config.verify_lift_m


def held_shape(grasp: Grasp, shape: ObjectShape) -> HeldShape:
    """The object as it will hang in the gripper after this grasp (grasp frame centre, radius, bottom/top)."""
    T = grasp.T_world_grasp
    centre = np.array([*shape.centre_xy, T[2, 3]])
    return HeldShape(centre_in_grasp=T[:3, :3].T @ (centre - T[:3, 3]),
                     radius_m=0.5 * max(shape.extent_major, shape.extent_minor),
                     bottom_m=float(shape.support_z - T[2, 3]), top_m=float(shape.top_z - T[2, 3]))


def grasp_retract(grasp: Grasp, shape: ObjectShape, points: np.ndarray, config: PickConfig) -> RetractPlan:
    """How the arm comes home holding the object after this grasp (rise, then pull in), or why it cannot."""
    return plan_retract(grasp.solution.base_pose, grasp.solution.joints, points, config.grasp.gripper,
                        held_shape(grasp, shape), min_rise_m=config.lift_after_grasp_m)


def execute_grasp(robot: Robot, grasp: Grasp, cloud: ObjectCloud, provider: MaskProvider, name: str,
                  config: PickConfig, steps: list[str], way_back: RetractPlan | None = None) -> tuple[bool, str]:
    """Run one grasp; returns (held, reason). Leaves the arm retracted (along `way_back` after a grasp)."""
    sol: ArmSolution = grasp.solution
    j, pre = sol.joints, grasp.pre_joints
    travel = travel_lift(grasp, cloud, config)
    try:
        retract(robot, steps)
        # A level approach extends at the pre-grasp's height, where the planner checked its way out (staying
        # higher, as the retract left it, put the fingertips into a shelf's board above: 10644:0); one from
        # above extends at the travel height or higher.
        lift = travel if not grasp.from_above else max(travel, robot.get_joints().lift_m)
        move_joints_safely(robot, "lift to travel height", steps, lift_m=lift)
        res = robot.move_base_to(sol.base_pose, tolerance_m=0.02, tolerance_rad=0.01)
        steps.append(f"turn base {math.degrees(sol.base_rotation):+.1f} deg: {'ok' if res.success else res.reason}")
        if not res.success:
            return False, f"base rotation failed: {res.reason}"
        move_joints_safely(robot, "set wrist", steps, wrist_yaw=j.wrist_yaw, wrist_pitch=j.wrist_pitch,
                           wrist_roll=j.wrist_roll)
        g = robot.set_gripper(STRETCH.limits.gripper_m[1])
        if not g.success:
            return False, f"could not open the gripper: {g.reason}"
        move_joints_safely(robot, "extend to pre-grasp", steps, arm_m=pre.arm_m)
        move_joints_safely(robot, "descend to pre-grasp", steps, lift_m=pre.lift_m)
        move_joints_safely(robot, "approach", steps, lift_m=j.lift_m, arm_m=j.arm_m)
    except MotionFailed as e:
        retract(robot, steps, open_first=True)
        return False, str(e)
    before_z = float(np.median(cloud.points[:, 2]))
    c = robot.set_gripper(0.0)
    steps.append(f"close: {c.reason or 'ok'}")
    rise = config.lift_after_grasp_m if way_back is None else way_back.rise_m
    lift_to = min(j.lift_m + rise, STRETCH.limits.lift_m[1])
    lr = robot.move_arm(lift_m=lift_to)
    steps.append(f"lift {rise:.2f} m: {'ok' if lr.success else lr.reason}")
    if not _held(robot, provider, name, before_z, config):
        retract(robot, steps, open_first=True)
        return False, "grasp closed on nothing" + (f" ({c.reason})" if c.reason else "")
    if way_back is None:
        retract(robot, steps)
        if robot.get_joints().arm_m > 0.02:
            return True, "the held object could not be pulled back: " + steps[-1]
    elif not retract_along(robot, RetractPlan(True, 0.0, lift_to), steps):
        return True, "the held object could not be pulled back: " + steps[-1]
    return True, ""


def pick(robot: Robot, target: str | MaskProvider, config: PickConfig | None = None,
         segment: SegmentFn | None = None, look_at: np.ndarray | None = None,
         place_height_m: float | None = None, obstacles: np.ndarray | None = None,
         seen: tuple[ObjectCloud, RGBDFrame] | None = None) -> PickResult:
    """Pick the object named by `target` (a phrase for `segment`, or a mask provider) from where the robot is.

    `place_height_m` (the height of the surface it goes on next, if known) ranks grasps that can place it
    there first (planner.plan_grasps). `obstacles` (world points, e.g. the map's occupied voxels; points
    of the object itself are ignored) join the camera's scene points when the way back is planned.

    `look_at` (world xyz) points the head at the object first (e.g. the map's estimate). The robot must
    already be near the object (navigation's base goal); the base only turns in place or shifts a few
    centimetres along its heading in the retry ladder.

    `seen` (the object's points and the frame they came from, e.g. `perceive` from farther away where
    nothing hid it: orchestrator.task_look_first) replaces the first rung's perception; later rungs
    perceive from here.
    """
    config = config or PickConfig()
    provider, name = _provider(target, segment)
    result = PickResult(False)
    start = robot.get_base_pose()
    # (what the rung does, where the base goes first: None stays)
    rungs: list[tuple[str, Pose2D | None]] = [("first perception", None), ("re-centre the head and re-perceive", None)]
    rungs += [(f"shift the base {s * 100:+.0f} cm along its heading",
               Pose2D(start.x + s * math.cos(start.theta), start.y + s * math.sin(start.theta), start.theta))
              for s in config.base_shifts_m]
    rungs = rungs[: config.max_attempts]
    last_xyz = None if look_at is None else np.asarray(look_at, dtype=float)
    reason = ""
    seen_why = False  # `reason` comes from a rung that saw the object
    deferred: Pose2D | None = None  # where the only grasps found could not place the object where it goes
    returning = False
    attempt = -1
    while True:
        attempt += 1
        if attempt >= len(rungs):
            if deferred is None or returning:
                break
            # Nothing better came up: back to where a grasp worked, and take it (a lower board may take it).
            rungs.append(("back to where only grasps that cannot place it were found", deferred))
            returning = True
        rung, goal = rungs[attempt]
        result.attempts = attempt + 1
        result.log.append(f"attempt {attempt + 1}: {rung}")
        if goal is not None:
            retract(robot, result.log)
            mr = robot.move_base_to(goal, tolerance_m=0.02, tolerance_rad=0.02)
            result.log.append(f"  base {'shift' if not returning else 'back'}: {'ok' if mr.success else mr.reason}")
            if not mr.success:
                continue
        try:
            if attempt == 0 and seen is not None:
                cloud, frame = seen
                result.log.append(f"  the object as seen from afar ({len(cloud.points)} points)")
            else:
                cloud, frame = perceive(robot, provider, name, last_xyz, config, steps=result.log,
                                        seen_at=last_xyz if seen_why else None)
        except ObjectNotSeenError as e:
            result.log.append(f"  perception: {e}")
            if not seen_why:  # a rung that saw it says more (its grasps) than a later one that did not
                reason = str(e)
            continue
        seen_why = True
        last_xyz = cloud.centroid.astype(float)
        result.cloud, result.camera_xyz = cloud, np.asarray(frame.T_world_cam, float)[:3, 3].copy()
        result.object_xyz = last_xyz
        t0 = time.perf_counter()
        coarse = unseen_obstacles(cloud, obstacles) if config.map_obstacles_in_approach else None
        plan = plan_grasps(cloud, robot.get_base_pose(), config.grasp, config.ik, name=name,
                           place_height_m=place_height_m, release_m=config.place.release_height_m, coarse=coarse)
        result.planning_s.append(time.perf_counter() - t0)
        result.log.append(f"  planned {len(plan.grasps)} grasps from {plan.candidates} candidates "
                          f"in {plan.seconds * 1000:.0f} ms")
        if not plan.grasps:
            reason = plan.reason
            result.log.append(f"  {reason}")
            continue
        # At the lift's top the fingertips would pass lower over it than the collision margin.
        slack = 0.5 * config.safe_lift_margin_m - config.grasp.collision_margin_m
        over = [g for g in plan.grasps if travel_need(g, cloud, config) > STRETCH.limits.lift_m[1] + slack]
        if over:
            result.log.append(f"  {len(over)} grasps from above left out: extending over what stands before the "
                              "object needs a lift above its range")
            plan.grasps = [g for g in plan.grasps if all(g is not o for o in over)]
            if not plan.grasps:
                reason = (f"no feasible grasp of {name}: every reachable grasp collides on the way out over what "
                          "stands before it (the lift cannot rise high enough)")
                result.log.append(f"  {reason}")
                continue
        if config.defer_unplaceable and not returning and attempt < len(rungs) - 1 \
                and all("cannot_place" in g.terms for g in plan.grasps):
            # Every grasp from here would hold it too high to lower onto the surface it goes on (a bottle
            # held from the side only at 45 degrees, going onto a counter): the next rungs may give one that
            # can; failing that, the robot comes back here.
            reason = "every grasp found would hold it too high to place it where it goes"
            result.log.append(f"  {len(plan.grasps)} grasps, none can place it where it goes: trying the next rung first")
            deferred = deferred or robot.get_base_pose()
            continue
        around = way_back_points(cloud, obstacles)
        # Grasps are tried in the planner's order; the way back sets the rise where one was found (the
        # bounding-box check is conservative: preferring grasps with a clear way back, or skipping the
        # others, lost more episodes than it saved in the evaluation, docs/evaluation.md).
        for tried, grasp in enumerate(plan.grasps[: config.grasps_per_perception], start=1):
            way_back = grasp_retract(grasp, plan.shape, around, config)
            result.log.append(f"  grasp {tried}: {grasp.kind}, width {grasp.width_m * 100:.1f} cm, "
                              f"score {grasp.score:.2f}, way back: " +
                              (f"rise {way_back.rise_m:.2f} m" if way_back.ok else way_back.reason))
            steps: list[str] = []
            ok, why = execute_grasp(robot, grasp, cloud, provider, name, config, steps,
                                    way_back if way_back.ok else None)
            result.log.extend(f"    {s}" for s in steps)
            if ok and why:  # held, but the arm is stuck out: an honest failure, not a carried object
                result.reason = why
                result.log.append(f"    failed: {why}")
                return result
            if ok:
                hs = held_shape(grasp, plan.shape)
                result.success, result.grasp, result.reason = True, grasp, ""
                j = grasp.solution.joints
                result.held = HeldObject(below_grasp_m=-hs.bottom_m, radius_m=hs.radius_m, top_down=grasp.top_down,
                                         centre_in_grasp=hs.centre_in_grasp, height_m=hs.top_m - hs.bottom_m,
                                         pitch_rad=float(j.wrist_pitch) if grasp.pitched else None,
                                         roll_rad=float(j.wrist_roll))
                result.log.append(f"  holding {name}")
                return result
            reason = why
            result.log.append(f"    failed: {why}")
    result.reason = reason or f"could not pick {name}"
    log.info("pick %s failed after %d attempts: %s", name, result.attempts, result.reason)
    return result


def place(robot: Robot, receptacle: str | MaskProvider | np.ndarray, held: HeldObject,
          config: PickConfig | None = None, segment: SegmentFn | None = None,
          look_at: np.ndarray | None = None, placed_object: str | MaskProvider | None = None,
          obstacles: np.ndarray | None = None) -> PlaceResult:
    """Put the held object on the receptacle (a phrase for `segment`, a mask provider, or world points).

    With `placed_object` (the object's phrase or mask provider) the result is verified by looking: the
    object's lowest points must lie on the chosen support surface after release. `obstacles` (world points,
    e.g. the map's occupied voxels) join the check that the gripper and arm clear the scene above the spot
    (grasping.place.choose_place: a shelf board the head camera does not see from where it looks).
    """
    config = config or PickConfig()
    result = PlaceResult(False)
    base = robot.get_base_pose()
    scene = None
    if isinstance(receptacle, np.ndarray):
        points, name = receptacle, "the receptacle"
    else:
        provider, name = _provider(receptacle, segment)
        try:
            cloud, _ = perceive(robot, provider, name, look_at, config, recentre=look_at is not None,
                                steps=result.log)
        except ObjectNotSeenError as e:
            result.reason, result.seen = str(e), False
            return result
        points, scene = cloud.points, cloud.scene
    result.attempts = 1
    try:
        target = choose_place(points, base, held, scene, config.place, config.ik, name=name,
                              gripper=config.grasp.gripper, above_points=obstacles)
    except NoPlaceError as e:
        result.reason, result.free_spot, result.free_spots = str(e), e.free_spot, e.free_spots
        result.log.append(result.reason)
        return result
    result.target = target
    sol, pre = target.solution, target.pre_joints
    steps = result.log
    try:
        around = points if scene is None or len(scene) == 0 else np.concatenate([scene, points])
        lift_travel = place_travel_lift(target, held, around, config)
        move_joints_safely(robot, "lift to travel height", steps, lift_m=lift_travel)
        res = robot.move_base_to(sol.base_pose, tolerance_m=0.02, tolerance_rad=0.01)
        if not res.success:
            raise MotionFailed(f"base rotation failed: {res.reason}")
        move_joints_safely(robot, "set wrist", steps, wrist_yaw=sol.joints.wrist_yaw,
                           wrist_pitch=sol.joints.wrist_pitch, wrist_roll=sol.joints.wrist_roll)
        move_joints_safely(robot, "extend above the spot", steps, arm_m=pre.arm_m)
        move_joints_safely(robot, "lower to release height", steps, lift_m=sol.joints.lift_m, arm_m=sol.joints.arm_m)
    except MotionFailed as e:
        result.reason = str(e)
        retract(robot, steps)
        return result
    r = robot.set_gripper(STRETCH.limits.gripper_m[1])
    steps.append(f"release: {'ok' if r.success else r.reason}")
    up = min(robot.get_joints().lift_m + config.place_retract_up_m, STRETCH.limits.lift_m[1])
    robot.move_arm(lift_m=up)
    retract(robot, steps)
    holding = robot.is_holding()
    if holding:
        result.reason = "the object stayed in the gripper after opening it"
        return result
    if placed_object is not None:
        provider, oname = _provider(placed_object, segment)
        try:
            cloud, _ = perceive(robot, provider, oname, target.point, config, recentre=False, steps=steps)
        except ObjectNotSeenError as e:
            result.reason = f"after release: {e}"
            return result
        bottom = float(np.percentile(cloud.points[:, 2], 2.0))
        surface = float(target.surface.height_at(cloud.centroid[:2]))
        steps.append(f"check: {oname} bottom {bottom:.3f} m, surface {surface:.3f} m")
        if abs(bottom - surface) > config.verify_rest_m:
            result.reason = (f"{oname} is not resting on {name}: its bottom is {bottom - surface:+.2f} m "
                             "from the surface")
            return result
    result.success = True
    return result

"""The place phase of the task machine: put the held object on the receptacle the robot parked at.

1. As it is held (pitched down after a top-down grasp, level after a side grasp): at a free spot the arm
   reaches from where the robot parked; when the head camera does not find the receptacle, or what it
   masked holds no horizontal surface (a counter's front face seen from close by), on the map's own voxels
   of it (those of every hit of its description next to the one driven to, `receptacle_voxels`; their top
   faces, `top_voxels`); when no free spot is reachable from here, re-park next to the free spots it saw,
   nearest first, and try once more.
2. Held from above and still not placed (a shelf board with the next board closer above than the
   pitched-down wrist needs, a shelf top or counter above what the lift reaches with the object hanging
   below the gripper): on its side, the wrist pitched level (grasping.place.HeldObject.laid_on_side), first
   from here, then re-parked where the level arm reaches a free spot. While driving, the footprint is still
   that of the object as the stowed arm holds it.

Kept apart from orchestrator.task_machine, which calls `place_held` with its runner (robot, map voxels,
grid, navigators, notes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from grasping.execute import PlaceResult, place
from grasping.place import HeldObject
from mapping.query import Hit
from mapping.voxel_keys import pack_keys
from orchestrator.requests import Task
from orchestrator.task_report import TaskReport

if TYPE_CHECKING:
    from orchestrator.task_machine import TaskRunner


def place_held(runner: TaskRunner, report: TaskReport, task: Task, held: HeldObject, hit: Hit) -> PlaceResult:
    """Steps 1 and 2 of the module docstring; the last place result (its reason says why it failed). A
    gripper that holds nothing any more (the object slipped out or was knocked off on the way; a robot that
    cannot tell says None) places nothing: that is a failure, not a release over the spot."""
    if runner.robot.is_holding() is False:
        return PlaceResult(False, reason="the gripper holds nothing: the object was dropped on the way")
    res = _place_as(runner, report, task, held, held, hit)
    if res.success or not held.top_down or runner.robot.is_holding() is False:
        return res
    side = held.laid_on_side()
    if side is None:
        return res
    runner._note(report, f"place: not placed as held from above ({_first(res.reason)}); trying it on its side "
                         "with the wrist level")
    again = _place_as(runner, report, task, held, side, hit)
    if again.success or again.target is not None:
        return again
    # Neither way found a spot: report both reasons, as held first.
    again.reason = f"{res.reason}; on its side: {again.reason}"
    return again


RECEPTACLE_PARTS_GAP_M = 0.5
"""Hits of the receptacle's own description whose boxes come this close (horizontally) are parts of it."""


def receptacle_voxels(hit: Hit, hits: list[Hit], gap_m: float = RECEPTACLE_PARTS_GAP_M) -> np.ndarray:
    """The map's semantic rows of the receptacle the robot parked at: `hit`'s, with those of the other hits
    of its description whose boxes lie within `gap_m` of its box. The hit driven to may be a fragment (one
    voxel of a counter's foot, when the counter's top was out of the arm's reach from every pose) of a
    receptacle whose top the map holds in a bigger hit next to it."""
    parts = [np.asarray(hit.voxels, dtype=np.int64)]
    for other in hits:
        if other is hit or other.description != hit.description or hit.description is None:
            continue
        gap = np.maximum(0.0, np.maximum(other.lo[:2] - hit.hi[:2], hit.lo[:2] - other.hi[:2]))
        if float(np.hypot(*gap)) <= gap_m:
            parts.append(np.asarray(other.voxels, dtype=np.int64))
    return np.unique(np.concatenate(parts))


def top_voxels(coords: np.ndarray) -> np.ndarray:
    """The voxels (integer coords, (N, 3)) with no voxel of the set right above them: the top faces. On a
    shelf's voxels the boards' tops remain and its sides and back thin to their top rows, so the plane fit
    finds the boards first (on all its voxels, a side and the back outnumber a board)."""
    c = np.asarray(coords, dtype=np.int64).reshape(-1, 3)
    if len(c) == 0:
        return c
    keys = pack_keys(c)
    above = pack_keys(c + np.array([0, 0, 1], dtype=np.int64))
    return c[~np.isin(above, keys)]


def no_surface_seen(reason: str) -> bool:
    """Did the receptacle's points seen from here hold no horizontal support surface (grasping.place)?"""
    return reason.startswith("no horizontal support surface")


def _first(reason: str) -> str:
    return reason.split(";")[0]


def _place_as(runner: TaskRunner, report: TaskReport, task: Task, carried: HeldObject, held: HeldObject,
              hit: Hit) -> PlaceResult:
    """Place `held` (the object in the posture it is released in) from here, on the map's voxels when the
    camera does not see the receptacle, then re-parked at its free spots; `carried`: as the stowed arm holds
    it (the driving footprint)."""
    config = runner.config.pick
    res = place(runner.robot, task.receptacle_phrase, held, config, segment=runner._segment, look_at=hit.center,
                obstacles=runner._voxels)
    report.log.extend(f"    {line}" for line in res.log)
    fall_back = not res.seen or no_surface_seen(res.reason)
    voxels = receptacle_voxels(hit, runner._receptacle_hits) if fall_back else None  # noqa: SLF001
    if voxels is not None and len(voxels):
        # The detector does not find it in this view (a dark surface without depth, a missed detection), or
        # what it masked has no horizontal surface (a counter's front face seen from close by, its top above
        # the view): the map's own points of the receptacle, fused from many views, are where to put it.
        report.log.append(f"    {res.reason}: placing on the map's {len(voxels)} voxels of it")
        pts = (top_voxels(runner.map.semantic.coords[voxels]).astype(np.float64) + 0.5) * runner.map.voxel_size
        res = place(runner.robot, pts, held, config, obstacles=runner._voxels)
        report.log.extend(f"    {line}" for line in res.log)
    if res.success or res.free_spots is None or not len(res.free_spots):
        return res
    spot = repark_for_place(runner, report, res.free_spots, carried, held)
    if spot is None:
        return res
    res = place(runner.robot, task.receptacle_phrase, held, config, segment=runner._segment, look_at=spot,
                obstacles=runner._voxels)
    report.log.extend(f"    {line}" for line in res.log)
    return res


def repark_for_place(runner: TaskRunner, report: TaskReport, spots: np.ndarray, carried: HeldObject,
                     held: HeldObject | None = None) -> np.ndarray | None:
    """No spot on the receptacle was reachable from here, but free ones were seen (nearest first): park
    where the arm, in the posture `held` is released in (pitched down, or level), holds the object at its
    release height above the first one a base pose can be found and driven to; the footprint is that of
    `carried` where the stowed arm holds it. Returns that spot, or None."""
    held = held or carried
    if runner._stow(report):
        return None
    mode = (held.reach_mode,)
    # The release height is exact (the place's IK checks it again): no extra height margin here.
    navigator = runner.carry_navigator(carried, mode)
    lift = held.below_grasp_m + runner.config.pick.place.release_height_m
    for k, spot in enumerate(np.asarray(spots, dtype=float).reshape(-1, 3)):
        runner._note(report, f"place: the free spot at {np.round(spot, 2).tolist()} is out of reach; re-parking"
                             + (f" (spot {k + 1})" if k else "") + ("" if held is carried else " for the level wrist"))
        release = np.array([spot[0], spot[1], spot[2] + lift])
        plan = navigator.plan_to_target(runner._grid, runner.robot.get_base_pose(), release, None)
        if not plan.success:
            runner._note(report, f"place: no way to park at the free spot: {plan.reason}")
            continue
        ok, why = runner._follow(report, plan, (release, None), "place", navigator)
        if ok:
            return spot
        runner._note(report, f"place: re-parking failed: {why}")
        if runner._stow(report):
            return None
    return None

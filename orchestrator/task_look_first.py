"""Looking at an object from farther away first, when no pose within the arm's reach sees it.

An object on a low shelf board, under the board above, is hidden from the head camera at every base pose
close enough for the arm: the camera, 1.3 m up, looks down on the upper board. From a metre or two away
the sight line passes under that board. When the parked robot's head camera has no clear line to the
object through the map's occupied voxels (mapping.sight), the robot drives to the nearest free pose
0.6-2.5 m out that has one, segments the object there (grasping.execute.perceive, the pick's own frame
fusion), drives back to where it parked, and the pick plans its grasps on the points seen from afar
(`pick(seen=...)`). The points are in the world (map) frame, so they are as good as the robot's pose: exact
in the simulator's oracle profile, the localiser's few centimetres on a drifting or real base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.types import Pose2D, RGBDFrame
from grasping.execute import perceive
from grasping.object_points import ObjectCloud, ObjectNotSeenError
from mapping.query import Hit
from navigation.base_goal import SightCheck
from navigation.footprint import poses_clear
from orchestrator.task_report import TaskReport


@dataclass(frozen=True)
class LookFirstConfig:
    enabled: bool = True
    min_m: float = 0.6
    """Viewpoints at least this far from the object (horizontally)..."""
    max_m: float = 2.5
    """...and at most this far."""
    step_m: float = 0.1
    """Viewpoint candidates on a grid this fine."""
    preferred_m: float = 1.2
    """Among the viewpoints that see it, those nearest this distance from the object come first (closer
    views show more of it, farther ones look under more boards); then the shortest way from the base."""
    tries: int = 3
    """Viewpoints planned to, best first, before giving up."""


def viewpoints(runner, hit: Hit, sees: SightCheck, config: LookFirstConfig) -> list[Pose2D]:
    """Free base poses facing the object from which the head camera sees it, best first."""
    occ = runner.navigator.occupancy(runner._grid, runner.robot.get_base_pose())
    here = runner.robot.get_base_pose()
    c = np.asarray(hit.center, float)
    r = np.arange(-config.max_m, config.max_m + 1e-9, config.step_m)
    xy = np.stack(np.meshgrid(c[0] + r, c[1] + r, indexing="ij"), axis=-1).reshape(-1, 2)
    d = np.linalg.norm(xy - c[:2], axis=1)
    xy, d = xy[(d >= config.min_m) & (d <= config.max_m)], d[(d >= config.min_m) & (d <= config.max_m)]
    keep = occ.is_traversable(xy)
    comp = occ.component_of(np.array([[here.x, here.y]]))[0]
    if comp >= 0:
        keep &= occ.component_of(xy) == comp
    xy, d = xy[keep], d[keep]
    theta = np.arctan2(c[1] - xy[:, 1], c[0] - xy[:, 0])
    keep = poses_clear(occ, xy, theta, runner.config.navigation.footprint)
    xy, d, theta = xy[keep], d[keep], theta[keep]
    if not len(xy):
        return []
    poses = np.column_stack([xy, theta])
    seen = np.asarray(sees(poses), bool)
    poses, d = poses[seen], d[seen]
    cost = np.abs(d - config.preferred_m) + 0.25 * np.linalg.norm(poses[:, :2] - [here.x, here.y], axis=1)
    return [Pose2D(*map(float, p)) for p in poses[np.argsort(cost, kind="stable")]]


def _drive(runner, report: TaskReport, goal: Pose2D, what: str) -> str:
    """Plan and drive to `goal` (re-planning once from where a drive stopped); '' when there."""
    why = ""
    for _ in range(runner.config.replans + 1):
        plan = runner.navigator.plan_to_pose(runner._grid, runner.robot.get_base_pose(), goal)
        if not plan.success:
            return why + ("; " if why else "") + plan.reason
        report.paths_xy.append(np.asarray(plan.smoothed_xy, dtype=float))
        runner._note(report, f"{what}: driving {plan.length_m:.2f} m to {np.round(goal.to_list(), 2).tolist()}")
        res = runner.robot.follow_waypoints(plan.waypoints)
        if res.success:
            return ""
        why = res.reason
    return why


def look_from_afar(runner, report: TaskReport, hit: Hit, phrase: str, sees: SightCheck,
                   config: LookFirstConfig) -> tuple[ObjectCloud, RGBDFrame] | None:
    """From where the base is parked (and returns to): the object's points seen from a viewpoint that sees
    it, or None when no viewpoint was reached or it was not seen from there."""
    parked = runner.robot.get_base_pose()
    view = None
    for k, pose in enumerate(viewpoints(runner, hit, sees, config)[: config.tries]):
        why = _drive(runner, report, pose, "look from afar")
        if why:
            runner._note(report, f"look from afar: viewpoint {k + 1} not reached ({why})")
            continue
        try:
            view = perceive(runner.robot, lambda f: runner._segment(f, phrase), phrase, np.asarray(hit.center),
                            runner.config.pick, steps=report.log)
            runner._note(report, f"look from afar: {phrase} seen from {np.round(pose.to_list(), 2).tolist()} "
                                 f"({len(view[0].points)} points)")
            break
        except ObjectNotSeenError as e:
            runner._note(report, f"look from afar: viewpoint {k + 1}: {e}")
    if view is None:
        runner._note(report, "look from afar: no viewpoint it was seen from")
    if runner.robot.get_base_pose() != parked:
        why = _drive(runner, report, parked, "back to the reach pose")
        if why:
            runner._note(report, f"look from afar: could not drive back ({why})")
            return None
    return view

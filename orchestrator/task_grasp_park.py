"""Re-parking for a grasp: when no grasp of the object works from where the base parked, park for one.

The pick phase first parks for the object's centre (one reach mode, orchestrator.task_machine). When the
grasp planner then finds nothing from there (every grasp out of the arm's reach, or every reachable one
colliding on its approach: a box behind a mug, a cup deep on a counter), the points the head camera just saw
say which grasps would work from somewhere: grasping.approaches proposes them from every side, collision-
free with a clear straight approach. For each, best first, the navigator parks where the arm reaches that
grasp (pitched down for top-down and rim grasps; level, or pitched 45 degrees down for angled grasps, and
pointing along the approach heading for side and angled grasps), the grasp planner checks from that pose that a grasp is feasible there (IK, approach sweep, arm),
and only then does the robot drive there and pick again (re-perceiving from the new pose).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from grasping.approaches import Approach, free_approaches
from grasping.execute import PickResult
from grasping.planner import plan_grasps
from navigation.navigator import Navigator
from orchestrator.task_report import TaskReport


@dataclass(frozen=True)
class GraspParkConfig:
    enabled: bool = True
    max_approaches: int = 24
    """Approaches tried (distinct family and heading), best first, pitched ones (angled) last. Each one
    that no base pose reaches costs one base-goal search (a few ms); on a sofa crowded with objects the one
    that works can come late (10463:1, a mug deep on a bed: an angled grasp from the robot's side of the bed,
    after the top-down, side and other angled ones from where no base can stand)."""
    arm_heading_tolerance_rad: float = 0.3
    """A side grasp's base points the arm within this of its approach heading."""


def approach_navigator(runner, approach: Approach, config: GraspParkConfig) -> Navigator:
    """The runner's navigator, parking where the arm reaches `approach` in its posture."""
    nav = runner.config.navigation
    goal = nav.base_goal
    if approach.top_down:
        goal = replace(goal, modes=("down",), arm_heading=None)
    else:
        mode = "angled" if approach.pitched else "straight"
        goal = replace(goal, modes=(mode,), arm_heading=approach.heading,
                       arm_heading_tolerance_rad=config.arm_heading_tolerance_rad)
    return Navigator(replace(nav, base_goal=goal), planner=runner.navigator.planner)


def park_for_a_grasp(runner, report: TaskReport, failed: PickResult, place_z: float | None,
                     config: GraspParkConfig) -> tuple[bool, str]:
    """Drive to a base pose from which a grasp of the object seen in `failed` is feasible.
    Returns (parked, what was tried); the caller picks again when parked."""
    if not config.enabled or failed.cloud is None or failed.camera_xyz is None:
        return False, "no view of the object to plan from"
    pick_cfg = runner.config.pick
    approaches = free_approaches(failed.cloud, failed.camera_xyz, pick_cfg.grasp, config.max_approaches)
    if not approaches:
        return False, "no collision-free grasp from any side"
    tried = []
    for a in approaches:
        what = a.kind if a.top_down else f"{a.kind}{' (pitched)' if a.pitched and a.kind == 'rim' else ''} from " \
            f"{np.degrees(a.heading):.0f} deg"
        nav = approach_navigator(runner, a, config)
        start = runner.robot.get_base_pose()
        target = (a.centre, None, None)
        plan = nav.plan_to_target(runner._grid, start, *target)
        if not plan.success:
            tried.append(f"{what}: {plan.reason}")
            continue
        check = plan_grasps(failed.cloud, plan.goal, pick_cfg.grasp, pick_cfg.ik, place_height_m=place_z,
                            release_m=pick_cfg.place.release_height_m, camera_xyz=failed.camera_xyz)
        if not check.grasps:
            tried.append(f"{what}: parked at {np.round(plan.goal.to_list(), 2).tolist()}, {check.reason}")
            continue
        runner._note(report, f"navigate_to_object: parking for {'an' if what[0] in 'aeiou' else 'a'} {what} grasp")
        ok, why = runner._follow(report, plan, target, "navigate_to_object", nav)
        if ok:
            return True, what
        tried.append(f"{what}: {why}")
    return False, "; ".join(tried)

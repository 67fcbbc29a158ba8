"""Which pick failures make the task machine park the base elsewhere (orchestrator.task_machine).

A pick that failed for want of a grasp that works from this base pose (out of reach, colliding on the
approach, every candidate touching the scene from this side) may succeed from another one: the task
machine re-parks for another grasp (orchestrator.task_grasp_park). Only reach failures also change the
reach mode (down, straight, angled); other failures (the object not seen, a grasp closing on nothing) do
not re-park at all. An object not seen where one hit put it is looked for at the phrase's next hit
(`not_seen`: a detector's false positive made that hit, or the map placed the object there badly). Decided
from the pick's reason text (grasping.execute, grasping.planner).
"""

from __future__ import annotations


def replannable(reason: str) -> bool:
    """Did a pick fail for want of a grasp that works from this base pose (out of reach, colliding on the
    approach, or every candidate touching the scene from this side), so that another base pose may have one?"""
    text = reason.lower()
    return reach_failure(reason) or "every reachable grasp collides" in text or (
        "candidates rejected: collides with the scene" in text)


def reach_failure(reason: str) -> bool:
    """Did a pick fail because the arm could not reach from where the base stood?"""
    text = reason.lower()
    return any(k in text for k in ("cannot reach", "out of lift range", "out of reach", "unreachable"))


def not_seen(reason: str) -> bool:
    """Did the pick not see the object at all from where the base parked for this hit?"""
    return "not in the head camera's view" in reason.lower()

"""The navigator the task machine drives with while it carries an object (the held object is part of the
robot: its footprint joins the base's for parking poses, turns in place and straight drives)."""

from __future__ import annotations

from dataclasses import replace

from core.types import JointState
from grasping.place import HeldObject
from navigation.navigator import NavigationConfig, Navigator


def carrying_navigator(config: NavigationConfig, held: HeldObject, joints: JointState,
                       modes: tuple[str, ...] | None = None) -> Navigator:
    """The navigator for driving with `held` in the gripper, the arm at `joints` (stowed): its footprint
    (parking poses, turns in place, straight drives) covers the base and the held object (which sticks out
    on the arm side after a top-down grasp). `modes`: park only for these reach modes, at the exact height
    (no height margin: the place's IK checks it again)."""
    outline = held.outline_in_base(joints)
    goal = config.base_goal
    goal = replace(goal, footprint=None if goal.footprint is None else goal.footprint.including(outline))
    if modes is not None:
        goal = replace(goal, modes=modes, height_margin_m=0.0)
    return Navigator(replace(config, footprint=config.footprint.including(outline), base_goal=goal))

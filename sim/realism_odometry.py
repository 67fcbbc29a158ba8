"""Drifting wheel odometry for the simulated base (sim.realism.OdometryNoise).

The robot commands goals in its odometry frame and believes it reaches them (as a real base whose
controller closes the loop on its wheel encoders); the true motion differs by the encoders' error. The
model keeps the transform `T_true_odom` (odometry frame -> true world): a goal in the odometry frame is
driven to at `T_true_odom * goal` after corrupting the motion; the reported pose is
`T_true_odom^-1 * true pose`, so after a collision-free motion it equals the commanded goal, while the true
pose drifts like a differential-drive base's (errors grow with distance driven and rotation turned, plus a
slow random walk in time).
"""

from __future__ import annotations

import math

import numpy as np

from core.types import Pose2D, wrap_angle
from sim.realism import OdometryNoise


def compose(a: Pose2D, b: Pose2D) -> Pose2D:
    """a * b (b expressed in a's frame)."""
    c, s = math.cos(a.theta), math.sin(a.theta)
    return Pose2D(a.x + c * b.x - s * b.y, a.y + s * b.x + c * b.y, wrap_angle(a.theta + b.theta))


def inverse(a: Pose2D) -> Pose2D:
    c, s = math.cos(a.theta), math.sin(a.theta)
    return Pose2D(-c * a.x - s * a.y, s * a.x - c * a.y, wrap_angle(-a.theta))


class OdometryModel:
    """Reported (odometry) pose <-> true pose, with error injected per motion."""

    def __init__(self, cfg: OdometryNoise, rng: np.random.Generator, true_start: Pose2D) -> None:
        self.cfg = cfg
        self.rng = rng
        # The odometry frame starts where the true world frame is (the map frame at the start of a session).
        self.T_true_odom = Pose2D(0.0, 0.0, 0.0)
        del true_start  # the first reported pose equals the true one

    def reported(self, true_pose: Pose2D) -> Pose2D:
        return compose(inverse(self.T_true_odom), true_pose)

    def to_true(self, odom_pose: Pose2D) -> Pose2D:
        return compose(self.T_true_odom, odom_pose)

    def true_goal(self, true_now: Pose2D, odom_goal: Pose2D) -> Pose2D:
        """Where the base really ends when told to go from here to `odom_goal`: the commanded motion,
        decomposed as rotate-translate-rotate, with each part's error drawn from the odometry motion model.
        Updates `T_true_odom` so the reported pose at that true goal is exactly `odom_goal`; `walk` adds
        the slow random walk over the motion's duration."""
        if not self.cfg.enabled:
            return self.to_true(odom_goal)
        odom_now = self.reported(true_now)
        dx, dy = odom_goal.x - odom_now.x, odom_goal.y - odom_now.y
        trans = math.hypot(dx, dy)
        rot1 = wrap_angle(math.atan2(dy, dx) - odom_now.theta) if trans > 1e-9 else 0.0
        if abs(rot1) > math.pi / 2 and trans > 1e-9:  # driven backwards, as sim.base_motion does
            rot1 = wrap_angle(rot1 + math.pi)
            trans = -trans
        rot2 = wrap_angle(odom_goal.theta - odom_now.theta - rot1)
        c, r = self.cfg, self.rng
        turned = abs(rot1) + abs(rot2)
        e_rot1 = r.normal(0.0, c.rot_per_rad * abs(rot1) + 0.5 * c.rot_per_m * abs(trans))
        e_trans = r.normal(0.0, c.trans_per_m * abs(trans) + c.trans_per_rad * turned)
        e_rot2 = r.normal(0.0, c.rot_per_rad * abs(rot2) + 0.5 * c.rot_per_m * abs(trans))
        t = trans + math.copysign(1.0, trans) * e_trans if trans else 0.0
        a1 = rot1 + e_rot1
        true_delta = Pose2D(t * math.cos(a1), t * math.sin(a1), wrap_angle(a1 + rot2 + e_rot2))
        goal = compose(true_now, true_delta)
        self.T_true_odom = compose(goal, inverse(odom_goal))
        return goal

    def walk(self, true_now: Pose2D, seconds: float) -> None:
        """The slow random walk over `seconds`: the reported pose moves while the true one stays."""
        if not self.cfg.enabled or seconds <= 0:
            return
        c, r, s = self.cfg, self.rng, math.sqrt(seconds)
        step = Pose2D(r.normal(0.0, c.walk_m_per_sqrt_s * s), r.normal(0.0, c.walk_m_per_sqrt_s * s),
                      r.normal(0.0, c.walk_rad_per_sqrt_s * s))
        self.T_true_odom = compose(true_now, inverse(compose(self.reported(true_now), step)))

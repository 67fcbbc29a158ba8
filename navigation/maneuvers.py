"""Heading-aware touches on a planned path, for a base that turns in place and drives straight.

A robot following waypoints turns towards the next waypoint, drives straight to it, and at the last one
turns to the final heading. Turns sweep the whole (off-centre) base footprint (see footprint.py), so:
- `turn_checks` lists each turn (at the start and at every waypoint) and whether its sweep is clear, the
  turns as the base makes them: towards a waypoint ahead, or, for one more than 90 degrees off its heading,
  the smaller turn that points its back at it (it then backs up: core.stretch.drive_heading, the rule the
  simulated and the real base follow), and at each waypoint to the waypoint's heading;
- `approach_point` finds a point with room to turn on the goal's heading line (behind it, else ahead of it),
  so the robot drives the last stretch already facing the final heading (forwards, or backing up) and
  does not turn next to the furniture it parks at; `maneuverable` asks whether a goal has one (or room
  to turn in place), so the robot can also leave it;
- `clear_start_turn` finds, for a robot whose one turn at the start would touch furniture, a turn in place
  that does not (the other way round, or to back up instead of driving forwards);
- `escape_point` finds a point straight ahead or behind the start (reached without turning) with room to
  turn, for a robot parked close to furniture.
"""

from __future__ import annotations

import math

import numpy as np

from core.stretch import drive_heading
from core.types import Pose2D, wrap_angle
from navigation.footprint import Footprint, poses_clear, turn_clear
from navigation.lineofsight import los_clearance, segment_min_clearance
from navigation.occupancy import OccupancyGrid

APPROACH_DISTANCES_M = (0.5, 0.4, 0.3, 0.2) + tuple(round(0.6 + 0.1 * k, 2) for k in range(20))
"""Tried in this order: short approaches first, then up to 2.5 m, so the base can park side-on along the
middle of a long table or counter (where it cannot turn) by driving in along the edge from beyond its end."""


def maneuverable(grid: OccupancyGrid, pose: Pose2D, distances_m: tuple[float, ...], fp: Footprint) -> bool:
    """The base can reach and leave `pose`: room to turn in place there, or a straight approach."""
    if float(grid.clearance_at(pose.xy)[0]) >= fp.turn_radius_m + fp.margin_m:
        return True
    return approach_point(grid, pose, distances_m, fp) is not None


def _heading(a: np.ndarray, b: np.ndarray, default: float) -> float:
    d = np.asarray(b, np.float64) - np.asarray(a, np.float64)
    return float(math.atan2(d[1], d[0])) if np.hypot(*d) > 1e-6 else default


def turn_checks(grid: OccupancyGrid, start: Pose2D, waypoints: list[Pose2D], fp: Footprint) -> list[tuple[int, bool]]:
    """[(waypoint index, clear)] for every turn: index -1 is the turn at the start; index k covers the turns at
    waypoint k (to its heading, then towards waypoint k + 1)."""
    out = []
    if not waypoints:
        return out
    here = start.xy
    heading = start.theta
    for k, wp in enumerate(waypoints):
        clear = True
        if np.hypot(*(wp.xy - here)) > 0.01:  # drive_to turns towards a goal farther than 1 cm, then drives
            travel = drive_heading(heading, _heading(here, wp.xy, heading))
            clear = turn_clear(grid, here, heading, travel, fp)
            heading = travel
        if k == 0:
            out.append((-1, clear))
        else:
            out[-1] = (k - 1, out[-1][1] and clear)
        out.append((k, turn_clear(grid, wp.xy, heading, wp.theta, fp)))
        here, heading = wp.xy, wp.theta
    return out


def arc_clear(grid: OccupancyGrid, xy: np.ndarray, theta_from: float, delta: float, fp: Footprint) -> bool:
    """True when turning in place at xy from theta_from by `delta` (signed, either way round) stays clear."""
    n = max(int(math.ceil(abs(delta) / fp.turn_step_rad)), 1)
    thetas = theta_from + delta * np.arange(n + 1) / n
    return bool(poses_clear(grid, np.repeat(np.asarray(xy, np.float64).reshape(1, 2), n + 1, axis=0), thetas, fp).all())


def clear_start_turn(grid: OccupancyGrid, start: Pose2D, toward: np.ndarray, fp: Footprint,
                     max_step_rad: float = math.radians(100.0)) -> list[float] | None:
    """Headings to turn through in place at the start, each step the short way round, so that the base ends
    facing `toward` (to drive forwards) or facing away from it (to back up) without its footprint touching
    anything, where the one turn drive_to would make sweeps into furniture: the other way round, or the other
    end of the base first. Smallest total turn first; None when no turn is clear."""
    travel = _heading(start.xy, toward, start.theta)
    options = []
    for end in (travel, wrap_angle(travel + math.pi)):
        short = wrap_angle(end - start.theta)
        for delta in (short, short - math.copysign(2 * math.pi, short) if abs(short) > 1e-9 else 0.0):
            options.append(delta)
    for delta in sorted(options, key=abs):
        if arc_clear(grid, start.xy, start.theta, delta, fp):
            n = max(int(math.ceil(abs(delta) / max_step_rad)), 1)
            return [wrap_angle(start.theta + delta * k / n) for k in range(1, n + 1)]
    return None


def straight_clear(grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, theta: float, fp: Footprint) -> bool:
    """The footprint, held at heading theta, stays clear while the base moves straight from a to b."""
    n = max(int(math.ceil(np.linalg.norm(np.subtract(b, a)) / 0.05)), 1)
    t = np.arange(n + 1)[:, None] / n
    xy = np.asarray(a, np.float64) + t * (np.asarray(b, np.float64) - np.asarray(a, np.float64))
    return bool(poses_clear(grid, xy, np.full(n + 1, theta), fp).all())


def approach_point(grid: OccupancyGrid, goal: Pose2D, distances_m: tuple[float, ...], fp: Footprint) -> np.ndarray | None:
    """A point on the goal's heading line, `d` behind it (first choice) or ahead of it, with room to turn,
    from which the base reaches the goal by driving straight (forwards, or backing up from ahead) without
    turning next to the obstacles around the goal."""
    heading = np.array([math.cos(goal.theta), math.sin(goal.theta)])
    need = los_clearance(grid)
    for sign in (-1.0, 1.0):
        for d in distances_m:
            p = goal.xy + sign * d * heading
            if not grid.is_traversable(p)[0]:
                continue
            # Farther approach points turn with 5 cm to spare: the robot may stop a little off them.
            if float(grid.clearance_at(p)[0]) < fp.turn_radius_m + fp.margin_m + (0.05 if d > 0.5 else 0.0):
                continue
            if segment_min_clearance(grid, p[None], goal.xy[None])[0] < min(need, float(grid.clearance_at(goal.xy)[0])):
                continue
            if straight_clear(grid, p, goal.xy, goal.theta, fp):
                return p
    return None


def escape_point(grid: OccupancyGrid, start: Pose2D, toward: np.ndarray, distances_m: tuple[float, ...],
                 fp: Footprint, leave_fp: Footprint | None = None) -> np.ndarray | None:
    """A point straight ahead of or behind the start (no turn needed to get there) from which turning
    towards `toward` is clear; nearest first (at each distance: behind, then ahead). The straight drive is
    checked with `leave_fp` when given (footprint.leaving: a start already inside the margin), the pose and
    the turn at the point with `fp`."""
    if not distances_m:
        return None
    leave_fp = fp if leave_fp is None else leave_fp
    fwd = np.array([math.cos(start.theta), math.sin(start.theta)])
    far = max(distances_m)
    s_line = far * np.arange(max(int(math.ceil(far / 0.05)), 1) + 1) / max(int(math.ceil(far / 0.05)), 1)
    # The footprint sweeps the whole straight drive: one batched check per direction (samples 5 cm apart up
    # to the farthest distance), then "clear all the way so far" as a running AND.
    swept = {}
    for sign in (-1.0, 1.0):
        line = start.xy + sign * s_line[:, None] * fwd
        swept[sign] = np.logical_and.accumulate(poses_clear(grid, line, np.full(len(line), start.theta), leave_fp))
    for d in distances_m:
        k = int(np.searchsorted(s_line, d + 1e-9)) - 1  # the last sample at or before d
        for sign in (-1.0, 1.0):
            p = start.xy + sign * d * fwd
            if not swept[sign][k] or not grid.is_traversable(p)[0] or \
                    not poses_clear(grid, p[None], np.array([start.theta]), fp)[0]:
                continue
            if turn_clear(grid, p, start.theta, drive_heading(start.theta, _heading(p, toward, start.theta)), fp):
                return p
    return None

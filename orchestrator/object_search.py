"""Search when the map is wrong: the object is not where the map says (moved or taken away since the scan).

The task machine (orchestrator.task_machine) drives to the map's best hit for the object; before it picks,
`ObjectSearch.confirm` looks at the hit with a fresh head-camera frame (grasping.execute.perceive, the
pick's own look). The object is confirmed when the phrase's mask is seen within `confirm_radius_m` of the
hit. Otherwise the hit is **stale**: its place joins the stale set (hits near a stale place are skipped
from then on) and its semantic voxels leave the map (negative evidence from a look straight at it; the
frame itself is fused by the live map, so an object seen elsewhere in that view is added where it is now).

When the hits run out, `ObjectSearch.more` widens the search, one stage at a time, within a budget
(`SearchConfig`: places and seconds):
1. look around where the robot stands (head pans), fusing every frame, and ask the map again;
2. drive to the nearest furniture surfaces of the map (cells of the obstacle grid whose highest point is at
   table/counter/shelf height, clustered: where objects are put down), nearest the stale place first,
   look at each (and around it) and ask the map again;
3. explore nearby unseen areas: the frontiers of the map's occupancy grid (navigation.frontiers, the finder
   frontier exploration uses, orchestrator.exploration: seen floor next to floor never seen, each with a
   viewpoint that sees it) within `explore_radius_m` of the stale place, best first; drive to each one's
   viewpoint, look around (every frame fused), rebuild the obstacle grid (the new floor is now known) and
   ask the map again, at most `explore_frontiers` of them.
Each fresh answer above the map's not-found threshold that is not near a stale place is tried in turn.
When nothing is left, `not_found_reason()` says so in one line with where it looked.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from core.stretch import STRETCH, head_look_at
from grasping.execute import perceive
from grasping.object_points import ObjectNotSeenError
from navigation.frontiers import FrontierConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mapping.query import Hit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchConfig:
    """How far the robot searches for an object that is not where the map says."""

    enabled: bool = True
    confirm_radius_m: float = 0.35
    """A fresh view of the phrase's mask within this of the hit (horizontally) confirms it."""
    stale_radius_m: float = 0.35
    """Hits within this of a stale place are not tried again."""
    look_pans: int = 5
    """Head pans of a look-around (spread over the pan range)."""
    look_tilt: float = -0.55
    """Head tilt while looking around (about 30 degrees down: tables and counters in view)."""
    surfaces: int = 8
    """Furniture surfaces driven to and looked at after the look-around (0: none); those the camera has seen
    since the search began are skipped without driving there (`surface_seen_share`)."""
    surface_seen_share: float = 0.6
    """A surface whose top voxels (occupancy, within 0.1 m of its height) were this share or more seen by the
    frames fused since the search began (their `last_seen`) was looked at already (from the look-around, a
    drive, another surface): the object is not on it, and it is not driven to."""
    surface_heights_m: tuple[float, float] = (0.3, 1.3)
    """Obstacle-grid cells whose highest point lies in this band are surfaces objects are put on."""
    surface_min_depth_m: float = 0.25
    """Surfaces are at least this wide both ways (thinner runs of cells at that height are walls)."""
    min_surface_cells: int = 12
    """Smaller clusters of such cells are not surfaces (a chair's seat edge, noise)."""
    explore_frontiers: int = 3
    """Frontiers of unseen floor driven to and looked around from after the surfaces (0: none)."""
    explore_radius_m: float = 6.0
    """Only frontier cells within this (along x and y) of the first stale place count: nearby unseen areas
    (an apartment's rooms are a few metres across; the budget bounds the driving)."""
    frontier: FrontierConfig = field(default_factory=FrontierConfig)
    """How frontiers are found (navigation.frontiers)."""
    budget_s: float = 240.0
    """The search stops widening after this long (seconds of the robot's clock since the first look at a hit:
    the timestamps of the frames the live map fused, simulated seconds in simulation; the wall clock without
    live updates)."""


@dataclass
class _Place:
    xy: np.ndarray
    what: str


class ObjectSearch:
    """The search for one phrase during one request; `runner` is the TaskRunner doing the request."""

    def __init__(self, runner, phrase: str, config: SearchConfig | None = None) -> None:
        self.runner = runner
        self.phrase = phrase
        self.config = config or SearchConfig()
        self.stale: list[np.ndarray] = []  # (x, y) of stale hits
        self.looked: list[_Place] = []  # where the robot looked, in order
        self._stages: list[str] = (["look_around"] + [f"surface {k}" for k in range(self.config.surfaces)]
                                   + [f"frontier {k}" for k in range(self.config.explore_frontiers)])
        self._visited: list[np.ndarray] = []
        self._frontiers_tried: list[np.ndarray] = []
        self._sightings: list[Hit] = []  # where the search's own views showed the phrase (`_spot`)
        self._seen: list[np.ndarray] = []  # where a stage saw it (then tried: a way to it may be missing)
        self._t0: float | None = None
        self._robot_clock: bool | None = None
        self._f0: int | None = None  # the map's frame count when the search began (surfaces seen since)
        self._description: str | None = None
        self.views = 0

    # -- hits ---------------------------------------------------------------------------------------------
    def remember(self, hits: list[Hit]) -> list[Hit]:
        """Keep fresh hits on their voxels while the map is updated (orchestrator.live_map) and return them."""
        live = self.runner.live
        if live is not None:
            live.keep_hits(hits)
        return hits

    def is_stale(self, hit: Hit) -> bool:
        c = np.asarray(hit.center[:2], dtype=float)
        return any(np.hypot(*(c - s)) < self.config.stale_radius_m for s in self.stale)

    def attempts(self, report, hits: list[Hit], modes: dict) -> Iterator[tuple]:
        """(hit, reach mode, navigator) to try in turn: the map's hits, then what the search stages find."""
        self._description = next((h.description for h in hits if h.description is not None), None)
        queue = list(hits)
        while True:
            while queue:
                hit = queue.pop(0)
                for mode, navigator in modes.items():
                    if self.is_stale(hit):
                        break
                    yield hit, mode, navigator
            queue = self.more(report)
            if not queue:
                return

    # -- confirming a hit ------------------------------------------------------------------------------
    def confirm(self, report, hit: Hit) -> bool:
        """Look at the hit from where the robot parked: True if the object is there; else mark it stale."""
        self.begin()
        robot = self.runner.robot
        pick_cfg = self.runner.config.pick
        steps: list[str] = []
        try:
            cloud, _ = perceive(robot, lambda frame: self._masks_of(frame, hit), self.phrase,
                                np.asarray(hit.center, dtype=float), pick_cfg, recentre=False, steps=steps)
            seen = cloud.centroid
        except ObjectNotSeenError:
            seen = None
        if self._t0 is None:
            self._t0 = self._now()
        self.views += 1
        centre = np.asarray(hit.center, dtype=float)
        self.looked.append(_Place(centre[:2].copy(), "hit"))
        if seen is not None and np.hypot(*(np.asarray(seen[:2]) - centre[:2])) <= self.config.confirm_radius_m:
            return True
        where = "not in view" if seen is None else f"seen instead at {_xy(seen)}"
        self.runner._note(report, f"search: '{self.phrase}' is not at the map's hit {_xy(centre)} "  # noqa: SLF001
                                  f"({where}); marking it stale")
        self.mark_stale(hit)
        return False

    def begin(self) -> None:
        """The search begins (the first look at a hit): frames fused from now on count as looks at the
        home since (`seen_share`)."""
        if self._f0 is None:
            self._f0 = int(self.runner.map.metadata.frames)

    def _masks_of(self, frame, hit: Hit | None) -> list[tuple[np.ndarray, float]]:
        """The phrase's masks in a frame, without those perception names as another of the map's instances
        (a black mug seen where the yellow one stood is not the yellow one)."""
        known = {i.get("description") for i in self.runner.map.metadata.instances}
        want = self._description if hit is None else hit.description
        out = []
        for o in self.runner.perception.segment_text(frame, self.phrase):
            if want is not None and o.label and o.label != want and o.label in known:
                continue
            out.append((o.mask, float(o.score)))
        return out

    def mark_stale(self, hit: Hit) -> int:
        """Add the hit's place to the stale set and drop its semantic voxels from the map; returns how many."""
        self.stale.append(np.asarray(hit.center[:2], dtype=float).copy())
        sem = self.runner.map.semantic
        rows = np.asarray(hit.voxels, dtype=np.int64)
        rows = rows[(rows >= 0) & (rows < len(sem))]
        if rows.size == 0:
            return 0
        keep = np.ones(len(sem), bool)
        keep[rows] = False
        gone = sem.remove(keep)
        if self.runner.live is not None:
            self.runner.live.refresh_hits()
        return gone

    # -- widening the search --------------------------------------------------------------------------
    def more(self, report) -> list[Hit]:
        """Run search stages until one finds fresh hits (returned) or the budget or the stages run out."""
        if not self.stale:  # nothing was found stale: the ordinary failures stand, no search
            return []
        while self._stages:
            if self._t0 is not None and self._now() - self._t0 > self.config.budget_s:
                self.runner._note(report, f"search: budget of {self.config.budget_s:.0f} s spent")  # noqa: SLF001
                self._stages.clear()
                break
            stage = self._stages.pop(0)
            if stage == "look_around":
                self._look_around(report)
            elif stage.startswith("surface") and not self._visit_surface(report):
                self._stages = [s for s in self._stages if not s.startswith("surface")]
                continue
            elif stage.startswith("frontier") and not self._visit_frontier(report):
                self._stages = [s for s in self._stages if not s.startswith("frontier")]
                continue
            hits = self._ask()
            hits += [h for h in self._sightings if not self.is_stale(h)
                     and all(np.hypot(*(h.center[:2] - m.center[:2])) > self.config.stale_radius_m for m in hits)]
            self._sightings.clear()
            if hits:
                self._seen.append(np.asarray(hits[0].center[:2], dtype=float).copy())
                where = "seen in a view" if hits[0].details.get("sighting") else "now in the map"
                self.runner._note(report, f"search: '{self.phrase}' {where} at {_xy(hits[0].center)} "  # noqa: SLF001
                                          f"(score {hits[0].score:.2f}) after {stage}")
                return hits
        return []

    def _now(self) -> float:
        """The robot's clock: the timestamp of the last frame the live map fused (simulated seconds in
        simulation), else (no live map, or a robot whose frames carry no time) the wall clock; which of the
        two is decided when the budget starts."""
        if self._robot_clock is None:
            self._robot_clock = self._stamp() > 0.0
        return self._stamp() if self._robot_clock else time.perf_counter()

    def _stamp(self) -> float:
        live = self.runner.live
        return float(getattr(live, "last_stamp", 0.0)) if live is not None else 0.0

    def _look_around(self, report, pans: tuple[float, ...] | None = None, what: str = "look-around") -> None:
        robot = self.runner.robot
        lo, hi = STRETCH.limits.head_pan
        n = max(1, self.config.look_pans)
        pans = pans or tuple(float(hi - k * (hi - lo) / max(n - 1, 1)) for k in range(n))
        for pan in pans:
            robot.set_head(pan, self.config.look_tilt)
            self._spot(robot.observe().frame)  # also fused into the map by the live map (orchestrator.live_map)
            self.views += 1
        here = robot.get_base_pose()
        self.looked.append(_Place(here.xy.copy(), what))
        self.runner._note(report, f"search: looked around at {_xy(here.xy)} ({len(pans)} views, {what})")  # noqa: SLF001

    def _spot(self, frame) -> None:
        """Where a search view itself shows the phrase's mask (perception on the frame, not the map): a
        sighting, tried like a hit. The map may not answer there: a flat object (a plate, a sponge) put on a
        table the scan mapped adds almost no voxels of its own, and the table's many observations outweigh it
        in the voxels they share."""
        from grasping.object_points import object_cloud
        from mapping.hits import Hit

        cfg = self.runner.config.pick
        for mask, score in self._masks_of(frame, None):
            if score < cfg.min_mask_score or not np.any(mask):
                continue
            try:
                cloud = object_cloud(frame, mask, cfg.points, name=self.phrase)
            except ObjectNotSeenError:
                continue
            lo, hi = cloud.bounds
            hit = Hit(center=np.asarray(cloud.centroid, dtype=float), extent=np.asarray(hi - lo, dtype=float),
                      score=float(score), voxels=np.zeros(0, np.int64), label=self.phrase,
                      description=self._description, query=self.phrase, details={"sighting": True})
            if self.is_stale(hit) or any(np.hypot(*(hit.center[:2] - h.center[:2])) < self.config.stale_radius_m
                                         for h in self._sightings):
                continue
            self._sightings.append(hit)

    def _ask(self) -> list[Hit]:
        """The map's hits for the phrase now: above the not-found threshold, the same instance where the map
        knows instances, away from every stale place."""
        from core.errors import OvmmError

        runner = self.runner
        try:
            hits = runner.map.query_text(self.phrase, runner.perception, runner.config.query)
        except OvmmError:
            return []
        thr, _, _ = runner.thresholds()
        good = [h for h in hits if h.score >= thr and not self.is_stale(h)
                and (self._description is None or h.description in (None, self._description))]
        return self.remember(good[: runner.config.candidates])

    def surfaces(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(centre xyz, extent xyz) of the map's furniture surfaces (see the module docstring)."""
        from scipy import ndimage

        grid = self.runner._grid  # noqa: SLF001 - the runner's current obstacle grid
        h = grid.max_height_m
        if h is None:
            return []
        lo, hi = self.config.surface_heights_m
        with np.errstate(invalid="ignore"):
            mask = (h >= lo) & (h <= hi)
        # Walls seen only up to this height are in the band too, but thin: an opening removes anything less
        # than `surface_min_depth_m` across, and tables, counters, beds and cabinets stay.
        k = max(1, int(round(self.config.surface_min_depth_m / grid.resolution_m)))
        mask = ndimage.binary_opening(mask, structure=np.ones((k, k), bool))
        labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
        out = []
        for k, idx in enumerate(ndimage.find_objects(labels), start=1):
            if idx is None:
                continue
            cells = np.argwhere(labels[idx] == k) + np.array([idx[0].start, idx[1].start])
            if len(cells) < self.config.min_surface_cells:
                continue
            xy = grid.cell_to_world(cells)
            z = float(np.median(h[cells[:, 0], cells[:, 1]]))
            lo_xy, hi_xy = xy.min(axis=0), xy.max(axis=0)
            out.append((np.array([*(0.5 * (lo_xy + hi_xy)), z]),
                        np.array([*(hi_xy - lo_xy + grid.resolution_m), 0.05])))
        return out

    def _visit_surface(self, report) -> bool:
        """Drive to the next unvisited surface nearest the first stale place and look at it; False when
        none is left to visit."""
        runner = self.runner
        here = runner.robot.get_base_pose().xy
        cands = [(c, e) for c, e in self.surfaces()
                 if all(np.hypot(*(c[:2] - s)) > self.config.stale_radius_m + 0.2 for s in self.stale)
                 and all(np.hypot(*(c[:2] - v)) > 0.5 for v in self._visited)]
        # nearest the robot first (the first time: where the stale hit was): a short tour of the home
        cands.sort(key=lambda ce: float(np.hypot(*(ce[0][:2] - here))))
        tried = 0
        for centre, extent in cands:
            if tried >= 6:
                break
            self._visited.append(centre[:2].copy())
            share = self.seen_share(centre, extent)
            if share >= self.config.surface_seen_share:
                runner._note(report, f"search: the surface at {_xy(centre)} was seen since the search began "  # noqa: SLF001
                                     f"({share:.0%} of its top): not driving there")
                continue
            tried += 1
            if runner._stow(report):  # noqa: SLF001 - never drive with the arm out
                return False
            plan = runner.navigator.plan_to_target(runner._grid, runner.robot.get_base_pose(), centre, extent)  # noqa: SLF001
            if not plan.success:
                continue
            ok, _ = runner._follow(report, plan, (centre, extent), "search", runner.navigator)  # noqa: SLF001
            if not ok:
                continue
            robot = runner.robot
            pan, tilt = head_look_at(robot.get_base_pose(), centre)
            looks = (pan - 0.6, pan, pan + 0.6)
            for p in looks:
                robot.set_head(p, tilt)
                self._spot(robot.observe().frame)
                self.views += 1
            self.looked.append(_Place(centre[:2].copy(), "surface"))
            runner._note(report, f"search: looked at the surface at {_xy(centre)} ({len(looks)} views)")  # noqa: SLF001
            return True
        return False

    def seen_share(self, centre: np.ndarray, extent: np.ndarray) -> float:
        """The share of a surface's top voxels (occupancy voxels inside its box, within 0.1 m of its height)
        that a frame fused since the search began saw (0 before the search began or with none)."""
        occ = self.runner.map.occupancy
        if self._f0 is None or len(occ) == 0:
            return 0.0
        xyz = (occ.coords.astype(np.float64) + 0.5) * self.runner.map.voxel_size
        inside = (np.all(np.abs(xyz[:, :2] - centre[:2]) <= 0.5 * np.asarray(extent[:2]), axis=1)
                  & (np.abs(xyz[:, 2] - centre[2]) <= 0.1))
        if not inside.any():
            return 0.0
        return float(np.mean(occ.last_seen[inside] >= self._f0))

    def frontiers(self) -> list:
        """Reachable frontiers (navigation.frontiers.Frontier) of the runner's current grid within
        `explore_radius_m` of the first stale place, best first, without those already tried."""
        from navigation.frontiers import find_frontiers

        runner = self.runner
        pose = runner.robot.get_base_pose()
        occ = runner.navigator.occupancy(runner._grid, pose)  # noqa: SLF001 - the runner's current obstacle grid
        start = runner.navigator.planner.snap(occ, pose.xy)
        ox, oy = self.stale[0]
        r = self.config.explore_radius_m
        found = find_frontiers(occ, pose.xy if start is None else start, self.config.frontier,
                               region=(ox - r, oy - r, ox + r, oy + r))
        return [f for f in found if f.reachable
                and all(np.hypot(*(f.centroid_xy - t)) > 0.75 for t in self._frontiers_tried)]

    def _visit_frontier(self, report) -> bool:
        """Drive to the best untried frontier's viewpoint, look around there and rebuild the obstacle grid;
        False when no reachable frontier is left near the stale place."""
        import math

        from core.types import Pose2D

        runner = self.runner
        runner.rebuild_grid()  # what the search saw so far is in the map: frontiers of the current grid
        looked_from = [p.xy for p in self.looked if p.what in ("look-around", "frontier")]
        for f in self.frontiers()[:4]:
            self._frontiers_tried.append(np.asarray(f.centroid_xy, dtype=float).copy())
            if any(np.hypot(*(np.asarray(f.viewpoint_xy) - q)) < 0.5 for q in looked_from):
                continue  # it looked around from there already
            if runner._stow(report):  # noqa: SLF001 - never drive with the arm out
                return False
            here = runner.robot.get_base_pose()
            vx, vy = (float(v) for v in f.viewpoint_xy)
            cx, cy = (float(v) for v in f.centroid_xy)
            goal = Pose2D(vx, vy, math.atan2(cy - vy, cx - vx) if math.hypot(cx - vx, cy - vy) > 1e-3 else here.theta)
            plan = runner.navigator.plan_to_pose(runner._grid, here, goal)  # noqa: SLF001
            if not plan.success:
                continue
            report.paths_xy.append(np.asarray(plan.smoothed_xy, dtype=float))
            runner._note(report, f"search: driving {plan.length_m:.2f} m to look at unseen floor near "  # noqa: SLF001
                                 f"{_xy(f.centroid_xy)} ({f.gain_m:.1f} m of frontier)")
            res = runner.robot.follow_waypoints(plan.waypoints)
            if not res.success:
                runner._note(report, f"search: drive stopped ({res.reason})")  # noqa: SLF001
                continue
            self._look_around(report, what="frontier")
            runner.rebuild_grid()  # the floor just seen is known now: plans may go there
            return True
        return False

    # -- the answer -----------------------------------------------------------------------------------
    def not_found_reason(self) -> str:
        """One line: not found, and where the robot looked."""
        stale = ", ".join(_xy(s) for s in self.stale) or "none"
        places = "; ".join(f"{p.what} {_xy(p.xy)}" for p in self.looked) or "nowhere"
        if self._seen:
            seen = ", ".join(_xy(p) for p in self._seen)
            return (f"'{self.phrase}' not reached: the map's hits at {stale} are stale, a search of {self.views} views "
                    f"saw it at {seen} but no pick from there worked (looked at: {places})")
        return (f"'{self.phrase}' not found: the map's hits at {stale} are stale and a search of {self.views} views "
                f"did not see it (looked at: {places})")

    def to_dict(self) -> dict:
        return {"stale": [[round(float(v), 2) for v in s] for s in self.stale], "views": self.views,
                "looked": [{"what": p.what, "xy": [round(float(v), 2) for v in p.xy]} for p in self.looked]}


def _xy(p) -> str:
    p = np.asarray(p, dtype=float)
    return f"({p[0]:.2f}, {p[1]:.2f})"


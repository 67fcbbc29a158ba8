"""Evaluation in generated apartments, in the style of HomeRobot's OVMM benchmark.

Each apartment (seed) is generated, scanned once by the simulated Stretch with ground-truth perception (by
frontier exploration from the robot start, or along the ground-truth route with EvalConfig.scan_route), and
cached (scene JSON + map file, and an exploration's report scan.json, in the cache folder, keyed by seed and
a hash of the settings that shape them, the route among them). Episodes then run in a freshly built world
each (objects back in their settled start poses) from the robot's start pose, with the cached map. After each phase the simulator's ground truth is checked:

- find_object: the robot stopped at a base pose from which the arm can reach the object;
- pick: the object is in the gripper;
- find_receptacle: the robot stopped where the arm reaches a point of the receptacle's support surface;
- place: the object rests on the receptacle.

A phase counts as a success only if it and all phases before it succeeded (by ground truth); `overall` is
the place success. Failure reasons are counted by phase and the first clause of the reason, numbers removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.types import Pose2D
from mapping.map_files import MAP_SUFFIX
from mapping.voxel_map import VoxelMap
from orchestrator.configs import EvalConfig
from orchestrator.localized_robot import localized_in_map
from orchestrator.requests import parse_request
from orchestrator.task_machine import PhaseResult, TaskConfig, TaskReport, TaskRunner, frozen_map_config
from perception.composite import build_perception
from perception.config import PerceptionConfig

log = logging.getLogger(__name__)

EVAL_PHASES = ("find_object", "pick", "find_receptacle", "place")
_RUNNER_PHASE = {"navigate_to_object": "find_object", "pick": "pick",
                 "navigate_to_receptacle": "find_receptacle", "place": "place"}


@dataclass
class PreparedScene:
    seed: int
    spec: object
    scene_path: Path
    voxel_map: VoxelMap
    perception: object
    scan_seconds: float = 0.0
    cached: bool = False


@dataclass
class EpisodeResult:
    scene_seed: int
    request: str
    object_id: str
    receptacle_id: str
    report: TaskReport
    ground_truth: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0
    localization: dict | None = None
    """What the localising robot did (orchestrator.localized_robot.LocalizationLog, with its error against
    the true pose); None when the robot was told its pose."""

    @property
    def success(self) -> dict[str, bool]:
        """Cumulative per-phase success by ground truth. Reaching a place counts as found when the arm
        reaches it by the kinematic check or when the next phase (pick/place there) succeeded."""
        gt = dict(self.ground_truth)
        gt["find_object"] = gt.get("find_object", False) or gt.get("pick", False)
        gt["find_receptacle"] = gt.get("find_receptacle", False) or gt.get("place", False)
        out, ok = {}, True
        for p in EVAL_PHASES:
            ok = ok and gt.get(p, False)
            out[p] = ok
        return out

    def failure_reason(self) -> str | None:
        succ = self.success
        first = next((p for p in EVAL_PHASES if not succ[p]), None)
        if first is None:
            return None
        runner = self.report.failure
        if runner is not None:
            return f"{runner.name}: {_category(runner.reason)}"
        return f"{first}: the robot reported success but ground truth disagrees"

    def to_dict(self) -> dict:
        return {"scene_seed": self.scene_seed, "request": self.request, "object_id": self.object_id,
                "receptacle_id": self.receptacle_id, "ground_truth": self.success,
                "failure": self.failure_reason(), "seconds": round(self.seconds, 2),
                "report": self.report.to_dict(),
                **({"localization": self.localization} if self.localization is not None else {})}


def _category(reason: str) -> str:
    first = re.split(r"[;(]", reason, maxsplit=1)[0]
    first = re.sub(r"'[^']*'", "'…'", first)
    first = re.sub(r"-?\d+(\.\d+)?", "N", first)
    return first.strip()[:80] or "unknown"


# Bump when scanning or map building changes what a scan of the same scene produces (cached maps go stale).
MAP_FILE_NAME = f"map{MAP_SUFFIX}"  # the scanned map in a cache or demo folder (the one map convention)
SCAN_REPORT_NAME = "scan.json"  # an exploring scan's report (orchestrator.exploration) next to its map
SCAN_VERSION = 4  # 2: the self filter keeps the floor around the robot; 3: the driven floor is marked seen;
# 4: depth fused up to 4 m (was 6 m)


def settings_key(config: EvalConfig, perception: PerceptionConfig, realism=None) -> str:
    """The scan's identity in the cache: camera, perception, scan version, the scan route (exploration: with
    its ExplorationConfig) and, unless oracle, the realism profile the apartment was scanned with
    (sim.realism.RealismConfig)."""
    key = {"w": config.scan_width, "h": config.scan_height, "p": asdict(perception), "v": SCAN_VERSION}
    if config.scan_route != "ground-truth":  # the ground-truth route keeps the key its caches were made with
        from orchestrator.exploration import ExplorationConfig

        key["route"] = {"name": config.scan_route, "config": asdict(ExplorationConfig())}
    if realism is not None and not realism.is_oracle:
        key["r"] = {k: v for k, v in realism.to_dict().items() if k != "seed"}
        if realism.odometry.enabled and config.localize:
            key["localized"] = True
    blob = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:10]


def scan_perception_config(config: EvalConfig) -> PerceptionConfig:
    """The perception an evaluation scans with (and its episodes use): ground truth, on the CPU."""
    from orchestrator.scanning import sim_perception_config

    return sim_perception_config(config.scan_width, config.scan_height, device="cpu")


def prepare_scene(seed: int, config: EvalConfig, perception_config: PerceptionConfig | None = None,
                  on_scan_start: Callable[[int | None], None] | None = None,
                  on_frame: Callable | None = None) -> PreparedScene:
    """Generate (or load) the apartment of `seed` and its scanned map, caching both. The scan runs under the
    config's realism profile (seeded by the apartment): with `realistic`, the map is built from the robot's
    drifting odometry, noisy depth and imperfect perception, as a user's robot would build it."""
    from orchestrator.eval_scenes import eval_scene
    from orchestrator.scanning import scan_sim_scene, with_camera
    from sim.realism import load_realism
    from sim.scene.spec import SceneSpec

    pcfg = perception_config or scan_perception_config(config)
    realism = load_realism(config.realism)
    tag, build_scene = eval_scene(seed, config)
    folder = Path(config.cache_dir) / f"{tag}-{settings_key(config, pcfg, realism)}"
    scene_path, map_path = folder / "scene.json", folder / MAP_FILE_NAME
    if scene_path.exists() and map_path.exists():
        try:
            spec = SceneSpec.load(scene_path)
            vmap = VoxelMap.load(map_path)
            perception = build_perception(pcfg, instance_descriptions=spec.instance_descriptions())
            log.info("seed %d: using cached scene and map in %s", seed, folder)
            return PreparedScene(seed, spec, scene_path, vmap, perception, cached=True)
        except Exception as exc:  # noqa: BLE001 - a stale or corrupt cache is rebuilt, not fatal
            log.warning("seed %d: cache in %s unusable (%s); rebuilding", seed, folder, exc)
    spec = build_scene()
    spec.save(scene_path)
    spec = SceneSpec.load(scene_path)
    t0 = time.perf_counter()
    sim_config = with_camera(None, config.scan_width, config.scan_height)
    scan_realism = None if realism.is_oracle else realism.with_seed(seed)
    if config.scan_route == "ground-truth":
        result = scan_sim_scene(spec, pcfg, sim_config=sim_config, on_start=on_scan_start, on_frame=on_frame,
                                realism=scan_realism, localize=config.localize)
    else:
        from core.io import write_json_atomic
        from orchestrator.exploration_sim import explore_sim_scene

        if on_scan_start is not None:
            on_scan_start(None)  # an exploration does not know its frame count in advance
        result = explore_sim_scene(spec, pcfg, sim_config=sim_config, base_dir=scene_path.parent,
                                   realism=scan_realism, localize=config.localize, on_frame=on_frame)
        rep = result.report
        log.info("seed %d: explored %.1f m2 in %d frames, %.1f m driven (%s); floor coverage %s", seed,
                 rep.explored_area_m2, rep.frames, rep.path_length_m, rep.stop_reason,
                 (rep.sim or {}).get("floor_coverage"))
        write_json_atomic(folder / SCAN_REPORT_NAME, rep.to_dict())  # what the exploration covered
        if rep.error:
            log.warning("seed %d: the exploring scan stopped early (%s); the map covers what it saw", seed, rep.error)
    result.voxel_map.save(map_path)
    return PreparedScene(seed, spec, scene_path, result.voxel_map, result.perception,
                         scan_seconds=time.perf_counter() - t0)


def receptacle_reachable_from(spec, base: Pose2D, receptacle_id: str, step_m: float = 0.1) -> bool:
    """Can the arm reach some point of the receptacle's support surfaces from `base`?"""
    from sim.scene.episodes import point_reachable_from

    rec = spec.receptacle(receptacle_id)
    x, y, yaw = rec.pose
    c, s = np.cos(yaw), np.sin(yaw)
    for surf in rec.surfaces:
        sx, sy = surf.size
        us = np.arange(-sx / 2 + 0.03, sx / 2 - 0.03 + 1e-9, step_m) if sx > 0.06 else np.zeros(1)
        vs = np.arange(-sy / 2 + 0.03, sy / 2 - 0.03 + 1e-9, step_m) if sy > 0.06 else np.zeros(1)
        for u in us:
            for v in vs:
                px, py = surf.pos[0] + u, surf.pos[1] + v
                p = (x + c * px - s * py, y + s * px + c * py, surf.pos[2] + 0.05)
                if point_reachable_from(base, p):
                    return True
    return False


def run_episode(scene: PreparedScene, episode, task_config: TaskConfig | None = None, world=None,
                realism=None, faults=None, localize: bool = True) -> EpisodeResult:
    """Run one episode in a fresh world (or `world`), checking ground truth after each phase. `realism`: the
    robot's sim.realism.RealismConfig (default oracle); scoring always uses the true pose. With drifting
    odometry and `localize`, the robot first relocalises in the scanned map (no initial guess) and tracks
    its pose while it works (orchestrator.localized_robot)."""
    from sim.backends import make_world, simulated_robot
    from sim.scoring import object_held, object_on_receptacle, object_reachable_from

    t0 = time.perf_counter()
    own = world is None
    world = world or make_world(scene.spec, base_dir=scene.scene_path.parent)
    gt: dict[str, bool] = {}

    def check(name: str, phase: PhaseResult, robot) -> None:
        key = _RUNNER_PHASE.get(name)
        if key is None:
            return
        if key == "find_object":
            gt[key] = phase.success and object_reachable_from(world, robot.true_base_pose(), episode.object_id)
        elif key == "pick":
            gt[key] = object_held(world, episode.object_id)
        elif key == "find_receptacle":
            gt[key] = phase.success and receptacle_reachable_from(scene.spec, robot.true_base_pose(),
                                                                  episode.receptacle_id)
        else:
            world.settle()
            gt[key] = object_on_receptacle(world, episode.object_id, episode.receptacle_id)

    localized = None
    try:
        with simulated_robot(world=world, realism=realism, faults=faults) as robot:
            if localize and realism is not None and realism.odometry.enabled:
                robot = localized = localized_in_map(robot, scene.voxel_map, truth=robot.true_base_pose)
            runner = TaskRunner(robot, scene.voxel_map, scene.perception, task_config or frozen_map_config(),
                                on_phase=check)
            report = runner.run(parse_request(episode.request), episode.request)
    finally:
        if own:
            world.close()
    return EpisodeResult(scene.seed, episode.request, episode.object_id, episode.receptacle_id, report, gt,
                         time.perf_counter() - t0, localized.log.to_dict() if localized is not None else None)


def aggregate(results: list[EpisodeResult], seconds_per_episode: float, extra: dict | None = None) -> dict:
    return aggregate_records([r.to_dict() for r in results], seconds_per_episode, extra)


def aggregate_records(records: list[dict], seconds_per_episode: float, extra: dict | None = None) -> dict:
    """The evaluation JSON from episode records (EpisodeResult.to_dict(), or lines of a results file), in
    the order given (ties between equally common failure reasons keep that order)."""
    n = len(records)
    success = {p: (sum(bool(r["ground_truth"][p]) for r in records) / n if n else 0.0) for p in EVAL_PHASES}
    success["overall"] = success["place"]
    failures = Counter(r["failure"] for r in records if r["failure"] is not None)
    by_phase: dict[str, Counter] = {p: Counter() for p in EVAL_PHASES}
    for r in records:
        first = next((p for p in EVAL_PHASES if not r["ground_truth"][p]), None)
        if first is not None and r["failure"] is not None:
            by_phase[first][r["failure"]] += 1
    out = {"episodes": n, "success": {k: round(v, 4) for k, v in success.items()},
           "failures": dict(failures.most_common()),
           "failures_by_phase": {p: dict(c.most_common()) for p, c in by_phase.items()},
           "seconds_per_episode": round(seconds_per_episode, 2)}
    loc = [r["localization"] for r in records if r.get("localization")]
    if loc:
        out["localization"] = localization_summary(loc)
    if extra:
        out.update(extra)
    return out


def localization_summary(logs: list[dict]) -> dict:
    """Across episodes: how often the robot lost its track or relocalised, and its pose error at the fixes
    (each episode's median and max against the true pose)."""
    errs = [d["error_m"] for d in logs if d.get("error_m")]
    return {"episodes": len(logs), "tracks": sum(d["tracks"] for d in logs), "lost": sum(d["lost"] for d in logs),
            "relocalisations": sum(d["relocalisations"] for d in logs),
            "not_localised": sum(1 for d in logs if d.get("last") and not d["last"]["localised"]),
            "median_error_m": round(float(np.median([e["median"] for e in errs])), 4) if errs else None,
            "max_error_m": round(max(e["max"] for e in errs), 4) if errs else None}


def episodes_for(config: EvalConfig) -> list[tuple[int, int]]:
    """(scene seed, episodes in it) pairs covering config.episodes."""
    per = max(1, config.episodes_per_scene)
    out, left, k = [], config.episodes, 0
    while left > 0:
        n = min(per, left)
        out.append((config.seed + k, n))
        left -= n
        k += 1
    return out

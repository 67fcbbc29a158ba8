"""The embedded default behind `make demo`: generate an apartment, scan it with the simulated Stretch
(by frontier exploration from its start; DemoConfig.scan_route), build the map, carry out three requests
in the same world one after another, and report."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.io import write_json_atomic
from orchestrator.configs import DemoConfig, EvalConfig
from orchestrator.evaluation import MAP_FILE_NAME, EpisodeResult, prepare_scene, run_episode

log = logging.getLogger(__name__)


@dataclass
class DemoResult:
    results: list[EpisodeResult]
    files: dict[str, Path]
    scan_seconds: float
    map_voxels: int


def run_demo(config: DemoConfig, on_scan_start: Callable[[int], None] | None = None,
             on_frame: Callable | None = None, on_request: Callable[[int, str], None] | None = None) -> DemoResult:
    from sim.backends import make_world
    from sim.scene.episodes import make_episodes

    out = Path(config.out)
    scene = prepare_scene(config.seed, EvalConfig(cache_dir=str(out / "cache"), scan_width=config.scan_width,
                                                scan_height=config.scan_height, scan_route=config.scan_route),
                          on_scan_start=on_scan_start, on_frame=on_frame)
    episodes = make_episodes(scene.spec, config.requests, config.seed, scene_path=scene.scene_path)
    world = make_world(scene.spec, base_dir=scene.scene_path.parent)
    results = []
    from sim.realism import load_realism

    realism = load_realism(config.realism)
    try:
        for i, ep in enumerate(episodes):
            if on_request is not None:
                on_request(i, ep.request)
            results.append(run_episode(scene, ep, world=world,
                                       realism=realism.with_seed(realism.seed + 1000 * config.seed + i)))
    finally:
        world.close()
    files = {"scene": scene.scene_path, "map": scene.scene_path.parent / MAP_FILE_NAME}
    files["report"] = out / "runs.json"
    write_json_atomic(files["report"], [r.to_dict() for r in results])
    from orchestrator.pictures_run import save_run_png, scene_labels

    files["picture"] = save_run_png(scene.voxel_map, [r.report for r in results], out / "demo.png",
                                    title=f"ovmm demo: apartment {config.seed}", labels=scene_labels(scene.spec))
    try:
        from orchestrator.pictures_run import save_run_rrd

        files["rerun"] = save_run_rrd(scene.voxel_map, [r.report for r in results], out / "demo.rrd")
    except Exception as exc:  # noqa: BLE001 - the recording is optional (rerun-sdk is the viz extra)
        log.warning("no Rerun recording: %s", exc)
    return DemoResult(results, files, scene.scan_seconds, len(scene.voxel_map))

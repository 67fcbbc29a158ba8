"""One object changed after the scan, one request for it: does the robot find it (or report it gone), what do
the live map updates cost, and a before/after picture of the map.

For each seed: the apartment is prepared as `ovmm eval` does (generated, scanned at --width x --height with
ground-truth perception, cached in --cache-dir), the object of its first episode is changed (--kind:
other_receptacle, same_room or removed; orchestrator.eval_changes), and "pick up the <object>" runs with
the map as scanned (orchestrator.task_machine: live map + search). Prints one JSON object: per seed, the
outcome (picked / reported not found / failed and why), the stale hits, the search's views, the live
map's frames and fusion time per frame (perception included), and whether the map answers at the old and
the new place afterwards. --png DIR writes DIR/changed-<seed>.png (the map as scanned and after the run).

    .venv/bin/python benchmarks/map_changes.py --seeds 610 611 --kind same_room --png out/
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_one(seed: int, kind: str, width: int, height: int, cache_dir: str, png_dir: Path | None) -> dict:
    from mapping.calibration import calibration_of
    from mapping.voxel_map import VoxelMap
    from orchestrator.configs import EvalConfig
    from orchestrator.eval_changes import _map_state, apply_changes, plan_changes
    from orchestrator.evaluation import MAP_FILE_NAME, prepare_scene
    from orchestrator.requests import parse_request
    from orchestrator.task_machine import TaskRunner
    from sim.backends import make_world
    from sim.robot import SimRobot
    from sim.scene.episodes import make_episodes
    from sim.scoring import object_held

    config = EvalConfig(seed=seed, cache_dir=cache_dir, scan_width=width, scan_height=height)
    scene = prepare_scene(seed, config)
    episodes = make_episodes(scene.spec, 1, seed, scene_path=scene.scene_path)
    if not episodes:
        return {"seed": seed, "error": "no feasible episode"}
    ep = episodes[0]
    changes = plan_changes(scene.spec, 1, seed, (ep.object_id,), kinds=(kind,))
    if not changes:
        return {"seed": seed, "error": f"no feasible '{kind}' change for {ep.object_id}"}
    change = changes[0]
    before = VoxelMap.load(scene.scene_path.parent / MAP_FILE_NAME)
    vmap = VoxelMap.load(scene.scene_path.parent / MAP_FILE_NAME)
    world = make_world(scene.spec, base_dir=scene.scene_path.parent)
    request = f"pick up the {change.description}"
    try:
        apply_changes(world, changes, scene.spec)
        t0 = time.perf_counter()
        with SimRobot(world) as robot:
            report = TaskRunner(robot, vmap, scene.perception).run(parse_request(request))
        seconds = time.perf_counter() - t0
        held = object_held(world, change.object_id)
    finally:
        world.close()
    f = report.failure
    update = report.map_update or {}
    not_found = f is not None and ("not in the map" in f.reason or bool(f.details.get("not_found")))
    state = _map_state(vmap, scene.perception, changes, calibration_of(vmap).threshold)[0]
    out = {"seed": seed, "request": request, "change": change.to_dict(), "picked": bool(held and report.success),
           "reported_not_found": not_found, "failure": None if f is None else f"{f.name}: {f.reason}",
           "seconds": round(seconds, 1), "search": report.search,
           "live_frames": update.get("frames", 0),
           "live_ms_per_frame": round(1000 * update.get("seconds", 0.0) / max(update.get("frames", 0), 1), 1),
           "semantic_removed": update.get("semantic_removed", 0), "map_after": state}
    if png_dir is not None:
        from orchestrator.pictures_changes import save_before_after_png

        path = png_dir / f"changed-{seed}.png"
        save_before_after_png(before, vmap, change.description, scene.perception, path, change.from_xyz[:2],
                              None if change.to_xyz is None else change.to_xyz[:2],
                              title=f"apartment {seed}: {change.description} {change.kind.replace('_', ' ')}")
        out["png"] = str(path)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[610, 611])
    p.add_argument("--kind", choices=("other_receptacle", "same_room", "removed"), default="same_room")
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--cache-dir", default=".ovmm-cache/eval")
    p.add_argument("--png", type=Path, default=None, metavar="DIR")
    args = p.parse_args()
    if args.png is not None and not args.png.is_dir():
        p.error(f"--png: folder {args.png} does not exist")
    runs = [run_one(s, args.kind, args.width, args.height, args.cache_dir, args.png) for s in args.seeds]
    ok = [r for r in runs if "error" not in r]
    good = [r for r in ok if (r["reported_not_found"] if args.kind == "removed" else r["picked"])]
    print(json.dumps({"kind": args.kind, "runs": runs, "correct": len(good), "of": len(ok)}, indent=2))


if __name__ == "__main__":
    main()

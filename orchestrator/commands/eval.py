"""`ovmm eval --episodes N --seed S [--json out.json]`: pick-and-place episodes in generated apartments."""

from __future__ import annotations

import argparse
import json
import time

from orchestrator.configs import EvalConfig, parse_camera_size
from orchestrator.eval_scenes import add_scene_dataset_options, scene_dataset_options

EXAMPLE = "ovmm eval --episodes 30 --seed 0 --json eval.json"


def register(subparsers) -> None:
    d = EvalConfig()
    p = subparsers.add_parser("eval", help="evaluate pick-and-place in generated apartments (per-phase success)",
                              description=__doc__, epilog=f"example: {EXAMPLE}")
    p.add_argument("--episodes", type=int, default=d.episodes, help="number of episodes")
    p.add_argument("--seed", type=int, default=d.seed, help="seed of the first apartment (then seed+1, ...)")
    p.add_argument("--episodes-per-scene", type=int, default=d.episodes_per_scene,
                   help="episodes drawn from each apartment (each apartment is scanned once)")
    p.add_argument("--cache-dir", default=d.cache_dir, help="where scenes and scanned maps are cached")
    p.add_argument("--json", dest="json_path", help="write the results (JSON) here")
    p.add_argument("--details", help="write every episode's report (JSON) here")
    p.add_argument("--scan-camera", default=f"{d.scan_width}x{d.scan_height}", metavar="WxH",
                   help="head-camera resolution while scanning (lower is faster)")
    add_scene_dataset_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.errors import InputError
    from core.io import write_json_atomic
    from orchestrator.evaluation import aggregate, episodes_for, prepare_scene, run_episode
    from sim.scene.episodes import make_episodes

    if args.episodes < 1 or args.episodes_per_scene < 1:
        raise InputError("--episodes and --episodes-per-scene must be at least 1")
    w, h = parse_camera_size(args.scan_camera, "--scan-camera", minimum=32)
    config = EvalConfig(episodes=args.episodes, seed=args.seed, episodes_per_scene=args.episodes_per_scene,
                        cache_dir=args.cache_dir, scan_width=w, scan_height=h,
                        **scene_dataset_options(args))
    results, scan_s, scenes_scanned = [], 0.0, 0
    t0 = time.perf_counter()
    bar = tqdm(total=config.episodes, desc="episodes", unit="ep")
    for seed, n in episodes_for(config):
        bar.set_postfix_str(f"apartment {seed}: preparing")
        scene = prepare_scene(seed, config)
        scan_s += scene.scan_seconds
        scenes_scanned += 0 if scene.cached else 1
        episodes = make_episodes(scene.spec, n, seed, scene_path=scene.scene_path)
        for ep in episodes:
            bar.set_postfix_str(f"apartment {seed}: {ep.request[:40]}")
            results.append(run_episode(scene, ep))
            bar.update(1)
        if len(episodes) < n:
            bar.total -= n - len(episodes)
            bar.refresh()
    bar.close()
    total = time.perf_counter() - t0
    per = total / max(len(results), 1)
    out = aggregate(results, per, {"seed": config.seed, "apartments": len(episodes_for(config)),
                                   "apartments_scanned_now": scenes_scanned,
                                   "scan_seconds_total": round(scan_s, 1),
                                   "episode_seconds_without_scans": round((total - scan_s) / max(len(results), 1), 2)})
    text = json.dumps(out, indent=2)
    print(text)
    if args.json_path:
        write_json_atomic(args.json_path, out)
    if args.details:
        write_json_atomic(args.details, [r.to_dict() for r in results])
    return 0

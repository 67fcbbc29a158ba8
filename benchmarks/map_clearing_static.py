"""Negative evidence on a home that does not change: a generated apartment scanned with clearing on (the
map's default) and off must answer queries the same (nothing erased by self-occlusion or depth noise).

For each seed and realism profile (oracle: exact depth; realistic: sim.realism_depth noise, drifting odometry,
perception noise), the apartment is scanned twice along its scan route with ground-truth perception, and
every object's description and paraphrase are queried (mapping.evaluation.evaluate_queries). Prints one
JSON object: per run, query accuracy with and without clearing, semantic voxels kept, voxels removed.

    .venv/bin/python benchmarks/map_clearing_static.py --seeds 1 2 --width 320 --height 240
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mapping.voxel_map as voxel_map_module  # noqa: E402
from mapping.evaluation import evaluate_queries  # noqa: E402
from mapping.negative_evidence import ClearingConfig, apply_negative_evidence  # noqa: E402


def scan(seed: int, profile: str, clearing: bool, width: int, height: int) -> dict:
    from orchestrator.scanning import scan_sim_scene, sim_perception_config, with_camera
    from sim.mujoco.world import SimWorld
    from sim.realism import load_realism
    from sim.scene.generator import generate_scene

    spec = generate_scene(seed)
    removed = [0]
    # The scan builds its map inside orchestrator.scanning (VoxelMap's default clearing): swap the default,
    # and count what negative evidence removes.
    voxel_map_module.ClearingConfig = lambda: ClearingConfig(enabled=clearing)

    def counted(vmap, frame, config):
        stats = apply_negative_evidence(vmap, frame, config)
        removed[0] += stats.semantic_removed
        return stats

    voxel_map_module.apply_negative_evidence = counted
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "scene.json"
            spec.save(path)
            world = SimWorld(spec, with_camera(None, width, height), base_dir=path.parent)
            t0 = time.perf_counter()

            result = scan_sim_scene(spec, sim_perception_config(width, height), world=world,
                                    realism=load_realism(profile))
            seconds = time.perf_counter() - t0
    finally:
        voxel_map_module.ClearingConfig = ClearingConfig
        voxel_map_module.apply_negative_evidence = apply_negative_evidence
    vmap = result.voxel_map
    objects = {o.id: (o.description, world.object_center(o.id)) for o in spec.objects}
    report = evaluate_queries(vmap, result.perception, objects)
    return {"accuracy": round(report.accuracy(), 3), "queries": len(report.outcomes),
            "semantic_voxels": len(vmap.semantic), "semantic_removed": removed[0],
            "scan_s": round(seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--profiles", nargs="+", default=["oracle", "realistic"])
    ap.add_argument("--width", type=int, default=320)
    ap.add_argument("--height", type=int, default=240)
    args = ap.parse_args()
    runs = []
    for seed in args.seeds:
        for profile in args.profiles:
            on = scan(seed, profile, True, args.width, args.height)
            off = scan(seed, profile, False, args.width, args.height)
            runs.append({"seed": seed, "profile": profile, "with_clearing": on, "without_clearing": off})
    print(json.dumps({"camera": [args.width, args.height], "runs": runs}, indent=1))


if __name__ == "__main__":
    main()

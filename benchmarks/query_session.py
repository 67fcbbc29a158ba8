"""Interactive query latency: the map's text encoder is loaded once, then several queries are answered, as in
`ovmm query MAP "a" "b" ...` or its prompt. Prints one JSON object.

- load_s: loading the map and its text encoder (once per session).
- first_query_s: the first query (embeds the map's instance texts once, then answers).
- next_query_ms: median / max over the following queries, wall clock and this process's CPU time
  (the CPU figure is steadier on a shared machine); target: under 500 ms each.

The map is `--map PATH`, or, without one, a fresh 320x240 ground-truth scan of generated apartment `--seed`
(not counted in the figures). Usage: python benchmarks/query_session.py [--map home.npz] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

QUERIES = ["coffee mug", "the sink", "a can", "something to sit on", "the table", "bowl", "a box",
           "the bed", "bottle", "the mug on the table", "plate", "shelf"]


def _scan(seed: int, folder: Path) -> Path:
    from orchestrator.scanning import scan_sim_scene, with_camera
    from perception.config import PerceptionConfig
    from sim.scene.generator import generate_scene

    scene_path = folder / "scene.json"
    generate_scene(seed).save(scene_path)
    from sim.scene.spec import SceneSpec

    result = scan_sim_scene(SceneSpec.load(scene_path), PerceptionConfig(pipeline="ground-truth"),
                            sim_config=with_camera(None, 320, 240))
    out = folder / "map.npz"
    result.voxel_map.save(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--map", help="a map file (default: scan generated apartment --seed)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    from mapping.map_encoder import load_query_encoder
    from mapping.voxel_map import VoxelMap

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.map) if args.map else _scan(args.seed, Path(tmp))
        t0 = time.perf_counter()
        vmap = VoxelMap.load(path)
        encoder = load_query_encoder(vmap)
        load_s = time.perf_counter() - t0
        times, cpu = [], []
        for text in QUERIES:
            w, c = time.perf_counter(), time.process_time()
            vmap.query_text(text, encoder)
            times.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
    nxt, nxt_cpu = [t * 1000 for t in times[1:]], [t * 1000 for t in cpu[1:]]
    print(json.dumps({
        "map": str(path) if args.map else f"generated apartment {args.seed} (320x240 ground-truth scan)",
        "semantic_voxels": len(vmap), "load_s": round(load_s, 2), "first_query_s": round(times[0], 3),
        "next_query_ms": {"median": round(statistics.median(nxt), 1), "max": round(max(nxt), 1),
                          "cpu_median": round(statistics.median(nxt_cpu), 1), "cpu_max": round(max(nxt_cpu), 1)},
        "queries": len(QUERIES), "target_next_query_ms": 500, "load_average": [round(x, 2) for x in os.getloadavg()],
    }))


if __name__ == "__main__":
    main()

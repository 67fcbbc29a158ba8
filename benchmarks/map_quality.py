"""Query accuracy of maps from simulated scans with ground-truth perception. Prints one JSON object.

For each generated apartment (seeds 0..N-1 by default): scan it along sim.scene.walkthrough.scan_route with the
ground-truth perception (MiniLM features of instance descriptions), then query every object's description
and one paraphrase (mapping.evaluation.paraphrase); a query is correct when the top hit is within 0.25 m of
world.object_center. Target: >= 95% correct. Also reports the score distributions of correct answers and
of absent objects (mapping.evaluation.ABSENT_QUERIES) against each map's own calibrated threshold, and the
query recall of everyday phrasings (label, its last word, "the " + label: "soda can", "can", "the soda can";
mapping.evaluation.everyday_phrasings): the share whose hits above the threshold include the object.

Usage: python benchmarks/map_quality.py [--apartments 5] [--first-seed 0] [--width 320 --height 240]
       [--min-mask-pixels N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapping.evaluation import evaluate_queries  # noqa: E402
from mapping.query import QueryConfig  # noqa: E402
from orchestrator.scanning import scan_sim_scene, sim_perception_config, with_camera  # noqa: E402
from sim.backends import make_world  # noqa: E402
from sim.scene.generator import generate_scene  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apartments", type=int, default=5)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=320, help="simulated camera width (pixels)")
    ap.add_argument("--height", type=int, default=240, help="simulated camera height (pixels)")
    ap.add_argument("--min-mask-pixels", type=int, default=None,
                    help="ground-truth masks smaller than this are dropped (default: "
                         "orchestrator.scanning.sim_perception_config, 80 at 640x480 scaled with the area)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    pcfg = sim_perception_config(args.width, args.height)
    if args.min_mask_pixels is not None:
        pcfg = replace(pcfg, min_mask_pixels=args.min_mask_pixels)
    qcfg = QueryConfig()
    per_apartment, outcomes, absent, failures, thresholds = [], [], [], [], []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.first_seed, args.first_seed + args.apartments):
            spec = generate_scene(seed)
            scene_dir = Path(tmp) / f"apartment-{seed}"
            scene_dir.mkdir()
            spec.save(scene_dir / "scene.json")
            world = make_world(spec, with_camera(None, args.width, args.height), base_dir=scene_dir)
            try:
                res = scan_sim_scene(spec, pcfg, world=world)
                objects = {o.id: (o.description, world.object_center(o.id)) for o in spec.objects}
                rep = evaluate_queries(res.voxel_map, res.perception, objects, qcfg,
                                       labels={o.id: o.label for o in spec.objects})
            finally:
                world.close()
            outcomes += rep.outcomes
            absent += rep.absent_scores
            failures += [{"seed": seed, "object": f.object_id, "query": f.query, "error_m": round(f.error_m, 3),
                          "score": round(f.score, 3)} for f in rep.failures()]
            thresholds.append(res.voxel_map.metadata.query_calibration.get("threshold"))
            per_apartment.append({"seed": seed, "objects": len(objects), "accuracy": round(rep.accuracy(), 4),
                                  "frames": res.stats.frames, "voxels": len(res.voxel_map)})
    everyday = [o for o in outcomes if o.kind == "everyday"]
    outcomes = [o for o in outcomes if o.kind != "everyday"]
    ok = [o.error_m <= 0.25 for o in outcomes]
    correct_scores = [o.score for o, k in zip(outcomes, ok, strict=True) if k]
    result = {
        "apartments": args.apartments,
        "queries": len(outcomes),
        "accuracy": round(float(np.mean(ok)), 4),
        "accuracy_description": round(float(np.mean([k for o, k in zip(outcomes, ok, strict=True)
                                                     if o.kind == "description"])), 4),
        "accuracy_paraphrase": round(float(np.mean([k for o, k in zip(outcomes, ok, strict=True)
                                                    if o.kind == "paraphrase"])), 4),
        "target": 0.95,
        "everyday_queries": len(everyday),
        "everyday_recall": round(float(np.mean([o.error_m <= 0.25 for o in everyday])), 4) if everyday else None,
        "everyday_missed": [{"object": o.object_id, "query": o.query, "score": round(o.score, 3)}
                            for o in everyday if o.error_m > 0.25][:40],
        "thresholds": thresholds,
        "correct_score_quantiles_0_5_50": [round(float(q), 3) for q in np.quantile(correct_scores, [0, 0.05, 0.5])],
        "absent_score_quantiles_50_95_100": [round(float(q), 3) for q in np.quantile(absent, [0.5, 0.95, 1.0])],
        "correct_below_threshold": int(sum(s < t for s, t in zip(correct_scores, [min(thresholds)] * len(correct_scores),
                                                                    strict=True))),
        "absent_above_threshold": int(sum(s >= min(thresholds) for s in absent)),
        "camera": [args.width, args.height],
        "min_mask_pixels": pcfg.min_mask_pixels,
        "per_apartment": per_apartment,
        "failures": failures,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

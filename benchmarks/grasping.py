"""Grasping benchmark: pick and place every object in the default library in the MuJoCo simulator.

For each library entry (YCB meshes when ../shared/data is present, plus the procedural cups, mugs, bowls,
boxes, bottles and cans), one trial per source receptacle in turn (table 0.75 m, counter 0.9 m, shelf
lower board 0.45 m, side table 0.6 m): the robot is parked in front of the object (core.stretch FK),
picks it with grasping.execute.pick using perception's ground-truth language segmentation on the object's
description, is parked in front of another receptacle and places it there (grasping.execute.place).
Success is judged by the simulator (held after the pick; resting on the target receptacle after the place).

Prints one JSON object: per object class (label) and overall pick / place success, the failure reasons,
and the grasp-planning time per pick (proposal + scoring + collision + IK, wall clock on this CPU).

    .venv/bin/python benchmarks/grasping.py            # whole library, one trial per entry
    .venv/bin/python benchmarks/grasping.py --quick    # 8 procedural entries
    .venv/bin/python benchmarks/grasping.py --rounds 2 # two trials per entry (different receptacles)
    .venv/bin/python benchmarks/grasping.py --library random-shapes --every 4   # every 4th random solid
    .venv/bin/python benchmarks/grasping.py --library DIR   # any object-library folder (library.json + meshes)
    .venv/bin/python benchmarks/grasping.py --library random-shapes --sources shelf   # the shelf's lower board only

`--library random-shapes`: the shared data's random solids that fit the open gripper (sim.scene.random_shapes),
shapes no grasp rule was written for; they are picked by their simulator instance mask (their descriptions
are alike) among two procedural distractors. `--offset K --every N` takes solids K, K+N, K+2N, ... so
disjoint samples can be kept apart (none of the solids was used while developing the grasp planner).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from fixtures.grasp_trials import RECEPTACLES, run_trial  # noqa: E402
from perception.text_encoder import SentenceEncoder  # noqa: E402
from sim.scene.objects import default_library, procedural_library  # noqa: E402

QUICK_KEYS = ("procedural/red_can", "procedural/purple_box", "procedural/blue_bottle", "procedural/white_cup",
              "procedural/yellow_mug", "procedural/green_bowl", "procedural/orange_box", "procedural/grey_can")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="8 procedural objects only")
    ap.add_argument("--rounds", type=int, default=1, help="trials per library entry (rotating receptacles)")
    ap.add_argument("--verbose", action="store_true", help="one line per trial on stderr")
    ap.add_argument("--library", default="default",
                    help="default (YCB + procedural), random-shapes, or an object-library folder")
    ap.add_argument("--every", type=int, default=1, help="take every N-th entry of the library")
    ap.add_argument("--offset", type=int, default=0, help="starting at this entry")
    ap.add_argument("--sources", default=",".join(r[0] for r in RECEPTACLES),
                    help="comma-separated receptacles to pick from, in turn (default: all four)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    by_mask = False
    distractor_lib = None
    if args.quick:
        lib = [e for e in procedural_library() if e.key in QUICK_KEYS]
    elif args.library == "default":
        lib = default_library()
    elif args.library == "random-shapes":
        from sim.scene.random_shapes import random_shapes_library

        lib = random_shapes_library()
        if not lib:
            print(json.dumps({"benchmark": "grasping", "error": "no random solids: ../shared/data is absent"}))
            return 1
        by_mask, distractor_lib = True, procedural_library()
    else:
        from sim.scene.objects import load_library_dir

        lib = load_library_dir(args.library)
    lib = lib[args.offset::max(1, args.every)]
    encoder = SentenceEncoder()
    sources = [r.strip() for r in args.sources.split(",") if r.strip()]
    unknown = sorted(set(sources) - {r[0] for r in RECEPTACLES})
    if not sources or unknown:
        ap.error(f"--sources takes some of {', '.join(r[0] for r in RECEPTACLES)}, got {args.sources!r}")
    per_class: dict[str, dict] = defaultdict(lambda: {"trials": 0, "picked": 0, "placed": 0, "entries": set(),
                                                      "failures": []})
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    plan_times: list[float] = []
    kinds: dict[str, int] = defaultdict(int)
    t0 = time.perf_counter()
    n = 0
    for rnd in range(args.rounds):
        for i, entry in enumerate(lib):
            source = sources[(i + rnd) % len(sources)]
            others = distractor_lib or [e for e in lib if e.key != entry.key]
            distractors = [others[(3 * i + k) % len(others)] for k in range(2)]
            r = run_trial(entry, distractors, source, encoder, seed=1000 * rnd + i, instance_masks=by_mask)
            n += 1
            c = per_class[entry.label]
            c["trials"] += 1
            c["entries"].add(entry.key)
            c["picked"] += int(r.pick_ok)
            c["placed"] += int(r.place_ok)
            per_source[source][0] += 1
            per_source[source][1] += int(r.pick_ok)
            per_source[source][2] += int(r.place_ok)
            if not r.pick_ok:
                c["failures"].append(f"{entry.key} on {source}: pick: {r.pick_reason}")
            elif not r.place_ok:
                c["failures"].append(f"{entry.key} {source}->{r.target}: place: {r.place_reason}")
            if r.grasp_kind:
                kinds[r.grasp_kind] += 1
            plan_times.extend(r.planning_s)
            if args.verbose:
                print(f"{entry.key:30s} {source:10s}->{r.target:10s} pick={r.pick_ok} place={r.place_ok} "
                      f"{r.grasp_kind:4s} {r.seconds:.1f}s {r.pick_reason or r.place_reason}", file=sys.stderr)
    picked = sum(c["picked"] for c in per_class.values())
    placed = sum(c["placed"] for c in per_class.values())
    pt = np.array(plan_times) * 1000 if plan_times else np.zeros(1)
    out = {
        "benchmark": "grasping",
        "library": "quick" if args.quick else args.library, "every": args.every, "offset": args.offset,
        "entries": len(lib),
        "trials": n,
        "pick_success": round(picked / max(n, 1), 3),
        "place_success_given_pick": round(placed / max(picked, 1), 3),
        "pick_and_place_success": round(placed / max(n, 1), 3),
        "grasp_kinds": dict(kinds),
        "planning_ms_per_pick": {"mean": round(float(pt.mean()), 1), "median": round(float(np.median(pt)), 1),
                                 "p95": round(float(np.percentile(pt, 95)), 1), "max": round(float(pt.max()), 1),
                                 "count": len(plan_times), "target_ms": 200},
        "per_source_receptacle": {s: {"trials": v[0], "pick": round(v[1] / max(v[0], 1), 3),
                                      "place_given_pick": round(v[2] / max(v[1], 1), 3)}
                                  for s, v in per_source.items()},
        "per_class": {label: {"trials": c["trials"], "entries": sorted(c["entries"]),
                              "pick_success": round(c["picked"] / c["trials"], 3),
                              "place_success_given_pick": (round(c["placed"] / c["picked"], 3) if c["picked"]
                                                           else None),
                              "failures": c["failures"]}
                      for label, c in sorted(per_class.items())},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

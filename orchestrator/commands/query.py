"""`ovmm query MAP "blue mug"`: find objects in a semantic voxel map by text.

Prints the hits (best first) or "not found" when the best score is below the threshold (exit status 1, like
grep). The query is embedded with the text encoder recorded in the map; a map whose encoder cannot be loaded
is refused. `--png` draws a top-down picture, `--rerun` writes a Rerun recording. See docs/map.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import replace

from core.errors import InputError
from mapping.query import QueryConfig


def register(subparsers) -> None:
    qc = QueryConfig()
    p = subparsers.add_parser(
        "query", help="find an object in a semantic voxel map by text",
        description="Find objects in a map by text, e.g. 'blue mug' or 'the mug on the table'. Relations: "
                    "on/on top of, in/inside, near/next to/beside/by, under/below, above/over.",
    )
    p.add_argument("map", help="map file written by `ovmm scan` (.npz)")
    p.add_argument("text", help="what to find, e.g. 'blue mug' or 'the bowl in the sink'")
    p.add_argument("--top-k", type=int, default=qc.top_k, help=f"hits to report (default {qc.top_k})")
    p.add_argument("--threshold", type=float, default=qc.not_found_threshold,
                   help=f"hits scoring below this are 'not found' (default {qc.not_found_threshold}, calibrated "
                        "for the ground-truth MiniLM pipeline)")
    p.add_argument("--json", action="store_true", help="print the hits as JSON")
    p.add_argument("--all", action="store_true", help="also list hits below the threshold")
    p.add_argument("--no-relations", action="store_true", help="treat the text as one phrase (no 'on'/'in'...)")
    p.add_argument("--png", metavar="OUT_PNG", help="draw a top-down picture with the similarity and hits")
    p.add_argument("--rerun", metavar="OUT_RRD", help="write a Rerun recording of the map and the hits")
    p.add_argument("--device", default="cpu", help="device for the text encoder (cpu, cuda, auto)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.map_encoder import load_query_encoder
    from mapping.persistence import load_map
    from mapping.query import similarities
    from mapping.relations import clean_phrase, parse_relation

    if args.top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {args.top_k}")
    if not math.isfinite(args.threshold):
        raise InputError(f"--threshold must be a number, got {args.threshold}")
    if not args.text.strip():
        raise InputError("the query text is empty")
    vmap = load_map(args.map)
    if len(vmap) == 0:
        raise InputError(f"map {args.map} has no semantic voxels (no objects were observed during the scan)")
    encoder = load_query_encoder(vmap, device=args.device)
    cfg = replace(QueryConfig(), top_k=args.top_k, not_found_threshold=args.threshold,
                  relations=not args.no_relations)
    hits = vmap.query_text(args.text, encoder, cfg)
    found = [h for h in hits if h.score >= cfg.not_found_threshold]
    shown = hits if args.all else found
    if args.png or args.rerun:
        parsed = parse_relation(args.text) if cfg.relations else None
        phrase = parsed[0] if parsed else clean_phrase(args.text)
        sims = similarities(vmap, encoder.encode_text([phrase])[0])
        if args.png:
            from mapping.pictures import save_query_png

            save_query_png(vmap, args.png, sims, shown, title=f'"{args.text}"')
        if args.rerun:
            from orchestrator.pictures_map import save_map_rrd

            save_map_rrd(vmap, args.rerun, sims, shown, query=args.text)
    if args.json:
        print(json.dumps([h.to_dict() for h in shown]))
    else:
        for i, h in enumerate(shown):
            x, y, z = h.center
            ex, ey, ez = h.extent
            mark = "" if h.score >= cfg.not_found_threshold else "  (below threshold)"
            print(f"{i + 1}. {h.label}: score {h.score:.3f} at ({x:.2f}, {y:.2f}, {z:.2f}) m, "
                  f"size {ex:.2f} x {ey:.2f} x {ez:.2f} m{mark}")
    if not found:
        best = hits[0].score if hits else float("nan")
        print(f"not found: {args.text!r} (best score {best:.3f} < threshold {cfg.not_found_threshold})",
              file=sys.stderr)
        return 1
    return 0

"""`ovmm query MAP "blue mug" ["red bowl" ...]`: find objects in a semantic voxel map by text.

Prints the hits (best first, each with the instance's own description and label where the map records them)
or "not found" when the best score is below the threshold (exit status 1, like grep). The threshold is the
map's own, calibrated at scan time for its encoder (mapping.calibration); `--threshold` overrides it. The
query is embedded with the text encoder recorded in the map; a map whose encoder cannot be loaded is refused.
Several texts are answered with the encoder loaded once; with no text (or `-i`) an interactive prompt reads
one query per line. `--png` draws a top-down picture, `--rerun` writes a Rerun recording. See docs/map.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from core.errors import InputError
from mapping.query import QueryConfig
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.map_command_configs import QueryCommandConfig


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "query", help="find an object in a semantic voxel map by text",
        description="Find objects in a map by text, e.g. 'blue mug' or 'the mug on the table'. Relations: "
                    "on/on top of, in/inside, near/next to/beside/by, under/below, above/over.",
    )
    p.add_argument("map", help="map file written by `ovmm scan` (home.npz; the .npz may be left out)")
    p.add_argument("text", nargs="*",
                   help="what to find, e.g. 'blue mug' or 'the bowl in the sink'; several texts are answered "
                        "with the encoder loaded once; none: an interactive prompt")
    add_config_options(p, QueryCommandConfig, {"interactive": Option(aliases=("-i",)),
                                                "png": Option(metavar="OUT_PNG"), "rerun": Option(metavar="OUT_RRD")})
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mapping.calibration import calibration_of
    from mapping.map_encoder import load_query_encoder
    from mapping.map_files import map_path
    from mapping.voxel_map import VoxelMap

    opts = config_from_args(QueryCommandConfig, args)
    if args.top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {args.top_k}")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise InputError(f"--threshold must be a number, got {args.threshold}")
    if (args.png or args.rerun) and len(args.text) != 1:
        raise InputError("--png and --rerun draw one query: give exactly one text with them")
    for text in args.text:
        if not text.strip():
            raise InputError("the query text is empty")
    from core.io import check_output_folder

    check_output_folder(args.png, "--png")
    check_output_folder(args.rerun, "--rerun")
    path = map_path(args.map)
    vmap = VoxelMap.load(path)
    cal = calibration_of(vmap)
    if args.calibration:
        print(json.dumps(cal.to_dict()) if args.json else
              f"map {path}: threshold {cal.threshold:.3f}, margin {cal.margin:.3f} ({cal.method}: {cal.note})")
        if not args.text and not args.interactive:
            return 0
    if len(vmap) == 0:
        raise InputError(f"map {path} has no semantic voxels (no objects were observed during the scan)")
    encoder = load_query_encoder(vmap, device=args.device)
    threshold = cal.threshold if args.threshold is None else float(args.threshold)
    cfg = opts.query_config(threshold)
    code = 0
    for text in args.text:
        code = max(code, _answer(vmap, encoder, text, cfg, args))
    if args.interactive or not args.text:
        code = _prompt(vmap, encoder, cfg, args)
    return code


def _prompt(vmap, encoder, cfg: QueryConfig, args: argparse.Namespace) -> int:
    """One query per line until an empty line or end of input; errors in one query do not end the prompt."""
    from core.errors import OvmmError

    interactive = sys.stdin.isatty()
    if interactive:
        print("type what to find (empty line or Ctrl-D to quit)", file=sys.stderr)
    code = 0
    while True:
        try:
            line = input("query> " if interactive else "")
        except EOFError:
            break
        text = line.strip()
        if not text or text in ("quit", "exit"):
            break
        try:
            code = max(code, _answer(vmap, encoder, text, cfg, args))
        except OvmmError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = 1
    return code


def _answer(vmap, encoder, text: str, cfg: QueryConfig, args: argparse.Namespace) -> int:
    from mapping.query import similarities
    from mapping.relations import clean_phrase, parse_relation

    hits = vmap.query_text(text, encoder, cfg)
    found = [h for h in hits if h.score >= cfg.not_found_threshold]
    shown = hits if args.all else found
    if args.png or args.rerun:
        parsed = parse_relation(text) if cfg.relations else None
        phrase = parsed[0] if parsed else clean_phrase(text)
        sims = similarities(vmap, encoder.encode_text([phrase])[0])
        if args.png:
            from mapping.pictures import save_query_png

            save_query_png(vmap, args.png, sims, shown, title=f'"{text}"')
        if args.rerun:
            from orchestrator.pictures_map import save_map_rrd

            save_map_rrd(vmap, args.rerun, sims, shown, query=text)
    if args.json:
        print(json.dumps({"query": text, "threshold": round(cfg.not_found_threshold, 4),
                          "hits": [h.to_dict() for h in shown]} if len(args.text) != 1 or args.interactive
                         else [h.to_dict() for h in shown]))
    else:
        if len(args.text) != 1 or args.interactive:
            print(f"{text}:")
        for i, h in enumerate(shown):
            x, y, z = h.center
            ex, ey, ez = h.extent
            mark = "" if h.score >= cfg.not_found_threshold else "  (below threshold)"
            name = h.description or h.label
            kind = f" ({h.label})" if h.description and h.label and h.label != h.description else ""
            print(f"{i + 1}. {name}{kind}: score {h.score:.3f} at ({x:.2f}, {y:.2f}, {z:.2f}) m, "
                  f"size {ex:.2f} x {ey:.2f} x {ez:.2f} m{mark}")
    if not found:
        best = hits[0] if hits else None
        near = f"; best match {best.name or 'a voxel'} at {best.score:.3f}" if best is not None else ""
        print(f"not found: {text!r} (nothing scores above the threshold {cfg.not_found_threshold:.3f}{near})",
              file=sys.stderr)
        return 1
    return 0

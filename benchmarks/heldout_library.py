"""Write a held-out object library for `ovmm eval --object-library`: 16 of the shared random solids (ids 2,
9, 16, ... that fit the gripper; none was used while developing the grasp or place code) under household
names ("green paperweight", "cyan soap bar", ...) so that each can be asked for by its description.

    python benchmarks/heldout_library.py --out /tmp/heldlib
    ovmm eval --episodes 30 --seed 300 --object-library /tmp/heldlib --scan-camera 320x240 --json out.json

Prints one JSON object: the folder and the descriptions written.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.io import write_json_atomic  # noqa: E402
from sim.scene.objects import LIBRARY_FORMAT  # noqa: E402
from sim.scene.random_shapes import random_shapes_library  # noqa: E402

NOUNS = ("paperweight", "soap bar", "toy figure", "ornament", "door knob", "candle", "pebble", "eraser",
         "chess piece", "seashell", "pine cone", "tea light", "cork", "dice", "trinket", "statuette")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder to write (library.json + the solids' meshes)")
    ap.add_argument("--count", type=int, default=16)
    args = ap.parse_args()
    lib = random_shapes_library()
    if not lib:
        print(json.dumps({"error": "no random solids: ../shared/data/objects/random_shapes is absent"}))
        return 1
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries, used = [], set()
    for e in lib[2::7]:
        noun = NOUNS[len(entries) % len(NOUNS)]
        desc = f"{e.description.split()[0]} {noun}"
        if desc in used:
            continue
        used.add(desc)
        src = Path(e.mesh)  # type: ignore[arg-type]
        shutil.copy(src, out_dir / f"{src.stem}.obj")
        entries.append({"mesh": f"{src.stem}.obj", "label": noun.split()[-1], "description": desc,
                        "rgba": list(e.rgba), "scale": e.scale, "mass": e.mass})
        if len(entries) >= args.count:
            break
    write_json_atomic(out_dir / "library.json", {"format": LIBRARY_FORMAT, "version": 1, "objects": entries})
    print(json.dumps({"out": str(out_dir), "objects": [x["description"] for x in entries]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

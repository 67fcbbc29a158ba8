"""`ovmm eval` in generated apartments vs the same apartments exported as Habitat datasets and imported back.

For each seed: `ovmm eval --seed S` (apartment S, its episodes drawn with seed S), then the apartment is
written with `ovmm sim export-habitat` and evaluated with `ovmm eval --scene-dataset ... --seed S` (the
imported scene, episodes drawn with the same seed), and once more with every `user_defined.ovmm` block
removed from the export, so it imports as any Habitat dataset would (labels from template names,
descriptions from colours, furniture from its meshes and receptacle volumes, no wall boxes: the stage
mesh). All runs scan with the same camera, each in its own fresh cache folder. Prints one JSON object:
per-phase success of each and the differences in points.

    .venv/bin/python benchmarks/habitat_roundtrip_eval.py [--seeds 20,21] [--episodes 4] [--scan-camera 320x240]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OVMM = [sys.executable, "-m", "orchestrator"]


def _eval(args: list[str], cache: Path, out: Path) -> dict:
    cmd = [*OVMM, "eval", *args, "--cache-dir", str(cache), "--json", str(out)]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    return json.loads(out.read_text())


def strip_ovmm_metadata(folder: Path) -> int:
    """Remove the `user_defined.ovmm` block from every stage/object config under `folder`; returns how many."""
    n = 0
    for f in list(folder.glob("stages/*.stage_config.json")) + list(folder.glob("objects/*.object_config.json")):
        d = json.loads(f.read_text())
        if d.get("user_defined", {}).pop("ovmm", None) is not None:
            n += 1
            f.write_text(json.dumps(d, indent=2))
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="20,21")
    ap.add_argument("--episodes", type=int, default=4, help="episodes per apartment")
    ap.add_argument("--scan-camera", default="320x240")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_p = Path(tmp)
        for s in seeds:
            common = ["--seed", str(s), "--episodes", str(args.episodes), "--episodes-per-scene", str(args.episodes),
                      "--scan-camera", args.scan_camera]
            gen = _eval(common, tmp_p / f"cache-gen-{s}", tmp_p / f"gen-{s}.json")
            scene = tmp_p / f"apartment-{s}.json"
            subprocess.run([*OVMM, "sim", "generate", "--seed", str(s), "--out", str(scene)], cwd=ROOT, check=True,
                           capture_output=True)
            subprocess.run([*OVMM, "sim", "export-habitat", str(scene), str(tmp_p / f"habitat-{s}"), "--episodes", "0"],
                           cwd=ROOT, check=True, capture_output=True)
            dataset = tmp_p / f"habitat-{s}" / f"apartment-{s}.scene_dataset_config.json"
            hab = _eval([*common, "--scene-dataset", str(dataset)], tmp_p / f"cache-hab-{s}", tmp_p / f"hab-{s}.json")
            foreign_dir = tmp_p / f"foreign-{s}"
            shutil.copytree(tmp_p / f"habitat-{s}", foreign_dir)
            strip_ovmm_metadata(foreign_dir)
            foreign = _eval([*common, "--scene-dataset", str(foreign_dir / dataset.name)], tmp_p / f"cache-foreign-{s}",
                            tmp_p / f"foreign-{s}.json")
            rows.append({"seed": s, "generated": gen["success"], "round_trip": hab["success"],
                         "foreign": foreign["success"], "foreign_failures": foreign["failures"],
                         "episodes": [gen["episodes"], hab["episodes"], foreign["episodes"]]})
    phases = ("find_object", "pick", "find_receptacle", "place", "overall")
    counts = [sum(r["episodes"][k] for r in rows) for k in range(3)]

    def mean(key: str, phase: str, k: int) -> float:
        tot = sum(r[key][phase] * r["episodes"][k] for r in rows)
        return round(tot / max(counts[k], 1), 4)

    gen_all = {p: mean("generated", p, 0) for p in phases}
    hab_all = {p: mean("round_trip", p, 1) for p in phases}
    foreign_all = {p: mean("foreign", p, 2) for p in phases}
    print(json.dumps({"benchmark": "habitat_roundtrip_eval", "seeds": seeds, "scan_camera": args.scan_camera,
                      "episodes": {"generated": counts[0], "round_trip": counts[1], "foreign": counts[2]},
                      "success_generated": gen_all, "success_round_trip": hab_all, "success_foreign": foreign_all,
                      "overall_difference_points": round(100 * (hab_all["overall"] - gen_all["overall"]), 1),
                      "foreign_overall_difference_points": round(100 * (foreign_all["overall"] - gen_all["overall"]), 1),
                      "target_points": 5.0, "per_apartment": rows,
                      "wall_seconds": round(time.perf_counter() - t0, 1)}, indent=2))


if __name__ == "__main__":
    main()

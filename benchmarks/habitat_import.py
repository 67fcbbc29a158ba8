"""Habitat scene-dataset import speed on a dataset the size of a ReplicaCAD apartment (~100 object instances).

Builds the dataset by exporting a large generated apartment (12 pieces of furniture, 25 objects) with
`ovmm sim export-habitat`'s exporter and laying `--copies` copies of it side by side in one scene instance
(3 copies: 111 object instances, 36 distinct furniture templates per copy shared by the copies). Then times,
each in a fresh process (cold mesh caches), `import_scene` the way any dataset is read (ovmm metadata
ignored: labels from template names, furniture collision boxes and surfaces from the meshes' rays) and with
our metadata. Prints one JSON object: wall-clock seconds and this process's CPU seconds (the wall time
grows when other jobs share the CPU; the CPU time is what an idle machine of this kind takes).

    .venv/bin/python benchmarks/habitat_import.py [--seed 5] [--copies 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.habitat_dataset.exporter import export_scene  # noqa: E402
from sim.scene.generator import GeneratorConfig, generate_scene  # noqa: E402


def build_dataset(folder: Path, seed: int, copies: int) -> tuple[Path, str, int]:
    spec = generate_scene(seed, GeneratorConfig(rooms=("kitchen", "living room", "bedroom", "office", "bathroom"),
                                                num_receptacles=(12, 12), num_objects=(25, 25)))
    config = export_scene(spec, folder / "dataset", episodes=0)
    name = spec.name.replace(" ", "_")
    scene_file = folder / "dataset" / "scenes" / f"{name}.scene_instance.json"
    scene = json.loads(scene_file.read_text())
    xmin, _, xmax, _ = spec.bounds_xy()
    width = xmax - xmin + 2.0
    base = scene["object_instances"]
    out = []
    for k in range(copies):
        for inst in base:
            c = dict(inst)
            c["translation"] = [inst["translation"][0] + k * width, inst["translation"][1], inst["translation"][2]]
            out.append(c)
    scene["object_instances"] = out
    scene_file.write_text(json.dumps(scene))
    return config, name, len(out)


def time_import(config: Path, name: str, use_metadata: bool) -> dict:
    code = (
        "import json, time, sys\n"
        "t0 = time.perf_counter()\n"
        "from sim.habitat_dataset.importer import ImportConfig, import_scene\n"
        "t1, c1 = time.perf_counter(), time.process_time()\n"
        f"spec = import_scene({str(config)!r}, {name!r}, ImportConfig(use_ovmm_metadata={use_metadata}))\n"
        "t2, c2 = time.perf_counter(), time.process_time()\n"
        "print(json.dumps({'import_seconds': round(t2 - t1, 2), 'import_cpu_seconds': round(c2 - c1, 2), 'python_import_seconds': round(t1 - t0, 2),\n"
        "  'receptacles': len(spec.receptacles), 'objects': len(spec.objects),\n"
        "  'surfaces': sum(len(r.surfaces) for r in spec.receptacles),\n"
        "  'collision_boxes': sum(p.type == 'box' for r in spec.receptacles for p in r.parts),\n"
        "  'objects_on_a_receptacle': sum(o.on is not None for o in spec.objects)}))\n")
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"import failed:\n{res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--copies", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        config, name, n = build_dataset(Path(tmp), args.seed, args.copies)
        build_s = time.perf_counter() - t0
        generic = time_import(config, name, use_metadata=False)
        ours = time_import(config, name, use_metadata=True)
    print(json.dumps({"benchmark": "habitat_import", "seed": args.seed, "object_instances": n,
                      "dataset_build_seconds": round(build_s, 2), "target_import_seconds": 10.0,
                      "any_dataset": generic, "with_ovmm_metadata": ours}, indent=2))


if __name__ == "__main__":
    main()

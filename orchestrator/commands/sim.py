"""`ovmm sim ...`: simulated homes.

  ovmm sim generate --seed 3 --out scene.json [--object-library DIR] [--rooms kitchen,"living room"]
  ovmm sim habitat --out habitat.json [--assets DIR]
  ovmm sim check scene.json          (validate, print counts and navigability)
  ovmm sim render scene.json --out views.png   (top-down + head camera views)

Adding a subcommand: write `def _add_NAME(sub) -> None` that calls `sub.add_parser(...)` and
`set_defaults(func=...)`, and decorate it with `@subcommand`; nothing else changes.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from orchestrator.commands.arg_types import seed_number
from orchestrator.config_options import Option, add_config_options, config_from_args

SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def subcommand(add: Callable[[argparse._SubParsersAction], None]) -> Callable[[argparse._SubParsersAction], None]:
    """Register a function that adds one `ovmm sim` subparser."""
    SUBCOMMANDS.append(add)
    return add


def register(subparsers) -> None:
    p = subparsers.add_parser("sim", help="simulated homes: generate, convert and check scenes",
                              description="Simulated homes: generate, convert and check scenes.")
    sub = p.add_subparsers(dest="sim_command", metavar="SIMCOMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    for add in SUBCOMMANDS:
        add(sub)


def _summary(spec) -> dict:
    return {"name": spec.name, "rooms": len(spec.rooms), "receptacles": len(spec.receptacles),
            "objects": len(spec.objects), "stages": len(spec.stages), "robot_start": spec.robot_start.to_list()}


def _labels(text: str) -> tuple[str, ...]:
    """Comma-separated labels, e.g. 'kitchen,living room'."""
    return tuple(r.strip() for r in text.split(",") if r.strip())


@subcommand
def _add_generate(sub) -> None:
    from sim.scene.generator import GeneratorConfig

    p = sub.add_parser("generate", help="generate a random apartment (deterministic per seed)")
    p.add_argument("--seed", type=seed_number, required=True, help="random seed, 0 or more (same seed + library = same file)")
    p.add_argument("--out", required=True, help="scene JSON file to write")
    p.add_argument("--object-library", metavar="DIR", help="folder with library.json + meshes (default: YCB from "
                   "the shared data when present, plus procedural objects)")
    span = ("MIN", "MAX")
    add_config_options(p, GeneratorConfig, {
        "rooms": Option(type=_labels, metavar="LABELS"),
        "num_rooms": Option(flag="--room-count", type=int, nargs=2, metavar=span),
        "num_objects": Option(flag="--objects", type=int, nargs=2, metavar=span),
        "num_receptacles": Option(flag="--receptacles", type=int, nargs=2, metavar=span),
    }, only={"rooms", "num_rooms", "num_objects", "num_receptacles"})
    p.set_defaults(func=_run_generate)


def _run_generate(args) -> int:
    from core.errors import InputError
    from sim.scene.generator import GeneratorConfig, generate_scene
    from sim.scene.objects import load_library_dir

    cfg = config_from_args(GeneratorConfig, args)
    for name, (lo, hi) in (("--objects", cfg.num_objects), ("--receptacles", cfg.num_receptacles),
                           ("--room-count", cfg.num_rooms)):
        if not 1 <= lo <= hi:
            raise InputError(f"{name} needs 1 <= MIN <= MAX, got {lo} {hi}")
    if cfg.rooms == ():
        raise InputError("--rooms needs at least one room label")
    library = load_library_dir(args.object_library) if args.object_library else None
    spec = generate_scene(args.seed, cfg, library)
    spec.save(args.out)
    print(json.dumps({"out": str(Path(args.out)), **_summary(spec)}))
    return 0


@subcommand
def _add_habitat(sub) -> None:
    from sim.scene.habitat import HabitatSceneConfig

    p = sub.add_parser("habitat", help="convert the Habitat test assets (simple_room + URDF furniture) to a scene")
    p.add_argument("--out", required=True, help="scene JSON file to write")
    p.add_argument("--assets", metavar="DIR", help="habitat test assets folder (default: "
                   "<shared data>/scenes/habitat_test_assets)")
    add_config_options(p, HabitatSceneConfig, {"seed": Option(type=seed_number)}, only={"extra_objects", "seed"})
    p.set_defaults(func=_run_habitat)


def _run_habitat(args) -> int:
    from sim.scene.habitat import HabitatSceneConfig, load_habitat_scene

    cfg = config_from_args(HabitatSceneConfig, args, extra_objects=max(0, args.extra_objects))
    spec = load_habitat_scene(args.assets, cfg)
    spec.save(args.out)
    print(json.dumps({"out": str(Path(args.out)), **_summary(spec)}))
    return 0


@subcommand
def _add_check(sub) -> None:
    p = sub.add_parser("check", help="validate a scene file and check that the robot can reach every room and receptacle")
    p.add_argument("scene", help="scene JSON file")
    p.add_argument("--route", action="store_true", help="also plan the scan route and print its stop count")
    p.set_defaults(func=_run_check)


def _run_check(args) -> int:
    from sim.scene.generator import check_navigable
    from sim.scene.spec import SceneSpec

    spec = SceneSpec.load(args.scene)
    problem = check_navigable(spec)
    out = {**_summary(spec), "navigable": problem is None, "problem": problem}
    if args.route:
        from sim.scene.walkthrough import scan_route

        stops = scan_route(spec)
        out["scan_stops"] = len(stops)
        out["scan_views"] = sum(len(s.head_pans) for s in stops)
    print(json.dumps(out))
    return 0 if problem is None else 1


@subcommand
def _add_render(sub) -> None:
    p = sub.add_parser("render", help="render a scene: labelled top-down view + head camera RGB/depth/instances")
    p.add_argument("scene", help="scene JSON file")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--pan", type=float, help="head pan in radians (default: the robot's start pose)")
    p.add_argument("--tilt", type=float, help="head tilt in radians (default: the robot's start pose)")
    p.set_defaults(func=_run_render)


def _run_render(args) -> int:
    from sim.backends import load_world
    from sim.overview import save_overview

    world = load_world(args.scene)
    try:
        print(json.dumps(save_overview(world, args.out, args.pan, args.tilt)))
    finally:
        world.close()
    return 0


@subcommand
def _add_import_habitat(sub) -> None:
    from sim.habitat_dataset.importer import ImportConfig

    p = sub.add_parser("import-habitat", help="convert one scene of a Habitat scene dataset to a scene file",
                       epilog="example: ovmm sim import-habitat data/replica_cad/replicaCAD.scene_dataset_config.json "
                              "--scene apt_0 --out scenes/apt_0.json")
    p.add_argument("dataset", help="the *.scene_dataset_config.json file")
    p.add_argument("--scene", help="scene instance name (default: list the dataset's scenes and exit)")
    p.add_argument("--out", help="scene JSON file to write (mesh paths relative to it)")
    add_config_options(p, ImportConfig, {"pickable_max_size_m": Option(flag="--pickable-max-size", metavar="M"),
                                         "use_ovmm_metadata": Option(flag="--ovmm-metadata")},
                       only={"pickable_max_size_m", "use_ovmm_metadata"})
    p.add_argument("--ignore-ovmm-metadata", dest="use_ovmm_metadata", action="store_false",
                   help="the same as --no-ovmm-metadata: import a dataset exported by ovmm as any other")
    p.set_defaults(func=_run_import_habitat)


def _run_import_habitat(args) -> int:
    from core.errors import InputError
    from sim.habitat_dataset.attributes import SceneDataset
    from sim.habitat_dataset.importer import ImportConfig, import_scene

    ds = SceneDataset.load(args.dataset)
    if not args.scene:
        print(json.dumps({"dataset": str(Path(args.dataset)), "scenes": ds.scene_names()}))
        return 0
    if not args.out:
        raise InputError("--out FILE is needed with --scene")
    cfg = config_from_args(ImportConfig, args)
    if not cfg.pickable_max_size_m > 0:
        raise InputError("--pickable-max-size must be > 0")
    spec = import_scene(ds, args.scene, cfg)
    spec.save(args.out, relative_paths=True)
    print(json.dumps({"out": str(Path(args.out)), **_summary(spec)}))
    return 0


@subcommand
def _add_export_habitat(sub) -> None:
    from sim.habitat_dataset.exporter import ExportConfig

    p = sub.add_parser("export-habitat", help="write a scene file as a Habitat scene dataset (glb + configs + episodes)",
                       epilog="example: ovmm sim export-habitat scenes/apartment-3.json out/apartment-3-habitat")
    p.add_argument("scene", help="scene JSON file")
    p.add_argument("outdir", help="folder to create (must be absent or empty)")
    add_config_options(p, ExportConfig, {"seed": Option(type=seed_number)})
    p.set_defaults(func=_run_export_habitat)


def _run_export_habitat(args) -> int:
    from core.errors import InputError
    from sim.habitat_dataset.exporter import export_scene
    from sim.scene.spec import SceneSpec

    if args.episodes < 0:
        raise InputError("--episodes must be >= 0")
    spec = SceneSpec.load(args.scene)
    config = export_scene(spec, args.outdir, episodes=args.episodes, seed=args.seed)
    print(json.dumps({"dataset": str(config), "scene": config.name.removesuffix(".scene_dataset_config.json"),
                      **_summary(spec)}))
    return 0

"""Where the apartments of `ovmm eval` come from: generated per seed, or the scenes of a Habitat scene dataset.

With `EvalConfig.scene_dataset` set, apartment k of a run (seed `config.seed + k`) is scene
`k mod len(scenes)` of the dataset (`config.scenes`, default: every scene instance the dataset lists),
imported with sim.habitat_dataset; the seed still draws that apartment's episodes, so a scene reused by a
later apartment gets other episodes and keeps its cached scan. The cache tag names the scene and a digest of
its scene-instance file, so editing the dataset re-imports and re-scans it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from core.errors import InputError
from orchestrator.configs import EvalConfig


def dataset_scene_names(config: EvalConfig) -> list[str]:
    """The scenes a dataset evaluation cycles through (InputError for an unknown name or an empty dataset)."""
    from sim.habitat_dataset.attributes import SceneDataset

    ds = SceneDataset.load(config.scene_dataset)  # type: ignore[arg-type]
    known = ds.scene_names()
    names = list(config.scenes) or known
    missing = [n for n in names if n not in known]
    if missing:
        raise InputError(f"--scenes: {', '.join(missing)} not in dataset {config.scene_dataset} "
                         f"(its scenes: {', '.join(known) or 'none'})")
    if not names:
        raise InputError(f"scene dataset {config.scene_dataset} lists no scene instances")
    return names


def eval_scene(seed: int, config: EvalConfig) -> tuple[str, Callable[[], object]]:
    """(cache-folder tag, builder of the SceneSpec) of the apartment with `seed` in this evaluation."""
    if not config.scene_dataset:
        from sim.scene.generator import DEFAULT_CONFIG, generate_scene

        if not config.object_library:
            return f"seed-{seed}", lambda: generate_scene(seed)
        library = object_library(config.object_library)
        tag = f"seed-{seed}-lib-{library_digest(config.object_library)}"
        return tag, lambda: generate_scene(seed, DEFAULT_CONFIG, library)
    from sim.habitat_dataset.attributes import SceneDataset
    from sim.habitat_dataset.importer import import_scene
    from sim.habitat_dataset.naming import slug

    names = dataset_scene_names(config)
    name = names[(seed - config.seed) % len(names)]
    ds = SceneDataset.load(config.scene_dataset)  # type: ignore[arg-type]
    source = Path(ds.scene_template(name).source)
    digest = hashlib.sha1(str(Path(config.scene_dataset).resolve()).encode() + source.read_bytes()).hexdigest()[:8]  # type: ignore[arg-type]
    return f"habitat-{slug(name)}-{digest}", lambda: import_scene(ds, name)


def object_library(folder: str):
    """The entries of an object-library folder (ObjectLibraryError, one line, for a bad one)."""
    from sim.scene.objects import load_library_dir

    return load_library_dir(folder)


def library_digest(folder: str) -> str:
    """A digest of the library's index and mesh files: editing the library re-generates and re-scans."""
    root = Path(folder)
    h = hashlib.sha1((root / "library.json").read_bytes())
    for e in object_library(folder):
        if e.mesh:
            h.update(Path(e.mesh).name.encode() + Path(e.mesh).read_bytes())
    return h.hexdigest()[:8]


def add_scene_dataset_options(p) -> None:
    """The `ovmm eval` flags that evaluate in a Habitat scene dataset's scenes."""
    p.add_argument("--scene-dataset", metavar="FILE", default=None,
                   help="evaluate in the scenes of this *.scene_dataset_config.json instead of generated apartments")
    p.add_argument("--scenes", metavar="NAME,...", default=None,
                   help="with --scene-dataset: only these scene instances (default: all of the dataset's scenes)")


def scene_dataset_options(args) -> dict:
    """EvalConfig fields from the parsed flags (checked: the dataset loads and names the scenes)."""
    if args.scenes and not args.scene_dataset:
        raise InputError("--scenes needs --scene-dataset")
    if not args.scene_dataset:
        return {}
    scenes = tuple(s.strip() for s in args.scenes.split(",") if s.strip()) if args.scenes else ()
    out = {"scene_dataset": str(Path(args.scene_dataset).resolve()), "scenes": scenes}
    dataset_scene_names(EvalConfig(**out))
    return out

"""The units of work of `ovmm eval`, as plain functions of small serialisable specs.

The same two functions run in the plain loop and as Ray tasks (orchestrator.eval_cluster), so whatever
EvalConfig carries (camera, realism profile, scene dataset, object library, ...) reaches every worker:

- `prepare_apartment(config, seed, n)`: generate (or load from the cache folder) apartment `seed`, scan it
  once, draw its first `n` episodes; returns an `Apartment` holding the scene and map files' bytes, so Ray
  can share one scan with all of that apartment's episodes through its object store, on any node.
- `run_episode_job(config, apartment, index)`: run episode `index` of the apartment in a fresh world and
  return its record (a JSON-able dict, one line of the results file).

An episode is identified by (apartment seed, index in the apartment, settings): episodes are drawn from an
apartment in a fixed order (the first k are the same whatever n), and `episode_settings` holds every
EvalConfig field that can change an outcome. Each episode seeds numpy, `random` and torch from its key, so
its result does not depend on which process ran it or what ran there before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import re
import socket
import tempfile
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from orchestrator.configs import EvalConfig
from orchestrator.evaluation import MAP_FILE_NAME

log = logging.getLogger(__name__)

# EvalConfig fields that say how much to run and where to keep things, not how an episode runs: they are
# left out of the episode key (any other field, present or added later, is part of it).
RUN_SHAPE_FIELDS = frozenset({"episodes", "seed", "episodes_per_scene", "cache_dir"})
RECORD_FORMAT = "ovmm-eval-episode"
# Which episodes an apartment's indices stand for (sim.scene.episodes.draw_episodes): 2 = only what no
# Stretch could do is left out (was: the arm and lift kept 5 cm inside their limits, the planner's inflation).
EPISODES_VERSION = 2


def episode_settings(config: EvalConfig) -> dict:
    """Everything that shapes an episode's outcome: EvalConfig less RUN_SHAPE_FIELDS, and the scan version."""
    from orchestrator.evaluation import SCAN_VERSION

    d = {k: v for k, v in asdict(config).items() if k not in RUN_SHAPE_FIELDS}
    if d.get("faults") is None:  # no faults: the same id as before --faults existed (results files resume)
        d.pop("faults", None)
    if not d.get("changes"):  # a static home: the same id as before --changes existed
        d.pop("changes", None)
        d.pop("changed_target_share", None)
    if not d.get("carry_map"):
        d.pop("carry_map", None)
    if d.get("realism") == "oracle":  # an oracle robot knows its pose: localisation changes nothing
        d.pop("localize", None)
    if d.get("scan_route") == "ground-truth":  # the route every scan took before exploration: results resume
        d.pop("scan_route", None)
    d["scan_version"] = SCAN_VERSION
    d["episodes_version"] = EPISODES_VERSION
    return d


def settings_id(config: EvalConfig) -> str:
    blob = json.dumps(episode_settings(config), sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def episode_key(seed: int, index: int, settings: str) -> str:
    """The identity of one episode in a results file."""
    return f"{seed}:{index}:{settings}"


@dataclass(frozen=True)
class Apartment:
    """A prepared apartment, as it travels between processes and machines."""

    seed: int
    folder: str  # name of its cache sub-folder (seed and scan settings)
    scene_json: bytes
    map_npz: bytes
    episodes: tuple  # of sim.scene.episodes.Episode, in draw order
    exclusions: dict  # sim.scene.episodes.EpisodeDraw.to_dict(): what was left out as impossible
    scan_seconds: float
    cached: bool
    host: str

    @property
    def digest(self) -> str:
        return hashlib.sha1(self.scene_json + b"\0" + self.map_npz).hexdigest()


def prepare_apartment(config: EvalConfig, seed: int, n: int) -> Apartment:
    """Generate/scan apartment `seed` (or take it from the cache folder) and draw its first `n` episodes."""
    from orchestrator.evaluation import prepare_scene
    from sim.scene.episodes import draw_episodes

    scene = prepare_scene(seed, config)
    draw = draw_episodes(scene.spec, n, seed, scene_path=scene.scene_path)
    folder = scene.scene_path.parent
    return Apartment(seed, folder.name, scene.scene_path.read_bytes(), (folder / MAP_FILE_NAME).read_bytes(),
                     tuple(draw.episodes), draw.to_dict(), scene.scan_seconds, scene.cached, socket.gethostname())


# Scenes loaded in this process (a worker keeps the last few: its next episode is likely in the same apartment).
_LOADED: OrderedDict[str, object] = OrderedDict()
_LOADED_MAX = 2


def _local_folder(config: EvalConfig, apartment: Apartment) -> Path:
    """The apartment's files in this machine's cache folder (written there from the bytes if missing)."""
    from core.io import write_bytes_atomic

    for root in (Path(config.cache_dir), Path(tempfile.gettempdir()) / "ovmm-eval-cache"):
        folder = root / apartment.folder
        scene, vmap = folder / "scene.json", folder / MAP_FILE_NAME
        try:
            if not (scene.is_file() and vmap.is_file() and scene.read_bytes() == apartment.scene_json
                    and vmap.read_bytes() == apartment.map_npz):
                write_bytes_atomic(scene, apartment.scene_json)
                write_bytes_atomic(vmap, apartment.map_npz)
            return folder
        except OSError as exc:
            log.warning("cannot use %s for the apartment's files (%s)", folder, exc)
    raise OSError(f"no writable cache folder for apartment {apartment.seed}")


def loaded_scene(config: EvalConfig, apartment: Apartment):
    """The apartment as a PreparedScene in this process (loaded from its files once, then reused)."""
    from mapping.voxel_map import VoxelMap
    from orchestrator.evaluation import PreparedScene, scan_perception_config
    from perception.composite import build_perception
    from sim.scene.spec import SceneSpec

    key = apartment.digest
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    folder = _local_folder(config, apartment)
    spec = SceneSpec.load(folder / "scene.json")
    vmap = VoxelMap.load(folder / MAP_FILE_NAME)
    perception = build_perception(scan_perception_config(config), instance_descriptions=spec.instance_descriptions())
    scene = PreparedScene(apartment.seed, spec, folder / "scene.json", vmap, perception, cached=True)
    _LOADED[key] = scene
    while len(_LOADED) > _LOADED_MAX:
        _LOADED.popitem(last=False)
    return scene


def seed_everything(key: str) -> None:
    """Seed the random generators an episode could touch from the episode's key."""
    s = int.from_bytes(hashlib.sha1(key.encode()).digest()[:4], "little")
    random.seed(s)
    np.random.seed(s)
    try:
        import torch

        torch.manual_seed(s)
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass


def run_episode_job(config: EvalConfig, apartment: Apartment, index: int, settings: str | None = None) -> dict:
    """Run episode `index` of `apartment`; its record for the results file. `settings`: the driver's
    settings_id(config), so the record's key is the one the driver looks for even if a worker's code differs."""
    from orchestrator.evaluation import run_episode

    settings = settings or settings_id(config)
    key = episode_key(apartment.seed, index, settings)
    episode = apartment.episodes[index]
    scene = loaded_scene(config, apartment)
    seed_everything(key)
    t0 = time.perf_counter()
    from sim.realism import load_realism

    realism = load_realism(config.realism).with_seed(int(hashlib.sha1(key.encode()).hexdigest()[:8], 16))
    from robots.faults import load_faults

    result = run_episode(scene, episode, realism=realism, faults=load_faults(config.faults),
                         localize=config.localize)
    record = {"format": RECORD_FORMAT, "key": key, "scene_seed": apartment.seed, "index": index,
              "settings": settings, **result.to_dict()}
    record["seconds"] = round(time.perf_counter() - t0, 2)
    record["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    return record


_TIMING_KEYS = frozenset({"seconds", "worker"})
# Timings inside the step log's lines: "[   3.9s] pick: ok", "planned 14 grasps from 59 candidates in 137 ms".
_LOG_TIMES = re.compile(r"^\[\s*[\d.]+s\]|\bin \d+(\.\d+)? ms\b")


def outcome(record: dict) -> dict:
    """The record without timings and worker names: what must not depend on how the run was spread."""
    def strip(v, key=None):
        if isinstance(v, dict):
            return {k: strip(x, k) for k, x in v.items() if k not in _TIMING_KEYS}
        if isinstance(v, list):
            return [strip(x, key) for x in v]
        if key == "log" and isinstance(v, str):
            return _LOG_TIMES.sub("", v)
        return v

    return strip(record)

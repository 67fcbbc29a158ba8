"""`ovmm eval --scene-dataset`: which scene each apartment is, cache tags, and the option errors."""

from __future__ import annotations

import argparse

import pytest

from core.errors import InputError
from orchestrator.configs import EvalConfig
from orchestrator.eval_scenes import (
    add_scene_dataset_options,
    dataset_scene_names,
    eval_scene,
    scene_dataset_options,
)


@pytest.fixture(scope="module")
def dataset_1(shared_data):
    return shared_data / "scenes" / "habitat_dataset_tests" / "dataset_1" / "test_dataset_1.scene_dataset_config.json"


def _args(argv):
    p = argparse.ArgumentParser()
    add_scene_dataset_options(p)
    return p.parse_args(argv)


def test_apartments_cycle_through_the_dataset_scenes(dataset_1):
    cfg = EvalConfig(seed=10, **scene_dataset_options(_args(["--scene-dataset", str(dataset_1)])))
    assert dataset_scene_names(cfg) == ["dataset_test_scene_0", "dataset_test_scene_1"]
    tags = [eval_scene(s, cfg)[0] for s in (10, 11, 12)]
    assert tags[0].startswith("habitat-dataset_test_scene_0-") and tags[1].startswith("habitat-dataset_test_scene_1-")
    assert tags[2] == tags[0]  # the third apartment reuses scene 0 (and its cached scan)
    spec = eval_scene(11, cfg)[1]()
    assert spec.name == "dataset_test_scene_1" and spec.objects
    only = EvalConfig(seed=0, **scene_dataset_options(_args(["--scene-dataset", str(dataset_1), "--scenes",
                                                             "dataset_test_scene_1"])))
    assert eval_scene(0, only)[0] == tags[1]


def test_generated_apartments_without_a_dataset():
    tag, _ = eval_scene(4, EvalConfig())
    assert tag == "seed-4"


def test_option_errors(dataset_1):
    with pytest.raises(InputError, match="not in dataset"):
        scene_dataset_options(_args(["--scene-dataset", str(dataset_1), "--scenes", "kitchen_9"]))
    with pytest.raises(InputError, match="needs --scene-dataset"):
        scene_dataset_options(_args(["--scenes", "a"]))
    with pytest.raises(InputError, match="does not exist"):
        scene_dataset_options(_args(["--scene-dataset", "/no/such.scene_dataset_config.json"]))

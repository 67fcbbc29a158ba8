"""Parking where the head camera sees the object (TaskConfig.park_in_sight, mapping.sight), on the episode
it was built from.

Fresh apartment 10415, episode 0 (issue 13): "put the red coffee mug on the blue sofa". The best-scoring base
pose within arm reach has the mug hidden from the head camera behind what stands between them in the map,
so the pick segmented nothing: "red coffee mug is not in the head camera's view". Now the base goal ranks
the poses with a clear line from the head camera to the mug through the map's occupied voxels first.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eval_apartments import eval_apartment, run_with

from orchestrator.eval_jobs import run_episode_job
from orchestrator.task_machine import frozen_map_config


@pytest.fixture(scope="module")
def apartment_10415(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 10415)


def test_the_mug_is_picked_from_a_pose_the_head_camera_sees_it_from(apartment_10415, monkeypatch):
    run_with(monkeypatch, frozen_map_config())
    config, apartment = apartment_10415
    assert "red coffee mug" in apartment.episodes[0].request
    record = run_episode_job(config, apartment, 0)
    assert record["ground_truth"]["pick"], record["failure"]
    assert record["ground_truth"]["place"], record["failure"]


def test_without_it_the_camera_does_not_see_the_mug(apartment_10415, monkeypatch):
    """The same episode parked by score alone fails as it did (the test above is not luck)."""
    run_with(monkeypatch, replace(frozen_map_config(), park_in_sight=False))
    config, apartment = apartment_10415
    record = run_episode_job(config, apartment, 0)
    assert not record["ground_truth"]["pick"]
    assert "not in the head camera's view" in record["failure"]

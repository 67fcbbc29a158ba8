"""Re-parking for a grasp tries enough approaches to find the one the base can stand for (issue 13).

Apartment 10463, episode index 1 (10463:1): the white coffee mug stands 0.5 m deep on a bed, its handle towards the side
grasps the first pose allows. The pitched-down wrist reaches it from no free base pose, and from where the
base parks every side grasp puts a finger through the handle. Of the approaches from every side, the top-
down one, four side ones and the first angled ones need a base pose on the bed or behind the wall; the one
that works (an angled grasp from the robot's side of the bed) came after the first eight, where the search
stopped. It now tries up to 24 (GraspParkConfig.max_approaches).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eval_apartments import eval_apartment, run_with

from orchestrator.eval_jobs import run_episode_job
from orchestrator.task_machine import frozen_map_config


@pytest.fixture(scope="module")
def apartment_10463(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 10463)


def test_the_mug_deep_on_the_bed_is_picked_after_parking_for_an_angled_grasp(apartment_10463):
    config, apartment = apartment_10463
    assert "white coffee mug" in apartment.episodes[1].request
    record = run_episode_job(config, apartment, 1)
    log = record["report"]["log"]
    assert any("parking for an angled from" in line for line in log), "\n".join(log)
    assert record["ground_truth"]["place"], record["failure"]


def test_with_only_the_first_eight_approaches_the_same_episode_fails(apartment_10463, monkeypatch):
    base = frozen_map_config()
    run_with(monkeypatch, replace(base, grasp_park=replace(base.grasp_park, max_approaches=8)))
    config, apartment = apartment_10463
    record = run_episode_job(config, apartment, 1)
    assert not record["ground_truth"]["pick"]
    assert "no pose to park for another grasp" in "\n".join(record["report"]["log"])

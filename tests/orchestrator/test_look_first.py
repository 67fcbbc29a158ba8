"""Looking at an object from farther away when no pose within the arm's reach sees it
(TaskConfig.look_first, orchestrator.task_look_first), on the episode it was built from.

Fresh apartment 10400, episode 2 (issue 13): "put the blue water bottle on the grey granite kitchen counter".
The bottle stands on a low shelf board under another board: from every base pose close enough for the arm,
the head camera looks down onto the upper board, so the pick segmented nothing ("not in the head camera's
view"). Now the robot looks at it from a free pose farther out that the map says has a clear line to it,
drives back, and grasps the points it saw there (re-parking for a side grasp of them).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eval_apartments import eval_apartment, run_with

from orchestrator.eval_jobs import run_episode_job
from orchestrator.task_look_first import LookFirstConfig
from orchestrator.task_machine import frozen_map_config


@pytest.fixture(scope="module")
def apartment_10400(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 10400)


def _pick_details(record: dict) -> list[dict]:
    found = []

    def walk(v):
        if isinstance(v, dict):
            if v.get("name") == "pick" and isinstance(v.get("details"), dict):
                found.append(v["details"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(record)
    return found


def test_the_bottle_under_a_board_is_seen_from_afar_and_picked(apartment_10400, monkeypatch):
    run_with(monkeypatch, frozen_map_config())
    config, apartment = apartment_10400
    assert "blue water bottle" in apartment.episodes[2].request
    record = run_episode_job(config, apartment, 2)
    assert record["ground_truth"]["pick"], record["failure"]
    assert record["ground_truth"]["place"], record["failure"]
    assert any(d.get("seen_from_afar") for d in _pick_details(record))


def test_without_it_the_camera_does_not_see_the_bottle(apartment_10400, monkeypatch):
    """The same episode without the look from afar fails as it did (the test above is not luck)."""
    run_with(monkeypatch, replace(frozen_map_config(), look_first=LookFirstConfig(enabled=False)))
    config, apartment = apartment_10400
    record = run_episode_job(config, apartment, 2)
    assert not record["ground_truth"]["pick"]
    assert "not in the head camera's view" in record["failure"]

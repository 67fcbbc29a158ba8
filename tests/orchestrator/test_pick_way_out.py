"""Apartment 10522, episode 2 (issue 13): a white plastic cup on a sofa. The first side grasps' approach
(pre-grasp -> grasp) was clear, but extending the open gripper to their pre-grasp swept it into a can
beside the arm's line, and the pick stopped at that contact ("extend to pre-grasp failed: stopped at
contact: link_gripper_fingertip_right touches object can_0"). The planner now sweeps the open fingers along that extension too
(grasping.extension) and the cup is picked and placed.
"""

from __future__ import annotations

import pytest
from eval_apartments import eval_apartment

import grasping.planner as planner
from orchestrator.eval_jobs import run_episode_job


@pytest.fixture(scope="module")
def apartment_10522(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 10522)


def _extend_contacts(record) -> list[str]:
    return [line for line in record["report"]["log"] if "extend to pre-grasp: stopped at contact" in line]


def test_the_cup_is_picked_without_touching_its_neighbour(apartment_10522):
    config, apartment = apartment_10522
    assert "white plastic cup" in apartment.episodes[2].request
    record = run_episode_job(config, apartment, 2)
    assert record["ground_truth"]["place"], record["failure"]
    assert not _extend_contacts(record)


def test_without_the_way_out_check_the_extension_touches_it(apartment_10522, monkeypatch):
    monkeypatch.setattr(planner, "way_out_blocked", lambda *a, **k: False)
    config, apartment = apartment_10522
    record = run_episode_job(config, apartment, 2)
    assert not record["ground_truth"]["pick"], record["failure"]
    assert _extend_contacts(record)

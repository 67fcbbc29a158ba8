"""Re-parking for a grasp (orchestrator.task_grasp_park), on the episode it was built from.

Held-out apartment 9103, episode 3 (issue 13): the purple box on the kitchen counter has a mug 20 cm in
front of it. The pitched-down wrist reaches it from no free base pose, so the base parks for a level
grasp facing it; from there every side grasp sweeps through the mug and top-down ones are out of reach.
Before: "arm cannot reach: needs 0.64 m extension" after every rung (since the planner names the grasps
that reached IK first: "every reachable grasp collides ...; the others: arm cannot reach"). Now the points the camera saw give a
side grasp from another heading, the base parks for it, and the episode succeeds. (Since angled grasps, one
comes down over the mug from the first pose: these tests leave that family out, as for a wrist that cannot
pitch 45 degrees, to keep the situation re-parking was built for.) Since the arm's farthest reach became a
base-pose candidate, the pitched-down wrist reaches the box from the first pose: these tests keep base poses
on the 5 cm extension grid the episode was recorded with (`grid_reach_only`).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from eval_apartments import eval_apartment, grid_reach_only, run_with

from orchestrator.eval_jobs import run_episode_job
from orchestrator.task_grasp_park import GraspParkConfig
from orchestrator.task_machine import frozen_map_config


@pytest.fixture(scope="module")
def apartment_9103(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 9103)


def _level_and_top_only(grasp_park: GraspParkConfig | None = None):
    base = frozen_map_config()
    grasp = replace(base.pick.grasp, families=("top", "side", "rim"))
    return grid_reach_only(replace(base, pick=replace(base.pick, grasp=grasp),
                                   grasp_park=grasp_park or base.grasp_park))


def test_the_box_behind_a_mug_is_picked_after_parking_for_a_side_grasp(apartment_9103, monkeypatch):
    run_with(monkeypatch, _level_and_top_only())
    config, apartment = apartment_9103
    episode = apartment.episodes[2]
    assert "purple cardboard box" in episode.request
    record = run_episode_job(config, apartment, 2)
    log = record["report"]["log"]
    assert any("parking for a side from" in line for line in log), "\n".join(log)
    assert record["ground_truth"]["place"], record["failure"]


def test_without_it_the_same_episode_fails_for_reach(apartment_9103, monkeypatch):
    """The same episode with re-parking for a grasp turned off fails as before (the test above is not luck)."""
    run_with(monkeypatch, _level_and_top_only(GraspParkConfig(enabled=False)))
    config, apartment = apartment_9103
    record = run_episode_job(config, apartment, 2)
    assert not record["ground_truth"]["place"]
    assert "every reachable grasp collides" in record["failure"]
    reason = record["report"]["reason"]
    assert "approach sweeps through points" in reason and "the others: arm cannot reach" in reason, reason


def test_with_angled_grasps_the_box_is_picked_over_the_mug_from_where_the_base_parked(apartment_9103,
                                                                                      monkeypatch):
    """With every family (the default), an angled grasp comes straight down past the mug's side from the
    first pose: no re-park is needed."""
    run_with(monkeypatch, grid_reach_only(frozen_map_config()))
    config, apartment = apartment_9103
    record = run_episode_job(config, apartment, 2)
    log = record["report"]["log"]
    assert not any("parking for a" in line for line in log), "\n".join(log)
    assert any(": angled," in line for line in log)
    assert record["ground_truth"]["place"], record["failure"]

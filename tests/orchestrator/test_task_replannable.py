"""Which pick failures make the task machine park elsewhere (orchestrator.task_pick_failures.replannable)."""

from __future__ import annotations

import pytest

from orchestrator.task_pick_failures import reach_failure, replannable


@pytest.mark.parametrize("reason", [
    "no feasible grasp of yellow lemon: all 84 candidates rejected: collides with the scene (84)",
    "no feasible grasp of blue bowl: every reachable grasp collides on the approach or with the scene",
    "no feasible grasp of red apple: arm cannot reach: needs 0.61 m extension, max 0.52",
])
def test_a_grasp_that_no_candidate_from_this_pose_allows_re_parks(reason):
    assert replannable(reason)


def test_only_reach_failures_change_the_reach_mode_and_other_failures_do_not_re_park():
    collides = "no feasible grasp of yellow lemon: all 84 candidates rejected: collides with the scene (84)"
    assert not reach_failure(collides)  # another side, not another reach mode
    for reason in ("grasp closed on nothing", "extend to pre-grasp failed: stopped at contact: link_arm_l0",
                   "no feasible grasp of mug: all 12 candidates rejected: too wide for the gripper (12)"):
        assert not replannable(reason)

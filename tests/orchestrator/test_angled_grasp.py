"""Angled grasps (grasping.proposals' "angled" family), on the episode they were built for.

Held-out apartment 9722, episode 2 (issue 13): the orange cup, 6 cm tall, stands deep on a table. Before,
the pitched-down wrist reached it from no free base pose and every level grasp put the gripper body into
the table: "arm cannot reach" after every rung. Pitched 45 degrees down, the gripper reaches 0.15 m farther
than pointing down and its body rises behind the fingers: the cup is picked from where the base parked,
carried with the wrist as it was, and put down at the same pitch.
"""

from __future__ import annotations

import math

import pytest
from eval_apartments import eval_apartment

from orchestrator.eval_jobs import run_episode_job


@pytest.fixture(scope="module")
def apartment_9722(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 9722)


def test_a_short_cup_deep_on_a_table_is_picked_at_45_degrees_and_placed(apartment_9722):
    config, apartment = apartment_9722
    episode = apartment.episodes[2]
    assert "orange plastic cup" in episode.request
    record = run_episode_job(config, apartment, 2)
    log = record["report"]["log"]
    tried = [line for line in log if line.strip().startswith("grasp ") and ": angled," in line]
    assert tried, "\n".join(log)
    assert record["ground_truth"]["pick"] and record["ground_truth"]["place"], record["failure"]


def test_the_angled_hold_is_released_at_its_own_pitch_and_roll():
    """The place keeps the wrist as it was at the pick (an angled hold rolled by pi would turn the cup on
    its side), and the pre-release pose is straight above the release."""
    import numpy as np

    from core.stretch import ANGLED_WRIST_PITCH, T_world_grasp
    from core.types import Pose2D
    from grasping.place import HeldObject, choose_place

    xs, ys = np.meshgrid(np.linspace(-0.3, 0.3, 31), np.linspace(-1.1, -0.5, 31))
    table = np.stack([xs.ravel(), ys.ravel(), np.full(xs.size, 0.75)], axis=1)
    base = Pose2D(0.0, 0.0, 0.0)
    for roll in (0.0, math.pi):
        held = HeldObject(below_grasp_m=0.03, radius_m=0.03, top_down=False, pitch_rad=ANGLED_WRIST_PITCH,
                          roll_rad=roll, height_m=0.06, centre_in_grasp=np.zeros(3))
        assert held.reach_mode == "angled" and held.laid_on_side() is None
        target = choose_place(table, base, held)
        j = target.solution.joints
        assert abs(j.wrist_pitch - ANGLED_WRIST_PITCH) < 1e-3
        assert abs(math.remainder(j.wrist_roll - roll, 2 * math.pi)) < 1e-3
        assert abs(target.T_world_grasp[2, 3] - (0.75 + 0.03 + 0.03)) < 0.01
        pre = T_world_grasp(target.solution.base_pose, target.pre_joints)[:3, 3]
        assert np.allclose(pre[:2], target.T_world_grasp[:2, 3], atol=1e-6) and pre[2] > target.T_world_grasp[2, 3]


def test_an_angled_hold_is_tucked_over_the_base_for_carrying():
    """The pitched wrist holds a bowl gripped by its rim 0.41 m out from the base's centre with the arm in
    (apartment 9703: it touched a wall on the first drive). Turned back along the base, the same hold sits
    over the base's footprint, and nothing changes for holds from above."""
    import numpy as np

    from core.stretch import ANGLED_WRIST_PITCH, STRETCH
    from core.types import JointState
    from grasping.place import HeldObject

    bowl = HeldObject(below_grasp_m=0.04, radius_m=0.078, top_down=False, centre_in_grasp=np.array([0.0, -0.071, 0.0]),
                      pitch_rad=ANGLED_WRIST_PITCH, height_m=0.054)
    carried = JointState(lift_m=1.1, arm_m=0.0, wrist_yaw=0.27, wrist_pitch=ANGLED_WRIST_PITCH)
    assert bowl.protrusion_m(carried) > 0.2
    yaw = bowl.tucked_wrist_yaw(carried)
    assert yaw is not None and STRETCH.limits.wrist_yaw[0] <= yaw <= STRETCH.limits.wrist_yaw[1]
    tucked = JointState(lift_m=1.1, arm_m=0.0, wrist_yaw=yaw, wrist_pitch=ANGLED_WRIST_PITCH)
    assert bowl.protrusion_m(tucked) < 0.02
    # Too low to pass over the base's top: not tucked.
    low = JointState(lift_m=0.3, arm_m=0.0, wrist_yaw=0.27, wrist_pitch=ANGLED_WRIST_PITCH)
    assert bowl.tucked_wrist_yaw(low) is None
    from_above = HeldObject(below_grasp_m=0.04, radius_m=0.078, top_down=True)
    assert from_above.tucked_wrist_yaw(JointState(lift_m=1.0, arm_m=0.0, wrist_pitch=-1.57)) is None

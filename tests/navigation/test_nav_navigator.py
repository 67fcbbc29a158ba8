"""The Navigator facade on a hand-made apartment."""

from __future__ import annotations

import json

import numpy as np
import pytest
from navgrids import RES, apartment, distance_to_obstacles, fk_reach_error

from core.errors import OvmmError
from core.stretch import STRETCH
from core.types import Pose2D
from navigation.navigator import NavigationError, Navigator
from navigation.smoothing import densify


@pytest.fixture(scope="module")
def setup():
    canvas = apartment()
    return canvas, canvas.grid(), Navigator()


def test_plan_to_pose_gives_few_safe_waypoints(setup):
    canvas, grid, nav = setup
    res = nav.plan_to_pose(grid, Pose2D(0.6, 0.6, 0.0), Pose2D(9.0, 5.0, 1.2))
    assert res.success, res.reason
    assert 1 <= len(res.waypoints) <= 10
    assert res.waypoints[-1].theta == 1.2 and np.allclose(res.waypoints[-1].xy, [9.0, 5.0])
    d = distance_to_obstacles(densify(res.smoothed_xy, 0.01), canvas.mask, grid.origin_xy, RES)
    assert d.min() >= STRETCH.base_radius_m
    assert res.length_m <= 1.1 * np.linalg.norm(np.diff(res.path_xy, axis=0), axis=1).sum()
    assert set(res.timing_s) >= {"occupancy", "plan", "total"}
    json.dumps(res.to_dict())


def test_plan_to_target_reaches_the_table(setup):
    canvas, grid, nav = setup
    target = np.array([1.9, 1.7, 0.76])
    res = nav.plan_to_target(grid, Pose2D(8.0, 6.0, 0.0), target)
    assert res.success, res.reason
    assert res.base_goal is not None and res.goal == res.waypoints[-1]
    assert fk_reach_error(res.waypoints[-1], target) < 0.03
    d = distance_to_obstacles(densify(res.smoothed_xy, 0.01), canvas.mask, grid.origin_xy, RES)
    assert d.min() >= STRETCH.base_radius_m
    assert json.loads(json.dumps(res.to_dict()))["base_goal"]["mode"] in ("straight", "down")


def test_unreachable_target_is_a_result_and_an_ovmm_error(setup):
    _, grid, nav = setup
    res = nav.plan_to_target(grid, Pose2D(0.6, 0.6, 0.0), np.array([9.2, 7.2, 0.5]))
    assert not res.success and "connected" in res.reason
    with pytest.raises(NavigationError) as err:
        res.raise_for_failure()
    assert isinstance(err.value, OvmmError)

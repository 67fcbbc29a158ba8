"""The search for a moved object explores nearby unseen floor (real MuJoCo apartment, MiniLM ground-truth
perception): an object moved, after the scan, to a place the scan never saw is found by driving to the
frontiers near where it stood (navigation.frontiers), looking around there, and is picked at its new place."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures_sim_map import scanned_apartment

from mapping.voxel_map import VoxelMap
from orchestrator.eval_changes import apply_changes, plan_changes
from orchestrator.object_search import SearchConfig
from orchestrator.requests import parse_request
from orchestrator.task_machine import TaskConfig, TaskRunner
from sim.scene.episodes import make_episodes


@pytest.fixture(scope="module")
def apartment():
    return scanned_apartment(0)


def _forget(vmap: VoxelMap, xy: np.ndarray, half_m: float) -> int:
    """The map as if the scan had never seen the square of half-size `half_m` around `xy` (both layers, every
    height): its floor becomes unknown, its furniture is no surface."""
    gone = 0
    for layer in (vmap.semantic, vmap.occupancy):
        centres = (layer.coords[:, :2].astype(np.float64) + 0.5) * vmap.voxel_size
        gone += layer.remove(np.any(np.abs(centres - xy) > half_m, axis=1))
    return gone


def _moved_far(apartment):
    """The first planned change of apartment 0's episodes that moves its object at least 4 m (out of sight of a
    look-around where it stood: apartment 0's red plate, 5.4 m along its room)."""
    for ep in make_episodes(apartment.spec, 3, 0, scene_path=apartment.scene_path):
        for kind in ("same_room", "other_receptacle"):
            c = plan_changes(apartment.spec, 1, 0, (ep.object_id,), kinds=(kind,))
            if c and c[0].kind == kind and np.hypot(*(np.asarray(c[0].to_xyz[:2]) - c[0].from_xyz[:2])) >= 4.0:
                return c[0]
    raise AssertionError("apartment 0 has no change of 4 m or more")


def test_an_object_moved_to_a_place_not_seen_since_the_scan_is_found_by_exploring(apartment):
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot
    from sim.scoring import object_held

    change = _moved_far(apartment)
    to_xy = np.asarray(change.to_xyz[:2])
    vmap = VoxelMap.load(apartment.map_path)
    assert _forget(vmap, to_xy, 1.0) > 0
    world = SimWorld(apartment.spec, base_dir=apartment.scene_path.parent)
    try:
        apply_changes(world, [change], apartment.spec)
        # no furniture surfaces: after the look-around only the exploration of unseen floor is left
        config = TaskConfig(search=SearchConfig(surfaces=0))
        with SimRobot(world) as robot:
            report = TaskRunner(robot, vmap, apartment.perception, config).run(
                parse_request(f"pick up the {change.description}"))
        held = object_held(world, change.object_id)
    finally:
        world.close()
    assert report.success and held, "\n".join(report.log)
    looked = [p["what"] for p in report.search["looked"]]
    assert looked[:3] == ["hit", "look-around", "frontier"], looked  # the look-around did not see it
    assert any("unseen floor" in line for line in report.log)
    assert any("after frontier 0" in line for line in report.log)  # the map answered after the frontier look
    assert np.hypot(*(report.grasp_xyz[:2] - to_xy)) < 0.3  # picked at the new place


def test_the_search_reports_where_it_explored_when_the_object_is_not_there(apartment):
    """A removed object: the not-found line names the frontier places it looked from."""
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot

    ep = make_episodes(apartment.spec, 1, 0, scene_path=apartment.scene_path)[0]
    change = plan_changes(apartment.spec, 1, 0, (ep.object_id,), kinds=("removed",))[0]
    vmap = VoxelMap.load(apartment.map_path)
    from_xy = np.asarray(change.from_xyz[:2])
    _forget(vmap, from_xy + np.array([1.2, 0.0]), 0.5)  # unseen floor beside where it stood
    world = SimWorld(apartment.spec, base_dir=apartment.scene_path.parent)
    try:
        apply_changes(world, [change], apartment.spec)
        config = TaskConfig(search=SearchConfig(surfaces=0, explore_frontiers=1))
        with SimRobot(world) as robot:
            report = TaskRunner(robot, vmap, apartment.perception, config).run(
                parse_request(f"pick up the {change.description}"))
    finally:
        world.close()
    f = report.failure
    assert f is not None and f.details.get("not_found"), "\n".join(report.log)
    assert "\n" not in f.reason and "not found" in f.reason
    assert [p["what"] for p in report.search["looked"]][:3] == ["hit", "look-around", "frontier"]
    fx, fy = report.search["looked"][2]["xy"]
    assert f"frontier ({fx:.2f}, {fy:.2f})" in f.reason and report.search["views"] >= 10

"""The task machine end to end in a generated apartment (real MuJoCo, real MiniLM ground-truth perception),
checked against the simulator's ground truth."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixtures_sim_map import scanned_apartment

from orchestrator.cli import main
from orchestrator.evaluation import EVAL_PHASES, PreparedScene, run_episode
from orchestrator.requests import parse_request
from orchestrator.task_machine import RUN_ORDER, TaskRunner
from sim.scene.episodes import make_episodes


@pytest.fixture(scope="module")
def scene() -> PreparedScene:
    a = scanned_apartment(0)
    return PreparedScene(0, a.spec, a.scene_path, a.voxel_map, a.perception)


@pytest.fixture(scope="module")
def results(scene):
    episodes = make_episodes(scene.spec, 3, 0, scene_path=scene.scene_path)
    assert len(episodes) == 3
    return [run_episode(scene, ep) for ep in episodes]


def test_episodes_report_every_phase_in_order_and_stop_at_the_first_failure(results):
    for r in results:
        names = [p.name for p in r.report.phases]
        assert names == list(RUN_ORDER[: len(names)])  # both ends are looked up before anything moves
        failed = [p for p in r.report.phases if not p.success]
        assert len(failed) <= 1 and (not failed or failed[0] is r.report.phases[-1])
        assert all(p.reason for p in failed)  # a failure always says why
        assert r.report.log and r.report.log[0].endswith(r.report.task.describe())


def test_the_robot_never_claims_a_success_the_simulator_contradicts(results):
    for r in results:
        for runner_phase, gt_phase in (("pick", "pick"), ("place", "place")):
            p = r.report.phase(runner_phase)
            if p is not None and p.success:
                assert r.ground_truth[gt_phase], f"{r.request}: {runner_phase} claimed but not true"


def test_most_requests_are_carried_out(results):
    done = [r for r in results if r.success["place"]]
    assert len(done) >= 2, [(r.request, r.failure_reason()) for r in results]
    for r in done:
        assert all(r.success[p] for p in EVAL_PHASES)
        assert r.report.grasp_xyz is not None and r.report.place_xyz is not None
        assert len(r.report.paths_xy) >= 2  # drove to the object, then to the receptacle


def test_an_absent_object_fails_to_be_found_and_the_robot_stays(scene):
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot

    world = SimWorld(scene.spec, base_dir=scene.scene_path.parent)
    try:
        with SimRobot(world) as robot:
            start = robot.get_base_pose()
            report = TaskRunner(robot, scene.voxel_map, scene.perception).run(
                parse_request("put the purple elephant on the sofa"))
            assert not report.success
            assert [p.name for p in report.phases] == ["find_object"]
            assert "is not in the map" in report.phases[0].reason and "best matches" in report.phases[0].reason
            assert robot.get_base_pose().distance_to(start) < 1e-6
    finally:
        world.close()


def test_a_missing_receptacle_is_found_missing_before_the_robot_moves(scene):
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot

    obj = scene.spec.objects[0].description
    world = SimWorld(scene.spec, base_dir=scene.scene_path.parent)
    try:
        with SimRobot(world) as robot:
            start, joints = robot.get_base_pose(), robot.get_joints()
            report = TaskRunner(robot, scene.voxel_map, scene.perception).run(
                parse_request(f"put the {obj} on the grand piano"))
            assert [(p.name, p.success) for p in report.phases] == [("find_object", True), ("find_receptacle", False)]
            reason = report.phases[1].reason
            assert "'grand piano' is not in the map" in reason and "below the threshold" in reason
            cands = report.phases[1].details["candidates"]
            assert cands and all(c["description"] and c["label"] for c in cands)
            assert cands[0]["description"] in reason  # the best candidates are named with their labels
            assert robot.get_base_pose().distance_to(start) < 1e-6
            assert abs(robot.get_joints().arm_m - joints.arm_m) < 1e-6 and robot.is_holding() is not True
    finally:
        world.close()


def test_a_map_used_with_another_scene_is_refused_naming_both(scene, tmp_path, capsys):
    from sim.scene.generator import generate_scene

    a = scanned_apartment(0)
    other = tmp_path / "other.json"
    generate_scene(1).save(other)
    code = main(["run", "pick up the mug", "--map", str(a.map_path), "--robot", "sim", "--scene", str(other)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert "apartment-0" in err[0] and "apartment-1" in err[0] and "other.json" in err[0]


def test_run_cli_carries_out_a_request_and_writes_its_log_and_picture(scene, tmp_path, capsys):
    ep = make_episodes(scene.spec, 1, 5, scene_path=scene.scene_path)[0]
    a = scanned_apartment(0)
    log_path, png = tmp_path / "run.json", tmp_path / "run.png"
    code = main(["run", ep.request, "--map", str(a.map_path), "--robot", "sim", "--scene", str(a.scene_path),
                 "--log", str(log_path), "--png", str(png)])
    out = capsys.readouterr().out
    report = json.loads(log_path.read_text())
    assert report["format"] == "ovmm-run-report" and report["request"] == ep.request
    assert code == (0 if report["success"] else 3)
    assert "phase" in out and "find_object" in out
    assert png.stat().st_size > 10_000
    if report["success"]:
        assert report["place_xyz"] is not None and np.isfinite(report["place_xyz"]).all()


def test_run_cli_bad_inputs_are_one_clear_line(scene, tmp_path, capsys):
    a = scanned_apartment(0)
    cases = [
        (["run", "dance for me", "--map", str(a.map_path), "--scene", str(a.scene_path)], "could not understand"),
        (["run", "pick up the mug", "--map", str(tmp_path / "none.npz"), "--scene", str(a.scene_path)], "none.npz"),
        (["run", "pick up the mug", "--map", str(a.map_path), "--robot", "stretch"], "only works in simulation"),
        (["run", "pick up the mug", "--map", str(a.map_path), "--robot", "sim"], "--scene"),
    ]
    for argv, needle in cases:
        code = main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1, argv
        assert len(err) == 1 and needle in err[0] and err[0].startswith("error:"), (argv, err)

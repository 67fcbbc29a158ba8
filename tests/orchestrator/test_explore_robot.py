"""`ovmm scan --robot HOST --explore` through the robot bridge: a simulated Stretch served by the robot server
(robots.server, the same server `ovmm robot-server --backend sim` runs) on loopback, reached by the real
RobotClient; the example kitchen at 160x120, localising in the scan map it builds. Safety: plans only over
cells seen free, with the planner's clearance once off its start spot; a pressed runstop (robots.faults)
stops it with the map written; a lost localisation stops it with the map kept."""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from core.errors import RobotError
from mapping.obstacles import FREE
from mapping.voxel_map import VoxelMap, VoxelMapConfig
from orchestrator.cli import main
from orchestrator.exploration import STOP_DONE, STOP_ROBOT, ExplorationConfig, explore
from orchestrator.scanning import DRIVEN_FLOOR_RADIUS_M
from robots.faults import FaultConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"
CAMERA = (160, 120)


class _OneRenderThread:
    """The served robot with every camera frame rendered on one thread of the test's, which also closes the
    world: an EGL context is bound to the thread that last rendered with it, and the server renders on its own
    camera thread, gone by the time the test closes the world."""

    def __init__(self, robot) -> None:
        self.robot = robot
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="render")

    def observe(self):
        return self.pool.submit(self.robot.observe).result()

    def laser_scan(self):
        return self.pool.submit(self.robot.laser_scan).result()

    def close_world(self) -> None:
        self.pool.submit(self.robot.world.close).result()
        self.pool.shutdown()

    def __getattr__(self, name):
        return getattr(self.robot, name)


@contextlib.contextmanager
def _served(faults: FaultConfig | None = None):
    """A robot server on 127.0.0.1 (insecure loopback) serving the simulated Stretch in the example kitchen."""
    from orchestrator.scanning import with_camera
    from robots.server import RobotServer, ServerConfig
    from sim.backends import make_sim_robot

    robot = _OneRenderThread(make_sim_robot(EXAMPLE, with_camera(None, *CAMERA), faults=faults))
    server = RobotServer(robot, None, ServerConfig(host="127.0.0.1", port=0, insecure_loopback=True))
    try:
        with robot.robot:
            server.start()
            try:
                yield server
            finally:
                server.close()
    finally:
        robot.close_world()


def _scan(port: int, tmp_path: Path, *extra: str) -> int:
    return main(["scan", "--robot", "127.0.0.1", "--robot-port", str(port), "--insecure-loopback", "--explore",
                 "--scene", str(EXAMPLE), "--perception", "ground-truth", "--min-mask-pixels", "10",
                 "--out", str(tmp_path / "map.npz"), "--report", str(tmp_path / "scan.json"), "--no-progress", *extra])


class _RecordingNavigator:
    """The exploration's Navigator (the real one), recording every plan with the grid it was planned on."""

    plans: list = []

    def __new__(cls, config):
        from navigation.navigator import Navigator

        nav = Navigator(config)
        real = nav.plan_to_pose

        def plan_to_pose(occ, start, goal, *a, **k):
            plan = real(occ, start, goal, *a, **k)
            cls.plans.append((occ, plan))
            return plan

        nav.plan_to_pose = plan_to_pose
        return nav


def test_a_served_robot_explores_the_kitchen_on_floor_it_saw_free(tmp_path, monkeypatch, capsys):
    import orchestrator.exploration as ex

    _RecordingNavigator.plans = []
    monkeypatch.setattr(ex, "Navigator", _RecordingNavigator)
    with _served() as server:
        rc = _scan(server.port, tmp_path, "--localize", "on")
    out = capsys.readouterr()
    assert rc == 0, out.err
    r = json.loads((tmp_path / "scan.json").read_text())
    assert r["stop_reason"] == STOP_DONE and r["error"] == "" and r["frontiers_left"] == 0
    assert r["localization"]["tracks"] > 0 and r["localization"]["lost"] == 0  # tracked in its own scan map
    assert r["simulation"]["floor_coverage"] >= 0.9 and r["simulation"]["objects_seen"] == 2
    path = np.array(r["path_xy"])
    assert r["path_length_m"] > 1.0 and (path > 0.2).all() and (path < 3.8).all()
    vmap = VoxelMap.load(tmp_path / "map.npz")
    assert vmap.metadata.source == "robot:127.0.0.1" and vmap.metadata.instances
    assert (tmp_path / "map.png").stat().st_size > 10_000
    # Every plan stayed on cells seen free, unknown ones blocked, with the planner's clearance.
    plans = [(occ, p) for occ, p in _RecordingNavigator.plans if p.success]
    assert plans
    for occ, plan in plans:
        assert occ.config.unknown_is_blocked and occ.inflation_m >= occ.config.robot_radius_m
        xy = plan.smoothed_xy
        t = np.linspace(0.0, 1.0, 20)[:, None]
        samples = np.concatenate([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:], strict=True)])
        rc = occ.world_to_cell(samples)
        assert (occ.state[rc[:, 0], rc[:, 1]] == FREE).all()  # never over an unknown (or obstacle) cell
        # with the clearance, except while the base leaves the spot it stands on (unseen behind and under it)
        near_start = np.linalg.norm(samples - xy[0], axis=1) <= DRIVEN_FLOOR_RADIUS_M
        assert occ.is_traversable(samples[~near_start]).all()


def test_a_runstop_pressed_while_exploring_stops_it_and_the_map_so_far_is_written(tmp_path, capsys):
    with _served(FaultConfig(runstop_on_motion=10, runstop_s=30.0)) as server:
        rc = _scan(server.port, tmp_path, "--localize", "off")
    err = capsys.readouterr().err
    assert rc == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "runstop" in lines[0] and "map fused so far" in lines[0]
    r = json.loads((tmp_path / "scan.json").read_text())
    assert r["stop_reason"].startswith(STOP_ROBOT) and "runstop" in r["error"] and r["frames"] > 0
    assert VoxelMap.load(tmp_path / "map.npz").metadata.frames == r["frames"]


class _LosesItsWay:
    """A robot whose localisation gives up on its 3rd base motion (what LocalizedRobot raises then)."""

    def __init__(self, robot) -> None:
        self.robot, self.moves, self.stopped = robot, 0, 0

    def move_base_to(self, goal, *a, **k):
        self.moves += 1
        if self.moves == 3:
            raise RobotError("not localised: no scan match (ambiguous)")
        return self.robot.move_base_to(goal, *a, **k)

    def stop(self):
        self.stopped += 1
        return self.robot.stop()

    def __getattr__(self, name):
        return getattr(self.robot, name)


def test_a_lost_localisation_stops_the_robot_and_keeps_the_map():
    from dataclasses import replace

    from orchestrator.scanning import new_map, sim_perception_config, with_camera
    from perception.composite import build_perception
    from sim.backends import simulated_robot
    from sim.scene.spec import SceneSpec

    spec = SceneSpec.load(EXAMPLE)
    pcfg = sim_perception_config(*CAMERA)
    perception = build_perception(pcfg, instance_descriptions=spec.instance_descriptions())
    vmap = new_map(perception, pcfg, VoxelMapConfig(), "test")
    with simulated_robot(spec, with_camera(None, *CAMERA), EXAMPLE.parent) as robot:
        lost = _LosesItsWay(robot)
        res = explore(lost, perception, vmap, replace(ExplorationConfig(), num_pans=4))
    rep = res.report
    assert rep.stop_reason.startswith(STOP_ROBOT) and "not localised" in rep.error and not rep.interrupted
    assert lost.stopped >= 1 and rep.frames > 0 and len(vmap.occupancy) > 0
    assert res.occupancy is not None and rep.to_dict()["error"] == rep.error


@pytest.mark.parametrize(("argv", "words"), [
    (["--robot", "h", "--explore", "--stops", "1,1"], "--stops"),
    (["--sim", "s.json", "--scene", "s.json"], "--scene"),
    (["--robot", "h", "--localize", "on"], "--localize"),
    (["--robot", "h", "--explore", "--perception", "ground-truth"], "--scene scene.json"),
])
def test_robot_exploration_options_are_checked_in_one_line(argv, words, tmp_path, capsys):
    assert main(["scan", *argv, "--out", str(tmp_path / "m.npz")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and words in err[0], err
    assert not (tmp_path / "m.npz").exists()

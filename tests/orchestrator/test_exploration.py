"""Frontier exploration (orchestrator.exploration) on small hand-built scenes in the real MuJoCo simulator with
ground-truth perception and a 160x120 camera: a tiny apartment through the CLI, a room seen only through
a gap too narrow for the base (reported unreachable), a start facing a wall, and Ctrl-C (map kept)."""

from __future__ import annotations

import json
import math
import os
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from orchestrator.cli import main
from orchestrator.exploration import STOP_DONE, STOP_INTERRUPTED, ExplorationConfig, sigint_deferred
from orchestrator.exploration_sim import explore_sim_scene
from orchestrator.scanning import sim_perception_config, with_camera

EXAMPLE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"
CAMERA = (160, 120)


def _wall(wid, a, b):
    return {"id": wid, "start": list(a), "end": list(b), "thickness": 0.1, "height": 2.4}


def _scene(tmp_path: Path, walls, rooms, start, name="scene") -> Path:
    """The example kitchen's table and objects (table moved to (2.0, 2.2)) in other walls and rooms."""
    d = json.loads(EXAMPLE.read_text())
    table = d["receptacles"][0]
    table["pose"] = [2.0, 2.2, 0.0]
    for o in d["objects"]:
        o["position"][1] -= 0.8
    d.update(name=name, walls=walls, rooms=rooms, robot_start=list(start))
    path = tmp_path / name / "scene.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(d))
    return path


def _explore(scene: Path, config: ExplorationConfig | None = None):
    from sim.scene.spec import SceneSpec

    config = config or ExplorationConfig()
    spec = SceneSpec.load(scene)
    return explore_sim_scene(spec, sim_perception_config(*CAMERA), sim_config=with_camera(None, *CAMERA),
                             base_dir=scene.parent, config=config)


def test_a_tiny_apartment_is_explored_through_the_cli(tmp_path):
    out, report, picture = tmp_path / "map.npz", tmp_path / "scan.json", tmp_path / "explored.png"
    rc = main(["scan", "--sim", str(EXAMPLE), "--explore", "--out", str(out), "--report", str(report),
               "--picture", str(picture), "--camera", "160x120", "--no-progress"])
    assert rc == 0 and out.is_file() and picture.stat().st_size > 10_000
    r = json.loads(report.read_text())
    assert r["format"] == "ovmm-exploration-report" and r["stop_reason"] == STOP_DONE and r["frontiers_left"] == 0
    assert r["simulation"]["floor_coverage"] >= 0.9 and r["simulation"]["objects_seen"] == 2
    assert 9.0 < r["explored_area_m2"] < 17.0  # a 4 m x 4 m kitchen, less its table
    path = np.array(r["path_xy"])
    assert r["path_length_m"] > 1.0 and len(path) >= 2
    assert (path > 0.2).all() and (path < 3.8).all()  # never left the room's free floor
    from mapping.voxel_map import VoxelMap

    vmap = VoxelMap.load(out)
    assert vmap.metadata.instances and len(vmap.occupancy) > 1000


def test_a_room_behind_a_gap_too_narrow_for_the_base_is_reported_unreachable(tmp_path):
    # Room A (0-4 m) and room B (4-6 m) split by a wall with a 0.35 m gap: the camera sees into B, the base
    # (0.44 m across) cannot pass.
    walls = [_wall("s", (-0.05, 0), (6.05, 0)), _wall("n", (6.05, 3), (-0.05, 3)), _wall("w", (0, 3), (0, 0)),
             _wall("e", (6, 0), (6, 3)), _wall("m1", (4, 0), (4, 1.3)), _wall("m2", (4, 1.65), (4, 3))]
    rooms = [{"id": "kitchen", "label": "kitchen", "min": [0, 0], "max": [4, 3]},
             {"id": "b", "label": "pantry", "min": [4, 0], "max": [6, 3]}]
    scene = _scene(tmp_path, walls, rooms, (1.0, 1.0, 0.0), "gap")
    res = _explore(scene)
    rep = res.report
    assert rep.stop_reason == STOP_DONE
    in_b = [u for u in rep.unreachable if u["centroid"][0] > 4.05]
    assert in_b, rep.unreachable
    assert (rep.path_xy[:, 0] < 3.8).all()  # it never tried to squeeze through
    assert rep.sim["floor_coverage"] >= 0.9  # of room A: room B is not reachable in the ground truth either
    assert rep.sim["reachable_floor_m2"] < 10.0


def test_a_start_facing_a_wall_turns_away_and_explores(tmp_path):
    d = json.loads(EXAMPLE.read_text())
    scene = _scene(tmp_path, d["walls"], d["rooms"], (2.0, 0.4, -math.pi / 2), "wall")
    res = _explore(scene)
    rep = res.report
    assert rep.stop_reason == STOP_DONE
    assert rep.sim["floor_coverage"] >= 0.9 and rep.sim["objects_seen"] == 2
    assert rep.path_length_m > 0.5


class _CtrlCRobot:
    """A simulated robot whose operator presses Ctrl-C at the `at`-th camera frame (the hardware boundary)."""

    def __init__(self, robot, at: int) -> None:
        self.robot, self.at, self.frames = robot, at, 0

    def observe(self):
        self.frames += 1
        if self.frames == self.at:
            raise KeyboardInterrupt
        return self.robot.observe()

    def __getattr__(self, name):
        return getattr(self.robot, name)


def test_ctrl_c_stops_exploring_and_keeps_a_loadable_map(tmp_path, monkeypatch):
    import orchestrator.exploration_sim as ex
    from mapping.voxel_map import VoxelMap

    real_explore = ex.explore
    monkeypatch.setattr(ex, "explore", lambda robot, *a, **k: real_explore(_CtrlCRobot(robot, 15), *a, **k))
    res = _explore(EXAMPLE.parent / EXAMPLE.name, replace(ExplorationConfig(), num_pans=4))
    rep = res.report
    assert rep.interrupted and rep.stop_reason == STOP_INTERRUPTED and rep.frames == 14
    path = res.voxel_map.save(tmp_path / "partial.npz")
    loaded = VoxelMap.load(path)
    assert len(loaded.occupancy) == len(res.voxel_map.occupancy) > 0 and loaded.metadata.frames == 14


def test_ctrl_c_while_a_frame_is_fused_waits_for_the_frame():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("fused")
    assert done == ["fused"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_exploring_is_the_default_scan_of_a_simulated_scene_and_of_eval_and_demo(capsys):
    from core.errors import InputError
    from orchestrator.cli import build_parser
    from orchestrator.commands.scan import _route

    parse = build_parser().parse_args
    assert _route(parse(["scan", "--sim", "s.json", "--out", "m.npz"])) == "explore"
    assert _route(parse(["scan", "--sim", "s.json", "--route", "ground-truth", "--out", "m.npz"])) == "ground-truth"
    assert _route(parse(["scan", "--robot", "stretch.local", "--out", "m.npz"])) == ""  # a robot explores when asked
    for argv, words in ((["--sim", "s.json", "--route", "ground-truth", "--report", "r.json"], "--report"),
                        (["--sim", "s.json", "--explore", "--route", "ground-truth"], "contradict"),
                        (["--robot", "h", "--route", "ground-truth"], "needs --sim")):
        with pytest.raises(InputError, match=words):
            _route(parse(["scan", *argv, "--out", "m.npz"]))
    assert parse(["eval"]).scan_route == "explore" and parse(["demo"]).scan_route == "explore"
    assert parse(["eval", "--scan-route", "ground-truth"]).scan_route == "ground-truth"
    with pytest.raises(SystemExit):
        parse(["eval", "--scan-route", "teleport"])
    assert "invalid choice" in capsys.readouterr().err


def test_eval_caches_an_explored_scan_apart_from_a_ground_truth_one(monkeypatch):
    import hashlib
    from dataclasses import asdict

    from orchestrator.configs import EvalConfig
    from orchestrator.eval_jobs import episode_settings
    from orchestrator.evaluation import SCAN_VERSION, scan_perception_config, settings_key

    explore, gt = EvalConfig(), EvalConfig(scan_route="ground-truth")
    pcfg = scan_perception_config(explore)
    assert settings_key(explore, pcfg) != settings_key(gt, pcfg)
    # a ground-truth scan cached before routes existed keeps its folder (and its results file its episode ids)
    old = {"w": gt.scan_width, "h": gt.scan_height, "p": asdict(pcfg), "v": SCAN_VERSION}
    assert settings_key(gt, pcfg) == hashlib.sha1(json.dumps(old, sort_keys=True, default=str).encode()).hexdigest()[:10]
    assert "scan_route" not in episode_settings(gt) and episode_settings(explore)["scan_route"] == "explore"
    # the exploration's own settings are part of its key: retuning it rescans
    import orchestrator.exploration as ex

    before = settings_key(explore, pcfg)
    monkeypatch.setattr(ex, "ExplorationConfig", lambda: replace(ExplorationConfig(), num_pans=7))
    assert settings_key(explore, pcfg) != before
    assert settings_key(gt, pcfg) == settings_key(EvalConfig(scan_route="ground-truth"), pcfg)

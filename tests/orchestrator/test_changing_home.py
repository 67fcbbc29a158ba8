"""A home that changes after the scan (real MuJoCo apartment, real MiniLM ground-truth perception): the task
machine keeps its map current, searches for a moved object, reports a removed one not found with where it
looked; `ovmm run --save-map` keeps the updated map with its history; `ovmm eval --changes` runs and reports."""

from __future__ import annotations

import datetime
import json
import shutil
import zipfile

import numpy as np
import pytest
from fixtures_sim_map import scanned_apartment

from mapping.persistence import read_header, save_map
from mapping.voxel_map import VoxelMap
from orchestrator.cli import main
from orchestrator.eval_changes import apply_changes, changes_summary, plan_changes
from orchestrator.requests import parse_request
from orchestrator.task_machine import TaskRunner
from sim.scene.episodes import make_episodes


@pytest.fixture(scope="module")
def apartment():
    return scanned_apartment(0)


@pytest.fixture(scope="module")
def episode(apartment):
    return make_episodes(apartment.spec, 1, 0, scene_path=apartment.scene_path)[0]


def _pick_request(request: str) -> str:
    """'put the blue box on the table' -> 'pick up the blue box' (the search is what is tested)."""
    obj = request.removeprefix("put the ").split(" on the ")[0].split(" in the ")[0]
    return f"pick up the {obj}"


def _run_changed(apartment, episode, kind: str):
    from sim.mujoco.world import SimWorld
    from sim.robot import SimRobot
    from sim.scoring import object_held

    changes = plan_changes(apartment.spec, 1, 0, (episode.object_id,), kinds=(kind,))
    assert [c.kind for c in changes] == [kind]
    world = SimWorld(apartment.spec, base_dir=apartment.scene_path.parent)
    try:
        apply_changes(world, changes, apartment.spec)
        vmap = VoxelMap.load(apartment.map_path)  # the map as scanned, before the change
        with SimRobot(world) as robot:
            report = TaskRunner(robot, vmap, apartment.perception).run(parse_request(_pick_request(episode.request)))
        return changes[0], report, vmap, object_held(world, episode.object_id), world.object_center(episode.object_id)
    finally:
        world.close()


def test_an_object_moved_in_its_room_is_found_by_the_search_and_picked(apartment, episode, tmp_path):
    from orchestrator.pictures_changes import save_before_after_png

    change, report, vmap, held, _ = _run_changed(apartment, episode, "same_room")
    assert report.success and held, report.log
    stale = np.asarray(report.search["stale"])
    assert np.hypot(*(stale[0] - np.asarray(change.from_xyz[:2]))) < 0.3  # the scanned place was found stale
    assert np.hypot(*(report.grasp_xyz[:2] - np.asarray(change.to_xyz[:2]))) < 0.3  # picked at the new place
    assert any("marking it stale" in line for line in report.log)
    # the map now answers at the new place, not at the old one
    hits = [h for h in vmap.query_text(change.description, apartment.perception) if h.description == change.description]
    assert hits and np.hypot(*(hits[0].center[:2] - np.asarray(change.to_xyz[:2]))) < 0.3
    assert vmap.metadata.history[-1]["stale_hits"] and vmap.metadata.history[-1]["frames"] > 0
    png = save_before_after_png(apartment.voxel_map, vmap, change.description, apartment.perception,
                                tmp_path / "changed.png", change.from_xyz[:2], change.to_xyz[:2])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not list(tmp_path.glob("*.tmp*"))


def test_a_removed_object_is_reported_not_found_with_where_the_robot_looked(apartment, episode):
    change, report, vmap, held, where = _run_changed(apartment, episode, "removed")
    assert not report.success and not held
    f = report.failure
    assert f.name == "navigate_to_object" and f.details["not_found"]
    assert "\n" not in f.reason and "not found" in f.reason and "looked at:" in f.reason and "look-around" in f.reason
    sx, sy = report.search["stale"][0]
    assert f"({sx:.2f}, {sy:.2f})" in f.reason and np.hypot(sx - change.from_xyz[0], sy - change.from_xyz[1]) < 0.3
    assert len(report.search["looked"]) >= 2 and report.search["views"] >= 5
    assert np.hypot(*(where[:2] - np.asarray(change.from_xyz[:2]))) > 3.0  # it really is gone
    # the stale hit left the map: a second request says "not in the map" without driving anywhere
    again = [h for h in vmap.query_text(change.description, apartment.perception)
             if h.description == change.description
             and np.hypot(*(h.center[:2] - np.asarray(change.from_xyz[:2]))) < 0.3]
    assert not again


def test_run_save_map_writes_the_updated_map_with_its_history(apartment, episode, tmp_path, capsys):
    out = tmp_path / "after.npz"
    code = main(["run", _pick_request(episode.request), "--map", str(apartment.map_path), "--robot", "sim",
                 "--scene", str(apartment.scene_path), "--save-map", str(out)])
    capsys.readouterr()
    assert code == 0
    header = read_header(out)
    assert header["version"] == 2 and len(header["history"]) == 1
    entry = header["history"][0]
    assert entry["what"] == "run" and entry["request"] == _pick_request(episode.request) and entry["success"]
    assert entry["frames"] > 0 and entry["frame"] > apartment.voxel_map.metadata.frames - 1
    after = VoxelMap.load(out)
    assert after.metadata.history == header["history"]
    assert after.metadata.frames == header["frames"] > apartment.voxel_map.metadata.frames
    # a later run on the saved map appends to the history rather than replacing it
    code = main(["run", "pick up the purple elephant", "--map", str(out), "--robot", "sim", "--scene",
                 str(apartment.scene_path), "--save-map", str(out)])
    capsys.readouterr()
    assert code == 3 and len(read_header(out)["history"]) == 2


def test_save_map_refuses_a_missing_folder_in_one_line(apartment, capsys, tmp_path):
    code = main(["run", "pick up the mug", "--map", str(apartment.map_path), "--robot", "sim", "--scene",
                 str(apartment.scene_path), "--save-map", str(tmp_path / "nope" / "m.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "--save-map" in err[0]
    assert not (tmp_path / "nope").exists()


def test_a_map_file_from_before_the_history_loads_with_an_empty_one(apartment, tmp_path):
    """A version-2 file written before the header had "history" (re-written here without it, checksum and
    all, as the older ovmm wrote it)."""
    import hashlib

    new = save_map(apartment.voxel_map, tmp_path / "new.npz")
    with zipfile.ZipFile(new) as zf:
        members = {n.removesuffix(".npy"): np.load(zf.open(n)) for n in zf.namelist()}
    header = json.loads(members.pop("header").tobytes())
    header.pop("history")
    raw = json.dumps(header).encode()
    members.pop("header_sha256")
    old = tmp_path / "old.npz"
    with open(old, "wb") as fh:
        np.savez(fh, header=np.frombuffer(raw, np.uint8), header_sha256=np.frombuffer(hashlib.sha256(raw).digest(),
                                                                                     np.uint8), **members)
    vmap = VoxelMap.load(old)
    assert vmap.metadata.history == [] and len(vmap.semantic) == len(apartment.voxel_map.semantic)
    vmap.metadata.history.append({"what": "run", "request": "x"})
    again = VoxelMap.load(vmap.save(tmp_path / "resaved.npz"))
    assert again.metadata.history == [{"what": "run", "request": "x"}]


def test_a_bad_history_in_a_header_is_refused_in_one_sentence(apartment, tmp_path):
    from mapping.map_file_checks import MapFileError

    vmap = VoxelMap.load(apartment.map_path)
    vmap.metadata.history = ["not an object"]  # type: ignore[list-item]
    path = save_map(vmap, tmp_path / "bad.npz")
    with pytest.raises(MapFileError, match="history is not a list of objects"):
        VoxelMap.load(path)


def test_planned_changes_are_feasible_and_cover_the_targets(apartment):
    from sim.scene.episodes import ReachOracle, pick_reachable

    eps = make_episodes(apartment.spec, 3, 0, scene_path=apartment.scene_path)
    targets = tuple(e.object_id for e in eps)
    changes = plan_changes(apartment.spec, 3, 4, targets)
    assert [c.object_id for c in changes] == list(targets)
    assert sorted(c.kind for c in changes) == ["other_receptacle", "removed", "same_room"]
    assert plan_changes(apartment.spec, 3, 4, targets) == changes  # deterministic
    oracle = ReachOracle(apartment.spec)
    from dataclasses import replace

    for c in changes:
        obj = next(o for o in apartment.spec.objects if o.id == c.object_id)
        if c.to_xyz is None:
            continue
        assert pick_reachable(oracle, replace(obj, position=c.to_xyz, on=c.receptacle_id))
        if c.kind == "same_room":
            assert apartment.spec.receptacle(c.receptacle_id).room == apartment.spec.receptacle(obj.on).room
        else:
            assert c.receptacle_id != obj.on


def test_eval_changes_runs_a_sequence_and_reports_changed_and_unchanged_targets(apartment, tmp_path, capsys):
    from orchestrator.configs import EvalConfig
    from orchestrator.eval_scenes import eval_scene
    from orchestrator.evaluation import MAP_FILE_NAME, scan_perception_config, settings_key
    from sim.realism import load_realism

    # the fixture's scan of apartment 0 is the eval's cached scan (same scene, camera and perception)
    cfg = EvalConfig(episodes=2, seed=0, episodes_per_scene=2, cache_dir=str(tmp_path / "cache"), scan_width=320,
                     scan_height=240, scan_route="ground-truth")
    tag, _ = eval_scene(0, cfg)
    folder = tmp_path / "cache" / f"{tag}-{settings_key(cfg, scan_perception_config(cfg), load_realism('oracle'))}"
    folder.mkdir(parents=True)
    shutil.copy(apartment.scene_path, folder / "scene.json")
    shutil.copy(apartment.map_path, folder / MAP_FILE_NAME)
    out, details = tmp_path / "eval.json", tmp_path / "details.json"
    started = datetime.datetime.now(datetime.timezone.utc)
    code = main(["eval", "--episodes", "2", "--episodes-per-scene", "2", "--seed", "0", "--scan-camera", "320x240",
                 "--cache-dir", cfg.cache_dir, "--scan-route", "ground-truth", "--changes", "2", "--changed-target-share", "0.5",
                 "--json", str(out), "--details", str(details)])
    capsys.readouterr()
    assert code == 0
    result = json.loads(out.read_text())
    assert result["apartments_scanned_now"] == 0 and result["episodes"] == 2
    ch = result["changes"]
    assert ch["per_apartment"] == 2 and ch["objects_changed"] == 2 and ch["apartments"] == 1
    assert ch["unchanged_targets"]["episodes"] == 1
    assert ch["moved_targets"]["episodes"] + ch["removed_targets"]["episodes"] == 1
    records = json.loads(details.read_text())
    assert [r["index"] for r in records] == [0, 1]
    assert sum(r["change"] is not None for r in records) == 1
    assert all(r["report"]["map_update"]["what"] == "run" for r in records)
    assert changes_summary(records) == {k: v for k, v in ch.items() if k not in ("per_apartment", "changed_target_share")}
    # the map carried from the first request to the second: the second's history entry follows the first's
    assert records[1]["report"]["map_update"]["frame"] > records[0]["report"]["map_update"]["frame"]
    # real wall-clock times: each request's start, then its history entry at its end, in the order they ran
    ended = datetime.datetime.now(datetime.timezone.utc)
    times = [datetime.datetime.fromisoformat(t) for r in records for t in (r["when"], r["report"]["map_update"]["when"])]
    assert all(started <= t <= ended for t in times) and times == sorted(times) and times[0] < times[-1]


def test_eval_changes_options_are_checked_in_one_line(capsys):
    for argv in (["--changes", "-1"], ["--changes", "1", "--changed-target-share", "2"],
                 ["--changes", "1", "--changed-target-share", "nan"]):
        code = main(["eval", "--episodes", "1", *argv])
        err = capsys.readouterr().err.strip().splitlines()
        assert code != 0 and len(err) == 1, err

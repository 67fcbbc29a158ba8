"""Evaluation and demo: the JSON the issue asks for, cumulative phase success, caching, the demo's files."""

from __future__ import annotations

import json

from orchestrator.cli import main
from orchestrator.configs import EvalConfig
from orchestrator.evaluation import EpisodeResult, aggregate, episodes_for
from orchestrator.requests import parse_request
from orchestrator.task_machine import PhaseResult, TaskReport


def _result(gt: dict[str, bool], failed: PhaseResult | None = None) -> EpisodeResult:
    report = TaskReport("put the mug on the table", parse_request("put the mug on the table"))
    if failed is not None:
        report.phases.append(failed)
    return EpisodeResult(0, report.request, "mug_0", "table", report, gt, 10.0)


def test_aggregate_counts_phases_cumulatively_and_groups_failure_reasons():
    results = [
        _result({"find_object": True, "pick": True, "find_receptacle": True, "place": True}),
        _result({"find_object": True, "pick": False}, PhaseResult("pick", False, "no feasible grasp of mug: 0.16 m wide")),
        _result({"find_object": True, "pick": False}, PhaseResult("pick", False, "no feasible grasp of cup: 0.13 m wide")),
        # The robot believed it placed the object, but it fell off: place fails by ground truth.
        _result({"find_object": True, "pick": True, "find_receptacle": True, "place": False}),
        # Parked where the kinematic check says the arm cannot reach, yet the pick worked: found.
        _result({"find_object": False, "pick": True, "find_receptacle": True, "place": True}),
        # Never got near the object: nothing after counts.
        _result({"find_object": False, "pick": False}, PhaseResult("navigate_to_object", False, "no path to (1.0, 2.0)")),
    ]
    out = aggregate(results, 12.5)
    assert out["episodes"] == 6 and out["seconds_per_episode"] == 12.5
    assert out["success"] == {"find_object": 0.8333, "pick": 0.5, "find_receptacle": 0.5, "place": 0.3333,
                              "overall": 0.3333}
    assert out["failures"] == {
        "pick: no feasible grasp of mug: N m wide": 1,
        "pick: no feasible grasp of cup: N m wide": 1,
        "place: the robot reported success but ground truth disagrees": 1,
        "navigate_to_object: no path to": 1,
    }


def test_episodes_are_spread_over_apartments():
    assert episodes_for(EvalConfig(episodes=7, seed=4, episodes_per_scene=3)) == [(4, 3), (5, 3), (6, 1)]


def test_eval_cli_writes_the_issue_json_and_reuses_its_scan(tmp_path, capsys):
    argv = ["eval", "--episodes", "2", "--seed", "1", "--episodes-per-scene", "2", "--scan-camera", "320x240",
            "--cache-dir", str(tmp_path / "cache"), "--json", str(tmp_path / "eval.json")]
    assert main(argv) == 0
    out = json.loads((tmp_path / "eval.json").read_text())
    assert out["episodes"] == 2
    assert set(out["success"]) == {"find_object", "pick", "find_receptacle", "place", "overall"}
    assert all(0.0 <= v <= 1.0 for v in out["success"].values())
    assert sum(out["failures"].values()) == round(2 * (1 - out["success"]["overall"]))
    assert out["apartments_scanned_now"] == 1 and out["seconds_per_episode"] > 0
    # The apartment was scanned by exploring it (the default route): its report lies next to the cached map.
    (folder,) = (tmp_path / "cache").glob("seed-1-*")
    scan = json.loads((folder / "scan.json").read_text())
    assert scan["format"] == "ovmm-exploration-report" and scan["stop_reason"] == "no reachable frontier left"
    assert scan["simulation"]["floor_coverage"] >= 0.9 and scan["path_length_m"] > 1.0
    # What the episode generator left out as impossible for any Stretch is counted (apartment 1's objects).
    from sim.scene.generator import generate_scene

    left = out["episodes_left_out"]
    assert left["scenes"] == 1 and left["objects"] == len(generate_scene(1).objects)
    assert 0 <= left["objects_left_out"] <= left["objects"] and left["pairs"] > 0
    assert "left out as no Stretch could pick them:" in capsys.readouterr().err
    # A second run finds the scanned apartment in the cache and does not scan again.
    assert main(argv) == 0
    again = json.loads((tmp_path / "eval.json").read_text())
    assert again["apartments_scanned_now"] == 0 and again["scan_seconds_total"] == 0.0


def test_eval_cli_refuses_nonsense(capsys):
    assert main(["eval", "--episodes", "0"]) == 1
    assert main(["eval", "--scan-camera", "big"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("error:") for line in err)


def test_demo_scans_maps_runs_and_reports(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--seed", "2", "--requests", "2", "--scan-camera", "320x240", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out
    assert "find obj" in out and "requests done" in out
    runs = json.loads((out_dir / "runs.json").read_text())
    assert len(runs) == 2 and all(r["report"]["format"] == "ovmm-run-report" for r in runs)
    assert (out_dir / "demo.png").stat().st_size > 10_000
    assert "by exploring it" in out and len(list((out_dir / "cache").glob("*/scan.json"))) == 1
    assert (out_dir / "demo.rrd").stat().st_size > 10_000
    # The demo's runs share one world: the summary's count matches the ground truth in runs.json.
    done = sum(r["ground_truth"]["place"] for r in runs)
    assert f"{done}/2 requests done" in out

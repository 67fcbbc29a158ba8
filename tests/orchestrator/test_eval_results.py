"""The evaluation's results file, planning around it, the printed table and the plot (no simulator)."""

from __future__ import annotations

import json
import sys

import pytest

from core.errors import InputError
from orchestrator.cli import main
from orchestrator.configs import EvalConfig
from orchestrator.eval_driver import plan
from orchestrator.eval_jobs import RECORD_FORMAT, episode_key, outcome, settings_id
from orchestrator.eval_report import failure_lines, phase_table, save_plot
from orchestrator.eval_results import ResultsFile
from orchestrator.evaluation import aggregate_records

CONFIG = EvalConfig(episodes=5, seed=3, episodes_per_scene=2, scan_width=160, scan_height=120)


def _record(seed: int, index: int, place: bool, failure: str | None = None, config: EvalConfig = CONFIG) -> dict:
    gt = {"find_object": True, "pick": place or failure is None, "find_receptacle": place, "place": place}
    return {"format": RECORD_FORMAT, "key": episode_key(seed, index, settings_id(config)), "scene_seed": seed,
            "index": index, "ground_truth": gt, "failure": None if place else failure, "seconds": 3.0}


def test_results_file_round_trip_and_a_line_cut_by_a_kill(tmp_path):
    path = tmp_path / "r.jsonl"
    rf = ResultsFile(path)
    rf.append(_record(3, 0, True))
    rf.append(_record(3, 1, False, "pick: no feasible grasp"))
    with open(path, "ab") as f:  # a run killed while writing its third record
        f.write(json.dumps(_record(4, 0, True), separators=(",", ":")).encode()[:40])
    again = ResultsFile(path)
    assert set(again.records) == {_record(3, 0, True)["key"], _record(3, 1, False)["key"]}
    again.append(_record(4, 0, True))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and all(json.loads(line)["format"] == RECORD_FORMAT for line in lines)


def test_results_file_refuses_what_it_did_not_write(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("my notes, no newline at the end")
    with pytest.raises(InputError, match="not an ovmm eval results file"):
        ResultsFile(other)
    assert other.read_text() == "my notes, no newline at the end"
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n')
    with pytest.raises(InputError, match="line 1 is not an ovmm eval episode record"):
        ResultsFile(tmp_path / "x.jsonl")
    with pytest.raises(InputError, match="does not exist"):
        ResultsFile(tmp_path / "missing" / "r.jsonl")


def test_plan_skips_done_episodes_and_ignores_other_settings(tmp_path):
    rf = ResultsFile(tmp_path / "r.jsonl")
    for rec in (_record(3, 0, True), _record(3, 1, True), _record(4, 1, False, "pick: x"),
                _record(5, 0, True, config=EvalConfig(scan_width=320, scan_height=240))):
        rf.append(rec)
    jobs, done = plan(CONFIG, rf)  # apartments 3 (2 episodes), 4 (2), 5 (1)
    assert [(j.seed, j.n, j.missing) for j in jobs] == [(4, 2, (0,)), (5, 1, (0,))]
    assert sorted((r["scene_seed"], r["index"]) for r in done) == [(3, 0), (3, 1), (4, 1)]


def test_outcome_ignores_timings_only():
    a = {"seconds": 3.1, "worker": "h:1", "report": {"seconds": 2.0, "log": ["[   0.5s] pick: ok",
                                                                           "planned 3 grasps in 137 ms"]}}
    b = {"seconds": 9.9, "worker": "h:2", "report": {"seconds": 7.0, "log": ["[  12.0s] pick: ok",
                                                                           "planned 3 grasps in 88 ms"]}}
    assert outcome(a) == outcome(b)
    b["report"]["log"][0] = "[  12.0s] pick: FAILED"
    assert outcome(a) != outcome(b)


def _summary() -> dict:
    long_reason = "place: no reachable free spot seen on the white marble sink counter " + "beside the tap " * 12
    records = [_record(1, 0, True), _record(1, 1, False, "pick: no feasible grasp of mug"),
               _record(2, 0, False, long_reason), _record(2, 1, False, "pick: no feasible grasp of mug")]
    records[2]["ground_truth"].update(pick=True, find_receptacle=True)
    return aggregate_records(records, 3.0)


def test_table_and_reasons_fit_the_terminal():
    out = _summary()
    assert out["failures_by_phase"]["pick"] == {"pick: no feasible grasp of mug": 2}
    table = phase_table(out)
    assert "pick" in table and "1/4" in table and "overall: 1/4" in table
    text = failure_lines(out, width=60)
    assert all(len(line) <= 60 for line in text.splitlines())
    assert "failed at pick (2):" in text and "failed at place (1):" in text and "…" in text


def test_plot_draws_failure_reasons_by_phase(tmp_path):
    from PIL import Image

    path = save_plot(_summary(), tmp_path / "eval.png")
    with Image.open(path) as im:
        assert im.size[0] > 1000 and im.size[1] > 300
        # Three colours of the phase bars are on it (find object, pick, place).
        colours = {c for _, c in im.convert("RGB").getcolors(1 << 20)}
    assert {(76, 114, 176), (221, 132, 82), (196, 78, 82)} <= colours


def test_workers_without_ray_say_how_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` does where Ray is not installed
    assert main(["eval", "--workers", "2", "--cache-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --workers and --ray-address need Ray: pip install 'ovmm[cluster]' (or: pip install ray)"]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("opt", ["--json", "--details", "--plot"])
def test_an_output_that_is_a_folder_is_one_error_line_before_anything_runs(opt, capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["eval", opt, str(out), "--cache-dir", str(tmp_path / "cache")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {opt}: {out} is a folder; give a file name"]
    assert not (tmp_path / "cache").exists() and not any(out.iterdir())

"""Getting the wrist out of the head camera's view while holding an object (grasping.motion.clear_view), on
the episode it was found in.

Fresh apartment 10452, episode 0 (issue 13): "put the blue coffee can on the brown wooden bathroom cabinet".
The can is carried tucked over the base (wrist yaw -1.70). Parked side-on at the cabinet, the place first
turns the wrist forward, out of the camera's view; that sweep passes the arm's side and swung the can into
the cabinet, where it stayed: "lift to travel height failed: stopped at contact". Now a sweep that touches
turns back off the contact (a little, or to where it was), and the place goes on from there.
"""

from __future__ import annotations

import pytest
from eval_apartments import eval_apartment, run_with

from orchestrator.eval_jobs import run_episode_job
from orchestrator.task_machine import frozen_map_config


@pytest.fixture(scope="module")
def apartment_10452(tmp_path_factory):
    return eval_apartment(tmp_path_factory, 10452)


def _log_lines(record) -> list[str]:
    out: list[str] = []

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            out.extend(v.splitlines())

    walk(record)
    return out


def test_the_can_is_placed_after_its_wrist_sweep_touches_the_cabinet(apartment_10452, monkeypatch):
    run_with(monkeypatch, frozen_map_config())
    config, apartment = apartment_10452
    assert "blue coffee can" in apartment.episodes[0].request
    record = run_episode_job(config, apartment, 0)
    lines = _log_lines(record)
    touched = [i for i, line in enumerate(lines) if "wrist out of view: stopped at contact" in line]
    assert touched, "the sweep no longer touches: this test no longer covers the way back"
    assert any(line.strip().startswith("wrist back") and line.endswith(": ok") for line in lines[touched[0]:])
    assert record["ground_truth"]["pick"], record["failure"]
    assert record["ground_truth"]["place"], record["failure"]

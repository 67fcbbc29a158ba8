"""`ovmm localize` through the CLI entry: relocalisation trials in a generated apartment (MuJoCo lidar
scans against the scene's ground-truth occupancy) with JSON out, and one-line errors for bad input."""

from __future__ import annotations

import json

import numpy as np
from fixtures_sim_map import apartment_spec

from orchestrator.cli import main


def test_localize_trials_report_success_and_write_json(tmp_path, capsys):
    _, scene = apartment_spec(1)
    out = tmp_path / "loc.json"
    assert main(["localize", "--map", str(scene), "--sim", str(scene), "--trials", "4", "--seed", "3",
                 "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["trials"] == 4 and len(res["results"]) == 4
    assert res["confident_wrong_rate"] == 0.0
    assert res["success_rate"] >= 0.75
    assert res["median_error_m"] <= 0.10 and res["median_error_deg"] <= 5.0
    for r in res["results"]:
        if r["success"]:
            assert np.hypot(r["pose"][0] - r["true"][0], r["pose"][1] - r["true"][1]) <= 0.10
    assert "within 0.1 m / 5 deg" in capsys.readouterr().out


def test_localize_bad_input_is_one_line(tmp_path, capsys):
    _, scene = apartment_spec(1)
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"not a zip file at all")
    empty = tmp_path / "empty.npz"
    np.savez(empty)
    for argv, words in ((["--map", str(tmp_path / "nope.npz"), "--sim", str(scene)], "does not exist"),
                        (["--map", str(bad), "--sim", str(scene)], "corrupt.npz"),
                        (["--map", str(empty), "--sim", str(scene)], "empty.npz"),
                        (["--map", str(scene), "--sim", str(scene), "--trials", "0"], "--trials"),
                        (["--map", str(scene), "--sim", str(scene), "--json", str(tmp_path / "no" / "x.json")],
                         "no")):
        assert main(["localize", *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and words in err and "Traceback" not in err, err


def test_localize_a_served_robot_where_it_stands(tmp_path, capsys):
    """`ovmm localize --robot-host`: a robot server (the simulated Stretch with the realistic profile's
    drifting odometry and noisy lidar, as a real one would be served) localised in its home's map."""
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    spec, scene = apartment_spec(1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, OMP_NUM_THREADS="1", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "robot-server", "--backend", "sim",
                             "--scene", str(scene), "--realism", "realistic", "--port", str(port),
                             "--insecure-loopback"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out = tmp_path / "here.json"
        for _ in range(60):  # the server needs a few seconds to build its world
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        assert main(["localize", "--map", str(scene), "--robot-host", "127.0.0.1", "--robot-port", str(port),
                     "--insecure-loopback", "--json", str(out)]) == 0
        res = json.loads(out.read_text())
        assert res["localised"] and res["confidence"] >= 0.55
        start = spec.robot_start
        assert np.hypot(res["pose"][0] - start.x, res["pose"][1] - start.y) <= 0.10
        assert abs(np.remainder(res["pose"][2] - start.theta + np.pi, 2 * np.pi) - np.pi) <= np.radians(5)
        assert "confidence" in capsys.readouterr().out
    finally:
        proc.terminate()
        proc.wait(timeout=20)

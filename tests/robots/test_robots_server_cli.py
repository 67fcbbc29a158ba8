"""`ovmm robot-server` as users run it: a simulated robot served to a RobotClient, keys, refusals."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.types import Pose2D
from orchestrator.cli import main
from robots.client import ClientConfig, RobotClient
from robots.keys import load_key

REPO = Path(__file__).resolve().parents[2]
SCENE = REPO / "sim" / "data" / "example_scene.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_new_key_file_is_private_and_loadable(tmp_path, capsys, monkeypatch):
    key_file = tmp_path / "robot.key"
    assert main(["robot-server", "--new-key", str(key_file)]) == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key(key_file).server_public
    assert main(["robot-server", "--new-key", str(key_file)]) == 1  # never overwrites a key
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["robot-server", "--new-key"]) == 0  # the one default path
    assert load_key(tmp_path / ".ovmm" / "robot.key").client_public


def test_serving_without_a_key_is_refused_unless_insecure_loopback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("OVMM_ROBOT_KEY_FILE", raising=False)
    assert main(["robot-server", "--host", "0.0.0.0", "--port", str(free_port())]) == 1
    assert "no robot key at" in capsys.readouterr().err
    assert main(["robot-server", "--insecure-loopback", "--host", "0.0.0.0", "--port", str(free_port())]) == 1
    assert "127.0.0.1 only" in capsys.readouterr().err


def test_real_time_is_for_the_simulator(capsys):
    assert main(["robot-server", "--insecure-loopback", "--real-time", "--port", str(free_port())]) == 1
    assert "--real-time is for --backend sim" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "value"), [("--port", "70000"), ("--port", "0"), ("--watchdog-s", "nan"),
                                             ("--watchdog-s", "inf"), ("--watchdog-s", "-1")])
def test_out_of_range_port_or_watchdog_is_refused_by_the_parser(flag, value, capsys):
    with pytest.raises(SystemExit) as info:
        main(["robot-server", "--insecure-loopback", flag, value])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert flag in err and ("1-65535" in err or "finite" in err)


@pytest.mark.skipif(not SCENE.is_file(), reason="the simulator's example scene is absent")
def test_sim_backend_served_to_a_client(tmp_path):
    key_file = tmp_path / "robot.key"
    assert main(["robot-server", "--new-key", str(key_file)]) == 0
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "robot-server", "--backend", "sim", "--scene", str(SCENE),
         "--port", str(port), "--key-file", str(key_file), "--real-time"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with RobotClient("127.0.0.1", port, load_key(key_file), ClientConfig(timeout_s=60.0)) as robot:
            assert robot.name == "remote:sim"
            start = robot.get_base_pose()
            obs = robot.observe()
            assert obs.frame.instance_ids is not None and obs.frame.depth_m.max() > 0
            goal = Pose2D(start.x, start.y, start.theta + 0.5)
            t0 = time.monotonic()
            result = robot.move_base_to(goal)
            assert result.success, result.reason
            assert time.monotonic() - t0 > 0.7  # --real-time: 0.5 rad at the Stretch's 0.6 rad/s
            assert robot.get_base_pose().heading_error(goal) < 0.08
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert f"serving sim on tcp://127.0.0.1:{port}" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

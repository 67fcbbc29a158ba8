"""`ovmm robot-server` as users run it: a simulated robot served to a RobotClient, keys, refusals."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.types import Pose2D
from orchestrator.cli import main
from robots.client import ClientConfig, RobotClient
from robots.wire import load_key

REPO = Path(__file__).resolve().parents[2]
SCENE = REPO / "sim" / "data" / "example_scene.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_new_key_file_is_private_and_loadable(tmp_path, capsys):
    key_file = tmp_path / "robot.key"
    assert main(["robot-server", "--new-key", str(key_file)]) == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(load_key(key_file)) == 64
    assert main(["robot-server", "--new-key", str(key_file)]) == 1  # never overwrites a key
    assert "already exists" in capsys.readouterr().err


def test_network_address_without_key_is_refused(capsys, monkeypatch):
    monkeypatch.delenv("OVMM_ROBOT_KEY", raising=False)
    assert main(["robot-server", "--host", "0.0.0.0", "--port", str(free_port())]) == 1
    assert "without a key" in capsys.readouterr().err


@pytest.mark.skipif(not SCENE.is_file(), reason="the simulator's example scene is absent")
def test_sim_backend_served_to_a_client(tmp_path):
    key_file = tmp_path / "robot.key"
    key_file.write_text("a-test-key-with-enough-characters\n")
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1", MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "robot-server", "--backend", "sim", "--scene", str(SCENE),
         "--port", str(port), "--key-file", str(key_file)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        with RobotClient("127.0.0.1", port, load_key(key_file), ClientConfig(timeout_s=60.0)) as robot:
            assert robot.name == "remote:sim"
            start = robot.get_base_pose()
            obs = robot.observe()
            assert obs.frame.instance_ids is not None and obs.frame.depth_m.max() > 0
            goal = Pose2D(start.x, start.y, start.theta + 0.5)
            result = robot.move_base_to(goal)
            assert result.success, result.reason
            assert robot.get_base_pose().heading_error(goal) < 0.08
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert f"serving sim on tcp://127.0.0.1:{port}" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

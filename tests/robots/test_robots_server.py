"""robot-server <-> RobotClient over real ZMQ on localhost, with the stretch_body backend over a fake
stretch_body: authentication, malformed requests, the watchdog (silent and killed clients), round trips."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from stretch_fixtures import fast_config

from core.errors import RobotError
from core.types import Pose2D
from robots import wire
from robots.client import ClientConfig, RobotClient
from robots.server import RobotServer, ServerConfig

KEY = b"test-key-0123456789abcdef-0123456789"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(make_stretch):
    """(server, fake_body, camera) for a backend whose lift moves slowly in real time (0.05 m/s)."""
    robot, body, camera = make_stretch(fast_config(lift_speed_m_s=0.05), speedup=1.0)
    server = RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=0.5)).start()
    yield server, body, camera
    server.close()


def raw_request(port: int, frames: list[bytes], timeout_s: float = 3.0) -> dict:
    """Send frames on a fresh REQ socket; return the reply header."""
    ctx = zmq.Context.instance()
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(f"tcp://127.0.0.1:{port}")
    try:
        sock.send_multipart(frames)
        assert sock.poll(int(timeout_s * 1000)), "the server did not answer"
        return json.loads(sock.recv_multipart()[0])
    finally:
        sock.close(0)


def lift_targets(body) -> list[float]:
    """Lift targets commanded as motions (holding the current position on stop() passes no speed)."""
    return [c[2][0] for c in body.commands("lift.move_to") if c[3].get("v_m") is not None]


def signed(cmd: str, args: dict | None = None, key: bytes | None = KEY) -> list[bytes]:
    return wire.encode({"kind": "req", "cmd": cmd, "args": args or {}}, None, key)


def test_round_trip_observe_and_move(served):
    server, body, camera = served
    with RobotClient("127.0.0.1", server.port, KEY) as client:
        assert client.name == "remote:stretch"
        obs = client.observe()
        assert obs.frame.rgb.shape == (64, 48, 3) and obs.frame.rgb[..., 2].max() == camera.reads % 256
        np.testing.assert_array_equal(obs.frame.depth_m[:2], 0.0)
        result = client.move_arm(lift_m=0.65, wrist_yaw=0.3)
        assert result.success, result.reason
        assert client.get_joints().lift_m == pytest.approx(0.65, abs=0.01)
        assert lift_targets(body) == [0.65]
        assert client.set_head(0.2, -0.6).success
        base = client.move_base_to(Pose2D(0.15, 0.0, 0.0), tolerance_m=0.02)
        assert base.success, base.reason
        assert client.get_base_pose().distance_to(Pose2D(0.15, 0.0, 0.0)) < 0.02
        assert client.open_gripper().success
        assert client.is_holding() is False
        bad = client.move_arm(arm_m=5.0)  # refused by the backend, reported as a failed motion
        assert not bad.success and "limits" in bad.reason
    assert server.watchdog_stops == 0


def test_client_without_or_with_wrong_key_is_refused(served):
    server, body, _ = served
    for key in (None, b"wrong-key-wrong-key-wrong-key-00"):
        client = RobotClient("127.0.0.1", server.port, key, ClientConfig(timeout_s=3.0))
        with pytest.raises(RobotError, match="refused"):
            client.connect()
        client.disconnect()
    assert server.refused >= 2
    reply = raw_request(server.port, signed("move_arm", {"lift_m": 0.9}, key=None))
    assert reply["ok"] is False and reply["code"] == "auth"
    assert lift_targets(body) == []


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([b"this is not json"], "bad_request"),
        (None, "unknown_command"),
        (None, "bad_request"),
        (None, "too_large"),
    ],
    ids=["not-json", "unknown-command", "wrong-arg-type", "oversized"],
)
def test_malformed_requests_get_error_replies_and_server_keeps_serving(served, frames, code, request):
    server, body, _ = served
    case = request.node.callspec.id
    if case == "unknown-command":
        frames = signed("self_destruct")
    elif case == "wrong-arg-type":
        frames = signed("move_arm", {"lift_m": "high"})
    elif case == "oversized":
        frames = signed("move_arm", {"lift_m": 0.7, "pad": "x" * (2 << 20)})
    reply = raw_request(server.port, frames)
    assert reply["ok"] is False and reply["code"] == code and reply["error"]
    with RobotClient("127.0.0.1", server.port, KEY) as client:
        assert client.get_joints().lift_m == pytest.approx(0.6)
    assert lift_targets(body) == []


def test_replayed_request_is_refused(served):
    server, _, _ = served
    frames = signed("get_joints")
    assert raw_request(server.port, frames)["ok"] is True
    reply = raw_request(server.port, frames)
    assert reply["ok"] is False and reply["code"] == "replay"
    old = wire.encode({"kind": "req", "cmd": "get_joints", "args": {}, "ts": time.time() - 3600}, None, KEY)
    assert raw_request(server.port, old)["code"] == "stale"


def _assert_stopped_by_watchdog(server, body, since: float) -> float:
    deadline = time.monotonic() + 3.0
    while not body.halt_times and time.monotonic() < deadline:
        time.sleep(0.01)
    assert body.halt_times, "the watchdog did not stop the robot"
    delay = body.halt_times[0] - server.last_message_at
    assert server.last_message_at >= since
    assert 0.0 < delay < 1.0, f"stopped {delay:.2f} s after the last client message"
    lift = body.lift.axis.pos()
    time.sleep(0.1)
    assert body.lift.axis.pos() == pytest.approx(lift, abs=1e-9), "the lift kept moving"
    assert lift < 0.95
    assert server.watchdog_stops == 1
    return delay


def test_silent_client_stops_motion(served):
    server, body, _ = served
    t0 = time.monotonic()
    reply = raw_request(server.port, signed("move_arm", {"lift_m": 1.0}))
    assert reply["ok"] is True and reply["result"]["done"] is False
    _assert_stopped_by_watchdog(server, body, t0)  # the client never sends a heartbeat


def test_killed_client_process_stops_motion(served):
    server, body, _ = served
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from robots.client import RobotClient\n"
        "from robots.wire import load_key\n"
        f"with RobotClient('127.0.0.1', {server.port}, load_key()) as c:\n"
        "    print('connected', flush=True)\n"
        "    c.move_arm(lift_m=1.0)\n"
    )
    env = dict(os.environ, OVMM_ROBOT_KEY=KEY.decode(), OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20.0
        while not body.commands("lift.move_to") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert body.commands("lift.move_to"), f"client never started the motion: {proc.stderr.read()[-2000:]!r}"
        time.sleep(0.3)  # mid-motion, heartbeats flowing
        assert not body.halt_times
        t_kill = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    _assert_stopped_by_watchdog(server, body, t_kill - 0.5)


def test_busy_server_refuses_a_second_motion_and_stop_interrupts(served):
    server, body, _ = served
    assert raw_request(server.port, signed("move_arm", {"lift_m": 1.0}))["ok"] is True
    busy = raw_request(server.port, signed("set_head", {"pan": 0.1, "tilt": 0.0}))
    assert busy["ok"] is False and busy["code"] == "busy"
    assert raw_request(server.port, signed("stop"))["ok"] is True
    assert body.halt_times
    time.sleep(0.05)
    done = raw_request(server.port, signed("wait", {"job": 1, "max_wait_s": 0.2}))
    assert done["result"]["done"] is True and not done["result"]["motion"]["success"]
    assert "stop request" in done["result"]["motion"]["reason"]


def test_network_bind_without_key_is_refused(make_stretch):
    robot, _, _ = make_stretch()
    with pytest.raises(RobotError, match="without a key"):
        RobotServer(robot, None, ServerConfig(host="0.0.0.0", port=0))


def test_client_timeout_names_the_address():
    with socket_port() as port:
        client = RobotClient("127.0.0.1", port, KEY, ClientConfig(timeout_s=0.3))
        with pytest.raises(RobotError, match=rf"tcp://127.0.0.1:{port} did not answer within 0.3 s"):
            client.connect()
        client.disconnect()


class socket_port:  # noqa: N801 - used as a context manager
    """A localhost port that nothing answers on (reserved, not listening)."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()

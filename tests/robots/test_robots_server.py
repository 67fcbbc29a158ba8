"""robot-server <-> RobotClient over real ZMQ (CURVE) on localhost, with the stretch_body backend over a fake
stretch_body: authentication at the handshake, malformed requests, the watchdog (silent, killed and
chatting clients), round trips, ROUTER replies under garbage peers, the connection limit, a pre-auth flood."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from bridge_helpers import lift_targets, raw_request, request, rss_mb, wait_for, zmtp_garbage_peer
from stretch_fixtures import fast_config

from core.errors import RobotError
from core.types import Pose2D
from robots import keys
from robots.client import ClientConfig, RobotClient
from robots.server import RobotServer, ServerConfig
from robots.transport import SocketLimits, client_socket

REPO = Path(__file__).resolve().parents[2]
KEY = keys.new_key()
WATCHDOG_S = 0.5


@pytest.fixture
def served(make_stretch):
    """(server, fake_body, camera) for a backend whose lift moves slowly in real time (0.05 m/s)."""
    robot, body, camera = make_stretch(fast_config(lift_speed_m_s=0.05), speedup=1.0)
    server = RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=WATCHDOG_S)).start()
    yield server, body, camera
    server.close()


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


def test_wrong_key_and_keyless_clients_fail_the_handshake_and_execute_nothing(served):
    server, body, _ = served
    other = keys.new_key()
    for wrong, message in ((other, "different robot keys"),
                           (keys.RobotKey(KEY.server_secret, other.client_secret), "refused this client's key")):
        client = RobotClient("127.0.0.1", server.port, wrong, ClientConfig(timeout_s=2.0))
        with pytest.raises(RobotError, match=message):
            client.connect()
        client.disconnect()
    keyless = RobotClient("127.0.0.1", server.port, None, ClientConfig(timeout_s=2.0), insecure_loopback=True)
    with pytest.raises(RobotError, match="handshake with the server failed.*(insecure-loopback|does not match)"):
        keyless.connect()
    keyless.disconnect()
    assert server.refused >= 1
    assert raw_request(server.port, request("move_arm", {"lift_m": 0.9}), None, timeout_s=1.0) is None
    assert raw_request(server.port, request("move_arm", {"lift_m": 0.9}), other, timeout_s=1.0) is None
    assert lift_targets(body) == [] and server.bad_requests == 0


def test_keyed_client_refuses_a_keyless_server_before_sending_a_command(make_stretch):
    robot, body, _ = make_stretch()
    server = RobotServer(robot, None, ServerConfig(port=0, insecure_loopback=True)).start()
    try:
        client = RobotClient("127.0.0.1", server.port, KEY, ClientConfig(timeout_s=2.0))
        with pytest.raises(RobotError, match="handshake with the server failed.*insecure-loopback.*nothing was sent"):
            client.connect()
        client.disconnect()
        with pytest.raises(RobotError, match="nothing was sent"):
            client.move_arm(lift_m=0.9)
        client.disconnect()
        assert server.last_message_at < time.monotonic() and lift_targets(body) == []
        assert server.bad_requests == 0  # no request ever reached the server
        with RobotClient("127.0.0.1", server.port, insecure_loopback=True) as plain:  # the explicit test mode
            assert plain.get_joints().lift_m == pytest.approx(0.6)
    finally:
        server.close()


def test_serving_without_a_key_needs_the_explicit_loopback_mode(make_stretch):
    robot, _, _ = make_stretch()
    with pytest.raises(RobotError, match="--insecure-loopback"):
        RobotServer(robot, None, ServerConfig(port=0))
    with pytest.raises(RobotError, match="without a key"):
        RobotServer(robot, None, ServerConfig(host="0.0.0.0", port=0, insecure_loopback=True))
    with pytest.raises(RobotError, match="without a robot key"):
        RobotClient("192.168.1.20", 5555, None, insecure_loopback=True)


@pytest.mark.parametrize(
    ("make_frames", "code"),
    [
        (lambda: [b"this is not json"], "bad_request"),
        (lambda: request("self_destruct"), "unknown_command"),
        (lambda: request("move_arm", {"lift_m": "high"}), "bad_request"),
        (lambda: request("move_arm", {"lift_m": 10**400}), "bad_request"),
        (lambda: request("wait", {"job": 10**30}), "bad_request"),
        (lambda: [b'{"v": 2, "kind": "req", "cmd": "stop", "args": {}, "nonce": "0123456789abcdef", "ts": NaN}'], "bad_request"),
        (lambda: [b'{"v": 2, "kind": "req", "cmd": "stop", "args": {}, "nonce": "0123456789abcdef", "ts": 1e400}'],
         "bad_request"),
        (lambda: [b'{"v": 2, "kind": "req", "cmd": "stop", "args": {}, "nonce": "0123456789abcdef", "ts": 1' + b"0" * 400
          + b"}"], "bad_request"),
        (lambda: [b'{"v": 2, "kind": "req", "cmd": "stop", "nonce": "0123456789abcdef", "ts": 1, "args": ' + b"[" * 100_000
          + b"]" * 100_000 + b"}"], "bad_request"),
        (lambda: [b"[" * 50_000 + b"]" * 50_000], "bad_request"),
        (lambda: request("get_joints") + [b"x"] * 3, "too_large"),
    ],
    ids=["not-json", "unknown-command", "wrong-arg-type", "huge-int-arg", "huge-job-id", "nan-ts", "inf-ts",
         "400-digit-ts", "100k-deep", "50k-deep-list", "extra-frames"],
)
def test_malformed_requests_get_error_replies_never_internal(served, make_frames, code):
    server, body, _ = served
    reply = raw_request(server.port, make_frames(), KEY)  # built now: a fresh timestamp
    assert reply is not None and reply["ok"] is False and reply["code"] == code and reply["error"]
    with RobotClient("127.0.0.1", server.port, KEY) as client:
        assert client.get_joints().lift_m == pytest.approx(0.6)
    assert lift_targets(body) == []


def test_oversized_frame_drops_only_that_connection(served):
    server, body, _ = served
    big = request("move_arm", {"lift_m": 0.7, "pad": "x" * (2 << 20)})  # over the 256 KiB frame limit
    assert raw_request(server.port, big, KEY, timeout_s=1.0) is None
    with RobotClient("127.0.0.1", server.port, KEY) as client:
        assert client.get_joints().lift_m == pytest.approx(0.6)
    assert lift_targets(body) == []


def test_replayed_and_stale_requests_are_refused(served):
    server, _, _ = served
    frames = request("get_joints")
    assert raw_request(server.port, frames, KEY)["ok"] is True
    reply = raw_request(server.port, frames, KEY)
    assert reply["ok"] is False and reply["code"] == "replay"
    assert raw_request(server.port, request("get_joints", ts=time.time() - 3600), KEY)["code"] == "stale"


def _halt_delay(body, last_owner_message: float, timeout_s: float = 3.0) -> float:
    assert wait_for(lambda: bool(body.halt_times), timeout_s), "the watchdog did not stop the robot"
    delay = body.halt_times[0] - last_owner_message
    lift = body.lift.axis.pos()
    time.sleep(0.1)
    assert body.lift.axis.pos() == pytest.approx(lift, abs=1e-9), "the lift kept moving"
    assert lift < 0.95
    return delay


def test_silent_client_stops_motion(served):
    server, body, _ = served
    reply = raw_request(server.port, request("move_arm", {"lift_m": 1.0}), KEY)
    t_last = time.monotonic()
    assert reply["ok"] is True and reply["result"]["done"] is False
    delay = _halt_delay(body, t_last)  # the client never sends a heartbeat
    assert WATCHDOG_S - 0.05 < delay < WATCHDOG_S + 0.15 and server.watchdog_stops == 1


def _chat(port: int, stop: threading.Event, frames_of, period_s: float = 0.1) -> list[dict]:
    """Another client sending requests every period_s until `stop` (bounded: at most 100)."""
    ctx = zmq.Context.instance()
    sock = client_socket(ctx, KEY, 1 << 20)
    sock.connect(f"tcp://127.0.0.1:{port}")
    replies = []
    try:
        for _ in range(100):
            if stop.is_set():
                break
            sock.send_multipart(frames_of())
            if sock.poll(2000):
                from core.bounded_json import loads_bounded

                replies.append(loads_bounded(sock.recv_multipart()[0], 1 << 20))
            stop.wait(period_s)
    finally:
        sock.close(0)
    return replies


@pytest.mark.parametrize("chatter", ["hello", "wait-for-their-job", "heartbeat-for-their-job", "busy-motion"])
def test_another_clients_messages_do_not_feed_the_watchdog(served, chatter):
    """Client A starts a lift motion and goes silent; client B keeps talking; the robot stops ~watchdog_s after
    A's last message, while B is still talking."""
    server, body, _ = served
    frames_of = {
        "hello": lambda: request("hello"),
        "wait-for-their-job": lambda: request("wait", {"job": 1, "max_wait_s": 0.0}),
        "heartbeat-for-their-job": lambda: request("heartbeat", {"job": 1}),
        "busy-motion": lambda: request("set_head", {"pan": 0.1, "tilt": 0.0}),
    }[chatter]
    stop = threading.Event()
    replies: list = []
    chatter_thread = threading.Thread(target=lambda: replies.extend(_chat(server.port, stop, frames_of)))
    chatter_thread.start()
    try:
        time.sleep(0.15)
        reply = raw_request(server.port, request("move_arm", {"lift_m": 1.0}), KEY)  # client A, then silent
        t_last_a = time.monotonic()
        assert reply["ok"] is True
        delay = _halt_delay(body, t_last_a)
        assert not stop.is_set() and chatter_thread.is_alive(), "B stopped talking before the robot stopped"
    finally:
        stop.set()
        chatter_thread.join(timeout=5)
    assert WATCHDOG_S - 0.05 < delay < WATCHDOG_S + 0.15, f"stopped {delay:.2f} s after A's last message"
    assert server.watchdog_stops == 1 and len(replies) >= 3


def test_the_owners_refused_requests_do_not_feed_the_watchdog(served):
    server, body, _ = served
    ctx = zmq.Context.instance()
    sock = client_socket(ctx, KEY, 1 << 20)
    sock.connect(f"tcp://127.0.0.1:{server.port}")
    try:
        sock.send_multipart(request("move_arm", {"lift_m": 1.0}))
        assert sock.poll(3000)
        sock.recv_multipart()
        t_start = time.monotonic()
        for frames in [request("set_head", {"pan": 0.0, "tilt": 0.0}), request("wait", {"job": 7}),
                       request("move_arm", {"lift_m": "x"}), request("heartbeat"), request("hello")] * 3:
            if body.halt_times:
                break
            sock.send_multipart(frames)
            assert sock.poll(3000)
            sock.recv_multipart()
            time.sleep(0.1)
    finally:
        sock.close(0)
    delay = _halt_delay(body, t_start)
    assert WATCHDOG_S - 0.05 < delay < WATCHDOG_S + 0.2


def test_killed_client_process_stops_motion(served, tmp_path):
    server, body, _ = served
    key_file = tmp_path / "robot.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, keys.key_file_text(KEY).encode())
    os.close(fd)
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from robots.client import RobotClient\n"
        "from robots.keys import load_key\n"
        f"with RobotClient('127.0.0.1', {server.port}, load_key({str(key_file)!r})) as c:\n"
        "    print('connected', flush=True)\n"
        "    c.move_arm(lift_m=1.0)\n"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        started = wait_for(lambda: bool(body.commands("lift.move_to")) or proc.poll() is not None, 20.0, 0.02)
        assert started and body.commands("lift.move_to"), f"client never started the motion: {proc.stderr.read()!r}"
        time.sleep(0.6)  # longer than the watchdog: the heartbeats of the owner keep the motion going
        assert not body.halt_times
        t_kill = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
    delay = _halt_delay(body, t_kill)
    assert delay < WATCHDOG_S + 0.2 and server.watchdog_stops == 1


def test_busy_server_refuses_a_second_motion_and_stop_interrupts(served):
    server, body, _ = served
    assert raw_request(server.port, request("move_arm", {"lift_m": 1.0}), KEY)["ok"] is True
    busy = raw_request(server.port, request("set_head", {"pan": 0.1, "tilt": 0.0}), KEY)
    assert busy["ok"] is False and busy["code"] == "busy"
    assert raw_request(server.port, request("stop"), KEY)["ok"] is True
    assert body.halt_times
    time.sleep(0.05)
    done = raw_request(server.port, request("wait", {"job": 1, "max_wait_s": 0.2}), KEY)
    assert done["result"]["done"] is True and not done["result"]["motion"]["success"]
    assert "stop request" in done["result"]["motion"]["reason"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -1.0, 0.0, 1e9])
def test_watchdog_period_must_be_finite_and_positive(value):
    with pytest.raises(ValueError, match="finite"):
        ServerConfig(watchdog_s=value)


@pytest.mark.parametrize("port", [70000, -1, True])
def test_ports_out_of_range_are_refused(port):
    with pytest.raises(ValueError, match="port"):
        ServerConfig(port=port)
    with pytest.raises(RobotError, match="port"):
        RobotClient("127.0.0.1", port, KEY)


def test_garbage_peers_do_not_cost_legitimate_clients_their_replies(served):
    server, _, _ = served
    with RobotClient("127.0.0.1", server.port, KEY, ClientConfig(timeout_s=3.0)) as client:
        for i in range(10):
            zmtp_garbage_peer(server.port, b"\x04\x26\x05READY" + os.urandom(40))
            zmtp_garbage_peer(server.port, os.urandom(200))
            assert client.get_joints().lift_m == pytest.approx(0.6), f"request {i} lost its reply"
            assert client.set_head(0.01 * i, 0.0).success


def test_connection_limit_refuses_extra_connections_and_recovers(make_stretch):
    import socket

    robot, _, _ = make_stretch()
    config = ServerConfig(port=0, limits=SocketLimits(max_connections=8, handshake_s=1.0))
    server = RobotServer(robot, KEY, config).start()
    idle = []
    try:
        for _ in range(20):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=2.0))
        assert wait_for(lambda: server.connections_refused >= 12, 3.0), server.connections_refused
        assert server.open_connections <= 8
        # idle pre-auth peers are dropped after the handshake interval; then clients get in again
        assert wait_for(lambda: server.open_connections == 0, 4.0)
        with RobotClient("127.0.0.1", server.port, KEY, ClientConfig(timeout_s=3.0)) as client:
            assert client.get_joints().lift_m == pytest.approx(0.6)
    finally:
        for s in idle:
            s.close()
        server.close()


def test_pre_auth_flood_leaves_memory_bounded_and_clients_served(served):
    """40 raw peers each declaring and streaming a 15 MiB frame before any handshake, plus peers with wrong
    keys: the server's process memory stays within 50 MB and a keyed client keeps getting answers."""
    server, _, _ = served
    chunk = os.urandom(1 << 20)
    frame_header = b"\x02" + (15 << 20).to_bytes(8, "big")  # ZMTP long frame of 15 MiB

    def flood_peer() -> None:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2.0) as s:
                s.sendall(b"\xff" + b"\x00" * 8 + b"\x7f\x03\x00" + b"CURVE".ljust(20, b"\x00") + b"\x00" * 32)
                s.sendall(frame_header)
                for _ in range(15):
                    s.sendall(chunk)
        except OSError:
            pass  # dropped by the server, as it should

    with RobotClient("127.0.0.1", server.port, KEY, ClientConfig(timeout_s=3.0)) as client:
        client.get_joints()
        before = rss_mb()
        peak = [before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.02):
                peak[0] = max(peak[0], rss_mb())

        sampler = threading.Thread(target=sample)
        sampler.start()
        floods = [threading.Thread(target=flood_peer) for _ in range(40)]
        for t in floods:
            t.start()
        wrong = keys.new_key()
        answered = 0
        for _ in range(5):
            assert raw_request(server.port, request("stop"), wrong, timeout_s=0.2) is None
            answered += client.get_joints().lift_m == pytest.approx(0.6)
        for t in floods:
            t.join(timeout=10)
        stop.set()
        sampler.join()
        assert answered == 5
        assert client.get_joints().lift_m == pytest.approx(0.6)
    assert peak[0] - before < 50, f"memory grew {peak[0] - before:.0f} MB during the flood"

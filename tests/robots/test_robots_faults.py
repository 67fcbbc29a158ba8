"""Injected faults (robots.faults) on the real bridge: robot-server + RobotClient over ZMQ on localhost, the
stretch_body backend over the fake stretch_body (the hardware boundary). One test per fault type: dropped
and late replies, a server restart mid-motion, a camera that stops or returns stale frames, a stalled base
and a faulted arm, the runstop pressed and released, a low battery; and the --faults file's errors."""

from __future__ import annotations

import json
import time

import pytest
from bridge_helpers import wait_for
from stretch_fixtures import fast_config

from core.errors import InputError, RobotError
from core.types import Pose2D
from robots import keys
from robots.client import ClientConfig, RobotClient
from robots.faults import FaultConfig, FaultyRobot, is_stale, load_faults
from robots.server import RobotServer, ServerConfig

KEY = keys.new_key()
FAST = ClientConfig(timeout_s=0.4, heartbeat_s=0.05, retries=3)


def _serve(make_stretch, faults: FaultConfig, **body):
    robot, fake_body, _camera = make_stretch(fast_config(**body))
    faulty = FaultyRobot(robot, faults)
    server = RobotServer(faulty, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=0.5, faults=faults)).start()
    return server, faulty, fake_body


def test_dropped_and_delayed_replies_are_retried_on_a_new_connection(make_stretch):
    faults = FaultConfig(seed=3, drop_reply_p=0.3, delay_reply_p=0.3, delay_reply_s=0.05)
    server, _, _ = _serve(make_stretch, faults)
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            poses = [client.get_base_pose() for _ in range(20)]
            assert all(p.distance_to(Pose2D(0, 0, 0)) < 1e-6 for p in poses)
            assert server.net_faults.dropped > 0 and server.net_faults.delayed > 0
            assert client.reconnects >= server.net_faults.dropped - 1  # each drop cost one resend (hello's too)
    finally:
        server.close()


def test_a_lost_motion_reply_is_not_resent_the_robot_is_stopped_and_rechecked(make_stretch):
    server, faulty, _ = _serve(make_stretch, FaultConfig(drop_reply_p=1.0))
    try:
        client = RobotClient("127.0.0.1", server.port, KEY, config=ClientConfig(timeout_s=0.2, retries=1))
        res = client.move_arm(lift_m=0.6)  # its reply is dropped; so are stop and get_base_pose
        assert not res.success and "move_arm got no answer" in res.reason and "\n" not in res.reason
        assert faulty.arm_motions == 1  # sent once, never again
        client._release()
    finally:
        server.close()


def test_server_restart_mid_motion_stops_the_robot_and_the_client_reconnects(make_stretch):
    # requests: hello (1), move_base_to (2), then wait polls; the restart lands on a wait
    server, faulty, _ = _serve(make_stretch, FaultConfig(restart_after_requests=4, restart_down_s=0.3),
                               base_speed_m_s=0.05)
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            res = client.move_base_to(Pose2D(1.0, 0.0, 0.0), tolerance_m=0.02)
            assert not res.success and "restarted" in res.reason and "stopped at" in res.reason, res.reason
            assert server.net_faults.restarts == 1 and client.reconnects >= 1
            where = client.get_base_pose()  # the state is re-checked after the restart: the robot stands still
            time.sleep(0.2)
            assert client.get_base_pose().distance_to(where) < 1e-3 and where.x < 0.9
            ok = client.move_base_to(Pose2D(where.x + 0.05, 0.0, 0.0), tolerance_m=0.02)  # and it serves again
            assert ok.success, ok.reason
    finally:
        server.close()


def test_camera_that_stops_gives_one_error_line(make_stretch):
    server, _, _ = _serve(make_stretch, FaultConfig(camera_stops_after=2))
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            client.observe()
            client.observe()
            with pytest.raises(RobotError, match="camera stopped delivering frames") as info:
                client.observe()
            assert "\n" not in str(info.value)
            assert client.get_base_pose() is not None  # the bridge keeps serving
    finally:
        server.close()


def test_stale_frames_are_detected_once_the_base_has_moved(make_stretch):
    server, _, _ = _serve(make_stretch, FaultConfig(stale_frames_after=1))
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            first = client.observe()
            again = client.observe()
            assert not is_stale(first, again)  # the robot did not move: the same image is no evidence
            assert client.move_base_to(Pose2D(0.2, 0.0, 0.0), tolerance_m=0.02).success
            later = client.observe()
            assert later.base_pose.x == pytest.approx(0.2, abs=0.03)  # odometry is fresh, the image is not
            assert is_stale(first, later)
    finally:
        server.close()


def test_base_stall_and_arm_fault_stop_the_robot_and_report(make_stretch):
    server, _, _ = _serve(make_stretch, FaultConfig(base_stall_on=(1,), arm_fault_on=(2,)))
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            stall = client.move_base_to(Pose2D(0.2, 0.0, 0.0))
            assert not stall.success and "base stalled" in stall.reason and "stopped" in stall.reason
            assert client.get_base_pose().distance_to(Pose2D(0, 0, 0)) < 1e-6
            assert client.move_base_to(Pose2D(0.2, 0.0, 0.0), tolerance_m=0.02).success  # a retry is safe
            assert client.move_arm(lift_m=0.6).success
            fault = client.move_arm(lift_m=0.8)
            assert not fault.success and "arm motor faulted" in fault.reason
            assert client.get_joints().lift_m == pytest.approx(0.6, abs=0.01)
    finally:
        server.close()


def test_runstop_refuses_motion_until_released(make_stretch):
    server, _, _ = _serve(make_stretch, FaultConfig(runstop_on_motion=1, runstop_s=0.4))
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            first = client.move_arm(lift_m=0.6)
            assert not first.success and "runstop was pressed" in first.reason
            held = client.move_arm(lift_m=0.6)
            assert not held.success and "runstop is pressed" in held.reason
            assert wait_for(lambda: not server.robot.runstopped, 2.0)
            assert client.move_arm(lift_m=0.6).success  # released: it resumes
    finally:
        server.close()


def test_low_battery_refuses_every_further_motion(make_stretch):
    server, _, _ = _serve(make_stretch, FaultConfig(battery_low_after_motions=1))
    try:
        with RobotClient("127.0.0.1", server.port, KEY, config=FAST) as client:
            assert client.move_arm(lift_m=0.6).success
            for _ in range(2):
                r = client.move_arm(lift_m=0.7)
                assert not r.success and "battery low" in r.reason
            assert client.get_joints().lift_m == pytest.approx(0.6, abs=0.01)
    finally:
        server.close()


@pytest.mark.parametrize("content, message", [
    ("{", "not valid JSON"),
    ("[1]", "JSON object"),
    ('{"drop_reply": 0.5}', "unknown setting"),
    ('{"drop_reply_p": 2}', "probability"),
    ('{"base_stall_on": [0]}', "positive integers"),
    ('{"runstop_on_motion": -1}', "non-negative integer"),
])
def test_bad_fault_files_give_one_clear_error(tmp_path, content, message):
    path = tmp_path / "faults.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        load_faults(path)
    assert "\n" not in str(info.value)
    with pytest.raises(InputError, match="no such file"):
        load_faults(tmp_path / "missing.json")


def test_a_good_fault_file_loads(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text(json.dumps({"drop_reply_p": 0.1, "base_stall_on": [2, 5], "runstop_on_motion": 3}))
    c = load_faults(path)
    assert c.base_stall_on == (2, 5) and c.network and load_faults(None) is None

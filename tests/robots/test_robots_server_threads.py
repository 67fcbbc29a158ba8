"""robot-server threading: commands never queue behind a camera frame or a long-polled `wait`, a motion
queued behind a frame that the watchdog stopped never moves, injected late replies say so. Real ZMQ (CURVE)
on localhost, the stretch_body backend over the fake stretch_body, a camera slowed at the hardware boundary."""

from __future__ import annotations

import threading
import time

import zmq
from bridge_helpers import lift_targets, raw_request, request, wait_for
from stretch_fixtures import fast_config

from robots import keys
from robots.client import ClientConfig, RobotClient
from robots.faults import FaultConfig
from robots.server import RobotServer, ServerConfig
from robots.transport import client_socket

KEY = keys.new_key()
WATCHDOG_S = 0.5
FRAME_S = 1.0  # how long the slowed camera takes per frame


def _slow_camera(camera, seconds: float = FRAME_S) -> None:
    read = camera.read

    def slow_read():
        time.sleep(seconds)
        return read()

    camera.read = slow_read


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def test_queries_and_motion_starts_do_not_wait_for_a_frame_being_read(make_stretch):
    robot, body, camera = make_stretch(fast_config(lift_speed_m_s=0.05), speedup=1.0)
    _slow_camera(camera)
    with RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=WATCHDOG_S)) as server, \
            RobotClient("127.0.0.1", server.port, KEY) as viewer, RobotClient("127.0.0.1", server.port, KEY) as cmd:
        frames = []
        t = threading.Thread(target=lambda: frames.append(viewer.observe()))
        t.start()
        time.sleep(0.2)  # the frame is being read now
        took = [_timed(cmd.get_base_pose), _timed(cmd.get_joints), _timed(cmd.is_holding)]
        assert t.is_alive(), "the frame was read before the queries: the test proves nothing"
        assert max(took) < 0.2, took  # before: each waited for the whole frame (up to 1 s)
        t.join(timeout=10)
        assert frames and frames[0].frame.rgb.ndim == 3


def test_a_long_polled_wait_does_not_hold_up_other_clients(make_stretch):
    robot, body, _ = make_stretch(fast_config(lift_speed_m_s=0.05), speedup=1.0)
    with RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=WATCHDOG_S)) as server:
        ctx = zmq.Context.instance()
        owner = client_socket(ctx, KEY, 1 << 20)
        owner.connect(f"tcp://127.0.0.1:{server.port}")
        stop = threading.Event()

        def poll_job() -> None:  # the owner long-polls its job, 0.25 s per wait (the heartbeat)
            owner.send_multipart(request("move_arm", {"lift_m": 1.0}))
            owner.poll(3000)
            owner.recv_multipart()
            while not stop.is_set():
                owner.send_multipart(request("wait", {"job": 1, "max_wait_s": 0.25}))
                if not owner.poll(3000):
                    break
                owner.recv_multipart()

        t = threading.Thread(target=poll_job)
        t.start()
        try:
            assert wait_for(lambda: bool(lift_targets(body)), 3.0)
            other = RobotClient("127.0.0.1", server.port, KEY, ClientConfig(retries=0))
            other.connect()
            took = sorted(_timed(lambda: other.request("heartbeat")) for _ in range(20))
            halted = bool(body.halt_times)
            other._release()  # without disconnect()'s stop
        finally:
            stop.set()
            t.join(timeout=5)
            owner.close(0)
        assert not halted, "the owner's waits did not keep the motion going"
        # before: a heartbeat waited for the parked wait (up to 0.25 s) about every other time
        assert took[10] < 0.05 and took[-1] < 0.2, took


def test_a_motion_queued_behind_a_frame_and_stopped_by_the_watchdog_never_moves(make_stretch):
    robot, body, camera = make_stretch(fast_config(lift_speed_m_s=0.05), speedup=1.0)
    _slow_camera(camera, 1.5)
    with RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=WATCHDOG_S)) as server, \
            RobotClient("127.0.0.1", server.port, KEY) as viewer:
        t = threading.Thread(target=viewer.observe)
        t.start()
        time.sleep(0.2)
        started = raw_request(server.port, request("move_arm", {"lift_m": 1.0}), KEY)  # then silent
        assert started["ok"] is True and started["result"]["done"] is False
        assert wait_for(lambda: server.watchdog_stops == 1, 2.0)
        t.join(timeout=10)
        done = None
        for _ in range(20):  # another connection asks (feeds nothing)
            done = raw_request(server.port, request("wait", {"job": 1, "max_wait_s": 0.2}), KEY)
            if done["result"].get("done"):
                break
        motion = done["result"]["motion"]
        assert not motion["success"] and "watchdog" in motion["reason"] and "before it started" in motion["reason"]
        assert lift_targets(body) == []  # the lift was never commanded


def test_an_injected_late_reply_says_so(make_stretch):
    robot, _, _ = make_stretch(fast_config())
    faults = FaultConfig(delay_reply_p=1.0, delay_reply_s=0.05)
    with RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, faults=faults)) as server, \
            RobotClient("127.0.0.1", server.port, KEY) as client:
        took = _timed(lambda: client.request("get_base_pose"))
        result, _ = client.request("get_joints")
        assert took >= 0.05 and result["injected_fault"] == "reply delayed 0.050 s" and "joints" in result


def test_a_resent_wait_for_a_finished_job_gets_its_result_after_another_job_started(make_stretch):
    """A `wait` whose reply was lost is resent; by then another client's motion may run: the first client
    still gets its own job's result (not "no job", which would make it stop the other's motion)."""
    robot, body, _ = make_stretch(fast_config())
    with RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0, watchdog_s=WATCHDOG_S)) as server:
        assert raw_request(server.port, request("set_head", {"pan": 0.1, "tilt": 0.0}), KEY)["result"]["job"] == 1
        assert wait_for(lambda: raw_request(server.port, request("wait", {"job": 1}), KEY)["result"]["done"])
        assert raw_request(server.port, request("move_arm", {"lift_m": 0.6}), KEY)["result"]["job"] == 2
        again = raw_request(server.port, request("wait", {"job": 1, "max_wait_s": 0.0}), KEY)
        assert again["ok"] is True and again["result"]["done"] is True and again["result"]["motion"]["success"]
        assert raw_request(server.port, request("wait", {"job": 9}), KEY)["code"] == "bad_request"

"""SimRobot.stop() halts a motion in progress, as on the robot (called from another thread)."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from core.types import Pose2D
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE


@pytest.fixture()
def robot():
    world = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # let the watching thread in often while the motion thread computes
    with SimRobot(world) as r:
        yield r
    sys.setswitchinterval(old)
    world.close()


def _in_thread(fn):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("result", fn()), daemon=True)
    t.start()
    return t, out


def test_stop_halts_a_drive_through_waypoints(robot):
    start = robot.get_base_pose()  # (1, 1, 0) in a 4 x 4 m room
    there, back = Pose2D(2.5, start.y, 0.0), Pose2D(1.0, start.y, 0.0)
    route = [there, back] * 20  # 60 m of driving: many seconds of simulated time
    t0 = robot.world.sim_time_s
    thread, out = _in_thread(lambda: robot.follow_waypoints(route))
    while robot.world.sim_time_s < t0 + 2.0 and thread.is_alive():
        time.sleep(0.0005)
    assert thread.is_alive(), "the drive ended before stop() was called"
    robot.stop()
    thread.join(timeout=30)
    res = out["result"]
    assert not res.success
    assert "stopped by stop()" in res.reason
    stopped_at = robot.world.sim_time_s
    time.sleep(0.05)
    assert robot.world.sim_time_s == stopped_at  # nothing moves after the stop
    # The next command moves again.
    res = robot.move_base_to(Pose2D(1.5, start.y, 0.0))
    assert res.success, res.reason


def test_stop_halts_an_arm_motion(robot):
    assert robot.move_arm(lift_m=0.3).success
    t0 = robot.world.sim_time_s
    thread, out = _in_thread(lambda: robot.move_arm(lift_m=1.1))
    while robot.world.sim_time_s < t0 + 0.3 and thread.is_alive():
        time.sleep(0.0005)
    robot.stop()
    thread.join(timeout=30)
    res = out["result"]
    if res.success:
        pytest.skip("the lift finished before stop() landed (machine too fast)")
    assert "stopped by stop()" in res.reason
    assert 0.3 < robot.get_joints().lift_m < 1.1


def test_real_time_motion_lasts_its_simulated_duration_and_stops_at_once(robot):
    """`real_time` (robot-server --real-time): a motion takes its simulated time in wall-clock time too, and a
    stop() ends it at once (not at the end of the step it waits in)."""
    robot.real_time = True
    start = robot.get_base_pose()
    t0, sim0 = time.monotonic(), robot.world.sim_time_s
    assert robot.move_base_to(Pose2D(start.x + 0.3, start.y, start.theta), tolerance_m=0.02).success
    wall, sim = time.monotonic() - t0, robot.world.sim_time_s - sim0
    assert sim > 0.9 and wall >= sim - 0.05, (wall, sim)  # 0.3 m at 0.3 m/s
    thread, out = _in_thread(lambda: robot.move_base_to(Pose2D(start.x + 1.3, start.y, start.theta)))
    time.sleep(0.4)
    assert thread.is_alive()
    t_stop = time.monotonic()
    robot.stop()
    thread.join(timeout=5)
    assert time.monotonic() - t_stop < 0.1 and "stopped by stop()" in out["result"].reason
    moved = robot.get_base_pose().x - start.x
    assert 0.3 < moved < 0.6, moved  # about 0.4 s of driving after the first 0.3 m
    # a gripper motion after a stop() moves again (it begins a motion of its own)
    assert robot.set_gripper(0.02).success and robot.get_joints().gripper_m == pytest.approx(0.02, abs=0.005)

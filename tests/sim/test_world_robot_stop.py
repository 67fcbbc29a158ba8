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

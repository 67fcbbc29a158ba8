"""Robot-side motion limits (issue 23 item 1): refused and counted by the server and by the stretch_body backend."""

from __future__ import annotations

import math

import pytest
from bridge_helpers import raw_request, request
from stretch_fixtures import fast_config

from core.types import Pose2D
from robots import keys, motion_limits
from robots.client import RobotClient
from robots.server import RobotServer, ServerConfig

KEY = keys.new_key()
LIM = motion_limits.MotionLimits()


@pytest.fixture
def served(make_stretch):
    robot, body, _ = make_stretch()
    server = RobotServer(robot, KEY, ServerConfig(port=0)).start()
    yield server, robot, body
    server.close()


def base_commands(body) -> list:
    return body.commands("base.translate_by") + body.commands("base.rotate_by")


@pytest.mark.parametrize(("cmd", "args", "fragment"), [
    ("move_base_to", {"goal": [1e308, 1e308, 0.0]}, "from the map origin"),
    ("move_base_to", {"goal": [5.0, 0.0, 0.0]}, "5.00 m away"),
    ("move_base_to", {"goal": [0.5, 0.0, 0.0], "tolerance_m": 2.0}, "tolerance_m"),
    ("follow_waypoints", {"waypoints": [[float(i), 0.0, 0.0] for i in range(1, 80)]}, "longer than the 60 m"),
    ("move_arm", {"lift_m": 2.0}, "lift_m=2.000 is outside"),
    ("set_head", {"pan": 100.0, "tilt": 0.0}, "beyond a full turn"),
    ("set_gripper", {"aperture_m": 3.0}, "aperture"),
])
def test_server_refuses_and_counts_out_of_limit_motions(served, cmd, args, fragment):
    server, _, body = served
    reply = raw_request(server.port, request(cmd, args), KEY)
    assert reply["ok"] is False and reply["code"] == "limit" and fragment in reply["error"], reply
    assert server.limit_violations == 1 and base_commands(body) == [] and body.commands("lift.move_to") == []


def test_client_reports_a_refused_motion_as_a_failed_motion(served):
    server, _, _ = served
    with RobotClient("127.0.0.1", server.port, KEY) as client:
        result = client.move_base_to(Pose2D(1e308, 0.0, 0.0))
        assert not result.success and "refused by the robot" in result.reason
        assert not client.move_arm(arm_m=5.0).success
    assert server.limit_violations == 2


def test_long_straight_segments_are_split_and_paths_bounded():
    out = motion_limits.plan_waypoints(Pose2D(0, 0, 0), [Pose2D(7.0, 0.0, 0.0), Pose2D(7.0, 1.0, 1.0)], LIM)
    legs = [math.hypot(b.x - a.x, b.y - a.y) for a, b in zip([Pose2D(0, 0, 0), *out[:-1]], out, strict=True)]
    assert len(out) == 4 and max(legs) <= 3.0 + 1e-9 and out[-1] == Pose2D(7.0, 1.0, 1.0)
    with pytest.raises(motion_limits.LimitError, match="not a finite number"):
        motion_limits.plan_waypoints(Pose2D(0, 0, 0), [Pose2D(float("nan"), 0.0)], LIM)


def test_backend_refuses_far_goals_and_long_translations_itself(make_stretch):
    robot, body, _ = make_stretch(fast_config())
    for goal in (Pose2D(1e308, 1e308, 0.0), Pose2D(4.0, 0.0, 0.0), Pose2D(float("inf"), 0.0, 0.0)):
        result = robot.move_base_to(goal)
        assert not result.success and result.reason.startswith("refused")
    assert not robot._translate(1e308).success and not robot._translate(float("nan")).success
    assert robot.limit_violations == 5 and base_commands(body) == []
    assert robot._timeout(float("inf")) == robot.config.max_motion_s and robot._timeout(3.0) == 3.0
    with pytest.raises(ValueError, match="max_translation_m"):
        fast_config(max_translation_m=float("inf"))

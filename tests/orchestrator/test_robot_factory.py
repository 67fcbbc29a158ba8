"""One robot factory for every command (orchestrator.robot_factory) and one world factory (sim.backends)."""

from __future__ import annotations

import pytest

from core.errors import InputError
from orchestrator.configs import RobotKind, RobotOptions
from orchestrator.robot_factory import make_robot, open_robot
from tests.sim.world_fixtures import EXAMPLE_SCENE


def test_unknown_kind_and_a_sim_robot_without_a_scene_are_one_clear_error():
    with pytest.raises(InputError, match="unknown robot 'roomba'; use one of sim, stretch, stretch-body"):
        make_robot(RobotOptions(kind="roomba"))
    with pytest.raises(InputError, match="--robot sim needs --scene"):
        make_robot(RobotOptions(kind=RobotKind.SIM.value))
    with pytest.raises(InputError, match="unknown simulator backend 'nope'"):
        make_robot(RobotOptions(kind=RobotKind.SIM.value, scene=str(EXAMPLE_SCENE), sim_backend="nope"))


def test_open_robot_builds_the_scene_drives_and_closes_its_world():
    from sim.protocol import World

    with open_robot(RobotOptions(kind=RobotKind.SIM.value, scene=str(EXAMPLE_SCENE))) as robot:
        world = robot.world
        assert isinstance(world, World)
        start = robot.get_base_pose()
        assert robot.set_head(0.2, -0.5).success
        assert robot.get_joints().head_pan == pytest.approx(0.2)
        assert start == world.spec.robot_start
        assert robot.observe().frame.depth_m.max() > 0  # renders (opens the world's rendering context)
        assert world._renderer is not None
    assert world._renderer is None  # closed on exit (the MuJoCo world's rendering context is freed)
    with pytest.raises(Exception, match="not connected"):
        robot.get_base_pose()

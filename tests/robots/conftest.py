"""Fixtures for the robot backends: stretch_body and the head camera replaced at the hardware boundary."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_camera import FakeHeadCamera  # noqa: E402
from fake_stretch_body import make_module  # noqa: E402
from stretch_fixtures import fast_config  # noqa: E402

from robots.stretch_body_backend import StretchBodyRobot  # noqa: E402
from robots.stretch_body_config import StretchBodyConfig  # noqa: E402


@pytest.fixture
def make_stretch():
    """Build a connected StretchBodyRobot over the fake stretch_body; returns (robot, fake_body, camera)."""
    made = []

    def build(config: StretchBodyConfig | None = None, **fake_kwargs):
        fake_kwargs.setdefault("speedup", 8.0)
        module = make_module(**fake_kwargs)
        camera = FakeHeadCamera()
        robot = StretchBodyRobot(config or fast_config(), camera=camera, body_module=module)
        robot.connect()
        made.append(robot)
        return robot, module.instances[0], camera

    yield build
    for r in made:
        r.disconnect()

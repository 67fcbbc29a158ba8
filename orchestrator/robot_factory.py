"""The one place a command gets its robot: the simulator, a remote Stretch, or this Stretch's hardware.

`make_robot(options)` builds it (not yet connected); `open_robot(options)` connects it as a context manager
and cleans up (stop, disconnect, and for the simulator close the world built for it). Every command that
drives a robot (`run`, `listen`, `scan --robot`, `robot-server`) goes through here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from core.errors import InputError
from orchestrator.configs import RobotKind, RobotOptions
from robots.protocol import Robot


def robot_kind(kind: str) -> RobotKind:
    try:
        return RobotKind(kind)
    except ValueError:
        raise InputError(f"unknown robot {kind!r}; use one of {', '.join(k.value for k in RobotKind)}") from None


def make_robot(options: RobotOptions, spec=None) -> Robot:
    """The robot `options` names, not yet connected. For the simulator, `spec` (a SceneSpec) or
    `options.scene` (a scene file) is the scene to build; the robot's `world` must be closed after use."""
    kind = robot_kind(options.kind)
    if kind is RobotKind.SIM:
        if spec is None and options.scene is None:
            raise InputError("--robot sim needs --scene scene.json (the scene the map was scanned in)")
        from robots.faults import load_faults  # noqa: PLC0415
        from sim.backends import make_sim_robot  # noqa: PLC0415 - the simulator is optional on a robot
        from sim.realism import load_realism  # noqa: PLC0415

        return make_sim_robot(spec if spec is not None else options.scene, base_dir=_scene_dir(options),
                              backend_name=options.sim_backend, realism=load_realism(options.realism),
                              faults=load_faults(options.faults))
    if kind is RobotKind.STRETCH:
        from robots.client import RobotClient  # noqa: PLC0415
        from robots.keys import load_key  # noqa: PLC0415

        key = None if options.insecure_loopback else load_key(options.key_file)
        return RobotClient(options.host, options.port, key=key, insecure_loopback=options.insecure_loopback)
    from robots.stretch_body_backend import StretchBodyRobot  # noqa: PLC0415 - hardware, only on the robot

    lidar = None
    if options.lidar_port:
        from robots.rplidar_scanner import RPLidarConfig, RPLidarReader  # noqa: PLC0415

        lidar = RPLidarReader(RPLidarConfig(port=options.lidar_port))
    return StretchBodyRobot(options.stretch_body, use_camera=options.use_camera, lidar=lidar)


def _scene_dir(options: RobotOptions) -> Path | None:
    return Path(options.scene).parent if options.scene else None


def close_robot(robot: Robot) -> None:
    """Free what `make_robot` built around the robot (the simulated world)."""
    world = getattr(robot, "world", None)
    if world is not None:
        world.close()


@contextlib.contextmanager
def open_robot(options: RobotOptions, spec=None) -> Iterator[Robot]:
    """A connected robot as a context manager (stopped and disconnected on exit)."""
    robot = make_robot(options, spec)
    try:
        with robot:
            yield robot
    finally:
        close_robot(robot)

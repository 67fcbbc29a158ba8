"""Configs of the top-level jobs (run, demo, eval), kept free of heavy imports so the CLI starts fast."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from robots.stretch_body_config import StretchBodyConfig


class RobotKind(str, Enum):
    """Which robot a command drives (orchestrator.robot_factory builds each)."""

    SIM = "sim"
    """The simulated Stretch in a scene (sim.backends: a World in a simulator backend + sim.robot.SimRobot)."""
    STRETCH = "stretch"
    """A Stretch running `ovmm robot-server`, reached over the network (robots.client.RobotClient)."""
    STRETCH_BODY = "stretch-body"
    """This computer is the Stretch: its hardware through stretch_body (what `ovmm robot-server` serves)."""


ROBOT_KINDS = (RobotKind.SIM.value, RobotKind.STRETCH.value)
"""The kinds a workstation command (`run`, `listen`) can drive."""


@dataclass
class RobotOptions:
    """Which robot to drive and how to reach it."""

    kind: str = RobotKind.SIM.value
    """Which robot carries the task out: sim, or stretch (a robot server, real or `ovmm robot-server --backend
    sim`); a RobotKind value."""
    scene: str | None = None
    """Scene file for --robot sim (the scene the map was scanned in)."""
    sim_backend: str = "mujoco"
    """Simulator backend for --robot sim (a name registered in sim.backends)."""
    realism: str = "oracle"
    """Realism profile of the simulated robot: oracle, realistic or a JSON file (sim.realism)."""
    faults: str | None = None
    """A fault file (robots.faults, `--faults FILE.json`) for the simulated robot; None: no faults."""
    host: str = "127.0.0.1"
    """Host of `ovmm robot-server` for --robot stretch."""
    port: int = 5555
    """Port of `ovmm robot-server` (1-65535)."""
    key_file: str | None = None
    """Robot key file (default $OVMM_ROBOT_KEY_FILE, else ~/.ovmm/robot.key; `ovmm robot-server --new-key`)."""
    insecure_loopback: bool = False
    """Talk to a robot-server started with --insecure-loopback (no key; 127.0.0.1 only)."""
    use_camera: bool = True
    """stretch-body: use the head camera (False: motion only)."""
    lidar_port: str | None = None
    """stretch-body: serial port of the base's RPLidar (None: no lidar scans)."""
    stretch_body: StretchBodyConfig = field(default_factory=StretchBodyConfig)
    """stretch-body: speeds, tolerances, homing and the map registration of the real-Stretch backend."""
    localize: str = "auto"
    """Localise in the map before the first motion and track while driving (orchestrator.localized_robot):
    `auto` does it when the robot's pose is odometry (a Stretch; a simulated robot with drifting odometry),
    `on` always, `off` never."""
    map_registration: tuple[float, float, float] | None = None
    """X, Y, THETA of the robot's reported frame in the map: tracking starts from it instead of a global
    relocalisation (an override, when the home is ambiguous or the map has nothing at lidar height)."""


SCAN_ROUTES = ("explore", "ground-truth")
"""How a simulated scan drives: frontier exploration, or the scene's ground-truth scan route."""


@dataclass
class EvalConfig:
    """What `ovmm eval` runs; its --episodes/--seed/--episodes-per-scene/--cache-dir options are generated from
    these fields (orchestrator.config_options)."""

    episodes: int = 30
    """Number of episodes."""
    seed: int = 0
    """Seed of the first apartment (then seed+1, ...)."""
    episodes_per_scene: int = 3
    """Episodes drawn from each generated apartment (each apartment is scanned once)."""
    cache_dir: str = ".ovmm-cache/eval"
    """Generated scenes and their scanned maps are kept here and reused by later runs."""
    scan_width: int = 640
    scan_height: int = 480
    """Head-camera resolution used while scanning (picking always uses the full 640x480 camera)."""
    scene_dataset: str | None = None
    """A Habitat *.scene_dataset_config.json: evaluate in its scenes instead of generated apartments."""
    scenes: tuple[str, ...] = ()
    """With scene_dataset: the scene instances to use, cycled over the apartments (default: all of them)."""
    object_library: str | None = None
    """An object-library folder (library.json + meshes, docs/sim-scenes.md) whose objects the generated
    apartments hold instead of the default YCB + procedural objects."""
    realism: str = "oracle"
    """Realism profile(s) of the simulated robot while it carries out the episodes: oracle, realistic or a JSON
    file (sim.realism); a comma-separated list runs the same episodes under each, side by side."""
    faults: str | None = None
    """A fault file (robots.faults) injected into the simulated robot in every episode; None: no faults."""
    localize: bool = True
    """With a drifting-odometry profile: the robot localises by lidar scan matching while it scans and works
    (orchestrator.localized_robot); --no-localize leaves it on its odometry, to measure what that costs."""
    changes: int = 0
    """Objects moved or removed in each apartment after its scan and before its requests (orchestrator.eval_changes);
    the apartment's requests then run in sequence in one world with the map carried and kept current."""
    changed_target_share: float = 0.5
    """With --changes: the share of each apartment's requests whose object is among the changed ones."""
    carry_map: bool = False
    """Run each apartment's requests in sequence in one world with one map kept current (what --changes does),
    also with --changes 0: the unchanged baseline."""
    scan_route: str = "explore"
    """How each apartment is scanned: 'explore' (frontier exploration from the robot start on what it has seen,
    orchestrator.exploration) or 'ground-truth' (the scene's planned scan route, faster; cached apart)."""


@dataclass
class DemoConfig:
    """What `ovmm demo` runs; its options are generated from these fields (orchestrator.config_options)."""

    seed: int = 0
    """Seed of the generated apartment."""
    requests: int = 3
    """Number of generated requests."""
    out: str = "out/demo"
    """Output folder (scene, map, runs.json, demo.png, demo.rrd)."""
    scan_width: int = 640
    scan_height: int = 480
    """Head-camera resolution while scanning (lower is faster); `--scan-camera WxH`."""
    realism: str = "oracle"
    """Realism profile of the simulated robot while it carries out the requests: oracle, realistic or a JSON
    file (sim.realism)."""
    scan_route: str = "explore"
    """How the apartment is scanned: 'explore' (frontier exploration from the robot start) or 'ground-truth'
    (the scene's planned scan route)."""


def parse_camera_size(text: str, option: str, minimum: int = 16, maximum: int = 4096) -> tuple[int, int]:
    """'640x480' -> (640, 480) for a CLI option; InputError naming `option` otherwise."""
    from core.errors import InputError

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"{option} must look like 640x480, got {text!r}") from None
    if not (minimum <= w <= maximum and minimum <= h <= maximum):
        raise InputError(f"{option} {text} is out of range ({minimum}..{maximum} pixels a side)")
    return w, h

"""`ovmm robot-server`: serve a robot to workstations over the network (runs ON the robot).

  ovmm robot-server --new-key                                    (write a new CURVE key to ~/.ovmm/robot.key)
  ovmm robot-server --host 0.0.0.0                               (the real Stretch, reachable on the LAN)
  ovmm robot-server --backend sim --scene scene.json             (a simulated robot on 127.0.0.1, for testing)
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from core.errors import InputError
from core.types import Pose2D
from orchestrator.commands.arg_types import pose_2d
from orchestrator.commands.fault_flags import add_faults_option
from orchestrator.commands.realism_flags import add_realism_option
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import RobotKind, RobotOptions
from orchestrator.robot_factory import close_robot, make_robot
from robots.faults import load_faults
from robots.keys import DEFAULT_KEY_FILE, KEY_FILE_ENV, load_key, write_new_key
from robots.motion_limits import MotionLimits
from robots.rplidar_scanner import RPLidarConfig
from robots.server import RobotServer
from robots.server_config import ServerConfig, check_watchdog_s, is_loopback
from robots.stretch_body_config import StretchBodyConfig

log = logging.getLogger(__name__)

_STRETCH = StretchBodyConfig()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "robot-server",
        help="serve the robot (real Stretch or simulator) to `ovmm ... --robot-host` clients over ZMQ",
        description="Run on the robot. Serves a Robot over ZMQ, encrypted and authenticated with CURVE keys "
        "(--new-key makes them); stops the robot when the client that started a motion goes silent for "
        f"--watchdog-s seconds. Key: --key-file, else ${KEY_FILE_ENV}, else {DEFAULT_KEY_FILE}.",
    )
    p.add_argument("--backend", choices=["stretch", "sim"], default="stretch",
                   help="stretch: the real robot over stretch_body; sim: a simulated Stretch (needs --scene)")
    p.add_argument("--scene", help="scene JSON for --backend sim")
    add_realism_option(p)
    add_faults_option(p)
    p.add_argument("--real-time", action="store_true",
                   help="--backend sim: motions take as long in wall-clock time as on the Stretch (a soak, a "
                        "watchdog check); default: as fast as the simulator computes")
    add_config_options(p, ServerConfig, {"port": Option(type=port_number), "watchdog_s": Option(type=watchdog_seconds)},
                       only={"host", "port", "watchdog_s"})
    limits = p.add_argument_group("robot-side motion limits (commands beyond them are refused and counted)")
    add_config_options(limits, MotionLimits, {"max_translation_m": Option(flag="--max-translation", metavar="M"),
                                              "max_goal_distance_m": Option(flag="--max-goal-distance", metavar="M"),
                                              "max_path_m": Option(flag="--max-path", metavar="M")},
                       only={"max_translation_m", "max_goal_distance_m", "max_path_m"})
    add_key_file_option(p)
    p.add_argument("--new-key", metavar="FILE", nargs="?", const=DEFAULT_KEY_FILE,
                   help=f"write a new robot key to FILE (default {DEFAULT_KEY_FILE}; mode 600) and exit")
    add_insecure_option(p, server=True)
    p.add_argument("--no-camera", action="store_true", help="stretch backend without the head camera")
    p.add_argument("--lidar-port", default=RPLidarConfig.port, metavar="DEV",
                   help="stretch backend: serial port of the base's RPLidar, read with rplidar-roboticia; its scans "
                        "go with every observation (default %(default)s, the Stretch's udev name)")
    p.add_argument("--no-lidar", action="store_true", help="stretch backend: do not read the lidar")
    p.add_argument("--home", action="store_true", help="home the Stretch on start if it is not homed (moves!)")
    p.add_argument("--map-registration", type=pose_2d, default=Pose2D.from_list(_STRETCH.map_T_odom),
                   metavar="X,Y,THETA", help="pose of the odometry origin in the map frame (stretch backend)")
    p.set_defaults(func=run)


def watchdog_seconds(text: str) -> float:
    """argparse type: a finite watchdog period in (0, 60] seconds (nan and inf would turn it off)."""
    try:
        return check_watchdog_s(float(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _write_new_key(path: str) -> int:
    target = write_new_key(path)
    print(f"wrote a new robot key to {target} (mode 600); copy it to the workstation's {DEFAULT_KEY_FILE} "
          "(e.g. scp) and keep it private")
    return 0


def _make_robot(args: argparse.Namespace):
    if args.backend == "sim":
        if not args.scene:
            raise InputError("--backend sim needs --scene SCENE.json")
        robot = make_robot(RobotOptions(kind=RobotKind.SIM.value, scene=args.scene, realism=args.realism,
                                        faults=args.faults))
        getattr(robot, "inner", robot).real_time = args.real_time  # the SimRobot (inside FaultyRobot)
        return robot
    if args.faults:
        raise InputError("--faults is for --backend sim (faults are injected into the simulated robot)")
    if args.real_time:
        raise InputError("--real-time is for --backend sim (the real Stretch moves in real time anyway)")
    m = args.map_registration
    config = StretchBodyConfig(map_T_odom=(m.x, m.y, m.theta), home_if_needed=args.home)
    return make_robot(RobotOptions(kind=RobotKind.STRETCH_BODY.value, stretch_body=config,
                                   use_camera=not args.no_camera,
                                   lidar_port=None if args.no_lidar else args.lidar_port))


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    if args.new_key:
        return _write_new_key(args.new_key)
    if args.insecure_loopback:
        if args.key_file:
            raise InputError("--insecure-loopback serves without a key: do not give --key-file with it")
        if not is_loopback(args.host):
            raise InputError(f"--insecure-loopback serves 127.0.0.1 only, not {args.host}")
        key = None
        log.warning("--insecure-loopback: no authentication and no encryption; any local process can drive the "
                    "robot")
    else:
        key = load_key(args.key_file)
    try:
        limits = config_from_args(MotionLimits, args)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    config = config_from_args(ServerConfig, args, insecure_loopback=args.insecure_loopback, motion_limits=limits,
                              faults=load_faults(args.faults) if args.backend == "sim" else None)
    robot = _make_robot(args)
    server = RobotServer(robot, key, config)  # refuses a network address without a key
    with robot:
        # After connect (stretch_body installs its own handlers): SIGTERM/SIGINT end serving cleanly, and
        # leaving the `with` block stops the robot.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _interrupt)
        server.bind()
        # The network thread waits for the GIL behind the camera and motion threads' Python code at most 1 ms
        # (default 5 ms) after they ask for it: a query's latency is not a multiple of 5 ms under load.
        sys.setswitchinterval(0.001)
        print(f"serving {robot.name} on tcp://{args.host}:{server.port} (CURVE key: "
              f"{'yes' if key else 'NO, insecure loopback'}, "
              f"watchdog {args.watchdog_s:.2f} s); Ctrl-C stops", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopping", flush=True)
        finally:
            server.close()
    close_robot(robot)
    return 0

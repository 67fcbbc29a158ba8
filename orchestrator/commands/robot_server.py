"""`ovmm robot-server`: serve a robot to workstations over the network (runs ON the robot).

  ovmm robot-server --new-key ~/.ovmm/robot.key                 (write a random shared key, then copy it over)
  ovmm robot-server --key-file ~/.ovmm/robot.key --host 0.0.0.0  (the real Stretch, reachable on the LAN)
  ovmm robot-server --backend sim --scene scene.json             (a simulated robot on 127.0.0.1, for testing)
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

from core.errors import InputError
from core.io import write_text_atomic
from core.types import Pose2D
from robots.server import RobotServer, ServerConfig
from robots.stretch_body_config import StretchBodyConfig
from robots.wire import KEY_ENV, generate_key, load_key

_SERVER = ServerConfig()
_STRETCH = StretchBodyConfig()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "robot-server",
        help="serve the robot (real Stretch or simulator) to `ovmm ... --robot-host` clients over ZMQ",
        description="Run on the robot. Serves a Robot over ZMQ with HMAC-signed messages; stops the robot "
        f"when the client goes silent for --watchdog-s seconds. Key: --key-file or ${KEY_ENV}.",
    )
    p.add_argument("--backend", choices=["stretch", "sim"], default="stretch",
                   help="stretch: the real robot over stretch_body; sim: a simulated Stretch (needs --scene)")
    p.add_argument("--scene", help="scene JSON for --backend sim")
    p.add_argument("--host", default=_SERVER.host,
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces, needs a key)")
    p.add_argument("--port", type=int, default=_SERVER.port)
    p.add_argument("--key-file", help=f"file holding the shared key (default: ${KEY_ENV})")
    p.add_argument("--new-key", metavar="FILE", help="write a new random key to FILE (mode 600) and exit")
    p.add_argument("--watchdog-s", type=float, default=_SERVER.watchdog_s,
                   help="stop the robot when no client message arrives for this long during a motion")
    p.add_argument("--no-camera", action="store_true", help="stretch backend without the head camera")
    p.add_argument("--home", action="store_true", help="home the Stretch on start if it is not homed (moves!)")
    p.add_argument("--map-registration", type=Pose2D.parse, default=Pose2D.from_list(_STRETCH.map_T_odom),
                   metavar="X,Y,THETA", help="pose of the odometry origin in the map frame (stretch backend)")
    p.set_defaults(func=run)


def _write_new_key(path: str) -> int:
    target = Path(path).expanduser()
    if target.exists():
        raise InputError(f"{target} already exists; remove it first or choose another file")
    write_text_atomic(target, generate_key() + "\n")
    os.chmod(target, 0o600)
    print(f"wrote a new robot key to {target}; copy it to the workstation (e.g. scp) and keep it private")
    return 0


def _make_robot(args: argparse.Namespace):
    if args.backend == "sim":
        if not args.scene:
            raise InputError("--backend sim needs --scene SCENE.json")
        from sim.mujoco.world import SimWorld  # noqa: PLC0415
        from sim.robot import SimRobot  # noqa: PLC0415 - the simulator is optional on a robot
        from sim.scene.spec import SceneSpec  # noqa: PLC0415

        scene = Path(args.scene)
        return SimRobot(SimWorld(SceneSpec.load(scene), base_dir=scene.parent))
    from robots.stretch_body_backend import StretchBodyRobot  # noqa: PLC0415

    m = args.map_registration
    config = StretchBodyConfig(map_T_odom=(m.x, m.y, m.theta), home_if_needed=args.home)
    return StretchBodyRobot(config, use_camera=not args.no_camera)


def _interrupt(signum, _frame) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run(args: argparse.Namespace) -> int:
    if args.new_key:
        return _write_new_key(args.new_key)
    if args.watchdog_s <= 0:
        raise InputError("--watchdog-s must be positive")
    key = load_key(args.key_file)
    config = ServerConfig(host=args.host, port=args.port, watchdog_s=args.watchdog_s)
    robot = _make_robot(args)
    server = RobotServer(robot, key, config)  # refuses a network address without a key
    with robot:
        # After connect (stretch_body installs its own handlers): SIGTERM/SIGINT end serving cleanly, and
        # leaving the `with` block stops the robot.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _interrupt)
        server.bind()
        print(f"serving {robot.name} on tcp://{args.host}:{server.port} (key: {'yes' if key else 'no'}, "
              f"watchdog {args.watchdog_s:.2f} s); Ctrl-C stops", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopping", flush=True)
        finally:
            server.close()
    world = getattr(robot, "world", None)
    if world is not None:
        world.close()
    return 0

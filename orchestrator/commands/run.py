"""`ovmm run "put the mug on the table" --map MAP --robot sim|stretch`: carry out one request."""

from __future__ import annotations

import argparse
import sys

from core.types import Pose2D
from orchestrator.commands.arg_types import pose_2d
from orchestrator.commands.fault_flags import add_faults_option
from orchestrator.commands.realism_flags import add_realism_option
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.configs import ROBOT_KINDS, RobotOptions

EXAMPLE = 'ovmm run "put the white coffee mug on the blue sofa" --map home.npz --robot sim --scene scene.json'


def add_robot_arguments(p: argparse.ArgumentParser) -> None:
    """Robot selection flags shared by `ovmm run` and `ovmm listen`."""
    d = RobotOptions()
    p.add_argument("--robot", choices=ROBOT_KINDS, default=d.kind,
                   help=f"which robot carries the task out (default {d.kind}; stretch: a robot server, real or "
                        "`ovmm robot-server --backend sim`)")
    p.add_argument("--scene", default=d.scene, help="scene.json for --robot sim (the scene the map was scanned in)")
    add_realism_option(p, d.realism)
    add_faults_option(p)
    p.add_argument("--robot-host", default=d.host, help="host of `ovmm robot-server` for --robot stretch")
    p.add_argument("--robot-port", type=port_number, default=d.port, help="port of `ovmm robot-server` (1-65535)")
    add_key_file_option(p)
    add_insecure_option(p)
    p.add_argument("--localize", choices=("auto", "on", "off"), default=d.localize,
                   help="find the robot in the map (lidar scan matching, else a head-camera sweep) before it moves "
                        "and track it while it drives; auto: for a Stretch and a drifting simulated robot "
                        f"(default {d.localize})")
    p.add_argument("--map-registration", type=pose_2d, default=None, metavar="X,Y,THETA",
                   help="the robot's reported frame in the map: track from this instead of relocalising")


def add_threshold_argument(p: argparse.ArgumentParser) -> None:
    """--threshold, shared by `ovmm run` and `ovmm listen`."""
    p.add_argument("--threshold", type=float, default=None,
                   help="not-found threshold for the object and receptacle lookups (default: the map's own, "
                        "calibrated for its encoder at scan time; `ovmm query MAP --calibration` shows it)")


def task_config(args: argparse.Namespace):
    """The TaskConfig the flags ask for (the map's calibrated threshold unless --threshold is given)."""
    import math

    from core.errors import InputError
    from orchestrator.task_machine import TaskConfig

    threshold = getattr(args, "threshold", None)
    if threshold is not None and not math.isfinite(threshold):
        raise InputError(f"--threshold must be a number, got {threshold}")
    return TaskConfig(threshold=threshold)


def robot_options(args: argparse.Namespace) -> RobotOptions:
    return RobotOptions(kind=args.robot, scene=args.scene, host=args.robot_host, port=args.robot_port,
                        key_file=args.key_file, insecure_loopback=args.insecure_loopback,
                        realism=getattr(args, "realism", RobotOptions.realism),
                        faults=getattr(args, "faults", None), localize=getattr(args, "localize", RobotOptions.localize),
                        map_registration=_registration(getattr(args, "map_registration", None)))


def _registration(pose: Pose2D | None) -> tuple[float, float, float] | None:
    return None if pose is None else (pose.x, pose.y, pose.theta)


def register(subparsers) -> None:
    p = subparsers.add_parser("run", help="carry out a request such as 'put the mug on the table'",
                              description=__doc__, epilog=f"example: {EXAMPLE}")
    p.add_argument("request", help="what to do, in words")
    p.add_argument("--map", dest="map_path", required=True,
                   help="map file written by `ovmm scan` (home.npz; the .npz may be left out)")
    add_robot_arguments(p)
    add_threshold_argument(p)
    p.add_argument("--log", dest="log_path", help="write the run report (JSON) here")
    p.add_argument("--png", help="write a top-down picture of the run here")
    p.add_argument("--save-map", metavar="OUT.npz",
                   help="write the map as the robot left it (updated from what it saw while working, with the run in "
                        "its history) here")
    p.add_argument("--device", default="cpu", help="perception device (cpu, cuda, auto)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.io import check_output_folder
    from mapping.map_files import map_path
    from mapping.voxel_map import VoxelMap
    from orchestrator.pictures_run import save_run_png
    from orchestrator.run_task import run_request
    from orchestrator.summary import phase_table

    check_output_folder(args.log_path, "--log")
    check_output_folder(args.png, "--png")
    check_output_folder(args.save_map, "--save-map")
    report = run_request(args.request, args.map_path, robot_options(args), config=task_config(args),
                         log_path=args.log_path, device=args.device, save_map=args.save_map)
    print("\n".join(report.log))
    print()
    print(phase_table(report))
    if args.png:
        labels = None
        if args.scene:
            from orchestrator.pictures_run import scene_labels
            from sim.scene.spec import SceneSpec

            labels = scene_labels(SceneSpec.load(args.scene))
        save_run_png(VoxelMap.load(map_path(args.map_path)), [report], args.png, labels=labels)
        print(f"wrote {args.png}")
    if args.save_map:
        print(f"wrote the updated map to {map_path(args.save_map)}")
    if report.success:
        print(f"done: {report.task.describe()} ({report.seconds:.1f} s)")
        return 0
    f = report.failure
    print(f"failed in {f.name}: {f.reason}", file=sys.stderr)
    return 3

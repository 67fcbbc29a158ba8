"""`ovmm run "put the mug on the table" --map MAP --robot sim|stretch`: carry out one request."""

from __future__ import annotations

import argparse
import sys

from orchestrator.commands.arg_types import pose_tuple
from orchestrator.commands.fault_flags import add_faults_option
from orchestrator.commands.realism_flags import add_realism_option
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import ROBOT_KINDS, RobotOptions
from orchestrator.localized_robot import LOCALIZE_CHOICES

EXAMPLE = 'ovmm run "put the white coffee mug on the blue sofa" --map home.npz --robot sim --scene scene.json'


def add_robot_arguments(p: argparse.ArgumentParser) -> None:
    """Robot selection flags shared by `ovmm run` and `ovmm listen` (RobotOptions' fields)."""
    d = RobotOptions()
    add_config_options(p, RobotOptions, {
        "kind": Option(flag="--robot", choices=ROBOT_KINDS), "host": Option(flag="--robot-host"),
        "port": Option(flag="--robot-port", type=port_number), "localize": Option(choices=LOCALIZE_CHOICES),
        "map_registration": Option(type=pose_tuple, metavar="X,Y,THETA"),
    }, only={"kind", "scene", "host", "port", "localize", "map_registration"})
    add_realism_option(p, d.realism)
    add_faults_option(p)
    add_key_file_option(p)
    add_insecure_option(p)


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
    return config_from_args(RobotOptions, args)


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
    from orchestrator.run_task import RUN_DEVICE

    p.add_argument("--device", default=RUN_DEVICE, help=f"perception device: cpu, cuda or auto (default {RUN_DEVICE})")
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

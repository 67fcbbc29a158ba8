"""`ovmm localize --map MAP (--sim SCENE.json [--trials N --seed S] | --robot-host HOST) [--json OUT]`: find
the robot in a map.

With --robot-host the robot behind `ovmm robot-server` (a real Stretch) is localised where it stands, from
its lidar scan (a head-camera depth sweep when it has no lidar), with no initial guess; when the answer is
"ambiguous" or "no match" it turns in place a quarter turn at a time (up to three) and tries again with
all views, then prints its pose in the map and the confidence, or why it could not tell.

MAP is a saved voxel map (`ovmm scan` output, .npz: its occupied voxels at the lidar's height band) or a
simulator scene (.json: its ground-truth occupancy at that band). The simulated robot is placed at a random
free pose of SCENE (unknown to the localiser; its odometry frame is a random offset), one lidar scan (the
A1 model with range noise) is taken, and the pose is found by global relocalisation with no initial guess
(navigation.localization). With --trials N it does this N times and reports the success rate (within
0.10 m and 5 degrees), how often the answer was "not localised" (ambiguous / no match) or a confident wrong
pose, the median position/heading errors and the median time per relocalisation.
"""

from __future__ import annotations

import argparse
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io import check_output_folder, write_json_atomic
from core.stretch import STRETCH
from core.types import Pose2D
from navigation.localization import Localizer, scan_map_from_points
from navigation.scan_matching import ScanMap
from orchestrator.commands.arg_types import seed_number
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import RobotOptions

GT_BAND_M = (0.1, 0.25)  # ground-truth occupancy around the lidar's 0.166 m


@dataclass(frozen=True)
class LocalizeTrialsConfig:
    """`ovmm localize --sim`: how many random poses to relocalise from and what counts as found."""

    trials: int = 1
    """Random free poses to relocalise from."""
    seed: int = 0
    """Seed of the random poses and the sensor noise."""
    success_m: float = 0.10
    """A pose within this distance (m) of the true one ..."""
    success_deg: float = 5.0
    """... and this heading error (degrees) is a success."""


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "localize", help="find the (simulated) robot's pose in a map by lidar scan matching",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--map", required=True, metavar="MAP", help="voxel map (.npz) or simulator scene (.json)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--sim", metavar="SCENE_JSON", help="the simulated home the robot is in")
    where.add_argument("--robot-host", metavar="HOST", help="host of `ovmm robot-server` (a real Stretch)")
    p.add_argument("--robot-port", type=port_number, default=RobotOptions.port, help="port of the robot server")
    add_key_file_option(p)
    add_insecure_option(p)
    add_config_options(p, LocalizeTrialsConfig, {"seed": Option(type=seed_number)}, only={"trials", "seed"})
    p.add_argument("--json", dest="json_out", metavar="OUT_JSON", help="write the results as JSON")
    p.set_defaults(func=run)


def scan_map_from_scene(spec) -> ScanMap:
    """A ScanMap from a scene's ground-truth occupancy at the lidar's band (free: cells a robot fits in)."""
    from sim.scene import ground_truth

    gt = ground_truth.occupancy_grid_full(spec, 0.05, height_band_m=GT_BAND_M)
    labels = ground_truth.free_components(gt, STRETCH.base_radius_m)
    free = gt.cell_to_world(np.argwhere(labels > 0))
    return ScanMap(gt.cell_to_world(np.argwhere(gt.obstacle)), free if len(free) else None)


def load_scan_map(path: Path) -> ScanMap:
    """A ScanMap from a voxel map (.npz) or a scene's ground truth (.json); InputError on bad input."""
    if not path.is_file():
        raise InputError(f"map {path} does not exist")
    if path.suffix == ".json":
        from sim.scene.spec import SceneSpec

        return scan_map_from_scene(SceneSpec.load(path))
    if path.suffix != ".npz":
        raise InputError(f"map {path} is neither a voxel map (.npz) nor a scene (.json)")
    from mapping.voxel_map import VoxelMap

    try:
        vmap = VoxelMap.load(path)
    except InputError:
        raise
    except Exception as exc:  # a truncated or foreign .npz
        raise InputError(f"map {path} cannot be read as a voxel map: {exc}") from None
    xyz, _, counts = vmap.occupancy_points()
    return scan_map_from_points(xyz, counts=counts)


def free_poses(spec, n: int, rng: np.random.Generator) -> list[Pose2D]:
    from sim.scene import ground_truth

    gt = ground_truth.occupancy_grid_full(spec, 0.05)
    labels = ground_truth.free_components(gt, STRETCH.base_radius_m)
    home = ground_truth.component_at(gt, labels, spec.robot_start.xy)
    cells = np.argwhere(labels == home) if home > 0 else np.argwhere(labels > 0)
    if len(cells) == 0:
        raise InputError(f"scene {spec.name!r} has no free floor for the robot")
    xy = gt.cell_to_world(cells[rng.integers(len(cells), size=n)])
    return [Pose2D(float(x), float(y), float(rng.uniform(-math.pi, math.pi))) for x, y in xy]


def localize_robot(args) -> int:
    """Localise the robot behind a robot server in the map (it may turn in place)."""
    from core.errors import RobotError
    from orchestrator.configs import RobotKind
    from orchestrator.localized_robot import LocalizedRobot
    from orchestrator.robot_factory import open_robot

    scan_map = load_scan_map(Path(args.map))
    options = RobotOptions(kind=RobotKind.STRETCH.value, host=args.robot_host, port=args.robot_port,
                           key_file=args.key_file, insecure_loopback=args.insecure_loopback)
    with open_robot(options) as robot:
        loc = LocalizedRobot(robot, scan_map)
        try:
            ans = loc.localise()
        except RobotError:
            ans = loc.log.last
            if ans is None:
                raise
    if ans.localised:
        p = ans.base_pose
        print(f"pose {p.x:.3f},{p.y:.3f},{p.theta:.4f} ({math.degrees(p.theta):.1f} deg) confidence "
              f"{ans.confidence:.2f}; registration (--map-registration) {','.join(f'{v:.4f}' for v in ans.map_T_odom.to_list())} "
              f"({ans.seconds:.2f} s, {loc.log.sweeps} camera sweeps)")
    else:
        print(f"not localised: {ans.reason}")
    if args.json_out:
        write_json_atomic(args.json_out, {"map": str(args.map), "robot": f"{args.robot_host}:{args.robot_port}",
                                          **ans.to_dict(), **{"localization": loc.log.to_dict()}})
    return 0 if ans.localised else 1


def run(args) -> int:
    if args.robot_host:
        check_output_folder(args.json_out, "--json")
        return localize_robot(args)
    cfg = config_from_args(LocalizeTrialsConfig, args)
    if cfg.trials < 1:
        raise InputError(f"--trials must be at least 1, got {cfg.trials}")
    check_output_folder(args.json_out, "--json")
    scene_path = Path(args.sim)
    if not scene_path.is_file():
        raise InputError(f"scene {scene_path} does not exist")
    scan_map = load_scan_map(Path(args.map))
    from sim.backends import make_world
    from sim.lidar import simulate_scan
    from sim.realism import LidarConfig
    from sim.scene.spec import SceneSpec

    spec = SceneSpec.load(scene_path)
    world = make_world(spec)
    rng = np.random.default_rng(cfg.seed)
    loc = Localizer(scan_map)
    trials = []
    for k, true in enumerate(free_poses(spec, cfg.trials, rng)):
        odom = Pose2D(float(rng.uniform(-5, 5)), float(rng.uniform(-5, 5)), float(rng.uniform(-math.pi, math.pi)))
        scan = simulate_scan(world, true, odom, LidarConfig(), rng, float(k))
        ans = loc.relocalise(scan, odom)
        row = {"true": true.to_list(), **ans.to_dict()}
        if ans.localised:
            e_m, e_deg = ans.base_pose.distance_to(true), math.degrees(abs(ans.base_pose.heading_error(true)))
            row.update(error_m=round(e_m, 4), error_deg=round(e_deg, 3),
                       success=e_m <= cfg.success_m and e_deg <= cfg.success_deg)
        else:
            row["success"] = False
        trials.append(row)
        if cfg.trials == 1:
            pose = "not localised" if not ans.localised else \
                f"pose {ans.base_pose.x:.3f},{ans.base_pose.y:.3f},{math.degrees(ans.base_pose.theta):.1f}deg"
            print(f"{pose} confidence {ans.confidence:.2f} {ans.reason} (true {true.x:.3f},{true.y:.3f},"
                  f"{math.degrees(true.theta):.1f}deg; {ans.seconds:.2f} s)")
    loc_rows = [t for t in trials if t["localised"]]
    summary = {
        "map": str(args.map), "scene": str(scene_path), "trials": len(trials), "seed": cfg.seed,
        "success_rate": sum(t["success"] for t in trials) / len(trials),
        "not_localised_rate": sum(not t["localised"] for t in trials) / len(trials),
        "confident_wrong_rate": sum(t["localised"] and not t["success"] for t in trials) / len(trials),
        "median_error_m": statistics.median(t["error_m"] for t in loc_rows) if loc_rows else None,
        "median_error_deg": statistics.median(t["error_deg"] for t in loc_rows) if loc_rows else None,
        "median_seconds": statistics.median(t["seconds"] for t in trials),
        "tolerance": {"m": cfg.success_m, "deg": cfg.success_deg},
    }
    print(f"localize: {summary['success_rate']:.0%} of {len(trials)} within {cfg.success_m} m / {cfg.success_deg:g} deg, "
          f"{summary['not_localised_rate']:.0%} not localised, {summary['confident_wrong_rate']:.0%} confident "
          f"wrong; median error {summary['median_error_m']} m / {summary['median_error_deg']} deg; "
          f"median {summary['median_seconds']:.2f} s per relocalisation")
    if args.json_out:
        write_json_atomic(args.json_out, {**summary, "results": trials})
    return 0

"""`ovmm scan SOURCE --out MAP` / `ovmm scan --sim scene.json --out MAP`: build a semantic voxel map.

SOURCE is an RGB-D capture (Record3D .r3d, TUM or Redwood/ICL folder); `--sim` scans a simulated scene
by frontier exploration from the robot start using only what the robot has seen (the default, `--explore`
or `--route explore`: orchestrator.exploration; `--report scan.json` and a picture of the explored map) or
along its ground-truth scan route (`--route ground-truth`). Perception options default from
perception.PerceptionConfig, map options from mapping.voxel_map.VoxelMapConfig. See docs/map.md.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace

from core.errors import InputError
from core.io import check_output_folder
from mapping.sources import CaptureConfig
from mapping.voxel_map import VoxelMapConfig
from orchestrator.commands.realism_flags import add_realism_option
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import RobotOptions, parse_camera_size
from orchestrator.exploration import ExplorationConfig
from orchestrator.localized_robot import LOCALIZE_CHOICES
from orchestrator.scanning import RobotScanConfig, SimScanDefaults
from perception.config import PIPELINES, SAM_MODEL_TYPES, PerceptionConfig, Pipeline


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan", help="build a semantic voxel map from an RGB-D capture or a simulated walkthrough",
        description="Build a semantic voxel map (.npz) from an RGB-D capture (Record3D .r3d, TUM or "
                    "Redwood/ICL folder) or, with --sim, from a simulated walkthrough of a scene.",
    )
    p.add_argument("source", nargs="?", help="capture file or folder (omit with --sim or --robot)")
    p.add_argument("--out", required=True, help="map file to write (.npz)")
    p.add_argument("--sim", metavar="SCENE_JSON",
                   help="scan this simulated scene instead (by exploring it, or --route ground-truth)")
    add_realism_option(p)
    ec = ExplorationConfig()
    g = p.add_argument_group("exploration (--sim, or --robot with --explore)")
    g.add_argument("--route", choices=ROUTES, default=None,
                   help="how a --sim scan drives: 'explore' (frontier exploration on the map seen so far, the "
                        "default) or 'ground-truth' (the scene's planned scan route)")
    g.add_argument("--explore", action="store_true",
                   help="same as --route explore (the default with --sim; with --robot: explore instead of --stops)")
    g.add_argument("--report", metavar="SCAN_JSON", default=None,
                   help="write the exploration report (explored area, path, frames, time, frontiers given up, "
                        "coverage of the true floor and objects) here")
    g.add_argument("--picture", metavar="PNG", default=None,
                   help="picture of the explored map, path and unknown areas (default: next to --out, .png)")
    g.add_argument("--max-time", type=float, default=ec.max_time_s,
                   help=f"exploration budget: wall-clock seconds (default {ec.max_time_s:g})")
    g.add_argument("--max-distance", type=float, default=ec.max_distance_m,
                   help=f"exploration budget: metres driven (default {ec.max_distance_m:g})")
    g.add_argument("--explore-pans", type=int, default=ec.num_pans,
                   help=f"head pans per look-around while exploring (default {ec.num_pans})")
    pc, cc = PerceptionConfig(), CaptureConfig()
    g = p.add_argument_group("perception")
    sd = SimScanDefaults()
    add_config_options(g, PerceptionConfig, {
        "pipeline": Option(flag="--perception", choices=PIPELINES,
                           help=f"pipeline (default: ground-truth with --sim, else {pc.pipeline})"),
        "detector_model": Option(flag="--detector"), "clip_model": Option(flag="--clip"),
        "sam_model_type": Option(choices=SAM_MODEL_TYPES), "vocabulary": Option(type=_words, metavar="WORDS"),
        "min_mask_pixels": Option(help=f"drop masks with fewer pixels (default {pc.min_mask_pixels}; ground-truth "
                                       f"--sim scans: {sd.min_mask_pixels_at_640x480} at 640x480, scaled with the "
                                       "image area)"),
    }, only={"pipeline", "detector_model", "clip_model", "sam_checkpoint", "sam_model_type", "text_encoder",
             "vocabulary", "detector_threshold", "min_mask_pixels", "device"},
        defaults=replace(pc, pipeline=None, vocabulary=None, min_mask_pixels=None))
    g = p.add_argument_group("map")
    add_config_options(g, VoxelMapConfig, {"voxel_size_m": Option(flag="--voxel-size"),
                                           "max_depth_m": Option(flag="--map-max-depth"),
                                           "mask_erode_px": Option(flag="--mask-erode")},
                       only={"voxel_size_m", "max_depth_m", "mask_erode_px"})
    g = p.add_argument_group("capture")
    g.add_argument("--max-depth", type=float, default=cc.max_depth_m,
                   help=f"capture reader: drop depth beyond this (m, default {cc.max_depth_m})")
    g.add_argument("--min-confidence", type=int, choices=(0, 1, 2), default=cc.min_confidence,
                   help=f"Record3D: keep depth with confidence >= this (default {cc.min_confidence})")
    g.add_argument("--max-frames", type=int, default=None,
                   help="scan only the first N frames (a capture), or the exploration's frame budget")
    g = p.add_argument_group("simulation")
    g.add_argument("--camera", default=None, metavar="WxH", help="simulated camera resolution (default 640x480)")
    g = p.add_argument_group("robot (a Stretch running `ovmm robot-server`)")
    g.add_argument("--robot", metavar="HOST", help="scan with the robot at HOST instead of a capture")
    g.add_argument("--robot-port", type=port_number, default=RobotOptions.port,
                   help=f"robot-server port (default {RobotOptions.port})")
    add_key_file_option(g)
    add_insecure_option(g)
    g.add_argument("--stops", default=None, metavar="X,Y[,T];...",
                   help="base positions (map frame) to look around from, in order (default: where it stands; "
                        "or --explore)")
    g.add_argument("--localize", choices=LOCALIZE_CHOICES, default=None,
                   help="--explore: correct the odometry by lidar scan matching against the scan map built while "
                        "it drives (a lost track stops it, map kept); auto: on for a Stretch (default auto)")
    g.add_argument("--scene", metavar="SCENE_JSON", default=None,
                   help="the scene a `robot-server --backend sim` serves: allows --perception ground-truth and "
                        "adds the coverage of its true floor and objects to the report")
    add_config_options(g, RobotScanConfig, {"num_pans": Option(flag="--pans"), "head_tilt": Option(flag="--tilt")})
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


ROUTES = ("ground-truth", "explore")


def _route(args) -> str:
    """'explore', 'ground-truth' or '' (a capture, or a robot scan at --stops): exploration is the default of
    a --sim scan; a robot explores only when asked (--explore)."""
    if args.explore and args.route == "ground-truth":
        raise InputError("--explore and --route ground-truth contradict each other")
    route = "explore" if args.explore else (args.route or ("explore" if args.sim else ""))
    if route == "explore" and args.source:
        raise InputError("--explore / --route explore drives a robot: give --sim scene.json or --robot HOST, "
                         "not a capture")
    if route == "explore" and args.stops:
        raise InputError("--stops lists where to look; --explore chooses where by itself: give one of them")
    if route == "ground-truth" and not args.sim:
        raise InputError("--route ground-truth follows a simulated scene's planned route: it needs --sim scene.json")
    if route != "explore":
        for flag, value in (("--report", args.report), ("--picture", args.picture)):
            if value is not None:
                raise InputError(f"{flag} describes an exploration: add --explore")
    return route


def _exploration_config(args) -> ExplorationConfig:
    from dataclasses import replace as _replace

    cfg = _replace(ExplorationConfig(), max_time_s=args.max_time, max_distance_m=args.max_distance,
                   num_pans=args.explore_pans,
                   max_frames=args.max_frames if args.max_frames is not None else ExplorationConfig().max_frames)
    cfg.validate()
    return cfg


class _ExploreProgress:
    """A progress bar of frames with the explored area and the frontiers left."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=None, unit="frame", desc="explore", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, p) -> None:
        if self.bar is not None:
            self.bar.n = p.frames
            self.bar.set_postfix_str(f"{p.explored_area_m2:.1f} m2 seen, {p.frontiers_left} frontiers left, "
                                     f"{p.path_length_m:.1f} m driven", refresh=False)
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _explore_sim(args, pcfg, mcfg) -> int:
    from pathlib import Path

    from orchestrator.exploration_sim import explore_sim_scene
    from orchestrator.scanning import with_camera
    from sim.config import SimConfig
    from sim.realism import load_realism

    ecfg = _exploration_config(args)
    picture = Path(args.picture) if args.picture else Path(args.out).with_suffix(".png")
    for flag, value in (("--report", args.report), ("--picture", picture)):
        if value is not None:
            check_output_folder(value, flag)
    progress = _ExploreProgress(not args.no_progress)
    try:
        sim_cfg = with_camera(SimConfig(), *_camera(args.camera))
        result = explore_sim_scene(args.sim, pcfg, mcfg, sim_config=sim_cfg, config=ecfg, on_progress=progress,
                                   realism=load_realism(args.realism))
    finally:
        progress.close()
    return _write_exploration(args, result.voxel_map, result.exploration, picture, Path(args.sim).stem)


def _write_exploration(args, vmap, result, picture, title: str) -> int:
    """Save the map (atomically), its picture and the report; print what was covered; the exit code."""
    from core.io import write_json_atomic
    from orchestrator.pictures_explore import save_exploration_png

    rep = result.report
    path = vmap.save(args.out)
    save_exploration_png(result, picture, title=title)
    if args.report:
        write_json_atomic(args.report, rep.to_dict())
    sim = rep.sim or {}
    print(f"map {path}: explored {rep.explored_area_m2:.1f} m2 in {rep.frames} frames, {rep.path_length_m:.1f} m "
          f"driven, {rep.time_s:.0f} s ({rep.stop_reason}); {len(vmap)} semantic and {len(vmap.occupancy)} occupied "
          f"voxels; picture {picture}")
    if sim.get("floor_coverage") is not None:
        print(f"coverage: {100 * sim['floor_coverage']:.1f}% of the reachable floor ({sim['reachable_floor_m2']} m2), "
              f"objects {sim['objects_seen']}/{sim['objects']} seen in >= {sim['min_object_frames']} frames")
    if rep.given_up or rep.unreachable:
        print(f"frontiers given up: {len(rep.given_up)}, unreachable: {len(rep.unreachable)}", file=sys.stderr)
    if rep.error:
        print(f"error: exploring stopped, the robot failed: {rep.error}; the map fused so far ({rep.frames} frames) "
              f"was written to {path}", file=sys.stderr)
        return 1
    if rep.interrupted:
        print(f"interrupted: the map fused so far ({rep.frames} frames) was written", file=sys.stderr)
        return 130
    return 0


def _explore_robot(args, pcfg, mcfg) -> int:
    """`--robot HOST --explore`: frontier exploration with a served Stretch (robots.client), localising in
    the scan map it builds as it drives unless --localize off."""
    from pathlib import Path

    from orchestrator.configs import RobotKind, RobotOptions
    from orchestrator.exploration import explore
    from orchestrator.exploration_sim import sim_coverage
    from orchestrator.localized_robot import LocalizedRobot, wants_localization
    from orchestrator.robot_factory import open_robot
    from orchestrator.run_task import scene_descriptions
    from orchestrator.scanning import describe_map, new_map
    from perception.composite import build_perception

    ecfg = _exploration_config(args)
    picture = Path(args.picture) if args.picture else Path(args.out).with_suffix(".png")
    for flag, value in (("--report", args.report), ("--picture", picture)):
        if value is not None:
            check_output_folder(value, flag)
    spec, descriptions = scene_descriptions(args.scene)
    perception = build_perception(pcfg, instance_descriptions=descriptions,
                                  instance_labels=spec.instance_labels() if spec is not None else None)
    source = f"robot:{args.robot}"
    vmap = new_map(perception, pcfg, mcfg, source)
    options = RobotOptions(kind=RobotKind.STRETCH.value, host=args.robot, port=args.robot_port,
                           key_file=args.key_file, insecure_loopback=args.insecure_loopback,
                           localize=args.localize or "auto")
    progress, stop_key = _ExploreProgress(not args.no_progress), _StopKey()
    try:
        with open_robot(options) as robot:
            driven = LocalizedRobot(robot, None) if wants_localization(options) else robot  # mapping mode
            stop_key.start()
            result = explore(driven, perception, vmap, ecfg, on_progress=progress, should_stop=stop_key)
    finally:
        progress.close()
    if driven is not robot:
        result.report.localization = driven.log.to_dict()
    if spec is not None:
        result.report.sim = sim_coverage(spec, result.occupancy, result.object_frames)
    describe_map(vmap, perception, {"kind": "robot", "name": source})
    return _write_exploration(args, vmap, result, picture, source)


class _StopKey:
    """Enter (a line on a terminal's stdin) asks the exploration to stop after the current frame or move."""

    def __init__(self) -> None:
        import threading

        self.pressed = threading.Event()

    def start(self) -> None:
        import threading

        if sys.stdin is not None and sys.stdin.isatty():
            print("exploring: press Enter (or Ctrl-C) to stop and keep the map", file=sys.stderr)
            threading.Thread(target=self._wait, name="explore-stop-key", daemon=True).start()

    def _wait(self) -> None:
        try:
            sys.stdin.readline()
        except (OSError, ValueError):
            return
        self.pressed.set()

    def __call__(self) -> bool:
        return self.pressed.is_set()


def _perception_config(args) -> PerceptionConfig:
    pipeline = args.pipeline or (Pipeline.GROUND_TRUTH.value if args.sim else PerceptionConfig().pipeline)
    if Pipeline(pipeline).needs_scene and not (args.sim or args.scene):
        raise InputError("the ground-truth perception pipeline needs a simulated scene (--sim scene.json, or "
                         "--scene scene.json with a robot-server --backend sim)")
    min_px = args.min_mask_pixels
    if min_px is None:
        if Pipeline(pipeline).needs_scene:
            from orchestrator.scanning import sim_perception_config

            w, h = _camera(args.camera)
            min_px = sim_perception_config(w or 640, h or 480).min_mask_pixels
        else:
            min_px = PerceptionConfig().min_mask_pixels
    if args.vocabulary == ():
        raise InputError("--vocabulary is empty")
    cfg = config_from_args(PerceptionConfig, args, pipeline=pipeline, min_mask_pixels=min_px,
                           vocabulary=args.vocabulary or PerceptionConfig.vocabulary)
    cfg.validate()
    return cfg


def _map_config(args) -> VoxelMapConfig:
    cfg = config_from_args(VoxelMapConfig, args)
    if not (math.isfinite(cfg.voxel_size_m) and 0.005 <= cfg.voxel_size_m <= 1.0):
        raise InputError(f"--voxel-size must be between 0.005 and 1 m, got {cfg.voxel_size_m}")
    if not cfg.max_depth_m > 0.1:
        raise InputError(f"--map-max-depth must be above 0.1 m, got {cfg.max_depth_m}")
    if cfg.mask_erode_px < 0:
        raise InputError(f"--mask-erode must be >= 0, got {cfg.mask_erode_px}")
    return cfg


def _words(text: str) -> tuple[str, ...]:
    """Comma-separated words, e.g. 'mug,bowl,kitchen table'."""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _camera(text: str | None) -> tuple[int | None, int | None]:
    return (None, None) if text is None else parse_camera_size(text, "--camera")


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, total: int) -> None:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="frame", desc="scan", file=sys.stderr, dynamic_ncols=True)

    def frame(self, n, frame, observations) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(objects=len(observations), refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _stops(text: str | None):
    from core.types import Pose2D

    if not text:
        return None
    try:
        return [Pose2D.parse(part.strip()) for part in text.split(";") if part.strip()]
    except ValueError as exc:
        raise InputError(f"--stops: {exc}") from None


def _scan_robot(args, pcfg, mcfg, progress):
    from orchestrator.configs import RobotKind, RobotOptions
    from orchestrator.robot_factory import open_robot
    from orchestrator.scanning import scan_robot

    stops = _stops(args.stops)
    cfg = config_from_args(RobotScanConfig, args)
    options = RobotOptions(kind=RobotKind.STRETCH.value, host=args.robot, port=args.robot_port,
                           key_file=args.key_file, insecure_loopback=args.insecure_loopback)
    from orchestrator.run_task import scene_descriptions

    _, descriptions = scene_descriptions(args.scene)
    with open_robot(options) as robot:
        return scan_robot(robot, pcfg, mcfg, stops, cfg, descriptions, source=f"robot:{args.robot}",
                          on_start=progress.start, on_frame=progress.frame)


def run(args: argparse.Namespace) -> int:
    from orchestrator.scanning import scan_capture, scan_sim_scene, with_camera

    if sum(bool(x) for x in (args.source, args.sim, args.robot)) != 1:
        raise InputError("give exactly one of a capture (SOURCE), --sim scene.json or --robot HOST")
    route = _route(args)
    if args.scene and not args.robot:
        raise InputError("--scene names the scene a robot-server --backend sim serves: it goes with --robot HOST "
                         "(a --sim scan reads its scene from --sim)")
    if args.localize and not (args.robot and route == "explore"):
        raise InputError("--localize is for --robot HOST --explore (a --stops scan looks where it is told)")
    if args.max_frames is not None and not args.source and route != "explore":
        raise InputError("--max-frames limits a capture or an exploration; a --sim or --robot scan follows its "
                         "route (use --stops for a robot, or a smaller scene)")
    check_output_folder(args.out, "--out")
    pcfg = _perception_config(args)
    mcfg = _map_config(args)
    if route == "explore":
        return _explore_robot(args, pcfg, mcfg) if args.robot else _explore_sim(args, pcfg, mcfg)
    progress = _Progress(not args.no_progress)
    try:
        if args.robot:
            result = _scan_robot(args, pcfg, mcfg, progress)
        elif args.sim:
            from sim.config import SimConfig
            from sim.realism import load_realism

            sim_cfg = with_camera(SimConfig(), *_camera(args.camera))
            result = scan_sim_scene(args.sim, pcfg, mcfg, sim_config=sim_cfg, on_start=progress.start,
                                    on_frame=progress.frame, realism=load_realism(args.realism))
        else:
            if args.max_frames is not None and args.max_frames < 1:
                raise InputError(f"--max-frames must be at least 1, got {args.max_frames}")
            ccfg = CaptureConfig(max_depth_m=args.max_depth, min_confidence=args.min_confidence)
            result = scan_capture(args.source, pcfg, mcfg, capture_config=ccfg, on_start=progress.start,
                                  on_frame=progress.frame, max_frames=args.max_frames)
    finally:
        progress.close()
    vmap = result.voxel_map
    path = vmap.save(args.out)
    s = result.stats
    print(f"map {path}: {s.frames} frames, {s.observations} object observations, {len(vmap)} semantic and "
          f"{len(vmap.occupancy)} occupied voxels ({vmap.voxel_size:g} m), features {vmap.metadata.embedding_model_id}"
          f"; fusion {s.fusion_fps:.1f} frames/s")
    if result.failed_moves:
        print(f"warning: {result.failed_moves} scan stops were not reached", file=sys.stderr)
    return 0

"""`ovmm scan SOURCE --out MAP` / `ovmm scan --sim scene.json --out MAP`: build a semantic voxel map.

SOURCE is an RGB-D capture (Record3D .r3d, TUM or Redwood/ICL folder); `--sim` scans a simulated scene
along its scan route instead. Perception options default from perception.PerceptionConfig, map options from
mapping.voxel_map.VoxelMapConfig. See docs/map.md.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace

from core.errors import InputError
from mapping.sources import CaptureConfig
from mapping.voxel_map import VoxelMapConfig
from orchestrator.commands.realism_flags import add_realism_option
from orchestrator.commands.robot_flags import add_insecure_option, add_key_file_option, port_number
from orchestrator.configs import parse_camera_size
from orchestrator.scanning import RobotScanConfig, SimScanDefaults
from perception.config import PIPELINES, PerceptionConfig, Pipeline


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "scan", help="build a semantic voxel map from an RGB-D capture or a simulated walkthrough",
        description="Build a semantic voxel map (.npz) from an RGB-D capture (Record3D .r3d, TUM or "
                    "Redwood/ICL folder) or, with --sim, from a simulated walkthrough of a scene.",
    )
    p.add_argument("source", nargs="?", help="capture file or folder (omit with --sim or --robot)")
    p.add_argument("--out", required=True, help="map file to write (.npz)")
    p.add_argument("--sim", metavar="SCENE_JSON", help="scan this simulated scene along its scan route instead")
    add_realism_option(p)
    pc, mc, cc = PerceptionConfig(), VoxelMapConfig(), CaptureConfig()
    g = p.add_argument_group("perception")
    g.add_argument("--perception", choices=PIPELINES, default=None,
                   help=f"pipeline (default: ground-truth with --sim, else {pc.pipeline})")
    g.add_argument("--detector", default=pc.detector_model, help="OWL-ViT/OWLv2 hub id or local directory")
    g.add_argument("--clip", default=pc.clip_model, help="CLIP hub id or local directory (owl-sam-clip)")
    g.add_argument("--sam-checkpoint", default=pc.sam_checkpoint, help="SAM / MobileSAM checkpoint file")
    g.add_argument("--sam-model-type", default=pc.sam_model_type, help="vit_t (MobileSAM), vit_b, vit_l, vit_h")
    g.add_argument("--text-encoder", default=pc.text_encoder, help="sentence encoder (ground-truth pipeline)")
    g.add_argument("--vocabulary", default=None,
                   help="comma-separated detector vocabulary (default: the built-in household list)")
    g.add_argument("--detector-threshold", type=float, default=pc.detector_threshold,
                   help=f"minimum detection score (default {pc.detector_threshold})")
    sd = SimScanDefaults()
    g.add_argument("--min-mask-pixels", type=int, default=None,
                   help=f"drop masks with fewer pixels (default {pc.min_mask_pixels}; ground-truth --sim scans: "
                        f"{sd.min_mask_pixels_at_640x480} at 640x480, scaled with the image area)")
    g.add_argument("--device", default=pc.device, help="cpu, cuda, cuda:N or auto")
    g = p.add_argument_group("map")
    g.add_argument("--voxel-size", type=float, default=mc.voxel_size_m, help=f"metres (default {mc.voxel_size_m})")
    g.add_argument("--map-max-depth", type=float, default=mc.max_depth_m,
                   help=f"fuse depth up to this (m, default {mc.max_depth_m})")
    g.add_argument("--mask-erode", type=int, default=mc.mask_erode_px,
                   help=f"erode object masks by this many pixels (default {mc.mask_erode_px})")
    g = p.add_argument_group("capture")
    g.add_argument("--max-depth", type=float, default=cc.max_depth_m,
                   help=f"capture reader: drop depth beyond this (m, default {cc.max_depth_m})")
    g.add_argument("--min-confidence", type=int, choices=(0, 1, 2), default=cc.min_confidence,
                   help=f"Record3D: keep depth with confidence >= this (default {cc.min_confidence})")
    g.add_argument("--max-frames", type=int, default=None, help="scan only the first N frames")
    g = p.add_argument_group("simulation")
    g.add_argument("--camera", default=None, metavar="WxH", help="simulated camera resolution (default 640x480)")
    rc = RobotScanConfig()
    g = p.add_argument_group("robot (a Stretch running `ovmm robot-server`)")
    g.add_argument("--robot", metavar="HOST", help="scan with the robot at HOST instead of a capture")
    g.add_argument("--robot-port", type=port_number, default=5555, help="robot-server port (default 5555)")
    add_key_file_option(g)
    add_insecure_option(g)
    g.add_argument("--stops", default=None, metavar="X,Y[,T];...",
                   help="base positions (map frame) to look around from, in order (default: where it stands)")
    g.add_argument("--pans", type=int, default=rc.num_pans, help=f"head pans per stop (default {rc.num_pans})")
    g.add_argument("--tilt", type=float, default=rc.head_tilt, help=f"head tilt, rad (default {rc.head_tilt})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _perception_config(args) -> PerceptionConfig:
    pipeline = args.perception or (Pipeline.GROUND_TRUTH.value if args.sim else PerceptionConfig().pipeline)
    if Pipeline(pipeline).needs_scene and not args.sim:
        raise InputError("the ground-truth perception pipeline needs a simulated scene (--sim scene.json)")
    min_px = args.min_mask_pixels
    if min_px is None:
        if Pipeline(pipeline).needs_scene:
            from orchestrator.scanning import sim_perception_config

            w, h = _camera(args.camera)
            min_px = sim_perception_config(w or 640, h or 480).min_mask_pixels
        else:
            min_px = PerceptionConfig().min_mask_pixels
    cfg = PerceptionConfig(pipeline=pipeline, detector_model=args.detector, clip_model=args.clip,
                           sam_checkpoint=args.sam_checkpoint, sam_model_type=args.sam_model_type,
                           text_encoder=args.text_encoder, detector_threshold=args.detector_threshold,
                           min_mask_pixels=min_px, device=args.device)
    if args.vocabulary:
        words = tuple(w.strip() for w in args.vocabulary.split(",") if w.strip())
        if not words:
            raise InputError("--vocabulary is empty")
        cfg = replace(cfg, vocabulary=words)
    cfg.validate()
    return cfg


def _map_config(args) -> VoxelMapConfig:
    if not (math.isfinite(args.voxel_size) and 0.005 <= args.voxel_size <= 1.0):
        raise InputError(f"--voxel-size must be between 0.005 and 1 m, got {args.voxel_size}")
    if not args.map_max_depth > 0.1:
        raise InputError(f"--map-max-depth must be above 0.1 m, got {args.map_max_depth}")
    if args.mask_erode < 0:
        raise InputError(f"--mask-erode must be >= 0, got {args.mask_erode}")
    return VoxelMapConfig(voxel_size_m=args.voxel_size, max_depth_m=args.map_max_depth, mask_erode_px=args.mask_erode)


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
    cfg = RobotScanConfig(num_pans=args.pans, head_tilt=args.tilt)
    options = RobotOptions(kind=RobotKind.STRETCH.value, host=args.robot, port=args.robot_port,
                           key_file=args.key_file, insecure_loopback=args.insecure_loopback)
    with open_robot(options) as robot:
        return scan_robot(robot, pcfg, mcfg, stops, cfg, source=f"robot:{args.robot}", on_start=progress.start,
                          on_frame=progress.frame)


def run(args: argparse.Namespace) -> int:
    from orchestrator.scanning import scan_capture, scan_sim_scene, with_camera

    if sum(bool(x) for x in (args.source, args.sim, args.robot)) != 1:
        raise InputError("give exactly one of a capture (SOURCE), --sim scene.json or --robot HOST")
    if args.max_frames is not None and not args.source:
        raise InputError("--max-frames limits a capture; a --sim or --robot scan follows its route (use --stops "
                         "for a robot, or a smaller scene)")
    from core.io import check_output_folder

    check_output_folder(args.out, "--out")
    pcfg = _perception_config(args)
    mcfg = _map_config(args)
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

"""`ovmm plan MAP --from x,y[,yaw] --to TARGET [--png plan.png] [--json plan.json]`: plan a base motion.

MAP is a saved voxel map (`ovmm scan` output, .npz) or a simulator scene (.json, format ovmm-scene: its
ground-truth occupancy and object descriptions are used). TARGET is
- "x,y": drive to that position (final heading: --yaw);
- "x,y,z": a 3D point for the arm: pick a base pose from which the side arm reaches it, and drive there;
- any other text: a map query ("blue mug"); its best hit is the arm target (with --surface, any point
  of the hit's top surface, for placing).
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io import check_output_folder, write_json_atomic
from core.types import Pose2D
from mapping.obstacles import ObstacleGrid, ObstacleGridConfig
from navigation.navigator import NavigationConfig, NavigationError, Navigator
from navigation.occupancy import OccupancyConfig, obstacle_grid_from_mask
from navigation.plot import draw_plan
from orchestrator.config_options import Option, add_config_options
from orchestrator.map_command_configs import PlanCommandConfig


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "plan",
        help="plan a path (and a base pose for the arm) on a map",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("map", help="a voxel map (.npz from `ovmm scan`) or a simulator scene (.json)")
    add_config_options(p, PlanCommandConfig, {"start": Option(flag="--from", metavar="X,Y[,YAW]"),
                                               "target": Option(flag="--to", required=True, metavar="TARGET"),
                                               "json_out": Option(flag="--json", metavar="PLAN_JSON")})
    p.set_defaults(func=run)


def _parse_numbers(text: str) -> list[float] | None:
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        return None
    return vals if all(math.isfinite(v) for v in vals) else None


def _band(text: str) -> tuple[float, float]:
    vals = _parse_numbers(text)
    if vals is None or len(vals) != 2 or not vals[0] < vals[1]:
        raise InputError(f"--height-band must be 'lo,hi' in metres with lo < hi, got {text!r}")
    return vals[0], vals[1]


class _Scene:
    """A simulator scene as a map: ground-truth occupancy + instance descriptions."""

    def __init__(self, path: Path, occ_cfg: OccupancyConfig):
        from sim.scene.ground_truth import occupancy_grid
        from sim.scene.spec import SceneSpec

        self.spec = SceneSpec.load(path)
        obstacle, origin, res = occupancy_grid(self.spec, occ_cfg.resolution_m, occ_cfg.height_band_m)
        self.grid = obstacle_grid_from_mask(obstacle, origin, res)
        self.name = path.name

    def lookup(self, text: str, surface: bool, threshold: float | None = None
               ) -> tuple[np.ndarray, np.ndarray | None, str]:
        from mapping.calibration import default_calibration
        from perception.text_encoder import SentenceEncoder
        from perception.vocabulary import ensemble_features, instance_text
        from sim.scene.ground_truth import receptacle_footprint_world
        from sim.scene.mesh_io import load_object_mesh

        items = [(o.description, o) for o in self.spec.objects] + [(r.description, r) for r in self.spec.receptacles]
        enc = SentenceEncoder()
        feats = ensemble_features(enc.encode_text, [instance_text(d, item.label) for d, item in items])
        sims = feats @ enc.encode_text([text])[0]
        thr = default_calibration(enc.embedding_model_id).threshold if threshold is None else threshold
        order = np.argsort(-sims)
        if sims[order[0]] < thr:
            best = ", ".join(f"{items[k][0]} ({sims[k]:.2f})" for k in order[:3])
            raise InputError(f"nothing in the scene {self.name} matches {text!r}: the best are {best}, below the "
                             f"threshold {thr:.2f}")
        desc, item = items[int(order[0])]
        if hasattr(item, "position"):
            lo, hi = load_object_mesh(item, self.spec.base_dir).bounds
            centre = np.asarray(item.position, np.float64)
            extent = np.asarray(hi) - np.asarray(lo)
        else:
            corners = receptacle_footprint_world(item)
            top = max(s.pos[2] for s in item.surfaces) if item.surfaces else 0.5
            centre = np.array([*(corners.min(0) + corners.max(0)) / 2, top])
            extent = np.array([*(corners.max(0) - corners.min(0)), 0.0])
        if surface:
            return np.array([centre[0], centre[1], centre[2] + extent[2] / 2]), extent, desc
        return centre, None, f"{desc} (similarity {float(sims.max()):.2f})"


class _Map:
    """A saved voxel map: its obstacle grid and text queries."""

    def __init__(self, path: Path, occ_cfg: OccupancyConfig, min_hits: int):
        from mapping.voxel_map import VoxelMap

        self.vmap = VoxelMap.load(path)
        cfg = ObstacleGridConfig(resolution_m=occ_cfg.resolution_m, obstacle_band_m=occ_cfg.height_band_m,
                                 floor_band_m=occ_cfg.floor_band_m)
        self.grid: ObstacleGrid = self.vmap.obstacle_grid(cfg, min_hits=min_hits)
        self.name = path.name

    def lookup(self, text: str, surface: bool, threshold: float | None = None
               ) -> tuple[np.ndarray, np.ndarray | None, str]:
        from mapping.calibration import threshold_of
        from mapping.map_encoder import load_query_encoder

        hits = self.vmap.query_text(text, load_query_encoder(self.vmap))
        threshold = threshold_of(self.vmap) if threshold is None else threshold
        if not hits or hits[0].score < threshold:
            best = f" (best: {hits[0].name or 'a match'} at {hits[0].score:.2f} < threshold {threshold:.2f})" if hits else ""
            raise InputError(f"nothing matching {text!r} was found in the map {self.name}{best}")
        hit = hits[0]
        centre = np.asarray(hit.center, np.float64)
        name = hit.description or text
        if surface:
            return np.array([centre[0], centre[1], float(hit.hi[2])]), np.asarray(hit.extent), name
        return centre, None, f"{name} (score {hit.score:.2f})"


def run(args: argparse.Namespace) -> int:
    path = Path(args.map)
    if path.suffix != ".json":
        from mapping.map_files import map_path

        path = map_path(path)
    elif not path.exists():
        raise InputError(f"scene {path} does not exist")
    occ_cfg = replace(OccupancyConfig(), resolution_m=args.resolution, height_band_m=_band(args.height_band),
                      robot_radius_m=args.robot_radius, unknown_is_blocked=not args.unknown_free)
    if not args.resolution > 0 or not args.robot_radius >= 0:
        raise InputError("--resolution must be positive and --robot-radius non-negative")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise InputError(f"--threshold must be a number, got {args.threshold}")
    check_output_folder(args.png, "--png")
    check_output_folder(args.json_out, "--json")
    source = _Scene(path, occ_cfg) if path.suffix == ".json" else _Map(path, occ_cfg, args.min_hits)
    if args.start is not None:
        try:
            start = Pose2D.parse(args.start)
        except ValueError as exc:
            raise InputError(f"--from: {exc}") from exc
    elif isinstance(source, _Scene):
        start = source.spec.robot_start
    else:
        raise InputError("--from x,y[,yaw] is required for a voxel map (the robot's pose)")

    nav = Navigator(NavigationConfig(occupancy=occ_cfg))
    numbers = _parse_numbers(args.target)
    target_xyz = None
    if numbers is not None and len(numbers) == 2:
        yaw = args.yaw if args.yaw is not None else start.theta
        label = f"({numbers[0]:.2f}, {numbers[1]:.2f})"
        result = nav.plan_to_pose(source.grid, start, Pose2D(numbers[0], numbers[1], yaw))
    else:
        if numbers is not None and len(numbers) == 3:
            target_xyz, extent, label = np.asarray(numbers), None, "point"
        elif numbers is not None:
            raise InputError(f"--to takes 'x,y', 'x,y,z' or a text query, got {args.target!r}")
        else:
            target_xyz, extent, label = source.lookup(args.target, args.surface, args.threshold)
        result = nav.plan_to_target(source.grid, start, target_xyz, extent)

    print(f"map {source.name}: {source.grid.shape[1]}x{source.grid.shape[0]} cells of {source.grid.resolution_m} m")
    print(f"target: {label}" + ("" if target_xyz is None else f" at ({target_xyz[0]:.2f}, {target_xyz[1]:.2f}, {target_xyz[2]:.2f})"))
    if result.success:
        bg = result.base_goal
        if bg is not None:
            print(f"base goal: x={bg.pose.x:.2f} y={bg.pose.y:.2f} yaw={bg.pose.theta:.2f} ({bg.mode} wrist, "
                  f"lift {bg.joints.lift_m:.2f} m, arm {bg.joints.arm_m:.2f} m, score {bg.score:.2f})")
        print(f"path: {result.length_m:.2f} m, {len(result.waypoints)} waypoints, planned in "
              f"{1e3 * result.timing_s.get('total', 0.0):.0f} ms")
        for w in result.waypoints:
            print(f"  {w.x:.2f},{w.y:.2f},{w.theta:.2f}")
    if args.png:
        draw_plan(nav.occupancy(source.grid, start), result, args.png, target_xyz, title=f"{source.name}: {label}")
        print(f"wrote {args.png}")
    if args.json_out:
        write_json_atomic(args.json_out, result.to_dict())
        print(f"wrote {args.json_out}")
    if not result.success:
        raise NavigationError(result.reason)
    return 0


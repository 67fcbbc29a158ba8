"""Realism benchmark: each noise model of the `realistic` profile (sim.realism) measured against its spec.

- depth: error (bias, RMS) against distance of the D435 model on a textured plane, next to the stereo formula
  Z^2 * subpixel / (f * baseline) and the 2% bias;
- odometry: drift of the true pose from the reported one after a 19.2 m drive with twelve 90 degree turns
  (the odometry model over the commanded path, so no wall stops it), over several seeds;
- lidar: range error of the simulated RPLidar A1 against exact MuJoCo ray-cast ranges from the same pose;
- perception: miss and false-positive rates of the instance-id model on frames rendered in the example room
  (per instance, large vs small, and frames with a spurious detection).
Prints one JSON object.

    .venv/bin/python benchmarks/realism.py [--seeds 5] [--frames 200]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.types import Pose2D  # noqa: E402
from sim.backends import load_world  # noqa: E402
from sim.lidar import true_ranges  # noqa: E402
from sim.realism import RealismConfig  # noqa: E402
from sim.realism_depth import noisy_depth, stereo_rms_m  # noqa: E402
from sim.realism_perception import noisy_instances, scaled_pixels  # noqa: E402
from sim.robot import SimRobot  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "sim" / "data" / "example_scene.json"


def depth_vs_distance(cfg: RealismConfig, rng: np.random.Generator) -> list[dict]:
    out = []
    rgb = rng.integers(60, 255, size=(240, 320, 3), dtype=np.uint8)  # textured, not dark
    for z in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0):
        depth = np.full((240, 320), z, dtype=np.float32)
        d = noisy_depth(depth, rgb, cfg.depth, rng, bias_sign=1.0)
        e = d[d > 0] - z
        out.append({"distance_m": z, "bias_m": round(float(e.mean()), 5), "rms_about_bias_m": round(float(e.std()), 5),
                    "model_rms_m": round(float(stereo_rms_m(z, cfg.depth)), 5),
                    "model_bias_m": round(cfg.depth.bias_frac * z, 5),
                    "valid_fraction": round(float((d > 0).mean()), 4)})
    return out


def odometry_drift(seeds: int) -> dict:
    """The odometry model alone over the commanded path (no scene to block it): 12 legs of 1.6 m with a 90
    degree turn after each (19.2 m), at the simulated base's speeds (0.3 m/s, 0.6 rad/s) for the random walk."""
    from sim.realism_odometry import OdometryModel, compose

    cfg = RealismConfig.realistic().odometry
    side, legs = 1.6, 12
    drifts, heading = [], []
    for s in range(seeds):
        model = OdometryModel(cfg, np.random.default_rng(100 + s), Pose2D(0, 0, 0))
        true = Pose2D(0.0, 0.0, 0.0)
        for _ in range(legs):
            goal = compose(model.reported(true), Pose2D(side, 0.0, math.pi / 2))
            true = model.true_goal(true, goal)
            model.walk(true, side / 0.3 + (math.pi / 2) / 0.6)
        odom = model.reported(true)
        drifts.append(true.distance_to(odom))
        heading.append(math.degrees(abs(math.remainder(true.theta - odom.theta, 2 * math.pi))))
    return {"drive_m": round(legs * side, 1), "turns_deg": 90 * legs, "seeds": seeds,
            "position_drift_m": {"mean": round(float(np.mean(drifts)), 3), "median": round(float(np.median(drifts)), 3),
                                 "max": round(float(np.max(drifts)), 3)},
            "position_drift_percent_of_distance": round(100 * float(np.mean(drifts)) / (legs * side), 2),
            "heading_drift_deg": {"mean": round(float(np.mean(heading)), 2), "max": round(float(np.max(heading)), 2)}}


def lidar_error(seeds: int) -> dict:
    world = load_world(EXAMPLE)
    cfg = RealismConfig.realistic()
    near, far = [], []
    try:
        for s in range(seeds):
            with SimRobot(world, cfg.with_seed(200 + s)) as robot:
                scan = robot.observe().scan
                truth = true_ranges(world, robot.true_base_pose(), cfg.lidar)
                ok = np.isfinite(scan.ranges_m) & np.isfinite(truth)
                e = scan.ranges_m[ok] - truth[ok]
                far += list(e[truth[ok] > 1.5] / truth[ok][truth[ok] > 1.5])
                near += list(e[truth[ok] <= 1.5])
    finally:
        world.close()
    return {"rays": len(near) + len(far), "beyond_1_5_m_relative_rms": round(float(np.std(far)), 5),
            "beyond_1_5_m_relative_bias": round(float(np.mean(far)), 5), "spec_relative": cfg.lidar.resolution_frac,
            "within_1_5_m_rms_m": round(float(np.std(near)), 5) if near else None,
            "beams": int(round(cfg.lidar.fov_deg / cfg.lidar.step_deg))}


def perception_rates(frames: int, rng: np.random.Generator) -> dict:
    cfg = RealismConfig.realistic().perception
    world = load_world(EXAMPLE)
    try:
        with SimRobot(world) as robot:
            views = []
            for pan in (-1.0, 0.0, 1.0):
                robot.set_head(pan, -0.6)
                views.append(robot.observe().frame.instance_ids)
        pool = np.unique(world.geom_instance)
        pool = pool[pool > 0]
    finally:
        world.close()
    seen = {"large": [0, 0], "small": [0, 0]}
    fp_frames = 0
    for k in range(frames):
        ids = views[k % len(views)]
        out = noisy_instances(ids, cfg, rng, pool)
        present = {int(i): int((ids == i).sum()) for i in np.unique(ids) if i > 0}
        small_px, jitter_px, shift_px = scaled_pixels(cfg, ids.shape)
        for inst, n in present.items():
            kind = "small" if n < small_px else "large"
            seen[kind][1] += 1
            seen[kind][0] += not np.any(out[ids == inst] == inst)
        far = ndimage.distance_transform_edt(ids == 0) > jitter_px + shift_px + 1
        fp_frames += bool(np.any(out[far] > 0))
    return {"frames": frames,
            "miss_rate_large": round(seen["large"][0] / max(seen["large"][1], 1), 3), "spec_large": cfg.miss_rate,
            "miss_rate_small": round(seen["small"][0] / max(seen["small"][1], 1), 3), "spec_small": cfg.small_miss_rate,
            "instances_seen": {k: v[1] for k, v in seen.items()},
            "frames_with_a_detection_away_from_every_instance": round(fp_frames / frames, 3),
            "spec_false_positive_rate": cfg.false_positive_rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    cfg = RealismConfig.realistic()
    out = {"profile": cfg.to_dict(), "depth": depth_vs_distance(cfg, rng), "odometry": odometry_drift(args.seeds),
           "lidar": lidar_error(args.seeds), "perception": perception_rates(args.frames, rng)}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

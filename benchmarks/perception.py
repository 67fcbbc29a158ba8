"""Perception latency and MobileSAM mask quality; prints one JSON object.

Stages (median seconds per frame over --repeats): MobileSAM image encoder and box decoder (real weights),
OWL-ViT detection and CLIP masked-crop embedding (tiny random models by default, or real ones with
--detector-model / --clip-model), the whole owl-sam-clip composite, and ground-truth perception (real MiniLM)
with language segmentation, on rendered simulator frames. Runs on CPU, and also on CUDA when a GPU is present
(--device auto) or asked for (--device cuda). Also reports MobileSAM's box-prompted mask IoU against the
simulator's instance masks.

    .venv/bin/python benchmarks/perception.py --quick
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MUJOCO_GL", "egl")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.types import CameraIntrinsics, RGBDFrame  # noqa: E402
from perception.composite import GroundTruthPipeline, ModelPerception  # noqa: E402
from perception.config import PerceptionConfig, default_sam_checkpoint  # noqa: E402
from perception.detector import OwlDetector  # noqa: E402
from perception.embedder import ClipEmbedder  # noqa: E402
from perception.ground_truth import GroundTruthPerception  # noqa: E402
from perception.segmenter import BoxSegmenter  # noqa: E402
from perception.text_encoder import SentenceEncoder  # noqa: E402


def _median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 4)


def _sim_views(seed: int, width: int, height: int):
    from fixtures.sim_views import object_views
    from sim.backends import make_world
    from sim.scene.generator import generate_scene

    spec = generate_scene(seed)
    world = make_world(spec)
    intr = CameraIntrinsics.from_fov(width, height, math.radians(58.0))
    views = object_views(world, spec, intr, max_objects=24)
    world.close()
    return spec, views, intr


def _tiny_models(root: Path) -> dict[str, Path]:
    from fixtures.tiny_models import save_tiny_clip, save_tiny_owlvit

    return {"owlvit": save_tiny_owlvit(root / "owlvit"), "clip": save_tiny_clip(root / "clip")}


def bench_device(device: str, args, spec, views, intr, models: dict[str, str]) -> dict:
    r = args.repeats
    v = views[0]
    frame = RGBDFrame(rgb=v.rgb, depth_m=v.depth_m, intrinsics=intr, T_world_cam=v.T_world_cam,
                      instance_ids=v.instance_ids)
    boxes = np.array([b for *_, b in v.objects], np.float32)
    out: dict = {"boxes_per_frame": int(len(boxes))}

    sam = BoxSegmenter(args.sam_checkpoint, "vit_t", device=device)

    def encode():
        sam._image = None  # force the encoder (it is skipped for a repeated identical image)
        sam.set_image(v.rgb)

    encode()  # warm-up
    out["mobile_sam_encoder_s"] = _median_time(encode, r)
    out["mobile_sam_decoder_s"] = _median_time(lambda: sam.segment_boxes(boxes), r)

    det = OwlDetector(models["detector"], device=device, score_threshold=0.0, max_detections=10)
    cfg = PerceptionConfig(pipeline="owl-sam-clip", device=device, detector_model=models["detector"],
                           clip_model=models["clip"], sam_checkpoint=args.sam_checkpoint, detector_threshold=0.0,
                           max_detections=10, min_mask_pixels=20)
    queries = [cfg.query_template.format(w) for w in cfg.vocabulary]
    det.detect(v.rgb, queries)
    out["owl_detect_s"] = _median_time(lambda: det.detect(v.rgb, queries), r)
    out["owl_queries"] = len(queries)
    clip = ClipEmbedder(models["clip"], device=device)
    masks = np.stack([m for _, _, m, _ in v.objects])
    clip.encode_masked(v.rgb, masks)
    out["clip_masked_crops_s"] = _median_time(lambda: clip.encode_masked(v.rgb, masks), r)
    pipeline = ModelPerception(cfg, det, sam, clip)

    def composite():
        sam._image = None
        pipeline.observe(frame)

    out["owl_sam_clip_frame_s"] = _median_time(composite, r)

    enc = SentenceEncoder(device=device)
    gt = GroundTruthPipeline(cfg, GroundTruthPerception(spec.instance_descriptions(), enc, 200))
    gt.observe(frame)
    out["ground_truth_frame_s"] = _median_time(lambda: gt.observe(frame), r)
    phrase = v.objects[0][0]
    out["ground_truth_language_seg_s"] = _median_time(lambda: gt.segment_text(frame, phrase), r)
    return out


def sam_quality(args, views) -> dict:
    sam = BoxSegmenter(args.sam_checkpoint, "vit_t", device="cpu")
    ious = []
    for v in views:
        res = sam.segment(v.rgb, np.array([b for *_, b in v.objects], np.float32))
        for (_, _, gt, _), m in zip(v.objects, res.masks, strict=True):
            ious.append(float((m & gt).sum() / (m | gt).sum()))
    a = np.array(ious)
    return {"objects": len(a), "images": len(views), "mean_iou": round(float(a.mean()), 4),
            "min_iou": round(float(a.min()), 4), "fraction_iou_ge_0.85": round(float((a >= 0.85).mean()), 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats and fewer IoU objects")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                    help="auto: CPU, plus CUDA when a GPU is present")
    ap.add_argument("--sam-checkpoint", default=default_sam_checkpoint())
    ap.add_argument("--detector-model", default=None, help="OWL hub id or dir (default: a tiny random OWL-ViT)")
    ap.add_argument("--clip-model", default=None, help="CLIP hub id or dir (default: a tiny random CLIP)")
    ap.add_argument("--seed", type=int, default=0, help="simulator scene seed")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=480)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.quick:
        args.repeats = 3
    spec, views, intr = _sim_views(args.seed, args.width, args.height)
    with tempfile.TemporaryDirectory() as tmp:
        tiny = _tiny_models(Path(tmp)) if not (args.detector_model and args.clip_model) else {}
        models = {"detector": args.detector_model or str(tiny["owlvit"]), "clip": args.clip_model or str(tiny["clip"])}
        devices = ["cpu"] if args.device == "cpu" else ["cuda"] if args.device == "cuda" else (
            ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
        result = {
            "benchmark": "perception",
            "image": [args.width, args.height],
            "torch_threads": torch.get_num_threads(),
            "models": {"sam": "MobileSAM (real weights)", "minilm": "all-MiniLM-L6-v2 (real)",
                       "detector": args.detector_model or "tiny random OWL-ViT",
                       "clip": args.clip_model or "tiny random CLIP"},
            "latency": {d: bench_device(d, args, spec, views[:1], intr, models) for d in devices},
            "mobile_sam_sim_masks": sam_quality(args, views[:3] if args.quick else views),
        }
    if torch.cuda.is_available():
        result["gpu"] = torch.cuda.get_device_name(0)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

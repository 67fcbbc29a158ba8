"""`ovmm demo`: generate an apartment, scan it, map it, carry out three requests, print a summary."""

from __future__ import annotations

import argparse
import time

from orchestrator.commands.arg_types import seed_number
from orchestrator.commands.realism_flags import realism_text
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import SCAN_ROUTES, DemoConfig, parse_camera_size


def request_count(text: str) -> int:
    """argparse type: 1 or more requests."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of requests, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"at least 1 request, got {n}")
    return n


def register(subparsers) -> None:
    d = DemoConfig()
    p = subparsers.add_parser("demo", help="the simulated demo: scan, map, pick, place, report",
                              description=__doc__, epilog="example: ovmm demo --seed 0 --out out/demo")
    add_config_options(p, DemoConfig, {"seed": Option(type=seed_number), "requests": Option(type=request_count),
                                       "realism": Option(type=realism_text, metavar="oracle|realistic|FILE.json"),
                                       "scan_route": Option(choices=SCAN_ROUTES)},
                       skip={"scan_width", "scan_height"})
    p.add_argument("--scan-camera", default=f"{d.scan_width}x{d.scan_height}", metavar="WxH",
                   help="head-camera resolution while scanning (lower is faster)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from orchestrator.demo import run_demo
    from orchestrator.summary import summary_table

    bar: list[tqdm] = []

    def on_scan_start(n: int | None) -> None:
        how = "along its ground-truth route" if n is not None else "by exploring it"
        print(f"scanning the apartment with the simulated Stretch {how} ...")
        bar.append(tqdm(total=n, desc="scan" if n is not None else "explore", unit="frame"))

    def on_frame(*_a) -> None:
        if bar:
            bar[0].update(1)

    def on_request(i: int, text: str) -> None:
        if bar:
            bar[0].close()
            bar.clear()
        print(f"request {i + 1}: {text}")

    t0 = time.perf_counter()
    w, h = parse_camera_size(args.scan_camera, "--scan-camera", minimum=32)
    cfg = config_from_args(DemoConfig, args, scan_width=w, scan_height=h)
    result = run_demo(cfg, on_scan_start, on_frame, on_request)
    reports = [r.report for r in result.results]
    print()
    print(summary_table(reports))
    ok = sum(r.success["place"] for r in result.results)
    print(f"\n{ok}/{len(result.results)} requests done (checked against the simulator's ground truth); "
          f"map: {result.map_voxels} semantic voxels; total {time.perf_counter() - t0:.0f} s")
    for name, path in result.files.items():
        print(f"  {name:8s} {path}")
    return 0

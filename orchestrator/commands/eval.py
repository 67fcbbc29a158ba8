"""`ovmm eval --episodes N --seed S [--workers N] [--results r.jsonl] [--json out.json] [--plot eval.png]`:
pick-and-place episodes in generated apartments (per-phase table on stderr, JSON on stdout)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orchestrator.commands.arg_types import seed_number
from orchestrator.commands.fault_flags import faults_file
from orchestrator.commands.realism_flags import realism_list
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.configs import SCAN_ROUTES, EvalConfig, parse_camera_size
from orchestrator.eval_cluster import ClusterConfig
from orchestrator.eval_scenes import add_scene_dataset_options, scene_dataset_options

EXAMPLE = "ovmm eval --episodes 30 --seed 0 --json eval.json"


def register(subparsers) -> None:
    d = EvalConfig()
    p = subparsers.add_parser("eval", help="evaluate pick-and-place in generated apartments (per-phase success)",
                              description=__doc__, epilog=f"example: {EXAMPLE}")
    add_config_options(p, EvalConfig, {"seed": Option(type=seed_number),
                                       "realism": Option(type=realism_list, metavar="oracle|realistic|FILE.json,..."),
                                       "object_library": Option(metavar="DIR"),
                                       "faults": Option(type=faults_file, metavar="FILE.json"),
                                       "scan_route": Option(choices=SCAN_ROUTES)},
                       skip={"scan_width", "scan_height", "scene_dataset", "scenes"})
    p.add_argument("--json", dest="json_path", help="write the results (JSON) here")
    p.add_argument("--details", help="write every episode's report (JSON) here")
    p.add_argument("--scan-camera", default=f"{d.scan_width}x{d.scan_height}", metavar="WxH",
                   help="head-camera resolution while scanning (lower is faster)")
    # --workers is hand-written: given alone it means one per core, absent it means no Ray at all.
    p.add_argument("--workers", type=int, nargs="?", const=0, default=None, metavar="N",
                   help="run apartments and episodes as Ray tasks on N workers (`--workers` alone: one per CPU "
                        "core; needs the cluster extra); default: one after another in this process")
    add_config_options(p, ClusterConfig, {"address": Option(flag="--ray-address", metavar="ADDR"),
                                          "object_store_mb": Option(metavar="MB")}, skip={"workers"})
    p.add_argument("--results", metavar="FILE.jsonl",
                   help="append each finished episode here; running again skips the episodes already in it")
    p.add_argument("--plot", metavar="FILE.png", help="draw success per phase and failure reasons by phase here")
    add_scene_dataset_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from core.io import write_json_atomic
    from orchestrator.eval_driver import evaluate
    from orchestrator.eval_report import save_plot, text_report
    from orchestrator.eval_results import ResultsFile
    from orchestrator.evaluation import aggregate_records

    if args.episodes < 1 or args.episodes_per_scene < 1:
        raise InputError("--episodes and --episodes-per-scene must be at least 1")
    w, h = parse_camera_size(args.scan_camera, "--scan-camera", minimum=32)
    if args.workers is not None and args.workers < 0:
        raise InputError("--workers must be at least 1 (or given alone for one per CPU core)")
    if args.object_store_mb < 80:
        raise InputError("--object-store-mb must be at least 80 (Ray's minimum)")
    for opt, path in (("--json", args.json_path), ("--details", args.details), ("--plot", args.plot)):
        if path and not Path(path).resolve().parent.is_dir():
            raise InputError(f"{opt}: folder {Path(path).parent} does not exist")
        if path and Path(path).is_dir():
            raise InputError(f"{opt}: {path} is a folder; give a file name")
    config = config_from_args(EvalConfig, args, cache_dir=str(Path(args.cache_dir).resolve()), scan_width=w,
                              scan_height=h, **scene_dataset_options(args))
    if config.object_library:
        from dataclasses import replace

        from orchestrator.eval_scenes import object_library

        if config.scene_dataset:
            raise InputError("--object-library fills generated apartments: do not give it with --scene-dataset")
        object_library(config.object_library)  # a bad library is one error line before anything runs
        config = replace(config, object_library=str(Path(config.object_library).resolve()))
    from orchestrator.eval_changes import check_changes_options

    check_changes_options(config)
    cluster = None  # with --changes / --carry-map a Ray task runs one apartment's whole sequence (eval_cluster)
    if args.workers is not None or args.address:
        from orchestrator.eval_cluster import check_reachable, import_ray

        import_ray()  # says how to install Ray before anything runs
        if args.address:
            check_reachable(args.address)
        cluster = config_from_args(ClusterConfig, args, workers=args.workers or 0)
    results = ResultsFile(args.results) if args.results else None
    from orchestrator.eval_realism import compare_table, profile_configs

    profiles = profile_configs(config)
    outs, runs = {}, []
    for name, pconfig, params in profiles:
        if len(profiles) > 1:
            print(f"realism profile {name}", file=sys.stderr)
        out, run_ = _evaluate(pconfig, cluster, results, evaluate, aggregate_records, text_report)
        out["realism"] = params
        outs[name] = out
        runs.append(run_)
    out = dict(outs[profiles[0][0]])
    if len(profiles) > 1:
        out["profiles"] = outs
        print(compare_table(outs), file=sys.stderr)
    records = [r for run_ in runs for r in run_.records]
    errors = [e for run_ in runs for e in run_.errors]
    for e in errors:
        print(f"error: {_where(e)} could not be run: {e['error']}", file=sys.stderr)
    print(json.dumps(out, indent=2))
    if args.json_path:
        write_json_atomic(args.json_path, out)
    if args.details:
        write_json_atomic(args.details, records)
    if args.plot:
        save_plot(out, args.plot, title=f"ovmm eval: {out['episodes']} episodes from seed {config.seed}")
    return 3 if errors else 0


def _evaluate(config, cluster, results, evaluate, aggregate_records, text_report):
    """One profile's evaluation: its JSON (printed as a table on stderr) and the run."""
    with _Bar() as bar:
        run_ = evaluate(config, cluster, results, bar)
    per = run_.wall_seconds / max(run_.ran_now, 1)
    out = aggregate_records(run_.records, per, {
        "seed": config.seed, "apartments": run_.apartments, "apartments_scanned_now": run_.apartments_scanned_now,
        "scan_seconds_total": round(run_.scan_seconds, 1),
        "episode_seconds_without_scans": round(sum(r["seconds"] for r in run_.records) / max(len(run_.records), 1), 2),
        "episodes_run_now": run_.ran_now, "episodes_from_results": run_.from_results,
        "workers": run_.workers, "worker_retries": run_.retries, "errors": run_.errors})
    if run_.exclusions:  # the apartments prepared in this run (all of them unless every episode was on file)
        from sim.scene.episodes import exclusion_summary

        out["episodes_left_out"] = exclusion_summary(run_.exclusions)
    from orchestrator.eval_changes import changes_summary, sequence_mode

    if sequence_mode(config):
        out["changes"] = {"per_apartment": config.changes, "changed_target_share": config.changed_target_share,
                          **changes_summary(run_.records)}
    print(text_report(out), file=sys.stderr)
    return out, run_


def _where(e: dict) -> str:
    return f"apartment {e['apartment']}" + (f" episode {e['index']}" if "index" in e else "")


class _Bar:
    """The progress bar on stderr: episodes done, success so far, time left (tqdm's estimate)."""

    def __enter__(self):
        from tqdm import tqdm

        self.bar = tqdm(total=0, desc="episodes", unit="ep", file=sys.stderr, dynamic_ncols=True)
        self.ok = self.n = 0
        return self

    def __exit__(self, *exc) -> None:
        self.bar.close()

    def start(self, total: int, done: int, done_successes: int) -> None:
        self.bar.reset(total=total)
        self.bar.update(done)
        self.ok, self.n = done_successes, done
        self._postfix("")

    def _postfix(self, status: str) -> None:
        rate = f"success {self.ok}/{self.n}" if self.n else "success -"
        self.bar.set_postfix_str(f"{rate}{'; ' + status if status else ''}")

    def status(self, text: str) -> None:
        self._postfix(text)

    def record(self, record: dict) -> None:
        self.n += 1
        self.ok += bool(record["ground_truth"]["place"])
        self.bar.update(1)
        self._postfix("")

    def fewer(self, n: int) -> None:
        self.bar.total -= n
        self.bar.refresh()

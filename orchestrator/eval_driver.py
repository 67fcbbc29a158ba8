"""Runs an evaluation: which episodes are still to do, where they run, what comes back.

`evaluate(config, cluster, results, progress)` plans the apartments (orchestrator.evaluation.episodes_for),
skips every episode already in the results file, runs the rest in this process (`cluster is None`) or as
Ray tasks (orchestrator.eval_cluster), appends each record to the results file as it arrives, and returns
all of this evaluation's records sorted by (apartment, index), so the aggregate does not depend on the order
in which workers finished.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.configs import EvalConfig
from orchestrator.eval_changes import sequence_mode
from orchestrator.eval_cluster import ClusterConfig
from orchestrator.eval_jobs import Apartment, episode_key, prepare_apartment, run_episode_job, settings_id
from orchestrator.eval_results import ResultsFile
from orchestrator.evaluation import episodes_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApartmentJob:
    seed: int
    n: int
    missing: tuple[int, ...]  # indices of the apartment's episodes still to run


class Progress:
    """What the driver reports while it runs (the CLI draws a progress bar; the default says nothing)."""

    def start(self, total: int, done: int, done_successes: int) -> None: ...
    def status(self, text: str) -> None: ...
    def record(self, record: dict) -> None: ...
    def fewer(self, n: int) -> None:
        """An apartment had `n` fewer feasible episodes than asked for."""


@dataclass
class EvalRun:
    records: list[dict]  # this evaluation's episodes (from the results file and run now), by (seed, index)
    ran_now: int
    from_results: int
    apartments: int
    apartments_scanned_now: int
    scan_seconds: float
    wall_seconds: float
    workers: int  # 0: this process
    retries: list[dict] = field(default_factory=list)  # tasks whose worker died and that ran again
    errors: list[dict] = field(default_factory=list)  # episodes or apartments that could not be run
    exclusions: list[dict] = field(default_factory=list)  # per apartment prepared now: what was left out


def plan(config: EvalConfig, results: ResultsFile | None) -> tuple[list[ApartmentJob], list[dict]]:
    """The apartments with episodes still to run, and the records of this evaluation already done."""
    settings = settings_id(config)
    jobs, done = [], []
    for seed, n in episodes_for(config):
        keys = [episode_key(seed, i, settings) for i in range(n)]
        have = [results.records[k] for k in keys if results is not None and k in results]
        done += have
        missing = tuple(i for i, k in enumerate(keys) if results is None or k not in results)
        if missing:
            jobs.append(ApartmentJob(seed, n, missing))
    return jobs, done


def evaluate(config: EvalConfig, cluster: ClusterConfig | None = None, results: ResultsFile | None = None,
             progress: Progress | None = None) -> EvalRun:
    progress = progress or Progress()
    jobs, done = plan(config, results)
    progress.start(config.episodes, len(done), sum(bool(r["ground_truth"]["place"]) for r in done))
    run = EvalRun([], 0, len(done), len(episodes_for(config)), 0, 0.0, 0.0, 0)
    t0 = time.perf_counter()

    def on_apartment(apt: Apartment, job: ApartmentJob) -> list[int]:
        """Count the scan; the indices of `job.missing` the apartment really has."""
        run.scan_seconds += apt.scan_seconds
        run.apartments_scanned_now += 0 if apt.cached else 1
        run.exclusions.append(apt.exclusions)
        if len(apt.episodes) < job.n:
            log.info("apartment %d: only %d feasible episodes (asked for %d)", apt.seed, len(apt.episodes), job.n)
            progress.fewer(job.n - len(apt.episodes))
        return [i for i in job.missing if i < len(apt.episodes)]

    def on_record(record: dict) -> None:
        if results is not None:
            results.append(record)
        run.records.append(record)
        run.ran_now += 1
        progress.record(record)

    if cluster is None:
        _run_here(config, jobs, on_apartment, on_record, run, progress)
    else:
        from orchestrator.eval_cluster import run_on_ray

        run.workers = run_on_ray(config, cluster, jobs, on_apartment, on_record, run, progress)
    run.wall_seconds = time.perf_counter() - t0
    run.records = sorted(done + run.records, key=lambda r: (r["scene_seed"], r["index"]))
    return run


def _run_sequence(config: EvalConfig, apt: Apartment, indices: list[int], on_record: Callable, run: EvalRun,
                  progress: Progress) -> None:
    """One apartment of a changing home (orchestrator.eval_changes): its changes, then its requests in order."""
    from orchestrator.eval_changes import run_changed_apartment

    if not indices:
        return
    try:
        records = run_changed_apartment(config, apt, indices, settings_id(config), progress)
    except Exception as exc:  # noqa: BLE001 - reported in the JSON; the apartment runs again next time
        log.debug("apartment %d sequence failed", apt.seed, exc_info=True)
        run.errors.append({"apartment": apt.seed, "error": f"{type(exc).__name__}: {exc}"})
        return
    for record in records:
        on_record(record)


def _run_here(config: EvalConfig, jobs: list[ApartmentJob], on_apartment: Callable, on_record: Callable,
              run: EvalRun, progress: Progress) -> None:
    """The plain loop: the same jobs, one after another in this process."""
    for job in jobs:
        progress.status(f"apartment {job.seed}: preparing")
        try:
            apt = prepare_apartment(config, job.seed, job.n)
        except Exception as exc:  # noqa: BLE001 - one apartment's failure is reported, the others still run
            log.debug("apartment %d failed", job.seed, exc_info=True)
            run.errors.append({"apartment": job.seed, "error": f"{type(exc).__name__}: {exc}"})
            continue
        if sequence_mode(config):  # --changes / --carry-map: the apartment's requests in sequence, one world
            _run_sequence(config, apt, on_apartment(apt, job), on_record, run, progress)
            continue
        for i in on_apartment(apt, job):
            progress.status(f"apartment {job.seed}: {apt.episodes[i].request[:40]}")
            try:
                on_record(run_episode_job(config, apt, i, settings_id(config)))
            except Exception as exc:  # noqa: BLE001 - reported in the JSON; the episode runs again next time
                log.debug("episode %d of apartment %d failed", i, job.seed, exc_info=True)
                run.errors.append({"apartment": job.seed, "index": i, "error": f"{type(exc).__name__}: {exc}"})

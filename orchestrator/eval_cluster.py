"""`ovmm eval --workers N` / `--ray-address ADDR`: the evaluation's jobs as Ray tasks.

Ray (the `cluster` extra: `pip install 'ovmm[cluster]'`) runs the same two functions as the plain loop
(orchestrator.eval_jobs): one task per apartment (generate, scan once, draw its episodes), then one task per
episode. An apartment's task returns its scene and map files' bytes into Ray's object store; its episode
tasks get that one object by reference, so a scan is shared by all of the apartment's episodes on every node
(each worker writes the files into its own cache folder and keeps the loaded scene for its next episode).

At most one task per CPU is in flight, and an apartment's episodes go ahead of the scans still waiting, so
results start landing (and are saved) early. A task whose worker process or node dies is run once more and
listed under `worker_retries`; a second death, or an exception in the task, is reported under `errors`
(an episode not done is not written to the results file, so the next run tries it again).

A changing home (`--changes K` / `--carry-map`, orchestrator.eval_changes) runs an apartment's requests in
sequence in one world with one map carried from each to the next, so there the unit of work is the
apartment: after its preparing task, one task runs its whole sequence (run_changed_apartment) and returns
its records; apartments run in parallel, the requests of one never do.

Every node of a cluster needs the same ovmm installed (and the data folder the scenes name at the same
path); Ray ships the tasks, not the code.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import InputError
from orchestrator.configs import EvalConfig

log = logging.getLogger(__name__)

INSTALL_HINT = "--workers and --ray-address need Ray: pip install 'ovmm[cluster]' (or: pip install ray)"
# Settings a worker needs whatever the environment of its node's raylet (the driver's values win), and the
# driver's offline switches, passed on when set.
_WORKER_ENV = {"MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl", "TOKENIZERS_PARALLELISM": "false"}
_PASSED_ON = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "OVMM_SHARED_DATA", "OVMM_CACHE_DIR", "OVMM_LOG_LEVEL")


@dataclass(frozen=True)
class ClusterConfig:
    """Where the episodes run when they run as Ray tasks."""

    workers: int = 0
    """Ray workers: 0 means one per CPU core (local Ray) or every CPU of the cluster (with an address)."""
    address: str | None = None
    """Run on an existing Ray cluster: HOST:PORT as `ray start --head` prints it (default $RAY_ADDRESS with
    --workers, else a local Ray)."""
    object_store_mb: int = 1024
    """Object store size of the local Ray started by --workers (the apartments' scans travel through it)."""


def import_ray():
    try:
        import ray
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return ray


def local_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """One clear error for a head that is not there (Ray itself would retry for minutes)."""
    import socket

    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"--ray-address: expected HOST:PORT (as `ray start --head` prints it), got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise InputError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); "
                         "is `ray start --head` running there?") from None


def connect(cluster: ClusterConfig) -> int:
    """Start a local Ray or join a cluster; the number of tasks to keep in flight."""
    ray = import_ray()
    address = cluster.address or os.environ.get("RAY_ADDRESS") or None
    env_vars = {k: os.environ.get(k, v) for k, v in _WORKER_ENV.items()}
    env_vars.update({k: os.environ[k] for k in _PASSED_ON if k in os.environ})
    env = {"env_vars": env_vars}
    common = {"runtime_env": env, "log_to_driver": False, "logging_level": logging.ERROR,
              "configure_logging": True}
    if address:
        check_reachable(address)
        try:
            ray.init(address=address, **common)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise InputError(f"cannot join the Ray cluster at {address}: {exc}") from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        return min(cluster.workers, cpus) if cluster.workers else cpus
    n = cluster.workers or local_cpus()
    ray.init(address="local", num_cpus=n, include_dashboard=False,
             object_store_memory=int(cluster.object_store_mb) * 2**20, **common)
    return n


def run_on_ray(config: EvalConfig, cluster: ClusterConfig, jobs: list, on_apartment: Callable, on_record: Callable, run,
               progress) -> int:
    """Run the jobs as Ray tasks (see the module doc); returns the number of workers used."""
    ray = import_ray()
    from ray.exceptions import RayError, RayTaskError

    from orchestrator.eval_changes import run_changed_apartment, sequence_mode
    from orchestrator.eval_jobs import prepare_apartment, run_episode_job, settings_id

    slots = connect(cluster)
    try:
        prepare_task = ray.remote(num_cpus=1, max_retries=0)(prepare_apartment)
        episode_task = ray.remote(num_cpus=1, max_retries=0)(run_episode_job)
        sequence_task = ray.remote(num_cpus=1, max_retries=0)(run_changed_apartment)
        config_ref = ray.put(config)
        settings = settings_id(config)  # episode keys are the driver's, whatever the workers' code
        # A queued task: ("apartment", job, attempt), ("episode", job, apartment_ref, index, attempt) or, for a
        # changing home, ("sequence", job, apartment_ref, indices, attempt).
        queue: deque = deque(("apartment", job, 0) for job in jobs)
        pending: dict = {}
        progress.status(f"{slots} Ray workers")

        def submit(item) -> None:
            if item[0] == "apartment":
                _, job, _attempt = item
                pending[prepare_task.remote(config_ref, job.seed, job.n)] = item
            elif item[0] == "sequence":
                _, job, ref, indices, _attempt = item
                pending[sequence_task.remote(config_ref, ref, list(indices), settings)] = item
            else:
                _, job, ref, index, _attempt = item
                pending[episode_task.remote(config_ref, ref, index, settings)] = item

        def what(item) -> dict:
            return {"apartment": item[1].seed} if item[0] != "episode" else {"apartment": item[1].seed,
                                                                             "index": item[3]}

        while queue or pending:
            while queue and len(pending) < slots:
                submit(queue.popleft())
            ready, _ = ray.wait(list(pending), num_returns=1)
            ref = ready[0]
            item = pending.pop(ref)
            try:
                value = ray.get(ref)
            except RayTaskError as exc:  # the task raised: it would raise again
                cause = getattr(exc, "cause", None) or exc
                msg = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
                log.debug("task %s failed: %s", what(item), exc)
                run.errors.append({**what(item), "error": msg})
                continue
            except RayError as exc:  # the worker or its node died, or the object was lost
                reason = type(exc).__name__
                if item[-1] == 0:
                    log.warning("%s: worker lost (%s); running it again", what(item), reason)
                    run.retries.append({**what(item), "reason": reason})
                    queue.appendleft((*item[:-1], 1))
                else:
                    run.errors.append({**what(item), "error": f"worker lost twice ({reason})"})
                continue
            if item[0] == "apartment":
                job = item[1]
                indices = on_apartment(value, job)
                # The apartment's episodes go first: results land (and are saved) before the other scans.
                if sequence_mode(config):
                    if indices:
                        queue.appendleft(("sequence", job, ref, tuple(indices), 0))
                else:
                    queue.extendleft(("episode", job, ref, i, 0) for i in reversed(indices))
            elif item[0] == "sequence":
                for record in value:
                    on_record(record)
            else:
                on_record(value)
        return slots
    finally:
        ray.shutdown()

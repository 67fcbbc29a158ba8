"""One generated apartment prepared for `run_episode_job`, as the evaluation prepares it (ground-truth scan
route, 320x240 scans, three episodes, a cache of its own): the regression tests built from an evaluation
episode (`ovmm eval --episodes 3 --seed S --scan-camera 320x240 --scan-route ground-truth`) start here."""

from __future__ import annotations

from orchestrator.configs import EvalConfig
from orchestrator.eval_jobs import prepare_apartment


def eval_apartment(tmp_path_factory, seed: int, episodes: int = 3):
    """(EvalConfig, prepared apartment) for apartment `seed` and its `episodes` episodes."""
    config = EvalConfig(episodes=episodes, seed=seed, scan_width=320, scan_height=240, scan_route="ground-truth",
                        cache_dir=str(tmp_path_factory.mktemp("eval-cache")))
    return config, prepare_apartment(config, seed, episodes)

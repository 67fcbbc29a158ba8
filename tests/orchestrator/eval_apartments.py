"""One generated apartment prepared for `run_episode_job`, as the evaluation prepares it (ground-truth scan
route, 320x240 scans, three episodes, a cache of its own): the regression tests built from an evaluation
episode (`ovmm eval --episodes 3 --seed S --scan-camera 320x240 --scan-route ground-truth`) start here."""

from __future__ import annotations

from dataclasses import replace

from orchestrator.configs import EvalConfig
from orchestrator.eval_jobs import prepare_apartment
from orchestrator.task_machine import TaskConfig


def eval_apartment(tmp_path_factory, seed: int, episodes: int = 3, realism: str = "oracle"):
    """(EvalConfig, prepared apartment) for apartment `seed` and its `episodes` episodes, scanned and run
    under the realism profile `realism` (`ovmm eval --realism`)."""
    config = EvalConfig(episodes=episodes, seed=seed, scan_width=320, scan_height=240, scan_route="ground-truth",
                        cache_dir=str(tmp_path_factory.mktemp("eval-cache")), realism=realism)
    return config, prepare_apartment(config, seed, episodes)


def grid_reach_only(config: TaskConfig) -> TaskConfig:
    """`config` with base poses only on the arm extension's 5 cm grid (BaseGoalConfig.farthest_reach off):
    the situation the regression episodes were recorded in, before the farthest reach became a candidate
    and let the first pose reach what they re-park or defer for."""
    nav = config.navigation
    return replace(config, navigation=replace(nav, base_goal=replace(nav.base_goal, farthest_reach=False)))


def run_with(monkeypatch, config: TaskConfig) -> None:
    """Episodes run by `run_episode_job` in this test use `config` instead of the evaluation's task config."""
    import orchestrator.evaluation as evaluation

    monkeypatch.setattr(evaluation, "frozen_map_config", lambda: config)

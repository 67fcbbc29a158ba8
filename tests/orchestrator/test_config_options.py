"""CLI options generated from config dataclasses (orchestrator.config_options)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from orchestrator.config_options import Option, add_config_options, config_from_args, field_docs


@dataclass
class _Cfg:
    episodes: int = 30
    """Number of episodes."""
    cache_dir: str = ".cache/x"
    """Where results are kept."""
    threshold: float | None = None
    shadows: bool = False
    """Render shadows."""
    tags: tuple[str, ...] = field(default_factory=tuple, metadata={"help": "extra tags"})


def _parser(**kw) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="t")
    add_config_options(p, _Cfg, **kw)
    return p


def test_defaults_help_and_types_come_from_the_dataclass():
    p = _parser(skip={"tags"})
    cfg = config_from_args(_Cfg, p.parse_args([]))
    assert cfg == _Cfg()
    cfg = config_from_args(_Cfg, p.parse_args(["--episodes", "6", "--cache-dir", "c", "--threshold", "0.3",
                                               "--shadows"]))
    assert (cfg.episodes, cfg.cache_dir, cfg.threshold, cfg.shadows) == (6, "c", 0.3, True)
    text = p.format_help()
    assert "number of episodes (default 30)" in text and "where results are kept (default .cache/x)" in text
    assert "--no-shadows" in text
    with pytest.raises(SystemExit):
        p.parse_args(["--episodes", "many"])


def test_options_override_flag_type_and_help_and_unknown_fields_are_refused():
    def positive(text: str) -> int:
        n = int(text)
        if n < 1:
            raise argparse.ArgumentTypeError("at least 1")
        return n

    p = _parser(options={"episodes": Option(flag="-n", type=positive, help="how many")}, skip={"tags"})
    assert p.parse_args(["-n", "2"]).episodes == 2
    with pytest.raises(SystemExit):
        p.parse_args(["-n", "0"])
    assert "how many (default 30)" in p.format_help()
    with pytest.raises(ValueError, match="no field"):
        _parser(skip={"nope"})
    with pytest.raises(TypeError, match="Option\\(type=...\\)"):
        _parser()  # tuple[str, ...] cannot be parsed without an explicit type


def test_field_docs_reads_the_literal_under_each_field():
    assert field_docs(_Cfg) == {"episodes": "Number of episodes.", "cache_dir": "Where results are kept.",
                                "shadows": "Render shadows."}


def test_demo_options_are_the_demo_config():
    from orchestrator.cli import build_parser
    from orchestrator.configs import DemoConfig

    args = build_parser().parse_args(["demo"])
    assert (args.seed, args.requests, args.out) == (DemoConfig.seed, DemoConfig.requests, DemoConfig.out)
    args = build_parser().parse_args(["demo", "--seed", "4", "--requests", "2", "--out", "o"])
    assert (args.seed, args.requests, args.out) == (4, 2, "o")


def test_aliases_and_required_options():
    p = argparse.ArgumentParser(prog="t")
    add_config_options(p, _Cfg, {"shadows": Option(aliases=("-s",)), "cache_dir": Option(required=True)},
                       skip={"tags"})
    assert config_from_args(_Cfg, p.parse_args(["-s", "--cache-dir", "c"])).shadows is True
    with pytest.raises(SystemExit):
        p.parse_args([])  # --cache-dir is required


def test_query_and_plan_defaults_come_from_the_parts_they_drive():
    from mapping.query import QueryConfig
    from navigation.occupancy import OccupancyConfig
    from orchestrator.cli import build_parser
    from orchestrator.map_command_configs import PlanCommandConfig, QueryCommandConfig

    q = config_from_args(QueryCommandConfig, build_parser().parse_args(["query", "m.npz", "mug"]))
    assert q.top_k == QueryConfig().top_k and q.relations and q.query_config(0.3).not_found_threshold == 0.3
    q = config_from_args(QueryCommandConfig, build_parser().parse_args(["query", "m.npz", "-i", "--no-relations"]))
    assert q.interactive and not q.query_config(0.3).relations
    args = build_parser().parse_args(["plan", "m.npz", "--to", "1,2", "--from", "0,0", "--json", "p.json"])
    plan = config_from_args(PlanCommandConfig, args)
    assert (plan.target, plan.start, plan.json_out) == ("1,2", "0,0", "p.json")
    assert plan.robot_radius == OccupancyConfig().robot_radius_m and plan.unknown_free is False


@dataclass
class _Span:
    size: tuple[int, int] = (2, 5)
    """Range of sizes."""
    name: str = "a"
    hidden: float = 1.0


def test_nargs_options_come_back_as_tuples_and_only_limits_the_fields():
    p = argparse.ArgumentParser(prog="t")
    add_config_options(p, _Span, {"size": Option(type=int, nargs=2, metavar=("MIN", "MAX"))}, only={"size"})
    assert "(default 2 5)" in p.format_help() and "--hidden" not in p.format_help() and "--name" not in p.format_help()
    assert config_from_args(_Span, p.parse_args(["--size", "3", "4"])) == _Span(size=(3, 4))
    assert config_from_args(_Span, p.parse_args([])) == _Span()
    with pytest.raises(ValueError, match="no field"):
        add_config_options(argparse.ArgumentParser(), _Span, only={"sizes"})

"""Options generated from configs: parsing no flags gives the config's defaults, and flags reach the config."""

from __future__ import annotations

import pytest

from orchestrator.cli import build_parser
from orchestrator.config_options import config_from_args
from sim.habitat_dataset.exporter import ExportConfig
from sim.habitat_dataset.importer import ImportConfig
from sim.scene.generator import GeneratorConfig
from sim.scene.habitat import HabitatSceneConfig


@pytest.mark.parametrize(("argv", "cls"), [
    (["sim", "generate", "--seed", "1", "--out", "s.json"], GeneratorConfig),
    (["sim", "habitat", "--out", "s.json"], HabitatSceneConfig),
    (["sim", "import-habitat", "d.scene_dataset_config.json"], ImportConfig),
    (["sim", "export-habitat", "s.json", "out"], ExportConfig),
])
def test_no_flags_give_the_config_defaults(argv, cls):
    assert config_from_args(cls, build_parser().parse_args(argv)) == cls()


def test_generate_flags_reach_the_generator_config():
    args = build_parser().parse_args(["sim", "generate", "--seed", "1", "--out", "s.json", "--rooms", "kitchen, bedroom",
                                      "--objects", "3", "4", "--receptacles", "2", "6", "--room-count", "3", "3"])
    cfg = config_from_args(GeneratorConfig, args)
    assert cfg.rooms == ("kitchen", "bedroom") and cfg.num_objects == (3, 4)
    assert cfg.num_receptacles == (2, 6) and cfg.num_rooms == (3, 3)


def test_inverted_aliases_and_bad_ranges(capsys):
    parser = build_parser()
    args = parser.parse_args(["sim", "import-habitat", "d.json", "--ignore-ovmm-metadata", "--pickable-max-size", "0.3"])
    assert config_from_args(ImportConfig, args) == ImportConfig(use_ovmm_metadata=False, pickable_max_size_m=0.3)
    from orchestrator.cli import main

    assert main(["sim", "generate", "--seed", "1", "--out", "s.json", "--objects", "5", "2"]) == 1
    assert "--objects needs 1 <= MIN <= MAX, got 5 2" in capsys.readouterr().err


def test_localize_trials_options_come_from_their_config():
    from orchestrator.commands.localize import LocalizeTrialsConfig

    args = build_parser().parse_args(["localize", "--map", "m.npz", "--sim", "s.json"])
    assert config_from_args(LocalizeTrialsConfig, args) == LocalizeTrialsConfig()
    args = build_parser().parse_args(["localize", "--map", "m.npz", "--sim", "s.json", "--trials", "7", "--seed", "3"])
    assert config_from_args(LocalizeTrialsConfig, args) == LocalizeTrialsConfig(trials=7, seed=3)


def test_robot_server_options_come_from_server_config_and_motion_limits(capsys):
    from orchestrator.cli import main
    from robots.motion_limits import MotionLimits
    from robots.server import ServerConfig

    args = build_parser().parse_args(["robot-server", "--backend", "sim"])
    assert config_from_args(ServerConfig, args) == ServerConfig()
    assert config_from_args(MotionLimits, args) == MotionLimits()
    args = build_parser().parse_args(["robot-server", "--backend", "sim", "--max-translation", "1.5", "--port", "6000",
                                      "--watchdog-s", "0.25"])
    assert config_from_args(MotionLimits, args) == MotionLimits(max_translation_m=1.5)
    cfg = config_from_args(ServerConfig, args)
    assert (cfg.port, cfg.watchdog_s) == (6000, 0.25)
    assert main(["robot-server", "--backend", "sim", "--insecure-loopback", "--max-path", "-1"]) == 1
    assert "max_path_m must be a finite positive number" in capsys.readouterr().err


def test_scan_perception_map_and_robot_options_come_from_their_configs():
    from dataclasses import replace

    from mapping.voxel_map import VoxelMapConfig
    from orchestrator.commands.scan import _map_config, _perception_config
    from orchestrator.scanning import RobotScanConfig
    from perception.config import PerceptionConfig

    parser = build_parser()
    args = parser.parse_args(["scan", "capture.r3d", "--out", "m.npz"])
    assert _map_config(args) == VoxelMapConfig()
    assert _perception_config(args) == PerceptionConfig()
    assert config_from_args(RobotScanConfig, args) == RobotScanConfig()
    args = parser.parse_args(["scan", "capture.r3d", "--out", "m.npz", "--perception", "owl-sam", "--vocabulary",
                              "mug, kitchen table", "--voxel-size", "0.1", "--map-max-depth", "3", "--pans", "4"])
    assert _perception_config(args) == replace(PerceptionConfig(), pipeline="owl-sam", vocabulary=("mug", "kitchen table"))
    assert _map_config(args) == VoxelMapConfig(voxel_size_m=0.1, max_depth_m=3.0)
    assert config_from_args(RobotScanConfig, args).num_pans == 4


def test_run_robot_options_come_from_robot_options():
    from orchestrator.commands.run import robot_options
    from orchestrator.configs import RobotOptions

    parser = build_parser()
    assert robot_options(parser.parse_args(["run", "--map", "m.npz", "put the mug on the table"])) == RobotOptions()
    args = parser.parse_args(["run", "--map", "m.npz", "--robot", "stretch", "--robot-host", "stretch.local",
                              "--robot-port", "6000", "--localize", "on", "--map-registration", "1,2,0.5", "go"])
    assert robot_options(args) == RobotOptions(kind="stretch", host="stretch.local", port=6000, localize="on",
                                               map_registration=(1.0, 2.0, 0.5))

"""--realism on every simulator command: a bad profile is one error line naming the key; eval profiles."""

from __future__ import annotations

import json

import pytest

from orchestrator.cli import main
from orchestrator.configs import EvalConfig
from orchestrator.eval_realism import compare_table, profile_configs

COMMANDS = [
    ["scan", "--sim", "scene.json", "--out", "m.npz"],
    ["run", "put the mug on the table", "--map", "m.npz", "--robot", "sim", "--scene", "scene.json"],
    ["demo"],
    ["eval", "--episodes", "1"],
    ["robot-server", "--backend", "sim", "--scene", "scene.json"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_bad_realism_file_is_one_error_line(tmp_path, capsys, argv):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"odometry": {"trans_per_m": -1}}))
    with pytest.raises(SystemExit) as e:
        main([*argv, "--realism", str(bad)])
    assert e.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "'odometry.trans_per_m'" in err[0] and "must not be negative" in err[0]


def test_eval_profiles_name_every_parameter(tmp_path):
    f = tmp_path / "mine.json"
    f.write_text(json.dumps({"base": "oracle", "lidar": {"noise": True}}))
    profiles = profile_configs(EvalConfig(realism=f"oracle,realistic,{f}"))
    assert [p[0] for p in profiles] == ["oracle", "realistic", "mine"]
    assert profiles[1][1].realism == "realistic"
    params = profiles[1][2]
    assert params["depth"]["subpixel"] == 0.08 and params["odometry"]["enabled"] is True
    assert params["perception"]["miss_rate"] == 0.25 and params["lidar"]["max_m"] == 12.0
    assert profiles[2][2]["lidar"]["noise"] is True and profiles[2][2]["depth"]["enabled"] is False
    phases = {"find_object": 1.0, "pick": 0.5, "find_receptacle": 0.5, "place": 0.25, "overall": 0.25}
    table = compare_table({"oracle": {"success": phases, "failures": {}},
                           "realistic": {"success": dict(phases, place=0.0, overall=0.0), "failures": {"pick: x": 2}}})
    assert "oracle" in table and "realistic failures: pick: x x2" in table and "0.250" in table


def test_each_profile_scans_its_own_apartments():
    """A realistic evaluation maps with the realistic robot: its scans are cached apart from the oracle's,
    and the oracle's cache key is what it was before profiles scanned (old caches stay valid)."""
    from orchestrator.evaluation import scan_perception_config, settings_key
    from sim.realism import RealismConfig

    cfg = EvalConfig()
    p = scan_perception_config(cfg)
    oracle = settings_key(cfg, p, RealismConfig.oracle())
    assert oracle == settings_key(cfg, p)
    realistic = settings_key(cfg, p, RealismConfig.realistic())
    assert realistic != oracle and realistic == settings_key(cfg, p, RealismConfig.realistic().with_seed(9))

"""--faults FILE.json on `robot-server --backend sim`, `run` and `eval`: a bad file is one error line."""

from __future__ import annotations

import json

import pytest

from orchestrator.cli import main
from orchestrator.configs import RobotOptions
from orchestrator.robot_factory import make_robot

COMMANDS = [
    ["run", "put the mug on the table", "--map", "m.npz", "--robot", "sim", "--scene", "scene.json"],
    ["eval", "--episodes", "1"],
    ["robot-server", "--backend", "sim", "--scene", "scene.json"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: a[0])
def test_bad_fault_file_is_one_error_line(tmp_path, capsys, argv):
    bad = tmp_path / "faults.json"
    bad.write_text(json.dumps({"drop_reply_p": 1.5}))
    with pytest.raises(SystemExit) as e:
        main([*argv, "--faults", str(bad)])
    assert e.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(err) == 1 and "drop_reply_p" in err[0] and "probability" in err[0]


def test_robot_options_faults_wrap_the_simulated_robot(tmp_path):
    from sim.scene.generator import generate_scene  # noqa: PLC0415

    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({"base_stall_on": [1]}))
    spec = generate_scene(0)
    robot = make_robot(RobotOptions(kind="sim", faults=str(faults)), spec)
    try:
        with robot:
            start = robot.get_base_pose()
            res = robot.move_base_to(start)
            assert not res.success and "base stalled" in res.reason and "injected fault" in res.reason
            assert robot.true_base_pose() is not None  # the simulator's own calls still reach the SimRobot
    finally:
        robot.world.close()

"""The README's "A session in simulation, step by step" runs exactly as written.

The fast test checks that every command of that block parses with today's CLI; the slow one
(`pytest -m slow`, ~2-5 min on 2 cores) runs the whole session in a temporary folder and checks what the
README says about it (labelled hits, the request carried out, the ambiguous request refused before moving).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import build_parser, main

README = Path(__file__).resolve().parents[1] / "README.md"


def session_commands() -> list[list[str]]:
    """The argv of every `ovmm` line in the README's simulated session block (comments dropped)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### A session in simulation, step by step"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "the README's session has no bash block"
    out = []
    for line in block.group(1).splitlines():
        words = shlex.split(line, comments=True)
        if words:
            assert words[0] == "ovmm", line
            out.append(words[1:])
    return out


def test_the_readme_session_parses_with_the_cli():
    cmds = session_commands()
    assert [c[0] for c in cmds] == ["sim", "sim", "scan", "query", "plan", "run"]
    parser = build_parser()
    for argv in cmds:
        args = parser.parse_args(argv)
        assert callable(args.func), argv


@pytest.mark.slow
def test_the_readme_session_runs_as_written(tmp_path, capsys):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for argv in session_commands():
            code = main(argv)
            out = capsys.readouterr().out
            assert code == 0, (argv, out[-2000:])
            if argv[0] == "query":
                lines = [x for x in out.splitlines() if x[:2] in ("1.", "2.")]
                assert "yellow coffee mug (mug)" in lines[0] and "white coffee mug (mug)" in lines[1]
        report = json.loads(Path("run.json").read_text())
        assert report["success"] and [p["name"] for p in report["phases"]][:2] == ["find_object", "find_receptacle"]
        for name in ("views.png", "mug.png", "plan.png", "run.png", "home.npz"):
            assert Path(name).stat().st_size > 1000, name
        # The README's refused request: both ends are looked up first, the robot does not move.
        code = main(["run", "put the coffee mug on the kitchen table", "--map", "home", "--robot", "sim",
                     "--scene", "scene.json", "--log", "refused.json"])
        refused = json.loads(Path("refused.json").read_text())
        assert code == 3 and refused["failed_phase"] == "find_object" and "ambiguous" in refused["reason"]
        assert "white coffee mug" in refused["reason"] and "yellow coffee mug" in refused["reason"]
        assert [p["name"] for p in refused["phases"]] == ["find_object"] and not refused["paths_xy"]
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_two_step_requests_against_a_persistent_simulated_robot(tmp_path, capsys):
    """The README's two-step session: one `robot-server --backend sim`, then two `ovmm run` commands."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    port = "5617"
    server = None
    try:
        assert main(["sim", "generate", "--seed", "3", "--out", "scene.json"]) == 0
        assert main(["scan", "--sim", "scene.json", "--out", "home.npz"]) == 0
        server = subprocess.Popen([sys.executable, "-m", "orchestrator", "robot-server", "--backend", "sim",
                                   "--scene", "scene.json", "--insecure-loopback", "--port", port],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(15)
        assert server.poll() is None
        common = ["--map", "home", "--robot", "stretch", "--robot-port", port, "--insecure-loopback",
                  "--scene", "scene.json"]
        assert main(["run", "pick up the yellow coffee mug", *common, "--log", "one.json"]) == 0
        assert main(["run", "put it on the blue sofa", *common, "--log", "two.json"]) == 0
        two = json.loads(Path("two.json").read_text())
        assert two["success"] and [p["name"] for p in two["phases"]] == [
            "find_receptacle", "navigate_to_receptacle", "place"]
        capsys.readouterr()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        os.chdir(cwd)

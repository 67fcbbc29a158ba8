"""`--faults FILE.json`: faults injected into the simulated robot and the bridge (robots.faults).

One spelling for `robot-server --backend sim`, `run` and `eval`; a bad file is argparse's one-line error.
"""

from __future__ import annotations

import argparse

from core.errors import InputError

HELP = ("inject faults from this JSON file (robots.faults.FaultConfig: dropped or late replies, a server restart, "
        "a camera that stops or returns stale frames, a stalled base or faulted arm, the runstop, a low battery; "
        "README, robot section)")


def faults_file(text: str) -> str:
    """argparse type: a valid fault file (checked now, so a bad file fails before anything runs)."""
    from robots.faults import load_faults  # noqa: PLC0415

    try:
        load_faults(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_faults_option(p) -> None:
    p.add_argument("--faults", type=faults_file, default=None, metavar="FILE.json", help=HELP)

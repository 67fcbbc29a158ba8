"""`--realism oracle|realistic|FILE.json`: how close to a real Stretch the simulated robot is (sim.realism).

One spelling for every command that runs the simulator (`scan --sim`, `run --robot sim`, `demo`, `eval`,
`robot-server --backend sim`); `eval` takes a comma-separated list and runs the same episodes under each.
A bad value or file is argparse's one-line error naming the key.
"""

from __future__ import annotations

import argparse

from core.errors import InputError

HELP = ("realism profile of the simulated robot: oracle (exact pose, depth and perception, as before), realistic "
        "(drifting odometry, D435 depth noise, detector misses and false positives, joint offsets, grasp slip, "
        "lidar noise) or a JSON file setting each part (docs/realism.md)")


def realism_text(text: str) -> str:
    """argparse type: a valid profile (checked now, so a bad file fails before anything runs)."""
    from sim.realism import load_realism  # noqa: PLC0415 - light (no simulator engine)

    try:
        load_realism(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def realism_list(text: str) -> str:
    from sim.realism import parse_profiles  # noqa: PLC0415

    try:
        parse_profiles(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return text


def add_realism_option(p, default: str = "oracle", multiple: bool = False) -> None:
    extra = "; a comma-separated list (oracle,realistic) runs the same episodes under each" if multiple else ""
    p.add_argument("--realism", type=realism_list if multiple else realism_text, default=default,
                   metavar="oracle|realistic|FILE.json" + (",..." if multiple else ""),
                   help=f"{HELP}{extra} (default {default})")

"""Logging setup for the CLI and scripts; library code only calls logging.getLogger(__name__)."""

from __future__ import annotations

import logging
import os


def setup_logging(verbosity: int = 0) -> None:
    """Configure the root logger: WARNING by default, INFO with -v, DEBUG with -vv (or OVMM_LOG_LEVEL)."""
    level_name = os.environ.get("OVMM_LOG_LEVEL")
    if level_name:
        level = getattr(logging, level_name.upper(), logging.INFO)
    else:
        level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger().setLevel(level)
    for noisy in ("matplotlib", "PIL", "urllib3", "filelock", "h5py", "numexpr", "trimesh", "faster_whisper"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))

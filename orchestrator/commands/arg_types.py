"""argparse types shared by the commands, so bad numbers are refused by the parser with one line."""

from __future__ import annotations

import argparse

SEED_MAX = 2**32 - 1


def seed_number(text: str) -> int:
    """A random seed: an integer 0..2**32-1 (numpy's range)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0..{SEED_MAX}, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"a seed is a whole number 0..{SEED_MAX}, got {value}")
    return value

"""Command-line flags shared by every command that talks to a robot-server (one spelling, one default)."""

from __future__ import annotations

import argparse

from robots.keys import DEFAULT_KEY_FILE, KEY_FILE_ENV


def port_number(text: str) -> int:
    """argparse type: a TCP port 1-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be an integer 1-65535, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be in 1-65535, got {value}")
    return value


def add_key_file_option(p: argparse.ArgumentParser, dest: str = "key_file") -> None:
    """--key-file (and the old --robot-key spelling, accepted but hidden)."""
    p.add_argument("--key-file", dest=dest, default=None, metavar="FILE",
                   help=f"robot key file (default ${KEY_FILE_ENV}, else {DEFAULT_KEY_FILE}; made by "
                   "`ovmm robot-server --new-key`)")
    p.add_argument("--robot-key", dest=dest, help=argparse.SUPPRESS)


def add_insecure_option(p: argparse.ArgumentParser, server: bool = False) -> None:
    what = "serve" if server else "talk to a robot-server"
    p.add_argument("--insecure-loopback", action="store_true",
                   help=f"{what} WITHOUT a key on 127.0.0.1 (no authentication, no encryption; for tests only)")

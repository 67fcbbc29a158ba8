"""The `ovmm` command line.

Subcommands live in `orchestrator/commands/<name>.py`; each module defines `register(subparsers)`, which
adds its parser(s) and sets `func` (called with the parsed args, returning an exit code). Errors the user
can cause are `core.errors.OvmmError`s: they print as one line on stderr and exit 1. Anything unexpected
prints one line too (exit 2); `-v` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from core.errors import OvmmError  # noqa: E402
from core.log import setup_logging  # noqa: E402

log = logging.getLogger("ovmm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ovmm",
        description="Open-vocabulary mobile manipulation for the Hello Robot Stretch (and its simulation).",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import orchestrator.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"orchestrator.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        code = func(args)
        return int(code or 0)
    except OvmmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ModuleNotFoundError as exc:  # an extra that is not installed (e.g. a robot-only install)
        if args.verbose:
            raise
        print(f"error: this command needs the Python package {exc.name!r}, which is not installed; install the "
              "workstation extra (pip install -e '.[workstation]', or run make)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, not a traceback
        if args.verbose:
            raise
        print(f"internal error: {type(exc).__name__}: {exc} (run `ovmm -v ...` for the traceback)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""CLI subcommands: each module here defines `register(subparsers)` and is discovered by orchestrator.cli."""

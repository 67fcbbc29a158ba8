"""Helpers for the stretch_body backend tests (not a test module)."""

from __future__ import annotations

from robots.stretch_body_config import StretchBodyConfig


def fast_config(**overrides) -> StretchBodyConfig:
    """Fast polling and short stall/timeout margins so tests run quickly."""
    base = dict(poll_s=0.005, stall_s=0.25, timeout_margin_s=2.0)
    base.update(overrides)
    return StretchBodyConfig(**base)

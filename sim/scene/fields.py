"""Strict, typed reading of scene JSON values (used by sim.scene.spec).

Every reader takes the raw value and a context string naming the item ("object 'mug_0' field 'rgba'") so
the SceneError it raises says exactly which item of which file is wrong.
"""

from __future__ import annotations

import math
from typing import Any

from core.errors import InputError


class SceneError(InputError):
    """A scene file or scene spec is invalid; the message names the item and what is wrong."""


def check_keys(d: Any, ctx: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
    """`d` must be a dict holding every required key, and no key outside required + optional."""
    if not isinstance(d, dict):
        raise SceneError(f"{ctx} must be a JSON object, got {type(d).__name__}")
    words = ctx.split()
    if len(words) == 2 and words[1].isdigit() and isinstance(d.get("id"), str):
        ctx = f"{words[0]} {d['id']!r}"  # name the item by its id when it has one
    allowed = set(required) | set(optional)
    unknown = sorted(k for k in d if k not in allowed)
    if unknown:
        raise SceneError(f"{ctx} has unknown field(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(sorted(allowed))})")
    missing = [k for k in required if k not in d]
    if missing:
        raise SceneError(f"{ctx} is missing required field(s) {', '.join(map(repr, missing))}")
    return d


def as_str(v: Any, ctx: str, allow_none: bool = False, allow_empty: bool = False) -> str | None:
    if v is None and allow_none:
        return None
    if not isinstance(v, str):
        raise SceneError(f"{ctx} must be a string, got {type(v).__name__}")
    if not allow_empty and not v.strip():
        raise SceneError(f"{ctx} must not be empty")
    return v


def as_int(v: Any, ctx: str, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise SceneError(f"{ctx} must be an integer, got {type(v).__name__}")
    if minimum is not None and v < minimum:
        raise SceneError(f"{ctx} must be >= {minimum}, got {v}")
    return int(v)


def as_float(v: Any, ctx: str, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SceneError(f"{ctx} must be a number, got {type(v).__name__}")
    try:
        f = float(v)
    except OverflowError:  # an integer beyond any float
        raise SceneError(f"{ctx} must be finite, got an integer of {len(str(v))} digits") from None
    if not math.isfinite(f):
        raise SceneError(f"{ctx} must be finite, got {v}")
    if positive and f <= 0:
        raise SceneError(f"{ctx} must be > 0, got {v}")
    if nonneg and f < 0:
        raise SceneError(f"{ctx} must be >= 0, got {v}")
    return f


def as_vec(v: Any, n: int, ctx: str, positive: bool = False) -> tuple[float, ...]:
    if not isinstance(v, (list, tuple)) or len(v) != n:
        raise SceneError(f"{ctx} must be a list of {n} numbers, got {v!r}")
    return tuple(as_float(x, f"{ctx}[{i}]", positive=positive) for i, x in enumerate(v))


def as_rgba(v: Any, ctx: str) -> tuple[float, float, float, float]:
    out = as_vec(v, 4, ctx)
    if any(c < 0.0 or c > 1.0 for c in out):
        raise SceneError(f"{ctx} must hold 4 values in [0, 1], got {list(out)}")
    return out  # type: ignore[return-value]


def as_quat(v: Any, ctx: str) -> tuple[float, float, float, float]:
    q = as_vec(v, 4, ctx)
    n = math.sqrt(sum(c * c for c in q))
    if abs(n - 1.0) > 1e-3:
        raise SceneError(f"{ctx} must be a unit quaternion (x, y, z, w), its norm is {n:.4f}")
    return q  # type: ignore[return-value]


def as_str_list(v: Any, ctx: str) -> tuple[str, ...]:
    if not isinstance(v, (list, tuple)):
        raise SceneError(f"{ctx} must be a list of strings, got {type(v).__name__}")
    return tuple(as_str(x, f"{ctx}[{i}]") for i, x in enumerate(v))  # type: ignore[misc]


def as_list(v: Any, ctx: str) -> list:
    if not isinstance(v, list):
        raise SceneError(f"{ctx} must be a list, got {type(v).__name__}")
    return v


def r6(x: float) -> float:
    """Round for serialisation (micrometre precision keeps files stable and byte-identical per seed)."""
    y = round(float(x), 6)
    return 0.0 if y == 0.0 else y


def rl(v) -> list[float]:
    return [r6(x) for x in v]

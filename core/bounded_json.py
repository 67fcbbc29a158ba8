"""JSON from untrusted bytes with bounded size and nesting depth (network headers, map headers, scene files).

`json.loads` recurses once per nesting level, so a 100k-deep document raises RecursionError and a huge one
costs memory in proportion; `loads_bounded` checks both bounds first (one linear scan that skips strings)
and refuses non-finite numbers (`NaN`, `Infinity`, and integers too large for a float), so callers see one
`BoundedJSONError` with a short reason instead.
"""

from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_MAX_DEPTH = 32


class BoundedJSONError(ValueError):
    """The text is not JSON, too large, too deeply nested, or holds a non-finite number."""


def nesting_depth(text: str, stop_at: int | None = None) -> int:
    """The deepest nesting of [] and {} in `text`, ignoring brackets inside strings (early exit at stop_at)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_at is not None and deepest > stop_at:
                    return deepest
        elif ch in "]}":
            depth -= 1
    return deepest


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BoundedJSONError(f"number {text[:40]} is out of range")
    return value


def _finite_int(text: str) -> int:
    if len(text) > 308:  # beyond any finite float: cannot be a length, a count or a coordinate
        raise BoundedJSONError(f"integer of {len(text)} digits is out of range")
    return int(text)


def _no_constant(name: str) -> Any:
    raise BoundedJSONError(f"{name} is not allowed")


def loads_bounded(data: bytes | str, max_bytes: int, max_depth: int = DEFAULT_MAX_DEPTH,
                  allow_nan: bool = False) -> Any:
    """Parse JSON whose size is at most `max_bytes` and nesting at most `max_depth`; BoundedJSONError otherwise.

    allow_nan: accept NaN/Infinity (and overflowing numbers, as inf) for readers that check values themselves.
    """
    if len(data) > max_bytes:
        raise BoundedJSONError(f"{len(data)} bytes exceed the limit of {max_bytes} bytes")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BoundedJSONError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    depth = nesting_depth(data, stop_at=max_depth)
    if depth > max_depth:
        raise BoundedJSONError(f"nested more than {max_depth} levels deep")
    hooks = {} if allow_nan else {"parse_float": _finite_float, "parse_int": _finite_int,
                                  "parse_constant": _no_constant}
    try:
        return json.loads(data, **hooks)
    except json.JSONDecodeError as exc:
        raise BoundedJSONError(f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:  # unreachable with the depth check; kept so no traceback escapes
        raise BoundedJSONError("nested too deeply") from None

"""CLI options generated from config dataclasses: the default and the help text live only in the config.

A field becomes `--field-name` (underscores -> dashes) with the field's default, its type as the argparse
type, and as help the field's docstring (the string literal right under it) or `metadata["help"]`; the
help ends with "(default X)". Per-option exceptions (another flag name, a metavar, a parsing type such as
`seed_number`, choices) are given as `Option`s. After parsing, `config_from_args` builds the dataclass
back from the namespace, so a command never re-types a default.

    add_config_options(parser, DemoConfig, {"seed": Option(type=seed_number)}, skip={"scan_width", "scan_height"})
    cfg = config_from_args(DemoConfig, args, scan_width=w, scan_height=h)

A small adapter of our own over argparse (rather than tyro) keeps every existing flag name, the
`error: ...` one-line handling of orchestrator.cli and the sub-command layout unchanged.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import textwrap
import typing
from collections.abc import Callable, Iterable
from dataclasses import MISSING, dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Option:
    """How one config field deviates from the generated option (None: generated)."""

    flag: str | None = None
    type: Callable[[str], Any] | None = None
    metavar: str | None = None
    choices: Iterable[Any] | None = None
    help: str | None = None
    aliases: tuple[str, ...] = ()
    """More flags for the same option (e.g. "-i")."""
    required: bool = False
    nargs: int | None = None
    """Values per option (a tuple field such as a MIN MAX range); they come back as a tuple."""


@cache
def field_docs(cls: type) -> dict[str, str]:
    """{field name: its docstring} from the class source (a string literal right after the field)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        except (OSError, TypeError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for stmt, nxt in zip(body, [*body[1:], None], strict=True):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
                docs[stmt.target.id] = " ".join(nxt.value.value.split())
    return docs


def _default(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def _scalar_type(annotation: Any) -> Callable[[str], Any] | None:
    """str/int/float (or X | None of one) -> the parser; anything else needs an explicit Option.type."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = args[0] if len(args) == 1 else annotation
    return base if base in (str, int, float) else None


def add_config_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
                       options: dict[str, Option] | None = None, skip: Iterable[str] = (),
                       defaults: Any | None = None, only: Iterable[str] | None = None) -> None:
    """Add one option per field of dataclass `cls` (defaults from `defaults` or `cls()`); `only` names the
    fields to expose when most of a config is not for the command line."""
    options = options or {}
    names = {f.name for f in dataclasses.fields(cls)}
    only = set(only) if only is not None else None
    skip = set(skip) | (names - only if only is not None else set())
    unknown = (set(options) | skip | (only or set())) - names
    if unknown:
        raise ValueError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}")
    base = defaults if defaults is not None else cls()
    hints = typing.get_type_hints(cls)
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        opt = options.get(f.name, Option())
        default = getattr(base, f.name) if base is not None else _default(f)
        text = opt.help or f.metadata.get("help") or docs.get(f.name) or f.name.replace("_", " ")
        if len(text) > 1 and text[0].isupper() and not text[1].isupper():
            text = text[0].lower() + text[1:]  # argparse help reads as a phrase: "seed of ..."
        flags = [*opt.aliases, opt.flag or "--" + f.name.replace("_", "-")]
        hint = hints.get(f.name)
        if hint is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=default,
                                help=text.rstrip(".") + f" (default {'yes' if default else 'no'})")
            continue
        parse = opt.type or _scalar_type(hint)
        if parse is None:
            raise TypeError(f"{cls.__name__}.{f.name}: give Option(type=...) to parse {hint} from the command line")
        kwargs: dict[str, Any] = {"dest": f.name, "type": parse, "default": default,
                                  "help": text.rstrip(".") + ("" if default is None else f" (default {default})")}
        if opt.metavar:
            kwargs["metavar"] = opt.metavar
        if opt.choices is not None:
            kwargs["choices"] = list(opt.choices)
        if opt.nargs is not None:
            kwargs["nargs"] = opt.nargs
            kwargs["help"] = text.rstrip(".") + ("" if default is None else f" (default {' '.join(map(str, default))})")
        if opt.required:
            kwargs["required"] = True
            kwargs["help"] = text.rstrip(".")
        parser.add_argument(*flags, **kwargs)


def config_from_args(cls: type, args: argparse.Namespace, **overrides: Any):
    """The dataclass back from parsed options (fields not on the namespace keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}  # nargs options
    values.update(overrides)
    return cls(**values)

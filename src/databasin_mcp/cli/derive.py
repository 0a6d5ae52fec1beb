"""Command-line arguments and options from the operations' signatures (the declarations in params.py).

The same declaration gives the MCP schema its type and bounds and the command line its flag, metavar,
range and help, so `databasin metadata tables --limit 501` is refused with the bound the tool has.
A read tool's command is derived whole; the writing commands add what a person needs (a file, a
password from stdin, a confirmation) around derived parameters.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, cast

import click
from annotated_types import Ge, Le
from pydantic.functional_validators import AfterValidator

from ..ops.base import INJECTED
from ..params import ALL_FIELDS, AtMost, Cli


def parameters_for(operation: Callable[..., Any], *, skip: Sequence[str] = ()) -> list[click.Parameter]:
    """A click argument or option for each parameter of `operation`, in its order."""
    hints = typing.get_type_hints(operation, include_extras=True)
    made: list[click.Parameter] = []
    for name, parameter in inspect.signature(operation).parameters.items():
        if name == "self" or name in INJECTED or name in skip:
            continue
        made.append(_parameter(name, hints[name], parameter.default))
    return made


def _parameter(name: str, hint: Any, default: Any) -> click.Parameter:
    metadata: Sequence[Any] = getattr(hint, "__metadata__", ())
    cli = next((item for item in metadata if isinstance(item, Cli)), Cli())
    base, optional = _base_type(hint)
    required = default is inspect.Parameter.empty
    flag = cli.flag or "--" + name.replace("_", "-")
    if cli.words:
        return click.Argument([name], nargs=-1, required=True, metavar=cli.metavar)
    if cli.positional:
        what = "a connector ID" if name == "connector_id" else "a whole number"
        return click.Argument([name], type=_click_type(base, metadata, what), metavar=cli.metavar)
    if base is bool:
        if optional:  # yes, no, or either: a pair of flags, neither meaning either
            return click.Option([f"{flag}/{cli.off_flag}", name], default=None, help=cli.help or None)
        return click.Option([flag, name], is_flag=True, default=bool(default), help=cli.help or None)
    if base is list:
        return click.Option(
            [flag, name], metavar=cli.metavar, callback=_split_names, help=cli.help or None, required=required
        )
    return click.Option(
        [flag, name],
        type=_click_type(base, metadata),
        metavar=cli.metavar,
        default=None if required else default,
        required=required,
        show_default=not required and default is not None,
        help=cli.help or None,
    )


def _base_type(hint: Any) -> tuple[Any, bool]:
    """(int, str, bool or list; whether None is allowed) of an Annotated[X | None, ...] hint."""
    inner = typing.get_args(hint)[0] if typing.get_origin(hint) is typing.Annotated else hint
    options = typing.get_args(inner) if isinstance(inner, types.UnionType) else (inner,)
    optional = type(None) in options
    base = next(option for option in options if option is not type(None))
    return typing.get_origin(base) or base, optional


class WholeNumber(click.IntRange):
    """An integer in a range, refused in words a person reads ("-5 is not a connector ID: 1 or more")."""

    def __init__(self, low: int | None, high: int | None, what: str) -> None:
        super().__init__(low, high)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            # A bound as large as MAX_ID says nothing to a person: only the lower one is named then.
            if self.max is None or self.max >= 2**31:
                allowed = f"{self.min} or more" if self.min is not None else "a whole number"
            else:
                allowed = f"from {self.min} to {self.max}"
            self.fail(f"{value!r} is not {self.what} ({allowed}).", param, ctx)


def _click_type(base: Any, metadata: Sequence[Any], what: str = "a whole number") -> Any:
    if base is not int:
        return str
    # Our declarations bound integers with integers (Field(ge=1, le=500)).
    low: int | None = next((cast(int, item.ge) for item in _bounds(metadata) if isinstance(item, Ge)), None)
    high: int | None = next((cast(int, item.le) for item in _bounds(metadata) if isinstance(item, Le)), None)
    highs = [item.func.limit for item in metadata if isinstance(item, AfterValidator) and isinstance(item.func, AtMost)]
    highs += [high] if high is not None else []
    return WholeNumber(low, min(highs) if highs else None, what)


def _bounds(metadata: Sequence[Any]) -> list[Any]:
    """The annotated-types bounds of a declaration, wherever pydantic keeps them (a FieldInfo's metadata)."""
    found: list[Any] = []
    for item in metadata:
        found += list(getattr(item, "metadata", ()))
        if isinstance(item, Ge | Le):
            found.append(item)
    return found


def _split_names(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise click.BadParameter(f'give API field names separated by commas, or "{ALL_FIELDS}" for all')
    return names

"""What a command prints: an aligned table or the operation's compact text for people, JSON for scripts."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click

from ..shaping import Answer, plain

# Longer cells are cut in a table (a person reads whole values with `connectors get` or --json).
MAX_CELL_WIDTH = 80
_ERASE_LINE = "\r\x1b[K"

ProgressReport = Callable[[float, str], Awaitable[None]]


def emit(answer: Answer, *, as_json: bool) -> None:
    """Print an answer to stdout: `Answer.data` as JSON, or a table for a listing, or its text."""
    if as_json:
        click.echo(json.dumps(answer.data, indent=2, ensure_ascii=False))
    elif _is_listing(answer.data) and answer.data["items"]:
        title = answer.text.split("\n", 1)[0]
        click.echo("\n".join([title, *table(answer.data["fields"], answer.data["items"])]))
    else:
        click.echo(answer.text)


def _is_listing(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("items"), list) and isinstance(data.get("fields"), list)


def table(fields: Sequence[str], items: Sequence[Mapping[str, Any]]) -> list[str]:
    """Rows under a header of API field names, in columns aligned by display width; numbers to the right."""
    rows = [[_cell(item.get(name)) for name in fields] for item in items]
    numeric = [all(_is_number(item.get(name)) for item in items) for name in fields]
    widths = [max(_width(text) for text in [name, *(row[i] for row in rows)]) for i, name in enumerate(fields)]
    return [
        "  ".join(_pad(text, widths[i], right=numeric[i]) for i, text in enumerate(cells)).rstrip()
        for cells in [list(fields), *rows]
    ]


def _cell(value: Any) -> str:
    text = plain(value)
    return text if len(text) <= MAX_CELL_WIDTH else text[: MAX_CELL_WIDTH - 1] + "…"


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    return sum(0 if unicodedata.combining(ch) else 2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


@contextmanager
def progress_line(first: str, *, enabled: bool, in_place: bool) -> Iterator[ProgressReport | None]:
    """Progress on stderr: on a terminal one line rewritten in place and erased at the end, elsewhere a
    line per report (a log keeps them); None when off."""
    if not enabled:
        yield None
        return

    def say(text: str) -> None:
        # color=True keeps the erase sequence, which click strips from what it thinks is no terminal.
        click.echo(text, nl=not in_place, err=True, color=in_place or None)

    async def report(elapsed: float, message: str) -> None:
        say(f"{_ERASE_LINE}{message}" if in_place else message)

    say(first)
    try:
        yield report
    finally:
        if in_place:
            say(_ERASE_LINE)

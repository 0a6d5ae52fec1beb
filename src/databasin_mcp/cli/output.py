"""What a command prints: an aligned table or the operation's compact text for people, JSON for scripts."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import click

from ..shaping import Answer, plain

# In a terminal a table is fitted to its width: the widest columns wrap, down to this width each.
MIN_COLUMN_WIDTH = 20
_ERASE_LINE = "\r\x1b[K"

ProgressReport = Callable[[float, str], Awaitable[None]]


def emit(answer: Answer, *, as_json: bool) -> None:
    """Print an answer to stdout: `Answer.data` as JSON, or a table for a listing, or its text."""
    if as_json:
        click.echo(json.dumps(answer.data, indent=2, ensure_ascii=False))
    elif _is_listing(answer.data) and answer.data["items"]:
        title = answer.text.split("\n", 1)[0]
        notes = answer.data.get("notes", [])  # what the cap cut, said after the table as after the text's
        fit = terminal_width() if stdout_is_terminal() else None
        click.echo("\n".join([title, *table(answer.data["fields"], answer.data["items"], fit=fit), *notes]))
    else:
        click.echo(answer.text)


def _is_listing(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("items"), list) and isinstance(data.get("fields"), list)


def table(fields: Sequence[str], items: Sequence[Mapping[str, Any]], *, fit: int | None = None) -> list[str]:
    """Rows under a header of API field names, in columns aligned by display width; numbers to the right.

    Nothing is cut: a person asked for these values. Fitted to `fit` columns (a terminal's width), the
    widest columns wrap onto more lines; piped or redirected, rows stay one line each, however long.
    """
    rows = [[_cell(item.get(name)) for name in fields] for item in items]
    numeric = [all(_is_number(item.get(name)) for item in items) for name in fields]
    widths = [max(_width(text) for text in [name, *(row[i] for row in rows)]) for i, name in enumerate(fields)]
    if fit is not None:
        widths = _fitted(widths, fit)
    lines = []
    for cells in [list(fields), *rows]:
        wrapped = [_wrapped(text, widths[i]) for i, text in enumerate(cells)]
        for depth in range(max(len(parts) for parts in wrapped)):
            parts = [cell[depth] if depth < len(cell) else "" for cell in wrapped]
            lines.append("  ".join(_pad(text, widths[i], right=numeric[i]) for i, text in enumerate(parts)).rstrip())
    return lines


def _fitted(widths: list[int], room: int) -> list[int]:
    """Column widths that fit `room` with two spaces between columns: the widest shrinks first."""
    widths = list(widths)
    while sum(widths) + 2 * (len(widths) - 1) > room:
        widest = max(range(len(widths)), key=lambda i: widths[i])
        if widths[widest] <= MIN_COLUMN_WIDTH:
            break  # as narrow as is readable: the terminal wraps the rest
        widths[widest] -= 1
    return widths


def _wrapped(text: str, width: int) -> list[str]:
    if _width(text) <= width:
        return [text]
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [text]


def _cell(value: Any) -> str:
    """A value as a person reads it in a table: an object of counts as 'RDBMS:3 S3:2', a list as 'a;b'."""
    if isinstance(value, dict) and all(not isinstance(item, dict | list) for item in value.values()):
        return " ".join(f"{key}:{plain(item)}" for key, item in value.items())
    if isinstance(value, list) and all(not isinstance(item, dict | list) for item in value):
        return ";".join(plain(item) for item in value)
    return plain(value)


def stdout_is_terminal() -> bool:
    return sys.stdout is not None and sys.stdout.isatty()


def terminal_width() -> int:
    return shutil.get_terminal_size((100, 24)).columns


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

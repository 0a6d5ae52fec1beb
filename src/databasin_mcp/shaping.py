"""From models to what an agent reads: projection, paging, compact text, the size cap.

Everything here is pure (no I/O), so it is shared by the MCP tools and the
command line. The text an LLM reads is a compact table: one line that says
what it is and how many there are, one header line of API field names, one
CSV line per row. Measured with Claude's tokenizer (benchmarks/RESULTS.md),
CSV rows cost the same as TSV rows and as TOON's tables, less than Markdown
tables, and a third to a half of pretty JSON; the title line is what paging
costs.

Every line written here is one line, whatever the values, field names and
echoed arguments hold: `untrusted.one_line` escapes what could end a line or
hide text, so an upstream value can never forge a line of the answer.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidArgumentError
from .params import ALL_FIELDS
from .untrusted import one_line
from .wording import AGENT_WORDS, Phrasing

# Paging in an agent's words, for callers that do not say whose words they want.
AGENT_PHRASING = Phrasing(AGENT_WORDS, "")
# A listing cell longer than this is cut: an agent wanting the whole value reads the record.
MAX_CELL_CHARS = 160
# Room a listing keeps under the cap for its title and its cut note, which are written once the rows are chosen.
_TITLE_ROOM = 300
# What structured data holds beyond its items and the text's title and notes: keys, counts, field names.
_DATA_ROOM = 1_000
_NEEDS_QUOTES = re.compile(r'[",\n\r]|^\s|\s$')


@dataclass(frozen=True)
class Answer:
    """What a tool answers: the compact text the model reads, and the same data for programs."""

    text: str
    data: dict[str, Any] = field(default_factory=dict)
    # What a write was about beyond `data` (the connector's name and project), for the audit log only.
    about: dict[str, Any] = field(default_factory=dict)

    def structured(self) -> dict[str, Any]:
        """The data with what the text says beyond it, so that either block alone carries the same facts.

        A listing or a record says its title line (`summary`) and notes itself; any other answer is a
        sentence or two, which is its summary.
        """
        if "summary" in self.data:
            return self.data
        return {"summary": self.text, **self.data}


# --- values ---------------------------------------------------------------------------------


def plain(value: Any) -> str:
    """One value as text on one line: empty for null, true/false, nested values without JSON noise.

    What could end the line or hide text is escaped visibly ("\\n", "\\u2028"), keys of nested values too.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{one_line(str(key))}: {plain(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(plain(item) for item in value) + "]"
    text = str(value)
    return text if text.isprintable() else one_line(text)  # the check inline: plain() runs for every cell


def cell(value: Any, *, max_chars: int = MAX_CELL_CHARS) -> str:
    """One value (or a field name) as a CSV cell: one line, cut to `max_chars`, quoted only when it must be."""
    text = plain(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def number(value: int) -> str:
    """1500 -> 1,500: counts in prose are read more reliably with separators."""
    return f"{value:,}"


def counted(value: int, plural: str) -> str:
    """(1, 'tables') -> '1 table', (1500, 'tables') -> '1,500 tables'. Every noun here takes a plain -s."""
    return f"{number(value)} {plural[:-1] if value == 1 else plural}"


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Müller ÉTÉ' -> 'muller ete'."""
    if text.isascii():
        # Nothing to decompose: 10x cheaper, and sorting a 20,000-table listing folds every name.
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


# --- projection ----------------------------------------------------------------------------------


def choose_fields(
    requested: Sequence[str] | None,
    default: Sequence[str],
    available: Sequence[str],
    say: Phrasing = AGENT_PHRASING,
) -> tuple[list[str], list[str]]:
    """(fields to show, available fields left out). Raises InvalidArgumentError for unknown names."""
    if not requested:
        shown = [name for name in default if name in available] or list(default)
    else:
        unknown = [name for name in requested if name != ALL_FIELDS and name not in available]
        if unknown:
            raise InvalidArgumentError(
                f"Unknown field{'s' if len(unknown) > 1 else ''} in {say.argument('fields')}: {', '.join(unknown)}. "
                f"Available: {', '.join(available)}."
            )
        shown = list(available) if ALL_FIELDS in requested else list(dict.fromkeys(requested))
    left_out = [name for name in available if name not in shown]
    return shown, left_out


def available_fields(declared: Sequence[str], sent: Iterable[Sequence[str]]) -> list[str]:
    """The fields some record was sent with: declared ones in declared order, then extras as first seen.

    A listing offers only these: the API's connector list, for one, leaves out fields that
    GET /api/connector/{id} has, and offering them would show an empty column that reads as
    "not set". With no records there is nothing to go by, so every declared field is offered.
    """
    seen: dict[str, None] = {}
    for names in sent:
        seen.update(dict.fromkeys(names))
    if not seen:
        return list(declared)
    return [name for name in declared if name in seen] + [name for name in seen if name not in declared]


# --- paging -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """Which slice of a listing is shown."""

    total: int
    offset: int
    limit: int
    shown: int

    @property
    def next_offset(self) -> int | None:
        end = self.offset + self.shown
        return end if end < self.total else None

    def span(self) -> str:
        """'showing 1–25' (or 'none shown' past the end)."""
        if self.shown == 0:
            return "none shown"
        return f"showing {number(self.offset + 1)}–{number(self.offset + self.shown)}"


# --- listings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TitleField:
    """A field a listing says once in its title ("inactive: 110") rather than as a cell on every row."""

    name: str
    note: Callable[[Sequence[Mapping[str, Any]]], str]  # the rows shown -> the title's note


def listing(
    *,
    noun: str,
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    left_out: Sequence[str],
    offset: int,
    limit: int,
    max_chars: int,
    scope: str = "",
    matched_of: int | None = None,
    filter_note: str = "",
    empty_hint: str = "",
    in_title: TitleField | None = None,
    aside: str = "",
    more: str = "",
    structured: bool = False,
    say: Phrasing = AGENT_PHRASING,
    shown_as: Mapping[str, Callable[[Any], Any]] | None = None,
    cell_chars: int = MAX_CELL_CHARS,
) -> Answer:
    """A paged, projected, capped table of rows.

    `rows` are all the rows that match (already filtered and sorted); this
    picks the page, renders it, and cuts it if it passes `max_chars`.
    `in_title` names a field the text says once in the title instead of in a
    column; the structured items keep it. `aside` is said in the title's
    parentheses too ("default schema"). `more` replaces "next: offset=N" for
    a tool that takes no offset (how else to see the rest). `say` words the
    paging arguments for the front end that asked. `shown_as` renders a field's
    value for the text (the data keeps the value); `cell_chars` is where a value is cut. With `structured`,
    the data (sent to programs as JSON, each item with its field names) is held
    under the cap too.
    """
    total = len(rows)
    page_rows = rows[offset : offset + limit]
    titled = in_title if in_title is not None and in_title.name in fields else None
    columns = [name for name in fields if titled is None or name != titled.name]
    room = max_chars - _TITLE_ROOM
    # A header that would take more than half the room leaves its last columns out of the text (not the data).
    header_cells = _fitting([cell(name) for name in columns], room // 2)
    columns_cut = len(columns) - len(header_cells)
    columns = columns[: len(header_cells)]
    header = ",".join(header_cells)
    renderers = dict(shown_as or {})

    def text_of(row: Mapping[str, Any]) -> dict[str, Any]:
        return {name: renderers[name](row.get(name)) if name in renderers else row.get(name) for name in columns}

    text_rows = [text_of(row) for row in page_rows]
    lines = [",".join(cell(row[name], max_chars=cell_chars) for name in columns) for row in text_rows]

    # Whole rows while they fit; a first row wider than the room is shown with its cells cut, so that
    # paging always moves on (a page of no rows would say "next: offset=" this same offset forever).
    budget = room - len(header) - 1
    shown = 0
    used = 0
    while shown < len(lines) and used + len(lines[shown]) + 1 <= budget:
        used += len(lines[shown]) + 1
        shown += 1
    squeezed = shown == 0 and bool(lines)
    if squeezed:
        lines[0] = _squeezed(text_rows[0], columns, budget)
        shown = 1

    def render(shown: int) -> Answer:
        page = Page(total=total, offset=offset, limit=limit, shown=shown)
        rows_cut = shown < len(lines)
        said_once = titled.note(page_rows[:shown]) if titled is not None and shown else ""
        note = "; ".join(part for part in (aside, said_once) if part)
        text_lines = [_title(noun, page, scope, matched_of, filter_note, note, more, say)]
        if page.shown:
            text_lines += [header, *lines[:shown]]
        elif total == 0 and empty_hint:
            text_lines.append(empty_hint)
        if rows_cut or squeezed or columns_cut:
            text_lines.append(_cut_note(shown, rows_cut, squeezed, columns_cut, max_chars, offset, more, say))
        text_lines = [one_line(line) for line in text_lines]
        table_lines = 1 + shown if shown else 0  # the header and the rows
        data: dict[str, Any] = {
            "summary": text_lines[0],
            "items": items[:shown],
            "fields": list(fields),
            "omitted_fields": list(left_out),
            "total": total,
            "offset": offset,
            "limit": limit,
            "next_offset": None if more else page.next_offset,
            "truncated": rows_cut or squeezed or bool(columns_cut),
            "notes": text_lines[1 + table_lines :],
        }
        return Answer("\n".join(text_lines), data)

    items = [{name: row.get(name) for name in fields} for row in page_rows]
    # The size of each item as JSON, once, when the data has to fit under the cap too.
    item_sizes = [len(json.dumps(item, ensure_ascii=False, separators=(",", ":"))) + 1 for item in items]

    def too_long(answer: Answer, shown: int) -> bool:
        if len(answer.text) > max_chars:
            return True
        return structured and sum(item_sizes[:shown]) + len(answer.text) + _DATA_ROOM > max_chars

    answer = render(shown)
    # The title and the note were only estimated: a long one (scope, filters, inactive IDs) costs rows.
    while too_long(answer, shown) and shown > 1:
        shown -= 1
        answer = render(shown)
    return answer


def _fitting(cells: list[str], room: int) -> list[str]:
    """The leading cells whose CSV line fits in `room` characters; always at least one."""
    used = -1
    for count, text in enumerate(cells):
        used += len(text) + 1
        if used > room and count:
            return cells[:count]
    return cells


def _squeezed(row: Mapping[str, Any], columns: Sequence[str], budget: int) -> str:
    """One row cut to fit `budget` characters: every cell cut to the same width, then the line if need be."""
    width = max(1, (budget - len(columns) + 1) // max(len(columns), 1))
    while True:
        line = ",".join(cell(row.get(name), max_chars=width) for name in columns)
        if len(line) <= budget or width == 1:
            break
        width = max(1, width // 2)
    return line if len(line) <= budget else line[: max(budget - 1, 0)] + "…"


def _cut_note(
    shown: int, rows_cut: bool, squeezed: bool, columns_cut: int, max_chars: int, offset: int, more: str, say: Phrasing
) -> str:
    """'… cut to 12 rows by the 20,000-character cap: ask for fewer fields or limit=12; next: offset=12'."""
    cuts = []
    if columns_cut:
        cuts.append(f"{counted(columns_cut, 'columns')} left out")
    if rows_cut:
        cuts.append(f"cut to {counted(shown, 'rows')}")
    if squeezed:
        cuts.append("its cells shortened" if rows_cut else "the row's cells shortened")
    advice = "ask for fewer fields" + (f" or {say.setting('limit', shown)}" if rows_cut and not squeezed else "")
    onwards = f"; next: {say.setting('offset', offset + shown)}" if rows_cut and not more else ""
    said = ", ".join(cuts) + ("," if len(cuts) > 1 else "")
    return f"… {said} by the {number(max_chars)}-character cap: {advice}{onwards}"


def _title(
    noun: str, page: Page, scope: str, matched_of: int | None, filter_note: str, note: str, more: str, say: Phrasing
) -> str:
    """'95 connectors in proj-007, showing 1–25 (inactive: 110); next: offset=25'."""
    # "1 table", but "1 of 4 tables": the noun agrees with the last count.
    count = counted(page.total, noun) if matched_of is None else f"{number(page.total)} of {counted(matched_of, noun)}"
    where = f" {scope}" if scope else ""
    matching = f" {filter_note}" if filter_note else ""
    title = f"{count}{where}{matching}"
    if page.total and (page.offset or page.shown < page.total):
        title += f", {page.span()}"
    if note:
        title += f" ({note})"
    if page.next_offset is not None:
        title += f"; {more}" if more else f"; next: {say.setting('offset', page.next_offset)}"
    return title


# --- single records ------------------------------------------------------------------------------


def record(title: str, values: Mapping[str, Any], *, max_chars: int, notes: Sequence[str] = ()) -> Answer:
    """One record as 'field: value' lines under a title line; empty values are left out."""
    lines = [title]
    empty = [name for name, value in values.items() if value is None or value == ""]
    lines += [f"{name}: {plain(value)}" for name, value in values.items() if name not in empty]
    if empty:
        lines.append(f"empty: {', '.join(empty)}")
    lines += notes
    text = cap_text("\n".join(one_line(line) for line in lines), max_chars)
    return Answer(text, {"summary": one_line(title), "notes": [one_line(note) for note in notes]})


def cap_text(text: str, max_chars: int) -> str:
    """Hold any text under the character cap, saying what was cut."""
    if len(text) <= max_chars:
        return text
    note = f"\n… cut at {number(max_chars)} characters (of {number(len(text))}); ask for fewer fields."
    return text[: max_chars - len(note)] + note

"""Small pure pieces the operations share: what a title says once, how names are compared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..models import APIRecord, Connector, RecordList, SkippedRecord, skipped_of
from ..shaping import counted, plain
from ..wording import Phrasing

# How many unreadable records a title names before it says "and N more".
NAMED_UNREAD = 5
UNREAD_LABEL_CHARS = 40
# An extra field's value up to this long is shown by get_connector; a longer one, or an object, is named.
SHORT_EXTRA_CHARS = 60


def unread(records: Sequence[APIRecord], id_field: str) -> list[tuple[str, tuple[str, ...]]]:
    """(the record's ID or name, its unreadable fields) for each record not fully read."""
    return [(str(getattr(record, id_field)), record.unread_fields) for record in records if record.unread_fields]


def reading_note(
    plural: str, not_read: Sequence[tuple[str, tuple[str, ...]]], skipped: Sequence[SkippedRecord], id_field: str
) -> str:
    """What a listing could not read, said once: '1 connector could not be fully read: 5 (createdDate)';
    '1 connector left out: its connectorID could not be read'. Field names only, never values."""
    parts = []
    if not_read:
        named = ", ".join(f"{_short(label)} ({', '.join(fields)})" for label, fields in not_read[:NAMED_UNREAD])
        more = f" and {len(not_read) - NAMED_UNREAD} more" if len(not_read) > NAMED_UNREAD else ""
        parts.append(f"{counted(len(not_read), plural)} could not be fully read: {named}{more}")
    if skipped:
        fields = sorted({name for record in skipped for name in record.fields}) or [id_field]
        whose = "its" if len(skipped) == 1 else "their"
        parts.append(f"{counted(len(skipped), plural)} left out: {whose} {' and '.join(fields)} could not be read")
    return "; ".join(parts)


def records_note(plural: str, records: Sequence[APIRecord], id_field: str) -> str:
    """reading_note for a list of records as the client returned it."""
    return reading_note(plural, unread(records, id_field), skipped_of(records), id_field)


def _short(label: str) -> str:
    return label if len(label) <= UNREAD_LABEL_CHARS else label[: UNREAD_LABEL_CHARS - 1] + "…"


def in_scope(
    connectors: Sequence[Connector], institution_id: int | None, project_id: str | None, *, unknown_belongs: bool
) -> RecordList[Connector]:
    """The connectors (and the unreadable records) of one project and/or institution.

    A connector says where it belongs with internalID and institutionID; `unknown_belongs` decides for
    one that does not say (or whose value could not be read)."""
    institution = None if institution_id is None else str(institution_id)

    def belongs(project_of: str | None, institution_of: str | None) -> bool:
        return all(
            wanted is None or (value == wanted if value is not None else unknown_belongs)
            for wanted, value in ((project_id, project_of), (institution, institution_of))
        )

    return RecordList(
        (c for c in connectors if belongs(c.internalID, None if c.institutionID is None else str(c.institutionID))),
        (s for s in skipped_of(connectors) if belongs(s.project, s.institution)),
    )


def name_key(name: str) -> str:
    """A connector name as duplicates are judged: case and surrounding spaces ignored (how people retype)."""
    return name.strip().casefold()


def same_name(connectors: Sequence[Connector], name: str) -> list[Connector]:
    """The connectors named `name`, by name_key."""
    return [c for c in connectors if name_key(c.connectorName or "") == name_key(name)]


def activity_note(rows: Sequence[Mapping[str, Any]], shown: Sequence[Mapping[str, Any]]) -> str:
    """'inactive: 110, 133' (or 'all active'); on one page of several, which of all are inactive:
    '7 inactive, on this page: 110, 125', so a page never reads as the whole listing."""
    inactive = [str(row["connectorID"]) for row in shown if row.get("active") is False]
    unknown = [str(row["connectorID"]) for row in shown if row.get("active") is None]
    in_all = sum(row.get("active") is False for row in rows)
    if len(shown) == len(rows) or len(inactive) == in_all:  # the page shows every inactive one
        state = f"inactive: {', '.join(inactive)}" if inactive else ("all active" if not unknown else "")
    elif inactive:
        state = f"{in_all} inactive, on this page: {', '.join(inactive)}"
    else:
        state = f"{in_all} inactive, none on this page"
    parts = [state, f"active unknown: {', '.join(unknown)}" if unknown else ""]
    return "; ".join(part for part in parts if part)


def primary_key_note(columns: Sequence[Mapping[str, Any]]) -> str:
    """'primary key: id' (or 'tenant_id, id'), 'no primary key' when the API says none is, else ''."""
    keys = [str(column["columnName"]) for column in columns if column.get("isPrimaryKey") is True]
    if keys:
        return f"primary key: {', '.join(keys)}"
    if columns and all(column.get("isPrimaryKey") is False for column in columns):
        return "no primary key"
    return ""  # the API did not say (the v2 routes never do)


def defaults_used(**names: str | None) -> str:
    """ "the API's default catalog and schema" for the names left to the API: the count is then of what the
    API chose, not of the whole connector (a metadata refresh counts everything)."""
    missing = [name for name, given in names.items() if not given]
    return f"the API's default {' and '.join(missing)}" if missing else ""


def describe_filters(say: Phrasing, **filters: Any) -> str:
    """'matching name_contains='zz'' for an agent, 'matching --name-contains zz' for a person."""
    given = [plain(say.setting(key, value)) for key, value in filters.items() if value is not None]
    return f"matching {', '.join(given)}" if given else ""


def is_short(value: Any) -> bool:
    return not isinstance(value, dict | list) and len(plain(value)) <= SHORT_EXTRA_CHARS


def shown_value(value: Any) -> str:
    return "(empty)" if value is None or value == "" else plain(value)

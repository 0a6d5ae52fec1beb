"""Reading connectors: a project's listing, a search across projects, one connector's fields."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import BadResponseError, InvalidArgumentError
from ..models import Connector, RecordList
from ..params import (
    FIND_LIMIT_MAX,
    ActiveFilter,
    ConnectorId,
    ConnectorLimit,
    ConnectorTypeFilter,
    Fields,
    FindLimit,
    InstitutionFilter,
    NameContains,
    Offset,
    ProjectId,
    Query,
)
from ..shaping import Answer, TitleField, available_fields, choose_fields, fold, listing, record
from ..wording import ANY, ANY_LIST, Phrasing
from .base import Services
from .directory import Directory
from .notes import activity_note, describe_filters, is_short, records_note

FIND_FIELDS = (*Connector.DEFAULT_LIST_FIELDS, "internalID")


class ConnectorReads:
    """list_connectors, find_connectors, get_connector, and the look-up the writes make first."""

    def __init__(self, services: Services, directory: Directory) -> None:
        self.services = services
        self.directory = directory

    async def list_connectors(
        self,
        *,
        project_id: ProjectId = None,
        institution_id: InstitutionFilter = None,
        name_contains: NameContains = None,
        connector_type: ConnectorTypeFilter = None,
        active: ActiveFilter = None,
        fields: Fields = None,
        limit: ConnectorLimit = 25,
        offset: Offset = 0,
    ) -> Answer:
        """A project's connectors, a page at a time."""
        say = self.services.say("list_connectors")
        project = self.directory.project(project_id, "list_connectors")
        connectors = await self.directory.connectors(institution_id=institution_id, project_id=project)
        matches = [
            c
            for c in connectors
            if (name_contains is None or fold(name_contains) in fold(c.connectorName or ""))
            and (connector_type is None or fold(connector_type) in map(fold, c.type_names))
            and (active is None or c.active is active)
        ]
        if not connectors:
            # None here: an empty project, or one that does not exist (a typo must not read as "empty").
            found = await self.directory.look_up(project)
            if not found.exists:
                raise self.directory.unknown_project(project, found, "list_connectors", consequence="")
        filters = describe_filters(say, name_contains=name_contains, connector_type=connector_type, active=active)
        empty_hint = "" if matches else self._why_none(project, connectors, connector_type, filters, institution_id)
        return self._listing(
            matches,
            all_connectors=connectors,
            fields=fields,
            default=Connector.DEFAULT_LIST_FIELDS,
            limit=limit,
            offset=offset,
            scope=f"in {project}" + (f" of institution {institution_id}" if institution_id is not None else ""),
            filters=filters,
            empty_hint=empty_hint,
            say=say,
        )

    async def find_connectors(self, *, query: Query, fields: Fields = None, limit: FindLimit = 10) -> Answer:
        """Connectors of every project whose name, host, database or type has all the words."""
        say = self.services.say("find_connectors")
        words = fold(query).split()
        if not words:
            raise InvalidArgumentError(
                f"{say.argument('query')} must contain at least one word, "
                f"e.g. {say.setting('query', 'finance snowflake')}."
            )
        connectors = await self.directory.connectors()
        ranked = sorted(
            (rank, c.connectorID, c)
            for c in connectors
            if (rank := _match_rank(c, words, fold(query).strip())) is not None
        )
        return self._listing(
            [c for _, _, c in ranked],
            all_connectors=connectors,
            fields=fields,
            default=FIND_FIELDS,
            limit=limit,
            offset=0,
            scope="",
            filters=f"match {query.strip()!r}",
            empty_hint="Try fewer or shorter words; the match covers name, host, database and type.",
            sort=False,
            more=f"more: add words to the query, or raise {say.argument('limit')} (up to {FIND_LIMIT_MAX})",
            say=say,
        )

    async def get_connector(self, *, connector_id: ConnectorId, fields: Fields = None) -> Answer:
        """One connector's fields; short extras shown, long ones named."""
        say = self.services.say("get_connector")
        connector = await self.connector(connector_id)
        row = connector.as_row()
        declared = list(Connector.model_fields)
        extras = list(connector.extra_fields())
        if fields:
            shown, _ = choose_fields(fields, declared, [*declared, *extras], say)
            if "connectorID" not in shown:
                shown.insert(0, "connectorID")
            left_out = [name for name in extras if name not in shown]
        else:
            # What the upstream adds beyond the reference is shown when it is short (a flag, a status) and
            # named when it is not (a description, an options object): naming costs a few tokens, showing
            # a paragraph costs hundreds that most questions about a connector do not need.
            short = [name for name in extras if is_short(row.get(name))]
            shown = [*declared, *short]
            left_out = [name for name in extras if name not in short]
        values = {name: row.get(name) for name in shown}
        notes = [f"more fields: {', '.join(left_out)} (ask with {say.setting('fields', ANY_LIST)})"] if left_out else []
        if connector.unread_fields:
            notes.append(f"could not be read: {', '.join(connector.unread_fields)}")
        answer = record(
            f"connectorID: {connector_id}",
            {k: v for k, v in values.items() if k != "connectorID"},
            max_chars=self.services.settings.max_chars,
            notes=notes,
        )
        return Answer(answer.text, {**answer.data, "connector": values, "omitted_fields": left_out})

    async def connector(self, connector_id: int, *, before: str = "") -> Connector:
        """GET /api/connector/{id}, refused when the API answers with another connector: a confused proxy or
        cache would otherwise have the title say one ID while the fields (or what a delete names) are
        another's. `before` is the write that was about to follow, to say it was not made."""
        connector = await self.services.client.get_connector(connector_id)
        if connector.connectorID != connector_id:
            not_done = f" Nothing was {before}." if before else ""
            raise BadResponseError(
                f"The Databasin API answered with connector {connector.connectorID} when asked for connector "
                f"{connector_id}; that answer was not used.{not_done} Try again; if it persists, the API or a "
                "proxy in front of it is mixing up answers."
            )
        return connector

    def _listing(
        self,
        matches: list[Connector],
        *,
        all_connectors: RecordList[Connector],
        fields: Sequence[str] | None,
        default: Sequence[str],
        limit: int,
        offset: int,
        scope: str,
        filters: str,
        empty_hint: str,
        say: Phrasing,
        sort: bool = True,
        more: str = "",
    ) -> Answer:
        settings = self.services.settings
        if sort:
            matches = sorted(matches, key=lambda c: c.connectorID)
        rows = [c.as_row() for c in matches]
        available = available_fields(list(Connector.model_fields), (c.sent_fields() for c in all_connectors))
        unlisted = [name for name in fields or () if name in Connector.model_fields and name not in available]
        if unlisted:
            one = self.services.words.call("get_connector", connector_id=ANY)
            raise InvalidArgumentError(
                f"{say.argument('fields')}: the API's connector list does not carry {', '.join(unlisted)}; "
                f"{one} shows every field of one connector."
            )
        shown, left_out = choose_fields(fields, default, available, say)
        # By default `active` is said once in the title ("inactive: 110, 133") instead of a
        # true/false cell on every row: most connectors are active, and that column costs about
        # 2 of the ~11 tokens of a row (measured: 310 -> 262 tokens for 25 rows of proj-007).
        return listing(
            noun="connectors",
            rows=rows,
            fields=shown,
            left_out=left_out,
            offset=offset,
            limit=limit,
            max_chars=settings.max_chars,
            structured=settings.structured_output,
            say=say,
            scope=scope,
            matched_of=len(all_connectors) if filters else None,
            filter_note=filters,
            empty_hint=empty_hint,
            in_title=None if fields else TitleField("active", lambda shown: activity_note(rows, shown)),
            aside=records_note("connectors", all_connectors, "connectorID"),
            more=more,
        )

    def _why_none(
        self,
        project: str,
        connectors: list[Connector],
        connector_type: str | None,
        filters: str,
        institution_id: int | None,
    ) -> str:
        """The next step when list_connectors finds nothing (worked out only then)."""
        words = self.services.words
        types_here = sorted({name for c in connectors for name in c.type_names}, key=str.casefold)
        if connector_type is not None and types_here and fold(connector_type) not in map(fold, types_here):
            return f"{words.argument('list_connectors', 'connector_type')}: {project} has {', '.join(types_here)}."
        if filters:
            return "Loosen the filters, or check them against the listing without filters."
        projects = words.call("list_projects")
        if institution_id is None:
            return f"Check the project ID with {projects}."
        return f"Check the project and institution IDs with {projects}."


def _match_rank(connector: Connector, words: list[str], phrase: str) -> int | None:
    """How well a connector matches a query (lower is better), or None when a word is missing."""
    name = fold(connector.connectorName or "")
    haystack = " ".join(
        fold(str(value))
        for value in (
            connector.connectorName,
            connector.connectorHost,
            connector.connectorDatabaseName,
            *connector.type_names,
        )
        if value
    )
    if not all(word in haystack for word in words):
        return None
    if name == phrase:
        return 0
    if name.startswith(phrase):
        return 1
    if all(word in name for word in words):
        return 2
    return 3

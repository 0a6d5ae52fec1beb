"""What each tool does: validated arguments -> client -> models -> shaping -> Answer.

This layer knows nothing of MCP, so the command line reuses it as it is. It
owns the listing cache and the safety rules that need more than one request:
the duplicate check before a create, the look-up that names a connector
before it is deleted, the before-and-after of an update.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from .cache import ListingCache
from .client import DatabasinClient
from .config import Settings
from .errors import BadResponseError, DatabasinError, InvalidArgumentError, NotFoundError, TransportError
from .models import (
    APIRecord,
    Catalog,
    Column,
    Connector,
    ConnectorChanges,
    Project,
    RecordList,
    Schema,
    SkippedRecord,
    Table,
    skipped_of,
)
from .redact import MASK
from .shaping import (
    Answer,
    TitleField,
    available_fields,
    cap_text,
    choose_fields,
    counted,
    fold,
    listing,
    plain,
    record,
)

logger = logging.getLogger(__name__)

# Progress callback: (seconds elapsed, message). The MCP layer turns it into notifications.
Progress = Callable[[float, str], Awaitable[None]]

PROJECT_FIELDS = ("project_id", "institution_id", "connectors", "types")
PROJECT_FIELDS_NAMED = ("project_id", "name", "institution_id", "connectors", "types")
FIND_FIELDS = (*Connector.DEFAULT_LIST_FIELDS, "internalID")
UPDATABLE = ("name", "host", "port", "database", "username", "password", "auth_type", "max_connections", "active")
FIND_LIMIT_MAX = 50  # find_connectors takes no offset: past this, the query has to narrow
PROGRESS_INTERVAL = 1.0
# How long a create that got no answer blocks a same-name create (it may still land upstream).
UNANSWERED_CREATE_WINDOW = 120.0


class Operations:
    """The connector operations, over one client and one listing cache."""

    def __init__(self, client: DatabasinClient, settings: Settings, cache: ListingCache | None = None) -> None:
        self.client = client
        self.settings = settings
        self.cache = cache or ListingCache(settings.cache_ttl, max_bytes=settings.cache_max_bytes)
        # (project, folded name) -> when a create got no answer (timeout, dropped, 5xx, cancelled).
        self._unanswered_creates: dict[tuple[str, str], float] = {}
        # (project, folded name) -> the create being made now; a second one waits for its outcome.
        self._creates_in_flight: dict[tuple[str, str], _CreateInFlight] = {}

    # --- projects and connectors ------------------------------------------------------------

    async def list_projects(self, *, institution_id: int | None = None) -> Answer:
        connectors = await self._connectors(institution_id=institution_id)
        by_project: dict[str, list[Connector]] = defaultdict(list)
        for connector in connectors:
            by_project[connector.internalID or "(none)"].append(connector)
        projects = await self._my_projects(institution_id)
        named = {project.internalID: project for project in projects} if projects is not None else None
        for project_id in named or {}:
            by_project.setdefault(project_id, [])  # a project without connectors is still a project
        rows = [
            _project_row(project, members, named.get(project) if named else None)
            for project, members in sorted(by_project.items())
        ]
        scope = f"with {counted(len(connectors), 'connectors')}"
        if institution_id is not None:
            scope += f" in institution {institution_id}"
        reading = [
            _reading_note("connectors", _unread(connectors, "connectorID"), skipped_of(connectors), "connectorID"),
            _reading_note("projects", _unread(projects or [], "internalID"), skipped_of(projects or []), "internalID"),
        ]
        return listing(
            noun="projects",
            rows=rows,
            fields=PROJECT_FIELDS_NAMED if named else PROJECT_FIELDS,
            left_out=(),
            offset=0,
            limit=max(len(rows), 1),
            max_chars=self.settings.max_chars,
            structured=self.settings.structured_output,
            scope=scope,
            aside="; ".join(note for note in reading if note),
            empty_hint=(
                "No connectors are visible to this token."
                if institution_id is None
                else "None visible to this token; list_projects() without institution_id shows every institution's."
            ),
        )

    async def _named_projects(self, institution_id: int | None) -> dict[str, Project] | None:
        """The user's projects by internalID where the backend has /api/my/projects, else None."""
        projects = await self._my_projects(institution_id)
        return {project.internalID: project for project in projects} if projects is not None else None

    async def _my_projects(self, institution_id: int | None) -> RecordList[Project] | None:
        """The user's projects (of one institution) where the backend has /api/my/projects, else None."""
        try:
            projects = await self.cache.get_or_fetch(("my-projects",), self.client.list_my_projects)
        except DatabasinError as error:
            # Names are a nicety: without them the listing still answers from the connectors.
            logger.info("Project names unavailable: %s", type(error).__name__)
            return None
        if projects is None:
            return None
        wanted = None if institution_id is None else str(institution_id)
        return RecordList(
            (project for project in projects if wanted is None or str(project.institutionID) == wanted),
            (skipped for skipped in skipped_of(projects) if wanted is None or skipped.institution in (None, wanted)),
        )

    async def list_connectors(
        self,
        *,
        project_id: str | None = None,
        institution_id: int | None = None,
        name_contains: str | None = None,
        connector_type: str | None = None,
        active: bool | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> Answer:
        project = self._project(project_id)
        connectors = await self._connectors(institution_id=institution_id, project_id=project)
        matches = [
            c
            for c in connectors
            if (name_contains is None or fold(name_contains) in fold(c.connectorName or ""))
            and (connector_type is None or fold(connector_type) in map(fold, c.type_names))
            and (active is None or c.active is active)
        ]
        filters = _describe_filters(name_contains=name_contains, connector_type=connector_type, active=active)
        empty_hint = "" if matches else _why_none(project, connectors, connector_type, filters, institution_id)
        return self._connector_listing(
            matches,
            all_connectors=connectors,
            fields=fields,
            default=Connector.DEFAULT_LIST_FIELDS,
            limit=limit,
            offset=offset,
            scope=f"in {project}" + (f" of institution {institution_id}" if institution_id is not None else ""),
            filters=filters,
            empty_hint=empty_hint,
        )

    async def find_connectors(self, *, query: str, fields: Sequence[str] | None = None, limit: int = 10) -> Answer:
        words = fold(query).split()
        if not words:
            raise InvalidArgumentError("query must contain at least one word, e.g. query='finance snowflake'.")
        connectors = await self._connectors()
        ranked = sorted(
            (rank, c.connectorID, c)
            for c in connectors
            if (rank := _match_rank(c, words, fold(query).strip())) is not None
        )
        return self._connector_listing(
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
            more=f"more: add words to the query, or raise limit (up to {FIND_LIMIT_MAX})",
        )

    async def get_connector(self, *, connector_id: int, fields: Sequence[str] | None = None) -> Answer:
        connector = await self._connector(connector_id)
        row = connector.as_row()
        declared = list(Connector.model_fields)
        extras = list(connector.extra_fields())
        if fields:
            shown, _ = choose_fields(fields, declared, [*declared, *extras])
            if "connectorID" not in shown:
                shown.insert(0, "connectorID")
            left_out = [name for name in extras if name not in shown]
        else:
            # What the upstream adds beyond the reference is shown when it is short (a flag, a status) and
            # named when it is not (a description, an options object): naming costs a few tokens, showing
            # a paragraph costs hundreds that most questions about a connector do not need.
            short = [name for name in extras if _is_short(row.get(name))]
            shown = [*declared, *short]
            left_out = [name for name in extras if name not in short]
        values = {name: row.get(name) for name in shown}
        notes = [f"more fields: {', '.join(left_out)} (ask with fields=[...])"] if left_out else []
        if connector.unread_fields:
            notes.append(f"could not be read: {', '.join(connector.unread_fields)}")
        answer = record(
            f"connectorID: {connector_id}",
            {k: v for k, v in values.items() if k != "connectorID"},
            max_chars=self.settings.max_chars,
            notes=notes,
        )
        return Answer(answer.text, {**answer.data, "connector": values, "omitted_fields": left_out})

    async def _connector(self, connector_id: int, *, before: str = "") -> Connector:
        """GET /api/connector/{id}, refused when the API answers with another connector: a confused proxy or
        cache would otherwise have the title say one ID while the fields (or what a delete names) are
        another's. `before` is the write that was about to follow, to say it was not made."""
        connector = await self.client.get_connector(connector_id)
        if connector.connectorID != connector_id:
            not_done = f" Nothing was {before}." if before else ""
            raise BadResponseError(
                f"The Databasin API answered with connector {connector.connectorID} when asked for connector "
                f"{connector_id}; that answer was not used.{not_done} Try again; if it persists, the API or a "
                "proxy in front of it is mixing up answers."
            )
        return connector

    # --- writes --------------------------------------------------------------------------------

    async def create_connector(
        self,
        *,
        name: str,
        connector_type: str,
        institution_id: int,
        project_id: str | None = None,
        host: str | None = None,
        port: int | None = None,
        database: str | None = None,
        username: str | None = None,
        password: str | None = None,
        auth_type: int | None = None,
        owner_id: int | None = None,
        max_connections: int | None = None,
        test: bool = False,
        allow_duplicate: bool = False,
    ) -> Answer:
        project = self._project(project_id)
        changes = ConnectorChanges(
            name=name,
            connector_type=connector_type,
            institution_id=institution_id,
            project_id=project,
            host=host,
            port=None if port is None else str(port),  # the API keeps ports as strings
            database=database,
            username=username,
            password=password,
            auth_type=auth_type,
            owner_id=owner_id,
            max_connections=max_connections,
        )
        key = (project, _name_key(name))

        async def create() -> Answer:
            return await self._create(key, changes, name, connector_type, institution_id, test, allow_duplicate)

        if allow_duplicate:
            return await create()  # another one is what was asked for: no reason to wait for one in flight
        return await self._one_create_in_flight(key, name, create)

    async def _one_create_in_flight(
        self, key: tuple[str, str], name: str, create: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """One create per (project, folded name) at a time. Parallel tool calls, and clients that retry on
        their own timeout, send the same create twice before the first is answered; the duplicate check
        cannot see a connector that is still being made, so the second waits and answers with the first's
        outcome instead of sending a second POST."""
        while (first := self._creates_in_flight.get(key)) is not None:
            await first.done.wait()
            if first.answer is not None or first.error is not None:
                return first.told_again()
            # The first was cancelled before it had an outcome: this one makes its own attempt (which a
            # cancelled POST, perhaps on its way, holds off through _unanswered_creates).
        mine = _CreateInFlight(project=key[0], name=name)
        self._creates_in_flight[key] = mine
        try:
            mine.answer = await create()
            return mine.answer
        except DatabasinError as error:
            mine.error = error
            raise
        finally:
            del self._creates_in_flight[key]
            mine.done.set()

    async def _create(
        self,
        pending_key: tuple[str, str],
        changes: ConnectorChanges,
        name: str,
        connector_type: str,
        institution_id: int,
        test: bool,
        allow_duplicate: bool,
    ) -> Answer:
        project = pending_key[0]
        members = await self._connectors(project_id=project)
        await self._check_project(project, institution_id, members)
        if not allow_duplicate:
            # Agents retry: a second create with the same name in the same project is almost
            # always the first one again, so answer with what exists instead of a duplicate.
            existing = _same_name(members, name)
            if existing:
                found = existing[0]
                self._unanswered_creates.pop(pending_key, None)
                return Answer(
                    f"Not created: {plain(project)} already has connector {found.connectorID} named "
                    f"{found.connectorName!r} ({plain(found.connectorType)}). Use connector_id={found.connectorID}, "
                    "or pass allow_duplicate=true to create another.",
                    {"created": False, "connector_id": found.connectorID, "duplicate": True},
                )
            if (waited := self._waiting_create(pending_key)) is not None:
                return Answer(
                    f"Not created: a create of {name!r} in {plain(project)} got no answer {waited:.0f} s ago and may "
                    f"still go through. Check with find_connectors(query={name!r}) in a minute, or pass "
                    "allow_duplicate=true to create another.",
                    {"created": False, "connector_id": None, "pending": True},
                )
        try:
            result = await self.client.create_connector(changes)
        except TransportError as error:
            # No answer does not mean no connector: the API may still be creating it. A retry
            # in the next minutes must not make a second one before the first shows up.
            if error.maybe_sent:
                self._unanswered_creates[pending_key] = time.monotonic()
            raise
        except anyio.get_cancelled_exc_class():
            # The call was given up (a client's own timeout) with the POST perhaps on its way: the same.
            self._unanswered_creates[pending_key] = time.monotonic()
            raise
        finally:
            self.cache.clear()  # even a failed create may have reached the server
        new_id = result.connectorID
        if new_id is None:
            return Answer(
                f"Created {name!r} in {plain(project)}, but the API did not return its ID "
                f"({plain(result.message or 'no message')}). Find it with find_connectors(query={name!r}).",
                {"created": True, "connector_id": None},
            )
        lines = [f"Created connector {new_id} {name!r} ({plain(connector_type)}) in {plain(project)}."]
        if not members:
            lines.append(
                f"It is the first connector in {plain(project)}: if that is unexpected, "
                "check the ID with list_projects."
            )
        data: dict[str, Any] = {"created": True, "connector_id": new_id}
        if test:
            test_answer = await self._test_after_create(new_id)
            lines.append(test_answer.text)
            data["test"] = test_answer.data
        return Answer("\n".join(lines), data)

    async def _check_project(self, project: str, institution_id: int, members: list[Connector]) -> None:
        """Refuse a create that would land in the wrong place: a project of another institution, a
        project ID in the wrong case, or (where the API lists the user's projects) no project at all."""
        institutions = sorted({str(c.institutionID) for c in members if c.institutionID is not None})
        if institutions and str(institution_id) not in institutions:
            raise InvalidArgumentError(
                f"institution_id: {plain(project)} belongs to institution {plain(' and '.join(institutions))}; "
                f"pass institution_id={plain(institutions[0])}. Nothing was created."
            )
        if members:
            return
        others = {c.internalID for c in await self._connectors() if c.internalID}
        named = await self._named_projects(None)
        others.update(named or {})
        if project in others:
            return
        near = sorted(other for other in others if other.casefold() == project.casefold())
        if near:
            raise InvalidArgumentError(
                f"project_id: there is no {project!r}; did you mean {near[0]!r}? Project IDs are case-sensitive. "
                "Nothing was created."
            )
        if named is not None:
            raise InvalidArgumentError(
                f"project_id: {project!r} is not one of your projects; list_projects shows them. Nothing was created."
            )

    def _waiting_create(self, key: tuple[str, str]) -> float | None:
        """Seconds since a create of this name got no answer, while that is recent enough to matter."""
        now = time.monotonic()
        for old in [k for k, started in self._unanswered_creates.items() if now - started > UNANSWERED_CREATE_WINDOW]:
            del self._unanswered_creates[old]  # every old one, not only this name's: the dict stays small
        started = self._unanswered_creates.get(key)
        return None if started is None else now - started

    async def _test_after_create(self, connector_id: int) -> Answer:
        try:
            return await self.test_connector(connector_id=connector_id)
        except DatabasinError as error:
            # The create stands; only the test could not run. Say both.
            return Answer(f"Test could not run: {error}", {"success": None, "error": str(error)})

    async def update_connector(self, *, connector_id: int, **given: Any) -> Answer:
        changes_given = {key: value for key, value in given.items() if value is not None}
        unknown = sorted(set(changes_given) - set(UPDATABLE))
        if unknown:
            raise InvalidArgumentError(f"Cannot update {', '.join(unknown)}; updatable: {', '.join(UPDATABLE)}.")
        if not changes_given:
            raise InvalidArgumentError(f"Nothing to update: pass at least one of {', '.join(UPDATABLE)}.")
        if "port" in changes_given:
            changes_given["port"] = str(changes_given["port"])  # the API keeps ports as strings
        changes = ConnectorChanges(**changes_given)
        before = (await self._connector(connector_id, before="updated")).as_row()
        namesakes = await self._namesakes(before, changes_given.get("name"))
        try:
            await self.client.update_connector(connector_id, changes)
        finally:
            self.cache.clear()
        body = changes.to_body()
        diffs: dict[str, dict[str, Any]] = {}
        lines = [f"Updated connector {connector_id} ({plain(before.get('connectorName'))}):"]
        for api_name, after in body.items():
            secret = api_name == "connectorPassword"
            old = MASK if secret else before.get(api_name)
            new = MASK if secret else after
            diffs[api_name] = {"before": old, "after": new}
            suffix = " (changed)" if secret else (" (unchanged)" if old == new else "")
            lines.append(f"{api_name}: {_show(old)} → {_show(new)}{suffix}")
        if namesakes:
            ids = ", ".join(str(c.connectorID) for c in namesakes)
            lines.append(f"Note: {plain(before['internalID'])} has another connector with this name: {ids}.")
        return Answer("\n".join(lines), {"connector_id": connector_id, "changes": diffs})

    async def _namesakes(self, before: Mapping[str, Any], new_name: str | None) -> list[Connector]:
        """Other connectors of the project already called `new_name`. A rename to a taken name is not
        refused (it is the caller's to make) but said: it makes find_connectors and the create's
        duplicate check ambiguous. Only a nicety, so a failed look-up does not stop the update."""
        if new_name is None or not before.get("internalID"):
            return []
        try:
            members = await self._connectors(project_id=str(before["internalID"]))
        except DatabasinError as error:
            logger.info("Name check before a rename skipped: %s", type(error).__name__)
            return []
        return [c for c in _same_name(members, new_name) if c.connectorID != before.get("connectorID")]

    async def delete_connector(self, *, connector_id: int, confirm: bool = False) -> Answer:
        connector = await self._connector(connector_id, before="deleted")
        what = (
            f"connector {connector_id} {connector.connectorName!r} "
            f"({plain(connector.connectorType)}, project {plain(connector.internalID)})"
        )
        summary = {
            "connector_id": connector_id,
            "connectorName": connector.connectorName,
            "connectorType": connector.connectorType,
            "internalID": connector.internalID,
        }
        if confirm is not True:  # only the boolean true: never "yes", 1 or "false" read as truthy
            return Answer(
                f"Not deleted: confirm is false. This would delete {what}; pipelines using it will fail. "
                f"To delete it, call delete_connector(connector_id={connector_id}, confirm=true).",
                {"deleted": False, **summary},
            )
        try:
            await self.client.delete_connector(connector_id)
        except NotFoundError:
            # The look-up above found it. A retried DELETE whose first attempt went through (its answer
            # lost) meets a 404: look again rather than guess, and say deleted only if it is gone.
            if not await self._gone(connector_id):
                raise
        finally:
            self.cache.clear()
        return Answer(f"Deleted {what}. Pipelines that used it will now fail.", {"deleted": True, **summary})

    async def _gone(self, connector_id: int) -> bool:
        try:
            await self.client.get_connector(connector_id)
        except NotFoundError:
            return True
        return False

    # --- actions -------------------------------------------------------------------------------

    async def test_connector(self, *, connector_id: int, details: bool = False) -> Answer:
        result = await self.client.test_connector(connector_id)
        outcome = "passed" if result.success else "FAILED"
        line = f"Connector {connector_id} test {outcome}: {plain(result.message or result.status or 'no message')}"
        if result.error and result.error.casefold() not in line.casefold():
            line += f" ({plain(result.error)})"  # unless the message already said it
        duration = (result.details or {}).get("testDuration")
        if result.success and duration and not details:
            line += f" in {plain(duration)}"
        lines = [line]
        if details and result.details:
            lines += [f"{plain(key)}: {plain(value)}" for key, value in result.details.items()]
        data: dict[str, Any] = {
            "connector_id": connector_id,
            "success": result.success,
            "message": result.message,
            "error": result.error,
        }
        if details:
            data["details"] = result.details
        return Answer(cap_text("\n".join(lines), self.settings.max_chars), data)

    async def refresh_connector_metadata(self, *, connector_id: int, progress: Progress | None = None) -> Answer:
        async def report_while_waiting() -> None:
            assert progress is not None
            started = anyio.current_time()
            while True:
                await anyio.sleep(PROGRESS_INTERVAL)
                elapsed = anyio.current_time() - started
                await progress(elapsed, f"Refreshing metadata of connector {connector_id}: {elapsed:.0f} s")

        failure: DatabasinError | None = None
        try:
            async with anyio.create_task_group() as tasks:
                if progress is not None:
                    tasks.start_soon(report_while_waiting)
                try:
                    result = await self.client.refresh_metadata(connector_id)
                except DatabasinError as error:
                    failure = error  # raised below: out of a task group it is wrapped in an ExceptionGroup
                tasks.cancel_scope.cancel()
        finally:
            self.cache.clear()  # cached catalogs/schemas/tables are stale now
        if failure is not None:
            raise failure
        counts = {"catalogs": result.catalogCount, "schemas": result.schemaCount, "tables": result.tableCount}
        known = ", ".join(counted(n, noun) for noun, n in counts.items() if n is not None)
        text = f"Refreshed metadata of connector {connector_id}: {known or 'no counts returned'}."
        if result.message and "refresh" not in result.message.lower():
            text += f" {plain(result.message)}"
        return Answer(text, {"connector_id": connector_id, **counts, "message": result.message})

    # --- metadata ----------------------------------------------------------------------------------

    async def list_catalogs(
        self, *, connector_id: int, name_contains: str | None = None, limit: int = 50, offset: int = 0
    ) -> Answer:
        catalogs = await self._metadata_rows(
            ("catalogs", connector_id), Catalog, lambda: self.client.list_catalogs(connector_id)
        )
        return self._metadata_listing(
            catalogs,
            Catalog,
            noun="catalogs",
            scope=f"in connector {connector_id}",
            name_contains=name_contains,
            fields=None,
            limit=limit,
            offset=offset,
        )

    async def list_schemas(
        self,
        *,
        connector_id: int,
        catalog: str | None = None,
        name_contains: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Answer:
        schemas = await self._metadata_rows(
            ("schemas", connector_id, catalog), Schema, lambda: self.client.list_schemas(connector_id, catalog=catalog)
        )
        scope = f"in connector {connector_id}" + (f", catalog {catalog}" if catalog else "")
        return self._metadata_listing(
            schemas,
            Schema,
            noun="schemas",
            scope=scope,
            defaults=_defaults_used(catalog=catalog),
            name_contains=name_contains,
            fields=None,
            limit=limit,
            offset=offset,
        )

    async def list_tables(
        self,
        *,
        connector_id: int,
        catalog: str | None = None,
        schema: str | None = None,
        name_contains: str | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Answer:
        tables = await self._metadata_rows(
            ("tables", connector_id, catalog, schema),
            Table,
            lambda: self.client.list_tables(connector_id, catalog=catalog, schema=schema),
        )
        where = ".".join(part for part in (catalog, schema) if part)
        scope = f"in connector {connector_id}" + (f", {where}" if where else "")
        return self._metadata_listing(
            tables,
            Table,
            noun="tables",
            scope=scope,
            defaults=_defaults_used(catalog=catalog, schema=schema),
            name_contains=name_contains,
            fields=fields,
            limit=limit,
            offset=offset,
        )

    async def list_columns(
        self,
        *,
        connector_id: int,
        table: str,
        catalog: str | None = None,
        schema: str | None = None,
        name_contains: str | None = None,
        fields: Sequence[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Answer:
        columns = await self._metadata_rows(
            ("columns", connector_id, catalog, schema, table),
            Column,
            lambda: self.client.list_columns(connector_id, table=table, catalog=catalog, schema=schema),
        )
        where = ".".join(part for part in (catalog, schema, table) if part)
        return self._metadata_listing(
            columns,
            Column,
            noun="columns",
            scope=f"of {where} in connector {connector_id}",
            defaults=_defaults_used(catalog=catalog, schema=schema),
            name_contains=name_contains,
            fields=fields,
            limit=limit,
            offset=offset,
        )

    # --- shared pieces -------------------------------------------------------------------------------

    def _project(self, project_id: str | None) -> str:
        project = (project_id or self.settings.project or "").strip()  # a pasted "proj-007 " is proj-007
        if not project:
            raise InvalidArgumentError(
                "project_id is required: pass project_id='...' (the project's internalID; list_projects shows them)."
            )
        return project

    async def _connectors(
        self, *, institution_id: int | None = None, project_id: str | None = None
    ) -> RecordList[Connector]:
        """Connectors of a project and/or institution, from the cache when it can answer (a cached full
        list answers any filter). Always filtered here too: an upstream that ignores ?internalID= must
        not make another project's connectors look like this one's."""
        everything: list[Connector] | None = self.cache.peek(("connectors", None, None))
        if everything is not None:
            # In the full list a connector whose project or institution is unknown belongs to no filter.
            return _in_scope(everything, institution_id, project_id, unknown_belongs=False)
        answered = await self.cache.get_or_fetch(
            ("connectors", institution_id, project_id),
            lambda: self.client.list_connectors(institution_id=institution_id, project_id=project_id),
        )
        # In an answer to a filtered request, one that does not say is taken to be what was asked for.
        scoped = _in_scope(answered, institution_id, project_id, unknown_belongs=True)
        if len(scoped) < len(answered):
            logger.warning(
                "The Databasin API answered %d connectors of other projects or institutions to a filtered "
                "request; they are left out",
                len(answered) - len(scoped),
            )
        return scoped

    def _connector_listing(
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
        sort: bool = True,
        more: str = "",
    ) -> Answer:
        if sort:
            matches = sorted(matches, key=lambda c: c.connectorID)
        rows = [c.as_row() for c in matches]
        available = available_fields(list(Connector.model_fields), (c.sent_fields() for c in all_connectors))
        unlisted = [name for name in fields or () if name in Connector.model_fields and name not in available]
        if unlisted:
            raise InvalidArgumentError(
                f"fields: the API's connector list does not carry {', '.join(unlisted)}; "
                "get_connector(connector_id=...) shows every field of one connector."
            )
        shown, left_out = choose_fields(fields, default, available)
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
            max_chars=self.settings.max_chars,
            structured=self.settings.structured_output,
            scope=scope,
            matched_of=len(all_connectors) if filters else None,
            filter_note=filters,
            empty_hint=empty_hint,
            in_title=None if fields else TitleField("active", lambda shown: _activity_note(rows, shown)),
            aside=_reading_note(
                "connectors", _unread(all_connectors, "connectorID"), all_connectors.skipped, "connectorID"
            ),
            more=more,
        )

    async def _metadata_rows(
        self, key: tuple[Any, ...], model: type[MetadataRecord], fetch: Callable[[], Awaitable[list[Any]]]
    ) -> MetadataRows:
        """A metadata listing as plain rows in display order, from the cache or the API."""

        async def load() -> MetadataRows:
            records = await fetch()
            available = available_fields(list(model.model_fields), (r.sent_fields() for r in records))
            name_field = next(iter(model.model_fields))
            unread = _reading_note(_PLURAL[model], _unread(records, name_field), skipped_of(records), name_field)
            rows = []
            for index, item in enumerate(records):
                rows.append(item.as_row())
                records[index] = None  # rows are what is kept: a model a row is made from may go
            if (order := _LISTING_ORDER[model]) is not None:
                # Sorted by name so that paging is stable and predictable; columns keep table order.
                rows.sort(key=lambda row: fold(str(row.get(order) or "")))
            return MetadataRows(rows, available, unread)

        return await self.cache.get_or_fetch(key, load)

    def _metadata_listing(
        self,
        listed: MetadataRows,
        model: type[MetadataRecord],
        *,
        noun: str,
        scope: str,
        name_contains: str | None,
        fields: Sequence[str] | None,
        limit: int,
        offset: int,
        defaults: str = "",
    ) -> Answer:
        name_field = next(iter(model.model_fields))
        matching = listed.rows
        if name_contains is not None:
            wanted = fold(name_contains)
            matching = [row for row in listed.rows if wanted in fold(str(row[name_field]))]
        shown, left_out = choose_fields(fields, model.DEFAULT_LIST_FIELDS, listed.available)
        # By default a column's isPrimaryKey is said once in the title ("primary key: id") instead of a
        # true/false cell on every row; it is a property of the table, so the note covers every column,
        # whatever the page (measured: 1,213 -> 1,015 tokens for the first 100 of 250 columns).
        key_in_title = TitleField("isPrimaryKey", lambda _shown: _primary_key_note(listed.rows))
        return listing(
            noun=noun,
            rows=matching,
            fields=shown,
            left_out=left_out,
            offset=offset,
            limit=limit,
            max_chars=self.settings.max_chars,
            structured=self.settings.structured_output,
            scope=scope,
            matched_of=len(listed.rows) if name_contains else None,
            filter_note=_describe_filters(name_contains=name_contains),
            empty_hint="" if name_contains else "Nothing here: check the names, or run refresh_connector_metadata.",
            in_title=key_in_title if model is Column and not fields else None,
            aside="; ".join(part for part in (defaults, listed.unread) if part),
        )


MetadataRecord = Catalog | Schema | Table | Column
# The field a listing is sorted by; None keeps the API's order (a table's columns).
_LISTING_ORDER: dict[type[MetadataRecord], str | None] = {
    Catalog: "catalogName",
    Schema: "schemaName",
    Table: "tableName",
    Column: None,
}
_PLURAL: dict[type[MetadataRecord], str] = {Catalog: "catalogs", Schema: "schemas", Table: "tables", Column: "columns"}


@dataclass
class _CreateInFlight:
    """A create being made, and its outcome once it has one (for a same create waiting for it)."""

    project: str
    name: str
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: Answer | None = None
    error: DatabasinError | None = None

    def told_again(self) -> Answer:
        """The outcome, for the same create sent while this one was in flight (raises when it failed)."""
        if self.error is not None:
            raise _retold(self.error, "The same create was already in flight and failed: ")
        assert self.answer is not None
        if self.answer.data.get("created") is not True:
            return self.answer  # "Not created: ... already has" holds for the second just as well
        new_id = self.answer.data.get("connector_id")
        already = "Not created: the same create was already in flight and created"
        if new_id is None:
            text = (
                f"{already} {self.name!r} in {self.project}, but the API did not return its ID. "
                f"Find it with find_connectors(query={self.name!r})."
            )
        else:
            text = (
                f"{already} connector {new_id} {self.name!r} in {self.project}. Use connector_id={new_id}, "
                "or pass allow_duplicate=true to create another."
            )
        return Answer(text, {"created": False, "connector_id": new_id, "duplicate": True, "in_flight": True})


def _retold(error: DatabasinError, prefix: str) -> DatabasinError:
    """A copy of `error` whose message starts with `prefix`: the original is being raised in another task
    (sharing one exception object would tangle both tracebacks)."""
    again = type(error).__new__(type(error))
    again.__dict__.update(error.__dict__)
    again.message = prefix + error.message
    again.args = (again.message,)
    return again


@dataclass(frozen=True)
class MetadataRows:
    """A metadata listing as the cache keeps it: plain rows (a third of the models' memory), in order."""

    rows: list[dict[str, Any]]
    available: list[str]
    unread: str = ""  # what could not be read, said in the title ('1 table could not be fully read: ...')


def _in_scope(
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


# How many unreadable records a title names before it says "and N more".
_NAMED_UNREAD = 5
_UNREAD_LABEL_CHARS = 40


def _unread(records: Sequence[APIRecord], id_field: str) -> list[tuple[str, tuple[str, ...]]]:
    """(the record's ID or name, its unreadable fields) for each record not fully read."""
    return [(str(getattr(record, id_field)), record.unread_fields) for record in records if record.unread_fields]


def _reading_note(
    plural: str, unread: Sequence[tuple[str, tuple[str, ...]]], skipped: Sequence[SkippedRecord], id_field: str
) -> str:
    """What a listing could not read, said once: '1 connector could not be fully read: 5 (createdDate)';
    '1 connector left out: its connectorID could not be read'. Field names only, never values."""
    parts = []
    if unread:
        named = ", ".join(f"{_short(label)} ({', '.join(fields)})" for label, fields in unread[:_NAMED_UNREAD])
        more = f" and {len(unread) - _NAMED_UNREAD} more" if len(unread) > _NAMED_UNREAD else ""
        parts.append(f"{counted(len(unread), plural)} could not be fully read: {named}{more}")
    if skipped:
        fields = sorted({name for record in skipped for name in record.fields}) or [id_field]
        whose = "its" if len(skipped) == 1 else "their"
        parts.append(f"{counted(len(skipped), plural)} left out: {whose} {' and '.join(fields)} could not be read")
    return "; ".join(parts)


def _short(label: str) -> str:
    return label if len(label) <= _UNREAD_LABEL_CHARS else label[: _UNREAD_LABEL_CHARS - 1] + "…"


def _why_none(
    project: str, connectors: list[Connector], connector_type: str | None, filters: str, institution_id: int | None
) -> str:
    """The next step when list_connectors finds nothing (worked out only then)."""
    types_here = sorted({name for c in connectors for name in c.type_names}, key=str.casefold)
    if connector_type is not None and types_here and fold(connector_type) not in map(fold, types_here):
        return f"connector_type: {project} has {', '.join(types_here)}."
    if filters:
        return "Loosen the filters, or check them against list_connectors without filters."
    if institution_id is None:
        return "Check the project ID with list_projects."
    return "Check project_id and institution_id with list_projects."


def _name_key(name: str) -> str:
    """A connector name as duplicates are judged: case and surrounding spaces ignored (how people retype)."""
    return name.strip().casefold()


def _same_name(connectors: list[Connector], name: str) -> list[Connector]:
    """The connectors named `name`, by _name_key."""
    return [c for c in connectors if _name_key(c.connectorName or "") == _name_key(name)]


def _project_row(project: str, members: list[Connector], named: Project | None) -> dict[str, Any]:
    institutions = sorted({str(c.institutionID) for c in members if c.institutionID is not None})
    if not institutions and named is not None and named.institutionID is not None:
        institutions = [str(named.institutionID)]
    types = Counter(c.connectorType or "?" for c in members)
    return {
        "project_id": project,
        "name": named.name if named else None,
        "institution_id": ";".join(institutions),
        "connectors": len(members),
        "types": " ".join(f"{name}:{count}" for name, count in types.most_common()),
    }


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


def _primary_key_note(columns: Sequence[Mapping[str, Any]]) -> str:
    """'primary key: id' (or 'tenant_id, id'), 'no primary key' when the API says none is, else ''."""
    keys = [str(column["columnName"]) for column in columns if column.get("isPrimaryKey") is True]
    if keys:
        return f"primary key: {', '.join(keys)}"
    if columns and all(column.get("isPrimaryKey") is False for column in columns):
        return "no primary key"
    return ""  # the API did not say (the v2 routes never do)


def _activity_note(rows: Sequence[Mapping[str, Any]], shown: Sequence[Mapping[str, Any]]) -> str:
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


def _defaults_used(**names: str | None) -> str:
    """'default catalog and schema' for the names left to the API: the count is then of its default,
    not of the whole connector (refresh_connector_metadata counts everything)."""
    missing = [name for name, given in names.items() if not given]
    return f"default {' and '.join(missing)}" if missing else ""


def _describe_filters(**filters: Any) -> str:
    given = [f"{key}={_literal(value)}" for key, value in filters.items() if value is not None]
    return f"matching {', '.join(given)}" if given else ""


def _literal(value: Any) -> str:
    """A value as an agent would write it in a call: 'text', true, 12."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


# An extra field's value up to this long is shown by get_connector; a longer one, or an object, is named.
SHORT_EXTRA_CHARS = 60


def _is_short(value: Any) -> bool:
    return not isinstance(value, dict | list) and len(plain(value)) <= SHORT_EXTRA_CHARS


def _show(value: Any) -> str:
    return "(empty)" if value is None or value == "" else plain(value)

"""Changing connectors: create, update, delete, with the safety rules that need more than one request.

A create answers with an existing same-name connector instead of a duplicate, refuses a project it
would land in by mistake, and is never made twice when the same create is in flight or got no answer;
an update says before and after; a delete names what it deletes and deletes only when confirmed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from ..errors import BadRequestError, DatabasinError, InvalidArgumentError, NotFoundError, TransportError
from ..models import Connector, ConnectorChanges
from ..params import (
    AllowDuplicate,
    AuthType,
    Confirm,
    ConnectorId,
    ConnectorName,
    ConnectorType,
    Database,
    Host,
    InstitutionId,
    MaxConnections,
    NewName,
    OwnerId,
    Password,
    Port,
    ProjectId,
    SetActive,
    TestToo,
    Username,
)
from ..redact import MASK
from ..shaping import Answer, plain
from ..wording import Words
from .actions import Actions
from .base import Services
from .connectors import ConnectorReads
from .directory import Directory
from .notes import name_key, same_name, shown_value
from .ownership import Ownership
from .pipelines import Pipelines

logger = logging.getLogger(__name__)

UPDATABLE = ("name", "host", "port", "database", "username", "password", "auth_type", "max_connections", "active")
# How long a create that got no answer blocks a same-name create (it may still land upstream).
UNANSWERED_CREATE_WINDOW = 120.0


class ConnectorWrites:
    """create_connector, update_connector, delete_connector."""

    def __init__(self, services: Services, directory: Directory, reads: ConnectorReads, actions: Actions) -> None:
        self.services = services
        self.directory = directory
        self.reads = reads
        self.actions = actions
        self.ownership = Ownership(services, directory)
        self.pipelines = Pipelines(services)
        self._unanswered_creates = _UnansweredCreates()
        # (project, folded name) -> the create being made now; a second one waits for its outcome.
        self._creates_in_flight: dict[tuple[str, str], _CreateInFlight] = {}

    # --- create ----------------------------------------------------------------------------------

    async def create_connector(
        self,
        *,
        name: ConnectorName,
        connector_type: ConnectorType,
        project_id: ProjectId = None,
        institution_id: InstitutionId = None,
        host: Host = None,
        port: Port = None,
        database: Database = None,
        username: Username = None,
        password: Password = None,
        auth_type: AuthType = None,
        owner_id: OwnerId = None,
        max_connections: MaxConnections = None,
        test: TestToo = False,
        allow_duplicate: AllowDuplicate = False,
    ) -> Answer:
        """Create a connector, or answer with the one of that name the project already has."""
        project = self.directory.project(project_id, "create_connector")
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
        key = (project, name_key(name))

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
                return first.told_again(self.services.words)
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
        institution_id: int | None,
        test: bool,
        allow_duplicate: bool,
    ) -> Answer:
        words = self.services.words
        project = pending_key[0]
        members = await self.directory.connectors(project_id=project)
        institution = await self.ownership.institution(project, institution_id, members)
        await self._check_project(project, institution, members)
        if not allow_duplicate:
            # Agents retry: a second create with the same name in the same project is almost
            # always the first one again, so answer with what exists instead of a duplicate.
            existing = same_name(members, name)
            if existing:
                found = existing[0]
                self._unanswered_creates.forget(pending_key)
                answer = Answer(
                    f"Not created: {plain(project)} already has connector {found.connectorID} named "
                    f"{found.connectorName!r} ({plain(found.connectorType)}). "
                    f"{_use_or_duplicate(words, found.connectorID)}",
                    {"created": False, "connector_id": found.connectorID, "duplicate": True},
                )
                # The test asked for is of the connector the name means, whichever call made it: a re-run of
                # a create with a test answers the same as the first run (issue 16 #7).
                return await self._with_test(answer, found.connectorID) if test else answer
            if (waited := self._unanswered_creates.waited(pending_key)) is not None:
                return Answer(
                    f"Not created: a create of {name!r} in {plain(project)} got no answer {waited:.0f} s ago and may "
                    f"still go through. Check with {words.call('find_connectors', query=name)} in a minute, or pass "
                    f"{words.setting('create_connector', 'allow_duplicate', True)} to create another.",
                    {"created": False, "connector_id": None, "pending": True},
                )
        owner = await self.ownership.owner(changes.owner_id)
        changes = changes.model_copy(update={"institution_id": institution, "owner_id": owner})
        try:
            result = await self.services.client.create_connector(changes)
        except BadRequestError as refused:
            given = {"institution_given": institution_id is not None, "owner_given": owner is not None}
            raise self.ownership.needed(refused, **given) or refused from None
        except TransportError as error:
            # No answer does not mean no connector: the API may still be creating it. A retry
            # in the next minutes must not make a second one before the first shows up.
            if error.maybe_sent:
                self._unanswered_creates.note(pending_key)
            raise
        except anyio.get_cancelled_exc_class():
            # The call was given up (a client's own timeout) with the POST perhaps on its way: the same.
            self._unanswered_creates.note(pending_key)
            raise
        finally:
            self.services.cache.clear()  # even a failed create may have reached the server
        new_id = result.connectorID
        if new_id is None:
            return Answer(
                f"Created {name!r} in {plain(project)}, but the API did not return its ID "
                f"({plain(result.message or 'no message')}). Find it with {words.call('find_connectors', query=name)}.",
                {"created": True, "connector_id": None},
            )
        lines = [f"Created connector {new_id} {name!r} ({plain(connector_type)}) in {plain(project)}."]
        if not members:
            lines.append(
                f"It is the first connector in {plain(project)}: if that is unexpected, "
                f"check the ID with {words.call('list_projects')}."
            )
        answer = Answer("\n".join(lines), {"created": True, "connector_id": new_id})
        return await self._with_test(answer, new_id) if test else answer

    async def _with_test(self, answer: Answer, connector_id: int) -> Answer:
        """`answer` followed by a test of the connector's connection (which may fail without undoing it)."""
        tested = await self._test_after_create(connector_id)
        return Answer(f"{answer.text}\n{tested.text}", {**answer.data, "test": tested.data})

    async def _check_project(self, project: str, institution_id: int, members: list[Connector]) -> None:
        """Refuse a create that would land in the wrong place: a project of another institution, a
        project ID in the wrong case, or (where the API lists the user's projects) no project at all."""
        words = self.services.words
        institutions = sorted({str(c.institutionID) for c in members if c.institutionID is not None})
        if institutions and str(institution_id) not in institutions:
            given = words.setting("create_connector", "institution_id", int(institutions[0]))
            raise InvalidArgumentError(
                f"{words.argument('create_connector', 'institution_id')}: {plain(project)} belongs to institution "
                f"{plain(' and '.join(institutions))}; pass {plain(given)}. Nothing was created."
            )
        if members:
            return
        found = await self.directory.look_up(project)
        if not found.exists:
            raise self.directory.unknown_project(
                project, found, "create_connector", consequence=" Nothing was created."
            )

    async def _test_after_create(self, connector_id: int) -> Answer:
        try:
            return await self.actions.test_connector(connector_id=connector_id)
        except DatabasinError as error:
            # The create stands; only the test could not run. Say both.
            return Answer(f"Test could not run: {error}", {"success": None, "error": str(error)})

    # --- update ----------------------------------------------------------------------------------

    async def update_connector(
        self,
        *,
        connector_id: ConnectorId,
        name: NewName = None,
        host: Host = None,
        port: Port = None,
        database: Database = None,
        username: Username = None,
        password: Password = None,
        auth_type: AuthType = None,
        max_connections: MaxConnections = None,
        active: SetActive = None,
    ) -> Answer:
        """Change only the given fields; say each one before and after."""
        given = {
            "name": name,
            "host": host,
            "port": None if port is None else str(port),  # the API keeps ports as strings
            "database": database,
            "username": username,
            "password": password,
            "auth_type": auth_type,
            "max_connections": max_connections,
            "active": active,
        }
        changes_given = {key: value for key, value in given.items() if value is not None}
        if not changes_given:
            words = self.services.words
            options = ", ".join(words.argument("update_connector", key) for key in UPDATABLE)
            raise InvalidArgumentError(f"Nothing to update: give at least one of {options}.")
        changes = ConnectorChanges(**changes_given)
        before = (await self.reads.connector(connector_id, before="updated")).as_row()
        namesakes = await self._namesakes(before, name)
        try:
            await self.services.client.update_connector(connector_id, changes)
        finally:
            self.services.cache.clear()
        diffs: dict[str, dict[str, Any]] = {}
        lines = [f"Updated connector {connector_id} ({plain(before.get('connectorName'))}):"]
        for api_name, after in changes.to_body().items():
            secret = api_name == "connectorPassword"
            old = MASK if secret else before.get(api_name)
            new = MASK if secret else after
            diffs[api_name] = {"before": old, "after": new}
            suffix = " (changed)" if secret else (" (unchanged)" if old == new else "")
            lines.append(f"{api_name}: {shown_value(old)} → {shown_value(new)}{suffix}")
        if namesakes:
            ids = ", ".join(str(c.connectorID) for c in namesakes)
            lines.append(f"Note: {plain(before['internalID'])} has another connector with this name: {ids}.")
        about = {"connectorName": before.get("connectorName"), "internalID": before.get("internalID")}
        return Answer("\n".join(lines), {"connector_id": connector_id, "changes": diffs}, about)

    async def _namesakes(self, before: Mapping[str, Any], new_name: str | None) -> list[Connector]:
        """Other connectors of the project already called `new_name`. A rename to a taken name is not
        refused (it is the caller's to make) but said: it makes a search by name and the create's
        duplicate check ambiguous. Only a nicety, so a failed look-up does not stop the update."""
        if new_name is None or not before.get("internalID"):
            return []
        try:
            members = await self.directory.connectors(project_id=str(before["internalID"]))
        except DatabasinError as error:
            logger.info("Name check before a rename skipped: %s", type(error).__name__)
            return []
        return [c for c in same_name(members, new_name) if c.connectorID != before.get("connectorID")]

    # --- delete ----------------------------------------------------------------------------------

    async def delete_connector(self, *, connector_id: ConnectorId, confirm: Confirm = False) -> Answer:
        """Delete a connector; without confirm, only say what would be deleted."""
        connector = await self.reads.connector(connector_id, before="deleted")
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
            again = self.services.words.do("delete_connector", connector_id=connector_id, confirm=True)
            use = await self.pipelines.using(connector)
            breaks = use.sentence(connector.internalID or "its project")
            return Answer(
                f"Not deleted: confirm is false. This would delete {what}. {breaks} To delete it, {again}.",
                {"deleted": False, **summary, "pipelines": use.listed(), "breaks": breaks},
            )
        try:
            await self.services.client.delete_connector(connector_id)
        except NotFoundError:
            # The look-up above found it. A retried DELETE whose first attempt went through (its answer
            # lost) meets a 404: look again rather than guess, and say deleted only if it is gone.
            if not await self._gone(connector_id):
                raise
        finally:
            self.services.cache.clear()
        return Answer(f"Deleted {what}. Pipelines that used it will now fail.", {"deleted": True, **summary})

    async def _gone(self, connector_id: int) -> bool:
        try:
            await self.services.client.get_connector(connector_id)
        except NotFoundError:
            return True
        return False


def _use_or_duplicate(words: Words, connector_id: int) -> str:
    """'Use it (get_connector(connector_id=5)), or pass allow_duplicate=true to create another.', in the
    asker's words."""
    use = words.call("get_connector", connector_id=connector_id)
    another = words.setting("create_connector", "allow_duplicate", True)
    return f"Use it ({use}), or pass {another} to create another."


class _UnansweredCreates:
    """(project, folded name) -> when a create got no answer (timeout, dropped, 5xx, cancelled): that connector
    may still land upstream, so a same-name create is held off for UNANSWERED_CREATE_WINDOW."""

    def __init__(self) -> None:
        self._since: dict[tuple[str, str], float] = {}

    def note(self, key: tuple[str, str]) -> None:
        self._since[key] = time.monotonic()

    def forget(self, key: tuple[str, str]) -> None:
        self._since.pop(key, None)

    def waited(self, key: tuple[str, str]) -> float | None:
        """Seconds since a create of this name got no answer, while that is recent enough to matter."""
        now = time.monotonic()
        for old in [k for k, started in self._since.items() if now - started > UNANSWERED_CREATE_WINDOW]:
            del self._since[old]  # every old one, not only this name's: the dict stays small
        started = self._since.get(key)
        return None if started is None else now - started


@dataclass
class _CreateInFlight:
    """A create being made, and its outcome once it has one (for a same create waiting for it)."""

    project: str
    name: str
    done: anyio.Event = field(default_factory=anyio.Event)
    answer: Answer | None = None
    error: DatabasinError | None = None

    def told_again(self, words: Words) -> Answer:
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
                f"Find it with {words.call('find_connectors', query=self.name)}."
            )
        else:
            text = f"{already} connector {new_id} {self.name!r} in {self.project}. {_use_or_duplicate(words, new_id)}"
        return Answer(text, {"created": False, "connector_id": new_id, "duplicate": True, "in_flight": True})


def _retold(error: DatabasinError, prefix: str) -> DatabasinError:
    """A copy of `error` whose message starts with `prefix`: the original is being raised in another task
    (sharing one exception object would tangle both tracebacks)."""
    again = type(error).__new__(type(error))
    again.__dict__.update(error.__dict__)
    again.message = prefix + error.message
    again.args = (again.message,)
    return again

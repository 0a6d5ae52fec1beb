"""What a failed call means, decided once, and said in the words of the front end that made it.

`classify` sorts an error into one of a few failures by what is known of it (was anything sent, is it
about the connector or a name inside it, could the call be fixed); `explain` says what happened and the
next step. The MCP layer passes its tool-call words, the command line its command words, so an agent
reads `get_connector(connector_id=7)` where a person reads `'databasin connectors get 7'`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    ConfigurationError,
    DatabasinError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    QueryFailedError,
    ServerError,
    TransportError,
    UnknownProjectError,
    UpstreamRefusedError,
    clause,
)
from .specs import ToolSpec
from .wording import ANY, Words


class Failure(Enum):
    """What a failed call means for the one who made it."""

    INVALID_ARGUMENT = "an argument was refused before anything was sent"
    CONFIGURATION = "the set-up (URL, token) is wrong"
    CONNECTOR_NOT_FOUND = "no connector has that ID"
    PROJECT_NOT_FOUND = "no project has that ID"
    QUERY_FAILED = "the database refused the statement (nothing changed: only SELECTs are sent)"
    NAME_NOT_FOUND = "a catalog, schema or table of the connector does not exist"
    ROUTE_NOT_FOUND = "the API has no such route: the base URL is probably wrong"
    REFUSED_FIXABLE = "the API refused the arguments"
    REFUSED = "the API refused, and nothing in the call can fix it"
    FORBIDDEN = "this token may not do that"
    REPORTED_FAILED = "the API answered, and said the write failed"
    PROBABLY_DONE = "the API accepted the write, but its answer could not be read"
    NOTHING_CHANGED = "a write failed before it was sent"
    MAY_HAVE_CHANGED = "a write was sent and got no usable answer"
    TRANSIENT = "a read failed; trying again may work"
    OTHER = "the error says it all"


@dataclass(frozen=True)
class Explained:
    failure: Failure
    text: str


# "Catalog 'x' not found for connector 7" is about the catalog, not the connector.
_NAMES_METADATA = re.compile(r"\b(catalog|schema|table)s?\b", re.IGNORECASE)


def classify(error: DatabasinError, spec: ToolSpec) -> Failure:
    """Which failure `error` is, for a call of `spec`'s tool."""
    if isinstance(error, InvalidArgumentError):
        return Failure.INVALID_ARGUMENT
    if isinstance(error, ConfigurationError | AuthenticationError):
        return Failure.CONFIGURATION
    if isinstance(error, UnknownProjectError):
        return Failure.PROJECT_NOT_FOUND
    if isinstance(error, QueryFailedError):
        return Failure.QUERY_FAILED
    upstream = error.upstream_message if isinstance(error, APIStatusError) else None
    if isinstance(error, NotFoundError):
        if spec.subject == "listing":
            return Failure.ROUTE_NOT_FOUND
        mentions_connector = upstream is not None and "connector" in upstream.lower()
        if (
            spec.subject == "connector"
            or upstream is None
            or (mentions_connector and not _NAMES_METADATA.search(upstream))
        ):
            return Failure.CONNECTOR_NOT_FOUND
        return Failure.NAME_NOT_FOUND
    if isinstance(error, BadRequestError):
        return Failure.REFUSED if spec.action else Failure.REFUSED_FIXABLE
    if isinstance(error, PermissionDeniedError):
        return Failure.FORBIDDEN
    # The look-up that comes before every write failed, or the write itself never left: nothing happened.
    never_sent = isinstance(error, TransportError) and not error.maybe_sent
    not_sent = spec.writes and (error.request_method == "GET" or never_sent)
    if isinstance(error, UpstreamRefusedError):
        return Failure.REPORTED_FAILED if spec.writes and not not_sent else Failure.TRANSIENT
    if isinstance(error, BadResponseError) and spec.writes and not not_sent:
        return Failure.PROBABLY_DONE
    if isinstance(error, ServerError | TransportError):
        if not_sent:
            return Failure.NOTHING_CHANGED
        if spec.writes or (spec.action and error.request_method == "POST" and not never_sent):
            return Failure.MAY_HAVE_CHANGED
        return Failure.TRANSIENT
    return Failure.OTHER


def explain(error: DatabasinError, spec: ToolSpec, arguments: Mapping[str, Any], words: Words) -> Explained:
    """One or two sentences the caller can act on: what went wrong, then the next step, in `words`."""
    failure = classify(error, spec)
    return Explained(failure, _Explainer(error, spec, arguments, words).say(failure))


def _ended(error: DatabasinError) -> str:
    """The error's text, ending with a period if it ends with a word (an API's own words may not), so that
    the next step can follow it; an excerpt that ends mid-JSON is left as it is."""
    text = str(error).strip()
    return f"{text}." if text[-1:].isalnum() else text


@dataclass(frozen=True)
class _Explainer:
    error: DatabasinError
    spec: ToolSpec
    arguments: Mapping[str, Any]
    words: Words

    @property
    def tool(self) -> str:
        return self.spec.name

    @property
    def connector_id(self) -> Any:
        return self.arguments.get("connector_id")

    @property
    def upstream(self) -> str | None:
        return self.error.upstream_message if isinstance(self.error, APIStatusError) else None

    def call(self, tool: str, **arguments: Any) -> str:
        return self.words.call(tool, **arguments)

    def get_it(self) -> str:
        return self.call("get_connector", connector_id=self.connector_id if self.connector_id else ANY)

    def say(self, failure: Failure) -> str:
        error, words = self.error, self.words
        match failure:
            case Failure.CONNECTOR_NOT_FOUND:
                listing = self.call("list_connectors", project_id=ANY)
                return (
                    f"Connector {self.connector_id} not found. Find IDs with {listing} or "
                    f"{self.call('find_connectors', query=ANY)}."
                )
            case Failure.NAME_NOT_FOUND:
                names = " or ".join(
                    self.call(tool, connector_id=self.connector_id) for tool in ("list_catalogs", "list_schemas")
                )
                return f"{self._not_found()} Check the names with {names}."
            case Failure.QUERY_FAILED:
                return self._query_failed()
            case Failure.ROUTE_NOT_FOUND:
                return f"{self._not_found()} Check that DATABASIN_API_URL is the Databasin API's base URL."
            case Failure.REFUSED_FIXABLE:
                return f"{self._refused()} Fix the arguments and {words.again(self.tool)}."
            case Failure.REFUSED:
                return f"{self._refused()} Trying again will not help; {self.get_it()} shows its settings."
            case Failure.FORBIDDEN:
                return (
                    f"{_ended(error)} This token may not do that; use a token with access to the connector's project."
                )
            case Failure.REPORTED_FAILED:
                return self._reported_failed()
            case Failure.PROBABLY_DONE:
                return f"{_ended(error)} {self._probably_done()}"
            case Failure.NOTHING_CHANGED:
                return f"{_ended(error)} Nothing was changed; try again."
            case Failure.MAY_HAVE_CHANGED:
                return f"{_ended(error)} {self._maybe_changed()}"
            case Failure.TRANSIENT:
                return f"{_ended(error)} Try again; if it keeps failing, the Databasin API is having trouble."
            case _:
                return str(error)

    def _not_found(self) -> str:
        """The API's own words when they say what was not found ("Catalog 'x' not found"), else "Not found:"."""
        said = clause(self.upstream or "the API answered 404")
        return f"{said}." if "not found" in said.lower() else f"Not found: {said}."

    def _query_failed(self) -> str:
        said = clause(self.upstream or "it gave no reason")
        table = self.arguments.get("table", ANY)
        names = self.call("list_columns", connector_id=self.connector_id, table=table)
        if self.tool == "preview_table":
            tables = self.call("list_tables", connector_id=self.connector_id)
            return f"The database refused the preview: {said}. Check the names with {tables} and {names}."
        return f"The database refused the statement: {said}. Check the names with {names}, fix the SQL and " + (
            f"{self.words.again(self.tool)}."
        )

    def _refused(self) -> str:
        return f"The Databasin API refused the request: {clause(self.upstream or str(self.error))}."

    def _reported_failed(self) -> str:
        error, tool = self.error, self.tool
        said = f": {clause(self.upstream)}" if self.upstream else " without saying why"
        if tool == "create_connector" and isinstance(error, UpstreamRefusedError) and error.connector_id is not None:
            # "Failed", yet with an ID: something may exist now. Look before creating again.
            check = self.call("get_connector", connector_id=error.connector_id)
            return (
                f"The Databasin API reported that the create failed{said}, yet its answer names connector "
                f"{error.connector_id}: check with {check} before creating it again."
            )
        what = {
            "create_connector": "the create",
            "delete_connector": f"the delete of connector {self.connector_id}",
            "refresh_connector_metadata": f"the metadata refresh of connector {self.connector_id}",
        }.get(tool, f"the update of connector {self.connector_id}")
        refused = f"The Databasin API reported that {what} failed{said}."
        if tool == "create_connector":
            return f"{refused} Fix what the API names and {self.words.again(tool)}."
        if tool == "delete_connector":
            return f"{refused} It is most likely still there: {self.get_it()} shows it."
        if tool == "refresh_connector_metadata":
            test = self.call("test_connector", connector_id=self.connector_id)
            return f"{refused} {test} checks that the connector can reach its source."
        return f"{refused} {self.get_it()} shows its settings now; fix what the API names and {self.words.again(tool)}."

    def _probably_done(self) -> str:
        """After a 2xx whose body could not be read: what most likely happened, and how to check it (never a
        retry that could repeat the write)."""
        accepted = "The API accepted the request, so"
        if self.tool == "create_connector":
            find = self.call("find_connectors", query=self.arguments.get("name", ANY))
            return f"{accepted} the connector was probably created: check with {find} before creating it again."
        if self.tool == "refresh_connector_metadata":
            catalogs = self.call("list_catalogs", connector_id=self.connector_id)
            return f"{accepted} the refresh probably ran: {catalogs} shows the metadata now."
        done = (
            "the connector was probably deleted"
            if self.tool == "delete_connector"
            else "the change was probably applied"
        )
        return f"{accepted} {done}: check with {self.get_it()}."

    def _maybe_changed(self) -> str:
        tool = self.tool
        if tool == "create_connector":
            if self.arguments.get("allow_duplicate"):  # a second call would make a second connector
                find = self.call("find_connectors", query=self.arguments.get("name", ANY))
                return f"The connector may or may not have been created: check with {find} before creating it again."
            return (
                f"The connector may or may not have been created. It is safe to {self.words.again(tool)}: it "
                "answers with the connector if the first attempt went through, and never makes a duplicate."
            )
        if tool == "refresh_connector_metadata":
            catalogs = self.call("list_catalogs", connector_id=self.connector_id)
            return (
                "The refresh was sent once and may still be running: wait a few minutes, then check with "
                f"{catalogs} before refreshing again."
            )
        if self.spec.action:
            return f"The test was sent once and not repeated; {self.words.again(tool)} to retry."
        return f"The change may or may not have been applied: check with {self.get_it()} before retrying."

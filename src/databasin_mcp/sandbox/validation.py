"""Checks and normalises connector bodies sent with POST (create) and PUT (update)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .errors import ApiError
from .seed import CONNECTOR_TYPES, DEFAULT_MAX_CONNECTIONS, UNTESTABLE_TYPES, ConnectorRecord, iso_timestamp

REQUIRED_FIELDS = ("connectorName", "connectorType", "institutionID", "internalID")
# Set by the server, never by a client body.
_SERVER_FIELDS = frozenset({"connectorID", "createdDate", "lastModifiedDate"})


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400 in the reference style."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise ApiError(400, "Malformed JSON request body") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    return body


def new_connector(body: dict[str, Any], now: datetime, *, owner_required: bool = False) -> ConnectorRecord:
    """A complete record for a create request (without connectorID), defaults filled in. The real backend
    also requires the owner (`owner_required`)."""
    for name in (*REQUIRED_FIELDS, "ownerID") if owner_required else REQUIRED_FIELDS:
        if body.get(name) in (None, ""):
            raise ApiError(400, f"Missing required field: {name}")
    fields = _normalised(body)
    stamp = iso_timestamp(now)
    defaults: ConnectorRecord = {
        "connectorHost": None,
        "connectorPort": None,
        "connectorDatabaseName": None,
        "connectorUsername": None,
        "connectorPassword": None,
        "connectorAuthType": None,
        "ownerID": None,
        "active": True,
        "connectorMaxConnections": DEFAULT_MAX_CONNECTIONS,
        "testConnectorSupport": fields["connectorType"] not in UNTESTABLE_TYPES,
    }
    return defaults | fields | {"createdDate": stamp, "lastModifiedDate": stamp}


def connector_changes(body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The fields a PUT changes (only those given), plus the new lastModifiedDate."""
    return _normalised(body) | {"lastModifiedDate": iso_timestamp(now)}


def _normalised(body: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for name, value in body.items():
        if name in _SERVER_FIELDS:
            continue
        check = _CHECKS.get(name)
        fields[name] = value if check is None else check(name, value)
    return fields


def _name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"Invalid value for field {name}: expected a non-empty string")
    return value


def _connector_type(name: str, value: Any) -> str:
    if value not in CONNECTOR_TYPES:
        raise ApiError(400, f"Invalid value for field {name}: expected one of {', '.join(CONNECTOR_TYPES)}")
    return str(value)


def _optional_text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ApiError(400, f"Invalid value for field {name}: expected a string")
    return value


def _port(name: str, value: Any) -> str | None:
    # The API sends ports as strings; accept numbers too, as a lenient JSON binder would.
    if value is None or (isinstance(value, str) and value.isdigit()):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ApiError(400, f"Invalid value for field {name}: expected a port number")


def _integer(name: str, value: Any) -> int | None:
    if value is None and name not in REQUIRED_FIELDS:
        return None
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, f"Invalid value for field {name}: expected an integer")
    return value


def _positive_integer(name: str, value: Any) -> int:
    number = _integer(name, value)
    if number is None or number < 1:
        raise ApiError(400, f"Invalid value for field {name}: expected a positive integer")
    return number


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ApiError(400, f"Invalid value for field {name}: expected true or false")
    return value


_CHECKS: dict[str, Callable[[str, Any], Any]] = {
    "connectorName": _name,
    "connectorType": _connector_type,
    "internalID": _name,
    "connectorHost": _optional_text,
    "connectorDatabaseName": _optional_text,
    "connectorUsername": _optional_text,
    "connectorPassword": _optional_text,
    "connectorPort": _port,
    "institutionID": _integer,
    "ownerID": _integer,
    "connectorAuthType": _integer,
    "connectorMaxConnections": _positive_integer,
    "active": _boolean,
    "testConnectorSupport": _boolean,
}

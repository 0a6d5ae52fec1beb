"""Pydantic models of the API's records, with the API's own field names.

Field names stay exactly as the API spells them (connectorID, connectorName,
...) so that an agent can pass them back in `fields=[...]`. Unknown fields
are kept (`extra="allow"`): the upstream may know more than the reference.
Types are lenient where the real backend is known to be loose (IDs as
strings, ports as numbers, flags as 1/0) so one odd record never fails a
whole listing.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class APIRecord(BaseModel):
    """A record of the API: declared fields first, unknown extra fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def extra_fields(self) -> dict[str, Any]:
        """Fields the upstream sent beyond the reference, in the order it sent them."""
        return dict(self.model_extra or {})

    def sent_fields(self) -> list[str]:
        """The fields the upstream sent: the declared ones it filled in, then its extras."""
        declared = type(self).model_fields
        return [*(name for name in declared if name in self.model_fields_set), *self.extra_fields()]

    def as_row(self) -> dict[str, Any]:
        """Every field, declared then extra, as plain values (what projection picks from)."""
        return {**{name: getattr(self, name) for name in type(self).model_fields}, **self.extra_fields()}


def _count(value: Any) -> Any:
    """1,234 or "1,234" -> 1234; anything else unchanged (validation decides)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,3}(,\d{3})+", value.strip()):
        return int(value.replace(",", ""))
    return value


_HEALTH_ACTIVE = {"active": True, "healthy": True, "inactive": False, "disabled": False}


class Connector(APIRecord):
    """A connector as GET /api/connector and GET /api/connector/{id} describe it."""

    connectorID: int
    connectorName: str | None = None
    connectorType: str | None = None
    connectorHost: str | None = None
    connectorPort: str | None = None
    connectorDatabaseName: str | None = None
    connectorUsername: str | None = None
    connectorAuthType: int | str | None = None
    institutionID: int | str | None = None
    internalID: str | None = None
    ownerID: int | str | None = None
    active: bool | None = None
    connectorMaxConnections: int | None = None
    createdDate: str | None = None
    lastModifiedDate: str | None = None

    # The small column set a listing shows unless the agent asks for more.
    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("connectorID", "connectorName", "connectorType", "active")

    @property
    def type_names(self) -> tuple[str, ...]:
        """connectorType, and the product the real backend names in connectorSubType (its connectorType
        is then only a category such as "database"); the reference has no subtype."""
        subtype = (self.model_extra or {}).get("connectorSubType")
        return tuple(str(name) for name in (self.connectorType, subtype) if name)

    @model_validator(mode="before")
    @classmethod
    def _normalise_active(cls, data: Any) -> Any:
        # The real backend says "active" three ways: active (bool), isActive (1/0),
        # connectorHealthStatus ('active'|'inactive'|'error'|'pending').
        if not isinstance(data, dict) or data.get("active") is not None:
            return data
        data = dict(data)
        if "isActive" in data:
            data["active"] = bool(int(data.pop("isActive") or 0))
        elif isinstance(status := data.get("connectorHealthStatus"), str) and status.lower() in _HEALTH_ACTIVE:
            data["active"] = _HEALTH_ACTIVE[status.lower()]
        return data

    @field_validator("connectorPort", "internalID", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class WriteResult(APIRecord):
    """The answer to a create or an update."""

    connectorID: int | None = None
    message: str | None = None
    status: str | None = None


class DeleteResult(APIRecord):
    message: str | None = None
    status: str | None = None


class TestResult(APIRecord):
    """The answer to POST /api/connector/{id}/test (success or failure)."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    success: bool = False
    status: str | None = None
    message: str | None = None
    error: str | None = None
    details: dict[str, Any] | None = None


class RefreshResult(APIRecord):
    message: str | None = None
    status: str | None = None
    catalogCount: int | None = None
    schemaCount: int | None = None
    tableCount: int | None = None

    _counts = field_validator("catalogCount", "schemaCount", "tableCount", mode="before")(_count)


class Catalog(APIRecord):
    catalogName: str
    description: str | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("catalogName", "description")


class Schema(APIRecord):
    schemaName: str
    description: str | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("schemaName", "description")


class Table(APIRecord):
    tableName: str
    tableType: str | None = None
    rowCount: int | None = None
    sizeInBytes: int | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("tableName", "tableType", "rowCount")

    _counts = field_validator("rowCount", "sizeInBytes", mode="before")(_count)


class Column(APIRecord):
    columnName: str
    dataType: str | None = None
    isNullable: bool | None = None
    isPrimaryKey: bool | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("columnName", "dataType", "isNullable", "isPrimaryKey")


class Project(APIRecord):
    """A project of the user, from the real backend's GET /api/my/projects (not in the reference)."""

    internalID: str
    name: str | None = None
    institutionID: int | str | None = None
    id: int | str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalise_names(cls, data: Any) -> Any:
        # Seen spelled internalID and internalId; the institution as institutionId or organizationId.
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "internalID" not in data and "internalId" in data:
            data["internalID"] = data.pop("internalId")
        for alias in ("institutionId", "organizationId"):
            if data.get("institutionID") is None and alias in data:
                data["institutionID"] = data.pop(alias)
        return data

    @field_validator("internalID", mode="before")
    @classmethod
    def _strip_braces(cls, value: Any) -> Any:
        # Some backend answers wrap the code in braces: "{N1r8Do}".
        return value.strip("{}") if isinstance(value, str) else value


# --- request bodies ----------------------------------------------------------


class ConnectorChanges(BaseModel):
    """Fields an agent may set on a connector, by their tool-argument names.

    Serialised with the API's names (the aliases). Only fields that were
    given are sent: an update must never overwrite what the agent did not mention.
    """

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str | None = Field(None, alias="connectorName")
    connector_type: str | None = Field(None, alias="connectorType")
    host: str | None = Field(None, alias="connectorHost")
    port: str | None = Field(None, alias="connectorPort")
    database: str | None = Field(None, alias="connectorDatabaseName")
    username: str | None = Field(None, alias="connectorUsername")
    password: SecretStr | None = Field(None, alias="connectorPassword")
    auth_type: int | None = Field(None, alias="connectorAuthType")
    institution_id: int | None = Field(None, alias="institutionID")
    project_id: str | None = Field(None, alias="internalID")
    owner_id: int | None = Field(None, alias="ownerID")
    max_connections: int | None = Field(None, alias="connectorMaxConnections")
    active: bool | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body, with API field names and the password revealed (for the wire only)."""
        body = self.model_dump(by_alias=True, exclude_unset=True, exclude_none=True)
        if self.password is not None:
            body["connectorPassword"] = self.password.get_secret_value()
        return body

    def secret_values(self) -> list[str]:
        """Secrets in this body, so they can be masked if the API echoes them back."""
        return [self.password.get_secret_value()] if self.password is not None else []

"""Pydantic models of the API's records, with the API's own field names.

Field names stay exactly as the API spells them (connectorID, connectorName,
...) so that an agent can pass them back in `fields=[...]`. Unknown fields
are kept (`extra="allow"`): the upstream may know more than the reference.

One odd record never fails a whole listing. The shapes real backends are
known to send are read as what they mean (IDs as strings, ports as 3306.0,
flags as 1/0, "true" or "ACTIVE", dates in epoch milliseconds, names that are
numbers); a field that still cannot be read is left out of its record and
named in `unread_fields` (`APIRecord.read`), so the listing can say so; a
record whose required field cannot be read is left out of the listing
(`RecordList.skipped`), and that is said too.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self, TypeVar, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

# --- how loose values are read ------------------------------------------------------------------
# Pydantic's own lax checks already read IDs and counts as strings ("101", "12.0") or integral floats
# (101.0), and flags as 1/0, "true", "yes". What they refuse, the readers below try once more, and only
# then: a listing of 20,000 ordinary tables pays nothing for them (a validator on every field cost 50%).

# Past this an integral float is not shown as an integer (1e300 has 301 digits).
_LARGEST_INTEGRAL = 2**63


@dataclass(frozen=True)
class _ReadAs:
    """Marks a field type with how to read a value that its check refused (`APIRecord.read`)."""

    convert: Callable[[Any], Any]


def _as_text(value: Any) -> Any:
    """Numbers as text: a name 12345 -> "12345", a port 3306.0 -> "3306", 12.5 -> "12.5"."""
    if isinstance(value, bool):
        raise ValueError("true/false is not text")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < _LARGEST_INTEGRAL else repr(value)
    raise ValueError("not text")


_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+")


def _as_count(value: Any) -> Any:
    """1,234 or "1,234" -> 1234 ("12.0" and 12.0 the int check reads itself)."""
    if isinstance(value, str) and _GROUPED.fullmatch(value.strip()):
        return int(value.replace(",", ""))
    raise ValueError("not a count")


# The words backends use for a flag, case ignored: booleans as text, and status words.
_FLAG_WORDS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1", "on", "active", "enabled", "healthy"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0", "off", "inactive", "disabled"), False),
}


def _as_flag(value: Any) -> Any:
    """ "ACTIVE", " Yes ", "disabled" ... -> bool (true/false, 1/0 and "true" the bool check reads itself)."""
    if isinstance(value, str) and (word := value.strip().casefold()) in _FLAG_WORDS:
        return _FLAG_WORDS[word]
    raise ValueError("not a true/false value")


_EPOCH_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _as_timestamp(value: Any) -> Any:
    """Epoch seconds, milliseconds or microseconds (numbers or numeric text) -> ISO-8601 UTC, like the
    reference's own dates ("2025-01-15T10:30:00Z"); other text is kept as the API wrote it.

    A validator that always runs (numeric text passes the str check), on the two date fields of a
    connector only."""
    if isinstance(value, bool):
        return value  # refused by the str check
    if isinstance(value, str):
        if not _EPOCH_NUMBER.fullmatch(value.strip()):
            return value
        value = float(value) if "." in value else int(value)
    if not isinstance(value, int | float):
        return value
    seconds = float(value)
    # 1e11 s is the year 5138 while 1e11 ms is 1973: the magnitude says the unit.
    if abs(seconds) >= 1e14:
        seconds /= 1e6
    elif abs(seconds) >= 1e11:
        seconds /= 1e3
    try:
        moment = datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("not a date") from None
    precision = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=precision).replace("+00:00", "Z")


Text = Annotated[str, _ReadAs(_as_text)]
Flag = Annotated[bool, _ReadAs(_as_flag)]
Count = Annotated[int, _ReadAs(_as_count)]
Timestamp = Annotated[str, BeforeValidator(_as_timestamp)]
# Integer in the reference, a string code in some backends (institutionID, ownerID, auth type).
Code = int | str


# --- records ----------------------------------------------------------------------------------------------

RecordT = TypeVar("RecordT", bound="APIRecord")
_UNREAD = "unread_fields"


class APIRecord(BaseModel):
    """A record of the API: declared fields first, unknown extra fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @classmethod
    def read(cls, data: Any) -> Self:
        """The record, with odd shapes read as what they mean, and any declared field that still cannot
        be read left out and named in `unread_fields`.

        Raises ValidationError only when the record itself cannot be read: not an object, or a required
        field (its ID, its name) missing or unreadable.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            failed = _failed_fields(error)
            if not isinstance(data, dict) or not failed:
                raise
        retry = dict(cls._normalised(data))
        for name in failed & retry.keys():
            if (convert := _reader(cls, name)) is not None:
                with contextlib.suppress(ValueError):
                    retry[name] = convert(retry[name])
        try:
            return cls.model_validate(retry)
        except ValidationError as error:
            unread = _failed_fields(error)
            if not unread or any(_required(cls, name) for name in unread):
                raise
        record = cls.model_validate({name: value for name, value in retry.items() if name not in unread})
        # Kept where pydantic keeps private attributes, set only on the rare odd record: a declared
        # PrivateAttr is initialised on every instance, which doubled the time to read 20,000 tables.
        record.__pydantic_private__ = {_UNREAD: tuple(sorted(unread))}
        return record

    @property
    def unread_fields(self) -> tuple[str, ...]:
        """Declared fields the API sent in a shape that could not be read (shown as empty)."""
        private = self.__pydantic_private__
        return private.get(_UNREAD, ()) if private else ()

    @classmethod
    def _normalised(cls, data: dict[str, Any]) -> dict[str, Any]:
        """The record with the API's other spellings of a declared field renamed to it: a copy when
        anything changes (the caller's dict is left alone). Never raises (that would fail the whole
        record), and gives the same result when run again."""
        return data

    def extra_fields(self) -> dict[str, Any]:
        """Fields the upstream sent beyond the reference, in the order it sent them."""
        return dict(self.model_extra or {})

    def sent_fields(self) -> list[str]:
        """The fields the upstream sent: the declared ones it filled in (read or not), then its extras."""
        declared = type(self).model_fields
        unread = self.unread_fields
        sent = [name for name in declared if name in self.model_fields_set or name in unread]
        return [*sent, *self.extra_fields()]

    def as_row(self) -> dict[str, Any]:
        """Every field, declared then extra, as plain values (what projection picks from)."""
        return {**{name: getattr(self, name) for name in type(self).model_fields}, **self.extra_fields()}


class _RenamedRecord(APIRecord):
    """A record whose fields some backends spell differently: renamed before validation (`_normalised`)."""

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        return cls._normalised(data) if isinstance(data, dict) else data


@functools.cache
def _reader(model: type[APIRecord], name: str) -> Callable[[Any], Any] | None:
    """How to read a value of the field `name` that its check refused, if its type says (`_ReadAs`)."""
    field = model.model_fields.get(name)
    if field is None:
        return None
    marks = [*field.metadata]
    for member in get_args(field.annotation):  # Text | None: the mark is inside the union
        if get_origin(member) is Annotated:
            marks += member.__metadata__
    return next((mark.convert for mark in marks if isinstance(mark, _ReadAs)), None)


def _failed_fields(error: ValidationError) -> set[str]:
    """The top-level fields a validation error is about; empty when it is about the record as a whole."""
    names = set()
    for problem in error.errors():
        if not problem["loc"] or not isinstance(problem["loc"][0], str):
            return set()
        names.add(problem["loc"][0])
    return names


def _required(model: type[APIRecord], name: str) -> bool:
    declared = model.model_fields.get(name)
    return declared is not None and declared.is_required()


@dataclass(frozen=True)
class SkippedRecord:
    """A record of a listing that could not be shown at all, and what little is known of it."""

    position: int  # in the API's answer
    fields: tuple[str, ...]  # the fields that could not be read (empty: the record was not an object)
    # Where it belongs, when that could be read: a project's listing leaves out another's skipped records.
    project: str | None = None
    institution: str | None = None


class RecordList(list[RecordT]):
    """The records of one listing, and the ones the API sent that could not be read at all."""

    def __init__(self, records: Iterable[RecordT] = (), skipped: Iterable[SkippedRecord] = ()) -> None:
        super().__init__(records)
        self.skipped = list(skipped)


def skipped_of(records: Sequence[APIRecord]) -> list[SkippedRecord]:
    """The records a listing had to leave out (none when it is not a RecordList)."""
    return records.skipped if isinstance(records, RecordList) else []


_HEALTH_ACTIVE = {"active": True, "healthy": True, "inactive": False, "disabled": False}


class Connector(_RenamedRecord):
    """A connector as GET /api/connector and GET /api/connector/{id} describe it."""

    connectorID: int
    connectorName: Text | None = None
    connectorType: Text | None = None
    connectorHost: Text | None = None
    connectorPort: Text | None = None
    connectorDatabaseName: Text | None = None
    connectorUsername: Text | None = None
    connectorAuthType: Code | None = None
    institutionID: Code | None = None
    internalID: Text | None = None
    ownerID: Code | None = None
    active: Flag | None = None
    connectorMaxConnections: Count | None = None
    createdDate: Timestamp | None = None
    lastModifiedDate: Timestamp | None = None

    # The small column set a listing shows unless the agent asks for more.
    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("connectorID", "connectorName", "connectorType", "active")

    @property
    def type_names(self) -> tuple[str, ...]:
        """connectorType, and the product the real backend names in connectorSubType (its connectorType
        is then only a category such as "database"); the reference has no subtype."""
        subtype = (self.model_extra or {}).get("connectorSubType")
        return tuple(str(name) for name in (self.connectorType, subtype) if name)

    @classmethod
    def _normalised(cls, data: dict[str, Any]) -> dict[str, Any]:
        # The real backend may keep the connection settings in a `configuration` object and date its
        # records createdAt/updatedAt: shown under the reference's names, whichever shape came.
        if isinstance(data.get("configuration"), dict) or "createdAt" in data or "updatedAt" in data:
            data = _lifted(data)
        # It says "active" four ways: active (bool), isActive (1/0, "true"), connectorHealthStatus or
        # status ('active'|'inactive'|'error'|'pending'). isActive is read by the `active` field's own
        # check, so an unreadable one is named as `active`.
        if data.get("active") is not None:
            return data
        if "isActive" in data:
            data = dict(data)
            data["active"] = data.pop("isActive")
            return data
        for field in ("connectorHealthStatus", "status"):
            if isinstance(status := data.get(field), str) and status.lower() in _HEALTH_ACTIVE:
                return {**data, "active": _HEALTH_ACTIVE[status.lower()]}
        return data


# A `configuration` object's settings -> the reference's flat field for each.
_CONFIGURATION_FIELDS = (
    ("host", "connectorHost"),
    ("port", "connectorPort"),
    ("database", "connectorDatabaseName"),
    ("databaseName", "connectorDatabaseName"),
    ("username", "connectorUsername"),
    ("user", "connectorUsername"),
)
_DATE_FIELDS = (("createdAt", "createdDate"), ("updatedAt", "lastModifiedDate"))


def _lifted(data: dict[str, Any]) -> dict[str, Any]:
    """A copy with `configuration`'s connection settings and createdAt/updatedAt under the reference's
    names (a flat field already there wins); what else the configuration holds stays in it."""
    lifted = dict(data)
    configuration = lifted.get("configuration")
    if isinstance(configuration, dict):
        rest = dict(configuration)
        for inner, flat in _CONFIGURATION_FIELDS:
            if inner in rest and lifted.get(flat) is None:
                lifted[flat] = rest.pop(inner)
        if rest:
            lifted["configuration"] = rest
        else:
            del lifted["configuration"]
    for other, reference in _DATE_FIELDS:
        if other in lifted and lifted.get(reference) is None:
            lifted[reference] = lifted.pop(other)
    return lifted


class WriteResult(APIRecord):
    """The answer to a create or an update."""

    connectorID: int | None = None
    message: Text | None = None
    status: Text | None = None


class DeleteResult(APIRecord):
    message: Text | None = None
    status: Text | None = None


class TestResult(APIRecord):
    """The answer to POST /api/connector/{id}/test (success or failure)."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    success: Flag = False
    status: Text | None = None
    message: Text | None = None
    error: Text | None = None
    details: dict[str, Any] | None = None


class RefreshResult(APIRecord):
    message: Text | None = None
    status: Text | None = None
    catalogCount: Count | None = None
    schemaCount: Count | None = None
    tableCount: Count | None = None


class Catalog(APIRecord):
    catalogName: Text
    description: Text | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("catalogName", "description")


class Schema(APIRecord):
    schemaName: Text
    description: Text | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("schemaName", "description")


class Table(APIRecord):
    tableName: Text
    tableType: Text | None = None
    rowCount: Count | None = None
    sizeInBytes: Count | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("tableName", "tableType", "rowCount")


class Column(APIRecord):
    columnName: Text
    dataType: Text | None = None
    isNullable: Flag | None = None
    isPrimaryKey: Flag | None = None

    DEFAULT_LIST_FIELDS: ClassVar[tuple[str, ...]] = ("columnName", "dataType", "isNullable", "isPrimaryKey")


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

"""Pydantic models of the records the real backend serves beyond the reference API: a project, the user's
account, pipelines, a query's result. Read like the reference's records (models.py): odd shapes as what
they mean, an unreadable field left out and named.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator

from .models import APIRecord, Code, Count, Flag, Text, _RenamedRecord


def _without_braces(value: str) -> str:
    # Some backend answers wrap a project code in braces: "{N1r8Do}".
    return value.strip("{}")


class Project(_RenamedRecord):
    """A project of the user, from the real backend's GET /api/my/projects or GET /api/project/{id} (not in
    the reference)."""

    internalID: Annotated[Text, AfterValidator(_without_braces)]
    name: Text | None = None
    institutionID: Code | None = None
    id: Code | None = None

    @classmethod
    def _normalised(cls, data: dict[str, Any]) -> dict[str, Any]:
        # Seen spelled internalID and internalId; the institution as institutionId or organizationId.
        data = dict(data)
        if "internalID" not in data and "internalId" in data:
            data["internalID"] = data.pop("internalId")
        for alias in ("institutionId", "organizationId"):
            if data.get("institutionID") is None and alias in data:
                data["institutionID"] = data.pop(alias)
        return data


class Account(APIRecord):
    """The user the token belongs to, from the real backend's GET /api/my/account: `id` is the ownerID."""

    id: Code
    email: Text | None = None


# Where a pipeline names its connectors: in items[] as numbers, on some records at the top as strings.
_PIPELINE_REFERENCES = (
    ("sourceConnectionID", "source"),
    ("targetConnectionID", "target"),
    ("sourceConnectorID", "source"),
    ("targetConnectorID", "target"),
    ("sourceConnectorId", "source"),
    ("targetConnectorId", "target"),
)


class Pipeline(APIRecord):
    """A pipeline, from the real backend's GET /api/pipeline (not in the reference)."""

    pipelineID: Code
    pipelineName: Text | None = None
    items: list[Any] | None = None

    def roles_of(self, connector_id: int) -> list[str]:
        """How the pipeline uses the connector: "source", "target" (both for a copy within it), or none.
        References are matched as numbers and as strings ("142", " 142")."""
        wanted = str(connector_id)
        places: list[dict[str, Any]] = [self.extra_fields()]
        places += [item for item in self.items or [] if isinstance(item, dict)]
        roles = {
            role for place in places for field, role in _PIPELINE_REFERENCES if _reference(place.get(field)) == wanted
        }
        return sorted(roles, key=("source", "target").index)


def _reference(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text if text.isdigit() else None


class QueryResult(APIRecord):
    """The answer to POST /api/connector/{id}/query (the real backend's; not in the reference).

    `columns` are names (or {"name": ...} objects), `rows` objects keyed by column (or arrays in
    column order); `executionTime` is in milliseconds. A failed statement says `success: false`
    and its `error`."""

    success: Flag | None = None
    sql: Text | None = None
    columns: list[Any] | None = None
    rows: list[Any] | None = None
    rowCount: Count | None = None
    executionTime: float | None = None
    error: Text | None = None
    message: Text | None = None

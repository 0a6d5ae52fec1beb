"""Examples taken verbatim from the API reference (shared/databasin-connector-api.md), shared by tests."""

from __future__ import annotations

from typing import Any

# POST /api/connector: the request body the reference shows.
CREATE_BODY: dict[str, Any] = {
    "connectorName": "Production MySQL",
    "connectorType": "RDBMS",
    "connectorHost": "mysql.example.com",
    "connectorPort": "3306",
    "connectorDatabaseName": "analytics",
    "connectorUsername": "databasin_user",
    "connectorPassword": "secure_password",
    "connectorAuthType": 2,
    "institutionID": 1,
    "internalID": "proj-001",
    "ownerID": 456,
}

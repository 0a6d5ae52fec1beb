"""How a stored connector is shown to clients: secrets removed, and the optional dialect / leak variants."""

from __future__ import annotations

import hashlib
from typing import Any

from .config import Dialect
from .seed import ConnectorRecord

# The reference's list item; the single-connector body adds the remaining stored fields.
SUMMARY_FIELDS = (
    "connectorID",
    "connectorName",
    "connectorType",
    "connectorHost",
    "connectorPort",
    "connectorDatabaseName",
    "institutionID",
    "internalID",
    "ownerID",
    "active",
    "testConnectorSupport",
    "createdDate",
    "lastModifiedDate",
)
_SECRET_MARKERS = ("password", "secret", "privatekey", "token", "apikey")


def is_secret_field(name: str) -> bool:
    """True for fields never returned (connectorPassword, apiSecret, privateKey, any *token*, ...)."""
    lowered = name.lower().replace("_", "")
    return any(marker in lowered for marker in _SECRET_MARKERS)


class ConnectorPresenter:
    """Turns stored records into response bodies for one sandbox configuration."""

    def __init__(self, dialect: Dialect = "reference", leak_secrets: bool = False) -> None:
        self.dialect = dialect
        self.leak_secrets = leak_secrets

    def summary(self, record: ConnectorRecord) -> dict[str, Any]:
        return self._finish({name: record.get(name) for name in SUMMARY_FIELDS}, record)

    def detail(self, record: ConnectorRecord) -> dict[str, Any]:
        return self._finish({k: v for k, v in record.items() if not is_secret_field(k)}, record)

    def _finish(self, body: dict[str, Any], record: ConnectorRecord) -> dict[str, Any]:
        if self.leak_secrets:
            body.update(leaked_secrets(record))
        if self.dialect == "real":
            body = _real_dialect(body, subtype(record))
        return body


def subtype(record: ConnectorRecord) -> str:
    """The product the real backend names in connectorSubType: a relational connector's by its port."""
    ctype = str(record.get("connectorType") or "")
    if ctype != "RDBMS":
        return ctype.casefold()
    by_port = {"3306": "mysql", "5432": "postgres", "1433": "sqlserver", "1521": "oracle"}
    return str(record.get("connectorSubType") or by_port.get(str(record.get("connectorPort")), "postgres"))


def leaked_secrets(record: ConnectorRecord) -> dict[str, str]:
    """The secrets a careless backend might echo; derived from the password so they are stable."""
    password = str(record.get("connectorPassword") or "")
    digest = hashlib.sha256(f"{record['connectorID']}:{password}".encode()).hexdigest()
    return {
        "connectorPassword": password,
        "apiSecret": record.get("apiSecret") or f"sk_live_{digest[:32]}",
        "privateKey": record.get("privateKey")
        or f"-----BEGIN PRIVATE KEY-----\nMIIE{digest}\n-----END PRIVATE KEY-----",
        "jdbcUrl": (
            f"postgresql://{record.get('connectorUsername')}:{password}@{record.get('connectorHost')}"
            f":{record.get('connectorPort')}/{record.get('connectorDatabaseName')}"
        ),
    }


# Flat connection settings -> their names in the real backend's `configuration` object.
_CONFIGURATION = (
    ("connectorHost", "host"),
    ("connectorPort", "port"),
    ("connectorDatabaseName", "database"),
    ("connectorUsername", "username"),
)


def _real_dialect(body: dict[str, Any], subtype: str) -> dict[str, Any]:
    """What the production backend really sends: string IDs, two different spellings of "active", the
    product in connectorSubType, createdAt/updatedAt, and (on two records of three) the connection
    settings inside a `configuration` object."""
    connector_id = int(body["connectorID"])
    active = bool(body.get("active"))
    shaped = {key: value for key, value in body.items() if key != "active"}
    shaped["connectorID"] = str(connector_id)
    shaped["connectorSubType"] = subtype
    if connector_id % 2 == 0:
        shaped["isActive"] = int(active)
    else:
        shaped["connectorHealthStatus"] = "active" if active else "inactive"
    for old, new in (("createdDate", "createdAt"), ("lastModifiedDate", "updatedAt")):
        if old in shaped:
            shaped[new] = shaped.pop(old)
    if connector_id % 3:
        configuration = {inner: shaped.pop(flat) for flat, inner in _CONFIGURATION if flat in shaped}
        port = configuration.get("port")
        if isinstance(port, str) and port.isdigit():
            configuration["port"] = int(port)
        shaped["configuration"] = configuration
    return shaped

"""Deterministic seed connectors, and the landmark constants tests and demos rely on.

Landmarks (the same for every seed):

- ``SEED_CONNECTOR_COUNT`` = 434 connectors, IDs ``FIRST_CONNECTOR_ID`` (101) .. ``LAST_SEED_CONNECTOR_ID`` (534).
- ``PROJECTS``: 12 projects ``proj-001`` .. ``proj-012`` over 4 institutions, sizes in ``PROJECT_SIZES``;
  ``PROJECT_95`` (``proj-007``) has exactly 95 connectors, ``SMALLEST_PROJECT`` has 3.
- ``BIG_CONNECTOR_ID``: its catalog ``BIG_CATALOG`` holds schema ``BIG_SCHEMA`` with ``BIG_SCHEMA_TABLES`` (1,500)
  tables, one of which, ``WIDE_TABLE``, has ``WIDE_TABLE_COLUMNS`` (250) columns; with ``huge_schema_tables`` > 0
  the same catalog also holds ``HUGE_SCHEMA`` (see metadata.py).
- Connection-test landmarks: ``WRONG_PASSWORD_CONNECTOR_ID`` (password ``WRONG_PASSWORD``),
  ``UNREACHABLE_CONNECTOR_ID`` (host contains "unreachable"), ``INACTIVE_CONNECTOR_ID``,
  ``UNTESTABLE_CONNECTOR_ID`` (SFTP, testConnectorSupport false).
- ``LONG_EXTRAS_CONNECTOR_ID``: its single-connector body adds what real backends add beyond the reference,
  a long description and an options object.
- ``NAMED_CONNECTORS``: every pinned ID and its name, including non-ASCII ones such as "東京 Warehouse".

Everything else (names, hosts, which project each ID falls in, ...) is drawn from ``random.Random(seed)``.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

ConnectorRecord = dict[str, Any]

SEED_CONNECTOR_COUNT = 434
FIRST_CONNECTOR_ID = 101
LAST_SEED_CONNECTOR_ID = FIRST_CONNECTOR_ID + SEED_CONNECTOR_COUNT - 1

INSTITUTIONS: dict[int, str] = {
    1: "Northwind Traders",
    2: "Contoso Health",
    3: "Fabrikam Finance",
    4: "Tailspin Logistics",
}


@dataclass(frozen=True)
class Project:
    """A Databasin project: connectors are filtered by its ``internal_id`` (the API's internalID)."""

    number: int
    name: str
    institution_id: int
    size: int

    @property
    def internal_id(self) -> str:
        return f"proj-{self.number:03d}"


PROJECTS: tuple[Project, ...] = (
    Project(1, "Customer Analytics", 1, 60),
    Project(2, "Supply Chain", 1, 41),
    Project(3, "Board Reporting", 1, 3),
    Project(4, "Data Science Sandbox", 1, 28),
    Project(5, "Clinical Data", 2, 72),
    Project(6, "Claims Processing", 2, 12),
    Project(7, "Enterprise Data Warehouse", 3, 95),
    Project(8, "Treasury", 3, 5),
    Project(9, "Risk Models", 3, 33),
    Project(10, "Fleet Telemetry", 4, 48),
    Project(11, "Route Optimization", 4, 19),
    Project(12, "Legacy Migration", 4, 18),
)
PROJECT_SIZES: dict[str, int] = {p.internal_id: p.size for p in PROJECTS}
PROJECT_95 = "proj-007"
SMALLEST_PROJECT = "proj-003"

BIG_CONNECTOR_ID = 142
BIG_CATALOG = "enterprise_dw"
BIG_SCHEMA = "sales_history"
BIG_SCHEMA_TABLES = 1500
WIDE_TABLE = "customer_360"
WIDE_TABLE_COLUMNS = 250
HUGE_SCHEMA = "events_archive"

WRONG_PASSWORD = "wrong"
WRONG_PASSWORD_CONNECTOR_ID = 118
UNREACHABLE_CONNECTOR_ID = 127
INACTIVE_CONNECTOR_ID = 133
UNTESTABLE_CONNECTOR_ID = 151

CONNECTOR_TYPES: tuple[str, ...] = (
    "RDBMS",
    "Snowflake",
    "Databricks",
    "BigQuery",
    "Redshift",
    "S3",
    "SFTP",
    "Salesforce",
    "REST",
    "MongoDB",
)
UNTESTABLE_TYPES = frozenset({"SFTP", "REST"})
DEFAULT_MAX_CONNECTIONS = 8

# Product "flavours" per type: (label used in names, default port as the API sends it: a string).
_FLAVOURS: dict[str, tuple[tuple[str, str], ...]] = {
    "RDBMS": (("MySQL", "3306"), ("PostgreSQL", "5432"), ("SQL Server", "1433"), ("Oracle", "1521")),
    "Snowflake": (("Snowflake", "443"),),
    "Databricks": (("Databricks", "443"), ("Lakehouse", "443")),
    "BigQuery": (("BigQuery", "443"),),
    "Redshift": (("Redshift", "5439"),),
    "S3": (("S3 Landing", "443"), ("S3 Archive", "443"), ("S3 Raw Zone", "443")),
    "SFTP": (("SFTP Drop", "22"),),
    "Salesforce": (("Salesforce", "443"), ("Salesforce CRM", "443")),
    "REST": (("REST API", "443"),),
    "MongoDB": (("MongoDB", "27017"),),
}
_TYPE_WEIGHTS = (30, 12, 8, 7, 7, 12, 5, 7, 6, 6)  # aligned with CONNECTOR_TYPES: mostly relational

_DOMAINS = (
    "Production", "Finance", "Marketing", "Sales", "HR", "Inventory", "Billing", "Analytics", "Logistics",
    "Support", "Claims", "Payroll", "Orders", "Customer", "Risk", "Compliance", "Procurement", "Research",
    "Reporting", "Staging",
)  # fmt: skip
# Rarer on purpose: non-ASCII names must work end to end, but they are not the norm.
_NON_ASCII_DOMAINS = (
    "Café", "Müller", "São Paulo", "Zürich", "東京", "Kraków", "Malmö", "Québec", "München", "Øresund",
    "Reykjavík", "Île-de-France", "Ōsaka", "Łódź",
)  # fmt: skip
_DATABASES = ("analytics", "orders", "erp", "crm", "billing", "inventory", "hr", "finance", "warehouse", "reporting")
_USERNAMES = ("databasin_user", "svc_databasin", "etl_reader", "readonly", "integration")

_SEED_EPOCH = datetime(2023, 1, 2, 8, 0, tzinfo=UTC)
_SEED_NOW = datetime(2025, 6, 30, 18, 0, tzinfo=UTC)


LONG_EXTRAS_CONNECTOR_ID = 256
_LONG_EXTRAS: dict[str, Any] = {
    "connectorDescription": (
        "Salesforce production org of the São Paulo sales team. Feeds the nightly opportunity and account "
        "snapshots into the warehouse; owned by Revenue Operations. Bulk "
        "API is used for objects over 10,000 rows; the Streaming API is not enabled."
    ),
    "connectionOptions": {
        "apiVersion": "59.0",
        "loginUrl": "https://login.salesforce.com",
        "useBulkApi": True,
        "bulkBatchSize": 10000,
        "pkChunking": True,
        "chunkSize": 100000,
        "includeDeleted": False,
        "objects": ["Account", "Opportunity", "OpportunityLineItem", "Contact", "Lead", "Campaign", "User"],
        "timezone": "America/Sao_Paulo",
        "requestTimeoutSeconds": 120,
    },
}


@dataclass(frozen=True)
class _Pinned:
    """A connector whose identity is fixed so tests and demos can name it."""

    project: str
    name: str
    connector_type: str
    flavour: str
    overrides: dict[str, Any] = field(default_factory=dict)


_PINNED: dict[int, _Pinned] = {
    BIG_CONNECTOR_ID: _Pinned(PROJECT_95, "Enterprise Snowflake Warehouse", "Snowflake", "Snowflake"),
    WRONG_PASSWORD_CONNECTOR_ID: _Pinned(
        PROJECT_95, "Billing MySQL Replica", "RDBMS", "MySQL", {"connectorPassword": WRONG_PASSWORD}
    ),
    UNREACHABLE_CONNECTOR_ID: _Pinned(
        PROJECT_95,
        "Decommissioned PostgreSQL",
        "RDBMS",
        "PostgreSQL",
        {"connectorHost": "unreachable-pg.internal.example.com"},
    ),
    INACTIVE_CONNECTOR_ID: _Pinned(PROJECT_95, "Archived Oracle ERP", "RDBMS", "Oracle", {"active": False}),
    UNTESTABLE_CONNECTOR_ID: _Pinned(PROJECT_95, "Partner SFTP Drop", "SFTP", "SFTP Drop"),
    160: _Pinned(PROJECT_95, "東京 Warehouse", "Redshift", "Redshift"),
    104: _Pinned("proj-001", "Café Orders", "RDBMS", "MySQL"),
    209: _Pinned("proj-004", "Müller ERP", "RDBMS", "Oracle"),
    # What real backends add beyond the reference: a description and an options blob (long, never secret).
    LONG_EXTRAS_CONNECTOR_ID: _Pinned("proj-005", "São Paulo Sales", "Salesforce", "Salesforce", {**_LONG_EXTRAS}),
    311: _Pinned("proj-009", "Zürich Finance", "Snowflake", "Snowflake"),
}
NAMED_CONNECTORS: dict[int, str] = {cid: pinned.name for cid, pinned in _PINNED.items()}


def seed_connectors(seed: int) -> list[ConnectorRecord]:
    """Return the SEED_CONNECTOR_COUNT seed connectors (with passwords), identical for identical seeds."""
    rng = random.Random(seed)
    projects = _project_per_id(rng)
    taken: dict[str, set[str]] = {p.internal_id: set() for p in PROJECTS}
    for landmark in _PINNED.values():
        taken[landmark.project].add(landmark.name)
    created = _SEED_EPOCH
    records = []
    for cid in range(FIRST_CONNECTOR_ID, LAST_SEED_CONNECTOR_ID + 1):
        created += timedelta(seconds=rng.randint(3_600, 2 * 86_400))
        pinned = _PINNED.get(cid)
        if pinned is None:
            ctype = rng.choices(CONNECTOR_TYPES, _TYPE_WEIGHTS)[0]
            flavour = rng.choice(_FLAVOURS[ctype])[0]
            name = _unique_name(rng, flavour, taken[projects[cid].internal_id])
            records.append(_connector(rng, cid, projects[cid], ctype, flavour, name, created))
        else:
            record = _connector(rng, cid, projects[cid], pinned.connector_type, pinned.flavour, pinned.name, created)
            # Landmarks are healthy unless their overrides say otherwise, whatever the random draws were.
            record.update(active=True, connectorPassword=f"pw-landmark-{cid}")
            if "unreachable" in record["connectorHost"]:
                record["connectorHost"] = f"{_slug(pinned.name) or f'c{cid}'}.db.example.com"
            record.update(pinned.overrides)
            records.append(record)
    return records


def _project_per_id(rng: random.Random) -> dict[int, Project]:
    """Spread project membership over the ID range (as real creation order would), honouring pinned IDs."""
    by_id = {p.internal_id: p for p in PROJECTS}
    pinned_counts: dict[str, int] = {}
    for pinned in _PINNED.values():
        pinned_counts[pinned.project] = pinned_counts.get(pinned.project, 0) + 1
    free_slots = [p for p in PROJECTS for _ in range(p.size - pinned_counts.get(p.internal_id, 0))]
    rng.shuffle(free_slots)
    slots = iter(free_slots)
    return {
        cid: by_id[_PINNED[cid].project] if cid in _PINNED else next(slots)
        for cid in range(FIRST_CONNECTOR_ID, LAST_SEED_CONNECTOR_ID + 1)
    }


def _unique_name(rng: random.Random, flavour: str, taken: set[str]) -> str:
    """A realistic name ("Finance Snowflake"), numbered ("Finance Snowflake 2") when the project has it already."""
    domains = _NON_ASCII_DOMAINS if rng.random() < 0.08 else _DOMAINS
    base = f"{rng.choice(domains)} {flavour}"
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base} {number}"
    taken.add(name)
    return name


def _connector(
    rng: random.Random, cid: int, project: Project, ctype: str, flavour: str, name: str, created: datetime
) -> ConnectorRecord:
    host, port, database = _endpoint(rng, ctype, flavour, _slug(name) or f"c{cid}")
    modified = min(created + timedelta(seconds=rng.randint(0, 200 * 86_400)), _SEED_NOW)
    return {
        "connectorID": cid,
        "connectorName": name,
        "connectorType": ctype,
        "connectorHost": host,
        "connectorPort": port,
        "connectorDatabaseName": database,
        "connectorUsername": rng.choice(_USERNAMES),
        "connectorPassword": _password(rng),
        "connectorAuthType": rng.choice((1, 2, 2, 2, 3, 4)),
        "institutionID": project.institution_id,
        "internalID": project.internal_id,
        "ownerID": rng.randint(400, 520),
        "active": rng.random() >= 0.10,
        "connectorMaxConnections": rng.choice((DEFAULT_MAX_CONNECTIONS,) * 8 + (4, 16)),
        "testConnectorSupport": ctype not in UNTESTABLE_TYPES,
        "createdDate": iso_timestamp(created),
        "lastModifiedDate": iso_timestamp(modified),
    }


def _password(rng: random.Random) -> str:
    # A few random connectors also fail authentication, so "test all" flows see realistic failures.
    return WRONG_PASSWORD if rng.random() < 0.02 else f"pw-{rng.getrandbits(64):016x}"


def _endpoint(rng: random.Random, ctype: str, flavour: str, slug: str) -> tuple[str, str, str]:
    """Host, port and database name that look like the given product."""
    port = dict(_FLAVOURS[ctype])[flavour]
    n = rng.randint(1, 40)
    if rng.random() < 0.02:  # a few dead hosts, for realistic connection-test timeouts
        return f"unreachable-{slug}-{n:02d}.internal.example.com", port, rng.choice(_DATABASES)
    hosts = {
        "RDBMS": f"{slug}-{n:02d}.db.example.com",
        "Snowflake": f"{slug.replace('-', '')}{n:02d}.us-east-1.snowflakecomputing.com",
        "Databricks": f"adb-{rng.randint(10**15, 10**16 - 1)}.{n}.azuredatabricks.net",
        "BigQuery": "bigquery.googleapis.com",
        "Redshift": f"{slug}.c{rng.getrandbits(32):08x}.us-east-1.redshift.amazonaws.com",
        "S3": "s3.us-east-1.amazonaws.com",
        "SFTP": f"sftp.{slug}.example.com",
        "Salesforce": f"{slug}.my.salesforce.com",
        "REST": f"api.{slug}.example.com",
        "MongoDB": f"{slug}.{rng.getrandbits(20):05x}.mongodb.net",
    }
    databases = {
        "BigQuery": f"{slug}-{rng.randint(100000, 999999)}",
        "S3": f"acme-{slug}",
        "SFTP": "/inbound",
        "Salesforce": "production",
        "REST": "v1",
        "Databricks": rng.choice(("main", "hive_metastore")),
    }
    return hosts[ctype], port, databases.get(ctype, rng.choice(_DATABASES))


def _slug(text: str) -> str:
    """ASCII host label: "São Paulo Sales" -> "sao-paulo-sales"; purely non-Latin text gives ""."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_text.lower()).split()
    return "-".join(words)


def iso_timestamp(moment: datetime) -> str:
    """The API's timestamp format: ISO 8601, UTC, seconds, trailing Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

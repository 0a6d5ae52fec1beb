"""Pipelines of the seeded projects, deterministic, as the real backend's GET /api/pipeline lists them.

A pipeline copies from a source connector of its project to a target (a warehouse where the project
has one). It names its connectors in items[] as numbers (`sourceConnectionID`, `targetConnectionID`);
every third record names them at the top as strings (`sourceConnectorId`, `targetConnectorId`)
instead, as some real records do. Landmarks: `PINNED_PIPELINES` use `BIG_CONNECTOR_ID` as their
target, one in each shape.
"""

from __future__ import annotations

import random
from functools import lru_cache
from typing import Any

from .seed import BIG_CONNECTOR_ID, PROJECT_95, PROJECTS, WRONG_PASSWORD_CONNECTOR_ID, seed_connectors

Pipeline = dict[str, Any]
FIRST_PIPELINE_ID = 9001
_WAREHOUSES = frozenset({"Snowflake", "Redshift", "BigQuery", "Databricks"})
# (id, name, source, target, names its connectors at the top as strings)
PINNED_PIPELINES: tuple[tuple[int, str, int, int, bool], ...] = (
    (FIRST_PIPELINE_ID, "Billing replica to EDW", WRONG_PASSWORD_CONNECTOR_ID, BIG_CONNECTOR_ID, False),
    (FIRST_PIPELINE_ID + 1, "CRM to EDW", 110, BIG_CONNECTOR_ID, True),
)
_TABLES = ("orders", "customers", "invoices", "payments", "events", "accounts", "shipments")


@lru_cache(maxsize=4)
def seeded_pipelines(seed: int) -> tuple[Pipeline, ...]:
    """Every pipeline of every seeded project, the same for the same seed."""
    by_project: dict[str, list[dict[str, Any]]] = {p.internal_id: [] for p in PROJECTS}
    for record in seed_connectors(seed):
        by_project[record["internalID"]].append(record)
    pipelines = [
        _pipeline(pid, name, source, target, strings, PROJECT_95, random.Random(f"{seed}:{pid}"))
        for pid, name, source, target, strings in PINNED_PIPELINES
    ]
    next_id = FIRST_PIPELINE_ID + len(PINNED_PIPELINES)
    for project in PROJECTS:
        rng = random.Random(f"{seed}:pipelines:{project.internal_id}")
        members = by_project[project.internal_id]
        targets = [c for c in members if c["connectorType"] in _WAREHOUSES] or members
        sources = [c for c in members if c not in targets] or members
        for _ in range(max(1, len(members) // 8)):
            source, target = rng.choice(sources), rng.choice(targets)
            name = f"{source['connectorName']} to {target['connectorName']}"
            strings = (next_id - FIRST_PIPELINE_ID) % 3 == 2
            pipelines.append(
                _pipeline(
                    next_id, name, source["connectorID"], target["connectorID"], strings, project.internal_id, rng
                )
            )
            next_id += 1
    return tuple(pipelines)


def _pipeline(
    pipeline_id: int, name: str, source: int, target: int, strings: bool, project: str, rng: random.Random
) -> Pipeline:
    institution = next(p.institution_id for p in PROJECTS if p.internal_id == project)
    tables = rng.sample(_TABLES, rng.randint(1, 3))
    items: list[dict[str, Any]] = [
        {"sourceTableName": table, "targetTableName": table, "ingestionType": rng.choice(("delta", "snapshot"))}
        for table in tables
    ]
    record: Pipeline = {
        "pipelineID": pipeline_id,
        "pipelineName": name,
        "internalID": project,
        "institutionID": institution,
        "status": rng.choice(("active", "active", "inactive", "error")),
        "enabled": rng.random() < 0.85,
    }
    if strings:
        record |= {"sourceConnectorId": str(source), "targetConnectorId": str(target)}
    else:
        for item in items:
            item |= {"sourceConnectionID": source, "targetConnectionID": target}
    record["items"] = items
    return record

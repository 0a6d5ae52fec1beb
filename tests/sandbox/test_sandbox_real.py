"""The real dialect's routes beyond the reference: account, project, pipelines, RDBMS catalogs, records (issue 17)."""

from __future__ import annotations

import json

import pytest

from databasin_mcp.sandbox.pipelines import FIRST_PIPELINE_ID, PINNED_PIPELINES
from databasin_mcp.sandbox.real import ACCOUNT_ID
from databasin_mcp.sandbox.seed import BIG_CONNECTOR_ID, PROJECT_95

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


async def test_the_account_and_a_project_with_its_institution(make_client: MakeClient) -> None:
    client = await make_client(dialect="real")
    assert (await client.get("/api/my/account")).json()["id"] == ACCOUNT_ID
    project = (await client.get(f"/api/project/{PROJECT_95}")).json()
    assert (project["internalId"], project["institutionId"]) == (PROJECT_95, 3)
    missing = await client.get("/api/project/proj-999")
    assert (missing.status_code, missing.json()["message"]) == (404, "Project not found: proj-999")


async def test_pipelines_need_all_three_parameters_and_name_connectors_as_numbers_and_strings(
    make_client: MakeClient,
) -> None:
    client = await make_client(dialect="real")
    refused = await client.get("/api/pipeline", params={"internalID": PROJECT_95, "institutionID": 3})
    assert (refused.status_code, refused.json()["message"]) == (
        400,
        "Required request parameter 'ownerID' is not present",
    )
    listed = await client.get(
        "/api/pipeline", params={"internalID": PROJECT_95, "institutionID": 3, "ownerID": ACCOUNT_ID}
    )
    by_id = {p["pipelineID"]: p for p in listed.json()}
    numbers, strings = by_id[FIRST_PIPELINE_ID], by_id[FIRST_PIPELINE_ID + 1]
    assert {item["targetConnectionID"] for item in numbers["items"]} == {BIG_CONNECTOR_ID}
    assert strings["targetConnectorId"] == str(BIG_CONNECTOR_ID)
    assert len(PINNED_PIPELINES) == 2
    assert all(p["internalID"] == PROJECT_95 for p in listed.json())
    elsewhere = await client.get("/api/pipeline", params={"internalID": PROJECT_95, "institutionID": 1, "ownerID": 1})
    assert elsewhere.json() == []


async def test_a_relational_connectors_schemas_in_objects(make_client: MakeClient) -> None:
    client = await make_client(dialect="real")
    body = (await client.get("/api/connector/catalogs/103")).json()
    assert body["connectorTechnology"] == "postgres"
    assert body["objects"][-1] == "Sample Data"
    other = await client.get(f"/api/connector/catalogs/{BIG_CONNECTOR_ID}")
    assert other.status_code == 400


async def test_records_carry_the_subtype_dates_and_settings_in_configuration_on_two_of_three(
    make_client: MakeClient,
) -> None:
    client = await make_client(dialect="real")
    nested = json.loads((await client.get("/api/connector/104")).json())
    assert nested["connectorSubType"] == "mysql"
    assert nested["configuration"]["port"] == 3306
    assert "connectorHost" not in nested
    assert "createdAt" in nested
    assert "createdDate" not in nested
    flat = json.loads((await client.get("/api/connector/102")).json())
    assert "connectorHost" in flat
    assert "configuration" not in flat


async def test_a_real_create_needs_its_owner_and_the_reference_does_not(make_client: MakeClient) -> None:
    body = {"connectorName": "x", "connectorType": "RDBMS", "institutionID": 3, "internalID": PROJECT_95}
    real = await make_client(dialect="real")
    refused = await real.post("/api/connector", json=body)
    assert (refused.status_code, refused.json()["message"]) == (400, "Missing required field: ownerID")
    assert (await real.post("/api/connector", json={**body, "ownerID": ACCOUNT_ID})).status_code == 200
    reference = await make_client()
    assert (await reference.post("/api/connector", json=body)).status_code == 200
    assert (await reference.get("/api/my/account")).status_code == 404


async def test_the_columns_route_answers_the_vendor_clients_shape(make_client: MakeClient) -> None:
    client = await make_client(v2_routes=True)
    answer = await client.post(
        "/api/connector/columns", json={"connectorID": 103, "objects": ["group"], "chosenDatabaseSchema": "Sample Data"}
    )
    assert [c["name"] for c in answer.json()["columns"]] == ["order", "from", "user"]

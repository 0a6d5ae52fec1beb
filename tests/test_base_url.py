"""A base URL pasted with /api, or the web app's URL: said as what it is, never as "not found" (issue 16 #5)."""

from __future__ import annotations

import pytest
import respx
from click.testing import CliRunner
from mcp import Client

from databasin_mcp.cli import cli
from databasin_mcp.config import Settings, api_base

from .conftest import API_TOKEN, API_URL, ServerFactory

pytestmark = pytest.mark.anyio

WEB_PAGE = "<!DOCTYPE html><html><head><title>Databasin</title></head><body><div id=app></div></body></html>"
NOT_THE_API = (
    "The Databasin API URL answered {status} with a web page (HTML), not the API's JSON: DATABASIN_API_URL "
    "probably points at the web app or a proxy. Set it to the API's base URL (where /api/ping answers JSON); "
    "'databasin-mcp doctor' checks it."
)


@pytest.mark.parametrize(
    ("pasted", "base"),
    [
        ("https://api.databasin.example/api", "https://api.databasin.example"),
        ("https://api.databasin.example/api/", "https://api.databasin.example"),
        ("https://api.databasin.example/API", "https://api.databasin.example"),
        ("https://gateway.example/databasin/api", "https://gateway.example/databasin"),
        ("https://api.databasin.example", "https://api.databasin.example"),
        ("https://api.databasin.example/apis", "https://api.databasin.example/apis"),
        ("http://api", "http://api"),  # a host named api, not a path
    ],
)
def test_a_base_url_ending_in_api_means_the_part_before_it(pasted: str, base: str) -> None:
    assert api_base(pasted) == base
    assert Settings(api_url=pasted).api_url == base


async def test_requests_go_to_the_apis_paths_whatever_was_pasted(
    make_server: ServerFactory, router: respx.Router
) -> None:
    connector = router.get("/api/connector/142").respond(json={"connectorID": 142, "connectorName": "Orders"})

    async with Client(make_server(api_url=f"{API_URL}/api/")) as client:
        result = await client.call_tool("get_connector", {"connector_id": 142})

    assert not result.is_error
    assert connector.call_count == 1


@pytest.mark.parametrize("status", [200, 404])
async def test_a_web_page_where_json_belongs_is_a_configuration_error_not_a_missing_connector(
    make_server: ServerFactory, router: respx.Router, status: int
) -> None:
    router.get("/api/connector/142").respond(status, text=WEB_PAGE, headers={"Content-Type": "text/html"})

    async with Client(make_server()) as client:
        result = await client.call_tool("get_connector", {"connector_id": 142})

    assert result.is_error
    assert result.content[0].text == NOT_THE_API.format(status=status)  # type: ignore[union-attr]


@pytest.mark.parametrize("status", [200, 404])
def test_the_command_line_says_the_same_and_exits_3(status: int) -> None:
    with respx.mock(base_url=API_URL) as upstream:
        upstream.get("/api/connector/142").respond(status, text=WEB_PAGE, headers={"Content-Type": "text/html"})
        result = CliRunner().invoke(
            cli, ["connectors", "get", "142"], env={"DATABASIN_API_URL": API_URL, "DATABASIN_TOKEN": API_TOKEN}
        )
    assert (result.exit_code, result.stdout) == (3, "")
    assert result.stderr == f"Error: {NOT_THE_API.format(status=status)}\n"

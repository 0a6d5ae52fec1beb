"""A CLI test marked offline starts no sandbox, and a request it should not make fails it loudly."""

from __future__ import annotations

import threading

import pytest

from .conftest import OFFLINE_TOKEN, Api, Databasin


def sandbox_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "sandbox"]


@pytest.mark.offline
def test_an_offline_test_starts_no_sandbox(databasin: Databasin) -> None:
    assert databasin("connectors", "list").exit_code == 2  # a usage error: nothing to send
    assert sandbox_threads() == []


@pytest.mark.offline
def test_a_request_from_an_offline_test_fails_to_connect(databasin: Databasin, offline_api: Api) -> None:
    result = databasin("connectors", "get", "142")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"Error: Could not connect to the Databasin API at {offline_api.url} ")
    assert OFFLINE_TOKEN not in result.stderr


def test_a_test_not_marked_offline_gets_a_sandbox(databasin: Databasin) -> None:
    assert databasin("connectors", "get", "142", "--fields", "connectorName").exit_code == 0
    assert len(sandbox_threads()) == 1

"""server.json for the MCP Registry (schema 2025-12-11): the schema's required fields, and our real settings.

The rules checked are the schema's own (static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json):
ServerDetail requires name (reverse-DNS with one slash, 3-200 characters), description (1-100) and version
(at most 255, one version, not a range); a Package requires registryType, identifier and transport; a
KeyValueInput requires name; an Input's format is one of string, number, boolean, filepath.
"""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest

from databasin_mcp import __version__
from databasin_mcp.config import Settings

from .published import REGISTRY_SCHEMA, is_secret_field, pyproject, repository_url, server_json, settings_variables

SERVER_DETAIL_KEYS = {
    "$schema", "_meta", "description", "icons", "name", "packages", "remotes", "repository", "title", "version",
    "websiteUrl",
}  # fmt: skip
PACKAGE_KEYS = {
    "environmentVariables", "fileSha256", "identifier", "packageArguments", "registryBaseUrl", "registryType",
    "runtimeArguments", "runtimeHint", "transport", "version",
}  # fmt: skip
INPUT_KEYS = {"choices", "default", "description", "format", "isRequired", "isSecret", "name", "placeholder", "value"}
FORMATS = {"string", "number", "boolean", "filepath"}


def variables() -> list[dict[str, Any]]:
    return list(server_json()["packages"][0]["environmentVariables"])


def test_the_server_detail_has_the_schema_s_required_fields() -> None:
    detail = server_json()
    assert detail["$schema"] == REGISTRY_SCHEMA
    assert set(detail) <= SERVER_DETAIL_KEYS
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", detail["name"])
    assert 3 <= len(detail["name"]) <= 200
    assert 1 <= len(detail["description"]) <= 100
    assert 1 <= len(detail.get("title", "x")) <= 100
    assert detail["version"] == __version__
    assert not re.search(r"[\^~<>=*]|\.x$|latest", detail["version"])
    assert detail["repository"] == {"url": repository_url(), "source": "github"}


def test_the_package_is_the_pypi_one_run_by_uvx_over_stdio() -> None:
    (package,) = server_json()["packages"]
    assert set(package) <= PACKAGE_KEYS
    assert package["registryType"] == "pypi"
    assert package["identifier"] == pyproject()["project"]["name"]
    assert package["version"] == __version__
    assert package["runtimeHint"] == "uvx"
    assert package["transport"] == {"type": "stdio"}


def test_every_variable_is_a_real_setting_and_says_whether_it_is_required_and_secret() -> None:
    real = settings_variables()
    named = [variable["name"] for variable in variables()]
    assert len(named) == len(set(named))
    unknown = sorted(set(named) - set(real))
    assert unknown == [], f"server.json names variables Settings does not read: {unknown}"
    for variable in variables():
        assert set(variable) <= INPUT_KEYS, variable
        assert isinstance(variable["isRequired"], bool), variable
        assert isinstance(variable["isSecret"], bool), variable
        assert variable["description"], variable
        assert variable["isSecret"] == is_secret_field(real[variable["name"]]), variable
        assert variable.get("format", "string") in FORMATS, variable


@pytest.mark.parametrize("name", ["DATABASIN_API_URL", "DATABASIN_TOKEN", "DATABASIN_PROJECT", "DATABASIN_READ_ONLY"])
def test_what_a_user_sets_is_listed(name: str) -> None:
    assert name in [variable["name"] for variable in variables()]


def test_formats_and_choices_are_the_settings_own() -> None:
    real = settings_variables()
    for variable in variables():
        field = Settings.model_fields[real[variable["name"]]]
        annotation = field.annotation
        if annotation is bool:
            assert variable["format"] == "boolean", variable
            assert variable.get("default", "false") in ("true", "false")
        if typing.get_origin(annotation) is typing.Literal:
            assert variable["choices"] == list(typing.get_args(annotation)), variable
        if "default" in variable and annotation is not bool:
            assert variable["default"] == str(field.default), variable
        if variable["name"].endswith("_FILE"):
            assert variable["format"] == "filepath", variable


def test_the_token_is_secret_and_the_api_url_required() -> None:
    by_name = {variable["name"]: variable for variable in variables()}
    assert by_name["DATABASIN_TOKEN"]["isSecret"] is True
    assert by_name["DATABASIN_API_URL"]["isRequired"] is True
    assert [name for name, variable in by_name.items() if variable["isSecret"]] == ["DATABASIN_TOKEN"]

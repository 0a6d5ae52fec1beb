"""The MCP Bundle's manifest.json (manifest 0.4, server type uv), checked without node.

The official MCPB tool validates and packs it in tests/packaging/test_bundle.py; these checks say what it
cannot: that every variable it sets is one our settings read, that each user setting reaches the server,
and that the token is masked in the host's form.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from databasin_mcp import __version__
from databasin_mcp.specs import TOOLS

from .published import MANIFEST, is_secret_field, manifest, pyproject, repository_url, settings_variables

# The top-level keys manifest 0.4 allows (it refuses any other), and those it requires.
MANIFEST_KEYS = {
    "$schema", "dxt_version", "manifest_version", "name", "display_name", "version", "description",
    "long_description", "author", "repository", "homepage", "documentation", "support", "icon", "icons",
    "screenshots", "localization", "server", "tools", "tools_generated", "prompts", "prompts_generated", "keywords",
    "license", "privacy_policies", "compatibility", "user_config", "_meta",
}  # fmt: skip
REQUIRED = {"manifest_version", "name", "version", "description", "author", "server"}
USER_CONFIG_KEYS = {"type", "title", "description", "required", "default", "multiple", "sensitive", "min", "max"}
USER_CONFIG_REFERENCE = re.compile(r"\$\{user_config\.([A-Za-z0-9_]+)\}")


def env() -> dict[str, str]:
    return dict(manifest()["server"]["mcp_config"]["env"])


def test_the_manifest_is_version_0_4_of_server_type_uv() -> None:
    data = manifest()
    assert set(data) <= MANIFEST_KEYS
    assert set(data) >= REQUIRED
    assert data["manifest_version"] == "0.4"
    assert data["name"] == pyproject()["project"]["name"]
    assert data["version"] == __version__
    assert data["author"]["name"]
    assert data["license"] == "MIT"
    assert data["repository"] == {"type": "git", "url": repository_url()}
    server = data["server"]
    assert server["type"] == "uv"
    assert set(server) == {"type", "entry_point", "mcp_config"}
    assert set(server["mcp_config"]) <= {"command", "args", "env", "platform_overrides"}


def test_the_host_runs_the_bundle_s_launcher_with_uv() -> None:
    server = manifest()["server"]
    launcher = server["entry_point"]
    assert (MANIFEST.parent / launcher).is_file()
    assert server["mcp_config"]["command"] == "uv"
    assert server["mcp_config"]["args"] == ["run", "--directory", "${__dirname}", "${__dirname}/" + launcher]


def test_each_user_setting_reaches_a_real_variable() -> None:
    user_config: dict[str, dict[str, Any]] = manifest()["user_config"]
    used = {key for value in env().values() for key in USER_CONFIG_REFERENCE.findall(value)}
    assert used == set(user_config), "every user setting is passed on, and only settings that exist"
    real = settings_variables()
    assert set(env()) <= set(real)
    assert env() == {
        "DATABASIN_API_URL": "${user_config.api_url}",
        "DATABASIN_TOKEN": "${user_config.token}",
        "DATABASIN_PROJECT": "${user_config.project}",
        "DATABASIN_READ_ONLY": "${user_config.read_only}",
    }
    for option in user_config.values():
        assert set(option) <= USER_CONFIG_KEYS
        assert option["type"] in {"string", "number", "boolean", "directory", "file"}
        assert option["title"]
        assert option["description"]


def test_only_the_token_is_sensitive_and_it_is() -> None:
    user_config = manifest()["user_config"]
    real = settings_variables()
    for variable, value in env().items():
        (key,) = USER_CONFIG_REFERENCE.findall(value)
        assert user_config[key].get("sensitive", False) == is_secret_field(real[variable]), key
    assert user_config["token"]["sensitive"] is True
    assert user_config["token"]["required"] is True
    assert user_config["api_url"]["required"] is True


def test_optional_settings_have_defaults_so_the_host_always_fills_them() -> None:
    # A host leaves "${user_config.project}" as it is when nothing is set and there is no default; the
    # server would then read a project literally called that.
    user_config = manifest()["user_config"]
    for key, option in user_config.items():
        assert option.get("required", False) or "default" in option, key
    assert user_config["read_only"] == user_config["read_only"] | {"type": "boolean", "default": False}
    assert user_config["project"]["default"] == ""


def test_the_manifest_lists_the_server_s_tools() -> None:
    # Claude Desktop shows these before the server runs; UPDATE_SNAPSHOTS=1 writes them from the specs.
    expected = [{"name": spec.name, "description": spec.description} for spec in TOOLS]
    data = manifest()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" and data["tools"] != expected:
        MANIFEST.write_text(
            json.dumps(data | {"tools": expected}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        data = manifest()
    assert data["tools"] == expected
    assert data["tools_generated"] is False

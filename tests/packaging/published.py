"""What the published artefacts say, read from the files themselves (no process, no network).

The registry name and the repository URL are chosen once: server.json holds them, and every other place
that names them (pyproject, README's `mcp-name:` line, the MCPB manifest, the image label) is checked
against it.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from databasin_mcp.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVER_JSON = ROOT / "server.json"
MANIFEST = ROOT / "mcpb" / "manifest.json"
DOCKERFILE = ROOT / "Dockerfile"
README = ROOT / "README.md"
REGISTRY_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def server_json() -> dict[str, Any]:
    return json.loads(SERVER_JSON.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def registry_name() -> str:
    return str(server_json()["name"])


def repository_url() -> str:
    return str(server_json()["repository"]["url"])


def settings_variables() -> dict[str, str]:
    """Every environment variable Settings reads -> the field it sets."""
    found: dict[str, str] = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        names = [alias] if isinstance(alias, str) else [str(choice) for choice in getattr(alias, "choices", [])]
        found.update(dict.fromkeys(names, name))
    return found


def is_secret_field(field: str) -> bool:
    annotation = Settings.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ())


def changelog_versions() -> list[str]:
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.MULTILINE)


def install_section() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"^## Install\n(.*?)(?=^## )", text, re.DOTALL | re.MULTILINE)
    assert match is not None, "README.md has no ## Install section"
    return match.group(1)


def install_snippets() -> dict[str, str]:
    """The Install section's code blocks, by their <!-- snippet:NAME --> marker."""
    return dict(re.findall(r"<!-- snippet:([a-z0-9-]+) -->\n```[a-z]+\n(.*?)```\n", install_section(), re.DOTALL))


def shell_commands(code: str) -> list[str]:
    """The commands of a sh snippet: continuation lines joined, comments and blank lines dropped."""
    lines = code.replace("\\\n", " ").splitlines()
    return [re.sub(r"\s+#\s.*$", "", line).strip() for line in lines if line.strip()]

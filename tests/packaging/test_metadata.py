"""Package metadata ready for publishing (issue 18): one version, the licence shipped, links that work on PyPI."""

from __future__ import annotations

import re

from databasin_mcp import __version__

from .published import (
    README,
    ROOT,
    changelog_versions,
    manifest,
    pyproject,
    registry_name,
    repository_url,
    server_json,
)


def test_the_version_is_written_once_in_the_package() -> None:
    project = pyproject()["project"]
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    assert pyproject()["tool"]["hatch"]["version"]["path"] == "src/databasin_mcp/__init__.py"
    source = (ROOT / "src" / "databasin_mcp" / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__ = "([^"]+)"', source, re.MULTILINE) == [__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_every_published_description_names_the_package_version() -> None:
    registry = server_json()
    assert registry["version"] == __version__
    assert [package["version"] for package in registry["packages"]] == [__version__]
    assert manifest()["version"] == __version__
    assert changelog_versions()[0] == __version__


def test_the_mit_licence_is_a_file_the_builds_ship() -> None:
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in licence
    project = pyproject()["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]


def test_the_index_page_links_to_the_one_repository() -> None:
    project = pyproject()["project"]
    repository = repository_url()
    assert repository == "https://github.com/databasin-ai/databasin-mcp"
    assert project["urls"] == {
        "Homepage": repository,
        "Repository": repository,
        "Issues": f"{repository}/issues",
        "Changelog": f"{repository}/blob/main/CHANGELOG.md",
        "Security": f"{repository}/blob/main/SECURITY.md",
    }
    assert project["authors"]
    assert all(author.get("name") for author in project["authors"])
    assert {"mcp", "model-context-protocol", "databasin"} <= set(project["keywords"])


def test_the_classifiers_say_what_the_package_supports() -> None:
    project = pyproject()["project"]
    classifiers = project["classifiers"]
    assert project["requires-python"] == ">=3.11"
    pythons = sorted(
        c.rsplit(" :: ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    )
    assert pythons == ["3.11", "3.12", "3.13"]
    assert "Programming Language :: Python :: 3 :: Only" in classifiers
    # The licence is the SPDX expression above: a licence classifier beside it is refused by the build backend.
    assert not [c for c in classifiers if c.startswith("License ::")]


def test_the_registry_name_is_the_repository_s_github_namespace() -> None:
    owner, name = repository_url().removeprefix("https://github.com/").split("/")
    assert registry_name() == f"io.github.{owner}/{name}"


def test_install_is_the_first_section_after_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[0] == "Install"
    assert text.index("make test   # every test") < text.index("## Install")


def test_the_readme_names_the_registry_entry_for_pypi() -> None:
    # The MCP Registry checks that the PyPI page (this README) names the server it publishes.
    assert re.findall(r"mcp-name: (\S+)", README.read_text(encoding="utf-8")) == [registry_name()]


def test_the_changelog_and_the_security_policy_are_there() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog\n")
    assert re.search(rf"^## \[{re.escape(__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.MULTILINE)
    security = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    assert f"{repository_url()}/security/advisories/new" in security
    for promise in ("DATABASIN_TOKEN", "never", "audit"):
        assert promise in security

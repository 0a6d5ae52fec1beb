"""The MCP Bundle (issue 18 #4): validated and packed by the official MCPB tool, unpacked by it, and started
the way a host starts a bundle of server type uv (its mcp_config, with the user's settings filled in)
against a sandbox, answering tools/list.

The MCPB tool is the pinned npm package (mcpb/build.py), installed once into the per-user cache; where npm
or its registry is unreachable these tests are skipped, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import sys
import tomllib
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from databasin_mcp.harness.processes import sandbox_process
from databasin_mcp.specs import TOOLS

from .published import MANIFEST, ROOT, pyproject
from .tools import mcpb_cli, offline_env, run, timed, wheelhouse

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]
SERVE_TIMEOUT = 120.0
UV_NETWORK_ERRORS = re.compile(r"Failed to fetch|error sending request|dns error|Connection refused|timed out")


def builder() -> ModuleType:
    """mcpb/build.py, the script `make mcpb` runs."""
    spec = importlib.util.spec_from_file_location("mcpb_build", ROOT / "mcpb" / "build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def packed(tmp_path: Path) -> tuple[Path, list[str]]:
    """`python mcpb/build.py --out <tmp>` with the pinned MCPB tool: the .mcpb, and how to run the tool."""
    build = builder()
    mcpb = mcpb_cli(build.MCPB_PACKAGE, build.MCPB_VERSION)
    with timed("mcpb validate + pack"):
        command = [sys.executable, str(ROOT / "mcpb" / "build.py"), "--out", str(tmp_path), "--mcpb", shlex.join(mcpb)]
        said = run(command, offline_env(tmp_path / "home", tmp_path))
    assert "Manifest schema validation passes!" in said
    return tmp_path / build.bundle_name(), mcpb


def host_command(unpacked: Path, user_config: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The command and environment a host derives from the bundle's manifest and the user's settings."""
    manifest = json.loads((unpacked / "manifest.json").read_text(encoding="utf-8"))
    config = manifest["server"]["mcp_config"]
    values = {f"${{user_config.{key}}}": value for key, value in user_config.items()}
    values["${__dirname}"] = str(unpacked)

    def filled(text: str) -> str:
        for placeholder, value in values.items():
            text = text.replace(placeholder, json.dumps(value) if isinstance(value, bool) else str(value))
        assert "${" not in text, text
        return text

    return [filled(config["command"]), *map(filled, config["args"])], {k: filled(v) for k, v in config["env"].items()}


def unpack(bundle: Path, mcpb: list[str], tmp_path: Path) -> Path:
    unpacked = tmp_path / "unpacked"
    with timed("mcpb unpack"):
        run([*mcpb, "unpack", str(bundle), str(unpacked)], offline_env(tmp_path / "home", tmp_path))
    return unpacked


async def test_the_bundle_is_packed_by_the_official_tool_and_served_by_uv(tmp_path: Path) -> None:
    bundle, mcpb = packed(tmp_path)
    with zipfile.ZipFile(bundle) as archive:
        names = sorted(archive.namelist())
        project = tomllib.loads(archive.read("pyproject.toml").decode())
    # Exactly the files named for it: never a .token, a .venv or the tests of the checkout it was built in.
    assert names == sorted([*builder().bundle_files(), "pyproject.toml"])
    # What the server needs, and nothing uv would have to resolve for tests or benchmarks.
    assert project["project"]["dependencies"] == pyproject()["project"]["dependencies"]
    assert "optional-dependencies" not in project["project"]
    assert set(project["tool"]) == {"hatch"}
    assert {"manifest.json", "server/main.py", "pyproject.toml", "LICENSE", "src/databasin_mcp/__init__.py"} <= set(
        names
    )
    unpacked = unpack(bundle, mcpb, tmp_path)
    settings = {"api_url": None, "token": None, "project": "", "read_only": True}
    with sandbox_process() as sandbox:
        settings |= {"api_url": sandbox.url, "token": sandbox.token}
        command, variables = host_command(unpacked, settings)
        assert command[:3] == ["uv", "run", "--directory"]
        # As a host does, uv may ask PyPI: `uv run` locks the project for every platform, which needs the
        # index's metadata (pywin32 for Windows, say); the packages themselves come from the wheelhouse.
        env = offline_env(tmp_path / "home", wheelhouse(), UV_OFFLINE="", **variables)
        with timed("uv run of the unpacked bundle (lock, install, serve)"):
            served = await listed_tools(command, env, tmp_path / "bundle.log")
    # read_only reached the server: the tools that write are not offered.
    assert served == [spec.name for spec in TOOLS if not spec.writes]


async def listed_tools(command: list[str], env: dict[str, str], errlog: Path) -> list[str]:
    params = StdioServerParameters(command=command[0], args=command[1:], env=env)
    try:
        with errlog.open("w", encoding="utf-8") as stderr, anyio.fail_after(SERVE_TIMEOUT):
            async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:
                tools = await client.list_tools()
                projects = await client.call_tool("list_projects", {})
    except Exception:
        said = read_log(errlog)
        if UV_NETWORK_ERRORS.search(said):
            pytest.skip(f"uv could not reach PyPI to lock the bundle's project: {said.strip()[-300:]}")
        raise AssertionError(f"the bundle did not serve; uv and the server said:\n{said[-3000:]}") from None
    assert projects.content[0].text.startswith("12 projects with "), projects  # type: ignore[union-attr]
    return [tool.name for tool in tools.tools]


def read_log(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def test_the_official_tool_refuses_a_manifest_that_breaks_its_schema(tmp_path: Path) -> None:
    build = builder()
    mcpb = mcpb_cli(build.MCPB_PACKAGE, build.MCPB_VERSION)
    broken = json.loads(MANIFEST.read_text(encoding="utf-8"))
    broken["user_config"]["token"]["sensitive"] = "yes"
    (tmp_path / "manifest.json").write_text(json.dumps(broken), encoding="utf-8")
    from databasin_mcp.harness.children import run_bounded

    done = run_bounded([*mcpb, "validate", str(tmp_path / "manifest.json")], env=offline_env(tmp_path, tmp_path),
                       timeout=120, check=False)  # fmt: skip
    assert done.returncode == 1
    assert "user_config.token.sensitive" in done.stdout + done.stderr

"""README's Install commands, run as written against a clean copy of the checkout (issue 18 #1, #2).

The PyPI commands (`uvx databasin-mcp`, `pipx install databasin-mcp`) need the package to be published;
each has a twin for a clone (`uvx --from .`, `pipx install .`) that is run here, with `uv build` and
pip installing the wheel. Every install is offline, from the wheels tools.wheelhouse() fetched once, with
its own HOME, pipx home and virtual environment; what got installed is then started over stdio, as a
client starts it, and must list the tools and answer a call (against its embedded sandbox).
"""

from __future__ import annotations

import shlex
import shutil
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from databasin_mcp import __version__
from databasin_mcp.specs import TOOLS

from .published import install_snippets, pyproject, repository_url, shell_commands
from .tools import BASE_PYTHON, clean_copy, offline_env, run, timed, wheelhouse

pytestmark = pytest.mark.anyio
SERVE_TIMEOUT = 120.0  # a first `uvx --from .` builds the package and links 36 wheels before it serves


def clone_command(starting: str) -> str:
    (line,) = [line for line in shell_commands(install_snippets()["install-clone"]) if line.startswith(starting)]
    return line


def test_the_clone_commands_are_the_pypi_ones_with_the_checkout_as_the_source() -> None:
    name = pyproject()["project"]["name"]
    pypi = shell_commands(install_snippets()["install-pypi"])
    assert pypi[0] == clone_command("uvx ").replace(f"--from . {name}", name)
    assert pypi[1] == clone_command("pipx ").replace("pipx install .", f"pipx install {name}")
    assert pypi[2].startswith("claude mcp add databasin ")
    assert pypi[2].endswith(f" -- uvx {name}")


async def serves(command: list[str], env: dict[str, str], errlog: Path, cwd: Path | None = None) -> None:
    """Start `command` as an MCP client starts a stdio server: it lists every tool and answers a call."""
    executable = shutil.which(command[0], path=env["PATH"])
    assert executable is not None, command
    params = StdioServerParameters(command=executable, args=command[1:], env=env, cwd=cwd)
    with errlog.open("w", encoding="utf-8") as stderr, anyio.fail_after(SERVE_TIMEOUT):
        async with Client(stdio_client(params, errlog=stderr), mode="legacy") as client:
            tools = await client.list_tools()
            projects = await client.call_tool("list_projects", {})
    assert [tool.name for tool in tools.tools] == [spec.name for spec in TOOLS]
    assert projects.content[0].text.startswith("12 projects with "), projects  # type: ignore[union-attr]


@pytest.mark.e2e
async def test_uvx_runs_the_clone_as_written(tmp_path: Path) -> None:
    checkout = clean_copy(tmp_path / "clone")
    env = offline_env(tmp_path / "home", wheelhouse())
    with timed("uvx --from . (build, install, serve)"):
        await serves(shlex.split(clone_command("uvx ")), env, tmp_path / "uvx.log", cwd=checkout)


def pipx_install(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """README's `pipx install .` in a clean copy: the environment it ran in, and where pipx put the commands."""
    checkout = clean_copy(tmp_path / "clone")
    env = offline_env(tmp_path / "home", wheelhouse())
    with timed("pipx install ."):
        run(shlex.split(clone_command("pipx ")), env, cwd=checkout)
    installed = Path(env["PIPX_BIN_DIR"])
    assert sorted(path.name for path in installed.iterdir()) == ["databasin", "databasin-mcp"]
    assert run([str(installed / "databasin"), "--version"], env).strip() == f"databasin, version {__version__}"
    return env, installed


@pytest.mark.e2e
async def test_pipx_installs_the_clone_as_written_and_it_serves(tmp_path: Path) -> None:
    env, installed = pipx_install(tmp_path)
    await serves([str(installed / "databasin-mcp"), "--sandbox"], env, tmp_path / "pipx.log")


def build_and_pip_install(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    """README's `uv build && pip install dist/...whl` in a clean copy, with `pip` a new virtual environment's
    (as after activating it): the environment, the virtual environment and the build output."""
    checkout = clean_copy(tmp_path / "clone")
    venv = tmp_path / "venv"
    env = offline_env(tmp_path / "home", wheelhouse())
    with timed("python -m venv"):
        run([BASE_PYTHON, "-m", "venv", str(venv)], env)
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    with timed("uv build && pip install dist/*.whl"):
        run(["bash", "-c", clone_command("uv build ")], env, cwd=checkout)
    return env, venv, checkout / "dist"


def check_the_builds(dist: Path) -> None:
    """The wheel and the sdist carry LICENSE and the metadata a package index shows; the wheel only the package."""
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as built:
        names = built.namelist()
        metadata = Parser().parsestr(built.read(f"databasin_mcp-{__version__}.dist-info/METADATA").decode())
        licence = built.read(f"databasin_mcp-{__version__}.dist-info/licenses/LICENSE").decode()
    assert licence.startswith("MIT License\n")
    assert metadata["Version"] == __version__
    assert metadata["License-Expression"] == "MIT"
    assert f"Repository, {repository_url()}" in metadata.get_all("Project-URL")
    assert {name.split("/")[0] for name in names} == {"databasin_mcp", f"databasin_mcp-{__version__}.dist-info"}
    with tarfile.open(sdist) as source:
        members = source.getnames()
    assert f"databasin_mcp-{__version__}/LICENSE" in members
    assert f"databasin_mcp-{__version__}/PKG-INFO" in members


@pytest.mark.e2e
async def test_the_wheel_built_from_a_clean_clone_carries_the_licence_and_pip_installs_it(tmp_path: Path) -> None:
    env, venv, dist = build_and_pip_install(tmp_path)
    check_the_builds(dist)
    await serves([str(venv / "bin" / "databasin-mcp"), "--sandbox"], env, tmp_path / "pip.log")

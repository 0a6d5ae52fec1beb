"""A real browser for the tests: the distribution's Chromium, driven by Playwright, installed when missing.

Playwright is used with the system's browser (`executable_path`), never its own download. On a fresh
machine where the tests run as root with apt-get (CI, a developer's container), Debian's `chromium`
package is installed the first time a browser test needs it; elsewhere those tests are skipped, saying
why in one line. DATABASIN_TEST_INSTALL_BROWSER=0 turns the installing off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
INSTALL_TIMEOUT = 900  # seconds: apt-get update and a browser with its libraries, on a slow mirror
# Headless, without a sandbox (root in a container), and without the background connections this machine's
# closed network refuses (they fail slowly, many at a time).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def system_chromium() -> Path | str:
    """Chromium's path, installing Debian's package first when it is missing and that is allowed; else
    why there is none."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("DATABASIN_TEST_INSTALL_BROWSER", "1") == "0":
        return f"no browser at {CHROMIUM}, and DATABASIN_TEST_INSTALL_BROWSER=0 says not to install one"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"no browser at {CHROMIUM}, and installing one needs root and apt-get: apt-get install chromium"
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=environment, check=False
            )
        except subprocess.TimeoutExpired:
            return f"{' '.join(command)} did not finish within {INSTALL_TIMEOUT} s"
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"{' '.join(command)} failed ({done.returncode}): {last[0]}"
    return CHROMIUM if CHROMIUM.exists() else f"apt-get installed chromium, yet there is no {CHROMIUM}"


@pytest.fixture(scope="session")
def chromium() -> Path:
    found = system_chromium()
    if isinstance(found, str):
        pytest.skip(f"no browser for the browser tests: {found}")
    return found


@asynccontextmanager
async def browser_context(executable: Path, profile: Path) -> AsyncIterator[object]:
    """A Playwright browser context on the system's Chromium, with a fresh profile in `profile`."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.skip("Playwright is not installed: pip install -e '.[test]'")
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(executable), headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            await context.close()

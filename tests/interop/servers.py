"""The installed `databasin-mcp` command, and running a server from a command line (as the README gives it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from databasin_mcp.harness.processes import HttpServer, watched_process

# The console script pip installed next to this interpreter: what users put in their client configs.
SERVER_SCRIPT = str(Path(sys.executable).parent / "databasin-mcp")
assert Path(SERVER_SCRIPT).is_file(), f"{SERVER_SCRIPT} is missing: run make test (it installs the package)"


@contextmanager
def servers_from_commands(commands: Sequence[Sequence[str]], env: Mapping[str, str]) -> Iterator[list[HttpServer]]:
    """Run HTTP `databasin-mcp ...` command lines at once; ready when each prints where it listens."""
    with ExitStack() as stack:
        # Every process is started before any is waited for, so that they start side by side.
        started = [stack.enter_context(watched_process(argv, env)) for argv in commands]
        servers = []
        for argv, (process, output) in zip(commands, started, strict=True):
            url = output.wait_for(r"^databasin-mcp: \S+ on (\S+)").group(1)
            servers.append(HttpServer(url=url, process=process, output=output, args=tuple(argv[1:])))
        yield servers

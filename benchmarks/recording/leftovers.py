"""Processes a client left running: found by the temporary HOME this harness gave the client.

A client starts our server itself, possibly in a process group of its own, so ending the client's
group is not proof that the server ended. Every process this harness starts (the client and what
it starts) inherits a HOME no other process has; whatever still has it after the run is a leftover.
"""

from __future__ import annotations

import os
import signal
from contextlib import suppress
from pathlib import Path

PROC = Path("/proc")


def processes_with_home(home: Path) -> list[int]:
    """PIDs whose environment has HOME=`home` (Linux /proc; elsewhere nothing can be seen: [])."""
    marker = f"HOME={home}".encode()
    found: list[int] = []
    for entry in PROC.glob("[0-9]*"):
        with suppress(OSError):
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return sorted(pid for pid in found if pid != os.getpid())


def end_leftovers(home: Path) -> list[str]:
    """Kill what still runs with HOME=`home`; the command lines of what was found (empty when all ended)."""
    ended: list[str] = []
    for pid in processes_with_home(home):
        with suppress(OSError):
            command = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            os.kill(pid, signal.SIGKILL)
            ended.append(f"{pid}: {command.strip()}")
    return ended

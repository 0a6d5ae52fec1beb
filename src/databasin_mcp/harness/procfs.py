"""What Linux says about a process (/proc): its children, its memory, the CPU time it used."""

from __future__ import annotations

import os
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path


def children_of(pid: int) -> list[int]:
    """The child processes of `pid`, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(FileNotFoundError):  # a thread that ended meanwhile
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def vm_kib(pid: int, field: str) -> int:
    """A memory figure of a process from /proc/<pid>/status, in KiB (VmHWM: peak RSS, VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


@dataclass(frozen=True)
class Memory:
    rss_mb: float  # resident now
    peak_mb: float  # highest resident since the process started (VmHWM)


def memory(pid: int) -> Memory:
    return Memory(rss_mb=vm_kib(pid, "VmRSS") / 1024, peak_mb=vm_kib(pid, "VmHWM") / 1024)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (load on the machine does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted after the name
    return (utime + stime) / os.sysconf("SC_CLK_TCK")

"""Child processes that always end: each run in its own process group, waited for at most a given time,
and killed with everything it started when that time is up (a client that launched a stdio server)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from contextlib import suppress


class Running:
    """A child in its own process group, so that a timeout also ends what it started (a stdio server)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self._input = input
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )

    def finish(self, timeout: float) -> subprocess.CompletedProcess[str]:
        """Wait at most `timeout` s; on timeout kill the whole group and raise TimeoutError with the output."""
        try:
            stdout, stderr = self.process.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            stdout, stderr = self.process.communicate(timeout=10)
            raise TimeoutError(
                f"{' '.join(self.argv)} did not finish within {timeout} s;\nstdout: {stdout[-2000:]}\n"
                f"stderr: {stderr[-2000:]}"
            ) from None
        finally:
            self._end_group()
        return subprocess.CompletedProcess(self.argv, self.process.returncode, stdout, stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._end_group()

    def _end_group(self) -> None:
        # Anything the child left behind in its group (it should be nothing) is ended too.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def run_bounded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` to its end within `timeout` s; with `check`, an exit code other than 0 raises AssertionError."""
    done = Running(argv, env=env, cwd=cwd, input=input).finish(timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def run_all(
    commands: Mapping[str, Sequence[str]],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several commands at once (they are independent); every one is waited for or killed."""
    running: dict[str, Running] = {}
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    try:
        for name, argv in commands.items():
            running[name] = Running(argv, env=env, cwd=cwd)
        for name, child in running.items():
            results[name] = child.finish(timeout)
    finally:
        for child in running.values():
            child.kill()
    return results

"""Run a command between our stdin/stdout and its own, appending every byte each way to a file.

    python tee_stdio.py RECORD -- COMMAND ARGS...

For a test that must see every byte of a stdio MCP session: the client launches this, this launches the
server, and RECORD gets the bytes as they pass (the server's stderr is passed through as it is). It stops
the command when stdin ends or it is itself told to stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from typing import IO


def main() -> int:
    record_path, separator, *command = sys.argv[1:]
    if separator != "--" or not command:
        sys.exit(__doc__)
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    if child.stdin is None or child.stdout is None:  # for the type checker: both are pipes
        return 1
    record = open(record_path, "ab", buffering=0)  # noqa: SIM115 - closed by the process's end
    lock = threading.Lock()

    def pump(source: IO[bytes], target: IO[bytes], close_target: bool) -> None:
        while chunk := os.read(source.fileno(), 65_536):
            with lock:
                record.write(chunk)
            target.write(chunk)
            target.flush()
        if close_target:
            target.close()

    threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, True), daemon=True).start()
    out = threading.Thread(target=pump, args=(child.stdout, sys.stdout.buffer, False), daemon=True)
    out.start()
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    code = child.wait()
    out.join(timeout=5)
    return code


if __name__ == "__main__":
    sys.exit(main())

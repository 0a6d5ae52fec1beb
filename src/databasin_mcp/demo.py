"""`make demo`: an agent's session with databasin-mcp, against a local sandbox, printed step by step.

Starts the sandbox API in the background on a free port, launches the real
`databasin-mcp` server over stdio with a real MCP client, runs the calls an
agent managing connectors would make, and prints each call with the first
lines of the text the model reads and the size of the whole of it in tokens;
it ends with how to connect the server for real. Needs no account and no
configuration; stops the sandbox and the server when done, also when its
reader stops reading (`make demo | head`), and names any failure in one line.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx
from mcp import Client

from .harness import results
from .harness.processes import sandbox_process, stdio_server
from .redact import is_secret_field
from .sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, PROJECT_95, WIDE_TABLE


@dataclass(frozen=True)
class Step:
    why: str
    tool: str
    arguments: dict[str, Any]


DEMO_CONNECTOR = {
    "name": "Demo Orders Postgres",
    "connector_type": "RDBMS",
    "project_id": PROJECT_95,
    "host": "orders-db.demo.local",
    "port": 5432,
    "database": "orders",
    "username": "demo_reader",
}
# What the person types on the password page. The agent never holds it: no step below passes it.
DEMO_PASSWORD = "demo-Pa55word"


def script(new_id: Callable[[], int], last_answer: Callable[[], str]) -> list[Step | Callable[[], Step]]:
    """The session: later steps use the ID the create step returned, and the page the step before named."""
    return [
        Step("Which projects are there?", "list_projects", {}),
        Step(f"What is in {PROJECT_95}?", "list_connectors", {"project_id": PROJECT_95}),
        Step("Where is the Zürich connector?", "find_connectors", {"query": "zurich"}),
        Step("Read one connector", "get_connector", {"connector_id": 311}),
        Step(
            "Create a connector: the person types its password",
            "create_connector",
            {**DEMO_CONNECTOR, "ask_password": True},
        ),
        lambda: Step(
            "The person typed it on the page (the demo did, for them); create it and test it",
            "create_connector",
            {**DEMO_CONNECTOR, "password_ref": typed_on_the_page(last_answer()), "test": True},
        ),
        lambda: Step("Rename it", "update_connector", {"connector_id": new_id(), "name": "Demo Orders (Postgres)"}),
        Step(
            "Tables of a 1,500-table schema (first page)",
            "list_tables",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA},
        ),
        Step(
            "Columns of a 250-column table (first page)",
            "list_columns",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE},
        ),
        lambda: Step("Delete it (confirmed)", "delete_connector", {"connector_id": new_id(), "confirm": True}),
        Step(
            "The first rows of the 250-column table",
            "preview_table",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE},
        ),
    ]


def typed_on_the_page(answer: str) -> str:
    """What the person does with the link the agent passed on: open the page, type the password, send it.
    The demo does it for them (a client without URL elicitation, as most are today); the ref comes back."""
    found = re.search(r"open (http://\S+/credentials/(\S+)) and type", answer)
    if found is None:
        raise RuntimeError(f"the answer names no password page: {answer!r}")
    url, ref = found.groups()
    with httpx.Client(timeout=results.CALL_TIMEOUT) as browser:
        page = browser.get(url)
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if page.status_code != 200 or token is None:
            raise RuntimeError(f"the password page did not open ({page.status_code})")
        browser.post(url, data={"csrf": token.group(1), "password": DEMO_PASSWORD, "action": "save"})
    return ref


@dataclass(frozen=True)
class TokenCounter:
    count: Callable[[str], int]
    estimated: bool
    name: str


def token_counter() -> TokenCounter:
    """Claude's (legacy) tokenizer when installed, else an estimate of 4 characters a token."""
    try:
        from anthropic_tokenizer import count_tokens
    except ImportError:
        estimate = "estimated at 4 characters a token: install the bench extra to count"
        return TokenCounter(lambda text: max(1, round(len(text) / 4)), estimated=True, name=estimate)
    return TokenCounter(count_tokens, estimated=False, name="Claude's legacy tokenizer")


SHOWN_LINES = 8  # of each answer; the size printed is still the whole answer's


def excerpt(answer: str) -> list[str]:
    """The first lines of an answer and one line that counts the rest; an answer one line too long is shown
    whole, since the count would take that line's place."""
    lines = answer.splitlines()
    if len(lines) <= SHOWN_LINES + 1:
        return lines
    return [*lines[:SHOWN_LINES], f"… {len(lines) - SHOWN_LINES} more lines"]


def shown_arguments(arguments: dict[str, Any]) -> str:
    """The call's arguments as an agent writes them, with secrets masked even in a demo (a flag such as
    ask_password=true holds none)."""
    shown = {
        key: "***" if is_secret_field(key) and not isinstance(value, bool) else value
        for key, value in arguments.items()
    }
    return ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in shown.items())


def header(tokens: TokenCounter) -> list[str]:
    return [
        "A scripted session: the calls an agent would make, sent by a real MCP client to the real databasin-mcp"
        " over stdio,",
        "against an embedded sandbox API with invented data. No account needed; nothing leaves this machine.",
        f"Sizes are of the whole answer the model reads, in tokens ({tokens.name}); only its first lines are shown.",
        "",
    ]


def next_steps(server: str) -> list[str]:
    """How to connect it for real: README's own commands, with this install's server in place of /path/to."""
    return [
        "",
        'Next, connect it for real (README.md, "Clients"). Claude Code, with your API URL and token file:',
        "  claude mcp add databasin --env DATABASIN_API_URL=https://api.databasin.example \\",
        f"    --env DATABASIN_TOKEN_FILE=$HOME/.databasin/.token -- {server}",
        f'Claude Desktop: README.md, "Claude Desktop". No account yet: any client can run `{server} --sandbox`.',
    ]


def installed_server() -> str:
    """The databasin-mcp beside this Python (the .venv `make demo` uses), as a shell word."""
    beside = Path(sys.executable).parent / "databasin-mcp"
    return shlex.quote(str(beside)) if beside.exists() else "databasin-mcp"


class Printer:
    """Whole lines to stdout, flushed at once so each step shows as it ends. A reader that has gone (a closed
    pipe: `make demo | head -1`) had enough: it is noted, and the session stops instead of failing."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.reader_gone = False

    def lines(self, *lines: str) -> bool:
        """Writes the lines; False once nobody reads them any more."""
        if self.reader_gone:
            return False
        try:
            self.stream.write("".join(f"{line}\n" for line in lines))
            self.stream.flush()
        except BrokenPipeError:
            self.reader_gone = True
            return False
        return True


class Session:
    """The demo's run; it knows what it is doing, so that a failure can be named in one line."""

    def __init__(self, out: Printer) -> None:
        self.out = out
        self.doing = "starting"

    async def run(self) -> int:
        tokens = token_counter()
        if not self.out.lines(*header(tokens)):
            return 0
        self.doing = "while starting the sandbox API"
        # Started before the event loop has anything else to do: waiting for its address blocks briefly.
        with sandbox_process() as sandbox:
            created: dict[str, int] = {}
            last = {"answer": ""}
            total = 0
            self.doing = "while starting databasin-mcp over stdio"
            async with Client(stdio_server(sandbox.env()), mode="legacy") as client:
                for number, entry in enumerate(script(lambda: created["id"], lambda: last["answer"]), start=1):
                    self.doing = f"at step {number}"  # building a step can fail too (the password page)
                    step = entry if isinstance(entry, Step) else entry()
                    self.doing = f"at step {number}, {step.tool}"
                    result = await results.call(client, step.tool, step.arguments)
                    text = results.text(result)
                    last["answer"] = text
                    if step.tool == "create_connector" and (found := results.CREATED.match(text)):
                        created["id"] = int(found.group(1))
                    size = tokens.count(text)
                    total += size
                    status = "  [error]" if result.is_error else ""
                    shown = self.out.lines(
                        f"── {number}. {step.why}: {'≈' if tokens.estimated else ''}{size:,} tokens{status}",
                        f"   {step.tool}({shown_arguments(step.arguments)})",
                        *(f"   {line}" for line in excerpt(text)),
                        "",
                    )
                    if result.is_error:
                        first_line = text.splitlines()[0] if text else "(no text)"
                        print(f"make demo failed {self.doing}: it answered an error: {first_line}", file=sys.stderr)
                        return 1
                    if not shown:
                        return 0
        self.out.lines(f"{number} calls, {total:,} tokens read by the agent in all.", *next_steps(installed_server()))
        return 0


def reason(error: BaseException) -> str:
    """What went wrong, on one line: the first error of a group (a task group wraps what failed inside it)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def main() -> int:
    out = Printer(sys.stdout)
    session = Session(out)
    try:
        return anyio.run(session.run)
    except Exception as error:  # the person reads one line that names what failed, not a traceback
        print(f"make demo failed {session.doing}: {reason(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C: the person stopped it; the context managers stopped the processes
        print(f"make demo stopped {session.doing}.", file=sys.stderr)
        return 130
    finally:
        if out.reader_gone:
            # The interpreter flushes stdout once more on exit; into a closed pipe that would print an error.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: an agent's session with databasin-mcp, against a local sandbox, printed step by step.

Starts the sandbox API in the background on a free port, launches the real
`databasin-mcp` server over stdio with a real MCP client, runs the calls an
agent managing connectors would make, and prints each call with exactly the
text the model reads and its size in tokens. Needs no account and no
configuration; stops the sandbox when done.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


def token_counter() -> tuple[Callable[[str], int], str]:
    """Claude's (legacy) tokenizer when installed, else an estimate of 4 characters a token."""
    try:
        from anthropic_tokenizer import count_tokens
    except ImportError:
        return (lambda text: max(1, round(len(text) / 4))), "≈ tokens (estimate: install the bench extra to count)"
    return count_tokens, "tokens (Claude's legacy tokenizer)"


async def run() -> int:
    count, unit = token_counter()
    # Started before the event loop has anything else to do: waiting for its address blocks briefly.
    with sandbox_process() as sandbox:
        print(f"Sandbox API on {sandbox.url}; databasin-mcp over stdio. Sizes in {unit}.\n")
        created: dict[str, int] = {}
        last = {"answer": ""}
        total = 0
        async with Client(stdio_server(sandbox.env()), mode="legacy") as client:
            for number, entry in enumerate(script(lambda: created["id"], lambda: last["answer"]), start=1):
                step = entry if isinstance(entry, Step) else entry()
                result = await results.call(client, step.tool, step.arguments)
                text = results.text(result)
                last["answer"] = text
                if step.tool == "create_connector" and (found := re.search(r"Created connector (\d+)", text)):
                    created["id"] = int(found.group(1))
                tokens = count(text)
                total += tokens
                call = f"{step.tool}({_arguments(step.arguments)})"
                status = "  [error]" if result.is_error else ""
                print(f"── {number}. {step.why}: {tokens:,} {unit.split()[0]}{status}")
                print(f"   {call}")
                print("   " + text.replace("\n", "\n   ") + "\n")
                if result.is_error:
                    return 1
        print(f"{number} calls, {total:,} tokens read by the agent in all.")
    return 0


def _arguments(arguments: dict[str, Any]) -> str:
    """The call's arguments as an agent writes them, with the password masked even in a demo."""
    shown = {key: "***" if is_secret_field(key) else value for key, value in arguments.items()}
    return ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in shown.items())


def main() -> int:
    return anyio.run(run)


if __name__ == "__main__":
    sys.exit(main())

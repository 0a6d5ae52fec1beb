"""The OpenAI Agents SDK (MCPServerStdio) run against the Responses API stand-in, in a bounded child process.

python -m benchmarks.recording.openai_agents BASE_URL CONFIG_JSON    the child: one Runner.run

The parent serves the scripted stand-in and starts the child with a minimal environment (no real
key, tracing off); the SDK starts our stdio server itself, as an application would.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from databasin_mcp.harness.children import Running

from .leftovers import end_leftovers
from .loopback import RequestLog, Session, serving
from .openai_api import RESPONSES, responses_api
from .script import Script
from .stdio_servers import StdioServer

PACKAGE = "openai-agents"
RUN_TIMEOUT = 120.0
PROMPT = "Use the MCP tools to answer."
MODEL = "gpt-standin"


def installed_version() -> str:
    """The SDK's version; ClientUnavailable (one line) when it is not installed."""
    from .claude_code import ClientUnavailable

    try:
        return version(PACKAGE)
    except PackageNotFoundError:
        raise ClientUnavailable(f"{PACKAGE} is not installed (pip install -e '.[recording]', or make bench)") from None


def record(
    server: StdioServer,
    script: Script,
    *,
    use_structured_content: bool,
    log_path: Path | None = None,
    timeout: float = RUN_TIMEOUT,
) -> Session:
    """One agent run of `script` with `server`: every Responses API request logged."""
    log = RequestLog(log_path)
    config = {"command": server.command, "args": list(server.args), "use_structured_content": use_structured_content}
    with tempfile.TemporaryDirectory(prefix="agents-home-") as home, serving(responses_api(script, log)) as url:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": home,
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            "OPENAI_API_KEY": "sk-standin-not-a-key",
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
        }
        argv = [sys.executable, "-m", "benchmarks.recording.openai_agents", f"{url}/v1", json.dumps(config)]
        try:
            done = Running(argv, env=env, cwd=home).finish(timeout)
        finally:
            leftovers = end_leftovers(Path(home))
    if done.returncode != 0:
        raise RuntimeError(f"the agent run exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return Session(RESPONSES, list(log.entries), done.stdout, done.stderr, leftovers)


async def _run(base_url: str, config: dict[str, object]) -> str:
    from agents import Agent, Runner, set_tracing_disabled
    from agents.mcp import MCPServerStdio
    from agents.models.openai_responses import OpenAIResponsesModel
    from openai import AsyncOpenAI

    set_tracing_disabled(True)
    client = AsyncOpenAI(base_url=base_url, api_key=os.environ["OPENAI_API_KEY"], max_retries=0)
    params = {"command": str(config["command"]), "args": [str(a) for a in config["args"]]}  # type: ignore[attr-defined]
    async with MCPServerStdio(
        params=params,  # type: ignore[arg-type]
        use_structured_content=bool(config["use_structured_content"]),
        client_session_timeout_seconds=60,
    ) as server:
        agent = Agent(
            name="recorder",
            instructions="Answer with the tools.",
            mcp_servers=[server],
            model=OpenAIResponsesModel(model=MODEL, openai_client=client),
        )
        result = await Runner.run(agent, PROMPT, max_turns=40)
    return str(result.final_output)


def main(argv: list[str]) -> int:
    import asyncio

    base_url, config = argv[0], json.loads(argv[1])
    print(asyncio.run(_run(base_url, config)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Dockerfile, checked as text wherever the tests run (built and probed only where an engine runs)."""

from __future__ import annotations

import json
import re

from .published import DOCKERFILE, ROOT, registry_name

SECRET_WORDS = re.compile(r"TOKEN|PASSWORD|SECRET|API_KEY|CREDENTIAL", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def test_the_build_has_stages_and_ships_only_the_last() -> None:
    froms = [rest for word, rest in instructions() if word == "FROM"]
    assert len(froms) >= 2
    assert all(re.match(r"python:3\.\d+-slim", image) for image in froms)
    assert any(word == "COPY" and rest.startswith("--from=") for word, rest in final_stage())


def test_the_image_runs_as_a_user_that_is_not_root() -> None:
    users = [rest for word, rest in final_stage() if word == "USER"]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_the_label_is_the_registry_name() -> None:
    labels = " ".join(rest for word, rest in final_stage() if word == "LABEL")
    assert f'io.modelcontextprotocol.server.name="{registry_name()}"' in labels


def test_it_serves_streamable_http_on_every_address_and_says_how_to_check_it() -> None:
    steps = final_stage()
    assert ("EXPOSE", "8000") in steps
    (command,) = [json.loads(rest) for word, rest in steps if word == "CMD"]
    assert command == ["databasin-mcp", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "8000"]
    (check,) = [rest for word, rest in steps if word == "HEALTHCHECK"]
    assert "/healthz" in check
    assert "127.0.0.1:8000" in check
    assert re.search(r"--interval=\d+s", check)
    assert re.search(r"--timeout=\d+s", check)


def test_no_secret_is_baked_in() -> None:
    for word, rest in instructions():
        if word in ("ENV", "ARG", "LABEL"):
            assert not SECRET_WORDS.search(rest), f"{word} {rest}"
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for path in (".token", "*.token", ".env*", ".git", ".venv", ".cache"):
        assert path in ignored

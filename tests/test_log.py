"""Logs for operators (issue 18 #8): JSON lines, a log file, audit lines at any level; always masked, never stdout."""

from __future__ import annotations

import io
import json
import logging
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from databasin_mcp.__main__ import main
from databasin_mcp.audit import AuditEntry, Caller, record
from databasin_mcp.config import Settings, settings_problems
from databasin_mcp.errors import ConfigurationError
from databasin_mcp.log import configure_logging

SECRET = "Hunter2-planted-9c41e0d2"


class Stderr(io.StringIO):
    """What configure_logging's stderr handler writes, once `configure` has installed it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__()
        self._monkeypatch = monkeypatch

    def configure(self, level: str, **options: Any) -> None:
        # Replaced here, in the test itself: pytest puts its own capture back on sys.stderr between phases.
        self._monkeypatch.setattr(sys, "stderr", self)
        configure_logging(level, **options)


@pytest.fixture
def stderr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stderr]:
    """configure_logging writing to a buffer; the test run's logging set-up restored after."""
    root = logging.getLogger()
    names = list(logging.root.manager.loggerDict)
    saved = (root.handlers[:], root.level, {name: logging.getLogger(name).level for name in names})
    yield Stderr(monkeypatch)
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], root.level = saved[0], saved[1]
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


def log_a_leak() -> None:
    """A warning and an error whose messages and traceback carry a secret and line breaks."""
    logger = logging.getLogger("databasin_mcp.test")
    logger.warning("login failed\nwith password=%s", SECRET)
    try:
        raise RuntimeError(f"postgres://svc:{SECRET}@db.example.com/sales")
    except RuntimeError:
        logger.exception("crashed")


def test_json_logs_are_one_masked_object_per_line(stderr: Stderr) -> None:
    stderr.configure("WARNING", log_format="json")
    log_a_leak()
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "WARNING"
    assert first["logger"] == "databasin_mcp.test"
    assert first["message"].startswith("login failed\nwith password=")
    assert first["time"].endswith("+00:00")
    assert second["message"] == "crashed"
    assert second["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: postgres://svc:***@db.example.com/sales" in second["exception"]
    assert SECRET not in stderr.getvalue()


def test_audit_lines_are_written_whatever_the_level_and_carry_their_fields_in_json(stderr: Stderr) -> None:
    stderr.configure("ERROR", log_format="json")
    logging.getLogger("databasin_mcp.tools").info("not at ERROR")
    record(
        AuditEntry("delete_connector", "ok", connector_id=8, connector_name="Ledger", caller=Caller(peer="10.0.0.9"))
    )
    (line,) = stderr.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["logger"] == "databasin_mcp.audit"
    assert entry["level"] == "INFO"
    assert entry["audit"] == {
        "tool": "delete_connector",
        "outcome": "ok",
        "connector_id": 8,
        "connector_name": "Ledger",
        "peer": "10.0.0.9",
    }
    assert (
        entry["message"] == "write tool=delete_connector outcome=ok connector_id=8 connector_name=Ledger peer=10.0.0.9"
    )


def test_text_logs_are_masked_and_audit_lines_pass_a_warning_level(stderr: Stderr) -> None:
    stderr.configure("WARNING")
    log_a_leak()
    record(AuditEntry("refresh_connector_metadata", "ok", connector_id=7))
    text = stderr.getvalue()
    assert SECRET not in text
    assert " WARNING databasin_mcp.test: login failed\n" in text
    assert text.endswith(" INFO databasin_mcp.audit: write tool=refresh_connector_metadata outcome=ok connector_id=7\n")


def test_the_log_file_gets_every_line_stderr_gets_and_stdout_nothing(
    stderr: Stderr, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "databasin-mcp.log"
    stderr.configure("WARNING", log_format="json", log_file=log_file)
    log_a_leak()
    record(AuditEntry("update_connector", "ok", connector_id=7))
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert written == stderr.getvalue()
    assert len(written.splitlines()) == 3
    assert SECRET not in written
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600  # names hosts and projects: the owner's only
    assert capsys.readouterr().out == ""


def test_a_log_file_that_cannot_be_written_is_a_configuration_error(stderr: Stderr, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "server.log"
    with pytest.raises(ConfigurationError) as raised:
        stderr.configure("WARNING", log_file=missing)
    assert str(raised.value) == (
        f"DATABASIN_LOG_FILE: cannot append to {missing} (No such file or directory). Point it at a file in a "
        "directory that exists and that this user may write to, or unset it to log to stderr only."
    )


def test_the_server_refuses_to_start_with_an_unwritable_log_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASIN_LOG_FILE", str(tmp_path))  # a directory
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"databasin-mcp: DATABASIN_LOG_FILE: cannot append to {tmp_path} (Is a directory). Point it at a file in a "
        "directory that exists and that this user may write to, or unset it to log to stderr only.\n"
    )


def test_log_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASIN_LOG_FORMAT", "json")
    monkeypatch.setenv("DATABASIN_LOG_FILE", str(tmp_path / "x.log"))
    settings = Settings()
    assert (settings.log_format, settings.log_file) == ("json", tmp_path / "x.log")
    monkeypatch.setenv("DATABASIN_LOG_FILE", " ")
    assert Settings().log_file is None
    monkeypatch.setenv("DATABASIN_LOG_FORMAT", "xml")
    with pytest.raises(ValidationError) as invalid:
        Settings()
    assert settings_problems(invalid.value) == "DATABASIN_LOG_FORMAT: Input should be 'text' or 'json'"

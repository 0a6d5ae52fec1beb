"""Simulated connection tests: the outcome is read off the stored connector, no network is touched."""

from __future__ import annotations

from typing import Any

from .seed import WRONG_PASSWORD, ConnectorRecord

CLIENT_ADDRESS = "10.0.0.5"  # the address the reference's "Access denied" message names


def connection_test_body(record: ConnectorRecord, leak_secrets: bool = False) -> dict[str, Any]:
    """The reference's success or failure body (always HTTP 200; unsupported types are handled by the caller).

    Rules, first match wins: inactive connector; password "wrong"; host containing "unreachable"; else success.
    """
    username = record.get("connectorUsername")
    if not record.get("active"):
        failure = ("connector is inactive", "Connector inactive")
    elif record.get("connectorPassword") == WRONG_PASSWORD:
        failure = (f"Access denied for user '{username}'@'{CLIENT_ADDRESS}'", "Authentication failure")
    elif "unreachable" in str(record.get("connectorHost") or ""):
        failure = ("Connection timed out", "Connection timed out")
    else:
        return {
            "success": True,
            "status": "success",
            "message": "Connection test successful",
            "details": {"connectorType": record["connectorType"], "testDuration": _duration(record)},
        }
    reason, error = failure
    message = f"Connection failed: {reason}"
    if leak_secrets:
        message += f" (using password: '{record.get('connectorPassword')}')"
    return {"success": False, "status": "error", "message": message, "error": error}


def _duration(record: ConnectorRecord) -> str:
    # Stable per connector, so repeated tests give identical bodies.
    return f"{0.3 + (int(record['connectorID']) % 17) / 10:.1f}s"

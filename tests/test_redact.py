"""Secret detection and masking."""

from __future__ import annotations

import logging

import pytest

from databasin_mcp.redact import MaskingFormatter, is_secret_field, mask_text, scrub


@pytest.mark.parametrize(
    "name",
    [
        "connectorPassword",
        "password",
        "api_key",
        "apiKey",
        "clientSecret",
        "accessToken",
        "sshKey",
        "privateKey",
        "connectorCredentials",
        "AWSSecretAccessKey",
        "key",
        "refresh_token",
        "passphrase",
    ],
)
def test_secret_field_names(name: str) -> None:
    assert is_secret_field(name)


@pytest.mark.parametrize(
    "name",
    [
        "connectorName",
        "isPrimaryKey",
        "primaryKey",
        "sortKey",
        "connectorAuthType",
        "tableCount",
        "ownerID",
        "jdbcUrl",
        "keyspace",
        "description",
    ],
)
def test_ordinary_field_names(name: str) -> None:
    assert not is_secret_field(name)


def test_mask_text_masks_url_credentials_assignments_and_known_values() -> None:
    text = "postgresql://bob:hunter2@db:5432/x; jdbc:mysql://h/db?user=a&password=pw1 echo s3cr3t!"
    assert (
        mask_text(text, ["s3cr3t!"]) == "postgresql://bob:***@db:5432/x; jdbc:mysql://h/db?user=a&password=*** echo ***"
    )


def test_mask_text_leaves_ordinary_messages_alone() -> None:
    message = "Connector with ID 999 not found"
    assert mask_text(message, ["ab"]) == message  # too short to mask safely


def test_scrub_drops_secret_fields_at_any_depth() -> None:
    body = [{"name": "m", "connectorPassword": "x", "nested": {"api_key": "k", "url": "https://u:p@h/x"}}]
    assert scrub(body) == [{"name": "m", "nested": {"url": "https://u:***@h/x"}}]


def test_masking_formatter_masks_messages_arguments_and_tracebacks() -> None:
    formatter = MaskingFormatter("%(message)s", secrets=["tok-123456"])
    try:
        raise RuntimeError("failed with tok-123456")
    except RuntimeError:
        import sys

        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "sent %s to %s", ("tok-123456", "https://a:b@h"), sys.exc_info()
        )
    formatted = formatter.format(record)
    assert "tok-123456" not in formatted
    assert "sent *** to https://a:***@h" in formatted
    assert "failed with ***" in formatted

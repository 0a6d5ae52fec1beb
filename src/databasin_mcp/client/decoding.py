"""Reading what the API sent: success bodies into scrubbed JSON and models, error bodies into short quotes.

Everything here is a pure function of the bytes received (and the secrets to mask): no HTTP.
What a success body gives is safe to keep and show (`untrusted.clean_json`), with every known
secret removed; one odd record never fails a listing.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import BadResponseError, NotTheApiError, UpstreamRefusedError, sentence
from ..models import APIRecord, RecordList, SkippedRecord
from ..params import MAX_ID
from ..redact import mask_text, remembered_secrets, scrub
from ..untrusted import MAX_JSON_DEPTH, NestedTooDeeply, clean_json, one_line, without_surrogates

logger = logging.getLogger(__name__)

RecordT = TypeVar("RecordT", bound=APIRecord)

_EXCERPT_CHARS = 200
_EXCERPT_SCAN_CHARS = 8_000
_MESSAGE_CHARS = 500
# The API's own words in a failure body are quoted up to this length.
_UPSTREAM_MESSAGE_CHARS = 300


# --- success bodies ----------------------------------------------------------------------------


def success_body(raw: bytes, status: int, known_secrets: list[str], *, writes: bool, failure_is_answer: bool) -> Any:
    """A 2xx body as scrubbed JSON; raises the refusal it reports where that is not the request's answer.

    `writes`: the request is a change, so a body saying it failed is a refusal whatever else it holds.
    `failure_is_answer`: a body saying it failed is what was asked for (a connection test that failed).
    """
    if not writes and is_web_page(raw):
        # A read answered by a web page: the URL is the web app's. (A write answered so is left to
        # decode_json's "not valid JSON": it may have been done, and the caller must be told so.)
        raise not_the_api(status)
    data = decode_json(raw, status, known_secrets)
    # Secrets leaked earlier are searched for in records and messages, not in every
    # string of a long listing (that would cost a scan per secret per string).
    data = scrub(data, known_secrets if isinstance(data, list) else [*known_secrets, *remembered_secrets()])
    # A read's record may carry a status field of its own: only a body that is not a record is a
    # refusal there. A write's body saying it failed is one, whatever else it holds.
    if not failure_is_answer and isinstance(data, dict) and (writes or "connectorID" not in data):
        refusal = reported_failure(data, status, [*known_secrets, *remembered_secrets()])
        if refusal is not None:
            raise refusal
    return data


_FAILED_STATUSES = {"error", "failed", "failure", "fail"}


def reported_failure(data: dict[str, Any], status: int, known_secrets: list[str]) -> UpstreamRefusedError | None:
    """The refusal a 2xx body reports (`"status": "error"`, `"success": false`), or None if it reports none."""
    said = data.get("status")
    failed_status = isinstance(said, str) and said.strip().lower() in _FAILED_STATUSES
    if not failed_status and data.get("success") is not False:
        return None
    words = (data.get(key) for key in ("message", "error", "detail"))
    message = next((word.strip() for word in words if isinstance(word, str) and word.strip()), None)
    if message is None:
        shape = f'status "{said.strip()}"' if isinstance(said, str) and failed_status else "success false"
        refusal = UpstreamRefusedError(
            f"The Databasin API answered {status} but reported a failure ({shape}, no message).", status_code=status
        )
    else:
        message = mask_text(message, known_secrets)
        if len(message) > _UPSTREAM_MESSAGE_CHARS:
            message = message[: _UPSTREAM_MESSAGE_CHARS - 1] + "…"
        refusal = UpstreamRefusedError(
            f"The Databasin API answered {status} but reported a failure: {sentence(message)}",
            status_code=status,
            upstream_message=message,
        )
    named = data.get("connectorID")
    if isinstance(named, int) and not isinstance(named, bool) and 1 <= named <= MAX_ID:
        refusal.connector_id = named
    return refusal


# Numbers written with thousands separators (the reference's `"tableCount": 1,234`).
_GROUPED_NUMBER = re.compile(r"(:\s*)(-?\d{1,3}(?:,\d{3})+)(?=\s*(?:[,}\]]|$))")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def repair_grouped_numbers(text: str) -> str:
    """Rewrite `: 1,234` as `: 1234` outside string literals. Only used when strict parsing failed."""
    pieces: list[str] = []
    position = 0
    for literal in _JSON_STRING.finditer(text):
        pieces.append(
            _GROUPED_NUMBER.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text[position : literal.start()])
        )
        pieces.append(literal.group())
        position = literal.end()
    pieces.append(_GROUPED_NUMBER.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text[position:]))
    return "".join(pieces)


def is_web_page(raw: bytes) -> bool:
    """An HTML document: what a web app (or a proxy's error page) answers where the API would answer JSON."""
    start = raw[:512].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html"))


def not_the_api(status: int) -> NotTheApiError:
    return NotTheApiError(
        f"The Databasin API URL answered {status} with a web page (HTML), not the API's JSON: DATABASIN_API_URL "
        "probably points at the web app or a proxy. Set it to the API's base URL (where /api/ping answers JSON); "
        "'databasin-mcp doctor' checks it.",
        status_code=status,
    )


def decode_json(raw: bytes, status: int, known_secrets: list[str]) -> Any:
    """Parse a success body: strict JSON, else JSON with grouped numbers, else a clear error.

    What it gives is safe to keep and show (`untrusted.clean_json`): no lone surrogate, field names on
    one line, nesting bounded.
    """
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        try:
            data = _loads(text)
        except ValueError:
            try:
                data = _loads(repair_grouped_numbers(text))
            except ValueError:
                raise BadResponseError(
                    f"The Databasin API answered {status} with a body that is not valid JSON: "
                    f"{excerpt(text, known_secrets)}"
                ) from None
        # The real backend sometimes sends JSON encoded twice: a string whose content is JSON.
        if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                text, data = data, _loads(data)
        return clean_json(data, raw_text=text)
    except NestedTooDeeply:
        raise BadResponseError(
            f"The Databasin API answered {status} with JSON nested more than {MAX_JSON_DEPTH} levels deep; "
            "it was not read."
        ) from None


def _loads(text: str) -> Any:
    """json.loads, with a body too deep for its recursion reported as NestedTooDeeply (not RecursionError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeeply from None


# --- error bodies ------------------------------------------------------------------------------


def excerpt(text: str, known_secrets: list[str]) -> str:
    """At most the first 200 characters of a body on one line, HTML tags, entities and runs of whitespace removed."""
    # Entities decoded before masking: an error page quotes JSON as {&quot;password&quot;: ...}. Only the
    # start is masked (a hostile 20 MB body would take seconds): far more than the excerpt, so a secret
    # that the 200-character cut runs through is still whole when it is masked.
    plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", " ", text[:_EXCERPT_SCAN_CHARS]))).strip()
    plain = one_line(mask_text(plain, known_secrets))
    return plain if len(plain) <= _EXCERPT_CHARS else plain[: _EXCERPT_CHARS - 1] + "…"


def error_text(raw: bytes, known_secrets: list[str]) -> tuple[str | None, str]:
    """(the API's own `message` on one line, or None; a short excerpt of the body) for an error answer."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                # A message is prose: its line breaks become spaces; what else could hide or forge text is escaped.
                words = " ".join(without_surrogates(value[:_EXCERPT_SCAN_CHARS]).split())
                said = one_line(mask_text(words, known_secrets))
                # An API's message is a sentence or two; a longer one would flood the agent's context.
                return (said if len(said) <= _MESSAGE_CHARS else said[: _MESSAGE_CHARS - 1] + "…"), ""
    return None, excerpt(text, known_secrets)


# --- models ------------------------------------------------------------------------------------

# Keys under which list endpoints may wrap their records (the real backend's v2 routes use "objects").
_ENVELOPE_KEYS = ("data", "items", "objects", "results", "content", "connectors")


def records(data: Any, model: type[RecordT], what: str) -> RecordList[RecordT]:
    """Validate a list body (or an envelope around one) into models.

    One odd record never fails the listing: a field that cannot be read is left out of its record
    (`unread_fields`), and a record that cannot be read at all (no usable ID) is left out of the
    list and counted in `skipped`, so the listing can say both.
    """
    if data is None:
        return RecordList()
    if isinstance(data, dict):
        data = next((data[key] for key in _ENVELOPE_KEYS if isinstance(data.get(key), list)), data)
    if not isinstance(data, list):
        raise BadResponseError(
            f"The Databasin API answered with {type(data).__name__} where a list of {what} was expected."
        )
    read: RecordList[RecordT] = RecordList()
    problems: list[str] = []
    for index, item in enumerate(data):
        # Let go of each parsed record once it is a model: for a 20,000-table listing the parsed
        # JSON and the models would otherwise both be alive at the peak (13 MB + 14 MB measured).
        data[index] = None
        try:
            found = model.read(item)
        except ValidationError as exc:
            read.skipped.append(_skipped(index, item, exc))
            problems.append(_validation_summary(exc, f"{what}[{index}]"))
            continue
        if found.unread_fields:
            problems.append(f"{what}[{index}]: could not read {', '.join(found.unread_fields)}.")
        read.append(found)
    if problems:
        # Field names and reasons only (never values): the record is shown with what could be read.
        logger.warning(
            "The Databasin API sent %d of %d %s in a shape this client cannot fully read: %s",
            len(problems),
            len(data),
            what,
            " ".join(problems[:5]) + (" …" if len(problems) > 5 else ""),
        )
    return read


def _skipped(index: int, item: Any, exc: ValidationError) -> SkippedRecord:
    """What is known of a record that could not be read: the fields at fault, and where it belongs."""
    fields = tuple(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))

    def scope(name: str) -> str | None:
        value = item.get(name) if isinstance(item, dict) else None
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None

    return SkippedRecord(index, fields, project=scope("internalID"), institution=scope("institutionID"))


def record(data: Any, model: type[RecordT], what: str) -> RecordT:
    """Validate one object into a model; a field that cannot be read is left out (`unread_fields`)."""
    if not isinstance(data, dict):
        raise BadResponseError(
            f"The Databasin API answered with {type(data).__name__} where a {what} object was expected."
        )
    try:
        read = model.read(data)
    except ValidationError as exc:
        raise BadResponseError(
            f"The Databasin API sent a {what} this client cannot read: {_validation_summary(exc)}"
        ) from None
    if read.unread_fields:
        logger.warning("The Databasin API sent a %s whose %s could not be read", what, ", ".join(read.unread_fields))
    return read


def _validation_summary(exc: ValidationError, prefix: str = "") -> str:
    """Field names and reasons only: the rejected values could be anything, secrets included."""
    problems = [f"{'.'.join(str(p) for p in (prefix, *e['loc']) if p != '')}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(problems) + "."

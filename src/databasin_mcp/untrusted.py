"""Text we do not control, made safe: once where it enters, and again wherever it is shown on one line.

Two dangers, two functions:
- Decoded JSON can hold what no encoder can write back: a lone surrogate ("\\ud83d", half an emoji, from a
  backend that cuts strings) is valid JSON but not Unicode, and one of them made the server's output writer
  raise. `clean_json` replaces them with U+FFFD, in values and keys, once where a body is decoded; it also
  refuses a body nested deeper than anything the API sends (every later walk over it recurses).
- Text shown on a line can pretend to be several: CR, U+2028, U+0085, vertical tab and the like end a line
  for some readers (and for the model), bidi overrides reorder what is read, NUL and other controls are
  invisible. `one_line` escapes each of them visibly ("\\u2028", "\\n"), so a value can never forge a line
  such as "connectorHost: evil.example" in an answer. Field names are escaped this way at entry, since they
  are shown as written; values keep their content for programs and are escaped where they are printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import chain
from typing import Any

REPLACEMENT = "\ufffd"
# Deeper than any record of the API (a connector with a details object is 3 levels, an envelope adds 1-2);
# low enough that every recursive walk after decoding (secret scrubbing, validation, serialising) is safe.
MAX_JSON_DEPTH = 64

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape that decodes to a surrogate: only a body holding one can give a string a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
# What `one_line` escapes: every control character (C0, DEL, C1), the line and paragraph separators,
# the bidi controls (marks, embeddings, overrides, isolates), the invisible tag characters used to smuggle
# text past a reader, and lone surrogates.
_UNSAFE_BEYOND_C0 = (
    "\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\U000e0000-\U000e007f"
)
_UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE_BEYOND_C0}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSAFE_BEYOND_C0}]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


class NestedTooDeeply(Exception):
    """A decoded JSON value nested deeper than MAX_JSON_DEPTH."""


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def has_surrogate(text: str) -> bool:
    """Whether `text` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return not text.isascii() and _LONE_SURROGATE.search(text) is not None


def escape_char(char: str) -> str:
    """One character as its visible escape: '\\n', '\\x00', '\\u2028', '\\U000e0041'."""
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    if point < 0x10000:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def one_line(text: str) -> str:
    """`text` on one line: controls, line/paragraph separators, bidi controls and tag characters escaped."""
    if text.isprintable():
        return text  # the common case, checked in C: printable text holds none of them
    return _UNSAFE.sub(lambda match: escape_char(match.group()), text)


def printable_lines(text: str) -> str:
    """`text` whose only line breaks are its newlines: each line made one line (`one_line`)."""
    if _UNSAFE_BUT_NEWLINE.search(text) is None:
        return text
    return "\n".join(one_line(line) for line in text.split("\n"))


def holds_surrogate(value: Any) -> bool:
    """Whether a JSON-like value has a lone surrogate in any of its strings or keys."""
    if isinstance(value, str):
        return has_surrogate(value)
    try:
        # Written out by json's C encoder and searched once: a 500-row answer in a fraction of a walk's time.
        return has_surrogate(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError):  # not plain JSON (a date, say): look at each part
        return _holds_surrogate_in_parts(value)


def _holds_surrogate_in_parts(value: Any) -> bool:
    if isinstance(value, str):
        return has_surrogate(value)
    if isinstance(value, dict):
        return any(holds_surrogate(str(key)) or holds_surrogate(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(holds_surrogate(item) for item in value)
    return False


def surrogates_replaced(value: Any) -> Any:
    """A JSON-like value with lone surrogates in its strings and keys replaced; the value itself if it has none."""
    if not holds_surrogate(value):
        return value
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, dict):
        return {without_surrogates(str(key)): surrogates_replaced(item) for key, item in value.items()}
    return [surrogates_replaced(item) for item in value]


def clean_json(value: Any, *, raw_text: str | None = None) -> Any:
    """A freshly decoded JSON value (from json.loads) made safe to keep and to show, in place.

    Lone surrogates in strings and keys become U+FFFD; keys are made one line (`one_line`): a field
    name is shown as it is written. Raises NestedTooDeeply past MAX_JSON_DEPTH. `raw_text`, the text
    the value was decoded from, lets the pass over strings be skipped when no surrogate escape is in it.
    """
    strings = raw_text is None or _SURROGATE_ESCAPE.search(raw_text) is not None
    if type(value) is str:
        return without_surrogates(value) if strings else value
    # Each container was one bracket of the text (quoted brackets only add): once that many are seen, no
    # level is left to look at.
    unseen = None if raw_text is None else raw_text.count("{") + raw_text.count("[")
    # Level by level, each pass over all the objects and arrays of a level at once, in C (join, set, map):
    # a 20,000-table listing is two levels, not 20,000 calls. json.loads makes exactly dict, list, str, int,
    # float, bool and None, so `type(...) is` is exact.
    objects: list[dict[str, Any]] = [value] if type(value) is dict else []
    arrays: list[list[Any]] = [value] if type(value) is list else []
    depth = 1
    while objects or arrays:
        if depth > MAX_JSON_DEPTH:
            raise NestedTooDeeply(f"nested more than {MAX_JSON_DEPTH} levels deep")
        # Records repeat their field names (json.loads even shares the strings): check each name once.
        if objects and not "".join(set(chain.from_iterable(objects))).isprintable():
            for unsafe in (item for item in objects if not "".join(item).isprintable()):
                _clean_keys(unsafe)
        if strings:
            _replace_surrogates(objects, arrays)
        if unseen is not None:
            unseen -= len(objects) + len(arrays)
            if unseen <= 0:
                break
        kinds = set(map(type, _children(objects, arrays)))
        if kinds.isdisjoint(_CONTAINERS):
            break
        if len(kinds) == 1:  # all objects (a listing's records) or all arrays: no sorting needed
            children = list(_children(objects, arrays))
            objects, arrays = (children, []) if dict in kinds else ([], children)
        else:
            nested = [item for item in _children(objects, arrays) if type(item) in _CONTAINERS]
            objects = [item for item in nested if type(item) is dict]
            arrays = [item for item in nested if type(item) is list]
        depth += 1
    return value


_CONTAINERS = frozenset({dict, list})


def _children(objects: list[dict[str, Any]], arrays: list[list[Any]]) -> Iterator[Any]:
    return chain(chain.from_iterable(map(dict.values, objects)), chain.from_iterable(arrays))


def _replace_surrogates(objects: list[dict[str, Any]], arrays: list[list[Any]]) -> None:
    for each in objects:
        for key, item in each.items():
            if type(item) is str and not item.isascii():
                each[key] = without_surrogates(item)
    for array in arrays:
        for index, item in enumerate(array):
            if type(item) is str and not item.isascii():
                array[index] = without_surrogates(item)


def _clean_keys(value: dict[str, Any]) -> None:
    # Rebuilt in place and in order; a cleaned key that collides with another keeps the later value (the
    # upstream spelling one field twice, which it could as well have sent once).
    cleaned = {one_line(without_surrogates(key)): item for key, item in value.items()}
    value.clear()
    value.update(cleaned)

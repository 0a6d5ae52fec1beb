"""Pure shaping: cells, folding, projection, paging titles, the character cap."""

from __future__ import annotations

import pytest

from databasin_mcp.errors import InvalidArgumentError
from databasin_mcp.shaping import Page, cap_text, cell, choose_fields, counted, fold, listing, plain, record


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (1500, "1500"),
        ("plain text", "plain text"),
        ("Sales, EU", '"Sales, EU"'),
        ('Say "hi"', '"Say ""hi"""'),
        ("two\nlines", "two lines"),
        (" padded", '" padded"'),
        ({"ssl": True, "hosts": ["a", "b"]}, '"{ssl: true, hosts: [a, b]}"'),
        ("x" * 200, "x" * 159 + "…"),
    ],
)
def test_cell(value: object, expected: str) -> None:
    assert cell(value) == expected


def test_plain_never_quotes() -> None:
    assert plain({"a": None, "b": [1, False]}) == "{a: , b: [1, false]}"


def test_fold_ignores_case_and_accents() -> None:
    assert fold("Müller ÉTÉ Zürich") == "muller ete zurich"
    assert fold("東京") == "東京"


def test_choose_fields() -> None:
    available = ["a", "b", "c", "x"]
    assert choose_fields(None, ["a", "b"], available) == (["a", "b"], ["c", "x"])
    assert choose_fields(["*"], ["a"], available) == (available, [])
    assert choose_fields(["c", "a", "c"], ["a"], available) == (["c", "a"], ["b", "x"])
    with pytest.raises(InvalidArgumentError, match=r"^Unknown fields in fields: q, r\. Available: a, b, c, x\.$"):
        choose_fields(["q", "a", "r"], ["a"], available)


def test_page_arithmetic() -> None:
    page = Page(total=95, offset=25, limit=25, shown=25)
    assert (page.next_offset, page.span()) == (50, "showing 26–50")
    assert Page(total=95, offset=75, limit=25, shown=20).next_offset is None
    assert Page(total=5, offset=10, limit=5, shown=0).span() == "none shown"


def rows(count: int) -> list[dict[str, object]]:
    return [{"id": i, "name": f"row {i}"} for i in range(count)]


def test_listing_past_the_end_says_none_shown() -> None:
    answer = listing(noun="rows", rows=rows(5), fields=["id"], left_out=[], offset=10, limit=5, max_chars=20_000)
    assert answer.text == "5 rows, none shown"
    assert answer.data["items"] == []
    assert answer.data["next_offset"] is None


def test_listing_cut_by_the_cap_keeps_whole_rows_and_says_how_to_continue() -> None:
    answer = listing(
        noun="rows", rows=rows(1000), fields=["id", "name"], left_out=[], offset=0, limit=1000, max_chars=1000
    )
    lines = answer.text.splitlines()
    shown = answer.data["items"]
    assert len(answer.text) <= 1000
    assert lines[0] == f"1,000 rows, showing 1–{len(shown)}; next: offset={len(shown)}"
    assert lines[1] == "id,name"
    assert lines[2 : 2 + len(shown)] == [f"{i},row {i}" for i in range(len(shown))]
    assert lines[-1] == (
        f"… cut to {len(shown)} rows by the 1,000-character cap: ask for fewer fields or limit={len(shown)}; "
        f"next: offset={len(shown)}"
    )
    assert answer.data["truncated"] is True


def test_record_lists_empty_fields_on_one_line_and_caps() -> None:
    answer = record("id: 1", {"a": "x", "b": None, "c": "", "d": 3}, max_chars=1000, notes=["more fields: z"])
    assert answer.text == "id: 1\na: x\nd: 3\nempty: b, c\nmore fields: z"
    assert cap_text("y" * 5000, 600).endswith("… cut at 600 characters (of 5,000); ask for fewer fields.")
    assert len(cap_text("y" * 5000, 600)) == 600


@pytest.mark.parametrize(
    ("value", "plural", "expected"),
    [
        (0, "tables", "0 tables"),
        (1, "tables", "1 table"),
        (1500, "schemas", "1,500 schemas"),
        (1, "catalogs", "1 catalog"),
    ],
)
def test_counted_agrees_with_the_count(value: int, plural: str, expected: str) -> None:
    assert counted(value, plural) == expected


def test_a_title_noun_agrees_with_the_last_count() -> None:
    one_table = {"noun": "tables", "rows": [{"tableName": "a"}], "fields": ["tableName"], "left_out": ()}
    one = listing(**one_table, offset=0, limit=50, max_chars=20_000)
    filtered = listing(**one_table, offset=0, limit=50, max_chars=20_000, matched_of=4, filter_note="matching 'a'")

    assert one.text.splitlines()[0] == "1 table"
    assert filtered.text.splitlines()[0] == "1 of 4 tables matching 'a'"

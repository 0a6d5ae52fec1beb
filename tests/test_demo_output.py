"""What `make demo` prints, without starting anything: the excerpt of an answer, the call as an agent writes
it, a reader that stops reading, a start that fails."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from databasin_mcp import demo


def test_a_long_answer_is_cut_after_8_lines_with_the_exact_count_of_the_rest() -> None:
    answer = "\n".join(f"line {n}" for n in range(1, 28))

    assert demo.excerpt(answer) == [*(f"line {n}" for n in range(1, 9)), "… 19 more lines"]


def test_an_answer_one_line_too_long_is_shown_whole_rather_than_cut_for_one_line() -> None:
    nine = "\n".join(f"line {n}" for n in range(1, 10))

    assert demo.excerpt(nine) == nine.splitlines()


def test_a_short_answer_is_shown_whole() -> None:
    assert demo.excerpt("Deleted connector 535.") == ["Deleted connector 535."]
    assert demo.excerpt("a\nb\nc\nd\ne\nf\ng\nh") == list("abcdefgh")


def test_the_call_masks_secrets_but_shows_a_flag_named_like_one() -> None:
    shown = demo.shown_arguments({"name": "Orders", "ask_password": True, "password": "s3cret", "port": 5432})

    assert shown == 'name="Orders", ask_password=true, password="***", port=5432'


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_has_gone_is_noticed_once_and_never_written_to_again() -> None:
    out = demo.Printer(ClosedPipe())

    assert out.lines("first") is False
    assert out.reader_gone
    assert out.lines("second") is False


def test_a_printer_writes_whole_lines_while_the_reader_reads() -> None:
    stream = io.StringIO()
    out = demo.Printer(stream)

    assert out.lines("one", "two") is True
    assert stream.getvalue() == "one\ntwo\n"
    assert not out.reader_gone


def test_a_sandbox_that_does_not_start_is_one_line_on_stderr_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @contextmanager
    def no_sandbox() -> Iterator[None]:
        raise RuntimeError("process ended before printing '^Databasin sandbox API on'; output: 'usage: …\\n'")
        yield

    monkeypatch.setattr(demo, "sandbox_process", no_sandbox)

    assert demo.main() == 1
    printed = capsys.readouterr()
    assert printed.err == (
        "make demo failed while starting the sandbox API: RuntimeError: process ended before printing "
        "'^Databasin sandbox API on'; output: 'usage: …\\n'\n"
    )
    assert printed.out.startswith("A scripted session")


def test_ctrl_c_stops_the_demo_with_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    @contextmanager
    def interrupted() -> Iterator[None]:
        raise KeyboardInterrupt
        yield

    monkeypatch.setattr(demo, "sandbox_process", interrupted)

    assert demo.main() == 130
    assert capsys.readouterr().err == "make demo stopped while starting the sandbox API.\n"


def test_the_reason_of_a_failure_is_one_line_even_from_a_group_of_errors() -> None:
    group = ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionError("server closed\n  the pipe")])

    assert demo.reason(group) == "ConnectionError: server closed the pipe"
    assert demo.reason(TimeoutError()) == "TimeoutError"

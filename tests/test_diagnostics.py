"""Every diagnostic the compiler can print, compared whole (carets included) with the
golden files in tests/cases/errors and tests/cases/warnings."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from golden import check_golden

import connexc

CASES = Path(__file__).parent / "cases"
ERROR_CASES = sorted((CASES / "errors").glob("*.cnx"))
WARNING_CASES = sorted((CASES / "warnings").glob("*.cnx"))


@pytest.mark.parametrize("path", ERROR_CASES, ids=[p.stem for p in ERROR_CASES])
def test_error_report_matches_golden(path: Path) -> None:
    with pytest.raises(connexc.CompileError) as info:
        connexc.compile_source(path.read_text(), filename=path.name)
    error = info.value
    first = error.diagnostics[0].span
    assert (error.filename, error.line, error.column) == (
        path.name,
        first.line,
        first.column,
    )
    check_golden(path.with_suffix(".err"), str(error) + "\n")


@pytest.mark.parametrize("path", WARNING_CASES, ids=[p.stem for p in WARNING_CASES])
def test_warning_report_matches_golden(path: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        connexc.compile_source(path.read_text(), filename=path.name)
    messages = [str(w.message) for w in caught if w.category is connexc.CompileWarning]
    assert messages
    check_golden(path.with_suffix(".warn"), "\n".join(messages) + "\n")


def test_errors_are_reported_in_source_order_not_just_the_first() -> None:
    text = "input x\noutput y\nx -> a\nx -> b\nx -> y\n"
    with pytest.raises(connexc.GraphError) as info:
        connexc.compile_source(text, filename="n.cnx")
    spans = [(d.span.line, d.span.column) for d in info.value.diagnostics]
    assert spans == [(3, 6), (4, 6)]


def test_error_classes_follow_the_stage_that_found_them() -> None:
    with pytest.raises(connexc.ParseError):
        connexc.compile_source("input x ->\n")
    with pytest.raises(connexc.GraphError):
        connexc.compile_source("input x\noutput y\ny -> x\n")
    assert issubclass(connexc.ParseError, connexc.CompileError)
    assert issubclass(connexc.GraphError, connexc.CompileError)


def report(text: str) -> str:
    with pytest.raises(connexc.CompileError) as info:
        connexc.compile_source(text, filename="n.cnx")
    return str(info.value)


def test_a_terminal_escape_in_the_source_is_shown_escaped_and_underlined_whole() -> (
    None
):
    lines = report("input a\noutput b\na -> \x1b[31mb\n").splitlines()
    assert lines[:3] == [
        "n.cnx:3:6: error: unexpected character '\\x1b'",
        "    3 | a -> \\x1b[31mb",
        "      |      ^^^^",
    ]


def test_a_bidirectional_override_in_a_comment_cannot_reorder_the_shown_line() -> None:
    lines = report("input a\noutput b\na -> c  # \u202ex\u2066\n").splitlines()
    assert lines[1:3] == [
        "    3 | a -> c  # \\u202ex\\u2066",
        "      |      ^",
    ]
    assert all(ch.isprintable() for line in lines for ch in line)


def test_carets_stay_under_the_error_after_a_tab() -> None:
    lines = report("input a\noutput b\n\ta -> c\n").splitlines()
    assert lines[1:3] == ["    3 |  a -> c", "      |       ^"]


def test_carets_cover_both_cells_of_a_wide_character() -> None:
    lines = report("input 名前\n").splitlines()
    assert lines[:3] == [
        "n.cnx:1:7: error: unexpected character '名'",
        "    1 | input 名前",
        "      |       ^^",
    ]


def test_every_line_that_does_not_parse_is_reported_up_to_a_limit() -> None:
    good = "input x\noutput y\nx -> y\n"
    with pytest.raises(connexc.ParseError) as info:
        connexc.compile_source(good + "x y\n" * 50, filename="n.cnx")
    lines = [d.span.line for d in info.value.diagnostics]
    assert lines == list(range(4, 4 + connexc._parse.MAX_SYNTAX_ERRORS))


def test_graph_checks_wait_until_the_text_parses() -> None:
    # `z` is undefined too, but only the syntax error is reported.
    with pytest.raises(connexc.ParseError) as info:
        connexc.compile_source("input x\noutput y\nx -> z\nx => y\n")
    assert [d.span.line for d in info.value.diagnostics] == [4]

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

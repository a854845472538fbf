"""The regular-expression path for plain edge lines must build exactly what the Lark
grammar builds, and leave every other line (and every error) to Lark."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, mutated, program_texts, token_soup

import connexc
from connexc._parse import _parse_with_lark, _plain_edge_line, parse_source
from connexc._source import Source


def _outcome(parse, text: str):
    """Statements, or the rendered error, so the two paths can be compared."""
    try:
        return parse(text)
    except connexc.CompileError as err:
        return str(err)


def _both(text: str) -> tuple:
    source = Source(text, "p.cnx")
    fast = _outcome(lambda t: parse_source(source).statements, text)
    slow = _outcome(lambda t: _parse_with_lark(source, t), text)
    return fast, slow


@settings(max_examples=examples(300, 5000))
@given(program_texts())
def test_fast_path_builds_the_same_program_as_lark(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow


@settings(max_examples=examples(300, 5000))
@given(mutated(program_texts()) | token_soup())
def test_fast_path_gives_the_same_errors_as_lark(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow


@pytest.mark.parametrize(
    "line",
    [
        "a, b -> c[2] -> 7  # comment",
        "\tx->y",
        "007 -> h[010]",
    ],
)
def test_plain_edge_lines_take_the_fast_path(line: str) -> None:
    assert _plain_edge_line(Source(line), 1, line) is not None
    assert _both(line + "\n")[0] == _both(line + "\n")[1]


@pytest.mark.parametrize(
    "line",
    [
        "input x",
        "input -> y",
        "a -> output[1]",
        "h [3] -> y",
        "a -> b\r",
        "a, -> b",
        "a b -> c",
        "1e5 -> x",
        "a -> b -> ",
        "a",
        "a # -> b",
    ],
)
def test_other_lines_are_left_to_lark(line: str) -> None:
    assert _plain_edge_line(Source(line), 1, line) is None


@settings(max_examples=examples(200, 2000))
@given(st.text(alphabet="ab01[]->, #\t\r", max_size=30))
def test_fast_path_agrees_on_edge_like_noise(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow

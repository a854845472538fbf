"""The Pygments lexer for `.cnx`: token classes, and its entry point."""

from __future__ import annotations

import importlib
import sys

import pytest
from conftest import ROOT

pytest.importorskip("pygments")
from pygments import highlight, lex  # noqa: E402
from pygments.formatters import HtmlFormatter  # noqa: E402
from pygments.token import Error, Token  # noqa: E402

from connexc._pygments import CnxLexer  # noqa: E402

SAMPLE = """\
# A comment
network Seed  # trailing
activation relu
output_activation softmax
dropout 0.1
input x[3], 0 dropout = 0.2
hidden tanh activation=gelu
output y
x, tanh -> y
"""


def _tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in lex(text, CnxLexer()) if value.strip()]


def test_tokens_distinguish_roles_defaults_names_and_activations():
    tokens = _tokens(SAMPLE)
    assert tokens[:12] == [
        (Token.Comment.Single, "# A comment"),
        (Token.Keyword.Declaration, "network"),
        (Token.Name.Class, "Seed"),
        (Token.Comment.Single, "# trailing"),
        (Token.Keyword.Reserved, "activation"),
        (Token.Name.Builtin, "relu"),
        (Token.Keyword.Reserved, "output_activation"),
        (Token.Name.Builtin, "softmax"),
        (Token.Keyword.Reserved, "dropout"),
        (Token.Literal.Number.Float, "0.1"),
        (Token.Keyword.Type, "input"),
        (Token.Name.Variable, "x"),
    ]
    # A neuron that happens to be named like an activation is still a name.
    assert (Token.Name.Variable, "tanh") in tokens
    assert (Token.Name.Attribute, "activation") in tokens
    assert (Token.Name.Builtin, "gelu") in tokens
    assert tokens[-5:] == [
        (Token.Name.Variable, "x"),
        (Token.Punctuation, ","),
        (Token.Name.Variable, "tanh"),
        (Token.Operator, "->"),
        (Token.Name.Variable, "y"),
    ]


def test_lexing_keeps_every_character():
    text = "".join(value for _, value in lex(SAMPLE, CnxLexer()))
    assert text == SAMPLE


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.cnx")), ids=str)
def test_examples_lex_without_error_tokens(path):
    kinds = {kind for kind, _ in lex(path.read_text(), CnxLexer())}
    assert Error not in kinds


def test_unknown_activation_is_marked_as_an_error():
    assert (Error, "gelux") in _tokens("hidden h activation=gelux\n")


def test_html_highlighting_works():
    html = highlight("input x\n", CnxLexer(), HtmlFormatter())
    assert '<span class="kt">input</span>' in html


def test_entry_point_names_the_lexer():
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    target = project["entry-points"]["pygments.lexers"]["cnx"]
    module_name, attribute = target.split(":")
    assert getattr(importlib.import_module(module_name), attribute) is CnxLexer
    assert "*.cnx" in CnxLexer.filenames and "cnx" in CnxLexer.aliases


def test_installed_package_makes_pygments_find_the_lexer():
    from importlib import metadata

    try:
        metadata.distribution("connexc")
    except metadata.PackageNotFoundError:
        pytest.skip("connexc is not installed, so its entry points are not registered")
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename

    assert get_lexer_by_name("cnx").name == CnxLexer.name
    assert get_lexer_for_filename("net.cnx").name == CnxLexer.name

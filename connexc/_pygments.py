"""A Pygments lexer for `.cnx` files, so editors, documentation tools and `pygmentize`
highlight them.

Registered through the `pygments.lexers` entry point as `cnx` (aliases `connexc`,
`connex`) for `*.cnx` files. Importing this module needs Pygments (the `pygments`
extra); nothing else in connexc imports it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    Text,
    Whitespace,
)

from ._ir import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS

__all__ = ["CnxLexer"]

_ACTIVATIONS = frozenset(HIDDEN_ACTIVATIONS) | frozenset(OUTPUT_ACTIVATIONS)


def _activation(
    lexer: RegexLexer, match: re.Match, context: object = None
) -> Iterator[tuple]:
    """An activation name; an unknown one is marked as an error, as the compiler
    would report it."""
    del lexer, context
    name = match.group()
    yield match.start(), Name.Builtin if name in _ACTIVATIONS else Error, name


class CnxLexer(RegexLexer):
    """Highlights the connexc network language: roles, defaults, groups, edges."""

    name = "connexc"
    aliases = ["cnx", "connexc", "connex"]
    filenames = ["*.cnx"]
    mimetypes = ["text/x-cnx"]

    tokens = {
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\r?\n", Whitespace),
            (r"#.*$", Comment.Single),
            (
                r"(network)([ \t]+)([A-Za-z_]\w*)",
                bygroups(Keyword.Declaration, Whitespace, Name.Class),
            ),
            (
                r"(activation|output_activation)([ \t]+)([A-Za-z_]\w*)",
                bygroups(Keyword.Reserved, Whitespace, _activation),
            ),
            (
                r"(activation)([ \t]*=[ \t]*)([A-Za-z_]\w*)",
                bygroups(Name.Attribute, Operator, _activation),
            ),
            (r"(dropout)([ \t]*=)", bygroups(Name.Attribute, Operator)),
            (words(("input", "hidden", "output"), suffix=r"\b"), Keyword.Type),
            (words(("dropout",), suffix=r"\b"), Keyword.Reserved),
            (r"->", Operator),
            (r"[,\[\]]", Punctuation),
            (r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", Number.Float),
            (r"[+-]?[0-9]+[eE][+-]?[0-9]+", Number.Float),
            (r"[0-9]+", Number.Integer),
            (r"[A-Za-z_]\w*", Name.Variable),
            (r".", Text),
        ]
    }

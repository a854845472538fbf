"""Parses `.cnx` text into a `Program`, translating Lark's failures into diagnostics.

This is the only module that touches Lark: a Lark exception reaching a user is a
bug, so every one of them is caught here and rendered like any other error.
"""

from __future__ import annotations

import heapq
import re
import threading
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ._ast import (
    Attribute,
    Declaration,
    Declared,
    DefaultStmt,
    EdgeStmt,
    NetworkStmt,
    Program,
    Ref,
    Statement,
)
from ._errors import Diagnostic, ParseError, diagnostic
from ._resources import read_resource
from ._source import Source, Span

KEYWORDS = (
    "activation",
    "dropout",
    "hidden",
    "input",
    "network",
    "output",
    "output_activation",
)

# How each terminal is named in "expected ..." lists.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "INT": "a number",
    "NUMBER": "a number",
    "_NL": "end of line",
    "$END": "end of file",
    "ARROW": "'->'",
    "COMMA": "','",
    "LSQB": "'['",
    "RSQB": "']'",
    "EQUAL": "'='",
    **{keyword.upper(): f"'{keyword}'" for keyword in KEYWORDS},
}

# The shape of each statement, keyed by the word a line starts with.
_STATEMENT_SHAPES = {
    "network": "name the network like 'network Seed'",
    "input": "declare inputs like 'input x, 7, pixels[784] dropout=0.2'",
    "hidden": "declare hidden neurons like 'hidden a, h[256] activation=tanh'",
    "output": "declare outputs like 'output y, logits[10]'",
    "activation": "set the default hidden activation like 'activation relu'",
    "output_activation": "set the output transformation like "
    "'output_activation softmax'",
    "dropout": "set the default hidden dropout like 'dropout 0.1'",
}
_EDGE_SHAPE = "connect neurons like 'a, b -> c -> d', one statement per line"
_CHARACTER_HINT = (
    "names are letters, digits and '_' not starting with a digit, or plain "
    "numbers; comments start with '#'"
)


@v_args(inline=True)
class _ToAst(Transformer):
    """Builds AST nodes as the LALR parser reduces, without a parse tree."""

    def __init__(self) -> None:
        super().__init__()
        self.source = Source("")

    def _span(self, first: Token, last: Token | None = None) -> Span:
        last = last or first
        assert first.line is not None and first.column is not None
        end = last.end_column if last.line == first.line else None
        return self.source.span(first.line, first.column, end)

    def start(self, *statements: Statement) -> tuple[Statement, ...]:
        return statements

    def network_stmt(self, keyword: Token, name: Token) -> NetworkStmt:
        return NetworkStmt(str(name), self._span(name))

    def declaration(
        self, role: Token, items: tuple[Declared, ...], *attributes: Attribute
    ) -> Declaration:
        return Declaration(str(role), items, attributes, self._span(role))

    def decl_list(self, *items: Declared) -> tuple[Declared, ...]:
        return items

    def decl_name(self, token: Token) -> Declared:
        return Declared(_name(token), None, self._span(token))

    def decl_group(self, name: Token, size: Token, close: Token) -> Declared:
        return Declared(str(name), int(size), self._span(name, close))

    def attribute(self, key: Token, value: Token) -> Attribute:
        return Attribute(
            str(key),
            _value(value),
            str(value),
            self._span(key, value),
            self._span(value),
        )

    def attr_key(self, token: Token) -> Token:
        return token

    def attr_value(self, token: Token) -> Token:
        return token

    def default_stmt(self, keyword: Token, value: Token) -> DefaultStmt:
        return DefaultStmt(
            str(keyword),
            _value(value),
            str(value),
            self._span(keyword, value),
            self._span(value),
        )

    def edge_stmt(self, *parts: tuple[Ref, ...] | Token) -> EdgeStmt:
        return EdgeStmt(tuple(part for part in parts if isinstance(part, tuple)))

    def ref_list(self, *refs: Ref) -> tuple[Ref, ...]:
        return refs

    def ref_name(self, token: Token) -> Ref:
        return Ref(_name(token), None, self._span(token))

    def ref_member(self, name: Token, index: Token, close: Token) -> Ref:
        return Ref(str(name), int(index), self._span(name, close))


def _name(token: Token) -> int | str:
    return int(token) if token.type == "INT" else str(token)


def _value(token: Token) -> int | str | float:
    if token.type == "INT":
        return int(token)
    if token.type == "NUMBER":
        return float(token)
    return str(token)


_lock = threading.Lock()


@cache
def _parser() -> tuple[Lark, _ToAst]:
    transformer = _ToAst()
    grammar = read_resource("grammar", "connex.lark")
    parser = Lark(grammar, parser="lalr", lexer="contextual", transformer=transformer)
    return parser, transformer


def parse_source(source: Source) -> Program:
    """Parse a whole file.

    Plain edge lines (`a, b -> c[2] -> d  # comment`) are read by a regular
    expression, which is several times faster than Lark on files of a million
    edges; every other line goes through the Lark grammar, which stays the
    definition of the language (a property test checks both paths agree).

    Raises:
        ParseError: the text does not follow the grammar, with a diagnostic for
            each line that does not parse (up to `MAX_SYNTAX_ERRORS`) naming what was
            found, what was expected, and showing the statement's shape.
    """
    lines = source.text.split("\n")
    fast: list[Statement] = []
    for number, line in enumerate(lines, start=1):
        statement = _plain_edge_line(source, number, line)
        if statement is not None:
            fast.append(statement)
            lines[number - 1] = ""  # blanked for Lark, keeping line numbers
    slow = _parse_with_lark(source, "\n".join(lines))
    merged = heapq.merge(slow, fast, key=_line_of)
    return Program(source, tuple(merged))


# Syntax errors reported at most per file; the rest would mostly be noise.
MAX_SYNTAX_ERRORS = 20


def _parse_with_lark(source: Source, text: str) -> tuple[Statement, ...]:
    """Parse with Lark; on a syntax error, blank the line and go on, so that one
    run reports every line that does not parse (statements are one line each)."""
    parser, transformer = _parser()
    # A final newline lets every statement end the same way; positions are unchanged.
    text = text if text.endswith("\n") else text + "\n"
    lines = text.split("\n")
    found: list[Diagnostic] = []
    first: UnexpectedInput | None = None
    with _lock:
        transformer.source = source
        while len(found) < MAX_SYNTAX_ERRORS:
            try:
                statements = tuple(parser.parse(text))
            except UnexpectedInput as err:
                first = first or err
                found.append(_translate(source, err))
                line = found[-1].span.line
                if not 1 <= line <= len(lines) or not lines[line - 1]:
                    break  # blanking cannot help: stop at what was found
                lines[line - 1] = ""
                text = "\n".join(lines)
            else:
                if not found:
                    return statements
                break
    raise ParseError(found) from first


_REF = r"(?:[A-Za-z_][A-Za-z0-9_]*(?:\[[0-9]+\])?|[0-9]+)"
_SPACE = r"[ \t\f]*"
_PLAIN_EDGE = re.compile(
    rf"{_SPACE}{_REF}(?:{_SPACE}(?:,|->){_SPACE}{_REF})*{_SPACE}(?:#[^\r]*)?"
)
_PIECE = re.compile(r"->|,|([A-Za-z_][A-Za-z0-9_]*)(?:\[([0-9]+)\])?|([0-9]+)")


def _plain_edge_line(source: Source, number: int, line: str) -> EdgeStmt | None:
    """The edge statement of a line with only refs, commas and arrows, else None.

    Lines that this does not take (declarations, reserved words, spaces inside
    brackets, carriage returns, anything malformed) are left to Lark.
    """
    if "->" not in line or _PLAIN_EDGE.fullmatch(line) is None:
        return None
    code = line.split("#", 1)[0]
    chain: list[list[Ref]] = [[]]
    for piece in _PIECE.finditer(code):
        text = piece.group()
        if text == "->":
            chain.append([])
            continue
        if text == ",":
            continue
        name, index, number_name = piece.groups()
        if name in KEYWORDS:
            return None  # Lark reports the reserved word
        span = source.span(number, piece.start() + 1, piece.end() + 1)
        if number_name is not None:
            chain[-1].append(Ref(int(number_name), None, span))
        else:
            chain[-1].append(Ref(name, None if index is None else int(index), span))
    if len(chain) < 2 or any(not refs for refs in chain):
        return None  # no arrow outside the comment, or an arrow with no side
    return EdgeStmt(tuple(tuple(refs) for refs in chain))


def _line_of(statement: Statement) -> int:
    if isinstance(statement, EdgeStmt):
        return statement.chain[0][0].span.line
    return statement.span.line


def _translate(source: Source, err: UnexpectedInput) -> Diagnostic:
    """Turn a Lark exception into a diagnostic with a plain-words message."""
    line = max(1, err.line if isinstance(err.line, int) else 1)
    column = max(1, err.column if isinstance(err.column, int) else 1)
    hint = _statement_hint(source.line_text(line))

    if isinstance(err, UnexpectedCharacters):
        char = source.line_text(line)[column - 1 : column] or "\n"
        if not char.isprintable():  # control characters and line separators
            char = char.encode("unicode_escape").decode("ascii")
        message = f"unexpected character '{char}'"
        return diagnostic(
            source, source.span(line, column), message, _CHARACTER_HINT, kind="parse"
        )

    assert isinstance(err, UnexpectedToken)
    token = err.token
    expected = _expected_words(err.expected)
    if token.type in {k.upper() for k in KEYWORDS} and "NAME" in err.expected:
        message = f"'{token}' is a reserved word and cannot name a neuron or network"
        hint = "rename it; reserved words are " + ", ".join(KEYWORDS)
    elif token.type == "EQUAL" and "ARROW" in err.expected:
        message = f"unexpected {_describe(token)}; expected {expected}"
        hint = "edges are written with '->', as in 'a -> b'"
    elif token.type in ("_NL", "$END"):
        message = f"the statement ends too early; expected {expected}"
    else:
        message = f"unexpected {_describe(token)}; expected {expected}"
    end = token.end_column if token.end_line == token.line else None
    span = source.span(token.line or line, token.column or column, end)
    return diagnostic(source, span, message, hint, kind="parse")


def _describe(token: Token) -> str:
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type in ("INT", "NUMBER"):
        return f"number '{token}'"
    return f"'{token}'"


def _expected_words(terminals: set[str]) -> str:
    words = sorted({_TERMINAL_WORDS.get(t, t) for t in terminals})
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _statement_hint(line: str) -> str:
    words = line.split("#", 1)[0].split()
    first = words[0] if words else ""
    return _STATEMENT_SHAPES.get(first, _EDGE_SHAPE)

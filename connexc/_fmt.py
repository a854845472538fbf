"""Formats `.cnx` text into the canonical layout of `connexc.to_cnx`, keeping comments.

The statements are rewritten by the canonical writer (`_write.write_cnx`) from the
resolved network, so formatting never changes what a file means. Comments are then
put back by these rules:

- the file's leading comment block (its first paragraph of comment lines, up to a
  blank line or the first statement) stays on top;
- any other run of comment lines belongs to the statement that follows it, and
  moves with that statement;
- a comment at the end of a statement's line stays at the end of that line;
- comments after the last statement stay at the end of the file.

A statement of the input "moves" to the canonical line that now holds its first
neuron (for a declaration) or its first edge (for an edge statement). When several
statements end up on one canonical line, their comments are kept in source order,
and all but the first end-of-line comment go above the line. A statement that the
canonical layout drops (a default restating the built-in value, such as
`output_activation identity`) hands its comments to the `network` line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._ast import (
    Declaration,
    DefaultStmt,
    EdgeStmt,
    NetworkStmt,
    Program,
    Ref,
    Statement,
)
from ._errors import raise_errors
from ._ir import Name, Network, build_network, member_name
from ._parse import parse_source
from ._source import Source
from ._write import structure_of_network, write_cnx

# A statement's identity across layouts: what it is about, not how it is written.
_Key = tuple


@dataclass
class _Comments:
    """The comments that travel with one statement."""

    above: list[str] = field(default_factory=list)
    trailing: list[str] = field(default_factory=list)


@dataclass
class _Lines:
    """A file split into a header, statements with their comments, and a footer."""

    header: list[str]  # the leading comment paragraph, verbatim
    blank_after_header: bool
    statements: list[tuple[Statement, _Comments]]
    footer: list[str]  # comment lines after the last statement


def format_cnx(text: str, *, filename: str = "<string>") -> str:
    """The canonical layout of `.cnx` text, with its comments kept.

    The result is what `connexc fmt` writes: statements as `connexc.to_cnx` writes
    them (so formatting is idempotent, and a one-edge change touches only its
    source's statement, one line unless it wraps at 88 columns),
    comments placed by the rules in this module's documentation.

    Args:
        text: the `.cnx` text.
        filename: the name used in diagnostics.

    Returns:
        The formatted text, LF line endings and one final newline.

    Raises:
        CompileError: the text does not parse, or names cannot be resolved (an
            undeclared neuron, a name declared twice, ...). Graph checks such as
            cycles are not needed to format, and are not run.
    """
    source = Source(text, filename)
    program = parse_source(source)
    network, found = build_network(program)
    raise_errors(found)

    canonical_text = write_cnx(structure_of_network(network))
    canonical = parse_source(Source(canonical_text, filename))
    lines = _split(text, program)
    placed = _place(lines, network, canonical)
    return _join(lines, canonical_text, canonical, placed)


def _statement_line(statement: Statement) -> int:
    if isinstance(statement, EdgeStmt):
        return statement.chain[0][0].span.line
    return statement.span.line


def _lines(text: str) -> list[str]:
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


def _split(text: str, program: Program) -> _Lines:
    """Assign every comment of the text to the header, a statement or the footer."""
    by_line = {_statement_line(s): s for s in program.statements}
    header: list[str] = []
    blank_after_header = False
    statements: list[tuple[Statement, _Comments]] = []
    pending: list[str] = []
    in_header = True
    # Lines as the parser counts them: only "\n" ends a line (not "\f" or "\u2028").
    for number, line in enumerate(_lines(text), start=1):
        code, hash_mark, comment = line.partition("#")
        comment = (hash_mark + comment).rstrip()
        statement = by_line.get(number)
        if statement is None and code.strip():
            raise AssertionError(f"line {number} holds code but no statement")
        if statement is not None:
            in_header = False
            comments = _Comments(above=pending, trailing=[comment] if comment else [])
            statements.append((statement, comments))
            pending = []
        elif comment:
            (header if in_header else pending).append(comment)
        elif in_header and header:
            in_header = False
            blank_after_header = True
    return _Lines(header, blank_after_header, statements, pending)


def _place(lines: _Lines, network: Network, canonical: Program) -> dict[int, _Comments]:
    """Comments by the index of the canonical statement they belong to."""
    members = {group.name: group.members for group in network.groups}
    index = _CanonicalIndex(canonical.statements, members)
    placed: dict[int, _Comments] = {}
    for statement, comments in lines.statements:
        if not comments.above and not comments.trailing:
            continue
        target = placed.setdefault(index.find(_key(statement, members)), _Comments())
        target.above += comments.above
        target.trailing += comments.trailing
    return placed


def _neurons(ref: Ref, members: Mapping[str, tuple[Name, ...]]) -> tuple[Name, ...]:
    """The neurons a ref or a declared item stands for, in order."""
    if ref.index is not None:
        return (member_name(str(ref.name), ref.index),)
    if isinstance(ref.name, str) and ref.name in members:
        return members[ref.name]
    return (ref.name,)


def _key(statement: Statement, members: Mapping[str, tuple[Name, ...]]) -> _Key:
    """What a statement is about: its first neuron, first edge or default."""
    if isinstance(statement, NetworkStmt):
        return ("network",)
    if isinstance(statement, DefaultStmt):
        return ("default", statement.key)
    if isinstance(statement, Declaration):
        first = statement.items[0]
        if first.size is None:
            return ("neuron", first.name)
        return ("neuron", member_name(str(first.name), 0))
    source = _neurons(statement.chain[0][0], members)[0]
    target = _neurons(statement.chain[1][0], members)[0]
    return ("edge", source, target)


class _CanonicalIndex:
    """Which canonical statement holds each key, found without a search."""

    def __init__(
        self,
        statements: tuple[Statement, ...],
        members: Mapping[str, tuple[Name, ...]],
    ) -> None:
        self.fixed: dict[_Key, int] = {}
        self.neurons: dict[Name, int] = {}
        self.edges_from: dict[Name, list[tuple[int, frozenset[Name]]]] = {}
        for j, statement in enumerate(statements):
            if isinstance(statement, NetworkStmt):
                self.fixed[("network",)] = j
            elif isinstance(statement, DefaultStmt):
                self.fixed[("default", statement.key)] = j
            elif isinstance(statement, Declaration):
                for item in statement.items:
                    if item.size is None:
                        self.neurons[item.name] = j
                    for i in range(item.size or 0):
                        self.neurons[member_name(str(item.name), i)] = j
            else:
                # The canonical layout writes one arrow per edge statement.
                sources = [
                    n for ref in statement.chain[0] for n in _neurons(ref, members)
                ]
                targets = frozenset(
                    n for ref in statement.chain[1] for n in _neurons(ref, members)
                )
                for source in sources:
                    self.edges_from.setdefault(source, []).append((j, targets))

    def find(self, key: _Key) -> int:
        """The canonical statement holding `key`; the first one (the network line)
        when the canonical layout dropped the statement."""
        if key[0] == "neuron":
            return self.neurons.get(key[1], 0)
        if key[0] == "edge":
            for j, targets in self.edges_from.get(key[1], ()):
                if key[2] in targets:
                    return j
            return 0
        return self.fixed.get(key, 0)


def _join(
    lines: _Lines,
    canonical_text: str,
    canonical: Program,
    placed: dict[int, _Comments],
) -> str:
    """The canonical text with the header, placed comments and footer added."""
    line_of = {_statement_line(s): j for j, s in enumerate(canonical.statements)}
    out: list[str] = list(lines.header)
    if lines.header and lines.blank_after_header:
        out.append("")
    for number, line in enumerate(_lines(canonical_text), start=1):
        j = line_of.get(number)
        comments = placed.get(j) if j is not None else None
        if comments is None:
            out.append(line)
            continue
        trailing = comments.trailing[:1]
        out += comments.above + comments.trailing[1:]
        out.append(f"{line}  {trailing[0]}" if trailing else line)
    if lines.footer:
        out += ["", *lines.footer]
    return "\n".join(out) + "\n"

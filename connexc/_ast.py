"""The syntax tree of a `.cnx` file: statements as written, each with its span."""

from __future__ import annotations

from dataclasses import dataclass

from ._source import Source, Span

Name = int | str


@dataclass(frozen=True, slots=True)
class Ref:
    """A neuron or group named in a statement: `a`, `7`, `h` or `h[3]`."""

    name: Name
    index: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class Declared:
    """One item of a declaration: a single neuron, or a group when `size` is set."""

    name: Name
    size: int | None
    span: Span


@dataclass(frozen=True, slots=True)
class Attribute:
    """`key=value` after a declaration."""

    key: str
    value: Name | float
    text: str
    span: Span
    value_span: Span


@dataclass(frozen=True, slots=True)
class NetworkStmt:
    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class Declaration:
    """`input|hidden|output items [key=value ...]`."""

    role: str
    items: tuple[Declared, ...]
    attributes: tuple[Attribute, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class DefaultStmt:
    """A network-wide default: `activation`, `output_activation` or `dropout`."""

    key: str
    value: Name | float
    text: str
    span: Span
    value_span: Span


@dataclass(frozen=True, slots=True)
class EdgeStmt:
    """`a, b -> c -> d`: every ref of one list feeds every ref of the next."""

    chain: tuple[tuple[Ref, ...], ...]


Statement = NetworkStmt | Declaration | DefaultStmt | EdgeStmt


@dataclass(frozen=True, slots=True)
class Program:
    source: Source
    statements: tuple[Statement, ...]

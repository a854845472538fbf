"""Resolves a parsed `Program` into a `Network`: named neurons, their roles and
attributes, and every edge expanded to single neurons.

Name resolution and attribute checks live here, since they need the statements;
checks of the graph as a whole are in `_check`.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
from collections.abc import Iterator
from dataclasses import dataclass, field

from ._ast import (
    Attribute,
    Declaration,
    DefaultStmt,
    EdgeStmt,
    NetworkStmt,
    Program,
    Ref,
)
from ._errors import Diagnostic, diagnostic
from ._parse import KEYWORDS
from ._source import Source, Span

Name = int | str

HIDDEN_ACTIVATIONS = (
    "identity",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "softplus",
    "softsign",
    "sigmoid",
    "log_sigmoid",
    "tanh",
    "hard_tanh",
)
OUTPUT_ACTIVATIONS = ("identity", "softmax", "log_softmax", "sigmoid", "tanh")
DEFAULT_ACTIVATION = "relu"
MAX_GROUP_SIZE = 1_000_000
# Names the generated module relies on at top level; its class must not shadow them.
RESERVED_CLASS_NAMES = frozenset(
    {"eqx", "jax", "jnp", "np", *dir(builtins), *keyword.kwlist}
)


@dataclass(frozen=True, slots=True)
class Neuron:
    """One neuron, with everything the backend needs to know about it."""

    name: Name
    role: str  # "input", "hidden" or "output"
    activation: str
    dropout: float
    span: Span  # where it was declared
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    source: Name
    target: Name
    span: Span  # from the source's ref to the target's ref


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    role: str
    members: tuple[Name, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Network:
    """A resolved network; neurons and edges keep source order."""

    name: str
    source: Source
    neurons: tuple[Neuron, ...]
    inputs: tuple[Name, ...]
    outputs: tuple[Name, ...]
    edges: tuple[Edge, ...]
    groups: tuple[Group, ...]
    output_activation: str
    by_name: dict[Name, Neuron] = field(repr=False, compare=False)


def member_name(group: str, index: int) -> str:
    """The name of one member of a group, as written in `.cnx`: `h[3]`."""
    return f"{group}[{index}]"


def quote(name: Name) -> str:
    """A neuron name as shown in messages."""
    return f"'{name}'"


@dataclass
class _Defaults:
    name: str = "Network"
    activation: str = DEFAULT_ACTIVATION
    activation_span: Span | None = None
    output_activation: str = "identity"
    dropout: float = 0.0
    seen: dict[str, Span] = field(default_factory=dict)


class _Builder:
    """Walks the statements once, collecting neurons, edges and diagnostics."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.source = program.source
        self.diagnostics: list[Diagnostic] = []
        self.defaults = _Defaults()
        self.neurons: dict[Name, Neuron] = {}
        self.groups: dict[str, Group] = {}
        self.declared_at: dict[Name, tuple[str, Span]] = {}
        self.edges: dict[tuple[Name, Name], Edge] = {}
        # "did you mean" hints by undefined name: every declaration is known before
        # edges are resolved, and each search scans all names, so search once.
        self.guesses: dict[str, str] = {}

    def error(self, span: Span, message: str, hint: str = "") -> None:
        self.diagnostics.append(diagnostic(self.source, span, message, hint))

    def build(self) -> Network:
        statements = self.program.statements
        for stmt in statements:
            if isinstance(stmt, NetworkStmt):
                self.network_name(stmt)
            elif isinstance(stmt, DefaultStmt):
                self.default(stmt)
        for stmt in statements:
            if isinstance(stmt, Declaration):
                self.declaration(stmt)
        for stmt in statements:
            if isinstance(stmt, EdgeStmt):
                self.edge_statement(stmt)

        neurons = tuple(self.neurons.values())
        return Network(
            name=self.defaults.name,
            source=self.source,
            neurons=neurons,
            inputs=tuple(n.name for n in neurons if n.role == "input"),
            outputs=tuple(n.name for n in neurons if n.role == "output"),
            edges=tuple(self.edges.values()),
            groups=tuple(self.groups.values()),
            output_activation=self.defaults.output_activation,
            by_name=self.neurons,
        )

    def once(self, what: str, span: Span) -> bool:
        """Record a statement that may appear only once; report a repeat."""
        first = self.defaults.seen.get(what)
        if first is not None:
            self.error(span, f"{what} is set twice", f"it was first set at {first}")
            return False
        self.defaults.seen[what] = span
        return True

    def network_name(self, stmt: NetworkStmt) -> None:
        if not self.once("the network name", stmt.span):
            return
        if not self.check_name(stmt.name, stmt.span):
            return
        if stmt.name in RESERVED_CLASS_NAMES or stmt.name.startswith("_"):
            self.error(
                stmt.span,
                f"network name '{stmt.name}' would clash with a name in the "
                "generated module",
                "choose another name, for example in CamelCase like 'Seed'",
            )
            return
        self.defaults.name = stmt.name

    def default(self, stmt: DefaultStmt) -> None:
        labels = {
            "activation": "the default activation",
            "output_activation": "the output activation",
            "dropout": "the default dropout",
        }
        if not self.once(labels[stmt.key], stmt.span):
            return
        if stmt.key == "dropout":
            p = self.dropout_value(stmt.value, stmt.text, stmt.value_span)
            if p is not None:
                self.defaults.dropout = p
            return
        allowed = OUTPUT_ACTIVATIONS if stmt.key == "output_activation" else None
        name = self.activation_value(stmt.value, stmt.text, stmt.value_span, allowed)
        if name is None:
            return
        if stmt.key == "activation":
            self.defaults.activation = name
            self.defaults.activation_span = stmt.value_span
        else:
            self.defaults.output_activation = name

    def activation_value(
        self,
        value: Name | float,
        text: str,
        span: Span,
        allowed: tuple[str, ...] | None = None,
    ) -> str | None:
        allowed = allowed or HIDDEN_ACTIVATIONS
        kind = "output activation" if allowed is OUTPUT_ACTIVATIONS else "activation"
        if isinstance(value, str) and value in allowed:
            return value
        close = difflib.get_close_matches(text, allowed, n=1)
        guess = f"did you mean '{close[0]}'? " if close else ""
        self.error(
            span,
            f"unknown {kind} '{text}'",
            f"{guess}valid {kind}s are: {', '.join(allowed)}",
        )
        return None

    def dropout_value(self, value: Name | float, text: str, span: Span) -> float | None:
        if isinstance(value, (int, float)) and 0.0 <= value < 1.0:
            return float(value)
        if isinstance(value, str):
            message = f"dropout must be a number, not '{text}'"
        else:
            message = f"dropout {text} is outside [0, 1)"
        self.error(span, message, "a dropout probability p is a number with 0 <= p < 1")
        return None

    def check_name(self, name: Name, span: Span) -> bool:
        if isinstance(name, str) and name in KEYWORDS:
            self.error(
                span,
                f"'{name}' is a reserved word and cannot name a neuron or network",
                "rename it; reserved words are " + ", ".join(KEYWORDS),
            )
            return False
        return True

    def declaration(self, stmt: Declaration) -> None:
        activation, dropout = self.attributes(stmt)
        role = stmt.role
        for item in stmt.items:
            if not self.check_name(item.name, item.span):
                continue
            if not self.declare(item.name, role, item.span):
                continue
            if item.size is None:
                self.add_neuron(item.name, role, activation, dropout, item.span, None)
                continue
            if not 1 <= item.size <= MAX_GROUP_SIZE:
                self.error(
                    item.span,
                    f"group '{item.name}' has size {item.size}",
                    f"a group holds between 1 and {MAX_GROUP_SIZE:,} neurons",
                )
                continue
            assert isinstance(item.name, str)
            members = tuple(member_name(item.name, i) for i in range(item.size))
            self.groups[item.name] = Group(item.name, role, members, item.span)
            for member in members:
                self.add_neuron(member, role, activation, dropout, item.span, item.name)

    def declare(self, name: Name, role: str, span: Span) -> bool:
        """Claim a name for one declaration; report a second claim."""
        first = self.declared_at.get(name)
        if first is None:
            self.declared_at[name] = (role, span)
            return True
        first_role, first_span = first
        if {first_role, role} == {"input", "output"}:
            message = f"neuron {quote(name)} is declared both as input and as output"
            hint = (
                f"it was declared {first_role} at {first_span}; a neuron is one of "
                "input, hidden or output"
            )
        else:
            message = f"{quote(name)} is declared twice"
            hint = f"it was first declared at {first_span}; names must be unique"
        self.error(span, message, hint)
        return False

    def add_neuron(
        self,
        name: Name,
        role: str,
        activation: str | None,
        dropout: float | None,
        span: Span,
        group: str | None,
    ) -> None:
        if role == "hidden":
            activation = activation or self.defaults.activation
            dropout = self.defaults.dropout if dropout is None else dropout
        else:
            activation = "identity"
            dropout = dropout or 0.0
        self.neurons[name] = Neuron(name, role, activation, dropout, span, group)

    def attributes(self, stmt: Declaration) -> tuple[str | None, float | None]:
        activation: str | None = None
        dropout: float | None = None
        seen: dict[str, Span] = {}
        for attr in stmt.attributes:
            if attr.key in seen:
                self.error(
                    attr.span,
                    f"attribute '{attr.key}' is given twice",
                    f"it was first given at {seen[attr.key]}",
                )
                continue
            seen[attr.key] = attr.span
            if attr.key == "dropout":
                dropout = self.dropout_value(attr.value, attr.text, attr.value_span)
            elif attr.key == "activation":
                activation = self.activation_attribute(stmt, attr)
            else:
                self.error(
                    attr.span,
                    f"unknown attribute '{attr.key}'",
                    "valid attributes are: activation, dropout",
                )
        return activation, dropout

    def activation_attribute(self, stmt: Declaration, attr: Attribute) -> str | None:
        if stmt.role == "hidden":
            return self.activation_value(attr.value, attr.text, attr.value_span)
        if stmt.role == "output":
            hint = (
                "output neurons are linear; transform the whole output vector with "
                "a statement like 'output_activation softmax'"
            )
        else:
            hint = "input neurons pass their value through unchanged"
        self.error(attr.span, f"{stmt.role} neurons take no activation", hint)
        return None

    def edge_statement(self, stmt: EdgeStmt) -> None:
        # Resolve each ref once, so a bad name is reported once, not once per pair.
        chain = [
            [(ref, list(self.resolve(ref))) for ref in refs] for refs in stmt.chain
        ]
        for sources, targets in zip(chain, chain[1:], strict=False):
            for source_ref, source_names in sources:
                for target_ref, target_names in targets:
                    span = _joined(self.source, source_ref.span, target_ref.span)
                    self.connect(source_names, target_names, span)

    def connect(self, sources: list[Name], targets: list[Name], span: Span) -> None:
        """Add every source -> target edge; report the first repeated one."""
        for source in sources:
            for target in targets:
                first = self.edges.get((source, target))
                if first is None:
                    self.edges[(source, target)] = Edge(source, target, span)
                    continue
                self.error(
                    span,
                    f"edge {quote(source)} -> {quote(target)} is given twice",
                    f"it was first given at {first.span}",
                )
                return

    def resolve(self, ref: Ref) -> Iterator[Name]:
        """The neurons a ref stands for; reports and yields nothing if unknown."""
        if ref.index is not None:
            yield from self.resolve_member(ref)
        elif ref.name in self.groups:
            yield from self.groups[ref.name].members  # type: ignore[index]
        elif ref.name in self.neurons:
            yield ref.name
        else:
            self.report_undefined(ref)

    def resolve_member(self, ref: Ref) -> Iterator[Name]:
        assert ref.index is not None
        group = self.groups.get(ref.name)  # type: ignore[arg-type]
        if group is None:
            if ref.name in self.neurons:
                self.error(
                    ref.span,
                    f"{quote(ref.name)} is a single neuron, not a group",
                    f"write '{ref.name}' without an index",
                )
            else:
                self.report_undefined(ref)
            return
        size = len(group.members)
        if ref.index >= size:
            self.error(
                ref.span,
                f"'{ref.name}[{ref.index}]' is out of range: group '{ref.name}' has "
                f"{size} neurons",
                f"members are {ref.name}[0] to {ref.name}[{size - 1}]",
            )
            return
        yield group.members[ref.index]

    def report_undefined(self, ref: Ref) -> None:
        text = ref.name if ref.index is None else f"{ref.name}[{ref.index}]"
        guess = self.guesses.get(str(ref.name))
        if guess is None:
            candidates = [str(n) for n in self.declared_at]
            close = difflib.get_close_matches(
                str(ref.name), candidates, n=1, cutoff=0.5
            )
            guess = f", or did you mean '{close[0]}'?" if close else ""
            self.guesses[str(ref.name)] = guess
        self.error(
            ref.span,
            f"neuron '{text}' is used but never declared",
            f"declare it in an input, hidden or output statement{guess}",
        )


def _joined(source: Source, first: Span, last: Span) -> Span:
    """The span from the start of `first` to the end of `last`, on one line."""
    if first.line == last.line and last.end_column > first.column:
        return source.span(first.line, first.column, last.end_column)
    return first


def build_network(program: Program) -> tuple[Network, list[Diagnostic]]:
    """Resolve names and attributes; return the network and any problems found."""
    builder = _Builder(program)
    network = builder.build()
    return network, builder.diagnostics

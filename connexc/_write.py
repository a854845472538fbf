"""Writes a network structure as canonical `.cnx` text.

The input is a `Structure`, a plain description of neurons, edges and attributes that
can be read from a parsed `Network` or from a generated model's class constants. The
layout is fixed by the structure alone, so one changed edge is one changed line:
header, then declarations (inputs, hidden, outputs), then edges, one statement per
source. `network_of_structure` also returns the `Network` that parsing the text
would give, built without parsing, which is what makes edits of large networks fast.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._ir import DEFAULT_ACTIVATION, Edge, Group, Name, Network, Neuron
from ._source import Source, Span

WIDTH = 88  # statements are wrapped into more statements past this many columns
_MEMBER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\[([0-9]+)\]\Z")


@dataclass(frozen=True)
class Structure:
    """A network's structure, with no parameters and no source positions.

    Attributes:
        name: the network (and generated class) name.
        inputs: input neurons, in input-vector order.
        outputs: output neurons, in output-vector order.
        hidden: hidden neurons, in any order.
        edges: `(source, target)` pairs, in any order.
        activations: the activation of each hidden neuron; neurons not listed get
            `activation`, or the most common one when that is None.
        dropout: dropout probability by neuron; neurons not listed get 0.0.
        output_activation: the transformation of the output vector.
        groups: `{group: (size, role)}`; members are named like `h[3]`.
        activation: the network's default hidden activation, or None to choose the
            most common one (ties go to relu, then to the first name).
    """

    name: str
    inputs: tuple[Name, ...]
    outputs: tuple[Name, ...]
    hidden: tuple[Name, ...]
    edges: tuple[tuple[Name, Name], ...]
    activations: Mapping[Name, str] = field(default_factory=dict)
    dropout: Mapping[Name, float] = field(default_factory=dict)
    output_activation: str = "identity"
    groups: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    activation: str | None = None

    def neurons(self) -> tuple[Name, ...]:
        """Every neuron: inputs, hidden, outputs."""
        return (*self.inputs, *self.hidden, *self.outputs)

    def canonical(self) -> tuple:
        """A value equal for two structures exactly when they describe one network.

        Hidden neurons and edges are compared as sets; defaults are filled in, and
        groups without any member present are ignored.
        """
        hidden = frozenset(self.hidden)
        default = self.default_activation()
        present = set(self.neurons())
        groups = {
            g: spec
            for g, spec in self.groups.items()
            if any(member(g, i) in present for i in range(spec[0]))
        }
        return (
            self.name,
            tuple(self.inputs),
            tuple(self.outputs),
            hidden,
            frozenset(self.edges),
            {n: self.activations.get(n, default) for n in hidden},
            {n: float(self.dropout.get(n, 0.0)) for n in present},
            self.output_activation,
            groups,
        )

    def default_activation(self) -> str:
        """The default hidden activation: given, or the most common one."""
        if self.activation is not None:
            return self.activation
        counts = Counter(self.activations.get(n) for n in self.hidden)
        counts.pop(None, None)
        if not counts:
            return DEFAULT_ACTIVATION
        return min(counts, key=lambda a: (-counts[a], a != DEFAULT_ACTIVATION, a or ""))  # type: ignore[return-value]


def member(group: str, index: int) -> str:
    """The name of one member of a group: `h[3]`."""
    return f"{group}[{index}]"


def name_key(name: Name) -> tuple[int, str, int]:
    """The natural order of names: ints by value first, then strings, with group
    members by index (`h` before `h[0]`, `h[9]` before `h[10]`)."""
    if isinstance(name, int):
        return (0, "", name)
    match = _MEMBER.match(name)
    if match:
        return (1, match.group(1), int(match.group(2)))
    return (1, name, -1)


def structure_of_network(network: Network) -> Structure:
    """The structure of a parsed and resolved network."""
    return Structure(
        name=network.name,
        inputs=network.inputs,
        outputs=network.outputs,
        hidden=tuple(n.name for n in network.neurons if n.role == "hidden"),
        edges=tuple((e.source, e.target) for e in network.edges),
        activations={
            n.name: n.activation for n in network.neurons if n.role == "hidden"
        },
        dropout={n.name: n.dropout for n in network.neurons if n.dropout},
        output_activation=network.output_activation,
        groups={g.name: (len(g.members), g.role) for g in network.groups},
    )


def structure_of_model(model: Any) -> Structure:
    """The structure of a generated model class or instance, from its constants."""
    roles = set(model.INPUTS) | set(model.OUTPUTS)
    hidden = tuple(n for n in model.NEURONS if n not in roles)
    return Structure(
        name=model.NAME,
        inputs=tuple(model.INPUTS),
        outputs=tuple(model.OUTPUTS),
        hidden=hidden,
        edges=tuple(model.EDGES),
        activations={n: model.ACTIVATIONS[n] for n in hidden},
        dropout={n: p for n, p in model.DROPOUT.items() if p},
        output_activation=model.OUTPUT_ACTIVATION,
        groups=dict(model.GROUPS),
    )


def write_cnx(structure: Structure) -> str:
    """The canonical `.cnx` text of a structure.

    Args:
        structure: the network to write.

    Returns:
        `.cnx` text, LF line endings and a final newline. Compiling it gives exactly
        `structure` back, and writing that again gives the same text.

    Raises:
        ValueError: the structure cannot be written in `.cnx`, such as a group with
            some but not all of its members, or members whose attributes differ.
    """
    return _Layout(structure).text()


def network_of_structure(structure: Structure, filename: str) -> tuple[str, Network]:
    """The canonical text of a structure and the `Network` that parsing it gives.

    The network is built from the layout directly, without parsing, and equals
    `build_network(parse_source(Source(text, filename)))` field for field, spans
    included; so code rendered from it is byte-identical to compiling the text.

    Raises:
        ValueError: as `write_cnx`.
    """
    layout = _Layout(structure)
    text = layout.text()
    return text, layout.network(Source(text, filename))


@dataclass(frozen=True)
class _Statement:
    """One line: `head item, item, ... suffix`, with the neurons each item means.

    For a declaration `head` is the role and `sources` is empty; for an edge
    statement `head` is `source ->` and `sources` are the neurons it stands for.
    """

    head: str
    items: tuple[str, ...]
    names: tuple[tuple[Name, ...], ...]
    suffix: str = ""
    sources: tuple[Name, ...] = ()

    def text(self) -> str:
        return f"{self.head} {', '.join(self.items)}{self.suffix}"

    def columns(self) -> list[int]:
        """The 1-based column where each item starts."""
        columns = []
        column = len(self.head) + 2
        for item in self.items:
            columns.append(column)
            column += len(item) + 2
        return columns


class _Layout:
    """Every line of the canonical text, decided once from a structure."""

    def __init__(self, structure: Structure) -> None:
        neurons = structure.neurons()
        present = set(neurons)
        if len(present) != len(neurons):
            repeated = [n for n, c in Counter(neurons).items() if c > 1]
            raise ValueError(f"neuron {_quote(repeated[0])} appears more than once")
        default = structure.default_activation()
        attributes = {
            n: (
                structure.activations.get(n, default),
                float(structure.dropout.get(n, 0.0)),
            )
            for n in structure.hidden
        }
        for n in (*structure.inputs, *structure.outputs):
            attributes[n] = ("identity", float(structure.dropout.get(n, 0.0)))
        default_dropout = _default_dropout([attributes[n][1] for n in structure.hidden])
        groups = _written_groups(structure, attributes, present)
        in_group = {m for members in groups.values() for m in members}
        for n in neurons:
            match = _MEMBER.match(n) if isinstance(n, str) else None
            if match and n not in in_group:
                raise ValueError(
                    f"neuron {_quote(n)} is named like a group member, but no group "
                    f"'{match.group(1)}' holds it"
                )

        self.structure = structure
        self.attributes = attributes
        self.groups = groups
        self.header = [f"network {structure.name}", f"activation {default}"]
        if structure.output_activation != "identity":
            self.header.append(f"output_activation {structure.output_activation}")
        if default_dropout:
            self.header.append(f"dropout {default_dropout!r}")
        self.declarations = _declarations(
            structure, attributes, groups, (default, default_dropout)
        )
        self.edges = _edge_statements(structure.edges, groups, structure.inputs)

    def text(self) -> str:
        lines = [*self.header, ""]
        lines += [s.text() for s in self.declarations]
        if self.edges:
            lines.append("")
            lines += [s.text() for s in self.edges]
        return "\n".join(lines) + "\n"

    def network(self, source: Source) -> Network:
        """The resolved network of this layout's text, as `_ir` would build it."""
        filename = source.filename
        line = len(self.header) + 2
        neurons: dict[Name, Neuron] = {}
        groups = []
        for statement in self.declarations:
            role = statement.head
            for item, names, column in zip(
                statement.items, statement.names, statement.columns(), strict=True
            ):
                span = Span(filename, line, column, column + len(item))
                group = None
                if item.endswith("]"):
                    group = item[: item.index("[")]
                    groups.append(Group(group, role, names, span))
                for name in names:
                    activation, dropout = self.attributes[name]
                    neurons[name] = Neuron(name, role, activation, dropout, span, group)
            line += 1

        edges: dict[tuple[Name, Name], Edge] = {}
        line += 1
        for statement in self.edges:
            for names, column, item in zip(
                statement.names, statement.columns(), statement.items, strict=True
            ):
                span = Span(filename, line, 1, column + len(item))
                for source_name in statement.sources:
                    for target in names:
                        edges[(source_name, target)] = Edge(source_name, target, span)
            line += 1

        ordered = tuple(neurons.values())
        return Network(
            name=self.structure.name,
            source=source,
            neurons=ordered,
            inputs=tuple(n.name for n in ordered if n.role == "input"),
            outputs=tuple(n.name for n in ordered if n.role == "output"),
            edges=tuple(edges.values()),
            groups=tuple(groups),
            output_activation=self.structure.output_activation,
            by_name=neurons,
        )


def _quote(name: Name) -> str:
    return f"'{name}'"


def _default_dropout(values: list[float]) -> float:
    """The most common hidden dropout; ties go to 0.0, then to the smallest."""
    counts = Counter(values)
    if not counts:
        return 0.0
    return min(counts, key=lambda p: (-counts[p], p != 0.0, p))


def _written_groups(
    structure: Structure,
    attributes: Mapping[Name, tuple[str, float]],
    present: set[Name],
) -> dict[str, tuple[Name, ...]]:
    """The groups to declare as `name[size]`, with their members.

    A group none of whose members is present is gone. A group with only some
    members, or whose members differ in role or attributes, cannot be written.
    """
    roles = {n: "input" for n in structure.inputs}
    roles.update((n, "output") for n in structure.outputs)
    groups: dict[str, tuple[Name, ...]] = {}
    for group, (size, role) in structure.groups.items():
        members = tuple(member(group, i) for i in range(size))
        missing = [m for m in members if m not in present]
        if len(missing) == size:
            continue
        problem = ""
        if missing:
            problem = f"its member {_quote(missing[0])} is missing"
        elif any(roles.get(m, "hidden") != role for m in members):
            odd = next(m for m in members if roles.get(m, "hidden") != role)
            problem = f"its member {_quote(odd)} is not {role}"
        elif len({attributes[m] for m in members}) > 1:
            odd = next(m for m in members if attributes[m] != attributes[members[0]])
            problem = (
                f"its member {_quote(odd)} has other attributes than "
                f"{_quote(members[0])}"
            )
        elif role != "hidden" and not _contiguous(members, structure, role):
            problem = f"its members are not consecutive, in order, among the {role}s"
        if problem:
            raise ValueError(
                f"group '{group}' cannot be written in .cnx: {problem}; a group is "
                "declared whole, with one role and one set of attributes"
            )
        groups[group] = members
    return groups


def _contiguous(members: tuple[Name, ...], structure: Structure, role: str) -> bool:
    order = structure.inputs if role == "input" else structure.outputs
    start = order.index(members[0])
    return tuple(order[start : start + len(members)]) == members


def _declarations(
    structure: Structure,
    attributes: Mapping[Name, tuple[str, float]],
    groups: Mapping[str, tuple[Name, ...]],
    defaults: tuple[str, float],
) -> list[_Statement]:
    """Declaration statements: inputs, hidden, outputs."""
    first_of = {members[0]: g for g, members in groups.items()}
    in_group = {m for members in groups.values() for m in members}

    def items(names: Iterable[Name]) -> list[_Item]:
        """One item per neuron, a written group standing for all its members."""
        found = []
        for n in names:
            if n in first_of:
                group = first_of[n]
                members = groups[group]
                found.append((f"{group}[{len(members)}]", members, attributes[n]))
            elif n not in in_group:
                found.append((str(n), (n,), attributes[n]))
        return found

    statements = _ordered_declarations("input", items(structure.inputs))
    by_attributes: dict[tuple[str, float], list[_Item]] = defaultdict(list)
    for item in items(sorted(structure.hidden, key=name_key)):
        by_attributes[item[2]].append(item)
    # Default attributes first, then each other set in order.
    for attrs in sorted(by_attributes, key=lambda a: (a != defaults, a)):
        statements += _wrapped("hidden", by_attributes[attrs], _suffix(attrs, defaults))
    statements += _ordered_declarations("output", items(structure.outputs))
    return statements


_Item = tuple[str, tuple[Name, ...], Any]  # text, neurons it means, attributes


def _ordered_declarations(role: str, items: list[_Item]) -> list[_Statement]:
    """Inputs or outputs in their order; runs of equal attributes share statements."""
    statements: list[_Statement] = []
    run: list[_Item] = []
    for i, item in enumerate(items):
        run.append(item)
        if i + 1 == len(items) or items[i + 1][2] != item[2]:
            statements += _wrapped(role, run, _suffix(item[2], ("identity", 0.0)))
            run = []
    return statements


def _suffix(attributes: tuple[str, float], defaults: tuple[str, float]) -> str:
    activation, dropout = attributes
    parts = []
    if activation != defaults[0]:
        parts.append(f"activation={activation}")
    if dropout != defaults[1]:
        parts.append(f"dropout={dropout!r}")
    return "".join(f" {p}" for p in parts)


def _wrapped(
    head: str,
    items: list[_Item],
    suffix: str = "",
    sources: tuple[Name, ...] = (),
) -> list[_Statement]:
    """`head a, b, c suffix` statements, each kept within `WIDTH` columns if it can."""
    statements: list[_Statement] = []
    current: list[_Item] = []
    width = len(head) + len(suffix) + 1
    for item in items:
        if current and width + 2 + len(item[0]) > WIDTH:
            statements.append(_statement(head, current, suffix, sources))
            current = []
            width = len(head) + len(suffix) + 1
        width += len(item[0]) + (2 if current else 0)
        current.append(item)
    if current:
        statements.append(_statement(head, current, suffix, sources))
    return statements


def _statement(
    head: str, items: list[_Item], suffix: str, sources: tuple[Name, ...]
) -> _Statement:
    return _Statement(
        head,
        tuple(i[0] for i in items),
        tuple(i[1] for i in items),
        suffix,
        sources,
    )


def _edge_statements(
    edges: Iterable[tuple[Name, Name]],
    groups: Mapping[str, tuple[Name, ...]],
    inputs: Sequence[Name],
) -> list[_Statement]:
    """Edge statements, one per source (a neuron or a whole group).

    Inputs' statements come first, in input order, then the rest in name order, so a
    layered file reads from inputs to outputs (`x -> h1` before `h1 -> h2`). A group
    source stands for all its members when each of them feeds the target; a group
    target, when the source feeds every member of it.
    """
    input_index = {name: i for i, name in enumerate(inputs)}
    targets_of: dict[Name, set[Name]] = defaultdict(set)
    for source, target in edges:
        targets_of[source].add(target)
    rows: dict[Name, tuple[tuple[Name, ...], list[_Item]]] = {}

    for group, members in sorted(groups.items(), key=lambda g: name_key(g[0])):
        shared = set.intersection(*(targets_of.get(m, set()) for m in members))
        if not shared:
            continue
        for m in members:
            targets_of[m] -= shared
        rows[group] = (members, _collapsed(shared, groups))
    for source, targets in targets_of.items():
        if targets:
            rows[source] = ((source,), _collapsed(targets, groups))

    statements = []

    def order(source: Name) -> tuple:
        first = rows[source][0][0]
        if first in input_index:
            return (0, input_index[first])
        return (1, name_key(source))

    for source in sorted(rows, key=order):
        members, items = rows[source]
        statements += _wrapped(f"{source} ->", items, "", members)
    return statements


def _collapsed(targets: set[Name], groups: Mapping[str, tuple[Name, ...]]) -> list:
    """Target items in name order, whole groups written by their group name."""
    remaining: dict[Name, tuple[Name, ...]] = {t: (t,) for t in targets}
    for group, members in groups.items():
        if all(m in remaining for m in members):
            for m in members:
                del remaining[m]
            remaining[group] = members
    ordered = sorted(remaining, key=name_key)
    return [(str(t), remaining[t], None) for t in ordered]

"""Compares two network structures and reports the change in neurons and edges; also
the `connexc diff OLD NEW` command.

Only structure counts: statement order, formatting, comments and how a default was
spelled make no difference, since both sides are resolved to a `Structure` first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from ._compile import analyse, read_source
from ._errors import CompileError
from ._ir import Name
from ._source import Source
from ._write import (
    Structure,
    member,
    name_key,
    structure_of_model,
    structure_of_network,
)


@dataclass(frozen=True)
class Change:
    """One attribute that differs: `what` of `neuron` went from `old` to `new`."""

    what: str
    neuron: Name | None
    old: Any
    new: Any


class NeuronEntry(NamedTuple):
    """An added or removed neuron; `activation` is None unless it is hidden."""

    name: Name
    role: str
    activation: str | None
    dropout: float

    def __str__(self) -> str:
        text = f"{self.role} {self.name}"
        if self.activation is not None:
            text += f" activation={self.activation}"
        if self.dropout:
            text += f" dropout={self.dropout!r}"
        return text


@dataclass(frozen=True)
class StructureDiff:
    """The structural difference between two networks; empty when they match.

    Neurons are `NeuronEntry` tuples, edges `(source, target)` pairs, both sorted
    by name. `changes` holds changed roles, activations, dropout, the output
    activation, the network name and the order of inputs or outputs.
    """

    added_neurons: tuple[NeuronEntry, ...]
    removed_neurons: tuple[NeuronEntry, ...]
    added_edges: tuple[tuple[Name, Name], ...]
    removed_edges: tuple[tuple[Name, Name], ...]
    changes: tuple[Change, ...]
    # Complete groups of each side, {group: members}, so that text output can say
    # `+ edges h1 -> h2` for a whole block of edges instead of one line per edge.
    old_groups: dict[str, tuple[Name, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    new_groups: dict[str, tuple[Name, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __bool__(self) -> bool:
        return bool(
            self.added_neurons
            or self.removed_neurons
            or self.added_edges
            or self.removed_edges
            or self.changes
        )

    def __str__(self) -> str:
        if not self:
            return "no structural change"
        lines = _neuron_lines("+", self.added_neurons, self.new_groups)
        lines += _neuron_lines("-", self.removed_neurons, self.old_groups)
        lines += _edge_lines("+", self.added_edges, self.new_groups)
        lines += _edge_lines("-", self.removed_edges, self.old_groups)
        for change in self.changes:
            of = "" if change.neuron is None else f" of {change.neuron}"
            lines.append(
                f"~ {change.what}{of}: {_shown(change.old)} -> {_shown(change.new)}"
            )
        lines.append(self.summary())
        return "\n".join(lines)

    def summary(self) -> str:
        """One line of counts, such as `2 neurons added, 1 edge removed`."""
        parts = [
            _count(len(self.added_neurons), "neuron", "added"),
            _count(len(self.removed_neurons), "neuron", "removed"),
            _count(len(self.added_edges), "edge", "added"),
            _count(len(self.removed_edges), "edge", "removed"),
            _count(len(self.changes), "attribute", "changed"),
        ]
        return ", ".join(p for p in parts if p) or "no structural change"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; neuron names stay ints or strings as in `.cnx`."""
        return {
            "changed": bool(self),
            "neurons": {
                "added": [n._asdict() for n in self.added_neurons],
                "removed": [n._asdict() for n in self.removed_neurons],
            },
            "edges": {
                "added": [list(e) for e in self.added_edges],
                "removed": [list(e) for e in self.removed_edges],
            },
            "changes": [
                {"what": c.what, "neuron": c.neuron, "old": c.old, "new": c.new}
                for c in self.changes
            ],
        }


def _neuron_lines(
    sign: str, entries: Sequence[NeuronEntry], groups: dict[str, tuple[Name, ...]]
) -> list[str]:
    """One line per neuron, or per group when a whole group with one set of
    attributes is added or removed."""
    by_name = {entry.name: entry for entry in entries}
    lines: list[tuple[tuple, str]] = []
    for group, members in groups.items():
        found = [by_name.get(m) for m in members]
        if None in found or len({e[1:] for e in found}) != 1:  # type: ignore[index]
            continue
        first = found[0]
        assert first is not None
        entry = first._replace(name=f"{group}[{len(members)}]")
        lines.append((name_key(group), f"{sign} {entry}"))
        for name in members:
            del by_name[name]
    lines += [(name_key(e.name), f"{sign} {e}") for e in by_name.values()]
    return [text for _, text in sorted(lines)]


def _edge_lines(
    sign: str,
    edges: Sequence[tuple[Name, Name]],
    groups: dict[str, tuple[Name, ...]],
) -> list[str]:
    """One line per edge, or per block of edges that joins every member of a group
    to every member of another group (or to one neuron, or the other way round)."""
    group_of = {m: g for g, members in groups.items() for m in members}
    size = {g: len(members) for g, members in groups.items()}
    blocks: dict[tuple[Name, Name], list[tuple[Name, Name]]] = {}
    for source, target in edges:
        ends = (group_of.get(source, source), group_of.get(target, target))
        blocks.setdefault(ends, []).append((source, target))
    lines: list[tuple[tuple, str]] = []
    for (source, target), block in blocks.items():
        whole = size.get(source, 1) * size.get(target, 1)  # type: ignore[call-overload]
        if len(block) == whole > 1:
            text = f"{sign} edges {source} -> {target} ({whole} edges)"
            lines.append(((name_key(source), name_key(target)), text))
            continue
        for s, t in block:
            lines.append(((name_key(s), name_key(t)), f"{sign} edge {s} -> {t}"))
    return [text for _, text in sorted(lines)]


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ")"
    return str(value)


def _count(n: int, noun: str, verb: str) -> str:
    if not n:
        return ""
    return f"{n} {noun}{'' if n == 1 else 's'} {verb}"


def diff_structures(old: Structure, new: Structure) -> StructureDiff:
    """The structural change from `old` to `new`."""
    old_roles, new_roles = _roles(old), _roles(new)
    added = sorted(new_roles.keys() - old_roles.keys(), key=name_key)
    removed = sorted(old_roles.keys() - new_roles.keys(), key=name_key)
    both = sorted(old_roles.keys() & new_roles.keys(), key=name_key)
    old_edges, new_edges = set(old.edges), set(new.edges)

    def edge_key(edge: tuple[Name, Name]) -> tuple:
        return (name_key(edge[0]), name_key(edge[1]))

    changes = []
    if old.name != new.name:
        changes.append(Change("network name", None, old.name, new.name))
    if old.output_activation != new.output_activation:
        changes.append(
            Change(
                "output activation", None, old.output_activation, new.output_activation
            )
        )
    for role, before, after in (
        ("inputs", old.inputs, new.inputs),
        ("outputs", old.outputs, new.outputs),
    ):
        if _common_order(before, after) != _common_order(after, before):
            changes.append(Change(f"order of {role}", None, before, after))

    old_activation, new_activation = _activations(old), _activations(new)
    for neuron in both:
        if old_roles[neuron] != new_roles[neuron]:
            changes.append(Change("role", neuron, old_roles[neuron], new_roles[neuron]))
        before, after = old_activation.get(neuron), new_activation.get(neuron)
        if before and after and before != after:
            changes.append(Change("activation", neuron, before, after))
        before_p = float(old.dropout.get(neuron, 0.0))
        after_p = float(new.dropout.get(neuron, 0.0))
        if before_p != after_p:
            changes.append(Change("dropout", neuron, before_p, after_p))

    return StructureDiff(
        added_neurons=tuple(_entry(new, n, new_roles, new_activation) for n in added),
        removed_neurons=tuple(
            _entry(old, n, old_roles, old_activation) for n in removed
        ),
        added_edges=tuple(sorted(new_edges - old_edges, key=edge_key)),
        removed_edges=tuple(sorted(old_edges - new_edges, key=edge_key)),
        changes=tuple(changes),
        old_groups=_complete_groups(old),
        new_groups=_complete_groups(new),
    )


def _complete_groups(structure: Structure) -> dict[str, tuple[Name, ...]]:
    """`{group: members}` for the groups all of whose members are present."""
    present = set(structure.neurons())
    groups = {}
    for group, (size, _) in structure.groups.items():
        members = tuple(member(group, i) for i in range(size))
        if all(m in present for m in members):
            groups[group] = members
    return groups


def _entry(
    structure: Structure,
    neuron: Name,
    roles: dict[Name, str],
    activations: dict[Name, str],
) -> NeuronEntry:
    dropout = float(structure.dropout.get(neuron, 0.0))
    return NeuronEntry(neuron, roles[neuron], activations.get(neuron), dropout)


def _roles(structure: Structure) -> dict[Name, str]:
    roles = dict.fromkeys(structure.hidden, "hidden")
    roles.update(dict.fromkeys(structure.inputs, "input"))
    roles.update(dict.fromkeys(structure.outputs, "output"))
    return roles


def _activations(structure: Structure) -> dict[Name, str]:
    default = structure.default_activation()
    return {n: structure.activations.get(n, default) for n in structure.hidden}


def _common_order(names: Sequence[Name], other: Sequence[Name]) -> list[Name]:
    """`names` without those missing from `other`: the order both have in common.

    Adding or removing an input is reported once, as a neuron; only a real change
    in the order of the remaining ones counts as a reorder.
    """
    present = set(other)
    return [n for n in names if n in present]


def diff(old: Any, new: Any) -> StructureDiff:
    """The structural change between two networks.

    Args:
        old: `.cnx` text, a `pathlib.Path` to a `.cnx` file, or a generated model
            class or instance.
        new: likewise.

    Returns:
        A `StructureDiff`: false when nothing changed, printable, and
        `to_json()`-able.

    Raises:
        CompileError: a text or file does not compile.
    """
    return diff_structures(_structure(old, "<old>"), _structure(new, "<new>"))


def _structure(item: Any, filename: str) -> Structure:
    if isinstance(item, Structure):
        return item
    if isinstance(item, Path):
        network, _, _ = analyse(read_source(item))
        return structure_of_network(network)
    if isinstance(item, str):
        network, _, _ = analyse(Source(item, filename))
        return structure_of_network(network)
    if hasattr(item, "EDGES") and hasattr(item, "NEURONS"):
        return structure_of_model(item)
    raise TypeError(
        "expected .cnx text, a Path to a .cnx file, or a connexc-generated model, "
        f"got {type(item).__name__}"
    )


def main(argv: Sequence[str]) -> int:
    """`connexc diff OLD NEW [--json]`: exit 0 if same, 1 if changed, 2 on error."""
    parser = argparse.ArgumentParser(
        prog="connexc diff",
        description="Show the structural change between two .cnx files: neurons, "
        "edges, activations, dropout, input and output order. Exit status: 0 when "
        "the structures match, 1 when they differ, 2 on error.",
    )
    parser.add_argument("old", help="the earlier .cnx file")
    parser.add_argument("new", help="the later .cnx file")
    parser.add_argument(
        "--json", action="store_true", help="print the change as one JSON object"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show Python tracebacks of failures"
    )
    args = parser.parse_args(list(argv))

    try:
        found = diff(Path(args.old), Path(args.new))
    except CompileError as err:
        if args.debug:
            raise
        print(err, file=sys.stderr)
        return 2
    except Exception as err:
        if args.debug:
            raise
        print(
            f"connexc diff: internal error: {type(err).__name__}: {err}\n"
            "  hint: this is a bug in connexc; rerun with --debug for a traceback "
            "and report it",
            file=sys.stderr,
        )
        return 2

    if args.json:
        report = {"old": args.old, "new": args.new, **found.to_json()}
        print(json.dumps(report, indent=2))
    else:
        print(f"--- {args.old}\n+++ {args.new}\n{found}")
    return 1 if found else 0

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ._compile import analyse, read_source
from ._errors import CompileError
from ._ir import Name
from ._source import Source
from ._write import Structure, name_key, structure_of_model, structure_of_network


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
        lines = [f"+ {neuron}" for neuron in self.added_neurons]
        lines += [f"- {neuron}" for neuron in self.removed_neurons]
        lines += [f"+ edge {s} -> {t}" for s, t in self.added_edges]
        lines += [f"- edge {s} -> {t}" for s, t in self.removed_edges]
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
    )


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

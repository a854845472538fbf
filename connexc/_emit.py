"""Renders a checked, levelled `Network` as the source of one standalone Python module.

Decisions are made here: `build_view` turns the network into a small view model of
strings and ints, in a fixed order; the Jinja template only loops and substitutes.
Names from the `.cnx` reach the output only as quoted string literals, integers or
comments built from validated names.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

import jinja2

from ._ir import Name, Network
from ._resources import resource_dir

WIDTH = 88

# How each activation is written in the generated code, applied to `z`.
ACTIVATION_CODE = {
    "identity": "z",
    "relu": "jax.nn.relu(z)",
    "relu6": "jax.nn.relu6(z)",
    "leaky_relu": "jax.nn.leaky_relu(z)",
    "elu": "jax.nn.elu(z)",
    "selu": "jax.nn.selu(z)",
    "celu": "jax.nn.celu(z)",
    "gelu": "jax.nn.gelu(z)",
    "silu": "jax.nn.silu(z)",
    "softplus": "jax.nn.softplus(z)",
    "softsign": "jax.nn.soft_sign(z)",
    "sigmoid": "jax.nn.sigmoid(z)",
    "log_sigmoid": "jax.nn.log_sigmoid(z)",
    "tanh": "jnp.tanh(z)",
    "hard_tanh": "jax.nn.hard_tanh(z)",
}
OUTPUT_CODE = {
    "identity": "y",
    "softmax": "jax.nn.softmax(y)",
    "log_softmax": "jax.nn.log_softmax(y)",
    "sigmoid": "jax.nn.sigmoid(y)",
    "tanh": "jnp.tanh(y)",
}


@dataclass(frozen=True, slots=True)
class TableRow:
    """One line of a constant table: code, and a comment naming what it is."""

    code: str
    comment: str


@dataclass(frozen=True, slots=True)
class LevelView:
    index: int
    title: str  # "level 2: 4, 5 (seed.cnx:8-9)"
    sources: list[str]  # lines of the `sources=` list
    fan_in: list[TableRow]
    activations: list[tuple[str, str]]  # (activation, its columns), sorted
    activation_lines: list[str]  # the forward pass lines that compute `a`
    dropout: list[str] | None  # lines of the `dropout=` list, or None
    init_lines: list[str]  # the `__init__` lines that initialise the level


@dataclass(frozen=True, slots=True)
class ModuleView:
    header: str
    docstring: list[str]
    class_name: str
    source_file: str
    version: str
    n_inputs: int
    n_outputs: int
    neurons: list[str]  # lines of the NEURONS tuple
    outputs: list[str]  # lines of the output positions list
    input_dropout: list[str] | None
    levels: list[LevelView]
    output_code: str
    output_activation: str
    group_lines: list[str]
    class_docstring: str
    has_dropout: bool
    level_tuple: list[str]  # the lines defining `_LEVELS`


def literal(name: Name) -> str:
    """A neuron name as a Python literal: an int, or a double-quoted string."""
    if isinstance(name, int):
        return str(name)
    text = repr(name)
    if text.startswith("'") and '"' not in name:
        text = '"' + text[1:-1] + '"'
    return text


def safe_comment(text: str) -> str:
    """Text for a comment or docstring: printable ASCII without quotes or newlines."""
    return "".join(
        c if c.isascii() and c.isprintable() and c not in "\\\"'" else "?" for c in text
    )


def int_items(values: list[int]) -> list[str]:
    """Items of a list of ints, with runs of four or more as `*range(a, b)`."""
    items: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 3:
            items.append(f"*range({values[i]}, {values[j] + 1})")
        else:
            items.extend(str(v) for v in values[i : j + 1])
        i = j + 1
    return items


def wrap(items: list[str], indent: int, width: int = WIDTH) -> list[str]:
    """Pack comma-separated items into lines of at most `width` columns."""
    lines: list[str] = []
    current = ""
    for item in items:
        piece = item + ","
        if current and indent + len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    if current:
        lines.append(current)
    return lines


def name_items(names: list[Name], groups: dict[Name, tuple[str, int]]) -> list[str]:
    """Literals for a run of names; consecutive group members become `*_members()`."""
    items: list[str] = []
    i = 0
    while i < len(names):
        member = groups.get(names[i])
        j = i
        if member is not None:
            group, start = member
            while j + 1 < len(names) and groups.get(names[j + 1]) == (
                group,
                start + j + 1 - i,
            ):
                j += 1
        if member is not None and j - i >= 3:
            items.append(
                f'*_members("{member[0]}", {member[1]}, {member[1] + j - i + 1})'
            )
        else:
            items.extend(literal(n) for n in names[i : j + 1])
        i = j + 1
    return items


def shorten(names: list[Name], limit: int = 6) -> str:
    """`a, b, c` or `a, b, ... (40 in all)` for comments."""
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return safe_comment(shown)


def line_ranges(lines: list[int]) -> str:
    """`3, 5-7` for the sorted, distinct lines."""
    parts = []
    ordered = sorted(set(lines))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def build_view(
    network: Network, levels: tuple[tuple[Name, ...], ...], version: str
) -> ModuleView:
    """Everything the template needs, decided and ordered here."""
    source_file = safe_comment(PurePath(network.source.filename).name)
    order = [name for level in levels for name in level]
    position = {name: i for i, name in enumerate(order)}
    fan_in: dict[Name, list[int]] = {name: [] for name in order}
    for edge in network.edges:
        fan_in[edge.target].append(position[edge.source])
    level_of = {name: k for k, level in enumerate(levels) for name in level}
    fed_lines: list[list[int]] = [[] for _ in levels]
    for edge in network.edges:
        fed_lines[level_of[edge.target]].append(edge.span.line)
    members = {
        member: (group.name, i)
        for group in network.groups
        for i, member in enumerate(group.members)
    }

    level_views = [
        _level_view(network, k, list(level), order, fan_in, source_file, fed_lines[k])
        for k, level in enumerate(levels)
        if k > 0
    ]
    inputs = [network.by_name[name] for name in levels[0]]
    input_dropout = None
    if any(n.dropout for n in inputs):
        input_dropout = wrap([repr(n.dropout) for n in inputs], 4)

    counts = {
        role: sum(1 for n in network.neurons if n.role == role)
        for role in ("input", "hidden", "output")
    }
    docstring = [
        f"{network.name}, a network of {len(order)} neurons compiled by connexc from "
        f"{source_file}.",
        "",
        f"- Inputs ({len(network.inputs)}): {shorten(list(network.inputs))}",
        f"- Outputs ({len(network.outputs)}): {shorten(list(network.outputs))}",
        f"- Neurons: {len(order)} ({counts['input']} input, {counts['hidden']} "
        f"hidden, {counts['output']} output)",
        f"- Edges: {len(network.edges)}",
        f"- Levels: {len(levels)}, level 0 being the inputs",
        f"- Output activation: {network.output_activation}",
    ]
    group_lines = [
        f'"{group.name}": ({len(group.members)}, "{group.role}"),'
        for group in network.groups
    ]
    return ModuleView(
        header=f"# Generated by connexc {version} from {source_file}: "
        "edit that file, not this one.",
        docstring=docstring,
        class_name=network.name,
        source_file=source_file,
        version=version,
        n_inputs=len(network.inputs),
        n_outputs=len(network.outputs),
        neurons=wrap(name_items(order, members), 4),
        outputs=wrap(int_items([position[o] for o in network.outputs]), 4),
        input_dropout=input_dropout,
        levels=level_views,
        output_code=OUTPUT_CODE[network.output_activation],
        output_activation=network.output_activation,
        group_lines=group_lines,
        has_dropout=any(n.dropout for n in network.neurons),
        class_docstring=f"The {network.name} network: one masked matmul per level.",
        level_tuple=_tuple_lines("_LEVELS", [f"_L{v.index}" for v in level_views]),
    )


def _tuple_lines(target: str, items: list[str]) -> list[str]:
    """`target = (a, b)` on one line if it fits, else one item per line."""
    one_line = f"{target} = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    if len(one_line) <= WIDTH:
        return [one_line]
    return [f"{target} = (", *(f"    {item}," for item in items), ")"]


def _level_view(
    network: Network,
    index: int,
    names: list[Name],
    order: list[Name],
    fan_in: dict[Name, list[int]],
    source_file: str,
    edge_lines: list[int],
) -> LevelView:
    sources = sorted({p for name in names for p in fan_in[name]})
    row_of = {p: i for i, p in enumerate(sources)}
    rows = []
    for name in names:
        positions = sorted(fan_in[name])
        code = "[" + ", ".join(int_items([row_of[p] for p in positions])) + "]"
        fed_by = shorten([order[p] for p in positions], 4)
        rows.append(TableRow(code, f"{safe_comment(str(name))} <- {fed_by}"))

    neurons = [network.by_name[name] for name in names]
    by_activation: dict[str, list[int]] = {}
    for column, neuron in enumerate(neurons):
        by_activation.setdefault(neuron.activation, []).append(column)
    activations = [
        (activation, ", ".join(int_items(columns)))
        for activation, columns in sorted(by_activation.items())
    ]
    if len(by_activation) == 1:
        (only,) = by_activation
        activation_lines = [f"a = {ACTIVATION_CODE[only]}"]
    else:
        activation_lines = ["a = z"]
        for activation in sorted(by_activation):
            if activation != "identity":
                activation_lines += [
                    f'where = _L{index}.activations["{activation}"]',
                    f"a = jnp.where(where, {ACTIVATION_CODE[activation]}, a)",
                ]

    dropout = None
    if any(n.dropout for n in neurons):
        dropout = wrap([repr(n.dropout) for n in neurons], 8)
    lines = line_ranges([n.span.line for n in neurons] + edge_lines)
    init = f"self.w{index}, self.b{index} = _init_level(keys[{index - 1}], _L{index})"
    if len(init) + 8 > WIDTH:
        init_lines = [
            f"self.w{index}, self.b{index} = _init_level(",
            f"    keys[{index - 1}], _L{index}",
            ")",
        ]
    else:
        init_lines = [init]
    title = f"level {index}: {shorten(names)} ({source_file}:{lines})"
    return LevelView(
        index=index,
        title=title,
        sources=wrap(int_items(sources), 8),
        fan_in=rows,
        activations=activations,
        activation_lines=activation_lines,
        dropout=dropout,
        init_lines=init_lines,
    )


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_module(
    network: Network, levels: tuple[tuple[Name, ...], ...], version: str
) -> str:
    """The generated module's source; checked with `ast.parse` before it is returned."""
    view = build_view(network, levels, version)
    text = _environment().get_template("module.py.j2").render(view=view)
    ast.parse(text)
    return text

"""Draws a network as Graphviz DOT text, and renders DOT to SVG or PNG through the
Graphviz `dot` program when it is installed.

The picture reads left to right: inputs first in input order (top to bottom), then
one rank per level, outputs last in output order; hidden groups are boxed as
clusters, and every group is drawn as one node when `groups="collapse"`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from typing import Any, Literal

from ._inspect import NetworkView, view_of
from ._ir import Name
from ._version import VERSION

GroupMode = Literal["auto", "expand", "collapse"]

# Above this many neurons, `groups="auto"` draws each group as a single node.
AUTO_COLLAPSE_NEURONS = 200

INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: 'apt-get install graphviz', macOS: 'brew "
    "install graphviz', conda: 'conda install graphviz', others: "
    "https://graphviz.org/download/), or write DOT with '-o net.dot' and render it "
    "elsewhere"
)

_STYLES = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#dbeafe"',
    "hidden": 'shape=circle, style=filled, fillcolor="#f3f4f6"',
    "output": 'shape=doublecircle, style=filled, fillcolor="#fde68a"',
}

# A collapsed group is a box, whatever its role; outputs get a double border.
_GROUP_STYLES = {
    "input": _STYLES["input"],
    "hidden": 'shape=box, style="rounded,filled", fillcolor="#f3f4f6"',
    "output": 'shape=box, peripheries=2, style="rounded,filled", fillcolor="#fde68a"',
}


def quote_id(name: Any) -> str:
    """A DOT identifier in double quotes, whatever characters `name` holds."""
    text = str(name).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def to_dot(network: Any, *, groups: GroupMode = "auto") -> str:
    """Graphviz DOT text that draws a network.

    Args:
        network: `.cnx` text, a `pathlib.Path` to a `.cnx` file, or a generated
            model class or instance.
        groups: "expand" draws every neuron and boxes each hidden group as a
            cluster (input and output groups stay unboxed, in vector order);
            "collapse" draws each group as one node, edges between groups labelled
            with their count ("dense" when every member feeds every member);
            "auto" collapses when the network has more than 200 neurons.

    Returns:
        The DOT text, one statement per line, in a deterministic order.

    Raises:
        CompileError: `network` is `.cnx` text or a file that does not compile.
    """
    if groups not in ("auto", "expand", "collapse"):
        raise ValueError(
            f"groups must be 'auto', 'expand' or 'collapse', not {groups!r}"
        )
    net = view_of(network)
    collapse = groups == "collapse" or (
        groups == "auto"
        and bool(net.groups)
        and len(net.neurons) > AUTO_COLLAPSE_NEURONS
    )
    view = _collapsed(net) if collapse else _expanded(net)
    return _render(net, view)


class _View:
    """What to draw: nodes by rank, their styles, clusters and edges."""

    def __init__(self) -> None:
        self.ranks: list[list[str]] = []  # node ids; [0] inputs, [-1] outputs
        self.rank_names: list[str] = []  # a comment for each rank
        self.boxed: set[str] = set()  # nodes that stand for a whole group
        self.labels: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.tooltips: dict[str, str] = {}
        self.clusters: dict[str, list[str]] = {}  # group -> member node ids
        self.edges: list[tuple[str, str, str]] = []  # (source, target, label)


def _expanded(net: NetworkView) -> _View:
    view = _View()
    inputs = list(net.inputs)
    outputs = list(net.outputs)
    output_set = set(outputs)
    middle = [[n for n in level if n not in output_set] for level in net.levels[1:]]
    view.ranks = [_ids(inputs)]
    view.rank_names = ["inputs"]
    for k, level in enumerate(middle, start=1):
        if level:
            view.ranks.append(_ids(level))
            view.rank_names.append(f"level {k}")
    view.ranks.append(_ids(outputs))
    view.rank_names.append("outputs")
    for name in net.neurons:
        node = str(name)
        role = net.role(name)
        view.labels[node] = node
        view.roles[node] = role
        view.tooltips[node] = _tooltip(net, name, role)
        # Only hidden groups become clusters: Graphviz reorders the nodes of a
        # cluster freely, which would scramble the input and output vector order.
        group = net.group_of(name)
        if group is not None and role == "hidden":
            view.clusters.setdefault(group, []).append(node)
    view.edges = [(str(s), str(t), "") for s, t in net.edges]
    return view


def _collapsed(net: NetworkView) -> _View:
    """One node per group and per ungrouped neuron; parallel edges merged."""
    view = _View()

    def node_of(name: Name) -> str:
        return net.group_of(name) or str(name)

    level_of = {name: k for k, level in enumerate(net.levels) for name in level}
    first_level: dict[str, int] = {}
    for name in net.neurons:
        node = node_of(name)
        if node in view.roles:
            first_level[node] = min(first_level[node], level_of[name])
            continue
        first_level[node] = level_of[name]
        group = net.group_of(name)
        role = net.role(name)
        view.roles[node] = role
        if group is None:
            view.labels[node] = node
            view.tooltips[node] = _tooltip(net, name, role)
        else:
            size, _ = net.groups[group]
            view.boxed.add(node)
            view.labels[node] = f"{group}[{size}]"
            view.tooltips[node] = _tooltip(net, name, role, f"{size} neurons, ")

    inputs = list(dict.fromkeys(node_of(n) for n in net.inputs))
    outputs = list(dict.fromkeys(node_of(n) for n in net.outputs))
    middle: list[list[str]] = [[] for _ in net.levels]
    for node, level in first_level.items():
        if view.roles[node] == "hidden":
            middle[level].append(node)
    view.ranks = [inputs]
    view.rank_names = ["inputs"]
    for k, rank in enumerate(middle):
        if rank:
            view.ranks.append(rank)
            view.rank_names.append(f"level {k}")
    view.ranks.append(outputs)
    view.rank_names.append("outputs")

    counts: dict[tuple[str, str], int] = {}
    for source, target in net.edges:
        pair = (node_of(source), node_of(target))
        counts[pair] = counts.get(pair, 0) + 1
    for (source, target), count in counts.items():
        full = _size(net, source) * _size(net, target)
        label = "dense" if count == full and full > 1 else str(count)
        view.edges.append((source, target, "" if count == 1 else label))
    return view


def _size(net: NetworkView, node: str) -> int:
    return net.groups[node][0] if node in net.groups else 1


def _ids(names: Iterable[Name]) -> list[str]:
    return [str(name) for name in names]


def _tooltip(net: NetworkView, name: Name, role: str, prefix: str = "") -> str:
    if role == "input":
        return f"{prefix}input"
    if role == "output":
        return f"{prefix}output"
    dropout = net.dropout.get(name, 0.0)
    text = f"{prefix}{net.activations[name]}"
    return f"{text}, dropout {dropout!r}" if dropout else text


def _render(net: NetworkView, view: _View) -> str:
    """DOT text for a view; every list is already in its final order."""
    title = f"{net.name}: {len(net.neurons)} neurons, "
    title += f"{len(net.edges)} edges, {len(net.levels)} levels"
    lines = [
        f"// {title}; drawn by connexc {VERSION}.",
        f"digraph {quote_id(net.name)} {{",
        "  graph [rankdir=LR, newrank=true, nodesep=0.3, ranksep=0.7, "
        'fontname="Helvetica", fontsize=12, labelloc=t];',
        '  node [fontname="Helvetica", fontsize=10, width=0.45, height=0.45, '
        "margin=0.04];",
        '  edge [color="#6b7280", arrowsize=0.6, fontname="Helvetica", fontsize=9];',
        f"  label={quote_id(title)};",
        "",
    ]

    clustered = {node for members in view.clusters.values() for node in members}
    for group, members in view.clusters.items():
        size, role = net.groups[group]
        lines.append(f"  subgraph {quote_id('cluster_' + group)} {{")
        lines.append(
            f"    label={quote_id(f'{group}[{size}]')}; "
            'style="rounded,dashed"; color="#9ca3af";'
        )
        lines += [f"    {_node(view, node)}" for node in members]
        lines.append("  }")
    lines += [
        f"  {_node(view, node)}"
        for rank in view.ranks
        for node in rank
        if node not in clustered
    ]

    lines.append("")
    last = len(view.ranks) - 1
    for k, rank in enumerate(view.ranks):
        if not rank:
            continue
        kind = "source" if k == 0 else "sink" if k == last else "same"
        nodes = "; ".join(quote_id(node) for node in rank)
        lines.append(f"  {{rank={kind}; {nodes};}}  // {view.rank_names[k]}")
    for k in (0, last):
        # Invisible edges inside a rank keep the inputs and outputs in vector order.
        rank = view.ranks[k]
        if len(rank) > 1:
            chain = " -> ".join(quote_id(node) for node in rank)
            lines.append(f"  {chain} [style=invis];")

    lines.append("")
    for source, target, label in view.edges:
        attributes = f" [label={quote_id(label)}]" if label else ""
        lines.append(f"  {quote_id(source)} -> {quote_id(target)}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(view: _View, node: str) -> str:
    styles = _GROUP_STYLES if node in view.boxed else _STYLES
    style = styles[view.roles[node]]
    label = quote_id(view.labels[node])
    tooltip = quote_id(view.tooltips[node])
    return f"{quote_id(node)} [label={label}, {style}, tooltip={tooltip}];"


def find_dot() -> str | None:
    """The path of the Graphviz `dot` program, or None when it is not installed."""
    return shutil.which("dot")


class RenderError(Exception):
    """Graphviz is missing or failed; the message says why, `hint` what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def render_dot(dot: str, image_format: str) -> bytes:
    """Render DOT text to an image with Graphviz.

    Args:
        dot: DOT text, as made by `to_dot`.
        image_format: "svg", "png", or another output format of `dot -T`.

    Returns:
        The image file's bytes.

    Raises:
        RenderError: Graphviz is not installed, or `dot` failed.
    """
    program = find_dot()
    if program is None:
        raise RenderError("the Graphviz 'dot' program is not installed", INSTALL_HINT)
    try:
        result = subprocess.run(
            [program, f"-T{image_format}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise RenderError(
            f"running Graphviz failed: {err}",
            "check the Graphviz installation with 'dot -V'",
        ) from err
    if result.returncode != 0:
        reason = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RenderError(
            f"Graphviz 'dot' exited with status {result.returncode}"
            + (f": {reason[-1]}" if reason else ""),
            "for very large networks try '--groups collapse'",
        )
    return result.stdout

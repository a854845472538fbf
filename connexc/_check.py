"""Checks a resolved `Network` as a graph: roles of edges, reachability, cycles.

Every pass is linear in neurons plus edges; cycles are found with Tarjan's
strongly connected components, never by enumerating cycles.
"""

from __future__ import annotations

from collections import deque

from ._errors import Diagnostic, diagnostic, in_source_order
from ._ir import Edge, Name, Network, quote
from ._source import Span


def check_graph(network: Network) -> list[Diagnostic]:
    """All graph errors and warnings of a network, in source order."""
    found: list[Diagnostic] = []
    found += _check_io(network)
    found += _check_edge_roles(network)
    found += _check_fed(network)
    found += _check_cycles(network)
    found += _check_reaches_output(network)
    return in_source_order(_first_per_place(found))


def _first_per_place(found: list[Diagnostic]) -> list[Diagnostic]:
    """Keep one diagnostic per span and message kind.

    An edge statement between two groups stands for many edges; one report at its
    position says all there is to say.
    """
    seen: set[tuple[Span, str, str]] = set()
    kept = []
    for d in found:
        key = (d.span, d.severity, d.message.split("'", 1)[0])
        if key not in seen:
            seen.add(key)
            kept.append(d)
    return kept


def _check_io(network: Network) -> list[Diagnostic]:
    source = network.source
    found = []
    if not network.inputs:
        found.append(
            diagnostic(
                source,
                source.start(),
                "the network has no inputs",
                "declare them with a statement like 'input x, y'",
            )
        )
    if not network.outputs:
        found.append(
            diagnostic(
                source,
                source.start(),
                "the network has no outputs",
                "declare them with a statement like 'output y'",
            )
        )
    return found


def _check_edge_roles(network: Network) -> list[Diagnostic]:
    source = network.source
    role = {n.name: n.role for n in network.neurons}
    found = []
    for edge in network.edges:
        if edge.source == edge.target:
            found.append(
                diagnostic(
                    source,
                    edge.span,
                    f"neuron {quote(edge.source)} is connected to itself",
                    "a network must be acyclic; remove this edge",
                )
            )
            continue
        if role[edge.target] == "input":
            found.append(
                diagnostic(
                    source,
                    edge.span,
                    f"input neuron {quote(edge.target)} has an incoming edge from "
                    f"{quote(edge.source)}",
                    "inputs take their values from the input vector only; remove "
                    "the edge or declare the neuron hidden",
                )
            )
        if role[edge.source] == "output":
            found.append(
                diagnostic(
                    source,
                    edge.span,
                    f"output neuron {quote(edge.source)} has an outgoing edge to "
                    f"{quote(edge.target)}",
                    "outputs end the graph; feed the target from the output's own "
                    "sources, or declare the neuron hidden",
                )
            )
    return found


def _check_fed(network: Network) -> list[Diagnostic]:
    """Hidden neurons must have an incoming edge; outputs without one get a warning."""
    fed = {edge.target for edge in network.edges}
    source = network.source
    found = []
    for neuron in network.neurons:
        if neuron.name in fed or neuron.role == "input":
            continue
        if neuron.role == "hidden":
            found.append(
                diagnostic(
                    source,
                    neuron.span,
                    f"hidden neuron {quote(neuron.name)} has no incoming edge",
                    "connect it from an input or an earlier neuron, or declare it "
                    "as an input",
                )
            )
        else:
            found.append(
                diagnostic(
                    source,
                    neuron.span,
                    f"output neuron {quote(neuron.name)} has no incoming edge",
                    "its value will be its bias alone; connect it from an input or "
                    "a hidden neuron",
                    severity="warning",
                )
            )
    return found


def _check_reaches_output(network: Network) -> list[Diagnostic]:
    """Warn about neurons whose value can never influence an output."""
    predecessors: dict[Name, list[Name]] = {n.name: [] for n in network.neurons}
    for edge in network.edges:
        predecessors[edge.target].append(edge.source)
    reaches = set(network.outputs)
    queue = deque(network.outputs)
    while queue:
        for previous in predecessors[queue.popleft()]:
            if previous not in reaches:
                reaches.add(previous)
                queue.append(previous)
    found = []
    for neuron in network.neurons:
        if neuron.name not in reaches:
            found.append(
                diagnostic(
                    network.source,
                    neuron.span,
                    f"neuron {quote(neuron.name)} cannot reach any output",
                    "its value is computed but never used; connect it towards an "
                    "output or remove it",
                    severity="warning",
                )
            )
    return found


def _check_cycles(network: Network) -> list[Diagnostic]:
    """One error per strongly connected component that holds a cycle."""
    successors: dict[Name, list[Edge]] = {n.name: [] for n in network.neurons}
    for edge in network.edges:
        if edge.source != edge.target:
            successors[edge.source].append(edge)
    cyclic = [
        c for c in strongly_connected_components(network, successors) if len(c) > 1
    ]
    # Each component's own edges, in source order, gathered in one pass over the
    # edges rather than one pass per component.
    component_of = {name: i for i, component in enumerate(cyclic) for name in component}
    inside: list[list[Edge]] = [[] for _ in cyclic]
    for edge in network.edges:
        i = component_of.get(edge.source)
        if i is not None and component_of.get(edge.target) == i:
            inside[i].append(edge)
    return [
        _cycle_diagnostic(network, component, edges, successors)
        for component, edges in zip(cyclic, inside, strict=True)
    ]


def strongly_connected_components(
    network: Network, successors: dict[Name, list[Edge]]
) -> list[set[Name]]:
    """Tarjan's algorithm, iterative so that deep graphs cannot hit recursion limits."""
    index: dict[Name, int] = {}
    low: dict[Name, int] = {}
    on_stack: set[Name] = set()
    stack: list[Name] = []
    components: list[set[Name]] = []
    counter = 0
    for root in (n.name for n in network.neurons):
        if root in index:
            continue
        work: list[tuple[Name, int]] = [(root, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            out = successors[node]
            while position < len(out):
                target = out[position].target
                position += 1
                if target not in index:
                    work.append((node, position))
                    work.append((target, 0))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
    return components


def _cycle_diagnostic(
    network: Network,
    component: set[Name],
    inside: list[Edge],
    successors: dict[Name, list[Edge]],
) -> Diagnostic:
    """Report one cycle of a component, ending with the edge written last.

    `inside` holds the component's edges (both ends in it).
    """
    closing = max(inside, key=lambda e: (e.span.line, e.span.column))

    # Shortest path back from the closing edge's target to its source.
    came_by: dict[Name, Edge] = {}
    queue = deque([closing.target])
    while closing.source not in came_by and queue:
        node = queue.popleft()
        for edge in successors[node]:
            if edge.target in component and edge.target not in came_by:
                came_by[edge.target] = edge
                queue.append(edge.target)
    path = []
    node = closing.source
    while node != closing.target:
        edge = came_by[node]
        path.append(edge)
        node = edge.source
    path.reverse()
    path.append(closing)

    names = " -> ".join(quote(e.source) for e in path) + f" -> {quote(path[0].source)}"
    places = ", ".join(
        f"{quote(e.source)} -> {quote(e.target)} at line {e.span.line}" for e in path
    )
    return diagnostic(
        network.source,
        closing.span,
        f"these edges form a cycle: {names}",
        f"the cycle's edges are {places}; remove one of them",
    )

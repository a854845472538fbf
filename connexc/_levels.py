"""Groups the neurons of a checked network into topological levels.

A neuron's level is the length of the longest path to it from an input, so inputs
are level 0, the number of levels is the graph's depth plus one, and the result
does not depend on any sort order. Inside a level, neurons keep source order.
"""

from __future__ import annotations

from collections import deque

from ._ir import Name, Network


def assign_levels(network: Network) -> tuple[tuple[Name, ...], ...]:
    """The levels of an acyclic network, each a tuple of neuron names.

    Non-input neurons are placed at level 1 or later even when nothing feeds them
    (an output fed by nothing), so level 0 is exactly the input vector.
    """
    successors: dict[Name, list[Name]] = {n.name: [] for n in network.neurons}
    waiting: dict[Name, int] = {n.name: 0 for n in network.neurons}
    for edge in network.edges:
        successors[edge.source].append(edge.target)
        waiting[edge.target] += 1

    level: dict[Name, int] = {}
    queue = deque()
    for neuron in network.neurons:
        if waiting[neuron.name] == 0:
            level[neuron.name] = 0 if neuron.role == "input" else 1
            queue.append(neuron.name)
    while queue:
        node = queue.popleft()
        for target in successors[node]:
            level[target] = max(level.get(target, 1), level[node] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                queue.append(target)
    if len(level) != len(network.neurons) or any(waiting.values()):
        raise ValueError(
            "assign_levels needs an acyclic network; run check_graph first"
        )

    depth = max(level.values(), default=0)
    buckets: list[list[Name]] = [[] for _ in range(depth + 1)]
    for neuron in network.neurons:
        buckets[level[neuron.name]].append(neuron.name)
    return tuple(tuple(bucket) for bucket in buckets)

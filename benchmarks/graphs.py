"""The benchmark graphs, built deterministically from a seed as adjacency dicts.

Every builder returns a `Graph`: neurons are ints, inputs and outputs in order, and
`adjacency` maps each neuron to the neurons it feeds (the form both Connex and
`connexc.from_adjacency` take). Only the standard library's `random` is used, so a
seed gives the same graph on every machine and Python version.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Graph:
    """A DAG of integer neurons with ordered inputs and outputs."""

    name: str
    adjacency: dict[int, list[int]]
    inputs: list[int]
    outputs: list[int]
    layers: tuple[int, ...] | None = None  # sizes, for graphs that are an MLP

    @property
    def n_neurons(self) -> int:
        return len(self.inputs) + len(self.hidden) + len(self.outputs)

    @property
    def hidden(self) -> list[int]:
        ends = set(self.inputs) | set(self.outputs)
        seen = {n for n in self.adjacency} | {
            t for targets in self.adjacency.values() for t in targets
        }
        return sorted(seen - ends)

    @property
    def n_edges(self) -> int:
        return sum(len(targets) for targets in self.adjacency.values())


def _from_parents(name, parents, inputs, outputs, layers=None) -> Graph:
    """A `Graph` from `{neuron: [its sources]}`, sources listed in ascending order."""
    adjacency: dict[int, list[int]] = {}
    for target in sorted(parents):
        for source in sorted(parents[target]):
            adjacency.setdefault(source, []).append(target)
    return Graph(name, adjacency, inputs, outputs, layers)


def readme_network() -> Graph:
    """The 12-neuron network of Connex's README (examples/seed.cnx)."""
    adjacency = {
        0: [1, 2, 3],
        1: [4],
        2: [4, 5],
        4: [6],
        5: [7],
        6: [8, 9],
        7: [10],
        8: [11],
        9: [11],
        10: [11],
    }
    return Graph("readme-12", adjacency, [0], [3, 11])


def mlp(sizes: tuple[int, ...] = (64, 256, 256, 10)) -> Graph:
    """A fully connected multilayer perceptron with the given layer sizes."""
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    layers = [list(range(s, s + n)) for s, n in zip(starts, sizes, strict=True)]
    parents = {
        t: list(prev)
        for prev, layer in zip(layers, layers[1:], strict=False)
        for t in layer
    }
    name = "mlp-" + "-".join(map(str, sizes))
    return _from_parents(name, parents, layers[0], layers[-1], sizes)


def random_dag(n: int, seed: int = 0, fan_in: int = 8, depth: int = 40) -> Graph:
    """About `fan_in` random in-edges per neuron from earlier ones, a set depth.

    10% of the neurons are inputs and 5% outputs. The others are spread over
    `depth` layers; each takes one source from the layer just before it (so the
    depth is exact) and the rest uniformly from every earlier non-output neuron.
    Outputs sit at random layers and feed nothing.
    """
    rng = random.Random(seed)
    n_inputs, n_outputs = n // 10, max(1, n // 20)
    inputs = list(range(n_inputs))
    rest = list(range(n_inputs, n))
    outputs = sorted(rng.sample(rest, n_outputs))
    is_output = set(outputs)
    layer = {i: 0 for i in inputs}
    # Non-outputs fill layers 1..depth-1 in order; outputs go anywhere after 1.
    hidden = [x for x in rest if x not in is_output]
    for i, neuron in enumerate(hidden):
        layer[neuron] = 1 + i * (depth - 1) // len(hidden)
    for neuron in outputs:
        layer[neuron] = rng.randint(1, depth)
    by_layer: dict[int, list[int]] = {}
    for neuron in inputs + hidden:
        by_layer.setdefault(layer[neuron], []).append(neuron)

    parents: dict[int, list[int]] = {}
    earlier: list[int] = list(inputs)
    for k in range(1, depth + 1):
        for neuron in sorted(x for x in rest if layer[x] == k):
            chosen = {rng.choice(by_layer[k - 1])}
            while len(chosen) < min(fan_in, len(earlier)):
                chosen.add(rng.choice(earlier))
            parents[neuron] = sorted(chosen)
        earlier += by_layer.get(k, [])
    return _from_parents(f"random-{n}", parents, inputs, outputs)


def deep_dag(levels: int = 400, width: int = 4, seed: int = 0) -> Graph:
    """`levels` levels of `width` neurons, each fed by 2-3 of the 3 levels before.

    Level 0 holds the inputs; the last level's neurons are the outputs. Each neuron
    takes one source from the level just before it, so the depth is exact.
    """
    rng = random.Random(seed)
    rows = [list(range(k * width, (k + 1) * width)) for k in range(levels)]
    parents: dict[int, list[int]] = {}
    for k in range(1, levels):
        pool = [x for row in rows[max(0, k - 3) : k] for x in row]
        for neuron in rows[k]:
            chosen = {rng.choice(rows[k - 1])}
            while len(chosen) < rng.randint(2, 3):
                chosen.add(rng.choice(pool))
            parents[neuron] = sorted(chosen)
    return _from_parents(f"deep-{levels}x{width}", parents, rows[0], rows[-1])


def wide_sparse_dag(n: int = 20_000, seed: int = 0, fan_in: int = 4) -> Graph:
    """`n` neurons in five layers: 10% inputs, three hidden layers, 1% outputs.

    Every non-input neuron takes one source from the layer before it (so there are
    exactly five levels) and the rest of its `fan_in` sources from any earlier
    layer.
    """
    rng = random.Random(seed)
    n_inputs, n_outputs = n // 10, max(1, n // 100)
    hidden = n - n_inputs - n_outputs
    sizes = [n_inputs, *(hidden // 3 + (i < hidden % 3) for i in range(3)), n_outputs]
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    layers = [list(range(a, b)) for a, b in zip(bounds, bounds[1:], strict=False)]
    parents: dict[int, list[int]] = {}
    earlier: list[int] = []
    for k in range(1, len(layers)):
        earlier += layers[k - 1]
        for neuron in layers[k]:
            chosen = {rng.choice(layers[k - 1])}
            while len(chosen) < fan_in:
                chosen.add(rng.choice(earlier))
            parents[neuron] = sorted(chosen)
    return _from_parents(f"wide-sparse-{n}", parents, layers[0], layers[-1])

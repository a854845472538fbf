"""Random and hand-made DAGs for tests, written as `.cnx` text, plus the check that
a generated module agrees with the reference evaluator on them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import reference

import connexc

Name = int | str
ACTIVATIONS = sorted(reference.HIDDEN)

# The 12-neuron network of Connex's README, as its adjacency dict.
CONNEX_README_ADJACENCY = {
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


@dataclass
class Graph:
    """A network description independent of the compiler."""

    inputs: list[Name]
    outputs: list[Name]
    hidden: list[Name]
    edges: list[tuple[Name, Name]]
    activations: dict[Name, str] = field(default_factory=dict)
    output_activation: str = "identity"

    def to_cnx(self, rng: random.Random | None = None, name: str = "Net") -> str:
        """`.cnx` text; with `rng`, statements are shuffled and edge forms varied."""
        lines = [f"network {name}", f"output_activation {self.output_activation}"]
        lines.append("input " + ", ".join(map(str, self.inputs)))
        lines.append("output " + ", ".join(map(str, self.outputs)))
        for neuron in self.hidden:
            lines.append(f"hidden {neuron} activation={self.activations[neuron]}")
        by_target: dict[Name, list[Name]] = {}
        for source, target in self.edges:
            by_target.setdefault(target, []).append(source)
        edge_lines = []
        for target, sources in by_target.items():
            if rng is not None and rng.random() < 0.5:
                edge_lines += [f"{s} -> {target}  # one edge" for s in sources]
            else:
                edge_lines.append(", ".join(map(str, sources)) + f" -> {target}")
        if rng is not None:
            edge_lines = edge_lines[:]
            rng.shuffle(edge_lines)
            # Keep input and output declarations in order: their order is meaningful.
            body = lines[4:] + edge_lines
            rng.shuffle(body)
            lines = lines[:4] + body
        else:
            lines += edge_lines
        return "\n".join(lines) + "\n"


def random_graph(rng: random.Random, n: int, *, int_names: bool | None = None) -> Graph:
    """A random valid DAG of `n` neurons: hidden ones all fed, outputs at any depth."""
    n = max(n, 2)
    if int_names is None:
        int_names = rng.random() < 0.5
    if int_names:
        names: list[Name] = rng.sample(range(10**6), n)
    else:
        names = [f"n{i}_{rng.randrange(1000)}" for i in range(n)]
    n_inputs = rng.randint(1, max(1, n // 3))
    inputs = names[:n_inputs]
    rest = names[n_inputs:]
    n_outputs = rng.randint(1, len(rest))
    outputs = rng.sample(rest, n_outputs)
    hidden = [x for x in rest if x not in outputs]
    order = inputs + rest  # a topological order: edges go forward in it
    position = {x: i for i, x in enumerate(order)}
    edges = []
    for target in rest:
        earlier = [s for s in order[: position[target]] if s not in outputs]
        k = rng.randint(1, min(len(earlier), 6))
        edges += [(s, target) for s in rng.sample(earlier, k)]
    return Graph(
        inputs=inputs,
        outputs=outputs,
        hidden=hidden,
        edges=edges,
        activations={h: rng.choice(ACTIVATIONS) for h in hidden},
        output_activation=rng.choice(sorted(reference.OUTPUT)),
    )


def assert_matches_reference(text: str, graph: Graph, seed: int = 0) -> None:
    """Compile `text`, give it random parameters by name, compare with the reference."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    cls = connexc.load_source(text)
    assert set(cls.EDGES) == set(graph.edges)
    assert list(cls.INPUTS) == graph.inputs
    assert list(cls.OUTPUTS) == graph.outputs

    rng = np.random.default_rng(seed)
    weights = {edge: float(rng.normal()) for edge in graph.edges}
    biases = {n: float(rng.normal()) for n in graph.hidden + graph.outputs}
    model = cls(key=jax.random.key(seed)).with_parameters(
        np.array([weights[e] for e in cls.EDGES], dtype=np.float32),
        np.array([biases[n] for n in cls.NEURONS[len(cls.INPUTS) :]], dtype=np.float32),
    )
    assert model.edge_weights() == {e: float(np.float32(w)) for e, w in weights.items()}

    x = rng.normal(size=len(graph.inputs)).astype(np.float32)
    expected = reference.evaluate(
        x,
        inputs=graph.inputs,
        outputs=graph.outputs,
        weights={e: float(np.float32(w)) for e, w in weights.items()},
        biases={n: float(np.float32(b)) for n, b in biases.items()},
        activations=graph.activations,
        output_activation=graph.output_activation,
    )
    actual = np.asarray(eqx.filter_jit(lambda m, v: m(v))(model, jnp.asarray(x)))
    np.testing.assert_allclose(actual, expected, rtol=2e-4, atol=2e-4)

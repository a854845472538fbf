"""Generated modules against the neuron-by-neuron reference on graphs of odd shapes."""

from __future__ import annotations

import random

import pytest
from graphs import Graph, assert_matches_reference, random_graph


def _layered_skip_graph() -> Graph:
    """Every neuron feeds every later one: skip connections everywhere."""
    names = [f"s{i}" for i in range(12)]
    inputs, hidden, outputs = names[:2], names[2:10], names[10:]
    edges = [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        if a not in outputs and b not in inputs
    ]
    return Graph(inputs, outputs, hidden, edges, {h: "tanh" for h in hidden})


def _wide_fan_out() -> Graph:
    hidden = list(range(10, 310))
    edges = [(0, h) for h in hidden] + [(h, 5) for h in hidden]
    return Graph([0], [5], hidden, edges, {h: "relu" for h in hidden})


def _outputs_at_many_depths() -> Graph:
    chain = ["a", "b", "c", "d", "e"]
    edges = [("x", "a")] + list(zip(chain, chain[1:], strict=False))
    outputs = ["o1", "o2", "o3"]
    edges += [("a", "o1"), ("c", "o2"), ("e", "o3"), ("x", "o2")]
    return Graph(["x"], outputs, chain, edges, {h: "silu" for h in chain})


def _two_components() -> Graph:
    edges = [("x1", "h1"), ("h1", "y1"), ("x2", "h2"), ("h2", "y2")]
    return Graph(
        ["x1", "x2"], ["y2", "y1"], ["h1", "h2"], edges, {"h1": "elu", "h2": "gelu"}
    )


def _sparse_ids() -> Graph:
    edges = [(999_999, 7), (3, 7), (7, 123_456), (3, 123_456)]
    return Graph([999_999, 3], [123_456], [7], edges, {7: "softplus"}, "softmax")


CASES = {
    "skip-connections-everywhere": _layered_skip_graph,
    "huge-fan-out": _wide_fan_out,
    "outputs-at-many-depths": _outputs_at_many_depths,
    "several-components": _two_components,
    "sparse-integer-ids": _sparse_ids,
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_odd_shape_matches_reference(make) -> None:
    graph = make()
    assert_matches_reference(graph.to_cnx(), graph)


def test_every_activation_matches_reference() -> None:
    import reference

    hidden = sorted(reference.HIDDEN)
    edges = [("x", h) for h in hidden] + [(h, "y") for h in hidden]
    graph = Graph(["x"], ["y"], hidden, edges, {h: h for h in hidden})
    assert_matches_reference(graph.to_cnx(), graph, seed=3)


@pytest.mark.parametrize("output_activation", ["softmax", "log_softmax", "sigmoid"])
def test_output_activations_match_reference(output_activation: str) -> None:
    graph = random_graph(random.Random(7), 12)
    graph.output_activation = output_activation
    assert_matches_reference(graph.to_cnx(), graph)

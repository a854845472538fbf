"""The Python API: loading, adjacency dicts, and Connex's constructor."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from graphs import CONNEX_README_ADJACENCY

import connexc

ROOT = Path(__file__).resolve().parent.parent
CONNEX_README = CONNEX_README_ADJACENCY


def test_load_returns_the_same_class_for_the_same_file() -> None:
    first = connexc.load(ROOT / "examples" / "seed.cnx")
    second = connexc.load(ROOT / "examples" / "seed.cnx")
    assert first is second
    assert first.__name__ == "Seed"


def test_structure_is_on_the_class_with_names_as_written() -> None:
    Seed = connexc.load(ROOT / "examples" / "seed.cnx")
    assert Seed.INPUTS == (0,)
    assert Seed.OUTPUTS == (3, 11)
    assert Seed.LEVELS == ((0,), (1, 2, 3), (4, 5), (6, 7), (8, 9, 10), (11,))
    assert set(Seed.EDGES) == {(s, t) for s, ts in CONNEX_README.items() for t in ts}
    assert Seed.ACTIVATIONS[4] == "relu" and Seed.ACTIVATIONS[11] == "identity"


def test_structure_is_not_part_of_the_pytree() -> None:
    Seed = connexc.load(ROOT / "examples" / "seed.cnx")
    leaves = jax.tree_util.tree_leaves(Seed(key=jax.random.key(0)))
    assert all(isinstance(leaf, (jax.Array, bool)) for leaf in leaves)


def test_edge_weights_and_biases_are_keyed_by_name() -> None:
    Mlp = connexc.load(ROOT / "examples" / "mlp.cnx")
    model = Mlp(key=jax.random.key(0))
    weights = model.edge_weights()
    assert len(weights) == 784 * 256 + 256 * 256 + 256 * 10
    assert ("pixels[5]", "h1[3]") in weights
    biases = model.biases()
    assert set(biases) == set(Mlp.NEURONS[784:])
    into_h1_0 = np.array([weights[(f"pixels[{i}]", "h1[0]")] for i in range(784)])
    bound = 1 / np.sqrt(784)  # each h1 neuron has 784 real incoming edges
    assert np.all(np.abs(into_h1_0) <= bound)
    assert np.std(into_h1_0) > bound / 3  # uniform on [-bound, bound], not zeros


def test_from_adjacency_round_trips_the_graph() -> None:
    text = connexc.from_adjacency(
        CONNEX_README, [0], [3, 11], activation="tanh", name="Readme"
    )
    cls = connexc.load_source(text)
    assert cls.NAME == "Readme"
    assert set(cls.EDGES) == {(s, t) for s, ts in CONNEX_README.items() for t in ts}
    assert set(cls.ACTIVATIONS.values()) == {"tanh", "identity"}


def test_from_adjacency_accepts_jax_functions() -> None:
    text = connexc.from_adjacency(
        {"x": ["y"]},
        ["x"],
        ["y"],
        activation=jax.nn.gelu,
        output_activation=jax.nn.softmax,
    )
    assert "activation gelu\n" in text
    assert "output_activation softmax\n" in text


def test_from_adjacency_rejects_other_callables() -> None:
    with pytest.raises(
        TypeError, match="cannot be compiled: pass one of the functions"
    ):
        connexc.from_adjacency({0: [1]}, [0], [1], activation=lambda z: z * 2)


def test_from_adjacency_rejects_names_cnx_cannot_write() -> None:
    with pytest.raises(ValueError, match="neuron name 'a b' is not a .cnx name"):
        connexc.from_adjacency({"a b": ["y"]}, ["a b"], ["y"])
    with pytest.raises(ValueError, match="neuron ids must be non-negative, got -1"):
        connexc.from_adjacency({-1: [2]}, [-1], [2])


def test_neural_network_connex_03_form_runs_the_connex_readme() -> None:
    network = connexc.NeuralNetwork(CONNEX_README, [0], [3, 11], jax.nn.relu)
    assert network(jnp.ones(1)).shape == (2,)
    assert set(type(network).EDGES) == {
        (s, t) for s, ts in CONNEX_README.items() for t in ts
    }


def test_neural_network_num_neurons_form() -> None:
    adjacency = {0: [2], 1: [2], 2: [3]}
    network = connexc.NeuralNetwork(
        4, adjacency, [0, 1], [3], hidden_activation=jax.nn.tanh, key=jax.random.key(1)
    )
    assert type(network).INPUTS == (0, 1)
    assert type(network).ACTIVATIONS[2] == "tanh"


def test_neural_network_num_neurons_form_checks_ids() -> None:
    with pytest.raises(ValueError, match="neuron 7 is outside 0 .. 3"):
        connexc.NeuralNetwork(4, {0: [7]}, [0], [7])


def test_neural_network_graph_errors_are_compile_errors() -> None:
    with pytest.raises(connexc.GraphError, match="these edges form a cycle"):
        connexc.NeuralNetwork({0: [1], 1: [2], 2: [1, 3]}, [0], [3])


def test_neural_network_dropout_mapping() -> None:
    network = connexc.NeuralNetwork(
        CONNEX_README, [0], [3, 11], jax.nn.relu, dropout_p={4: 0.5, 0: 0.1}
    )
    assert type(network).DROPOUT[4] == 0.5
    assert type(network).DROPOUT[0] == 0.1
    assert type(network).DROPOUT[5] == 0.0


def test_compile_source_warns_about_unreachable_neurons() -> None:
    with pytest.warns(connexc.CompileWarning, match="neuron 'spare' cannot reach any"):
        connexc.compile_source("input x, spare\noutput y\nx -> y\n")

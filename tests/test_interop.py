"""Graph interop: `to_networkx` / `from_networkx`, and the JSON exchange format."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import jax
import networkx as nx
import numpy as np
import pytest
from conftest import ROOT
from graphs import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st

import connexc
from connexc._cli import main

SEED = ROOT / "examples" / "seed.cnx"
NAMED = """\
network Named
activation tanh
input x[2], bias_in
hidden h[3]
hidden gate activation=sigmoid dropout=0.1
output y, z
x -> h -> y
bias_in -> gate -> z
h[1] -> z
"""


def _structure(cls) -> tuple:
    """What must survive a round trip, independent of statement or edge order."""
    return (
        cls.NAME,
        cls.INPUTS,
        cls.OUTPUTS,
        frozenset(cls.EDGES),
        cls.ACTIVATIONS,
        cls.DROPOUT,
        cls.GROUPS,
        cls.OUTPUT_ACTIVATION,
    )


def test_to_networkx_carries_weights_biases_and_integer_names():
    model = connexc.load(SEED)(key=jax.random.key(0))
    graph = connexc.to_networkx(model)
    assert isinstance(graph, nx.DiGraph)
    assert list(graph.nodes) == list(model.NEURONS)
    assert all(isinstance(n, int) for n in graph.nodes)
    weights = model.edge_weights()
    assert {(s, t): w for s, t, w in graph.edges(data="weight")} == weights
    biases = model.biases()
    assert {n: b for n, b in graph.nodes(data="bias") if b is not None} == biases
    assert graph.nodes[0] == {
        "role": "input",
        "activation": "identity",
        "dropout": 0.0,
        "level": 0,
        "input_index": 0,
    }
    assert graph.nodes[3]["output_index"] == 0 and graph.nodes[11]["output_index"] == 1
    assert graph.nodes[11]["role"] == "output" and graph.nodes[11]["level"] == 5
    assert graph.graph["inputs"] == [0] and graph.graph["outputs"] == [3, 11]


def test_string_names_and_groups_round_trip_through_networkx():
    cls = connexc.load_source(NAMED)
    graph = connexc.to_networkx(cls)
    assert graph.nodes["h[1]"]["group"] == "h"
    assert graph.nodes["gate"]["activation"] == "sigmoid"
    assert "weight" not in graph.edges["x[0]", "h[0]"]  # a class has no parameters
    text = connexc.from_networkx(graph)
    assert _structure(connexc.load_source(text)) == _structure(cls)
    assert "hidden h[3]\n" in text  # groups stay groups


@pytest.mark.parametrize("file_format", ["graphml", "gexf"])
@pytest.mark.parametrize("text", [SEED.read_text(), NAMED], ids=["ints", "names"])
def test_round_trip_through_graph_files_keeps_structure_and_weights(
    tmp_path: Path, file_format, text
):
    cls = connexc.load_source(text)
    model = cls(key=jax.random.key(3))
    graph = connexc.to_networkx(model)
    for key in ("inputs", "outputs", "groups"):  # lists these formats cannot store
        del graph.graph[key]
    path = tmp_path / f"net.{file_format}"
    getattr(nx, f"write_{file_format}")(graph, path)
    loaded = getattr(nx, f"read_{file_format}")(path)

    text = connexc.from_networkx(loaded)
    assert _structure(connexc.load_source(text)) == _structure(cls)
    # Node ids come back as strings from these formats.
    weights = {(str(s), str(t)): w for s, t, w in loaded.edges(data="weight")}
    expected = {(str(s), str(t)): w for (s, t), w in model.edge_weights().items()}
    assert weights == pytest.approx(expected)


def test_from_networkx_builds_a_network_from_a_plain_digraph():
    graph = nx.DiGraph()
    graph.add_edges_from([(0, 2), (1, 2), (2, 3), (0, 3)])
    graph.add_node(2, activation="tanh")
    text = connexc.from_networkx(graph, inputs=[1, 0], outputs=[3], name="Tiny")
    cls = connexc.load_source(text)
    assert cls.INPUTS == (1, 0)
    assert cls.ACTIVATIONS[2] == "tanh"
    assert set(cls.EDGES) == set(graph.edges)


def test_from_networkx_without_inputs_says_how_to_give_them():
    graph = nx.DiGraph([(0, 1)])
    with pytest.raises(ValueError) as error:
        connexc.from_networkx(graph, outputs=[1])
    assert str(error.value) == (
        "the inputs are not known: pass inputs=[...] in vector order, or set "
        "graph.graph['inputs']"
    )


def test_from_networkx_rejects_names_cnx_cannot_write():
    graph = nx.DiGraph([(0, "not a name")])
    with pytest.raises(ValueError, match="neuron name 'not a name' is not a .cnx name"):
        connexc.from_networkx(graph, inputs=[0], outputs=["not a name"])


def test_networkx_is_imported_only_when_needed():
    code = (
        "import sys, connexc; connexc.load_source('input a\\noutput b\\na -> b\\n'); "
        "print('networkx' in sys.modules)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert result.stdout == "False\n"


def test_json_round_trip_keeps_structure_and_parameters():
    cls = connexc.load_source(NAMED)
    model = cls(key=jax.random.key(1))
    data = json.loads(json.dumps(connexc.to_json(model)))
    assert data["format"] == "connexc-graph" and data["version"] == 1
    loaded = connexc.model_from_json(data, key=jax.random.key(2))
    assert _structure(type(loaded)) == _structure(cls)
    np.testing.assert_array_equal(loaded.edge_weight_array(), model.edge_weight_array())
    np.testing.assert_array_equal(loaded.bias_array(), model.bias_array())
    x = jax.numpy.array([0.3, -0.2, 1.0])
    np.testing.assert_array_equal(loaded(x), model(x))


def test_json_from_other_tools_edge_lists_and_disabled_genes():
    data = {
        "name": "Evolved",
        "inputs": [0, 1],
        "outputs": [5],
        "activation": "tanh",
        "neurons": [{"name": 7, "activation": "sigmoid", "bias": 0.5}],
        "edges": [
            [0, 7, 1.5],
            {"source": 1, "target": 7, "weight": -2.0},
            {"source": 7, "target": 5, "weight": 0.25},
            {"source": 0, "target": 5, "weight": 9.0, "enabled": False},
        ],
    }
    cls = connexc.load_source(connexc.from_json(data))
    assert set(cls.EDGES) == {(0, 7), (1, 7), (7, 5)}
    assert cls.ACTIVATIONS[7] == "sigmoid"
    model = connexc.model_from_json(data, key=jax.random.key(0))
    assert model.edge_weights() == {(0, 7): 1.5, (1, 7): -2.0, (7, 5): 0.25}
    assert model.biases()[7] == 0.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": "other"}, "format: expected 'connexc-graph', got 'other'"),
        ({"outputs": [1]}, "inputs: missing; list the neurons in vector order"),
        (
            {"inputs": [0], "outputs": [1], "edges": [[0]]},
            'edges[0]: expected {"source": ..., "target": ..., "weight": ...} or '
            "[source, target, weight]",
        ),
        (
            {"inputs": [0], "outputs": [1], "edges": [[0, 1, "heavy"]]},
            "edges[0].weight: expected a number, got 'heavy'",
        ),
        (
            {"inputs": [-1], "outputs": [1]},
            "inputs[0]: neuron ids must be non-negative, got -1",
        ),
    ],
    ids=["format", "no-inputs", "edge-shape", "weight", "negative-id"],
)
def test_bad_json_names_the_offending_part(data, message):
    with pytest.raises(ValueError) as error:
        connexc.from_json(data)
    assert str(error.value) == message


def test_cli_export_then_import_gives_the_canonical_file(tmp_path: Path, capsys):
    exported = tmp_path / "seed.json"
    assert main(["export-json", str(SEED), "-o", str(exported)]) == 0
    data = json.loads(exported.read_text())
    assert data == connexc.to_json(SEED)
    assert "weight" not in data["edges"][0]
    imported = tmp_path / "seed.cnx"
    assert main(["import-json", str(exported), "-o", str(imported)]) == 0
    assert imported.read_text() == connexc.from_json(data)
    assert _structure(connexc.load(imported)) == _structure(connexc.load(SEED))


def test_cli_import_of_broken_json_points_at_line_and_column(tmp_path: Path, capsys):
    broken = tmp_path / "graph.json"
    broken.write_text('{\n  "inputs": [0],\n  "outputs": [1,]\n}\n')
    out = tmp_path / "graph.cnx"
    assert main(["import-json", str(broken), "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err == (
        f"{broken}:3:17: error: this is not valid JSON: expecting value\n"
        '    3 |   "outputs": [1,]\n'
        "      |                 ^\n"
        "  hint: the file must be one JSON object, as 'connexc export-json' writes\n"
    )


def test_cli_import_of_a_cyclic_graph_reports_it_and_writes_nothing(
    tmp_path: Path, capsys
):
    graph = tmp_path / "graph.json"
    graph.write_text(
        json.dumps(
            {"inputs": [0], "outputs": [3], "edges": [[0, 1], [1, 2], [2, 1], [2, 3]]}
        )
    )
    out = tmp_path / "graph.cnx"
    assert main(["import-json", str(graph), "-o", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert err.startswith(f"{graph} (as .cnx):")
    assert "cycle" in err


def test_evolved_example_computes_what_its_json_describes():
    model = connexc.model_from_json(
        ROOT / "examples" / "evolved.json", key=jax.random.key(0)
    )
    x0, x1, x2 = 0.5, -1.0, 2.0
    h5 = 1 / (1 + np.exp(-(1.3 * x0 - 0.7 * x1 + 0.2)))
    h8 = np.tanh(0.9 * x2 + 2.1 * h5 - 0.4)
    y = -1.2 * h8 + 0.5 * h5 + 0.1  # the disabled edge 0 -> 3 is left out
    np.testing.assert_allclose(model(jax.numpy.array([x0, x1, x2])), [y], rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 16))
def test_random_networks_round_trip_through_networkx_and_json(seed, size):
    rng = random.Random(seed)
    text = random_graph(rng, size).to_cnx(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        cls = connexc.load_source(text)
        via_networkx = connexc.load_source(
            connexc.from_networkx(connexc.to_networkx(cls))
        )
        via_json = connexc.load_source(connexc.from_json(connexc.to_json(cls)))
    assert _structure(via_networkx) == _structure(cls)
    assert _structure(via_json) == _structure(cls)

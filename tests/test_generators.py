"""`connexc new` and `connexc.new_mlp` / `new_dense_mlp`: standard shapes as `.cnx`."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

import connexc
from connexc._cli import main


def _layers(sizes: list[int]) -> list[list[str]]:
    names = ["x", *(f"h{k}" for k in range(1, len(sizes) - 1)), "y"]
    return [[f"{n}[{i}]" for i in range(s)] for n, s in zip(names, sizes, strict=True)]


def test_mlp_text_declares_one_group_per_layer():
    assert connexc.new_mlp([64, 256, 256, 10], activation="gelu") == (
        "# A 64-256-256-10 multilayer perceptron, made by `connexc new mlp`.\n"
        "network Mlp\n"
        "activation gelu\n"
        "\n"
        "input x[64]\n"
        "hidden h1[256], h2[256]\n"
        "output y[10]\n"
        "\n"
        "x -> h1\n"
        "h1 -> h2\n"
        "h2 -> y\n"
    )


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=5),
    dense=st.booleans(),
)
def test_generated_networks_have_exactly_the_layered_edges(sizes, dense):
    make = connexc.new_dense_mlp if dense else connexc.new_mlp
    cls = connexc.load_source(make(sizes))
    layers = _layers(sizes)
    expected = set()
    for k, sources in enumerate(layers[:-1]):
        for targets in layers[k + 1 :] if dense else layers[k + 1 : k + 2]:
            expected |= set(itertools.product(sources, targets))
    assert set(cls.EDGES) == expected
    assert len(cls.EDGES) == len(expected)
    assert list(cls.INPUTS) == layers[0]
    assert list(cls.OUTPUTS) == layers[-1]
    assert len(cls.LEVELS) == len(sizes)


def test_options_reach_the_compiled_model():
    text = connexc.new_dense_mlp(
        [3, 5, 2],
        activation="tanh",
        output_activation="softmax",
        dropout=0.25,
        name="Classifier",
    )
    cls = connexc.load_source(text)
    assert cls.NAME == "Classifier"
    assert cls.OUTPUT_ACTIVATION == "softmax"
    assert {cls.ACTIVATIONS[n] for n in _layers([3, 5, 2])[1]} == {"tanh"}
    assert {cls.DROPOUT[n] for n in _layers([3, 5, 2])[1]} == {0.25}
    assert cls.GROUPS == {"x": (3, "input"), "h1": (5, "hidden"), "y": (2, "output")}


def test_activation_may_be_a_jax_function():
    import jax

    assert "activation silu\n" in connexc.new_mlp([2, 2], activation=jax.nn.silu)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [3]}, "sizes needs at least an input and an output width, got [3]"),
        ({"sizes": [3, 0]}, "every size must be a positive int, got 0"),
        ({"sizes": [3, 2], "activation": "gelux"}, "activation must be one of"),
        ({"sizes": [3, 2], "dropout": 1.0}, "dropout must be a number in [0, 1)"),
        ({"sizes": [3, 2], "name": "input"}, "name must be an identifier"),
    ],
    ids=["one-layer", "zero-width", "activation", "dropout", "reserved-name"],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError) as error:
        connexc.new_mlp(**kwargs)
    assert message in str(error.value)


def test_cli_writes_the_same_text_as_python(tmp_path: Path, capsys):
    out = tmp_path / "mlp.cnx"
    argv = ["new", "mlp", "--sizes", "64,256,256,10", "--activation", "gelu"]
    assert main([*argv, "-o", str(out)]) == 0
    assert out.read_text() == connexc.new_mlp([64, 256, 256, 10], activation="gelu")
    assert main(["new", "dense-mlp", "--sizes", "4,8,2", "--name", "D"]) == 0
    assert capsys.readouterr().out == connexc.new_dense_mlp([4, 8, 2], name="D")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--sizes", "64,x"], "--sizes must be comma-separated ints, got '64,x'"),
        (["--sizes", "64"], "sizes needs at least an input and an output width"),
        (["--sizes", "4,2", "--activation", "nope"], "activation must be one of"),
    ],
    ids=["not-ints", "one-layer", "activation"],
)
def test_cli_usage_errors_exit_2_without_output(tmp_path: Path, capsys, argv, message):
    out = tmp_path / "mlp.cnx"
    with pytest.raises(SystemExit) as exit_info:
        main(["new", "mlp", *argv, "-o", str(out)])
    assert exit_info.value.code == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "connexc new: error: " + message in err
    assert "Traceback" not in err


def test_example_mlp_gelu_is_the_generator_output():
    committed = (ROOT / "examples" / "mlp_gelu.cnx").read_text()
    assert committed == connexc.new_mlp([64, 256, 256, 10], activation="gelu")


def test_cli_reports_an_unwritable_output_without_a_traceback(tmp_path: Path, capsys):
    out = tmp_path / "missing" / "mlp.cnx"
    assert main(["new", "mlp", "--sizes", "3,2", "-o", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"connexc new: error: cannot write '{out}': No such file or directory\n"
        "  hint: check that the directory exists and is writable\n"
    )

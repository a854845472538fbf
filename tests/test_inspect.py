"""`connexc inspect` and `connexc.inspect_network`: the table of levels."""

from __future__ import annotations

import random
import re
import warnings
from pathlib import Path

import pytest
from conftest import ROOT

import connexc
from connexc._cli import main

SEED = ROOT / "examples" / "seed.cnx"

SEED_TABLE = """\
Seed: 1 inputs, 2 outputs, 12 neurons, 14 edges, 6 levels; strategy auto

level  width  gathered    form  matrix  edges  fill  work  params  neurons
--------------------------------------------------------------------------
0          1         -       -       -      -     -     -       -  0
1          3         1  window       3      3  100%     3       6  1, 2, 3
2          2         2  window       4      3   75%     4       5  4, 5
3          2         2  window       4      2   50%     4       4  6, 7
4          3         2  window       6      3   50%     6       6  8, 9, 10
5          1         3  window       3      3  100%     3       4  11
--------------------------------------------------------------------------
all       12                        20     14   70%    20      25

gathered: distinct neurons a level reads; form: window or gather (one matmul)
or sparse (padded fan-in sums), /scanN: inside lax.scan run N; matrix: entries
of its weight matrix or fan-in table; fill: edges / matrix; work: multiply-adds
per sample by the cost model; params: edges + biases.
"""


def test_seed_table_counts_levels_edges_and_parameters():
    assert connexc.inspect_network(SEED) == SEED_TABLE


def test_table_of_a_model_class_equals_table_of_its_source():
    seed = connexc.load(SEED)
    assert connexc.inspect_network(seed) == SEED_TABLE
    assert connexc.inspect_network(seed(key=_key())) == SEED_TABLE


def test_parameter_total_equals_the_models_parameter_count():
    text = connexc.new_dense_mlp([3, 4, 2])
    cls = connexc.load_source(text)
    model = cls(key=_key())
    total = len(model.edge_weight_array()) + len(model.bias_array())
    last_row = connexc.inspect_network(text).splitlines()[-6]
    assert last_row.split()[-1] == str(total)


def test_group_members_are_shown_as_ranges():
    text = "input x[3]\nhidden h[200]\noutput y\nx -> h -> y\n"
    rows = connexc.inspect_network(text).splitlines()
    assert rows[4].endswith("  x[0..2]")
    assert rows[5].endswith("  h[0..199]")
    assert rows[5].split()[:9] == [
        "1",
        "200",
        "3",
        "window",
        "600",
        "600",
        "100%",
        "600",
        "800",
    ]


def test_cli_prints_a_table_per_file(capsys):
    assert main(["inspect", str(SEED), str(SEED)]) == 0
    out = capsys.readouterr().out
    assert out == f"{SEED}\n{SEED_TABLE}\n{SEED}\n{SEED_TABLE}"


def test_cli_reports_a_bad_file_and_exits_1(tmp_path: Path, capsys):
    bad = tmp_path / "bad.cnx"
    bad.write_text("input x\noutput y\nx -> z\n")
    assert main(["inspect", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"{bad}:3:6: error: neuron 'z' is used but never declared\n"
        "    3 | x -> z\n"
        "      |      ^\n"
        "  hint: declare it in an input, hidden or output statement\n"
    )


def test_cli_without_files_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["inspect"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: FILE" in capsys.readouterr().err


def _key():
    import jax

    return jax.random.key(0)


def _deep_network(seed: int, depth: int = 20, width: int = 4) -> str:
    """A deep, narrow network whose neurons read two of the last three layers."""
    rng = random.Random(seed)
    layers = [[f"a{i}" for i in range(width)]]
    lines = ["input " + ", ".join(layers[0])]
    for k in range(1, depth):
        layer = [f"n{k}_{i}" for i in range(width)]
        lines.append("hidden " + ", ".join(layer))
        pool = [n for earlier in layers[-3:] for n in earlier]
        lines += [f"{s} -> {n}" for n in layer for s in rng.sample(pool, 2)]
        layers.append(layer)
    lines += ["output y", f"{', '.join(layers[-1])} -> y"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("strategy", ["auto", "dense", "sparse"])
def test_forms_shown_are_the_forms_compiled(strategy):
    text = _deep_network(seed=len(strategy))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        code = connexc.compile_source(text, strategy=strategy)
    compiled = re.findall(r'^    form="(\w+)",$', code, re.M)
    rows = connexc.inspect_network(text, strategy=strategy).splitlines()[5:-7]
    shown = [row.split()[3].split("/")[0] for row in rows]
    assert shown == compiled
    scanned = any("/scan" in row for row in rows)
    assert scanned == ("lax.scan" in code and strategy != "dense")

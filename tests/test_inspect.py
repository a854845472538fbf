"""`connexc inspect` and `connexc.inspect_network`: the table of levels."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT

import connexc
from connexc._cli import main

SEED = ROOT / "examples" / "seed.cnx"

SEED_TABLE = """\
Seed: 1 inputs, 2 outputs, 12 neurons, 14 edges, 6 levels

level  width  gathered  dense  edges  fill  params  neurons
-----------------------------------------------------------
0          1         -      -      -     -       -  0
1          3         1      3      3  100%       6  1, 2, 3
2          2         2      4      3   75%       5  4, 5
3          2         2      4      2   50%       4  6, 7
4          3         2      6      3   50%       6  8, 9, 10
5          1         3      3      3  100%       4  11
-----------------------------------------------------------
all       12               20     14   70%      25

gathered: distinct neurons a level reads; dense: entries of its weight matrix;
edges: real connections among them; fill: edges / dense; params: edges + biases.
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
    last_row = connexc.inspect_network(text).splitlines()[-4]
    assert last_row.split()[-1] == str(total)


def test_group_members_are_shown_as_ranges():
    text = "input x[3]\nhidden h[200]\noutput y\nx -> h -> y\n"
    rows = connexc.inspect_network(text).splitlines()
    assert rows[4].endswith("  x[0..2]")
    assert rows[5].endswith("  h[0..199]")
    assert rows[5].split()[:7] == ["1", "200", "3", "600", "600", "100%", "800"]


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

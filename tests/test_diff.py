"""`connexc diff`: structural comparison of two networks, text and JSON, exit codes."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_write import structures

import connexc
from connexc._cli import main
from connexc._diff import diff_structures
from connexc._write import write_cnx

OLD = """\
network Seed
input 0
hidden 1, 2, 4
output 3
0 -> 1, 2
1, 2 -> 4 -> 3
"""

# The same network: statements reordered, edges regrouped, defaults spelled out.
REORDERED = """\
# a comment
network Seed
output 3
activation relu
1 -> 4
input 0
hidden 4, 2
0 -> 2
hidden 1
0 -> 1
2 -> 4
4 -> 3
"""

NEW = """\
network Seed
input 0
hidden 1, 4
hidden 2 activation=tanh
hidden 5 dropout=0.1
output 3
0 -> 1, 2
1, 2 -> 4 -> 3
2 -> 5 -> 3
"""


def run(tmp_path, capsys, old: str, new: str, *options: str) -> tuple[int, str, str]:
    (tmp_path / "old.cnx").write_text(old)
    (tmp_path / "new.cnx").write_text(new)
    status = main(
        ["diff", str(tmp_path / "old.cnx"), str(tmp_path / "new.cnx"), *options]
    )
    out, err = capsys.readouterr()
    return (
        status,
        out.replace(str(tmp_path) + "/", ""),
        err.replace(str(tmp_path) + "/", ""),
    )


def test_reordering_and_reformatting_is_no_change(tmp_path, capsys):
    assert run(tmp_path, capsys, OLD, REORDERED) == (
        0,
        "--- old.cnx\n+++ new.cnx\nno structural change\n",
        "",
    )


def test_structural_change_is_listed_and_exits_1(tmp_path, capsys):
    status, out, err = run(tmp_path, capsys, OLD, NEW)
    assert (status, err) == (1, "")
    assert out == (
        "--- old.cnx\n+++ new.cnx\n"
        "+ hidden 5 activation=relu dropout=0.1\n"
        "+ edge 2 -> 5\n"
        "+ edge 5 -> 3\n"
        "~ activation of 2: relu -> tanh\n"
        "1 neuron added, 2 edges added, 1 attribute changed\n"
    )


def test_removals_and_order_changes_are_listed(tmp_path, capsys):
    before = "input a, b\nhidden h\noutput y, z\na, b -> h -> y, z\nb -> z\n"
    after = "input b, a\noutput z, y\nb -> y, z\na -> z\n"
    status, out, _ = run(tmp_path, capsys, before, after)
    assert status == 1
    assert out.splitlines()[2:] == [
        "- hidden h activation=relu",
        "+ edge a -> z",
        "+ edge b -> y",
        "- edge a -> h",
        "- edge b -> h",
        "- edge h -> y",
        "- edge h -> z",
        "~ order of inputs: (a, b) -> (b, a)",
        "~ order of outputs: (y, z) -> (z, y)",
        "1 neuron removed, 2 edges added, 4 edges removed, 2 attributes changed",
    ]


def test_json_output_keeps_int_and_string_names(tmp_path, capsys):
    status, out, _ = run(tmp_path, capsys, OLD, NEW, "--json")
    assert status == 1
    report = json.loads(out)
    assert report == {
        "old": "old.cnx",
        "new": "new.cnx",
        "changed": True,
        "neurons": {
            "added": [
                {"name": 5, "role": "hidden", "activation": "relu", "dropout": 0.1}
            ],
            "removed": [],
        },
        "edges": {"added": [[2, 5], [5, 3]], "removed": []},
        "changes": [{"what": "activation", "neuron": 2, "old": "relu", "new": "tanh"}],
    }


def test_json_for_no_change_says_unchanged(tmp_path, capsys):
    status, out, _ = run(tmp_path, capsys, OLD, REORDERED, "--json")
    assert status == 0
    assert json.loads(out)["changed"] is False


def test_file_with_errors_exits_2_with_its_diagnostic(tmp_path, capsys):
    status, out, err = run(tmp_path, capsys, OLD, "input 0\noutput 3\n0 -> 9\n")
    assert (status, out) == (2, "")
    assert err == (
        "new.cnx:3:6: error: neuron '9' is used but never declared\n"
        "    3 | 0 -> 9\n"
        "      |      ^\n"
        "  hint: declare it in an input, hidden or output statement\n"
    )


def test_missing_file_exits_2(tmp_path, capsys):
    (tmp_path / "old.cnx").write_text(OLD)
    status = main(["diff", str(tmp_path / "old.cnx"), str(tmp_path / "none.cnx")])
    assert status == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["diff", "only-one.cnx"])
    assert caught.value.code == 2


def test_diff_compares_models_and_files(tmp_path):
    (tmp_path / "old.cnx").write_text(OLD)
    cls = connexc.load_source(NEW)
    found = connexc.diff(tmp_path / "old.cnx", cls)
    assert found.added_edges == ((2, 5), (5, 3))
    assert found.summary() == "1 neuron added, 2 edges added, 1 attribute changed"
    assert not connexc.diff(cls, cls)


def test_diff_takes_text_as_text():
    assert not connexc.diff(OLD, REORDERED)
    assert connexc.diff(OLD, NEW).summary().startswith("1 neuron added")


def test_whole_groups_and_blocks_of_edges_take_one_line(tmp_path, capsys):
    before = "input x[3]\nhidden h[4]\noutput y\nx -> h -> y\n"
    after = (
        "input x[3]\nhidden h[4]\nhidden g[2] activation=tanh\noutput y\n"
        "x -> h -> g -> y\nx[0] -> y\n"
    )
    status, out, _ = run(tmp_path, capsys, before, after)
    assert status == 1
    assert out.splitlines()[2:] == [
        "+ hidden g[2] activation=tanh",
        "+ edges g -> y (2 edges)",
        "+ edges h -> g (8 edges)",
        "+ edge x[0] -> y",
        "- edges h -> y (4 edges)",
        "2 neurons added, 11 edges added, 4 edges removed",
    ]


@settings(max_examples=40)
@given(structures(), st.randoms(use_true_random=False))
def test_shuffled_statements_are_no_change_and_one_edge_is_one(structure, rng):
    text = write_cnx(structure)
    header, declarations, edges = (part.splitlines() for part in text.split("\n\n"))
    hidden = [line for line in declarations if line.startswith("hidden ")]
    rest = [line for line in declarations if not line.startswith("hidden ")]
    statements = hidden + edges
    rng.shuffle(statements)
    shuffled = "\n".join(header + rest + statements) + "\n"
    assert not connexc.diff(text, shuffled)

    source, target = rng.choice(sorted(structure.edges, key=str))
    kept = tuple(e for e in structure.edges if e != (source, target))
    found = diff_structures(dataclasses.replace(structure, edges=kept), structure)
    assert (found.added_edges, found.removed_edges) == (((source, target),), ())

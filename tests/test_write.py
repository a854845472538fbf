"""The canonical `.cnx` writer: layout, round trips through the compiler, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connexc._compile import analyse, compile_network
from connexc._emit import render_module
from connexc._levels import assign_levels
from connexc._source import Source
from connexc._version import VERSION
from connexc._write import (
    Structure,
    name_key,
    network_of_structure,
    structure_of_model,
    structure_of_network,
    write_cnx,
)

_ROOT = Path(__file__).resolve().parent.parent


def parsed(text: str) -> Structure:
    network, _, _ = analyse(Source(text, "test.cnx"))
    return structure_of_network(network)


MIXED = """\
input b dropout=0.2
output y[2]
dropout 0.1
hidden h[12]
network M
hidden g[3] activation=tanh
activation gelu
x -> h
h -> g
b -> h[3], g
hidden q dropout=0.0
g -> y
input x[4]
h[1] -> q -> y[1]
"""

MIXED_CANONICAL = """\
network M
activation gelu
dropout 0.1

input b dropout=0.2
input x[4]
hidden h[12]
hidden q dropout=0.0
hidden g[3] activation=tanh
output y[2]

b -> g, h[3]
x -> h
g -> y
h -> g
h[1] -> q
q -> y[1]
"""


def test_canonical_layout_orders_header_declarations_and_edges():
    assert write_cnx(parsed(MIXED)) == MIXED_CANONICAL


def test_seed_network_writes_one_statement_per_source():
    text = write_cnx(parsed((_ROOT / "examples" / "seed.cnx").read_text()))
    assert text == (
        "network Seed\nactivation relu\n\ninput 0\n"
        "hidden 1, 2, 4, 5, 6, 7, 8, 9, 10\noutput 3, 11\n\n"
        "0 -> 1, 2, 3\n1 -> 4\n2 -> 4, 5\n4 -> 6\n5 -> 7\n6 -> 8, 9\n7 -> 10\n"
        "8 -> 11\n9 -> 11\n10 -> 11\n"
    )


def test_names_sort_ints_first_then_members_by_index():
    names = ["h[10]", "b", 10, "h", "h[9]", 2, "a"]
    assert sorted(names, key=name_key) == [2, 10, "a", "b", "h", "h[9]", "h[10]"]


def test_long_statements_wrap_before_88_columns_into_same_statements():
    hidden = tuple(f"neuron_{i}" for i in range(30))
    structure = Structure(
        name="Wide",
        inputs=("x",),
        outputs=("y",),
        hidden=hidden,
        edges=tuple(("x", h) for h in hidden) + tuple((h, "y") for h in hidden),
    )
    text = write_cnx(structure)
    lines = text.splitlines()
    assert max(map(len, lines)) <= 88
    assert sum(line.startswith("hidden ") for line in lines) > 1
    assert sum(line.startswith("x -> ") for line in lines) > 1
    assert parsed(text).canonical() == structure.canonical()


def test_one_edge_change_is_a_one_line_diff():
    before = write_cnx(parsed(MIXED))
    after = write_cnx(parsed(MIXED + "x[0] -> q\n"))
    removed = set(before.splitlines()) - set(after.splitlines())
    added = set(after.splitlines()) - set(before.splitlines())
    assert (removed, added) == (set(), {"x[0] -> q"})


def test_group_with_a_missing_member_is_refused():
    structure = parsed(MIXED)
    hidden = tuple(n for n in structure.hidden if n != "h[5]")
    edges = tuple(e for e in structure.edges if "h[5]" not in e)
    broken = Structure(
        **{**vars(structure), "hidden": hidden, "edges": edges},
    )
    with pytest.raises(ValueError) as caught:
        write_cnx(broken)
    assert str(caught.value) == (
        "group 'h' cannot be written in .cnx: its member 'h[5]' is missing; a group "
        "is declared whole, with one role and one set of attributes"
    )


def test_group_whose_members_differ_in_attributes_is_refused():
    structure = parsed(MIXED)
    activations = {**structure.activations, "g[1]": "relu"}
    with pytest.raises(ValueError, match="its member 'g\\[1\\]' has other attributes"):
        write_cnx(Structure(**{**vars(structure), "activations": activations}))


def test_group_with_every_member_gone_is_not_written():
    structure = Structure(
        name="N",
        inputs=("x",),
        outputs=("y",),
        hidden=("a",),
        edges=(("x", "a"), ("a", "y")),
        groups={"h": (3, "hidden")},
    )
    assert "h" not in write_cnx(structure).replace("hidden a", "")


def test_model_constants_give_the_parsed_structure():
    from connexc import load_source

    cls = load_source(MIXED, filename="mixed.cnx")
    assert structure_of_model(cls).canonical() == parsed(MIXED).canonical()
    assert write_cnx(structure_of_model(cls)) == MIXED_CANONICAL


_ACTIVATIONS = ["relu", "tanh", "gelu", "identity"]
_DROPOUTS = [0.0, 0.0, 0.1, 0.25]


@st.composite
def structures(draw: st.DrawFn) -> Structure:
    """Random valid networks: single neurons and groups, in a random DAG."""
    n_units = draw(st.integers(3, 9))
    units = []  # (name or group, size or None)
    for i in range(n_units):
        if draw(st.booleans()):
            units.append((draw(st.sampled_from([i, f"n{i}"])), None))
        else:
            units.append((f"g{i}", draw(st.integers(1, 3))))
    n_inputs = draw(st.integers(1, n_units - 2))
    roles = ["input"] * n_inputs + [
        draw(st.sampled_from(["hidden", "hidden", "output"])) for _ in units[n_inputs:]
    ]
    roles[-1] = "output"
    unit_attrs = [
        (draw(st.sampled_from(_ACTIVATIONS)), draw(st.sampled_from(_DROPOUTS)))
        for _ in units
    ]
    members = [
        [name] if size is None else [f"{name}[{k}]" for k in range(size)]
        for name, size in units
    ]
    order = [(u, m) for u in range(n_units) for m in members[u]]
    edges = set()
    for j, (unit, target) in enumerate(order):
        if roles[unit] == "input":
            continue
        sources = [n for u, n in order[:j] if roles[u] != "output" and u != unit]
        chosen = draw(st.lists(st.sampled_from(sources), max_size=3))
        edges.update((s, target) for s in [sources[0], *chosen])
    edges = draw(st.permutations(sorted(edges, key=lambda e: tuple(map(str, e)))))

    names_by_role = {
        role: [m for u in range(n_units) if roles[u] == role for m in members[u]]
        for role in ("input", "hidden", "output")
    }
    activations, dropout = {}, {}
    for u in range(n_units):
        for m in members[u]:
            if roles[u] == "hidden":
                activations[m] = unit_attrs[u][0]
            if unit_attrs[u][1]:
                dropout[m] = unit_attrs[u][1]
    return Structure(
        name="Random",
        inputs=tuple(names_by_role["input"]),
        outputs=tuple(names_by_role["output"]),
        hidden=tuple(draw(st.permutations(names_by_role["hidden"]))),
        edges=tuple(edges),
        activations=activations,
        dropout=dropout,
        output_activation=draw(st.sampled_from(["identity", "softmax"])),
        groups={
            name: (size, roles[u])
            for u, (name, size) in enumerate(units)
            if size is not None
        },
    )


@settings(max_examples=60)
@given(structures())
def test_compiling_written_text_gives_the_same_structure(structure):
    text = write_cnx(structure)
    assert parsed(text).canonical() == structure.canonical()


@settings(max_examples=60)
@given(structures())
def test_writing_is_idempotent(structure):
    text = write_cnx(structure)
    assert write_cnx(parsed(text)) == text


def _fields(network):
    return (
        network.name,
        network.neurons,
        network.inputs,
        network.outputs,
        network.edges,
        network.groups,
        network.output_activation,
        network.source.text,
    )


@settings(max_examples=60)
@given(structures())
def test_network_built_from_layout_equals_parsed_network_with_spans(structure):
    text, network = network_of_structure(structure, "edit.cnx")
    parsed_network, _, _ = analyse(Source(text, "edit.cnx"))
    assert _fields(network) == _fields(parsed_network)


def test_module_rendered_from_layout_is_byte_identical_to_compiled_text():
    structure = parsed(MIXED)
    text, network = network_of_structure(structure, "edit.cnx")
    assert render_module(network, assign_levels(network), VERSION) == (
        compile_network(Source(text, "edit.cnx")).code
    )

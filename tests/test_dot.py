"""`connexc dot` and `connexc.to_dot`: Graphviz pictures of networks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT

import connexc
from connexc import _dot
from connexc._cli import main

SEED = ROOT / "examples" / "seed.cnx"
GROUPED = """\
network Small
input x[3]
hidden h[4] activation=tanh
hidden a
output y[2]
x -> h -> y
x[0] -> a -> y[1]
"""
needs_graphviz = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz 'dot' is not installed"
)


def _edges(dot: str) -> list[tuple[str, str, str]]:
    found = re.findall(
        r'^  "([^"]+)" -> "([^"]+)"(?: \[label="([^"]*)"\])?;$', dot, re.M
    )
    return [(s, t, label) for s, t, label in found]


def _ranks(dot: str) -> list[tuple[str, list[str], str]]:
    found = re.findall(r"^  \{rank=(\w+); (.*);\}  // (.*)$", dot, re.M)
    return [
        (kind, re.findall(r'"([^"]+)"', nodes), what) for kind, nodes, what in found
    ]


def test_seed_has_inputs_first_outputs_last_and_one_rank_per_level():
    dot = connexc.to_dot(SEED)
    assert _ranks(dot) == [
        ("source", ["0"], "inputs"),
        ("same", ["1", "2"], "level 1"),
        ("same", ["4", "5"], "level 2"),
        ("same", ["6", "7"], "level 3"),
        ("same", ["8", "9", "10"], "level 4"),
        ("sink", ["3", "11"], "outputs"),
    ]
    # The outputs are chained invisibly, so Graphviz keeps them in vector order.
    assert '  "3" -> "11" [style=invis];' in dot.splitlines()


def test_every_edge_is_drawn_once_and_roles_are_marked():
    dot = connexc.to_dot(SEED)
    seed = connexc.load(SEED)
    assert sorted(_edges(dot)) == sorted((str(s), str(t), "") for s, t in seed.EDGES)
    assert re.search(r'^  "0" \[label="0", shape=box, ', dot, re.M)
    assert re.search(r'^  "11" \[label="11", shape=doublecircle, ', dot, re.M)
    assert re.search(
        r'^  "4" \[label="4", shape=circle, .*tooltip="relu"\];$', dot, re.M
    )


def test_model_class_draws_the_same_picture_as_its_source():
    from_text = connexc.to_dot(SEED).splitlines()
    from_class = connexc.to_dot(connexc.load(SEED)).splitlines()
    assert sorted(from_class) == sorted(from_text)


def test_hidden_groups_are_clusters_and_input_groups_keep_their_order():
    dot = connexc.to_dot(GROUPED, groups="expand")
    cluster = re.search(r'subgraph "cluster_h" \{\n(.*?)\n  \}', dot, re.S)
    assert cluster is not None
    assert re.findall(r'^    "([^"]+)" \[', cluster.group(1), re.M) == [
        "h[0]",
        "h[1]",
        "h[2]",
        "h[3]",
    ]
    assert "cluster_x" not in dot and "cluster_y" not in dot
    assert _ranks(dot)[0] == ("source", ["x[0]", "x[1]", "x[2]"], "inputs")
    assert '  "x[0]" -> "x[1]" -> "x[2]" [style=invis];' in dot.splitlines()


def test_collapsed_groups_are_single_nodes_with_counted_edges():
    dot = connexc.to_dot(GROUPED, groups="collapse")
    assert _edges(dot) == [
        ("x", "h", "dense"),
        ("h", "y", "dense"),
        ("x", "a", ""),
        ("a", "y", ""),
    ]
    assert re.search(r'^  "h" \[label="h\[4\]", shape=box, ', dot, re.M)
    assert _ranks(dot)[-1] == ("sink", ["y"], "outputs")


def test_auto_collapses_only_large_grouped_networks():
    small = connexc.to_dot(GROUPED)
    assert '"h[3]"' in small
    large = connexc.to_dot(connexc.new_mlp([64, 256, 10]))
    assert '"h1[3]"' not in large
    assert _edges(large) == [("x", "h1", "dense"), ("h1", "y", "dense")]


def test_unknown_group_mode_is_rejected():
    with pytest.raises(ValueError, match="groups must be 'auto', 'expand' or"):
        connexc.to_dot(SEED, groups="sometimes")


def test_cli_writes_dot_to_stdout_or_a_file(tmp_path: Path, capsys):
    assert main(["dot", str(SEED)]) == 0
    assert capsys.readouterr().out == connexc.to_dot(SEED)
    out = tmp_path / "net.dot"
    assert main(["dot", str(SEED), "-o", str(out)]) == 0
    assert out.read_text() == connexc.to_dot(SEED)


def test_cli_without_graphviz_says_how_to_install_it(
    tmp_path: Path, capsys, monkeypatch
):
    monkeypatch.setattr(_dot, "find_dot", lambda: None)
    out = tmp_path / "net.svg"
    assert main(["dot", str(SEED), "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err == (
        "connexc dot: error: the Graphviz 'dot' program is not installed\n"
        f"  hint: {_dot.INSTALL_HINT}\n"
    )


def test_cli_refuses_to_overwrite_its_input(tmp_path: Path, capsys):
    source = tmp_path / "net.cnx"
    source.write_text(SEED.read_text())
    with pytest.raises(SystemExit) as exit_info:
        main(["dot", str(source), "-o", str(source)])
    assert exit_info.value.code == 2
    assert source.read_text() == SEED.read_text()
    assert "refusing to overwrite the input file" in capsys.readouterr().err


def test_cli_reports_compile_errors_without_writing(tmp_path: Path, capsys):
    bad = tmp_path / "bad.cnx"
    bad.write_text("input x\noutput y\ny -> x\n")
    out = tmp_path / "bad.dot"
    assert main(["dot", str(bad), "-o", str(out)]) == 1
    assert not out.exists()
    assert capsys.readouterr().err.startswith(f"{bad}:3:")


@needs_graphviz
@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_cli_renders_images_through_graphviz(tmp_path: Path, image_format):
    source = tmp_path / "net.cnx"
    source.write_text(SEED.read_text())
    assert main(["dot", str(source), f"--{image_format}"]) == 0
    data = (tmp_path / f"net.{image_format}").read_bytes()
    assert data.startswith(b"\x89PNG") if image_format == "png" else b"<svg" in data


@needs_graphviz
def test_graphviz_places_inputs_and_outputs_in_vector_order():
    plain = connexc.render_dot(connexc.to_dot(GROUPED, groups="expand"), "plain")
    heights = {
        parts[1].strip('"'): float(parts[3])
        for parts in (line.split() for line in plain.decode().splitlines())
        if parts[0] == "node"
    }
    # rankdir=LR: the first input and the first output are drawn on top.
    assert heights["x[0]"] > heights["x[1]"] > heights["x[2]"]
    assert heights["y[0]"] > heights["y[1]"]


def test_readme_picture_is_the_current_drawing_of_the_seed():
    committed = ROOT / "docs" / "images" / "seed.svg"
    assert committed.exists()
    assert "<svg" in committed.read_text()
    committed_dot = (ROOT / "docs" / "images" / "seed.dot").read_text()
    assert committed_dot == connexc.to_dot(SEED), (
        "docs/images is stale: run 'connexc dot examples/seed.cnx -o "
        "docs/images/seed.dot' and 'connexc dot examples/seed.cnx --svg -o "
        "docs/images/seed.svg'"
    )

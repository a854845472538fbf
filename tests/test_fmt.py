"""`connexc fmt` and `connexc.format_cnx`: one canonical layout, comments kept."""

from __future__ import annotations

import difflib
import io
import random
from pathlib import Path

import pytest
from conftest import ROOT
from graphs import random_graph
from hypothesis import example, given, settings
from hypothesis import strategies as st

import connexc
from connexc._cli import main

MESSY = """\
# Header line one
# header line two

# About the name
network Demo   # the class name
output_activation identity  # restates the default
output y, z
hidden h[3] activation=relu   # a group
input a, b
hidden q
a -> h -> y   # a chain
b -> q  # first
# about q to z
q -> z  # second
h[1] -> z
# the end
"""

MESSY_FORMATTED = """\
# Header line one
# header line two

# About the name
# restates the default
network Demo  # the class name
activation relu

input a, b
hidden h[3], q  # a group
output y, z

a -> h  # a chain
b -> q  # first
h -> y
h[1] -> z
# about q to z
q -> z  # second

# the end
"""


def _meaning(text: str) -> tuple:
    """Everything a `.cnx` text means, independent of statement and edge order."""
    data = connexc.to_json(text)
    neurons = {
        n["name"]: (n["role"], n.get("activation"), n["dropout"])
        for n in data["neurons"]
    }
    edges = frozenset((e["source"], e["target"]) for e in data["edges"])
    return (
        data["name"],
        data["inputs"],
        data["outputs"],
        data["output_activation"],
        data["groups"],
        neurons,
        edges,
    )


def _with_comments(text: str, rng: random.Random) -> str:
    """`text` with comment lines, end-of-line comments and blank lines sprinkled in."""
    out = []
    for k, line in enumerate(text.splitlines()):
        if rng.random() < 0.3:
            out.append(f"# note {k}")
        if rng.random() < 0.2:
            out.append("")
        out.append(f"{line}  # tail {k}" if rng.random() < 0.3 else line)
    if rng.random() < 0.5:
        out.append("# footer")
    return "\n".join(out) + "\n"


def test_messy_file_gets_the_canonical_layout_with_its_comments():
    assert connexc.format_cnx(MESSY) == MESSY_FORMATTED


def test_formatting_is_idempotent_on_the_example():
    assert connexc.format_cnx(MESSY_FORMATTED) == MESSY_FORMATTED


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(2, 14))
def test_formatting_keeps_meaning_and_comments_and_is_idempotent(seed, size):
    rng = random.Random(seed)
    text = _with_comments(random_graph(rng, size).to_cnx(rng), rng)
    formatted = connexc.format_cnx(text)
    assert _meaning(formatted) == _meaning(text)
    assert connexc.format_cnx(formatted) == formatted
    comments = [line[line.index("#") :] for line in text.splitlines() if "#" in line]
    kept = [line[line.index("#") :] for line in formatted.splitlines() if "#" in line]
    assert sorted(kept) == sorted(comments)


@example(seed=600140585, size=14)  # a statement that wraps
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(3, 14))
def test_adding_one_edge_changes_only_its_sources_line(seed, size):
    rng = random.Random(seed)
    graph = random_graph(rng, size)
    sources = graph.inputs + graph.hidden
    targets = graph.hidden + graph.outputs
    candidates = [
        (s, t) for s in sources for t in targets if s != t and (s, t) not in graph.edges
    ]
    if not candidates:
        return
    source, target = rng.choice(candidates)
    text = graph.to_cnx()
    before = connexc.format_cnx(text)
    after = connexc.format_cnx(f"{source} -> {target}\n" + text)
    changed = [
        line
        for line in difflib.ndiff(before.splitlines(), after.splitlines())
        if line[:1] in "+-"
    ]
    # Only the statement of the edge's source changes, and when it fits on one line
    # (statements wrap at 88 columns) that is a one-line diff.
    head = f"{source} ->"
    assert all(line[2:].startswith(head + " ") for line in changed), changed
    removed = [line for line in changed if line.startswith("-")]
    added = [line for line in changed if line.startswith("+")]
    wraps = [
        t
        for t in (before, after)
        if sum(x.startswith(head) for x in t.splitlines()) > 1
    ]
    if not wraps:
        assert len(added) == 1 and len(removed) <= 1, changed


def test_to_cnx_output_is_already_canonical():
    import jax

    for text in (ROOT / "examples" / "seed.cnx").read_text(), MESSY:
        model = connexc.load_source(text)(key=jax.random.key(0))
        written = connexc.to_cnx(model)
        assert connexc.format_cnx(written) == written


@pytest.mark.parametrize("dense", [False, True], ids=["mlp", "dense-mlp"])
def test_generated_networks_are_already_canonical(dense):
    make = connexc.new_dense_mlp if dense else connexc.new_mlp
    text = make([5, 7, 3, 2], activation="tanh", dropout=0.1)
    assert connexc.format_cnx(text) == text


def test_statements_merged_into_one_line_keep_all_their_comments():
    text = "input a\nhidden b\noutput c\na -> b  # one\na -> c  # two\nb -> c\n"
    assert connexc.format_cnx(text) == (
        "network Network\n"
        "activation relu\n"
        "\n"
        "input a\n"
        "hidden b\n"
        "output c\n"
        "\n"
        "# two\n"
        "a -> b, c  # one\n"
        "b -> c\n"
    )


def test_only_comments_before_the_first_statement_form_the_header():
    text = "# title\ninput a  # in\noutput b\n\na -> b\n"
    assert connexc.format_cnx(text) == (
        "# title\nnetwork Network\nactivation relu\n\ninput a  # in\noutput b\n\n"
        "a -> b\n"
    )


def test_formatting_a_file_with_errors_raises_compile_error():
    with pytest.raises(connexc.CompileError) as error:
        connexc.format_cnx("input a\noutput b\na -> c\n", filename="net.cnx")
    assert str(error.value).startswith(
        "net.cnx:3:6: error: neuron 'c' is used but never declared"
    )


def test_a_cycle_does_not_stop_formatting():
    text = "input a\nhidden b, c\noutput d\nb -> c -> b\na -> b\nc -> d\n"
    assert "b -> c\nc -> b, d\n" in connexc.format_cnx(text)


def test_cli_check_lists_changed_files_and_exits_1(tmp_path: Path, capsys):
    messy = tmp_path / "messy.cnx"
    messy.write_text(MESSY)
    tidy = tmp_path / "sub" / "tidy.cnx"
    tidy.parent.mkdir()
    tidy.write_text(MESSY_FORMATTED)
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == f"would reformat {messy}\n"
    assert messy.read_text() == MESSY
    assert main(["fmt", "--check", str(tidy)]) == 0


def test_cli_diff_shows_the_change_and_writes_nothing(tmp_path: Path, capsys):
    path = tmp_path / "net.cnx"
    path.write_text("input a\noutput b\na->b  # x")
    assert main(["fmt", "--diff", str(path)]) == 1
    assert path.read_text() == "input a\noutput b\na->b  # x"
    assert capsys.readouterr().out == (
        f"--- {path}\n"
        f"+++ {path} (formatted)\n"
        "@@ -1,3 +1,7 @@\n"
        "+network Network\n"
        "+activation relu\n"
        "+\n"
        " input a\n"
        " output b\n"
        "-a->b  # x\n"
        "+\n"
        "+a -> b  # x\n"
    )


def test_cli_rewrites_files_in_place(tmp_path: Path, capsys):
    messy = tmp_path / "messy.cnx"
    messy.write_text(MESSY)
    assert main(["fmt", str(messy)]) == 0
    assert messy.read_text() == MESSY_FORMATTED
    assert capsys.readouterr().err == f"reformatted {messy}\n"
    assert main(["fmt", str(messy)]) == 0
    assert capsys.readouterr().err == ""


def test_cli_leaves_a_file_with_errors_untouched(tmp_path: Path, capsys):
    bad = tmp_path / "bad.cnx"
    bad.write_text("input a\noutput b\na -> c\n")
    good = tmp_path / "good.cnx"
    good.write_text(MESSY)
    assert main(["fmt", str(bad), str(good)]) == 1
    assert bad.read_text() == "input a\noutput b\na -> c\n"
    assert good.read_text() == MESSY_FORMATTED
    assert capsys.readouterr().err == (
        f"{bad}:3:6: error: neuron 'c' is used but never declared\n"
        "    3 | a -> c\n"
        "      |      ^\n"
        "  hint: declare it in an input, hidden or output statement\n"
        f"reformatted {good}\n"
    )


def test_cli_formats_stdin_to_stdout(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(MESSY))
    assert main(["fmt", "-"]) == 0
    assert capsys.readouterr().out == MESSY_FORMATTED


def test_odd_whitespace_and_unicode_in_comments_are_kept_verbatim():
    text = (
        "# caf\u00e9 \u2028 header\r\n"
        "input a\f  # form\ffeed\r\n"
        "output b  # \u00fcber\n"
        "a -> b"
    )
    assert connexc.format_cnx(text) == (
        "# caf\u00e9 \u2028 header\n"
        "network Network\n"
        "activation relu\n"
        "\n"
        "input a  # form\ffeed\n"
        "output b  # \u00fcber\n"
        "\n"
        "a -> b\n"
    )


@settings(max_examples=60, deadline=None)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from(list("#\n ,->[]1ah\t\f\r="))),
        max_size=4,
    )
)
def test_mutated_files_format_cleanly_or_raise_compile_error(edits):
    text = MESSY
    for position, char in edits:
        position %= len(text) + 1
        text = text[:position] + char + text[position:]
    try:
        formatted = connexc.format_cnx(text)
    except connexc.CompileError:
        return
    assert connexc.format_cnx(formatted) == formatted
    try:
        meaning = _meaning(text)
    except connexc.CompileError:  # a graph error, which formatting does not check
        return
    assert _meaning(formatted) == meaning

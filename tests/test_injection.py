"""No `.cnx` name, comment or file name can change what a generated module does.

Names the language accepts reach the generated code only as string or int literals,
so a module compiled with hostile names must have the same syntax tree as one
compiled with plain names once string literals are blanked. Text the language does
not accept (quotes, backslashes, unicode look-alikes) must be refused cleanly.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import TRICKY_NAMES, examples, identifiers

import connexc

ROOT = Path(__file__).resolve().parent.parent

# A network with a neuron or group in every role; {a} .. {f} are filled with names.
SHAPE = """\
network {net}
input {a}, {b}[2]
hidden {c} activation=tanh
hidden {d}[3] dropout=0.25
output {e}, {f}
{a}, {b} -> {c} -> {d} -> {e}
{b}[1] -> {f}
{d}[0], {c} -> {f}
"""
PLAIN = {"net": "Plain", "a": "p", "b": "q", "c": "r", "d": "s", "e": "t", "f": "u"}


def compile_quietly(text: str, filename: str = "net.cnx") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        return connexc.compile_source(text, filename=filename)


def skeleton(code: str) -> str:
    """The module's syntax tree with every string literal and the class name blanked.

    Two modules with the same skeleton run the same code on the same tables.
    """
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            node.name = "Model"
        elif isinstance(node, ast.Name) and node.id == PLAIN["net"]:
            node.id = "Model"
    return ast.dump(tree)


@cache
def plain_skeleton() -> str:
    return skeleton(compile_quietly(SHAPE.format(**PLAIN)))


@settings(max_examples=examples(150, 2000))
@given(
    st.lists(identifiers(), min_size=6, max_size=6, unique=True),
    st.sampled_from(["Net", "Model", "Self", "Jnp", "Eqx", "NEURONS", "X__"]),
)
def test_accepted_names_cannot_change_the_generated_program(
    names: list[str], network: str
) -> None:
    filled = dict(zip("abcdef", names, strict=True), net=network)
    code = compile_quietly(SHAPE.format(**filled))
    assert skeleton(code) == plain_skeleton()


def test_every_tricky_name_stays_a_string_literal() -> None:
    names = [n for n in TRICKY_NAMES if n not in {"_", "__"}]
    text = "input " + ", ".join(names[:3]) + "\n"
    text += "hidden " + ", ".join(names[3:-3]) + "\n"
    text += "output " + ", ".join(names[-3:]) + "\n"
    text += ", ".join(names[:3]) + " -> " + ", ".join(names[3:-3]) + "\n"
    text += ", ".join(names[3:-3]) + " -> " + ", ".join(names[-3:]) + "\n"
    code = compile_quietly(text)
    literals = {
        node.value
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(names) <= literals
    # No name became an identifier the module binds or reads at top level.
    plain = compile_quietly(text.replace("None", "n0").replace("True", "n1"))
    assert "None = " not in code and "def print" not in code
    assert len(code.splitlines()) == len(plain.splitlines())


def test_tricky_names_evaluate_like_plain_ones() -> None:
    import jax
    import jax.numpy as jnp

    hostile = dict(PLAIN, a="__import__", b="None", c="self", d="x", e="jnp", f="v")
    cls = load(SHAPE.format(**hostile))
    assert cls.INPUTS == ("__import__", "None[0]", "None[1]")
    assert cls.OUTPUTS == ("jnp", "v")
    rng = np.random.default_rng(0)
    weights = {e: float(np.float32(rng.normal())) for e in cls.EDGES}
    biases = {n: float(np.float32(rng.normal())) for n in cls.NEURONS[3:]}
    model = cls(key=jax.random.key(0)).with_parameters(
        np.array(list(weights.values()), np.float32),
        np.array(list(biases.values()), np.float32),
    )
    x = np.array([0.5, -1.0, 2.0], np.float32)
    activations = {n: "tanh" if n == "self" else "relu" for n in cls.ACTIVATIONS}
    expected = reference.evaluate(
        x,
        inputs=cls.INPUTS,
        outputs=cls.OUTPUTS,
        weights=weights,
        biases=biases,
        activations=activations,
    )
    np.testing.assert_allclose(model(jnp.asarray(x)), expected, rtol=1e-5, atol=1e-5)


def load(text: str) -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        return connexc.load_source(text)


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ('a"b', 8),
        ("a'b", 8),
        ("a\\b", 8),
        ("ｘ", 7),  # FULLWIDTH LATIN SMALL LETTER X, NFKC "x"
        ("ﬁ", 7),  # LATIN SMALL LIGATURE FI, NFKC "fi"
        ("𝐱", 7),  # MATHEMATICAL BOLD SMALL X, NFKC "x"
        ("xª", 8),  # FEMININE ORDINAL INDICATOR, NFKC "a"
        ("Ⅸ", 7),  # ROMAN NUMERAL NINE, NFKC "IX"
        ("x\u200b", 8),  # ZERO WIDTH SPACE
        ("٣", 7),  # ARABIC-INDIC DIGIT THREE, int() would read 3
    ],
    ids=[
        "double-quote",
        "single-quote",
        "backslash",
        "fullwidth",
        "ligature",
        "math-bold",
        "ordinal",
        "roman",
        "zero-width",
        "arabic-digit",
    ],
)
def test_names_outside_ascii_identifiers_are_refused(name: str, column: int) -> None:
    text = f"input {name}\noutput y\n{name} -> y\n"
    with pytest.raises(connexc.ParseError) as caught:
        connexc.compile_source(text, filename="net.cnx")
    err = caught.value
    assert (err.line, err.column) == (1, column)
    char = text.split("\n")[0][column - 1]
    shown = char if char.isprintable() else char.encode("unicode_escape").decode()
    assert err.message == f"unexpected character '{shown}'"


def test_a_refused_character_is_reported_with_carets_and_a_hint() -> None:
    with pytest.raises(connexc.ParseError) as caught:
        connexc.compile_source('input a"b\noutput y\n', filename="net.cnx")
    assert str(caught.value) == (
        "net.cnx:1:8: error: unexpected character '\"'\n"
        '    1 | input a"b\n'
        "      |        ^\n"
        "  hint: names are letters, digits and '_' not starting with a digit, or "
        "plain numbers; comments start with '#'"
    )


@pytest.mark.parametrize("name", ["None", "class", "print", "jnp", "_Hidden", "eqx"])
def test_network_names_that_would_clash_are_refused(name: str) -> None:
    text = f"network {name}\ninput a\noutput b\na -> b\n"
    with pytest.raises(connexc.GraphError) as caught:
        connexc.compile_source(text, filename="net.cnx")
    assert str(caught.value) == (
        f"net.cnx:1:9: error: network name '{name}' would clash with a name in the "
        "generated module\n"
        f"    1 | network {name}\n"
        f"      |         {'^' * len(name)}\n"
        "  hint: choose another name, for example in CamelCase like 'Seed'"
    )


def test_names_that_a_sanitizer_might_merge_stay_distinct() -> None:
    text = (
        "input a_b, a__b, A_B, ab\nhidden x1, x_1, X1\noutput y\n"
        "a_b, a__b, A_B, ab -> x1, x_1, X1 -> y\n"
    )
    tree = ast.parse(compile_quietly(text))
    literals = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    for name in ("a_b", "a__b", "A_B", "ab", "x1", "x_1", "X1"):
        assert name in literals


def test_the_same_int_spelled_twice_is_one_name() -> None:
    with pytest.raises(connexc.GraphError) as caught:
        connexc.compile_source("input 7, 007\noutput y\n7 -> y\n", filename="n.cnx")
    assert caught.value.message == "'7' is declared twice"
    assert (caught.value.line, caught.value.column) == (1, 10)


HOSTILE_COMMENTS = [
    '# """; import os; os.system("echo pwned")',
    "# '''\\",
    "# \\\n",
    "# {{ view.class_name }} {% raw %}",
    "# \x00\x1b[2J\u2028\u2029\x85",
    "# fmt: on",
]


def test_comments_cannot_change_the_generated_file() -> None:
    text = SHAPE.format(**PLAIN)
    lines = text.splitlines()
    commented = [
        f"{line}  {HOSTILE_COMMENTS[i % len(HOSTILE_COMMENTS)].rstrip()}"
        for i, line in enumerate(lines)
    ]
    assert compile_quietly("\n".join(commented) + "\n") == compile_quietly(text)


HOSTILE_FILENAMES = [
    'evil""".cnx',
    "x'''\nimport os\nos.system('echo pwned')\n'''.cnx",
    "a\\b\\c.cnx",
    "back\\",
    "{{ view }}{% if %}.cnx",
    "%s%d{}.cnx",
    "tab\there.cnx",
    "nul\x00byte.cnx",
    "bell\x07\x1b[31m.cnx",
    "é✓😀.cnx",
    "line\u2028sep.cnx",
    "dir/../../etc/passwd",
    "# not a comment",
    "x" * 300 + ".cnx",
    "",
]


@pytest.mark.parametrize(
    "filename", HOSTILE_FILENAMES, ids=range(len(HOSTILE_FILENAMES))
)
def test_hostile_file_names_cannot_change_the_generated_program(filename: str) -> None:
    text = SHAPE.format(**PLAIN)
    code = compile_quietly(text, filename=filename)
    plain = compile_quietly(text, filename="net.cnx")
    assert skeleton(code) == skeleton(plain)
    header, docstring_start = code.split("\n")[:2]
    assert header.startswith("# Generated by connexc ")
    assert docstring_start.startswith('"""')
    assert len(code.splitlines()) == len(plain.splitlines())
    assert code.isascii()


def test_the_command_line_compiles_a_file_with_a_hostile_name(tmp_path: Path) -> None:
    source = tmp_path / "q\"u'o\\te\nline.cnx"
    source.write_text(SHAPE.format(**PLAIN), encoding="utf-8")
    output = tmp_path / "out.py"
    done = subprocess.run(
        [sys.executable, "-m", "connexc", str(source), "-o", str(output)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    code = output.read_text(encoding="utf-8")
    assert skeleton(code) == skeleton(compile_quietly(SHAPE.format(**PLAIN)))
    assert code.split("\n")[0].startswith("# Generated by connexc ")

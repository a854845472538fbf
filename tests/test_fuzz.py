"""Fuzzing the compiler: every input either compiles to a module that agrees with the
reference evaluator, or fails with a `CompileError` that points inside the text.

Nothing else may escape: no Lark exception, `KeyError`, `RecursionError` or jinja
error. Most examples only compile (no JAX); a few import and run the result.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sys
import types
import warnings

import numpy as np
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Program, examples, mutated, program_texts, programs, token_soup

import connexc

SEED = """\
# The 12-neuron network from the Connex README.
network Seed
activation relu

input 0
hidden 1, 2, 4, 5, 6, 7, 8, 9, 10
output 3, 11

0 -> 1, 2, 3
1 -> 4
2 -> 4, 5
4 -> 6
5 -> 7
6 -> 8, 9
7 -> 10
8, 9, 10 -> 11
"""
GROUPS = """\
network Grouped
dropout 0.1
input x[3], bias_in
hidden h[4] activation=tanh
hidden g[2] dropout=0.5
output y[2]
output_activation softmax

x, bias_in -> h -> g -> y  # a chain of groups
x[0] -> y[1]
h[3], bias_in -> y[0]
"""


def compile_or_error(text: str, filename: str = "fuzz.cnx") -> str | None:
    """Compile `text`; on a `CompileError`, check it points inside the text.

    Returns the generated code, or None when the text has errors. Any exception
    other than `CompileError` propagates and fails the test.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", connexc.CompileWarning)
            return connexc.compile_source(text, filename=filename)
    except connexc.CompileError as err:
        assert_points_inside(err, text, filename)
        return None


def assert_points_inside(err: connexc.CompileError, text: str, filename: str) -> None:
    """Every diagnostic of `err` names a line and column that exist in `text`."""
    # The parser counts lines by "\n" only; a final newline is implied.
    lines = text.split("\n")
    assert err.filename == filename
    assert (err.line, err.column) == (
        err.diagnostics[0].span.line,
        err.diagnostics[0].span.column,
    )
    for found in err.diagnostics:
        span = found.span
        assert 1 <= span.line <= len(lines), (span, text)
        assert 1 <= span.column <= len(lines[span.line - 1]) + 1, (span, text)
        assert found.source_line == lines[span.line - 1].removesuffix("\r")
    rendered = str(err)
    assert rendered.startswith(f"{filename}:{err.line}:{err.column}: error: ")
    # No Lark token reprs in what the compiler says (names may be any identifier,
    # but never contain a parenthesis).
    assert all("Token(" not in found.message for found in err.diagnostics)


@settings(max_examples=examples(1000, 20000))
@given(mutated(st.sampled_from([SEED, GROUPS]) | program_texts()))
def test_damaged_programs_compile_or_fail_with_a_position(text: str) -> None:
    code = compile_or_error(text)
    if code is not None:
        ast.parse(code)


@settings(max_examples=examples(800, 10000))
@given(token_soup())
def test_token_soup_compiles_or_fails_with_a_position(text: str) -> None:
    code = compile_or_error(text)
    if code is not None:
        ast.parse(code)


@settings(max_examples=examples(400, 10000))
@given(st.text(max_size=80))
def test_arbitrary_text_compiles_or_fails_with_a_position(text: str) -> None:
    code = compile_or_error(text)
    if code is not None:
        ast.parse(code)


@settings(max_examples=examples(300, 3000))
@given(programs())
def test_valid_programs_always_compile(program: Program) -> None:
    code = compile_or_error(program.text)
    assert code is not None, program.text
    tree = ast.parse(code)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert (program.name or "Network") in classes
    assert re.search(rf"^class {program.name or 'Network'}\(eqx\.Module\):", code, re.M)


@settings(max_examples=examples(60, 1000))
@given(programs())
def test_valid_programs_have_the_structure_written(program: Program) -> None:
    cls = load(program.text)
    assert cls.INPUTS == program.inputs
    assert cls.OUTPUTS == program.outputs
    assert sorted(cls.EDGES, key=repr) == list(program.edges)
    assert len(set(cls.EDGES)) == len(cls.EDGES)
    hidden = {n: a for n, a in cls.ACTIVATIONS.items() if n in program.activations}
    assert hidden == program.activations
    assert set(cls.NEURONS) == {*program.inputs, *program.hidden, *program.outputs}
    assert cls.OUTPUT_ACTIVATION == program.output_activation
    assert {n: p for n, p in cls.DROPOUT.items() if p} == program.dropout


@settings(max_examples=examples(12, 150))
@given(
    programs(), st.integers(0, 2**32 - 1), st.sampled_from(["auto", "dense", "sparse"])
)
def test_valid_programs_match_the_reference(
    program: Program, seed: int, strategy: str
) -> None:
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    cls = load(program.text, strategy=strategy)
    rng = np.random.default_rng(seed)
    weights = {edge: float(np.float32(rng.normal())) for edge in program.edges}
    biases = {
        n: float(np.float32(rng.normal())) for n in cls.NEURONS[len(cls.INPUTS) :]
    }
    model = cls(key=jax.random.key(0)).with_parameters(
        np.array([weights[e] for e in cls.EDGES], dtype=np.float32),
        np.array(list(biases.values()), dtype=np.float32),
    )
    x = rng.normal(size=len(program.inputs)).astype(np.float32)
    expected = reference.evaluate(
        x,
        inputs=program.inputs,
        outputs=program.outputs,
        weights=weights,
        biases=biases,
        activations=program.activations,
        output_activation=program.output_activation,
    )
    actual = np.asarray(eqx.filter_jit(lambda m, v: m(v))(model, jnp.asarray(x)))
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


def load(text: str, strategy: str = "auto") -> type:
    """Compile with the given strategy and import the module's network class."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        code = connexc.compile_source(text, strategy=strategy)
    name = f"connexc_fuzz_{hashlib.sha256(code.encode()).hexdigest()[:16]}"
    module = sys.modules.get(name)
    if module is None:
        module = types.ModuleType(name)
        sys.modules[name] = module  # equinox looks the module up while building
        exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    (cls_name,) = re.findall(r"^class (\w+)\(eqx\.Module\):", code, re.MULTILINE)
    return getattr(module, cls_name)


def test_a_ten_thousand_deep_chain_compiles() -> None:
    depth = 10_000
    names = [f"n{i}" for i in range(depth)]
    text = "input n0\noutput out\nhidden " + ", ".join(names[1:]) + "\n"
    text += " -> ".join(names) + " -> out\n"
    for strategy in ("auto", "dense", "sparse"):
        code = connexc.compile_source(text, strategy=strategy)
        assert f"- Levels: {depth + 1}," in code
        ast.parse(code)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("input a\x0cb\noutput c\n", 1, 10),
        ("# x\u2028y\ninput a\noutput c\nd -> c\n", 4, 1),
        ("input a\routput b\n", 1, 8),
        ("input a\noutput b\na -> b\x0b\n", 3, 7),
    ],
    ids=["form-feed", "line-separator-in-comment", "bare-carriage-return", "vtab"],
)
def test_unusual_line_breaks_report_the_line_the_parser_counts(
    text: str, line: int, column: int
) -> None:
    with pytest.raises(connexc.CompileError) as caught:
        connexc.compile_source(text, filename="odd.cnx")
    assert (caught.value.line, caught.value.column) == (line, column)
    assert_points_inside(caught.value, text, "odd.cnx")


def test_an_output_fed_by_nothing_evaluates_to_its_bias() -> None:
    import jax
    import jax.numpy as jnp

    for strategy in ("auto", "dense", "sparse"):
        cls = load("input a\noutput b\n", strategy)
        model = cls(key=jax.random.key(0)).with_parameters(
            np.zeros(0, np.float32), np.array([2.5], np.float32)
        )
        assert np.asarray(model(jnp.ones(1))).tolist() == [2.5], strategy

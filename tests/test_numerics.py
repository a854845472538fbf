"""Numerics of generated modules: float32 and float64 agree with the reference
evaluator, gradients agree with finite differences of the reference, and NaN or
infinite inputs travel exactly as far as the graph carries them.

float64 needs `jax_enable_x64` before JAX starts, so those checks run in one
subprocess over a handful of random programs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest
import reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import Program, programs

import connexc

ROOT = Path(__file__).resolve().parent.parent

# Run with x64 on: compare every program's forward pass in float64 with the
# reference, and the gradient of a random projection of its outputs with respect to
# every weight and bias with central differences of the reference.
_FLOAT64_SCRIPT = r"""
import json, sys, warnings
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
import numpy as np
sys.path.insert(0, sys.argv[2])
import reference
import connexc

def key(name):
    return tuple(name) if isinstance(name, list) else name

failures = []
for case in json.load(open(sys.argv[1])):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cls = connexc.load_source(case["text"])
    edges = [tuple(e) for e in case["edges"]]
    assert sorted(map(repr, cls.EDGES)) == sorted(map(repr, edges))
    rng = np.random.default_rng(case["seed"])
    weights = {e: rng.normal() for e in cls.EDGES}
    biases = {n: rng.normal() for n in cls.NEURONS[len(cls.INPUTS):]}
    x = rng.normal(size=len(cls.INPUTS))
    r = rng.normal(size=len(cls.OUTPUTS))
    model = cls(key=jax.random.key(0))
    ew = jnp.asarray(list(weights.values()), jnp.float64)
    bs = jnp.asarray(list(biases.values()), jnp.float64)
    spec = dict(inputs=list(cls.INPUTS), outputs=list(cls.OUTPUTS),
                activations={key(k): v for k, v in case["activations"]},
                output_activation=case["output_activation"])

    def ref(w, b):
        return reference.evaluate(x, weights=dict(zip(cls.EDGES, w)),
                                  biases=dict(zip(biases, b)), **spec)

    y = model.with_parameters(ew, bs)(jnp.asarray(x))
    if y.dtype != jnp.float64:
        failures.append(f"{case['text']!r}: output dtype {y.dtype}")
    expected = ref(np.asarray(ew), np.asarray(bs))
    if not np.allclose(np.asarray(y), expected, rtol=1e-10, atol=1e-10):
        failures.append(f"{case['text']!r}: float64 {np.asarray(y)} != {expected}")

    loss = lambda w, b: jnp.dot(model.with_parameters(w, b)(jnp.asarray(x)), r)
    gw, gb = jax.grad(loss, argnums=(0, 1))(ew, bs)
    eps = 1e-6
    for grad, vector, which in ((gw, np.asarray(ew), 0), (gb, np.asarray(bs), 1)):
        for i in range(len(vector)):
            up, down = vector.copy(), vector.copy()
            up[i] += eps
            down[i] -= eps
            args_up = (up, np.asarray(bs)) if which == 0 else (np.asarray(ew), up)
            args_down = (down, np.asarray(bs)) if which == 0 else (np.asarray(ew), down)
            numeric = (ref(*args_up) @ r - ref(*args_down) @ r) / (2 * eps)
            if not np.isclose(float(grad[i]), numeric, rtol=1e-5, atol=1e-6):
                failures.append(
                    f"{case['text']!r}: d/d{'wb'[which]}[{i}] {float(grad[i])} != "
                    f"{numeric}"
                )
print(json.dumps({"cases": len(json.load(open(sys.argv[1]))), "failures": failures}))
"""


def describe(program: Program, seed: int) -> dict:
    return {
        "text": program.text,
        "edges": [list(e) for e in program.edges],
        "activations": [[k, v] for k, v in program.activations.items()],
        "output_activation": program.output_activation,
        "seed": seed,
    }


def drawn_programs(count: int) -> list[tuple[Program, int]]:
    """`count` varied programs with a seed each, drawn by hypothesis.

    Hypothesis starts from the simplest examples, so draw many and keep the last
    ones that have edges. Outputs fed by nothing are left out here; their
    evaluation is tested in test_fuzz.py.
    """
    drawn: list[tuple[Program, int]] = []

    @settings(max_examples=150, database=None, suppress_health_check=list(HealthCheck))
    @given(programs(max_units=7), st.integers(0, 2**32 - 1))
    def collect(program: Program, seed: int) -> None:
        fed = {target for _, target in program.edges}
        if program.edges and all(o in fed for o in program.outputs):
            drawn.append((program, seed))

    collect()
    return drawn[-count:]


def test_float64_and_gradients_match_the_reference(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    cases = drawn_programs(6)
    assert len(cases) >= 3
    path = tmp_path_factory.mktemp("x64") / "cases.json"
    path.write_text(json.dumps([describe(p, s) for p, s in cases]), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", _FLOAT64_SCRIPT, str(path), str(ROOT / "tests")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"},
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"cases": len(cases), "failures": []}


@cache
def load(text: str, strategy: str) -> type:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        code = connexc.compile_source(text, strategy=strategy)
    # load_source has no strategy argument; the generated module stands alone.
    namespace: dict = {"__name__": f"connexc_numerics_{strategy}"}
    sys.modules[namespace["__name__"]] = type(sys)(namespace["__name__"])
    module = sys.modules[namespace["__name__"]]
    exec(compile(code, f"<{strategy}>", "exec"), module.__dict__)
    return next(
        value
        for name, value in module.__dict__.items()
        if isinstance(value, type) and getattr(value, "EDGES", None) is not None
    )


# Two inputs feeding disjoint parts of the graph, so a bad value in one input must
# leave the other's outputs alone. Activations cover the saturating and the
# unbounded kinds.
SPLIT = """\
input a, b, c
hidden h1 activation=tanh
hidden h2 activation=relu
hidden h3 activation=sigmoid
hidden h4 activation=softplus
output ya, yb, yab
a -> h1 -> ya
b -> h2 -> h3 -> yb
c -> h4 -> yab
a, b -> yab
h1 -> yab
"""
BAD_VALUES = [float("nan"), float("inf"), float("-inf")]


def evaluate_split(cls: type, x: np.ndarray, dtype: type) -> tuple[np.ndarray, ...]:
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    weights = {e: float(dtype(rng.normal())) for e in cls.EDGES}
    biases = {n: float(dtype(rng.normal())) for n in cls.NEURONS[len(cls.INPUTS) :]}
    model = cls(key=jax.random.key(0)).with_parameters(
        np.array(list(weights.values()), dtype), np.array(list(biases.values()), dtype)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        expected = reference.evaluate(
            x,
            inputs=cls.INPUTS,
            outputs=cls.OUTPUTS,
            weights=weights,
            biases=biases,
            activations=cls.ACTIVATIONS,
        )
    actual = np.asarray(model(jnp.asarray(x, dtype)))
    jitted = np.asarray(eqx_jit()(model, jnp.asarray(x, dtype)))
    return actual, jitted, expected


def eqx_jit():
    import equinox as eqx

    return eqx.filter_jit(lambda m, v: m(v))


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("position", [0, 1, 2], ids=["a", "b", "c"])
def test_non_finite_inputs_propagate_like_plain_arithmetic(
    bad: float, position: int
) -> None:
    cls = load(SPLIT, "sparse")
    x = np.array([0.3, -0.7, 1.1])
    x[position] = bad
    actual, jitted, expected = evaluate_split(cls, x, np.float32)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jitted, expected, rtol=1e-5, atol=1e-5)
    # Outputs the bad input cannot reach stay finite.
    reaches = {0: {0, 2}, 1: {1, 2}, 2: {2}}[position]
    assert all(np.isfinite(actual[i]) for i in range(3) if i not in reaches)


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("position", [0, 1, 2], ids=["a", "b", "c"])
def test_non_finite_inputs_stay_on_their_edges_with_dense_levels(
    bad: float, position: int
) -> None:
    cls = load(SPLIT, "dense")
    x = np.array([0.3, -0.7, 1.1])
    x[position] = bad
    actual, jitted, expected = evaluate_split(cls, x, np.float32)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jitted, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("strategy", ["auto", "dense", "sparse"])
def test_non_finite_inputs_never_crash_and_reach_downstream_outputs(
    strategy: str,
) -> None:
    cls = load(SPLIT, strategy)
    for bad in BAD_VALUES:
        x = np.array([bad, 0.5, 0.5])
        actual, jitted, _ = evaluate_split(cls, x, np.float32)
        assert np.array_equal(actual, jitted, equal_nan=True)
        if np.isnan(bad):  # a NaN reaches every output fed from `a`
            assert np.isnan(actual[0]) and np.isnan(actual[2])


@pytest.mark.parametrize("strategy", ["dense", "sparse"])
def test_a_non_finite_sample_leaves_the_rest_of_a_batch_alone(strategy: str) -> None:
    import jax
    import jax.numpy as jnp

    cls = load(SPLIT, strategy)
    model = cls(key=jax.random.key(1))
    batch = np.array([[0.3, -0.7, 1.1], [np.inf, np.nan, -np.inf], [1.0, 2.0, 3.0]])
    together = np.asarray(jax.vmap(model)(jnp.asarray(batch, jnp.float32)))
    alone = np.stack(
        [np.asarray(model(jnp.asarray(row, jnp.float32))) for row in batch]
    )
    assert np.array_equal(together, alone, equal_nan=True)
    assert np.isfinite(together[[0, 2]]).all()
    assert np.isnan(together[1, 1:]).all()  # ya saturates: tanh(inf) is 1

"""Initial parameters: the numpy draw that builds a model without compiling must give
the bits of the compiled `jax.random` draw, for every key a user can pass."""

from __future__ import annotations

import random
import subprocess
import sys
import warnings

import jax
import numpy as np
import pytest
from graphs import random_graph
from hypothesis import given, settings
from hypothesis import strategies as st

import connexc


def load_module(text: str):
    """The generated module itself, whose private helpers the tests compare."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        code = connexc.compile_source(text)
    module = type(sys)(f"connexc_init_{abs(hash(code))}")
    sys.modules[module.__name__] = module
    exec(compile(code, "<init>", "exec"), module.__dict__)
    return module


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


SMALL = "network Net\ninput a, b\nhidden h\noutput y\na, b -> h -> y\nb -> y\n"


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=40),
    graph_seed=st.integers(min_value=0, max_value=2**16),
    key_seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_numpy_draw_matches_the_compiled_draw_bit_for_bit(
    n: int, graph_seed: int, key_seed: int
) -> None:
    graph = random_graph(random.Random(graph_seed), n)
    module = load_module(graph.to_cnx())
    key = jax.random.key(key_seed)
    assert module._key_words(key) is not None  # the numpy path is taken
    drawn = module._initial_parameters(key)
    compiled = module._initial_parameters_jit(key)
    assert all(map(same_bits, drawn, compiled))


@pytest.mark.parametrize(
    "make_key",
    [jax.random.key, jax.random.PRNGKey],
    ids=["typed key", "raw uint32 key"],
)
def test_both_key_kinds_draw_like_jax_random(make_key) -> None:
    module = load_module(SMALL)
    key = make_key(12345)
    assert module._key_words(key) is not None
    assert all(
        map(
            same_bits,
            module._initial_parameters(key),
            module._initial_parameters_jit(key),
        )
    )


def test_a_network_without_edges_draws_empty_weights() -> None:
    module = load_module("input a\noutput y\n")
    w, b = module._initial_parameters(jax.random.key(0))
    assert w.shape == (0,) and b.shape == (1,)
    assert same_bits(b, module._initial_parameters_jit(jax.random.key(0))[1])


def test_models_built_under_vmap_match_models_built_one_by_one() -> None:
    module = load_module(SMALL)
    keys = jax.random.split(jax.random.key(3), 4)
    batch = jax.vmap(lambda k: module.Net(key=k))(keys)  # traced keys: compiled path
    for i in range(4):
        one = module.Net(key=keys[i])  # concrete key: numpy path
        assert same_bits(batch.w[i], one.w) and same_bits(batch.b[i], one.b)


def test_a_model_built_under_jit_matches_one_built_eagerly() -> None:
    import equinox as eqx

    module = load_module(SMALL)
    key = jax.random.key(9)
    jitted = eqx.filter_jit(lambda k: module.Net(key=k))(key)
    eager = module.Net(key=key)
    assert same_bits(jitted.w, eager.w) and same_bits(jitted.b, eager.b)


def test_other_generators_take_the_compiled_path() -> None:
    module = load_module(SMALL)
    key = jax.random.key(0, impl="rbg")
    assert module._key_words(key) is None
    model = module.Net(key=key)
    assert same_bits(model.w, module._initial_parameters_jit(key)[0])


def test_a_batch_of_keys_gets_jax_random_s_own_error() -> None:
    module = load_module(SMALL)
    keys = jax.random.split(jax.random.key(0), 2)
    assert module._key_words(keys) is None
    with pytest.raises(ValueError, match="split accepts a single key"):
        module.Net(key=keys)


def test_x64_mode_draws_float64_through_the_compiled_path(tmp_path) -> None:
    script = f"""
import jax
jax.config.update("jax_enable_x64", True)
import connexc
cls = connexc.load_source({SMALL!r})
model = cls(key=jax.random.key(0))
assert model.w.dtype == jax.numpy.float64, model.w.dtype
print("float64")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "float64"

"""Every evaluation strategy of the generated code computes the same network.

Forced dense (masked matmuls), forced sparse (padded fan-in sums, scanned where
levels are small) and the cost model's choice are compared with the independent
neuron-by-neuron evaluator in `reference.py`, and with each other on gradients.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import types
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference

import connexc
import connexc._emit
from connexc._cli import main as cli_main

STRATEGIES = ("auto", "dense", "sparse")
ROOT = Path(__file__).resolve().parent.parent


def _load(code: str) -> type:
    """Execute generated code as a throwaway module and return its class."""
    module = types.ModuleType(f"strategies_{abs(hash(code))}")
    sys.modules[module.__name__] = module
    exec(compile(code, "<generated>", "exec"), module.__dict__)
    return next(
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, eqx.Module)
        and value.__module__ == module.__name__
        and hasattr(value, "EDGES")
    )


def _layered(
    seed: int,
    levels: int,
    width: int,
    fan_in: int,
    *,
    reach: int | None = None,
    activations: tuple[str, ...] = ("relu", "tanh", "identity"),
    dropout: dict[int, float] | None = None,
) -> tuple[str, dict]:
    """A random DAG given level by level, as `.cnx` text and as plain data.

    Each neuron takes one source from the level before it (so levels are exact) and
    up to `fan_in - 1` more from any earlier level, or from the `reach` levels
    before it; a few outputs hang off middle levels, so outputs sit at several
    depths and levels mix activations.
    """
    rng = random.Random(seed)
    rows = [[k * width + i for i in range(width)] for k in range(levels)]
    inputs = rows[0]
    outputs = [rows[-1][0], rows[-1][-1]]
    extra = 10_000
    edges: list[tuple[int, int]] = []
    for k in range(1, levels):
        first = 0 if reach is None else max(0, k - reach)
        earlier = [n for row in rows[first:k] for n in row]
        for target in rows[k]:
            chosen = {rng.choice(rows[k - 1])}
            for _ in range(rng.randint(0, fan_in - 1)):
                chosen.add(rng.choice(earlier))
            edges += [(s, target) for s in sorted(chosen)]
        if k % 4 == 2:
            outputs.append(extra)
            edges.append((rng.choice(rows[k]), extra))
            extra += 1
    hidden = [n for row in rows[1:] for n in row if n not in outputs]
    acts = {n: rng.choice(activations) for n in hidden}
    dropout = dropout or {}
    lines = ["network Net", "input " + ", ".join(map(str, inputs))]
    lines.append("output " + ", ".join(map(str, outputs)))
    for n in hidden:
        p = f" dropout={dropout[n]}" if n in dropout else ""
        lines.append(f"hidden {n} activation={acts[n]}{p}")
    lines += [f"{s} -> {t}" for s, t in edges]
    graph = {
        "inputs": inputs,
        "outputs": outputs,
        "edges": edges,
        "hidden": hidden,
        "activations": acts,
    }
    return "\n".join(lines) + "\n", graph


def _random_parameters(cls: type, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=len(cls.EDGES)).astype(np.float32)
    biases = rng.normal(size=len(cls.NEURONS) - len(cls.INPUTS)).astype(np.float32)
    return weights, biases


def _expected(cls: type, graph: dict, weights, biases, x) -> np.ndarray:
    return reference.evaluate(
        x,
        inputs=graph["inputs"],
        outputs=graph["outputs"],
        weights=dict(zip(cls.EDGES, weights.tolist(), strict=True)),
        biases=dict(zip(cls.NEURONS[len(cls.INPUTS) :], biases.tolist(), strict=True)),
        activations=graph["activations"],
    )


def _forward(model, x):
    return np.asarray(eqx.filter_jit(lambda m, v: m(v))(model, jnp.asarray(x)))


GRAPHS = {
    "shallow-wide": dict(seed=1, levels=4, width=9, fan_in=5),
    "medium": dict(seed=2, levels=8, width=6, fan_in=4),
    "deep-narrow": dict(seed=3, levels=24, width=3, fan_in=3),
    "deep-local": dict(seed=4, levels=40, width=3, fan_in=3, reach=2),
}


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("shape", GRAPHS.values(), ids=GRAPHS.keys())
def test_every_strategy_matches_the_reference(shape: dict, strategy: str) -> None:
    text, graph = _layered(**shape)
    cls = _load(connexc.compile_source(text, strategy=strategy))
    assert set(cls.EDGES) == set(graph["edges"])
    weights, biases = _random_parameters(cls, shape["seed"])
    model = cls(key=jax.random.key(0)).with_parameters(weights, biases)
    for sample in range(2):
        x = np.random.default_rng(sample).normal(size=len(graph["inputs"]))
        x = x.astype(np.float32)
        expected = _expected(cls, graph, weights, biases, x)
        np.testing.assert_allclose(_forward(model, x), expected, rtol=2e-4, atol=2e-4)


def test_deep_graphs_are_scanned_unless_forced_dense() -> None:
    text, _ = _layered(**GRAPHS["deep-narrow"])
    assert "jax.lax.scan(" in connexc.compile_source(text)
    assert "jax.lax.scan(" in connexc.compile_source(text, strategy="sparse")
    assert "jax.lax.scan(" not in connexc.compile_source(text, strategy="dense")


def test_runs_that_read_only_a_few_levels_back_carry_only_those() -> None:
    far, _ = _layered(**GRAPHS["deep-narrow"])
    near, _ = _layered(**GRAPHS["deep-local"])
    assert "    local=False,\n" in connexc.compile_source(far)
    assert "    local=True,\n" in connexc.compile_source(near)


def _gradients(code: str, x: jax.Array) -> tuple[np.ndarray, ...]:
    """Edge, bias and input gradients of a sum of squares, at fixed parameters."""
    cls = _load(code)
    weights, biases = _random_parameters(cls, 7)
    model = cls(key=jax.random.key(0)).with_parameters(weights, biases)

    @eqx.filter_jit
    @eqx.filter_grad
    def grad(model_and_x):
        model, x = model_and_x
        return jnp.sum(jnp.tanh(jax.vmap(lambda v: model(v))(x)) ** 2)

    g, dx = grad((model, x))
    return np.asarray(g.edge_weight_array()), np.asarray(g.bias_array()), dx


@pytest.mark.parametrize("shape", ["deep-narrow", "deep-local"])
def test_strategies_give_the_same_edge_bias_and_input_gradients(shape: str) -> None:
    text, graph = _layered(**GRAPHS[shape])
    x = jnp.asarray(np.random.default_rng(5).normal(size=(4, len(graph["inputs"]))))
    gradients = [
        _gradients(connexc.compile_source(text, strategy=strategy), x)
        for strategy in STRATEGIES
    ]
    assert np.abs(gradients[0][2]).max() > 0, "the inputs must reach the outputs"
    for got in gradients[1:]:
        for actual, expected in zip(got, gradients[0], strict=True):
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backward", ["push", "pull"])
def test_both_backward_passes_of_a_scan_run_give_the_dense_gradients(
    backward: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, graph = _layered(**GRAPHS["deep-narrow"])
    x = jnp.asarray(np.random.default_rng(6).normal(size=(3, len(graph["inputs"]))))
    expected = _gradients(connexc.compile_source(text, strategy="dense"), x)
    waste = 0 if backward == "push" else 10**9
    monkeypatch.setattr(connexc._emit, "RUN_PULL_WASTE", waste)
    code = connexc.compile_source(text)
    assert f'    backward="{backward}",\n' in code
    for actual, wanted in zip(_gradients(code, x), expected, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("custom_vjp", [True, False], ids=["vjp", "jvp"])
@pytest.mark.parametrize("backward", ["push", "pull"])
def test_scan_runs_give_the_same_values_and_gradients_however_batched(
    backward: str, custom_vjp: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shared parameters under vmap take the batched form; every other way of
    calling (one sample, parameters batched too, nested vmap) maps one sample.
    Both forms of a run, custom VJP and custom JVP, give the same gradients."""
    text, graph = _layered(**GRAPHS["deep-narrow"])
    x = jnp.asarray(np.random.default_rng(8).normal(size=(4, len(graph["inputs"]))))
    dense = _load(connexc.compile_source(text, strategy="dense"))
    waste = 0 if backward == "push" else 10**9
    monkeypatch.setattr(connexc._emit, "RUN_PULL_WASTE", waste)
    scanned = _load(connexc.compile_source(text))

    def loss(model, x):
        return jnp.sum(jnp.tanh(model(x)) ** 2)

    def per_sample(cls):
        """Values and gradients of each sample, with parameters that differ."""
        values, grads = [], []
        for i, row in enumerate(x):
            weights, biases = _random_parameters(cls, i)
            model = cls(key=jax.random.key(0), custom_vjp=custom_vjp)
            model = model.with_parameters(weights, biases)
            values.append(model(row))
            g, dx = eqx.filter_grad(lambda mv: loss(*mv))((model, row))
            grads.append((g.w, g.b, dx))
        return np.stack(values), [np.stack(parts) for parts in zip(*grads, strict=True)]

    expected_values, expected_grads = per_sample(dense)
    values, grads = per_sample(scanned)  # one sample at a time, no vmap
    np.testing.assert_allclose(values, expected_values, rtol=1e-4, atol=1e-5)
    for actual, wanted in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-4)

    # Parameters batched along with the samples: a vmap over models.
    parameters = [_random_parameters(scanned, i) for i in range(len(x))]
    weights = jnp.stack([w for w, _ in parameters])
    biases = jnp.stack([b for _, b in parameters])
    model = scanned(key=jax.random.key(0), custom_vjp=custom_vjp)

    @jax.vmap
    def each(w, b, row):
        m = model.with_parameters(w, b)
        g, dx = eqx.filter_grad(lambda mv: loss(*mv))((m, row))
        return m(row), (g.w, g.b, dx)

    values, grads = jax.jit(each)(weights, biases, x)
    np.testing.assert_allclose(values, expected_values, rtol=1e-4, atol=1e-5)
    for actual, wanted in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(actual, wanted, rtol=1e-4, atol=1e-4)

    # Shared parameters, samples batched once and twice: the batched form.
    w, b = parameters[0]
    shared = model.with_parameters(w, b)
    reference = dense(key=jax.random.key(0)).with_parameters(w, b)
    for batch in (x, x.reshape(2, 2, -1)):

        def batched_loss(m, batch=batch):
            call = m
            for _ in range(batch.ndim - 1):
                call = jax.vmap(call)
            return jnp.sum(jnp.tanh(call(batch)) ** 2)

        got = eqx.filter_jit(eqx.filter_value_and_grad(batched_loss))(shared)
        want = eqx.filter_jit(eqx.filter_value_and_grad(batched_loss))(reference)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(got[1].w, want[1].w, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got[1].b, want[1].b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backward", ["push", "pull"])
def test_scan_runs_take_forward_mode_autodiff_without_the_custom_vjp(
    backward: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `custom_vjp=False` a scan run takes every transformation; with the
    default, reverse mode, the Hessian (forward over reverse) and gradients of
    gradients still work."""
    text, graph = _layered(**GRAPHS["deep-narrow"])
    x = jnp.asarray(np.random.default_rng(9).normal(size=len(graph["inputs"])))
    tangent = jnp.linspace(-1.0, 1.0, x.shape[0])
    dense = _load(connexc.compile_source(text, strategy="dense"))
    weights, biases = _random_parameters(dense, 3)
    waste = 0 if backward == "push" else 10**9
    monkeypatch.setattr(connexc._emit, "RUN_PULL_WASTE", waste)
    code = connexc.compile_source(text)
    assert f'    backward="{backward}",\n' in code
    scanned = _load(code)

    def energy(model, x, w):
        model = eqx.tree_at(lambda m: m.w, model, w)
        return jnp.sum(jnp.tanh(model(x)) ** 2)

    def reverse(model):
        return {
            "jacrev": jax.jacrev(model)(x),
            "hessian": jax.hessian(energy, argnums=1)(model, x, model.w),
            "weight gradient": jax.grad(energy, argnums=2)(model, x, model.w),
            "gradient of a gradient": jax.grad(penalty)(model.w, model),
        }

    def penalty(w, model):
        """A gradient penalty: reverse mode over reverse mode."""
        return jnp.sum(jax.grad(energy, argnums=1)(model, x, w) ** 2)

    def forward(model):
        return {
            "jvp": jax.jvp(model, (x,), (tangent,))[1],
            "jacfwd": jax.jacfwd(model)(x),
        }

    key = jax.random.key(0)
    reference = dense(key=key).with_parameters(weights, biases)
    want = {**reverse(reference), **forward(reference)}
    assert np.abs(want["hessian"]).max() > 0, "the inputs must reach the outputs"
    model = scanned(key=key).with_parameters(weights, biases)
    assert model.custom_vjp and not model.with_custom_vjp(False).custom_vjp
    with_vjp = jax.jit(reverse)(model)
    with_jvp = jax.jit(lambda m: {**reverse(m), **forward(m)})(
        model.with_custom_vjp(False)
    )
    for got in (with_vjp, with_jvp):
        for name, value in got.items():
            np.testing.assert_allclose(
                value, want[name], rtol=1e-4, atol=1e-4, err_msg=name
            )
    assert set(with_jvp) == set(want)


def test_a_hub_neuron_keeps_the_backward_pass_pushing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Enough slack for the even graph, whose tables hold 4.1 entries per edge.
    monkeypatch.setattr(connexc._emit, "RUN_PULL_WASTE", 10)
    text, graph = _layered(**GRAPHS["deep-narrow"])
    even = connexc.compile_source(text)
    # Neuron 3, on level 1, feeds every neuron of levels 2 to 23.
    fed = {t for s, t in graph["edges"] if s == 3}
    hub_edges = "".join(f"3 -> {n}\n" for n in range(6, 72) if n not in fed)
    hub = connexc.compile_source(text + hub_edges)
    assert '    backward="pull",\n' in even
    assert '    backward="push",\n' in hub


def test_edge_weights_round_trip_under_every_strategy() -> None:
    text, _ = _layered(**GRAPHS["medium"])
    for strategy in STRATEGIES:
        cls = _load(connexc.compile_source(text, strategy=strategy))
        weights, biases = _random_parameters(cls, 3)
        model = cls(key=jax.random.key(1)).with_parameters(weights, biases)
        np.testing.assert_array_equal(model.edge_weight_array(), weights)
        np.testing.assert_array_equal(model.bias_array(), biases)
        assert model.edge_weights()[cls.EDGES[-1]] == float(weights[-1])


def test_dropout_levels_stay_out_of_scans_and_apply_only_with_a_key() -> None:
    text, graph = _layered(**GRAPHS["deep-narrow"], dropout={30: 0.5, 31: 0.5})
    code = connexc.compile_source(text)
    assert "jax.lax.scan(" in code
    cls = _load(code)
    weights, biases = _random_parameters(cls, 11)
    model = cls(key=jax.random.key(0)).with_parameters(weights, biases)
    x = np.random.default_rng(2).normal(size=len(graph["inputs"])).astype(np.float32)
    expected = _expected(cls, graph, weights, biases, x)
    np.testing.assert_allclose(_forward(model, x), expected, rtol=2e-4, atol=2e-4)
    outputs = {
        tuple(np.asarray(model(jnp.asarray(x), key=jax.random.key(k))).round(5))
        for k in range(6)
    }
    assert len(outputs) > 1
    inference = eqx.nn.inference_mode(model)
    np.testing.assert_allclose(
        inference(jnp.asarray(x), key=jax.random.key(0)), expected, rtol=2e-4, atol=2e-4
    )


def test_generated_code_is_identical_across_hash_seeds() -> None:
    text, _ = _layered(**GRAPHS["medium"])
    script = (
        "import sys, connexc; "
        "sys.stdout.write(connexc.compile_source(sys.stdin.read(), strategy='auto'))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=text,
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        outputs.add(done.stdout)
    assert outputs == {connexc.compile_source(text)}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_generated_code_is_ruff_clean(strategy: str, tmp_path: Path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    text, _ = _layered(**GRAPHS["deep-narrow"], dropout={30: 0.5})
    path = tmp_path / "net.py"
    path.write_text(connexc.compile_source(text, strategy=strategy))
    for command in (["format", "--check"], ["check", "--select", "E,F,I,UP,B"]):
        done = subprocess.run(
            [ruff, *command, "--isolated", str(path)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_unknown_strategy_is_rejected_with_the_choices() -> None:
    with pytest.raises(ValueError) as caught:
        connexc.compile_source("input a\noutput b\na -> b\n", strategy="fast")
    assert str(caught.value) == (
        "strategy must be one of auto, dense, sparse, got 'fast'"
    )


def test_cli_strategy_flag_forces_the_form(tmp_path: Path) -> None:
    source = tmp_path / "net.cnx"
    text, _ = _layered(**GRAPHS["shallow-wide"])
    source.write_text(text)
    for strategy in ("dense", "sparse"):
        out = tmp_path / f"{strategy}.py"
        assert cli_main([str(source), "-o", str(out), "--strategy", strategy]) == 0
        code = out.read_text()
        assert f'STRATEGY = "{strategy}"' in code
        assert code == connexc.compile_file(source, strategy=strategy)

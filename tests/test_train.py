"""Training the generated modules the way Equinox users do."""

from __future__ import annotations

from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import connexc

ROOT = Path(__file__).resolve().parent.parent


def test_connex_readme_training_loop_lowers_the_loss() -> None:
    network = connexc.load(ROOT / "examples" / "seed.cnx")(key=jax.random.key(1))
    optim = optax.adam(1e-2)
    opt_state = optim.init(eqx.filter(network, eqx.is_array))

    @eqx.filter_value_and_grad
    def loss_fn(model, x, y):
        preds = jax.vmap(model)(x)
        return jnp.mean((preds - y) ** 2)

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        loss, grads = loss_fn(model, x, y)
        updates, opt_state = optim.update(grads, opt_state, model)
        model = eqx.apply_updates(model, updates)
        return model, opt_state, loss

    x = jnp.expand_dims(jnp.linspace(0, 2 * jnp.pi, 250), 1)
    y = jnp.hstack((jnp.cos(x), jnp.sin(x)))
    losses = []
    for _ in range(150):
        network, opt_state, loss = step(network, opt_state, x, y)
        losses.append(float(loss))
    assert losses[-1] < 0.8 * losses[0]


def _loss_grads(model, x):
    return eqx.filter_grad(lambda m: jnp.sum(jax.vmap(m)(x) ** 2))(model)


def _parameter_slots(model):
    """Per parameter array, True where an entry holds an edge weight or a bias.

    Found through the public read-outs, so the test does not depend on layout:
    an entry is a parameter slot exactly when `edge_weight_array` or `bias_array`
    reads it.
    """

    def read_out(m):
        return jnp.sum(m.edge_weight_array() ** 2) + jnp.sum(m.bias_array() ** 2)

    ones = jax.tree_util.tree_map(
        lambda a: jnp.ones_like(a) if eqx.is_inexact_array(a) else a, model
    )
    return eqx.filter_grad(read_out)(ones)


def test_weights_that_are_not_edges_get_zero_gradient_and_no_influence() -> None:
    Seed = connexc.load(ROOT / "examples" / "seed.cnx")
    model = Seed(key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (8, 1))
    slots = _parameter_slots(model)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    slot_leaves = jax.tree_util.tree_leaves(eqx.filter(slots, eqx.is_inexact_array))

    # Every edge weight and every bias has exactly one entry among the parameters.
    n_parameters = len(Seed.EDGES) + len(Seed.NEURONS) - len(Seed.INPUTS)
    n_read = sum(int(np.sum(np.asarray(s) != 0)) for s in slot_leaves)
    n_entries = sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    assert n_read == n_parameters
    # Entries beyond those (a layout storing dense masked matrices has them) must
    # be inert; a layout storing only edges and biases has none, as checked here.
    assert n_entries >= n_parameters

    # Garbage in every entry that is not an edge or a bias changes nothing...
    noisy = jax.tree_util.tree_map(
        lambda p, s: jnp.where(s == 0, 1e6, p),
        params,
        eqx.filter(slots, eqx.is_inexact_array),
    )
    noisy = eqx.combine(noisy, static)
    np.testing.assert_array_equal(jax.vmap(model)(x), jax.vmap(noisy)(x))

    # ...and those entries get exactly zero gradient.
    grads = eqx.filter(_loss_grads(noisy, x), eqx.is_inexact_array)
    for g, s in zip(jax.tree_util.tree_leaves(grads), slot_leaves, strict=True):
        assert np.all(np.asarray(g)[np.asarray(s) == 0] == 0)


def test_dropout_is_active_only_with_a_key_and_outside_inference_mode() -> None:
    Mlp = connexc.load(ROOT / "examples" / "mlp.cnx")
    model = Mlp(key=jax.random.key(0))
    x = jnp.ones(784)
    plain = model(x)
    np.testing.assert_array_equal(plain, model(x))
    dropped = model(x, key=jax.random.key(2))
    assert not np.allclose(plain, dropped)
    frozen = eqx.nn.inference_mode(model)
    np.testing.assert_array_equal(plain, frozen(x, key=jax.random.key(2)))


def test_works_under_vmap_jit_and_filter_jit() -> None:
    Seed = connexc.load(ROOT / "examples" / "seed.cnx")
    model = Seed(key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(3), (5, 1))
    eager = jnp.stack([model(row) for row in x])
    np.testing.assert_allclose(jax.vmap(model)(x), eager, rtol=1e-6)
    filtered = eqx.filter_jit(lambda m, v: jax.vmap(m)(v))(model, x)
    np.testing.assert_allclose(filtered, eager, rtol=1e-6)
    jitted = jax.jit(lambda m, v: jax.vmap(m)(v))(model, x)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)


def test_wrong_input_shape_is_a_clear_error() -> None:
    Seed = connexc.load(ROOT / "examples" / "seed.cnx")
    model = Seed(key=jax.random.key(0))
    try:
        model(jnp.ones((4, 1)))
    except ValueError as err:
        assert str(err) == (
            "expected one sample of shape (1,), got (4, 1); use jax.vmap for a batch"
        )
    else:
        raise AssertionError("a batch passed to __call__ must be refused")

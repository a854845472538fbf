"""Plasticity: train a network, grow it, prune it, and keep training throughout.

Trains the Connex README network (`seed.cnx`) on cos(x) and sin(x), then edits its
structure twice while it learns: first it grows (two edges and a hidden neuron, all
starting at zero weight, so the loss does not move), then it is pruned (neuron 9 and
its edges go). Every trained parameter survives each edit, and so does Adam's state,
migrated by neuron name. Each version's structure is written beside this script:

    plasticity_1_trained.cnx  ->  plasticity_2_grown.cnx  ->  plasticity_3_pruned.cnx

so `connexc diff examples/plasticity_1_trained.cnx examples/plasticity_2_grown.cnx`
shows the history.

    python examples/plasticity.py [--steps 300]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import connexc

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per phase")
    args = parser.parse_args()

    x = jnp.expand_dims(jnp.linspace(0, 2 * jnp.pi, 250), 1)
    y = jnp.hstack((jnp.cos(x), jnp.sin(x)))
    optim = optax.adam(1e-2)

    def loss_fn(model):
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    @eqx.filter_jit
    def step(model, opt_state):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
        updates, opt_state = optim.update(grads, opt_state)
        return eqx.apply_updates(model, updates), opt_state, loss

    def train(model, opt_state, label):
        for i in range(args.steps):
            model, opt_state, loss = step(model, opt_state)
            if i % 100 == 0 or i == args.steps - 1:
                print(f"  {label} step {i:4d}   loss {float(loss):.5f}")
        return model, opt_state

    # 1. Train the network as written.
    model = connexc.load(HERE / "seed.cnx")(key=jax.random.key(0))
    opt_state = optim.init(eqx.filter(model, eqx.is_array))
    print(f"{model.NAME}: {len(model.NEURONS)} neurons, {len(model.EDGES)} edges")
    model, opt_state = train(model, opt_state, "trained")
    save(model, "plasticity_1_trained.cnx")

    # 2. Grow: new edges and a new neuron start at zero, so the loss is unchanged.
    grown = connexc.add_connections(model, [(1, 6), (2, 11)])
    grown = connexc.add_hidden_neurons(grown, ["extra"], [(0, "extra"), ("extra", 11)])
    opt_state = connexc.transfer_opt_state(opt_state, model, grown)
    print(
        f"grown: loss {float(loss_fn(model)):.6f} before, "
        f"{float(loss_fn(grown)):.6f} after"
    )
    save(grown, "plasticity_2_grown.cnx")
    model, opt_state = train(grown, opt_state, "grown  ")

    # 3. Prune neuron 9; every other parameter and its Adam moments are kept.
    pruned, info = connexc.remove_neurons(model, [9])
    opt_state = connexc.transfer_opt_state(opt_state, model, pruned)
    print(f"pruned: {info}".replace("\n", "; "))
    print(
        f"  loss {float(loss_fn(model)):.5f} before, {float(loss_fn(pruned)):.5f} after"
    )
    save(pruned, "plasticity_3_pruned.cnx")
    model, opt_state = train(pruned, opt_state, "pruned ")

    print("history:")
    print(
        connexc.diff(
            HERE / "plasticity_1_trained.cnx", HERE / "plasticity_3_pruned.cnx"
        )
    )


def save(model, name: str) -> None:
    """Write the model's structure as canonical `.cnx` beside this script."""
    (HERE / name).write_text(connexc.to_cnx(model), encoding="utf-8")
    print(f"  wrote examples/{name}")


if __name__ == "__main__":
    main()

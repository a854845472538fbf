"""Compile and train: the Connex README's training loop on a connexc network.

Compiles `seed.cnx` beside this script, then fits the network's two outputs to
cos(x) and sin(x) with optax's Adam, showing progress on a terminal and printing
the loss every 50 steps.

    python examples/train.py [--steps 500]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

import connexc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--network", default=str(Path(__file__).with_name("seed.cnx")))
    args = parser.parse_args()

    Network = connexc.load(args.network)
    model = Network(key=jax.random.key(0))
    print(f"{Network.NAME}: {len(Network.NEURONS)} neurons, {len(Network.EDGES)} edges")

    x = jnp.expand_dims(jnp.linspace(0, 2 * jnp.pi, 250), 1)
    y = jnp.hstack((jnp.cos(x), jnp.sin(x)))
    optim = optax.adam(1e-2)
    opt_state = optim.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_value_and_grad
    def loss_fn(model, x, y):
        preds = jax.vmap(model)(x)
        return jnp.mean((preds - y) ** 2)

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        loss, grads = loss_fn(model, x, y)
        updates, opt_state = optim.update(grads, opt_state, model)
        return eqx.apply_updates(model, updates), opt_state, loss

    # A progress bar on a terminal (silent in logs and pipes), then the losses.
    losses = []
    steps = connexc.progress(
        range(args.steps),
        description="training",
        status=lambda: f"loss {float(losses[-1]):.5f}" if losses else "",
    )
    for _ in steps:
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(loss)
    for i, loss in enumerate(losses):
        if i % 50 == 0 or i == args.steps - 1:
            print(f"step {i:4d}   loss {float(loss):.5f}")


if __name__ == "__main__":
    main()

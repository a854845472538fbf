"""Data-parallel training of a compiled network over several devices.

Compiles a 16-64-64-4 MLP written by `connexc.new_mlp`, then trains it twice from the
same initialisation with optax's Adam: once on one device, once with `jax.sharding`
(parameters and optimizer state replicated, each batch split over a one-axis device
mesh), and shows that the losses agree step for step.

Without accelerators it forces several CPU host devices, so it runs on any machine:

    python examples/multi_device.py [--devices 8] [--steps 200] [--json]
"""

from __future__ import annotations

import argparse
import json

# How the sharded run laid out its arrays, reported with --json.
LAYOUT: dict[str, object] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument(
        "--json", action="store_true", help="print both loss curves as JSON"
    )
    args = parser.parse_args()

    # JAX reads the host device count when it first starts a backend, so set it
    # before anything touches a device. It changes only the CPU platform.
    import jax

    jax.config.update("jax_num_cpu_devices", args.devices)

    devices = _devices(args.devices)
    losses_single, losses_sharded = compare(devices, args.steps, args.batch)
    if args.json:
        print(
            json.dumps(
                {
                    "devices": [str(d) for d in devices],
                    "layout": LAYOUT,
                    "single": losses_single,
                    "sharded": losses_sharded,
                }
            )
        )
        return
    print(f"devices: {len(devices)} x {devices[0].platform}")
    for step in range(0, args.steps, max(1, args.steps // 10)):
        print(
            f"step {step:4d}   one device {losses_single[step]:.6f}   "
            f"{len(devices)} devices {losses_sharded[step]:.6f}"
        )
    worst = max(
        abs(a - b) / max(abs(a), 1e-12)
        for a, b in zip(losses_single, losses_sharded, strict=True)
    )
    print(f"largest relative difference over {args.steps} steps: {worst:.2e}")


def _devices(count: int) -> list:
    """`count` devices of the default platform, or CPU host devices if it has
    fewer."""
    import jax

    devices = jax.devices()
    if len(devices) < count:
        devices = jax.devices("cpu")
    if len(devices) < count:
        raise SystemExit(f"only {len(devices)} devices available, {count} requested")
    return devices[:count]


def compare(devices: list, steps: int, batch: int) -> tuple[list, list]:
    """Train from one initialisation on one device and on `devices`; both losses."""
    import jax
    import jax.numpy as jnp
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    import connexc

    if batch % len(devices):
        raise SystemExit(f"--batch {batch} must divide by {len(devices)} devices")
    Mlp = connexc.load_source(connexc.new_mlp([16, 64, 64, 4], activation="gelu"))
    model_key, data_key, target_key = jax.random.split(jax.random.key(0), 3)
    model = Mlp(key=model_key)
    x = jax.random.normal(data_key, (batch, 16))
    y = jnp.sin(x @ jax.random.normal(target_key, (16, 4)) / 4)

    single = train(model, x, y, steps, shardings=None, description="one device")
    mesh = Mesh(devices, axis_names=("batch",))
    shardings = (
        NamedSharding(mesh, PartitionSpec()),  # parameters: a full copy everywhere
        NamedSharding(mesh, PartitionSpec("batch")),  # data: rows split by device
    )
    sharded = train(
        model, x, y, steps, shardings=shardings, description=f"{len(devices)} devices"
    )
    return single, sharded


def train(model, x, y, steps: int, *, shardings, description: str) -> list[float]:
    """Full-batch Adam on mean squared error; the loss before each step."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax

    import connexc

    optimizer = optax.adam(3e-3)
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    if shardings is not None:
        replicated, split = shardings
        model, opt_state = eqx.filter_shard((model, opt_state), replicated)
        x, y = eqx.filter_shard((x, y), split)
        LAYOUT["batch rows per device"] = x.sharding.shard_shape(x.shape)[0]
        LAYOUT["parameters replicated"] = all(
            leaf.sharding.is_fully_replicated
            for leaf in jax.tree.leaves(eqx.filter(model, eqx.is_array))
        )

    @eqx.filter_jit
    def step(model, opt_state, x, y):
        def loss_fn(model):
            return jnp.mean((jax.vmap(model)(x) - y) ** 2)

        loss, grads = eqx.filter_value_and_grad(loss_fn)(model)
        updates, opt_state = optimizer.update(grads, opt_state, model)
        model = eqx.apply_updates(model, updates)
        if shardings is not None:
            # Keep the parameters replicated: XLA then all-reduces the gradients.
            model, opt_state = eqx.filter_shard((model, opt_state), shardings[0])
        return model, opt_state, loss

    losses: list[float] = []

    def status() -> str:
        return f"loss {losses[-1]:.5f}" if losses else ""

    for _ in connexc.progress(range(steps), description=description, status=status):
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(float(loss))
    return losses


if __name__ == "__main__":
    main()

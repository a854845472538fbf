"""Edit speed: how long structural edits of a 3,000-neuron network take, by stage.

Builds a random DAG (3,000 neurons, about 8 incoming edges each), instantiates it,
then times a few Connex-style edits end to end and splits one of them into the
stages of `connexc._plasticity._rebuild`: lay out the canonical text and build its
`Network` (no parsing), check the graph, assign levels, render the module, import
it, trace the new class, and transfer parameters. Times exclude JIT of the forward
pass, which happens on the first call of the edited model.

Run: `PYTHONPATH=. python benchmarks/edit_speed.py [--neurons 3000] [--fan-in 8]`
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time

import equinox as eqx
import jax

import connexc
from connexc import _plasticity
from connexc._api import _import
from connexc._check import check_graph
from connexc._compile import analyse
from connexc._emit import render_module
from connexc._levels import assign_levels
from connexc._source import Source
from connexc._version import VERSION
from connexc._write import (
    Structure,
    network_of_structure,
    structure_of_model,
    write_cnx,
)

KEY = jax.random.key(1)


def random_structure(n: int, fan_in: int, seed: int = 0) -> Structure:
    """A random DAG: 16 inputs, 16 outputs, the rest hidden, each fed `fan_in`
    times from earlier non-output neurons."""
    rng = random.Random(seed)
    n_inputs = n_outputs = 16
    inputs = tuple(range(n_inputs))
    outputs = tuple(range(n - n_outputs, n))
    hidden = tuple(range(n_inputs, n - n_outputs))
    edges = []
    for target in range(n_inputs, n):
        earlier = min(target, n - n_outputs)
        for source in rng.sample(range(earlier), min(fan_in, earlier)):
            edges.append((source, target))
    return Structure("Big", inputs, outputs, hidden, tuple(edges))


def timed(label: str, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    print(f"  {label:<32} {time.perf_counter() - start:8.3f} s")
    return result


@_plasticity._gc_paused()
def stages(model, structure: Structure) -> None:
    """Time each stage of one rebuild, as `_plasticity._rebuild` runs them."""
    _, network = timed(
        "layout + network (no parse)", network_of_structure, structure, "e"
    )
    found = timed("check graph", check_graph, network)
    assert not [d for d in found if d.severity == "error"]
    levels = timed("assign levels", assign_levels, network)
    code = timed("render module", render_module, network, levels, VERSION)
    cls = timed("import generated code", _import, code, _plasticity.EDIT_FILENAME)
    fresh = timed("trace new class (eval_shape)", eqx.filter_eval_shape, cls, key=KEY)
    new, _ = timed("transfer", connexc.transfer, model, fresh)
    jax.block_until_ready(new)
    timed("(full init, which edits avoid)", cls, key=KEY)
    timed("(parse + resolve, for comparison)", analyse, Source(write_cnx(structure)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=3000)
    parser.add_argument("--fan-in", type=int, default=8)
    args = parser.parse_args()

    structure = random_structure(args.neurons, args.fan_in)
    print(
        f"network: {args.neurons} neurons, {len(structure.edges)} edges "
        f"(connexc {VERSION}, jax {jax.__version__}, {jax.default_backend()})"
    )
    print("setup:")
    text = timed("write .cnx", write_cnx, structure)
    cls = timed("load_source", connexc.load_source, text)
    model = timed("instantiate", cls, key=jax.random.key(0))
    jax.block_until_ready(model)
    print(f"  levels: {len(cls.LEVELS)}")

    n = args.neurons
    hidden = structure.hidden
    existing = set(structure.edges)
    candidates = [(0, h) for h in hidden[::97] if (0, h) not in existing][:3]
    print("edits, end to end:")
    model = timed(
        "add_connections (3 edges)", connexc.add_connections, model, candidates
    )
    model = timed(
        "remove_connections (3 edges)", connexc.remove_connections, model, candidates
    )
    model = timed(
        "add_hidden_neurons (1 + 2 edges)",
        connexc.add_hidden_neurons,
        model,
        ["grown"],
        [(1, "grown"), ("grown", n - 1)],
    )
    model, _ = timed(
        "remove_neurons (1, dangling)",
        connexc.remove_neurons,
        model,
        ["grown"],
    )
    model = timed("set_dropout_p (all hidden)", connexc.set_dropout_p, model, 0.1)

    print("one add_connections, by stage:")
    base = structure_of_model(model)
    more = [(1, h) for h in hidden[::89] if (1, h) not in existing][:3]
    stages(model, dataclasses.replace(base, edges=(*base.edges, *more)))


if __name__ == "__main__":
    main()

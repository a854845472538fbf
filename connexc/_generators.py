"""Writes `.cnx` text for standard shapes: multilayer perceptrons, plain or densely
connected, with each layer declared as one group.

The text is canonical (as `connexc fmt` writes it) after a leading comment that says
how it was made, so formatting a generated file changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ._api import activation_name
from ._ir import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, RESERVED_CLASS_NAMES
from ._parse import KEYWORDS
from ._write import Structure, member, write_cnx

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def new_mlp(
    sizes: Sequence[int],
    *,
    activation: str | Callable = "relu",
    output_activation: str | Callable = "identity",
    dropout: float = 0.0,
    name: str = "Mlp",
) -> str:
    """`.cnx` text of a multilayer perceptron: each layer feeds the next one.

    Layers are groups named `x` (inputs), `h1`, `h2`, ... (hidden) and `y`
    (outputs), so `new_mlp([64, 256, 256, 10])` declares `input x[64]`, `hidden
    h1[256]`, `hidden h2[256]` and `output y[10]`.

    Args:
        sizes: the width of every layer, inputs first and outputs last; at least two.
        activation: the hidden activation, by name or as a `jax.nn` function.
        output_activation: the transformation of the output vector, likewise.
        dropout: the dropout probability of every hidden neuron.
        name: the network (and generated class) name.

    Returns:
        The `.cnx` text, opened by a comment that records how it was made.

    Raises:
        ValueError, TypeError: an argument that `.cnx` cannot express.
    """
    return _layered(
        "mlp", sizes, activation, output_activation, dropout, name, dense=False
    )


def new_dense_mlp(
    sizes: Sequence[int],
    *,
    activation: str | Callable = "relu",
    output_activation: str | Callable = "identity",
    dropout: float = 0.0,
    name: str = "DenseMlp",
) -> str:
    """`.cnx` text of a densely connected MLP: each layer feeds every later layer.

    This is Connex's `DenseMLP`: besides the plain MLP's edges, the inputs and every
    hidden layer also feed all the layers after the next. Arguments and groups are
    those of `new_mlp`.

    Returns:
        The `.cnx` text, opened by a comment that records how it was made.

    Raises:
        ValueError, TypeError: an argument that `.cnx` cannot express.
    """
    return _layered(
        "dense-mlp", sizes, activation, output_activation, dropout, name, dense=True
    )


def _layered(
    kind: str,
    sizes: Sequence[int],
    activation: str | Callable,
    output_activation: str | Callable,
    dropout: float,
    name: str,
    *,
    dense: bool,
) -> str:
    sizes = _check_sizes(sizes)
    hidden_activation = activation_name(activation, HIDDEN_ACTIVATIONS, "activation")
    output = activation_name(output_activation, OUTPUT_ACTIVATIONS, "output_activation")
    if isinstance(dropout, bool) or not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    if (
        not _IDENTIFIER.match(name)
        or name in KEYWORDS
        or name in RESERVED_CLASS_NAMES
        or name.startswith("_")
    ):
        raise ValueError(
            f"name must be an identifier that is not a reserved word or builtin, "
            f"such as 'Mlp'; got {name!r}"
        )

    layers = ["x", *(f"h{k}" for k in range(1, len(sizes) - 1)), "y"]
    roles = ["input", *(["hidden"] * (len(sizes) - 2)), "output"]
    members = [
        tuple(member(layer, i) for i in range(size))
        for layer, size in zip(layers, sizes, strict=True)
    ]
    edges = []
    for k, sources in enumerate(members[:-1]):
        for targets in members[k + 1 : len(members) if dense else k + 2]:
            edges += [(s, t) for s in sources for t in targets]
    hidden = tuple(n for layer in members[1:-1] for n in layer)
    structure = Structure(
        name=name,
        inputs=members[0],
        outputs=members[-1],
        hidden=hidden,
        edges=tuple(edges),
        activations=dict.fromkeys(hidden, hidden_activation),
        dropout=dict.fromkeys(hidden, float(dropout)) if dropout else {},
        output_activation=output,
        groups={
            layer: (size, role)
            for layer, size, role in zip(layers, sizes, roles, strict=True)
        },
        activation=hidden_activation,
    )
    shape = "-".join(map(str, sizes))
    what = "densely connected MLP" if dense else "multilayer perceptron"
    header = [f"# A {shape} {what}, made by `connexc new {kind}`."]
    if dense:
        header.append("# Every layer feeds every later layer, as in Connex's DenseMLP.")
    return "\n".join(header) + "\n" + write_cnx(structure)


def _check_sizes(sizes: Sequence[int]) -> list[int]:
    if isinstance(sizes, (str, bytes)):
        raise TypeError(f"sizes must be a sequence of ints, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(
            f"sizes needs at least an input and an output width, got {sizes!r}"
        )
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"every size must be a positive int, got {size!r}")
    return sizes

"""Python entry points beyond plain compilation: importing generated modules, and
building `.cnx` text from Connex-style adjacency dicts.

JAX is imported only inside the functions that need it.
"""

from __future__ import annotations

import hashlib
import re
import sys
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ._compile import compile_network, compile_source, read_source
from ._ir import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._parse import KEYWORDS
from ._source import Source

Name = int | str
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def load_source(
    text: str, *, filename: str = "<string>", strategy: str = "auto"
) -> type:
    """Compile `.cnx` text and import the result.

    Args:
        text: the network description.
        filename: the name used in diagnostics and in the generated header.
        strategy: "auto", "dense" or "sparse", as for `compile_source`.

    Returns:
        The generated `equinox.Module` subclass; instantiate it with `key=...`.

    Raises:
        CompileError: the text has errors.
    """
    code = compile_source(text, filename=filename, strategy=strategy)
    return _import(code, filename)


def load(path: str | Path, *, strategy: str = "auto") -> type:
    """Compile a `.cnx` file and import the result (see `load_source`)."""
    source = read_source(path)
    return load_source(source.text, filename=source.filename, strategy=strategy)


def _import(code: str, filename: str) -> type:
    """Execute generated code as a fresh module registered in `sys.modules`.

    Identical code maps to the same module, so loading a file twice gives the same
    class, which keeps `jax.jit` caches and `isinstance` checks working.
    """
    digest = hashlib.sha256(code.encode()).hexdigest()[:16]
    module_name = f"connexc_generated_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        module = types.ModuleType(module_name)
        module.__file__ = f"<connexc {filename}>"
        # Dataclasses look their module up in sys.modules while the class is built.
        sys.modules[module_name] = module
        try:
            exec(compile(code, module.__file__, "exec"), module.__dict__)
        except BaseException:
            del sys.modules[module_name]
            raise
    class_name = _class_name(code)
    return getattr(module, class_name)


def _class_name(code: str) -> str:
    match = re.search(r"^class (\w+)\(eqx\.Module\):", code, re.MULTILINE)
    assert match is not None, "generated code defines no model class"
    return match.group(1)


def from_adjacency(
    adjacency: Mapping[Any, Iterable[Any]],
    inputs: Iterable[Any],
    outputs: Iterable[Any],
    *,
    activation: str | Callable = "relu",
    output_activation: str | Callable = "identity",
    name: str | None = None,
    dropout: float | Mapping[Any, float] = 0.0,
    neurons: Iterable[Any] = (),
) -> str:
    """`.cnx` text for a Connex-style graph.

    Args:
        adjacency: maps each neuron to the neurons it feeds.
        inputs: input neurons, in input-vector order.
        outputs: output neurons, in output-vector order.
        activation: default hidden activation, by name or as a `jax.nn` function.
        output_activation: transformation of the output vector, likewise.
        name: the network (and generated class) name; "Network" by default.
        dropout: one probability for every hidden neuron, or a mapping from neuron
            to probability (any role) where the others get zero.
        neurons: extra neurons to declare even if no edge mentions them.

    Returns:
        The text of a `.cnx` file, one statement per line.

    Raises:
        TypeError, ValueError: an argument cannot be expressed in `.cnx`.
    """
    inputs, outputs = list(inputs), list(outputs)
    edges = [(src, dst) for src, targets in adjacency.items() for dst in targets]
    order: dict[Name, None] = {}
    for neuron in [*inputs, *outputs, *neurons, *(n for e in edges for n in e)]:
        order.setdefault(_check_neuron_name(neuron), None)
    roles = {n: "input" for n in inputs} | {n: "output" for n in outputs}
    hidden = [n for n in order if n not in roles]

    activation = activation_name(activation, HIDDEN_ACTIVATIONS, "activation")
    output_activation = activation_name(
        output_activation, OUTPUT_ACTIVATIONS, "output_activation"
    )
    if name is not None and not _IDENTIFIER.match(name):
        raise ValueError(f"name must be a Python identifier, got {name!r}")

    per_neuron: dict[Name, float] = {}
    default_dropout = 0.0
    if isinstance(dropout, Mapping):
        per_neuron = {_check_neuron_name(n): float(p) for n, p in dropout.items()}
    else:
        default_dropout = float(dropout)

    lines = []
    if name is not None:
        lines.append(f"network {name}")
    lines.append(f"activation {activation}")
    if output_activation != "identity":
        lines.append(f"output_activation {output_activation}")
    if default_dropout:
        lines.append(f"dropout {default_dropout!r}")
    for role, members in (("input", inputs), ("hidden", hidden), ("output", outputs)):
        plain = [n for n in members if n not in per_neuron]
        lines += _wrapped(role, plain) if plain else []
        lines += [
            f"{role} {n} dropout={per_neuron[n]!r}" for n in members if n in per_neuron
        ]
    for src, targets in adjacency.items():
        targets = list(targets)
        if targets:
            lines += _wrapped(f"{src} ->", targets)
    return "\n".join(lines) + "\n"


def _wrapped(head: str, names: list[Name], width: int = 88) -> list[str]:
    """`head a, b, c` statements, starting a new statement before `width` columns."""
    lines: list[str] = []
    current: list[str] = []
    for item in map(str, names):
        if current and len(head) + 2 + len(", ".join([*current, item])) > width:
            lines.append(f"{head} {', '.join(current)}")
            current = []
        current.append(item)
    if current or not lines:
        lines.append(f"{head} {', '.join(current)}".rstrip())
    return lines


def _check_neuron_name(neuron: Any) -> Name:
    """Accept the names `.cnx` can write: non-negative ints and plain identifiers."""
    if isinstance(neuron, bool) or not isinstance(neuron, (int, str)):
        raise TypeError(
            f"neuron names must be non-negative ints or identifiers, got {neuron!r} "
            f"of type {type(neuron).__name__}"
        )
    if isinstance(neuron, int) and neuron < 0:
        raise ValueError(f"neuron ids must be non-negative, got {neuron}")
    if isinstance(neuron, str) and (
        not _IDENTIFIER.match(neuron) or neuron in KEYWORDS
    ):
        raise ValueError(
            f"neuron name {neuron!r} is not a .cnx name: use letters, digits and "
            f"'_' (not first), and none of the reserved words {', '.join(KEYWORDS)}"
        )
    return neuron


def activation_name(
    activation: str | Callable, allowed: tuple[str, ...], argument: str
) -> str:
    """The `.cnx` name of an activation given by name or as a JAX function."""
    if isinstance(activation, str):
        if activation not in allowed:
            raise ValueError(
                f"{argument} must be one of {', '.join(allowed)}; got {activation!r}"
            )
        return activation
    found = _jax_functions().get(activation)
    if found is None or found not in allowed:
        label = getattr(activation, "__name__", repr(activation))
        raise TypeError(
            f"{argument} {label} cannot be compiled: pass one of the functions "
            f"jax.nn.{{{', '.join(a for a in allowed if a != 'identity')}}}, or a "
            "name such as 'relu'; arbitrary callables are not supported because "
            "the generated module must stand alone"
        )
    return found


def _jax_functions() -> dict[Callable, str]:
    import jax
    import jax.numpy as jnp

    functions: dict[Callable, str] = {
        jnp.tanh: "tanh",
        jax.nn.soft_sign: "softsign",
        jax.nn.swish: "silu",
        jax.nn.softmax: "softmax",
        jax.nn.log_softmax: "log_softmax",
    }
    for name in HIDDEN_ACTIVATIONS + OUTPUT_ACTIVATIONS:
        function = getattr(jax.nn, name, None)
        if function is not None:
            functions.setdefault(function, name)
    # Connex's own identity, so its README runs unchanged. Importing Connex 0.3.3
    # warns about Equinox APIs it uses; those warnings are not the caller's concern.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from connex._utils import _identity  # type: ignore[import-not-found]
        except ImportError:
            _identity = None
    if _identity is not None:
        functions[_identity] = "identity"
    return functions


def NeuralNetwork(*args: Any, key: Any = None, **kwargs: Any) -> Any:  # noqa: N802
    """Connex's constructor: compile the graph in memory and return a model instance.

    Two forms are accepted, as in Connex's releases:

    - `NeuralNetwork(num_neurons, adjacency_dict, input_neurons, output_neurons,
      hidden_activation=jax.nn.relu, output_transformation=identity,
      dropout_p=0.0, *, key=None)`, with neurons `0 .. num_neurons - 1`;
    - `NeuralNetwork(graph_data, input_neurons, output_neurons,
      hidden_activation=jax.nn.gelu, output_transformation=identity,
      dropout_p=0.0, *, key=None)` (Connex 0.3), where `graph_data` is an
      adjacency dict or a `networkx.DiGraph`.

    Activations may be `jax.nn` functions or their names. `key` defaults to
    `jax.random.key(0)`, as in Connex.

    Returns:
        An instance of a freshly compiled module class.
    """
    import jax

    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        num_neurons, *rest = args
        bound = _bind(rest, kwargs, default_activation=jax.nn.relu)
        bound["neurons"] = range(num_neurons)
        for neuron in (n for e in _edges(bound["adjacency"]) for n in e):
            if not (isinstance(neuron, int) and 0 <= neuron < num_neurons):
                raise ValueError(
                    f"neuron {neuron!r} is outside 0 .. {num_neurons - 1}, the "
                    f"range given by num_neurons={num_neurons}"
                )
    else:
        bound = _bind(list(args), kwargs, default_activation=jax.nn.gelu)
    text = from_adjacency(
        bound["adjacency"],
        bound["inputs"],
        bound["outputs"],
        activation=bound["hidden_activation"],
        output_activation=bound["output_transformation"],
        dropout=bound["dropout_p"],
        neurons=bound.get("neurons", ()),
    )
    cls = _import(
        compile_network(Source(text, "<NeuralNetwork>")).code, "<NeuralNetwork>"
    )
    return cls(key=jax.random.key(0) if key is None else key)


def _bind(
    args: list[Any], kwargs: dict[str, Any], default_activation: Callable
) -> dict:
    names = [
        "adjacency",
        "inputs",
        "outputs",
        "hidden_activation",
        "output_transformation",
        "dropout_p",
    ]
    aliases = {
        "adjacency_dict": "adjacency",
        "graph_data": "adjacency",
        "input_neurons": "inputs",
        "output_neurons": "outputs",
    }
    if len(args) > len(names):
        raise TypeError(f"NeuralNetwork takes at most {len(names)} graph arguments")
    bound: dict[str, Any] = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        key = aliases.get(key, key)
        if key not in names:
            raise TypeError(f"NeuralNetwork got an unexpected argument {key!r}")
        if key in bound:
            raise TypeError(f"NeuralNetwork got {key!r} twice")
        bound[key] = value
    missing = [n for n in names[:3] if n not in bound]
    if missing:
        raise TypeError(f"NeuralNetwork is missing {', '.join(missing)}")
    bound.setdefault("hidden_activation", default_activation)
    bound.setdefault("output_transformation", "identity")
    bound.setdefault("dropout_p", 0.0)
    bound["adjacency"] = _adjacency(bound["adjacency"])
    return bound


def _adjacency(graph: Any) -> dict[Any, list[Any]]:
    """An adjacency dict from a mapping or anything with networkx's `adj`."""
    if isinstance(graph, Mapping):
        return {src: list(dsts) for src, dsts in graph.items()}
    adj = getattr(graph, "adj", None)
    if adj is not None:
        return {src: list(dsts) for src, dsts in adj.items()}
    raise TypeError(
        f"graph data must be an adjacency dict or a networkx.DiGraph, got "
        f"{type(graph).__name__}"
    )


def _edges(adjacency: Mapping[Any, Iterable[Any]]) -> Iterable[tuple[Any, Any]]:
    return ((src, dst) for src, dsts in adjacency.items() for dst in dsts)

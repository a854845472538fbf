"""Structural edits of generated models: from a model and an edit to a new model of a
freshly compiled class, with every surviving parameter (and optimizer state) carried
over by neuron name.

An edit changes the model's `Structure` (read from its class constants), lays it
out as canonical `.cnx` (the text `to_cnx` gives), compiles that in memory and
imports it, and copies parameters across by name as `transfer` does. Edits are
checked first, so a bad one raises an `EditError` naming the neurons involved; the
model passed in is never changed.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from ._api import _check_neuron_name, _import, activation_name
from ._check import check_graph
from ._compile import gc_paused
from ._emit import render_module
from ._errors import CompileError, raise_errors
from ._ir import HIDDEN_ACTIVATIONS, Name
from ._levels import assign_levels
from ._version import VERSION
from ._write import (
    Structure,
    name_key,
    network_of_structure,
    structure_of_model,
    write_cnx,
)

if TYPE_CHECKING:
    import numpy as np

# The file name edited networks are compiled under. It is fixed, so that one
# structure always gives byte-identical code and hence the same class.
EDIT_FILENAME = "<connexc edit>"
_LISTED = 8  # names shown per list in reports and messages before "and N more"

Connections = Iterable[tuple[Any, Any]] | Mapping[Any, Iterable[Any]]


class EditError(ValueError):
    """A structural edit that cannot be made; the model passed in is unchanged.

    It is a `ValueError`, not a `CompileError`: the problem is in the arguments of a
    Python call, so there is no `.cnx` line to point at. `str(error)` names the
    neurons involved and ends with a `hint:` line.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message}\n  hint: {hint}" if hint else message)


@dataclass(frozen=True)
class TransferReport:
    """What `transfer` did with each parameter, by name.

    Weights are named by their edge `(source, target)`, biases by their neuron.
    "kept" parameters were copied from the old model, "new" ones exist only in the
    new model, "dropped" ones only in the old.
    """

    kept_edges: tuple[tuple[Name, Name], ...]
    new_edges: tuple[tuple[Name, Name], ...]
    dropped_edges: tuple[tuple[Name, Name], ...]
    kept_biases: tuple[Name, ...]
    new_biases: tuple[Name, ...]
    dropped_biases: tuple[Name, ...]
    new_edges_init: str

    def __str__(self) -> str:
        start = "zero" if self.new_edges_init == "zero" else "freshly initialised"
        lines = [
            f"weights: {len(self.kept_edges)} kept, {len(self.new_edges)} new "
            f"({start}), {len(self.dropped_edges)} dropped",
            f"biases: {len(self.kept_biases)} kept, {len(self.new_biases)} new "
            f"(freshly initialised), {len(self.dropped_biases)} dropped",
        ]
        for label, items in (
            ("new edges", [_edge_text(e) for e in self.new_edges]),
            ("dropped edges", [_edge_text(e) for e in self.dropped_edges]),
            ("new biases", [str(n) for n in self.new_biases]),
            ("dropped biases", [str(n) for n in self.dropped_biases]),
        ):
            if items:
                lines.append(f"  {label}: {_listing(items)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class RemovedNeurons:
    """What `remove_neurons` removed. Names never change, so nothing is renumbered.

    Attributes:
        neurons: every neuron removed, asked for or dangling, in name order.
        dangling: those removed only because they lost all their incoming edges.
        edges: every edge removed with them.
        report: the parameter transfer to the new model.
    """

    neurons: tuple[Name, ...]
    dangling: tuple[Name, ...]
    edges: tuple[tuple[Name, Name], ...]
    report: TransferReport

    def __str__(self) -> str:
        lines = [f"removed neurons: {_listing([str(n) for n in self.neurons])}"]
        if self.dangling:
            dangling = _listing([str(n) for n in self.dangling])
            lines.append(f"  of which dangling: {dangling}")
        edges = _listing([_edge_text(e) for e in self.edges]) or "none"
        lines.append(f"removed edges: {edges}")
        return "\n".join(lines)


def _edge_text(edge: tuple[Name, Name]) -> str:
    return f"{edge[0]} -> {edge[1]}"


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LISTED])
    if len(items) > _LISTED:
        shown += f", and {len(items) - _LISTED} more"
    return shown


def _check_model(model: Any, argument: str = "model") -> None:
    if not all(hasattr(model, a) for a in ("EDGES", "NEURONS", "with_parameters")):
        raise TypeError(
            f"{argument} must be an instance of a connexc-generated module, got "
            f"{type(model).__name__}"
        )


def transfer(
    old_model: Any,
    new_model: Any,
    *,
    new_edges: Literal["zero", "init"] = "zero",
) -> tuple[Any, TransferReport]:
    """Copy parameters by name from one generated model into another.

    Every weight whose edge `(source, target)` is in both models, and every bias of
    a neuron in both, is copied exactly. Everything else keeps `new_model`'s value,
    except that new edges start at zero by default, so a grown network computes the
    same function as before. Any two generated modules work, whatever their levels.

    Args:
        old_model: the trained model.
        new_model: a model of the edited structure, freshly initialised.
        new_edges: "zero" to start edges missing from `old_model` at 0.0, "init" to
            keep `new_model`'s random values.

    Returns:
        `(model, report)`: a model of `new_model`'s class, and a `TransferReport`.

    Raises:
        TypeError: a model is not a connexc-generated module.
        ValueError: `new_edges` is neither "zero" nor "init".
    """
    _check_model(old_model, "old_model")
    _check_model(new_model, "new_model")
    if new_edges not in ("zero", "init"):
        raise ValueError(f'new_edges must be "zero" or "init", got {new_edges!r}')
    fresh_weights = new_model.edge_weight_array if new_edges == "init" else None
    return _transfer(
        old_model, new_model, new_edges, fresh_weights, new_model.bias_array
    )


def _transfer(
    old_model: Any,
    new_model: Any,
    new_edges: str,
    fresh_weights: Callable[[], Any] | None,
    fresh_biases: Callable[[], Any],
) -> tuple[Any, TransferReport]:
    """`transfer`, with the values for new parameters given as functions.

    `fresh_weights` gives every edge's initial weight, or is None to start new
    edges at zero; `fresh_biases` gives every bias. Each is called only if some
    parameter is new.
    """
    mapping = _Mapping(type(old_model), type(new_model))
    old_w = old_model.edge_weight_array()
    if fresh_weights is None:
        fresh_weights = functools.partial(_zeros, len(mapping.new_edges), old_w.dtype)
    weights = mapping.weights(old_w, fresh_weights)
    biases = mapping.biases(old_model.bias_array(), fresh_biases)
    return new_model.with_parameters(weights, biases), mapping.report(new_edges)


class _Mapping:
    """Positions of shared edges and biases in two models' parameter vectors."""

    def __init__(self, old: type, new: type) -> None:
        self.old_edges, self.new_edges = old.EDGES, new.EDGES
        self.old_biased = old.NEURONS[len(old.INPUTS) :]
        self.new_biased = new.NEURONS[len(new.INPUTS) :]
        self.edge_from = _positions(self.old_edges, self.new_edges)
        self.bias_from = _positions(self.old_biased, self.new_biased)

    def weights(self, old: Any, base: Callable[[], Any]) -> Any:
        return _gathered(old, base, self.edge_from)

    def biases(self, old: Any, base: Callable[[], Any]) -> Any:
        return _gathered(old, base, self.bias_from)

    def report(self, new_edges: str) -> TransferReport:
        kept_e, new_e, dropped_e = _split(
            self.old_edges, self.new_edges, self.edge_from
        )
        kept_b, new_b, dropped_b = _split(
            self.old_biased, self.new_biased, self.bias_from
        )
        return TransferReport(
            kept_e, new_e, dropped_e, kept_b, new_b, dropped_b, new_edges
        )


def _positions(old: Sequence[Any], new: Sequence[Any]) -> np.ndarray:
    """For each item of `new`, its index in `old`, or -1."""
    import numpy as np

    index = {item: i for i, item in enumerate(old)}
    return np.fromiter((index.get(item, -1) for item in new), np.int64, len(new))


def _gathered(old: Any, base: Callable[[], Any], source: np.ndarray) -> Any:
    """`base()` with each entry whose `source` is not -1 replaced by `old[source]`.

    `base` is called only when some entry is new, so a model that is only traced
    (whose arrays have shapes but no values) works when everything is kept. The
    copy happens in NumPy on the host: a JAX gather would be compiled anew for
    every shape, which costs far more than copying a few thousand floats.
    """
    import jax.numpy as jnp
    import numpy as np

    old = np.asarray(old)
    targets = np.flatnonzero(source >= 0)
    if len(targets) == len(source):
        return jnp.asarray(old[source])
    values = np.array(base())
    values[targets] = old[source[targets]]
    return jnp.asarray(values)


def _zeros(size: int, dtype: Any) -> Any:
    import numpy as np

    return np.zeros(size, dtype)


def _split(old: Sequence[Any], new: Sequence[Any], source: np.ndarray) -> tuple:
    """(kept, new, dropped) items, given the positions in `old` of `new`'s items."""
    import numpy as np

    used = np.zeros(len(old), dtype=bool)
    used[source[source >= 0]] = True
    kept = tuple(item for item, i in zip(new, source.tolist(), strict=True) if i >= 0)
    added = tuple(item for item, i in zip(new, source.tolist(), strict=True) if i < 0)
    dropped = tuple(item for item, u in zip(old, used.tolist(), strict=True) if not u)
    return kept, added, dropped


def transfer_opt_state(opt_state: Any, old_model: Any, new_model: Any) -> Any:
    """Migrate an optax state built for `old_model` to `new_model`'s structure.

    Optimizer states such as Adam's hold model-shaped pytrees (the moments `mu` and
    `nu` are instances of the model's class with array leaves). Each of them is
    mapped by name as `transfer` maps parameters, with zeros for every new edge and
    bias; everything else in the state (step counts, scalars) is kept as it is.

    Args:
        opt_state: the state, as returned by `optimizer.init(eqx.filter(old_model,
            eqx.is_array))` and updated since.
        old_model: the model the state was built for (any instance of its class).
        new_model: the edited model.

    Returns:
        A state with the structure `optimizer.init` would give for `new_model`.

    Raises:
        TypeError: a model is not a connexc-generated module, or a model-shaped part
            of the state has no arrays where the parameters are (for example one
            built with `optax.masked`).
    """
    import equinox as eqx
    import jax

    _check_model(old_model, "old_model")
    _check_model(new_model, "new_model")
    old_class = type(old_model)
    mapping = _Mapping(old_class, type(new_model))

    def migrate(node: Any) -> Any:
        if not isinstance(node, old_class):
            return node
        try:
            old_w, old_b = node.edge_weight_array(), node.bias_array()
        except (AttributeError, TypeError, IndexError) as err:
            raise TypeError(
                "a model-shaped part of the optimizer state has no array where a "
                "parameter is, so it cannot be migrated by name; states built for "
                "eqx.filter(model, eqx.is_array) are supported"
            ) from err
        migrated = new_model.with_parameters(
            mapping.weights(old_w, lambda: _zeros(len(mapping.new_edges), old_w.dtype)),
            mapping.biases(old_b, lambda: _zeros(len(mapping.new_biased), old_b.dtype)),
        )
        static = jax.tree_util.tree_leaves(eqx.filter(node, eqx.is_array, inverse=True))
        return migrated if static else eqx.filter(migrated, eqx.is_array)

    return jax.tree_util.tree_map(
        migrate, opt_state, is_leaf=lambda x: isinstance(x, old_class)
    )


def to_cnx(model: Any) -> str:
    """The structure of a generated model (class or instance) as canonical `.cnx`.

    Compiling the text gives a module with the same neurons, edges and attributes,
    so an edited network can be saved, diffed with `connexc diff` and reloaded.
    """
    _check_model(model)
    return write_cnx(structure_of_model(model))


@gc_paused()
def add_connections(
    model: Any,
    connections: Connections,
    *,
    key: Any = None,
    new_edges: Literal["zero", "init"] = "zero",
) -> Any:
    """Add edges; the new model computes the same function until trained further.

    Args:
        model: a generated model instance.
        connections: `(source, target)` pairs, or `{source: [targets]}`.
        key: seeds the random initial weights of new edges, used only with
            `new_edges="init"`; `jax.random.key(0)` when None.
        new_edges: "zero" (default) or "init", as in `transfer`.

    Returns:
        A model of a new class with the added edges.

    Raises:
        EditError: a neuron is unknown, an edge exists already, enters an input,
            leaves an output, or would close a cycle (the message shows it).
    """
    structure = _structure(model)
    edges = _pairs(connections)
    known = set(structure.neurons())
    _check_new_edges(structure, edges, known)
    edited = dataclasses.replace(structure, edges=(*structure.edges, *edges))
    _check_acyclic(edited, edges)
    return _rebuild(model, edited, key, new_edges)[0]


@gc_paused()
def remove_connections(model: Any, connections: Connections) -> Any:
    """Remove edges; every other parameter is kept exactly.

    The result computes what `model` computes with those weights set to zero.

    Raises:
        EditError: an edge does not exist, or removing it would leave a hidden
            neuron without incoming edges.
    """
    structure = _structure(model)
    edges = _pairs(connections)
    existing = set(structure.edges)
    seen: set[tuple[Name, Name]] = set()
    for edge in edges:
        if edge not in existing:
            _unknown_neurons(structure, edge)
            raise EditError(
                f"cannot remove edge {_edge_text(edge)}: there is no such edge",
                _edge_hint(structure, edge),
            )
        if edge in seen:
            raise EditError(f"edge {_edge_text(edge)} is listed twice")
        seen.add(edge)
    kept = tuple(e for e in structure.edges if e not in seen)
    edited = dataclasses.replace(structure, edges=kept)
    starved = _starved(edited, structure.hidden)
    if starved:
        raise EditError(
            f"removing these edges would leave hidden {_neurons(starved)} without "
            "any incoming edge",
            f"remove {_them(starved)} too, with remove_neurons(model, "
            f"{_py_list(starved)})",
        )
    return _rebuild(model, edited, None, "zero")[0]


@gc_paused()
def add_neurons(
    model: Any,
    neurons: Iterable[Name],
    connections: Connections = (),
    *,
    role: Literal["hidden", "input", "output"] = "hidden",
    activation: Any = None,
    dropout: float = 0.0,
    key: Any = None,
    new_edges: Literal["zero", "init"] = "zero",
) -> Any:
    """Add neurons and the edges that connect them.

    New inputs go at the end of the input vector and new outputs at the end of the
    output vector. With the default `new_edges="zero"`, the outputs the model had
    keep their values.

    Args:
        model: a generated model instance.
        neurons: names of the new neurons (non-negative ints or identifiers).
        connections: edges to add with them, as in `add_connections`; each new
            hidden neuron needs at least one incoming edge.
        role: "hidden", "input" or "output", for every neuron in `neurons`.
        activation: for hidden neurons, a name or `jax.nn` function; the network's
            most common hidden activation when None.
        dropout: dropout probability of the new neurons.
        key: seeds the new neurons' random initial biases (and, with
            `new_edges="init"`, their edges' weights); `jax.random.key(0)` when None.
            Values are drawn like the generated initialiser's, fan-in scaled.
        new_edges: "zero" (default) or "init", as in `transfer`.

    Returns:
        A model of a new class with the added neurons.

    Raises:
        EditError: a name is taken or not a `.cnx` name, an edge is invalid or
            closes a cycle, or a new hidden neuron has no incoming edge.
    """
    structure = _structure(model)
    if role not in ("hidden", "input", "output"):
        raise ValueError(f'role must be "hidden", "input" or "output", got {role!r}')
    added = _new_names(structure, neurons)
    chosen = structure.default_activation()
    if activation is not None:
        if role != "hidden":
            raise EditError(
                f"{role} neurons take no activation",
                "output neurons are linear and inputs pass their values through",
            )
        chosen = activation_name(activation, HIDDEN_ACTIVATIONS, "activation")
    _check_dropout(dropout)

    grown = dataclasses.replace(
        structure,
        inputs=structure.inputs + (added if role == "input" else ()),
        outputs=structure.outputs + (added if role == "output" else ()),
        hidden=structure.hidden + (added if role == "hidden" else ()),
        activations={**structure.activations}
        | ({n: chosen for n in added} if role == "hidden" else {}),
        dropout={**structure.dropout}
        | ({n: float(dropout) for n in added} if dropout else {}),
    )
    edges = _pairs(connections)
    _check_new_edges(grown, edges, set(grown.neurons()))
    edited = dataclasses.replace(grown, edges=(*structure.edges, *edges))
    _check_acyclic(edited, edges)
    starved = _starved(edited, added) if role == "hidden" else []
    if starved:
        raise EditError(
            f"new hidden {_neurons(starved)} would have no incoming edge",
            f"pass connections into {_them(starved)}, such as "
            f"[({_py_name(structure.inputs[0])}, {_py_name(starved[0])})]",
        )
    return _rebuild(model, edited, key, new_edges)[0]


def add_hidden_neurons(
    model: Any, neurons: Iterable[Name], connections: Connections = (), **options: Any
) -> Any:
    """Add hidden neurons with their edges (see `add_neurons`)."""
    return add_neurons(model, neurons, connections, role="hidden", **options)


def add_input_neurons(
    model: Any, neurons: Iterable[Name], connections: Connections = (), **options: Any
) -> Any:
    """Add input neurons, appended to the input vector (see `add_neurons`)."""
    return add_neurons(model, neurons, connections, role="input", **options)


def add_output_neurons(
    model: Any, neurons: Iterable[Name], connections: Connections = (), **options: Any
) -> Any:
    """Add output neurons, appended to the output vector (see `add_neurons`)."""
    return add_neurons(model, neurons, connections, role="output", **options)


@gc_paused()
def remove_neurons(
    model: Any, neurons: Iterable[Name], *, remove_dangling: bool = False
) -> tuple[Any, RemovedNeurons]:
    """Remove neurons and every edge into or out of them.

    Names never change, so the remaining neurons keep their names and parameters;
    removed inputs and outputs leave the input and output vectors.

    Args:
        model: a generated model instance.
        neurons: neurons to remove; a group's name stands for all its members.
        remove_dangling: also remove hidden neurons left without incoming edges
            (and so on, transitively) instead of refusing the edit.

    Returns:
        `(model, info)`, where `info` is a `RemovedNeurons`.

    Raises:
        EditError: a neuron is unknown, listed twice, is part of a group that
            would be left incomplete, all inputs or all outputs would go, or a
            hidden neuron would be left without incoming edges.
    """
    structure = _structure(model)
    removed = _neurons_to_remove(structure, neurons)
    dangling: list[Name] = []
    while True:
        kept = set(structure.neurons()) - set(removed) - set(dangling)
        edges = tuple(e for e in structure.edges if e[0] in kept and e[1] in kept)
        hidden = tuple(n for n in structure.hidden if n in kept)
        starved = _starved(dataclasses.replace(structure, edges=edges), hidden)
        if not starved:
            break
        if not remove_dangling:
            raise EditError(
                f"removing {_neurons(removed)} would leave hidden "
                f"{_neurons(starved)} without any incoming edge",
                f"remove {_them(starved)} as well, or pass remove_dangling=True to "
                "remove every neuron left without inputs",
            )
        dangling += starved
    everything = [*removed, *dangling]
    _check_groups_whole(structure, everything)
    for role, names in (("input", structure.inputs), ("output", structure.outputs)):
        if not [n for n in names if n in kept]:
            raise EditError(
                f"removing {_neurons(everything)} would leave the network without "
                f"{role}s",
                f"keep at least one {role}",
            )
    edited = dataclasses.replace(
        structure,
        inputs=tuple(n for n in structure.inputs if n in kept),
        outputs=tuple(n for n in structure.outputs if n in kept),
        hidden=hidden,
        edges=edges,
    )
    new_model, report = _rebuild(model, edited, None, "zero")
    gone = set(everything)
    info = RemovedNeurons(
        neurons=tuple(sorted(gone, key=name_key)),
        dangling=tuple(sorted(dangling, key=name_key)),
        edges=tuple(e for e in structure.edges if e[0] in gone or e[1] in gone),
        report=report,
    )
    return new_model, info


@gc_paused()
def set_dropout_p(model: Any, p: float | Mapping[Name, float]) -> Any:
    """Change dropout probabilities; parameters are kept exactly.

    Args:
        model: a generated model instance.
        p: one probability for every hidden neuron, or `{neuron: p}` for some
            neurons of any role (the others keep theirs).

    Returns:
        A model of a new class with the new dropout probabilities.

    Raises:
        EditError: a probability is outside [0, 1) or a neuron is unknown.
    """
    structure = _structure(model)
    if isinstance(p, Mapping):
        known = set(structure.neurons())
        for neuron, value in p.items():
            if neuron not in known:
                _raise_unknown(structure, neuron)
            _check_dropout(value)
        changes = {n: float(v) for n, v in p.items()}
    else:
        _check_dropout(p)
        changes = {n: float(p) for n in structure.hidden}
    dropout = {n: v for n, v in ({**structure.dropout} | changes).items() if v}
    edited = dataclasses.replace(structure, dropout=dropout)
    return _rebuild(model, edited, None, "zero")[0]


def _structure(model: Any) -> Structure:
    _check_model(model)
    if isinstance(model, type):
        raise TypeError(
            f"edits take a model instance with trained parameters, got the class "
            f"{model.__name__}; instantiate it with {model.__name__}(key=...)"
        )
    return structure_of_model(model)


def _rebuild(
    model: Any, structure: Structure, key: Any, new_edges: Literal["zero", "init"]
) -> tuple[Any, TransferReport]:
    """Compile an edited structure in memory and carry `model`'s parameters over.

    The network is built from the canonical layout rather than parsed from its
    text (the same `Network`, spans included, at a fraction of the cost), then
    checked, levelled and rendered as `compile_network` would.
    """
    import equinox as eqx

    code = _generated_code(structure, getattr(model, "STRATEGY", None))
    new_class = _import(code, EDIT_FILENAME)
    key = _key(key)
    # The edited model keeps the old one's settings.
    settings = {
        "inference": getattr(model, "inference", False),
        "custom_vjp": getattr(model, "custom_vjp", True),
    }

    # Trace the new class instead of initialising it: compiling its initialiser
    # would cost more than the rest of the edit. The few new values are drawn here.
    shell = eqx.filter_eval_shape(new_class, key=key, **settings)
    draws = _InitialValues(new_class, key)
    fresh_weights = draws.weights if new_edges == "init" else None
    new_model, report = _transfer(model, shell, new_edges, fresh_weights, draws.biases)
    if not _concrete(new_model):
        # The class holds arrays besides its parameters; initialise it for real.
        fresh = new_class(key=key, **settings)
        new_model, report = transfer(model, fresh, new_edges=new_edges)
    return new_model, report


class _InitialValues:
    """Initial weights and biases for a generated class, drawn as its initialiser
    does: each neuron's incoming weights and its bias from U(-1/sqrt(n), 1/sqrt(n)),
    n being the neuron's number of incoming edges (1 for a neuron without any).

    The draws use NumPy seeded from the JAX key, so they are reproducible and need
    no compilation; they are not the same numbers the class's own `__init__` gives.
    """

    def __init__(self, cls: type, key: Any) -> None:
        import jax
        import numpy as np

        fan_in: dict[Name, int] = {}
        for _, target in cls.EDGES:
            fan_in[target] = fan_in.get(target, 0) + 1
        self.bias_bound = (
            np.array(
                [fan_in.get(n, 1) for n in cls.NEURONS[len(cls.INPUTS) :]], np.float32
            )
            ** -0.5
        )
        self.edge_bound = (
            np.array([fan_in[t] for _, t in cls.EDGES], np.float32) ** -0.5
        )
        if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
            key = jax.random.key_data(key)
        self.rng = np.random.default_rng(np.asarray(key).ravel().tolist())

    def weights(self) -> Any:
        return self._uniform(self.edge_bound)

    def biases(self) -> Any:
        return self._uniform(self.bias_bound)

    def _uniform(self, bound: Any) -> Any:
        return (self.rng.uniform(-1.0, 1.0, bound.shape) * bound).astype("float32")


def _concrete(model: Any) -> bool:
    """Whether every leaf of a model has a value (none is a traced placeholder)."""
    import jax

    return not any(
        isinstance(leaf, jax.ShapeDtypeStruct)
        for leaf in jax.tree_util.tree_leaves(model)
    )


def _key(key: Any) -> Any:
    import jax

    return jax.random.key(0) if key is None else key


def _generated_code(structure: Structure, strategy: str | None) -> str:
    try:
        _, network = network_of_structure(structure, EDIT_FILENAME)
    except ValueError as err:
        raise EditError(str(err), "edit a group as a whole") from err
    try:
        raise_errors(check_graph(network))
    except CompileError as err:  # the checks before an edit make this unreachable
        raise EditError(
            f"the edited network does not compile:\n{err}",
            "this is a bug in connexc's edit checks; please report it",
        ) from err
    levels = assign_levels(network)
    if strategy is None:
        return render_module(network, levels, VERSION)
    return render_module(network, levels, VERSION, strategy)


def _pairs(connections: Connections) -> list[tuple[Name, Name]]:
    """Edges from a list of pairs or an adjacency mapping, in the order given."""
    if isinstance(connections, Mapping):
        return [(s, t) for s, targets in connections.items() for t in targets]
    pairs = []
    for item in connections:
        if not (isinstance(item, Sequence) and len(item) == 2) or isinstance(item, str):
            raise TypeError(
                f"connections must be (source, target) pairs or a dict of "
                f"{{source: [targets]}}, got the item {item!r}"
            )
        pairs.append((item[0], item[1]))
    return pairs


def _check_new_edges(
    structure: Structure, edges: list[tuple[Name, Name]], known: set[Name]
) -> None:
    """Refuse edges with unknown ends, wrong roles, self-loops or duplicates."""
    existing = set(structure.edges)
    inputs, outputs = set(structure.inputs), set(structure.outputs)
    seen: set[tuple[Name, Name]] = set()
    for edge in edges:
        source, target = edge
        for neuron in edge:
            if neuron not in known:
                _raise_unknown(structure, neuron)
        if source == target:
            raise EditError(
                f"cannot connect {_quote(source)} to itself",
                "a network must be acyclic",
            )
        if target in inputs:
            raise EditError(
                f"cannot add edge {_edge_text(edge)}: {_quote(target)} is an input",
                "inputs take their values from the input vector only",
            )
        if source in outputs:
            raise EditError(
                f"cannot add edge {_edge_text(edge)}: {_quote(source)} is an output",
                "outputs end the graph; connect the target from the output's own "
                "sources instead",
            )
        if edge in existing or edge in seen:
            why = "the model has it already" if edge in existing else "listed twice"
            raise EditError(
                f"cannot add edge {_edge_text(edge)}: {why}", "add each edge once"
            )
        seen.add(edge)


def _check_acyclic(structure: Structure, added: list[tuple[Name, Name]]) -> None:
    """Refuse an edit whose edges form a cycle, showing the cycle."""
    successors: dict[Name, list[Name]] = defaultdict(list)
    indegree: dict[Name, int] = dict.fromkeys(structure.neurons(), 0)
    for source, target in structure.edges:
        successors[source].append(target)
        indegree[target] += 1
    queue = deque(n for n, d in indegree.items() if d == 0)
    while queue:
        for target in successors[queue.popleft()]:
            indegree[target] -= 1
            if indegree[target] == 0:
                queue.append(target)
    if all(d == 0 for d in indegree.values()):
        return

    # Some added edge closes the cycle: report the last one given that lies on one.
    for source, target in reversed(added):
        path = _path(successors, target, source)
        if path is not None:
            cycle = " -> ".join(str(n) for n in [source, *path])
            raise EditError(
                f"edge {_edge_text((source, target))} would close a cycle: {cycle}",
                "a network must be acyclic; leave out this edge or remove one on "
                "the path",
            )
    raise AssertionError("a cycle without an added edge")  # the model was acyclic


def _path(
    successors: Mapping[Name, list[Name]], start: Name, goal: Name
) -> list | None:
    """The shortest path from `start` to `goal`, or None."""
    came_from: dict[Name, Name | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = [node]
            while came_from[path[-1]] is not None:
                path.append(came_from[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for following in successors.get(node, ()):
            if following not in came_from:
                came_from[following] = node
                queue.append(following)
    return None


def _starved(structure: Structure, candidates: Iterable[Name]) -> list[Name]:
    """The hidden neurons among `candidates` that have no incoming edge."""
    fed = {target for _, target in structure.edges}
    hidden = set(structure.hidden)
    return sorted((n for n in candidates if n in hidden and n not in fed), key=name_key)


def _new_names(structure: Structure, neurons: Iterable[Name]) -> tuple[Name, ...]:
    taken = set(structure.neurons()) | set(structure.groups)
    added: list[Name] = []
    for neuron in neurons:
        try:
            _check_neuron_name(neuron)
        except (TypeError, ValueError) as err:
            raise EditError(str(err), "choose another name") from err
        if neuron in taken or neuron in added:
            raise EditError(
                f"cannot add neuron {_quote(neuron)}: the name is taken",
                "names are unique, and kept for the life of the network",
            )
        added.append(neuron)
    if not added:
        raise EditError("no neurons to add", "pass at least one name")
    return tuple(added)


def _neurons_to_remove(structure: Structure, neurons: Iterable[Name]) -> list[Name]:
    present = set(structure.neurons())
    removed: list[Name] = []
    for neuron in neurons:
        if neuron in present:
            found: list[Name] = [neuron]
        elif isinstance(neuron, str) and neuron in structure.groups:
            size = structure.groups[neuron][0]
            found = [m for i in range(size) if (m := f"{neuron}[{i}]") in present]
        else:
            _raise_unknown(structure, neuron)
        for name in found:
            if name in removed:
                raise EditError(f"neuron {_quote(name)} is listed twice")
            removed.append(name)
    if not removed:
        raise EditError("no neurons to remove", "pass at least one name")
    return removed


def _check_groups_whole(structure: Structure, removed: list[Name]) -> None:
    """Refuse removing some but not all members of a group."""
    gone = set(removed)
    present = set(structure.neurons())
    for group, (size, _) in structure.groups.items():
        members = [m for i in range(size) if (m := f"{group}[{i}]") in present]
        hit = [m for m in members if m in gone]
        if hit and len(hit) < len(members):
            # TODO: allow pruning single group members, because the .cnx language
            # can only declare a group whole, so a group with a gap has no text.
            raise EditError(
                f"cannot remove {_neurons(hit)} alone: "
                f"{'it belongs' if len(hit) == 1 else 'they belong'} to group "
                f"'{group}', and .cnx declares a group only whole",
                f"remove the whole group with remove_neurons(model, ['{group}']), "
                "or cut the neuron off with remove_connections",
            )


def _check_dropout(p: Any) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise EditError(
            f"dropout {p!r} is outside [0, 1)",
            "a dropout probability p is a number with 0 <= p < 1",
        )


def _raise_unknown(structure: Structure, neuron: Any) -> NoReturn:
    if isinstance(neuron, str) and neuron in structure.groups:
        size = structure.groups[neuron][0]
        raise EditError(
            f"'{neuron}' is a group, not a neuron",
            f"name its members, '{neuron}[0]' to '{neuron}[{size - 1}]'",
        )
    names = [str(n) for n in structure.neurons()]
    close = difflib.get_close_matches(str(neuron), names, n=1)
    guess = f"did you mean {_quote(close[0])}? " if close else ""
    raise EditError(
        f"unknown neuron {neuron!r}: the network {structure.name} has no such neuron",
        f"{guess}neurons are named as in the .cnx file (ints stay ints); see "
        "model.NEURONS",
    )


def _unknown_neurons(structure: Structure, edge: tuple[Any, Any]) -> None:
    known = set(structure.neurons())
    for neuron in edge:
        if neuron not in known:
            _raise_unknown(structure, neuron)


def _edge_hint(structure: Structure, edge: tuple[Name, Name]) -> str:
    reverse = (edge[1], edge[0])
    if reverse in set(structure.edges):
        return f"the edge runs the other way: {_edge_text(reverse)}"
    return "see model.EDGES for the edges the model has"


def _quote(name: Name) -> str:
    return f"'{name}'"


def _neurons(names: Sequence[Name]) -> str:
    quoted = _listing([_quote(n) for n in names])
    return f"neuron {quoted}" if len(names) == 1 else f"neurons {quoted}"


def _them(names: Sequence[Name]) -> str:
    return "it" if len(names) == 1 else "them"


def _py_name(name: Name) -> str:
    return repr(name)


def _py_list(names: Sequence[Name]) -> str:
    return "[" + ", ".join(map(_py_name, names)) + "]"

"""Moves networks between connexc and other graph tools: `networkx.DiGraph` objects
and a JSON exchange format, in both directions.

Exports carry the structure and, for a model instance, its parameters (`weight` on
edges, `bias` on neurons). Imports return `.cnx` text; `model_from_json` also loads
the parameters a JSON file carries into a freshly compiled model. networkx is
imported only by the functions that need it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._api import _check_neuron_name, activation_name
from ._inspect import NetworkView, view_of
from ._ir import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, Name
from ._write import Structure, write_cnx

JSON_FORMAT = "connexc-graph"
JSON_VERSION = 1

_NETWORKX_MISSING = (
    "networkx is not installed; install it with 'pip install connexc[networkx]' "
    "or 'pip install networkx'"
)


def _parameters(model: Any) -> tuple[dict | None, dict | None]:
    """`(edge_weights, biases)` of a model instance; `(None, None)` otherwise."""
    if isinstance(model, type) or not hasattr(model, "edge_weights"):
        return None, None
    return model.edge_weights(), model.biases()


def to_networkx(model: Any) -> Any:
    """A `networkx.DiGraph` of a network, with its parameters when it has any.

    Args:
        model: a generated model instance (parameters included), a model class,
            `.cnx` text or a `pathlib.Path` to a `.cnx` file (structure only).

    Returns:
        A `DiGraph` whose nodes are the neuron names (ints stay ints). Nodes carry
        `role`, `activation`, `dropout`, `level`, `input_index` or `output_index`
        (the position in the input or output vector) and, for group members,
        `group`; for a model instance, non-input nodes carry `bias` and edges
        `weight` (plain floats). The graph's attributes hold `name`, `inputs`,
        `outputs`, `output_activation` and `groups` ({group: (size, role)}), so
        that `from_networkx(to_networkx(model))` gives the same network back. The
        node attributes alone are enough too, so a round trip through GraphML,
        which cannot store the graph's list attributes, works once they are
        deleted.

    Raises:
        ImportError: networkx is not installed.
        CompileError: `model` is `.cnx` text or a file that does not compile.
    """
    try:
        import networkx as nx
    except ImportError as err:
        raise ImportError(_NETWORKX_MISSING) from err

    net = view_of(model)
    weights, biases = _parameters(model)
    graph = nx.DiGraph(
        name=net.name,
        inputs=list(net.inputs),
        outputs=list(net.outputs),
        output_activation=net.output_activation,
        groups={g: tuple(spec) for g, spec in net.groups.items()},
    )
    index = {n: i for i, n in enumerate(net.inputs)}
    index.update((n, i) for i, n in enumerate(net.outputs))
    for level, names in enumerate(net.levels):
        for name in names:
            attributes = _node_attributes(net, name, level, index.get(name), biases)
            graph.add_node(name, **attributes)
    for source, target in net.edges:
        if weights is None:
            graph.add_edge(source, target)
        else:
            graph.add_edge(source, target, weight=weights[(source, target)])
    return graph


def _node_attributes(
    net: NetworkView,
    name: Name,
    level: int,
    index: int | None,
    biases: Mapping | None,
) -> dict[str, Any]:
    role = net.role(name)
    attributes: dict[str, Any] = {
        "role": role,
        "activation": net.activations[name],
        "dropout": net.dropout.get(name, 0.0),
        "level": level,
    }
    if index is not None:  # the position in the input or output vector
        attributes[f"{role}_index"] = index
    group = net.group_of(name)
    if group is not None:
        attributes["group"] = group
    if biases is not None and name in biases:
        attributes["bias"] = biases[name]
    return attributes


def from_networkx(
    graph: Any,
    inputs: Any = None,
    outputs: Any = None,
    *,
    name: str | None = None,
    activation: str | Callable | None = None,
    output_activation: str | Callable | None = None,
) -> str:
    """Canonical `.cnx` text for a directed graph.

    Args:
        graph: a `networkx.DiGraph` (or anything with `nodes` and `edges` in its
            style) whose nodes are non-negative ints (or strings of digits, as
            GraphML stores them) or identifiers, or group members `g[i]` of the
            groups in `graph.graph["groups"]` or named by the nodes' `group`
            attributes.
        inputs: the input neurons in input-vector order; default
            `graph.graph["inputs"]`, else the nodes with an `input_index`
            attribute, in its order.
        outputs: likewise with `outputs` and `output_index`.
        name: the network name; default `graph.graph["name"]`, else "Network".
        activation: the hidden activation of nodes without an `activation`
            attribute; default the most common one among those that have it.
        output_activation: default `graph.graph["output_activation"]`, else
            "identity".

    Returns:
        `.cnx` text in the canonical layout of `connexc fmt`. Node attributes
        `activation` and `dropout` are kept; weights and biases are not, since
        `.cnx` describes structure only.

    Raises:
        ValueError, TypeError: the graph cannot be written as `.cnx` (a bad name, a
            missing input or output list, an unknown activation).
    """
    attributes = getattr(graph, "graph", {}) or {}
    names = {n: _check_neuron_name_or_member(n) for n in graph.nodes}
    nodes = {names[n]: dict(data) for n, data in graph.nodes(data=True)}
    inputs = _role_list(inputs, attributes, nodes, "input")
    outputs = _role_list(outputs, attributes, nodes, "output")
    edges = [(names[s], names[t]) for s, t in graph.edges()]
    groups = attributes.get("groups")
    if groups is None:
        groups = _groups_of_nodes(nodes)
    return write_cnx(
        _structure(
            name=name or attributes.get("name") or "Network",
            inputs=inputs,
            outputs=outputs,
            nodes=nodes,
            edges=edges,
            activation=activation,
            output_activation=output_activation
            or attributes.get("output_activation", "identity"),
            groups=groups,
        )
    )


def _role_list(
    given: Any, attributes: Mapping, nodes: Mapping[Name, Mapping], role: str
) -> list[Name]:
    """The inputs or outputs in vector order: as given, from the graph's attribute
    `inputs` (`outputs`), or from the nodes' `input_index` (`output_index`)."""
    key = f"{role}s"
    if given is None:
        given = attributes.get(key)
    if given is None:
        indexed = {
            n: d[f"{role}_index"] for n, d in nodes.items() if f"{role}_index" in d
        }
        given = sorted(indexed, key=indexed.__getitem__) if indexed else None
    if given is None:
        raise ValueError(
            f"the {key} are not known: pass {key}=[...] in vector order, or set "
            f"graph.graph[{key!r}]"
        )
    return [_check_neuron_name_or_member(n) for n in given]


def _groups_of_nodes(nodes: Mapping[Name, Mapping]) -> dict[str, tuple[int, str]]:
    """Groups from the nodes' `group` and `role` attributes, as `to_networkx` sets
    them, for graphs whose graph-level attributes were lost (GraphML, GEXF)."""
    groups: dict[str, tuple[int, str]] = {}
    for data in nodes.values():
        group = data.get("group")
        if isinstance(group, str) and group:
            size, _ = groups.get(group, (0, ""))
            groups[group] = (size + 1, str(data.get("role", "hidden")))
    return groups


def _check_neuron_name_or_member(neuron: Any) -> Name:
    """A `.cnx` neuron name, also accepting group members such as `h[3]`.

    A string of digits is the integer it spells: no `.cnx` identifier starts with
    a digit, and formats such as GraphML store every node id as a string.
    """
    if isinstance(neuron, str) and neuron.isascii() and neuron.isdigit():
        return int(neuron)
    if isinstance(neuron, str) and neuron.endswith("]") and "[" in neuron:
        group, _, index = neuron[:-1].partition("[")
        if index.isdigit() and index.isascii():
            _check_neuron_name(group)
            return neuron
    return _check_neuron_name(neuron)


def _structure(
    *,
    name: str,
    inputs: list[Name],
    outputs: list[Name],
    nodes: Mapping[Name, Mapping[str, Any]],
    edges: list[tuple[Name, Name]],
    activation: str | Callable | None,
    output_activation: str | Callable,
    groups: Mapping[str, Any],
) -> Structure:
    """A writer `Structure` from plain nodes with optional attributes, and edges."""
    for neuron in (n for edge in edges for n in edge):
        if neuron not in nodes:
            nodes = {**nodes, _check_neuron_name_or_member(neuron): {}}
    roles = set(inputs) | set(outputs)
    hidden = tuple(n for n in nodes if n not in roles)
    activations: dict[Name, str] = {}
    dropout: dict[Name, float] = {}
    for neuron in [*inputs, *hidden, *outputs]:
        data = nodes.get(neuron, {})
        if neuron in hidden and data.get("activation") is not None:
            activations[neuron] = activation_name(
                data["activation"], HIDDEN_ACTIVATIONS, f"activation of {neuron!r}"
            )
        p = data.get("dropout")
        if p:
            if isinstance(p, bool) or not 0.0 <= float(p) < 1.0:
                raise ValueError(f"dropout of {neuron!r} must be in [0, 1), got {p!r}")
            dropout[neuron] = float(p)
    default = None
    if activation is not None:
        default = activation_name(activation, HIDDEN_ACTIVATIONS, "activation")
        activations = {n: activations.get(n, default) for n in hidden}
    return Structure(
        name=name,
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        hidden=hidden,
        edges=tuple(edges),
        activations=activations,
        dropout=dropout,
        output_activation=activation_name(
            output_activation, OUTPUT_ACTIVATIONS, "output_activation"
        ),
        groups={g: (int(spec[0]), str(spec[1])) for g, spec in groups.items()},
        activation=default,
    )


def to_json(model: Any) -> dict[str, Any]:
    """The JSON exchange form of a network, as a dict ready for `json.dump`.

    Args:
        model: a generated model instance (parameters included), a model class,
            `.cnx` text or a `pathlib.Path` to a `.cnx` file (structure only).

    Returns:
        `{"format": "connexc-graph", "version": 1, "name", "inputs", "outputs",
        "output_activation", "groups": {g: {"size", "role"}}, "neurons": [{"name",
        "role", "activation", "dropout", "bias"?}], "edges": [{"source", "target",
        "weight"?}]}`, neurons level by level and edges in the model's order.
        Weights and biases appear only for a model instance.

    Raises:
        CompileError: `model` is `.cnx` text or a file that does not compile.
    """
    net = view_of(model)
    weights, biases = _parameters(model)
    neurons = []
    for name in net.neurons:
        item: dict[str, Any] = {"name": name, "role": net.role(name)}
        if item["role"] == "hidden":
            item["activation"] = net.activations[name]
        item["dropout"] = net.dropout.get(name, 0.0)
        if biases is not None and name in biases:
            item["bias"] = biases[name]
        neurons.append(item)
    edges = []
    for source, target in net.edges:
        edge: dict[str, Any] = {"source": source, "target": target}
        if weights is not None:
            edge["weight"] = weights[(source, target)]
        edges.append(edge)
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "name": net.name,
        "inputs": list(net.inputs),
        "outputs": list(net.outputs),
        "output_activation": net.output_activation,
        "groups": {g: {"size": s, "role": r} for g, (s, r) in net.groups.items()},
        "neurons": neurons,
        "edges": edges,
    }


def dump_json(data: Mapping[str, Any]) -> str:
    """JSON text for `to_json` output: one neuron or edge per line, so it diffs well."""
    lines = ["{"]
    keys = list(data)
    for k, key in enumerate(keys):
        comma = "," if k + 1 < len(keys) else ""
        value = data[key]
        if key in ("neurons", "edges") and isinstance(value, list) and value:
            lines.append(f"  {json.dumps(key)}: [")
            rows = [f"    {json.dumps(item)}" for item in value]
            lines.append(",\n".join(rows))
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


class JsonGraphError(ValueError):
    """A JSON graph that cannot be imported; `where` says which part (`edges[3]`)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


def from_json(data: Mapping[str, Any] | str) -> str:
    """Canonical `.cnx` text for a graph in the JSON exchange format.

    Besides what `to_json` writes, import accepts what other tools tend to write:
    `"neurons"` may be left out (every name an edge mentions is a neuron), edges
    may be `[source, target]` or `[source, target, weight]` lists, an edge with
    `"enabled": false` (as NEAT genomes mark disabled genes) is skipped, and
    `"activation"` at top level sets the default hidden activation.

    Args:
        data: the parsed JSON object, or JSON text.

    Returns:
        `.cnx` text in canonical layout; parameters are not part of it (see
        `model_from_json`).

    Raises:
        ValueError: the data is not a graph connexc can write; the message names
            the offending part, such as `edges[3]`.
    """
    data = _loaded(data)
    nodes = {name: attributes for name, attributes in _json_neurons(data)}
    edges = [(s, t) for s, t, _ in _json_edges(data)]
    try:
        return write_cnx(
            _structure(
                name=_json_field(data, "name", str, "Network"),
                inputs=_json_names(data, "inputs"),
                outputs=_json_names(data, "outputs"),
                nodes=nodes,
                edges=edges,
                activation=data.get("activation"),
                output_activation=_json_field(
                    data, "output_activation", str, "identity"
                ),
                groups={
                    g: (spec.get("size"), spec.get("role"))
                    for g, spec in _json_field(data, "groups", dict, {}).items()
                },
            )
        )
    except (TypeError, ValueError) as err:
        if isinstance(err, JsonGraphError):
            raise
        raise JsonGraphError("", str(err)) from err


def _loaded(data: Mapping[str, Any] | str) -> Mapping[str, Any]:
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, Mapping):
        raise JsonGraphError("", f"expected a JSON object, got {type(data).__name__}")
    found = data.get("format", JSON_FORMAT)
    if found != JSON_FORMAT:
        raise JsonGraphError("format", f"expected {JSON_FORMAT!r}, got {found!r}")
    version = data.get("version", JSON_VERSION)
    if version != JSON_VERSION:
        raise JsonGraphError(
            "version", f"this connexc reads version {JSON_VERSION}, got {version!r}"
        )
    return data


def _json_field(data: Mapping, key: str, kind: type, default: Any) -> Any:
    value = data.get(key, default)
    if not isinstance(value, kind):
        raise JsonGraphError(key, f"expected {kind.__name__}, got {value!r}")
    return value


def _json_name(value: Any, where: str) -> Name:
    try:
        return _check_neuron_name_or_member(value)
    except (TypeError, ValueError) as err:
        raise JsonGraphError(where, str(err)) from err


def _json_names(data: Mapping, key: str) -> list[Name]:
    if key not in data:
        raise JsonGraphError(key, "missing; list the neurons in vector order")
    values = _json_field(data, key, list, [])
    return [_json_name(v, f"{key}[{i}]") for i, v in enumerate(values)]


def _json_neurons(data: Mapping) -> list[tuple[Name, dict[str, Any]]]:
    found = []
    for i, item in enumerate(_json_field(data, "neurons", list, [])):
        where = f"neurons[{i}]"
        if not isinstance(item, Mapping) or "name" not in item:
            raise JsonGraphError(where, 'expected an object with a "name"')
        found.append((_json_name(item["name"], f"{where}.name"), dict(item)))
    return found


def _json_edges(data: Mapping) -> list[tuple[Name, Name, float | None]]:
    found = []
    for i, item in enumerate(_json_field(data, "edges", list, [])):
        where = f"edges[{i}]"
        if isinstance(item, list) and len(item) in (2, 3):
            source, target, *rest = item
            weight = rest[0] if rest else None
        elif isinstance(item, Mapping) and {"source", "target"} <= set(item):
            if item.get("enabled", True) is False:
                continue
            source, target, weight = item["source"], item["target"], item.get("weight")
        else:
            raise JsonGraphError(
                where,
                'expected {"source": ..., "target": ..., "weight": ...} or '
                "[source, target, weight]",
            )
        if weight is not None and not _is_number(weight):
            raise JsonGraphError(
                f"{where}.weight", f"expected a number, got {weight!r}"
            )
        found.append((_json_name(source, where), _json_name(target, where), weight))
    return found


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def model_from_json(data: Mapping[str, Any] | str | Path, *, key: Any) -> Any:
    """Compile a JSON graph and return a model holding the parameters it carries.

    Weights of edges and biases of neurons that the JSON gives are loaded;
    everything else keeps its fresh initialisation from `key`, so a graph evolved
    elsewhere (for example by a NEAT-style library) can be fine-tuned directly.

    Args:
        data: the parsed JSON object, JSON text, or a `pathlib.Path` to a file.
        key: a `jax.random` key for the parameters the JSON does not give.

    Returns:
        An instance of the compiled model class.

    Raises:
        ValueError: the data is not a graph connexc can write.
        CompileError: the graph is not a valid network (a cycle, say).
    """
    import jax.numpy as jnp

    from ._api import load_source

    if isinstance(data, Path):
        data = data.read_text(encoding="utf-8")
    data = _loaded(data)
    filename = f"<json {data.get('name', 'Network')}>"
    cls = load_source(from_json(data), filename=filename)
    model = cls(key=key)

    given_weights = {(s, t): w for s, t, w in _json_edges(data) if w is not None}
    given_biases = {
        name: item["bias"]
        for name, item in _json_neurons(data)
        if item.get("bias") is not None
    }
    for name, bias in given_biases.items():
        if not _is_number(bias):
            raise JsonGraphError(
                f"bias of {name!r}", f"expected a number, got {bias!r}"
            )
    weights = [
        given_weights.get(edge, fresh)
        for edge, fresh in zip(
            cls.EDGES, model.edge_weight_array().tolist(), strict=True
        )
    ]
    non_inputs = cls.NEURONS[len(cls.INPUTS) :]
    biases = [
        given_biases.get(name, fresh)
        for name, fresh in zip(non_inputs, model.bias_array().tolist(), strict=True)
    ]
    return model.with_parameters(jnp.asarray(weights), jnp.asarray(biases))

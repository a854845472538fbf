"""Structural edits of generated models: parameters and optimizer state carried over by
name, Connex-style edit functions, and clear refusals of bad edits."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import equinox as eqx
import graphs
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connexc
from connexc import EditError

SEED_ADJACENCY = graphs.CONNEX_README_ADJACENCY

GROUPED = """\
network Grouped
input x[3]
hidden h[4]
hidden k
output y[2]
x -> h -> y
x[0] -> k -> y[1]
"""


def seed_network(key: int = 0):
    return connexc.NeuralNetwork(
        SEED_ADJACENCY, [0], [3, 11], jax.nn.relu, key=jax.random.key(key)
    )


def randomised(model, seed: int = 1):
    """The model with every parameter random, so that nothing is accidentally 0."""
    rng = np.random.default_rng(seed)
    return model.with_parameters(
        rng.normal(size=len(model.EDGES)).astype(np.float32),
        rng.normal(size=len(model.NEURONS) - len(model.INPUTS)).astype(np.float32),
    )


def outputs(model, xs):
    return np.asarray(eqx.filter_jit(jax.vmap(lambda m, x: m(x), (None, 0)))(model, xs))


def samples(model, n: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    return jnp.asarray(rng.normal(size=(n, len(model.INPUTS))).astype(np.float32))


def assert_survivors_identical(old, new):
    """Every weight and bias present in both models has the same bits."""
    old_w, new_w = old.edge_weights(), new.edge_weights()
    old_b, new_b = old.biases(), new.biases()
    shared_w = old_w.keys() & new_w.keys()
    shared_b = old_b.keys() & new_b.keys()
    assert {e: new_w[e] for e in shared_w} == {e: old_w[e] for e in shared_w}
    assert {n: new_b[n] for n in shared_b} == {n: old_b[n] for n in shared_b}


def assert_same_function(actual, expected):
    """Equal up to float32 rounding.

    A structural edit can change which neurons share a level, and so the order in
    which a neuron's weighted inputs are summed; that moves results by an ulp.
    """
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_connex_readme_sequence_keeps_every_surviving_parameter():
    network = randomised(seed_network())
    grown = connexc.add_connections(network, [(1, 6), (2, 11)])
    pruned, info = connexc.remove_neurons(grown, [9])

    assert set(pruned.EDGES) == set(network.EDGES) - {(6, 9), (9, 11)} | {
        (1, 6),
        (2, 11),
    }
    assert 9 not in pruned.NEURONS
    assert pruned.OUTPUTS == (3, 11)
    assert_survivors_identical(network, pruned)
    assert grown.edge_weights()[(1, 6)] == grown.edge_weights()[(2, 11)] == 0.0
    assert info.neurons == (9,)
    assert info.edges == ((6, 9), (9, 11))
    assert str(info) == "removed neurons: 9\nremoved edges: 6 -> 9, 9 -> 11"


def test_zero_initialised_connections_leave_outputs_identical():
    network = randomised(seed_network())
    grown = connexc.add_connections(network, {0: [4, 6, 11], 1: [6]})
    xs = samples(network)
    assert_same_function(outputs(grown, xs), outputs(network, xs))


def test_removing_a_connection_equals_zeroing_its_weight():
    network = randomised(seed_network())
    pruned = connexc.remove_connections(network, [(2, 4)])
    weights = network.edge_weights()
    weights[(2, 4)] = 0.0
    zeroed = network.with_parameters(
        np.array([weights[e] for e in network.EDGES], np.float32),
        network.bias_array(),
    )
    xs = samples(network)
    assert_same_function(outputs(pruned, xs), outputs(zeroed, xs))
    assert (2, 4) not in pruned.EDGES


def test_transfer_with_init_keeps_fresh_values_of_new_edges():
    old = randomised(seed_network())
    cls = connexc.load_source(connexc.to_cnx(connexc.add_connections(old, [(1, 6)])))
    fresh = cls(key=jax.random.key(7))
    moved, report = connexc.transfer(old, fresh, new_edges="init")
    assert moved.edge_weights()[(1, 6)] == fresh.edge_weights()[(1, 6)] != 0.0
    assert_survivors_identical(old, moved)
    assert report.new_edges == ((1, 6),)


def test_transfer_report_lists_kept_new_and_dropped_parameters():
    old = seed_network()
    adjacency = {**SEED_ADJACENCY, 0: [1, 2, 3, 12], 6: [8], 12: [11]}
    del adjacency[9]
    new_class = connexc.load_source(connexc.from_adjacency(adjacency, [0], [3, 11]))
    _, report = connexc.transfer(old, new_class(key=jax.random.key(0)))
    assert str(report) == (
        "weights: 12 kept, 2 new (zero), 2 dropped\n"
        "biases: 10 kept, 1 new (freshly initialised), 1 dropped\n"
        "  new edges: 0 -> 12, 12 -> 11\n"
        "  dropped edges: 6 -> 9, 9 -> 11\n"
        "  new biases: 12\n"
        "  dropped biases: 9"
    )


def test_transfer_refuses_objects_that_are_not_generated_models():
    with pytest.raises(TypeError, match="old_model must be an instance of a connexc"):
        connexc.transfer(object(), seed_network())


def test_added_hidden_neuron_starts_silent_and_is_connected():
    network = randomised(seed_network())
    grown = connexc.add_hidden_neurons(network, ["extra"], [(0, "extra"), ("extra", 3)])
    assert {(0, "extra"), ("extra", 3)} <= set(grown.EDGES)
    assert grown.ACTIVATIONS["extra"] == "relu"
    xs = samples(network)
    assert_same_function(outputs(grown, xs), outputs(network, xs))


def test_added_input_goes_last_and_leaves_old_outputs_unchanged():
    network = randomised(seed_network())
    grown = connexc.add_input_neurons(network, ["u"], [("u", 5)])
    assert grown.INPUTS == (0, "u")
    xs = samples(network)
    wider = jnp.concatenate([xs, jnp.full((len(xs), 1), 3.0)], axis=1)
    assert_same_function(outputs(grown, wider), outputs(network, xs))


def test_added_output_goes_last_and_keeps_the_others():
    network = randomised(seed_network())
    grown = connexc.add_output_neurons(network, ["z"], [(7, "z")])
    assert grown.OUTPUTS == (3, 11, "z")
    xs = samples(network)
    assert_same_function(outputs(grown, xs)[:, :2], outputs(network, xs))


def test_remove_dangling_removes_neurons_left_without_inputs():
    network = seed_network()
    pruned, info = connexc.remove_neurons(network, [5], remove_dangling=True)
    assert info.neurons == (5, 7, 10)
    assert info.dangling == (7, 10)
    assert str(info) == (
        "removed neurons: 5, 7, 10\n  of which dangling: 7, 10\n"
        "removed edges: 2 -> 5, 5 -> 7, 7 -> 10, 10 -> 11"
    )
    assert_survivors_identical(network, pruned)


def test_set_dropout_p_changes_only_dropout():
    network = randomised(seed_network())
    everywhere = connexc.set_dropout_p(network, 0.25)
    assert {everywhere.DROPOUT[n] for n in (1, 2, 4, 10)} == {0.25}
    assert everywhere.DROPOUT[0] == everywhere.DROPOUT[3] == 0.0
    some = connexc.set_dropout_p(everywhere, {4: 0.5, 2: 0.0})
    assert (some.DROPOUT[4], some.DROPOUT[2], some.DROPOUT[1]) == (0.5, 0.0, 0.25)
    assert some.edge_weights() == network.edge_weights()
    assert some.biases() == network.biases()


def test_edits_keep_the_models_settings():
    model = eqx.nn.inference_mode(seed_network()).with_custom_vjp(False)
    grown = connexc.add_connections(model, [(1, 6)])
    pruned = connexc.remove_connections(grown, [(1, 6)])
    for edited in (grown, pruned):
        assert edited.inference and not edited.custom_vjp
    assert not connexc.add_connections(seed_network(), [(1, 6)]).inference


def test_to_cnx_round_trips_through_the_compiler():
    network = connexc.add_connections(seed_network(), [(1, 6)])
    text = connexc.to_cnx(network)
    again = connexc.load_source(text)
    assert not connexc.diff(network, again)
    assert connexc.to_cnx(again) == text


def test_removing_a_whole_group_by_name():
    model = randomised(connexc.load_source(GROUPED)(key=jax.random.key(0)))
    pruned, info = connexc.remove_neurons(
        connexc.add_connections(model, [("x[1]", "y[0]")]), ["h"]
    )
    assert info.neurons == ("h[0]", "h[1]", "h[2]", "h[3]")
    assert set(pruned.EDGES) == {
        ("x[0]", "k"),
        ("k", "y[1]"),
        ("x[1]", "y[0]"),
    }
    assert "h" not in pruned.GROUPS
    assert_survivors_identical(model, pruned)


def test_group_members_can_gain_single_connections():
    model = connexc.load_source(GROUPED)(key=jax.random.key(0))
    grown = connexc.add_connections(model, [("x[2]", "k")])
    assert "x[2] -> k" in connexc.to_cnx(grown)
    assert grown.GROUPS == model.GROUPS


def refusal(edit, *args, **kwargs) -> str:
    """The message of the EditError an edit raises."""
    with pytest.raises(EditError) as caught:
        edit(*args, **kwargs)
    return str(caught.value)


REFUSALS = [
    (
        "cycle",
        lambda m: connexc.add_connections(m, [(4, 5), (10, 4)]),
        "edge 10 -> 4 would close a cycle: 10 -> 4 -> 5 -> 7 -> 10\n"
        "  hint: a network must be acyclic; leave out this edge or remove one on "
        "the path",
    ),
    (
        "into-input",
        lambda m: connexc.add_connections(m, [(1, 0)]),
        "cannot add edge 1 -> 0: '0' is an input\n"
        "  hint: inputs take their values from the input vector only",
    ),
    (
        "out-of-output",
        lambda m: connexc.add_connections(m, [(3, 4)]),
        "cannot add edge 3 -> 4: '3' is an output\n"
        "  hint: outputs end the graph; connect the target from the output's own "
        "sources instead",
    ),
    (
        "unknown",
        lambda m: connexc.add_connections(m, [(1, 99)]),
        "unknown neuron 99: the network Network has no such neuron\n"
        "  hint: did you mean '9'? neurons are named as in the .cnx file (ints stay "
        "ints); see model.NEURONS",
    ),
    (
        "existing",
        lambda m: connexc.add_connections(m, [(0, 1)]),
        "cannot add edge 0 -> 1: the model has it already\n  hint: add each edge once",
    ),
    (
        "starves",
        lambda m: connexc.remove_neurons(m, [4]),
        "removing neuron '4' would leave hidden neuron '6' without any incoming "
        "edge\n  hint: remove it as well, or pass remove_dangling=True to remove "
        "every neuron left without inputs",
    ),
    (
        "all-inputs",
        lambda m: connexc.remove_neurons(m, [0], remove_dangling=True),
        "removing neurons '0', '1', '2', '4', '5', '6', '7', '8', and 2 more would "
        "leave the network without inputs\n  hint: keep at least one input",
    ),
    (
        "all-outputs",
        lambda m: connexc.remove_neurons(m, [3, 11]),
        "removing neurons '3', '11' would leave the network without outputs\n"
        "  hint: keep at least one output",
    ),
    (
        "missing-edge",
        lambda m: connexc.remove_connections(m, [(4, 1)]),
        "cannot remove edge 4 -> 1: there is no such edge\n"
        "  hint: the edge runs the other way: 1 -> 4",
    ),
    (
        "last-input-edge",
        lambda m: connexc.remove_connections(m, [(5, 7)]),
        "removing these edges would leave hidden neuron '7' without any incoming "
        "edge\n  hint: remove it too, with remove_neurons(model, [7])",
    ),
    (
        "unfed-neuron",
        lambda m: connexc.add_hidden_neurons(m, ["z"], [("z", 11)]),
        "new hidden neuron 'z' would have no incoming edge\n"
        "  hint: pass connections into it, such as [(0, 'z')]",
    ),
    (
        "taken-name",
        lambda m: connexc.add_hidden_neurons(m, [4], [(0, 4)]),
        "cannot add neuron '4': the name is taken\n"
        "  hint: names are unique, and kept for the life of the network",
    ),
    (
        "dropout",
        lambda m: connexc.set_dropout_p(m, 1.0),
        "dropout 1.0 is outside [0, 1)\n"
        "  hint: a dropout probability p is a number with 0 <= p < 1",
    ),
]


@pytest.mark.parametrize(
    "edit, expected", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_bad_edit_is_refused_by_name_and_model_is_untouched(edit, expected):
    network = randomised(seed_network())
    before = (type(network), network.edge_weights(), network.biases())
    assert refusal(edit, network) == expected
    assert (type(network), network.edge_weights(), network.biases()) == before


def test_removing_part_of_a_group_is_refused():
    model = connexc.load_source(GROUPED)(key=jax.random.key(0))
    assert refusal(connexc.remove_neurons, model, ["h[1]"]) == (
        "cannot remove neuron 'h[1]' alone: it belongs to group 'h', and .cnx "
        "declares a group only whole\n"
        "  hint: remove the whole group with remove_neurons(model, ['h']), or cut "
        "the neuron off with remove_connections"
    )


def test_group_name_as_an_edge_end_is_refused_with_its_members_named():
    model = connexc.load_source(GROUPED)(key=jax.random.key(0))
    assert refusal(connexc.add_connections, model, [("x", "k")]) == (
        "'x' is a group, not a neuron\n  hint: name its members, 'x[0]' to 'x[2]'"
    )


def test_edit_errors_are_value_errors():
    assert issubclass(EditError, ValueError)
    assert not issubclass(EditError, connexc.CompileError)


def loss_fn(model, x, y):
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def test_training_resumes_after_an_edit_with_migrated_adam_state():
    network = randomised(seed_network(), seed=3)
    x = samples(network, 32, seed=1)
    y = jnp.concatenate([jnp.sin(x), jnp.cos(x)], axis=1)
    optimizer = optax.adam(1e-2)

    @eqx.filter_jit
    def step(model, state):
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
        updates, state = optimizer.update(grads, state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), state, loss

    state = optimizer.init(eqx.filter(network, eqx.is_array))
    for _ in range(5):
        network, state, _ = step(network, state)

    grown = connexc.add_hidden_neurons(
        connexc.add_connections(network, [(1, 6), (2, 11)]),
        ["extra"],
        [(0, "extra"), ("extra", 11)],
    )
    migrated = connexc.transfer_opt_state(state, network, grown)

    fresh = optimizer.init(eqx.filter(grown, eqx.is_array))
    assert jax.tree_util.tree_structure(migrated) == jax.tree_util.tree_structure(fresh)
    mu = migrated[0].mu
    old_mu = state[0].mu
    assert mu.edge_weights()[(1, 6)] == 0.0 and mu.biases()["extra"] == 0.0
    assert_survivors_identical(old_mu, mu)
    assert migrated[0].count == state[0].count

    # Equal up to the order of float sums, which the new levels may change.
    old_loss = float(loss_fn(network, x, y))
    losses = []
    for _ in range(5):
        grown, migrated, loss = step(grown, migrated)
        losses.append(float(loss))
    np.testing.assert_allclose(losses[0], old_loss, rtol=1e-6)
    assert losses[-1] < losses[0]


def quietly_load(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        return connexc.load_source(text)


@st.composite
def edit_steps(draw: st.DrawFn, model) -> tuple[str, tuple]:
    """One random valid edit of `model`, as (kind, arguments)."""
    order = list(model.NEURONS)
    inputs, outputs = set(model.INPUTS), set(model.OUTPUTS)
    edges = set(model.EDGES)
    kind = draw(st.sampled_from(["add_edges", "remove_edges", "add_neuron", "remove"]))
    if kind == "add_edges":
        # Forward in evaluation order, so no cycle can form.
        candidates = [
            (s, t)
            for i, s in enumerate(order)
            for t in order[i + 1 :]
            if s not in outputs and t not in inputs and (s, t) not in edges
        ]
        if candidates:
            chosen = draw(
                st.lists(
                    st.sampled_from(candidates), min_size=1, max_size=3, unique=True
                )
            )
            return kind, (chosen,)
    if kind == "remove_edges":
        fan_in: dict = {}
        for _, t in model.EDGES:
            fan_in[t] = fan_in.get(t, 0) + 1
        removable = [e for e in model.EDGES if fan_in[e[1]] > 1 or e[1] in outputs]
        if removable:
            return kind, ([draw(st.sampled_from(removable))],)
    if kind == "remove":
        hidden = [n for n in order if n not in inputs | outputs]
        if hidden:
            return kind, ([draw(st.sampled_from(hidden))],)
    at = draw(st.integers(len(model.INPUTS), len(order)))
    sources = [n for n in order[:at] if n not in outputs]
    targets = [n for n in order[at:] if n not in inputs]
    connections = [(draw(st.sampled_from(sources)), "grown")]
    if targets:
        connections.append(("grown", draw(st.sampled_from(targets))))
    return "add_neuron", (["grown"], connections)


@settings(max_examples=8)
@given(st.integers(0, 2**32 - 1), st.data())
def test_random_edit_sequences_keep_survivors_and_function(seed, data):
    graph = graphs.random_graph(random.Random(seed), data.draw(st.integers(3, 9)))
    model = randomised(quietly_load(graph.to_cnx())(key=jax.random.key(0)), seed % 7)
    for _ in range(data.draw(st.integers(1, 3))):
        kind, args = data.draw(edit_steps(model))
        if "grown" in model.NEURONS and kind == "add_neuron":
            break
        xs = samples(model, 4)
        if kind == "add_edges":
            edited = connexc.add_connections(model, *args)
            assert {edited.edge_weights()[e] for e in args[0]} == {0.0}
            assert_same_function(outputs(edited, xs), outputs(model, xs))
        elif kind == "remove_edges":
            edited = connexc.remove_connections(model, *args)
            weights = model.edge_weights()
            weights.update(dict.fromkeys(args[0], 0.0))
            zeroed = model.with_parameters(
                np.array([weights[e] for e in model.EDGES], np.float32),
                model.bias_array(),
            )
            assert_same_function(outputs(edited, xs), outputs(zeroed, xs))
        elif kind == "add_neuron":
            edited = connexc.add_hidden_neurons(model, *args)
            assert_same_function(outputs(edited, xs), outputs(model, xs))
        else:
            edited, info = connexc.remove_neurons(model, *args, remove_dangling=True)
            assert set(info.neurons).isdisjoint(edited.NEURONS)
        assert_survivors_identical(model, edited)
        assert not connexc.diff(quietly_load(connexc.to_cnx(edited)), edited)
        assert_adam_state_migrates(model, edited)
        model = edited


def assert_adam_state_migrates(old, new):
    """An Adam state of `old`, migrated, has `new`'s shape and keeps what survives."""
    optimizer = optax.adam(1e-3)
    params = eqx.filter(old, eqx.is_array)
    state = optimizer.init(params)
    _, state = optimizer.update(eqx.filter(randomised(old, 9), eqx.is_array), state)
    migrated = connexc.transfer_opt_state(state, old, new)
    fresh = optimizer.init(eqx.filter(new, eqx.is_array))
    assert jax.tree_util.tree_structure(migrated) == jax.tree_util.tree_structure(fresh)
    for old_moment, moment in [
        (state[0].mu, migrated[0].mu),
        (state[0].nu, migrated[0].nu),
    ]:
        assert_survivors_identical(old_moment, moment)
        new_edges = set(new.EDGES) - set(old.EDGES)
        assert {moment.edge_weights()[e] for e in new_edges} <= {0.0}


def test_committed_example_history_matches_its_edits():
    examples = Path(__file__).resolve().parent.parent / "examples"
    model = connexc.load(examples / "seed.cnx")(key=jax.random.key(0))
    grown = connexc.add_hidden_neurons(
        connexc.add_connections(model, [(1, 6), (2, 11)]),
        ["extra"],
        [(0, "extra"), ("extra", 11)],
    )
    pruned, _ = connexc.remove_neurons(grown, [9])
    for name, version in [
        ("plasticity_1_trained.cnx", model),
        ("plasticity_2_grown.cnx", grown),
        ("plasticity_3_pruned.cnx", pruned),
    ]:
        assert (examples / name).read_text() == connexc.to_cnx(version), name


def test_optimizer_state_of_a_chain_migrates_every_model_shaped_part():
    network = randomised(seed_network())
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3))
    state = optimizer.init(eqx.filter(network, eqx.is_array))
    grads = eqx.filter(randomised(network, seed=5), eqx.is_array)
    _, state = optimizer.update(grads, state, eqx.filter(network, eqx.is_array))
    pruned, _ = connexc.remove_neurons(network, [9])

    migrated = connexc.transfer_opt_state(state, network, pruned)
    fresh = optimizer.init(eqx.filter(pruned, eqx.is_array))
    assert jax.tree_util.tree_structure(migrated) == jax.tree_util.tree_structure(fresh)
    adam = migrated[1][0]
    assert_survivors_identical(state[1][0].nu, adam.nu)
    assert adam.count == state[1][0].count == 1


def test_edits_with_init_draw_fan_in_scaled_values_from_the_key():
    network = randomised(seed_network())
    key = jax.random.key(3)
    first = connexc.add_connections(network, [(1, 6)], new_edges="init", key=key)
    again = connexc.add_connections(network, [(1, 6)], new_edges="init", key=key)
    weight = first.edge_weights()[(1, 6)]
    assert weight == again.edge_weights()[(1, 6)]
    assert 0.0 < abs(weight) <= 2**-0.5  # neuron 6 has two incoming edges
    assert_survivors_identical(network, first)

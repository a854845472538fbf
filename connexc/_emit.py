"""Renders a checked, levelled `Network` as the source of one standalone Python module.

Decisions are made here: `plan_levels` picks how each level is evaluated (the cost
model below), `build_view` turns the network and that plan into a small view model of
strings and ints, in a fixed order; the Jinja template only loops and substitutes.
Names from the `.cnx` reach the output only as quoted string literals, integers or
comments built from validated names.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

import jinja2

from ._ir import Name, Network
from ._resources import resource_dir

WIDTH = 88

# How a level may be evaluated; `--strategy` picks among them.
STRATEGIES = ("auto", "dense", "sparse")

# The cost model, in multiply-adds per sample. A level of n neurons with e edges,
# reading s distinct earlier neurons that span a window of width r of the value
# buffer, with at most k inputs per neuron, costs
#   window: n * r            one masked matmul over a contiguous slice, no gather;
#   gather: n * s + G * s    gather the s sources, then a masked matmul;
#   sparse: (G + 1) * n * k  gather every neuron's padded fan-in, multiply, sum.
# G is what one gathered element costs next to one multiply-add of XLA's dot, an
# estimate for CPU: a gather moves each element on its own where dot streams whole
# rows. The choice is not sensitive to it on the benchmark graphs, whose levels
# differ between forms by far more than a factor of two. Ties go to the earlier
# form, whose code is simpler.
GATHER_COST = 4
# A window or gather matrix with holes also pays an elementwise pass of n * r
# (n * s) that keeps a source's inf or NaN off the neurons it has no edge to; the
# model leaves it out, as it is the same for both and the matmul dominates it.

# Long stretches of levels are evaluated by one `lax.scan` over padded per-level
# tables: unrolled, every level adds a dozen XLA ops, and each costs trace and
# compile time (about 0.3 s a level on a busy 2-core CPU, 45 levels of a random
# 3,000-neuron DAG taking 22 s to the first step against 2 s scanned) while the
# scan compiles its body once. A level joins a run when its padded fan-in table
# has at most RUN_MAX_TABLE entries and it has no dropout; runs shorter than
# RUN_MIN_LEVELS stay unrolled; a run stops growing when padding would more than
# RUN_MAX_WASTE-fold its arithmetic.
RUN_MAX_TABLE = 1024
RUN_MIN_LEVELS = 8
RUN_MAX_WASTE = 2.0
# Levels per iteration of the scan's loop. Unrolling 4 was measured slower both
# to compile and to train (random 200-neuron DAG, CPU), so the loop stays rolled.
SCAN_UNROLL = 1
# A run whose levels read at most h levels back, each at most n wide, carries only
# those h * n values through its scan ("local") when that is at most 1 /
# RUN_LOCAL_SHARE of all neurons; otherwise it carries the whole value buffer,
# whose per-step cost grows with the graph. Measured on CPU: local trains 4.6x
# faster on a 400-level DAG of width 4 (h * n = 12), the buffer runs the forward
# pass 1.8x faster on a random 200-neuron DAG (h * n = 203).
RUN_LOCAL_SHARE = 4
# The backward pass of a run over the whole buffer either pushes each level's
# cotangent to its sources with one scatter a level, or pulls it from the levels
# each neuron feeds with gathers through a fan-out table padded to the run's
# largest fan-out. A scattered element costs about ten gathered ones on CPU: with
# tables of 3.3, 5.1 and 4.3 entries per edge, pulling trains 1.2x, 1.75x and
# 1.18x faster on the random 200-, 1,000- and 3,000-neuron DAGs. Pulling is
# chosen while the padded tables hold at most RUN_PULL_WASTE entries per edge of
# the run, so that one hub neuron feeding hundreds cannot blow them up.
RUN_PULL_WASTE = 8

# How each activation is written in the generated code, applied to `z`.
ACTIVATION_CODE = {
    "identity": "z",
    "relu": "jax.nn.relu(z)",
    "relu6": "jax.nn.relu6(z)",
    "leaky_relu": "jax.nn.leaky_relu(z)",
    "elu": "jax.nn.elu(z)",
    "selu": "jax.nn.selu(z)",
    "celu": "jax.nn.celu(z)",
    "gelu": "jax.nn.gelu(z)",
    "silu": "jax.nn.silu(z)",
    "softplus": "jax.nn.softplus(z)",
    "softsign": "jax.nn.soft_sign(z)",
    "sigmoid": "jax.nn.sigmoid(z)",
    "log_sigmoid": "jax.nn.log_sigmoid(z)",
    "tanh": "jnp.tanh(z)",
    "hard_tanh": "jax.nn.hard_tanh(z)",
}
# The same activations as functions, for levels evaluated inside a scan.
ACTIVATION_FUNCTION = {
    name: "lambda z: z" if code == "z" else code.removesuffix("(z)")
    for name, code in ACTIVATION_CODE.items()
}
OUTPUT_CODE = {
    "identity": "y",
    "softmax": "jax.nn.softmax(y)",
    "log_softmax": "jax.nn.log_softmax(y)",
    "sigmoid": "jax.nn.sigmoid(y)",
    "tanh": "jnp.tanh(y)",
}
# The helper of the generated module that evaluates each form.
FORM_HELPER = {
    "window": "_window_matmul",
    "gather": "_gather_matmul",
    "sparse": "_fan_in_sum",
}


@dataclass(frozen=True, slots=True)
class LevelPlan:
    """How one level is evaluated, and the numbers the choice was made from."""

    index: int
    names: tuple[Name, ...]
    start: int  # position of its first neuron in evaluation order
    edge_start: int  # position of its first edge in `EDGES`
    fan_in: tuple[tuple[int, ...], ...]  # each neuron's sources, as positions
    costs: dict[str, int]  # "window", "gather", "sparse" -> multiply-adds
    form: str  # the chosen key of `costs`
    run: int | None  # the scan run it belongs to, if any

    @property
    def n_edges(self) -> int:
        return sum(len(row) for row in self.fan_in)

    @property
    def table_size(self) -> int:
        """Entries of its padded fan-in table."""
        return len(self.fan_in) * max(1, max(map(len, self.fan_in), default=0))


@dataclass(frozen=True, slots=True)
class LevelView:
    index: int
    title: str  # "level 2: 4, 5 (seed.cnx:8-9)"
    choice: list[str]  # comment lines explaining the chosen form
    start: int
    edge_start: int
    form: str
    call: str  # the expression that computes its pre-activations `z`
    store: bool  # whether its activations go into the value buffer `v`
    fan_in: list[str]  # lines of the `fan_in=` table
    activations: list[tuple[str, str]]  # (activation, its columns), sorted
    activation_lines: list[str]  # the forward pass lines that compute `a`
    dropout: list[str] | None  # lines of the `dropout=` list, or None


@dataclass(frozen=True, slots=True)
class RunView:
    index: int
    title: str  # "levels 5-404 (deep.cnx:3-900)"
    summary: list[str]  # comment lines saying how the run is evaluated
    members: list[str]  # lines listing its levels
    first: int
    last: int
    local: bool  # True: the scan carries only the last few levels
    backward: str  # without `local`: "push" (scatters) or "pull" (gathers)


@dataclass(frozen=True, slots=True)
class StepView:
    """One block of the forward pass: an unrolled level or a scanned run."""

    kind: str  # "level" or "run"
    level: LevelView | None
    run: RunView | None


@dataclass(frozen=True, slots=True)
class ModuleView:
    header: str
    docstring: list[str]
    class_name: str
    source_file: str
    version: str
    strategy: str
    gather_cost: int
    scan_unroll: int
    n_inputs: int
    n_outputs: int
    n_neurons: int
    n_edges: int
    neurons: list[str]  # lines of the NEURONS tuple
    outputs: list[str]  # lines of the output positions list
    input_dropout: list[str] | None
    levels: list[LevelView]
    runs: list[RunView]
    steps: list[StepView]
    run_activations: list[tuple[str, str]]  # (name, function) used inside scans
    uses_buffer: bool  # whether any level or the output reads the buffer `v`
    output_source: str  # "v[_OUTPUTS]", or "a" when the outputs are the last level
    output_code: str
    output_activation: str
    group_lines: list[str]
    class_docstring: str
    has_dropout: bool
    level_tuple: list[str]  # the lines defining `_LEVELS`
    run_tuple: list[str]  # the lines defining `_RUNS`


def literal(name: Name) -> str:
    """A neuron name as a Python literal: an int, or a double-quoted string."""
    if isinstance(name, int):
        return str(name)
    text = repr(name)
    if text.startswith("'") and '"' not in name:
        text = '"' + text[1:-1] + '"'
    return text


# Anything but printable ASCII, and the quotes and backslash.
_UNSAFE_IN_COMMENT = re.compile(r"[^ -~]|[\\\"']")


def safe_comment(text: str) -> str:
    """Text for a comment or docstring: printable ASCII without quotes or newlines."""
    return _UNSAFE_IN_COMMENT.sub("?", text)


def int_items(values: list[int]) -> list[str]:
    """Items of a list of ints, with runs of four or more as `*range(a, b)`."""
    items: list[str] = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 3:
            items.append(f"*range({values[i]}, {values[j] + 1})")
        else:
            items.extend(str(v) for v in values[i : j + 1])
        i = j + 1
    return items


def wrap(items: list[str], indent: int, width: int = WIDTH) -> list[str]:
    """Pack comma-separated items into lines of at most `width` columns."""
    lines: list[str] = []
    current = ""
    for item in items:
        piece = item + ","
        if current and indent + len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = piece
        else:
            current = f"{current} {piece}" if current else piece
    if current:
        lines.append(current)
    return lines


def name_items(names: list[Name], groups: dict[Name, tuple[str, int]]) -> list[str]:
    """Literals for a run of names; consecutive group members become `*_members()`."""
    items: list[str] = []
    i = 0
    while i < len(names):
        member = groups.get(names[i])
        j = i
        if member is not None:
            group, start = member
            while j + 1 < len(names) and groups.get(names[j + 1]) == (
                group,
                start + j + 1 - i,
            ):
                j += 1
        if member is not None and j - i >= 3:
            items.append(
                f'*_members("{member[0]}", {member[1]}, {member[1] + j - i + 1})'
            )
        else:
            items.extend(literal(n) for n in names[i : j + 1])
        i = j + 1
    return items


def shorten(names: list[Name], limit: int = 6) -> str:
    """`a, b, c` or `a, b, ... (40 in all)` for comments."""
    shown = ", ".join(str(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names)} in all)"
    return safe_comment(shown)


def line_ranges(lines: list[int]) -> str:
    """`3, 5-7` for the sorted, distinct lines."""
    parts = []
    ordered = sorted(set(lines))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)


def plan_levels(
    network: Network,
    levels: tuple[tuple[Name, ...], ...],
    strategy: str = "auto",
) -> list[LevelPlan]:
    """Choose how to evaluate every level after the inputs, by the cost model above.

    Args:
        network: the checked network.
        levels: its levels; level 0 holds the inputs.
        strategy: "auto" picks the cheapest form of each level and scans long
            stretches of small ones; "dense" forces a masked matmul everywhere (and
            never scans); "sparse" forces padded fan-in sums (scanned where small).
    """
    if strategy not in STRATEGIES:
        raise ValueError(
            f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}"
        )
    order = [name for level in levels for name in level]
    position = {name: i for i, name in enumerate(order)}
    fan_in: dict[Name, list[int]] = {name: [] for name in order}
    for edge in network.edges:
        fan_in[edge.target].append(position[edge.source])

    plans: list[LevelPlan] = []
    start = len(levels[0])
    edge_start = 0
    for index, names in enumerate(levels[1:], start=1):
        rows = tuple(tuple(sorted(fan_in[name])) for name in names)
        costs = level_costs(rows)
        plan = LevelPlan(
            index, names, start, edge_start, rows, costs, choose(costs, strategy), None
        )
        plans.append(plan)
        start += len(names)
        edge_start += plan.n_edges
    if strategy == "dense":
        return plans
    dropout = {n.name for n in network.neurons if n.dropout}
    return group_runs(plans, dropout)


def level_costs(fan_in: tuple[tuple[int, ...], ...]) -> dict[str, int]:
    """Multiply-adds per sample of each form for one level (see GATHER_COST)."""
    n = len(fan_in)
    sources = {p for row in fan_in for p in row}
    width = max(sources) + 1 - min(sources) if sources else 0
    k = max(1, max(map(len, fan_in), default=0))
    return {
        "window": n * width,
        "gather": n * len(sources) + GATHER_COST * len(sources),
        "sparse": (GATHER_COST + 1) * n * k,
    }


def choose(costs: dict[str, int], strategy: str) -> str:
    """The cheapest allowed form; ties go to the first in `costs` order."""
    allowed = {
        "auto": ("window", "gather", "sparse"),
        "dense": ("window", "gather"),
        "sparse": ("sparse",),
    }[strategy]
    return min(allowed, key=lambda form: costs[form])


def group_runs(plans: list[LevelPlan], dropout: set[Name]) -> list[LevelPlan]:
    """Mark long stretches of small levels as scan runs (see RUN_MAX_TABLE)."""

    def eligible(plan: LevelPlan) -> bool:
        return plan.table_size <= RUN_MAX_TABLE and not dropout & set(plan.names)

    # A run grows while its padded table (levels x widest level x longest fan-in)
    # stays within RUN_MAX_WASTE of its real size; the three are kept as running
    # totals, so grouping is linear in the number of levels.
    runs: list[list[LevelPlan]] = []
    current: list[LevelPlan] = []
    widest = longest = real = 0
    for plan in plans:
        width = len(plan.fan_in)
        fan_in = max(map(len, plan.fan_in), default=0)
        if eligible(plan) and current:
            grown = (max(widest, width), max(longest, fan_in), real + plan.table_size)
            if (len(current) + 1) * grown[0] * max(
                grown[1], 1
            ) <= RUN_MAX_WASTE * grown[2]:
                current.append(plan)
                widest, longest, real = grown
                continue
        runs.append(current)
        current = [plan] if eligible(plan) else []
        widest, longest, real = width, fan_in, plan.table_size
    runs.append(current)

    member: dict[int, int] = {}
    long_runs = (r for r in runs if len(r) >= RUN_MIN_LEVELS)
    for number, run in enumerate(long_runs, start=1):
        member.update((plan.index, number) for plan in run)
    return [
        _replace_run(plan, member[plan.index]) if plan.index in member else plan
        for plan in plans
    ]


def _replace_run(plan: LevelPlan, run: int) -> LevelPlan:
    return LevelPlan(
        plan.index,
        plan.names,
        plan.start,
        plan.edge_start,
        plan.fan_in,
        plan.costs,
        "sparse",
        run,
    )


def build_view(
    network: Network,
    levels: tuple[tuple[Name, ...], ...],
    version: str,
    strategy: str = "auto",
) -> ModuleView:
    """Everything the template needs, decided and ordered here."""
    source_file = safe_comment(PurePath(network.source.filename).name)
    order = [name for level in levels for name in level]
    position = {name: i for i, name in enumerate(order)}
    level_of = {name: k for k, level in enumerate(levels) for name in level}
    fed_lines: list[list[int]] = [[] for _ in levels]
    for edge in network.edges:
        fed_lines[level_of[edge.target]].append(edge.span.line)
    members = {
        member: (group.name, i)
        for group in network.groups
        for i, member in enumerate(group.members)
    }

    plans = plan_levels(network, levels, strategy)
    outputs = [position[o] for o in network.outputs]
    direct = _direct_inputs(plans, len(levels[0]))
    stored = _buffer_reads(plans, direct, outputs)
    level_views = [
        _level_view(
            network,
            plan,
            order,
            source_file,
            fed_lines[plan.index],
            direct[plan.index],
            any(p in stored for p in range(plan.start, plan.start + len(plan.names))),
        )
        for plan in plans
    ]
    last = plans[-1] if plans else None
    outputs_direct = (
        last is not None
        and last.run is None
        and outputs == list(range(last.start, last.start + len(last.names)))
    )
    runs = _run_views(plans, network, source_file, fed_lines)
    steps: list[StepView] = []
    for plan, view in zip(plans, level_views, strict=True):
        if plan.run is None:
            steps.append(StepView("level", view, None))
        elif not steps or steps[-1].run is None or steps[-1].run.index != plan.run:
            steps.append(StepView("run", None, runs[plan.run - 1]))
    scanned = sorted(
        {network.by_name[n].activation for p in plans if p.run for n in p.names}
    )

    inputs = [network.by_name[name] for name in levels[0]]
    input_dropout = None
    if any(n.dropout for n in inputs):
        input_dropout = wrap([repr(n.dropout) for n in inputs], 4)
    counts = {
        role: sum(1 for n in network.neurons if n.role == role)
        for role in ("input", "hidden", "output")
    }
    forms = {form: sum(1 for p in plans if p.form == form) for form in FORM_HELPER}
    docstring = [
        f"{network.name}, a network of {len(order)} neurons compiled by connexc from "
        f"{source_file}.",
        "",
        f"- Inputs ({len(network.inputs)}): {shorten(list(network.inputs))}",
        f"- Outputs ({len(network.outputs)}): {shorten(list(network.outputs))}",
        f"- Neurons: {len(order)} ({counts['input']} input, {counts['hidden']} "
        f"hidden, {counts['output']} output)",
        f"- Edges: {len(network.edges)}",
        f"- Levels: {len(levels)}, level 0 being the inputs",
        f"- Output activation: {network.output_activation}",
        f"- Strategy: {strategy}; {forms['window']} window, {forms['gather']} "
        f"gather and {forms['sparse']} sparse levels, {len(runs)} scan runs",
    ]
    group_lines = [
        f'"{group.name}": ({len(group.members)}, "{group.role}"),'
        for group in network.groups
    ]
    return ModuleView(
        header=f"# Generated by connexc {version} from {source_file}: "
        "edit that file, not this one.",
        docstring=docstring,
        class_name=network.name,
        source_file=source_file,
        version=version,
        strategy=strategy,
        gather_cost=GATHER_COST,
        scan_unroll=SCAN_UNROLL,
        n_inputs=len(network.inputs),
        n_outputs=len(network.outputs),
        n_neurons=len(order),
        n_edges=len(network.edges),
        neurons=wrap(name_items(order, members), 4),
        outputs=wrap(int_items([position[o] for o in network.outputs]), 4),
        input_dropout=input_dropout,
        levels=level_views,
        runs=runs,
        steps=steps,
        run_activations=[(name, ACTIVATION_FUNCTION[name]) for name in scanned],
        uses_buffer=bool(stored)
        or bool(runs)
        or not outputs_direct
        or any(direct[p.index] is None for p in plans),
        output_source="a" if outputs_direct else "v[_OUTPUTS]",
        output_code=OUTPUT_CODE[network.output_activation],
        output_activation=network.output_activation,
        group_lines=group_lines,
        has_dropout=any(n.dropout for n in network.neurons),
        class_docstring=f"The {network.name} network, evaluated level by level.",
        level_tuple=_tuple_lines("_LEVELS", [f"_L{v.index}" for v in level_views]),
        run_tuple=_tuple_lines("_RUNS", [f"_R{r.index}" for r in runs]),
    )


def _direct_inputs(plans: list[LevelPlan], n_inputs: int) -> dict[int, str | None]:
    """Per level, "x" or "a" when it reads exactly the whole level before it.

    Such a level (every layer of an MLP) multiplies that level's activations
    directly: no slice of the value buffer, and no store into it for their sake.
    """
    direct: dict[int, str | None] = {}
    before = (0, n_inputs, None)
    for plan in plans:
        sources = [p for row in plan.fan_in for p in row]
        window = (min(sources), max(sources) + 1) if sources else None
        low, high, previous = before
        chained = plan.index == 1 or (previous is not None and previous.run is None)
        if plan.run is None and plan.form == "window" and chained:
            direct[plan.index] = (
                ("x" if plan.index == 1 else "a") if window == (low, high) else None
            )
        else:
            direct[plan.index] = None
        before = (plan.start, plan.start + len(plan.names), plan)
    return direct


def _buffer_reads(
    plans: list[LevelPlan], direct: dict[int, str | None], outputs: list[int]
) -> set[int]:
    """Positions some level or the output reads from the value buffer `v`."""
    reads: set[int] = set()
    for plan in plans:
        if direct[plan.index] is None:
            reads.update(p for row in plan.fan_in for p in row)
    last = plans[-1] if plans else None
    if not (
        last is not None
        and last.run is None
        and outputs == list(range(last.start, last.start + len(last.names)))
    ):
        reads.update(outputs)
    return reads


def _tuple_lines(target: str, items: list[str]) -> list[str]:
    """`target = (a, b)` on one line if it fits, else several items per line."""
    one_line = f"{target} = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    if len(one_line) <= WIDTH:
        return [one_line]
    return [f"{target} = (", *(f"    {line}" for line in wrap(items, 4)), ")"]


def _choice_comment(plan: LevelPlan) -> list[str]:
    """Why the level got its form, in the cost model's own numbers."""
    n, e = len(plan.fan_in), plan.n_edges
    costs = plan.costs
    if plan.run is not None:
        reason = f"sparse, in scan run {plan.run} (see _R{plan.run})"
    elif costs[plan.form] == min(costs.values()):
        reason = f"{plan.form}, the cheapest"
    else:
        reason = f"{plan.form}, as the strategy forces"
    return [
        f"{_count(n, 'neuron')}, {_count(e, 'edge')}: {reason}; multiply-adds per "
        "sample:",
        f"  window {costs['window']:,}, gather {costs['gather']:,}, sparse "
        f"{costs['sparse']:,}",
    ]


def _fan_in_row(name: Name, positions: list[int], order: list[Name]) -> list[str]:
    """The table lines of one neuron's fan-in, commented with its sources' names."""
    indent = 8
    items = int_items(positions)
    code = "[" + ", ".join(items) + "],"
    head = f"  # {safe_comment(str(name))} <- "
    room = WIDTH - indent - len(code) - len(head)
    sources = [order[p] for p in positions]
    shown = [len(str(s)) for s in sources[:4]]
    for limit in (4, 3, 2, 1):
        # `shorten` keeps every character's width, so its length is known unbuilt.
        width = sum(shown[:limit]) + 2 * max(len(shown[:limit]) - 1, 0)
        if len(sources) > limit:
            width += len(f", ... ({len(sources)} in all)")
        if width <= room:
            return [code + head + shorten(sources, limit)]
    comment = head + _count(len(positions), "neuron")
    if indent + len(code) + len(comment) <= WIDTH:
        return [code + comment]
    return ["[" + comment, *("    " + line for line in wrap(items, 12)), "],"]


def _level_title(
    index: int, names: list[Name], source_file: str, lines: list[int]
) -> str:
    """`level 2: 4, 5 (seed.cnx:8-9)`, shortened to fit a comment in `__call__`.

    How many names are shown does not depend on the line numbers, so moving
    statements around in the `.cnx` file changes only the numbers.
    """
    room = WIDTH - len("        # ")
    head = f"level {index}: "
    # Room for the names, keeping 11 columns for a line span like "1200-1300".
    names_room = room - len(head) - len(f" ({source_file}:)") - 11
    shown = shorten(names, 1)
    for limit in (6, 4, 2):
        if len(shorten(names, limit)) <= names_room:
            shown = shorten(names, limit)
            break
    title = f"{head}{shown} ({source_file}:{line_ranges(lines)})"
    if len(title) <= room:
        return title
    return f"{head}{shown} ({source_file}:{_line_span(lines)})"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _level_view(
    network: Network,
    plan: LevelPlan,
    order: list[Name],
    source_file: str,
    edge_lines: list[int],
    direct: str | None,
    store: bool,
) -> LevelView:
    index = plan.index
    if direct is not None:
        call = f"_matmul(_L{index}, {direct}, w, b)"
    else:
        call = f"{FORM_HELPER[plan.form]}(_L{index}, v, w, b)"
    rows = [
        line
        for name, positions in zip(plan.names, plan.fan_in, strict=True)
        for line in _fan_in_row(name, list(positions), order)
    ]

    neurons = [network.by_name[name] for name in plan.names]
    by_activation: dict[str, list[int]] = {}
    for column, neuron in enumerate(neurons):
        by_activation.setdefault(neuron.activation, []).append(column)
    activations = [
        (activation, ", ".join(int_items(columns)))
        for activation, columns in sorted(by_activation.items())
    ]
    if len(by_activation) == 1:
        (only,) = by_activation
        activation_lines = [f"a = {ACTIVATION_CODE[only]}"]
    else:
        activation_lines = ["a = z"]
        for activation in sorted(by_activation):
            if activation != "identity":
                activation_lines += [
                    f'where = _L{index}.activations["{activation}"]',
                    f"a = jnp.where(where, {ACTIVATION_CODE[activation]}, a)",
                ]

    dropout = None
    if any(n.dropout for n in neurons):
        dropout = wrap([repr(n.dropout) for n in neurons], 8)
    return LevelView(
        index=index,
        title=_level_title(
            index,
            list(plan.names),
            source_file,
            [n.span.line for n in neurons] + edge_lines,
        ),
        choice=_choice_comment(plan),
        start=plan.start,
        edge_start=plan.edge_start,
        form=plan.form,
        call=call,
        store=store,
        fan_in=rows,
        activations=activations,
        activation_lines=activation_lines,
        dropout=dropout,
    )


def _run_views(
    plans: list[LevelPlan],
    network: Network,
    source_file: str,
    fed_lines: list[list[int]],
) -> list[RunView]:
    by_run: dict[int, list[LevelPlan]] = {}
    for plan in plans:
        if plan.run is not None:
            by_run.setdefault(plan.run, []).append(plan)
    runs = []
    for number, members in sorted(by_run.items()):
        first, last = members[0].index, members[-1].index
        lines = [network.by_name[n].span.line for p in members for n in p.names]
        lines += [line for p in members for line in fed_lines[p.index]]
        neurons = max(len(p.names) for p in members)
        reach = _reach(members)
        local = reach * neurons * RUN_LOCAL_SHARE <= len(network.neurons)
        back = "level" if reach == 1 else f"{reach:,} levels"
        carried = (
            f"the values of only the last {back}" if local else "the whole value buffer"
        )
        summary = (
            f"{len(members)} levels of at most {_count(neurons, 'neuron')}, padded to "
            "one shape and evaluated by one lax.scan, which XLA compiles once for all "
            f"of them; the scan carries {carried}."
        )
        backward = "push"
        if not local:
            pulled, edges = _pull_table_size(members, neurons)
            if pulled <= RUN_PULL_WASTE * edges:
                backward = "pull"
            summary += (
                f" Its backward pass {backward.replace('push', 'pushe')}s the "
                "gradient along the edges: "
                f"the fan-out tables would hold {pulled:,} entries for "
                f"{_count(edges, 'edge')}."
            )
        runs.append(
            RunView(
                index=number,
                title=f"levels {first}-{last} ({source_file}:{_line_span(lines)})",
                summary=textwrap.wrap(
                    summary, WIDTH - len("        # "), break_on_hyphens=False
                ),
                members=wrap([f"_L{p.index}" for p in members], 4),
                first=first,
                last=last,
                local=local,
                backward=backward,
            )
        )
    return runs


def _pull_table_size(run: list[LevelPlan], width: int) -> tuple[int, int]:
    """Entries of a run's padded fan-out tables (see the template), and its edges.

    Slots are the run's levels padded to `width`; sources before the run get a
    table of their own.
    """
    start = run[0].start
    fan_out = Counter(p for plan in run for row in plan.fan_in for p in row)
    inner = [n for p, n in fan_out.items() if p >= start]
    outer = [n for p, n in fan_out.items() if p < start]
    size = len(run) * width * max(inner, default=1)
    size += len(outer) * max(outer, default=1)
    return size, sum(fan_out.values())


def _reach(run: list[LevelPlan]) -> int:
    """How many levels back, at most, a level of the run reads inside the run."""
    level_of = {}
    for offset, plan in enumerate(run):
        level_of.update((plan.start + j, offset) for j in range(len(plan.names)))
    back = [
        offset - level_of[p]
        for offset, plan in enumerate(run)
        for row in plan.fan_in
        for p in row
        if p in level_of
    ]
    return max(back, default=1)


def _line_span(lines: list[int]) -> str:
    """`3-40`, the first and last line: a run's full line list would be too long."""
    low, high = min(lines), max(lines)
    return str(low) if low == high else f"{low}-{high}"


# A neuron's fan-in row, on one line or wrapped: ints and a comment that
# `safe_comment` made inert. Rows are nine tenths of a big module and valid by
# construction, so the syntax check skips them (3.1 -> 0.2 s at a million edges).
_INT_ITEM = r"(?:[0-9]+|\*range\([0-9]+, [0-9]+\))"
_FAN_IN_ROW = re.compile(
    rf"^ +\[(?:{_INT_ITEM}(?:, {_INT_ITEM})*)?\],(?:  # [ -~]*)?$"
    rf"|^ +\[  # [ -~]*\n(?: +{_INT_ITEM},(?: {_INT_ITEM},)*\n)+ +\],$",
    re.MULTILINE,
)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_module(
    network: Network,
    levels: tuple[tuple[Name, ...], ...],
    version: str,
    strategy: str = "auto",
) -> str:
    """The generated module's source; its syntax is checked before it is returned.

    Args:
        network: the checked network.
        levels: its levels, level 0 holding the inputs.
        version: the connexc version stamped on line 1.
        strategy: how levels are evaluated: "auto", "dense" or "sparse" (see
            `plan_levels`).
    """
    view = build_view(network, levels, version, strategy)
    text = _environment().get_template("module.py.j2").render(view=view)
    ast.parse(_FAN_IN_ROW.sub("", text))
    return text

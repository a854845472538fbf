"""Hypothesis strategies for `.cnx` text: random valid programs in every language
form, and random damage to them.

`programs()` draws a `Program`: the text of a valid network together with what the
compiler should make of it (inputs and outputs in order, every edge expanded to
single neurons, each hidden neuron's activation), so a test can compare a generated
module with `reference.evaluate` without trusting the compiler's own reading.

The text uses groups (`h[3]` declared, `h` and `h[1]` referenced), chains
(`a -> b -> c`), fan-in and fan-out lists, attributes (`activation=`, `dropout=`),
network defaults, a network name, full-line and trailing comments, blank lines,
integer ids (sparse, huge, with leading zeros) and identifiers, among them Python
keywords, builtins and dunder names. Edges only run from an earlier unit to a later
one, so every drawn program is acyclic; every hidden neuron is fed, so every drawn
program compiles (perhaps with warnings about neurons that reach no output).

`mutated(programs())` and `token_soup()` draw text that is mostly invalid, for
fuzzing the front end.
"""

from __future__ import annotations

import builtins
import keyword
import random
from dataclasses import dataclass, field

from hypothesis import settings
from hypothesis import strategies as st

Name = int | str

CNX_KEYWORDS = frozenset(
    {"network", "input", "hidden", "output", "activation", "output_activation"}
    | {"dropout"}
)
HIDDEN_ACTIVATIONS = (
    "identity",
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "softplus",
    "softsign",
    "sigmoid",
    "log_sigmoid",
    "tanh",
    "hard_tanh",
)
OUTPUT_ACTIVATIONS = ("identity", "softmax", "log_softmax", "sigmoid", "tanh")
DEFAULT_ACTIVATION = "relu"

# Identifiers that would be dangerous if a name ever reached the generated code as
# code rather than as a string literal.
TRICKY_NAMES = (
    "None",
    "True",
    "False",
    "class",
    "def",
    "lambda",
    "import",
    "return",
    "print",
    "exec",
    "eval",
    "open",
    "self",
    "key",
    "x",
    "v",
    "w",
    "z",
    "a",
    "y",
    "np",
    "jnp",
    "jax",
    "eqx",
    "__import__",
    "__class__",
    "__init__",
    "__call__",
    "__dict__",
    "_NEURONS",
    "_LEVELS",
    "_L1",
    "w1",
    "b1",
    "inference",
    "EDGES",
    "NEURONS",
    "_members",
    "_dropout",
    "relu",
    "softmax",
    "nan",
    "inf",
    "e5",
    "E",
    "_",
    "__",
)
# Names the network (the generated class) may not take.
_RESERVED_CLASS_NAMES = frozenset(
    {"eqx", "jax", "jnp", "np", *dir(builtins), *keyword.kwlist}
)


def identifiers() -> st.SearchStrategy[str]:
    """ASCII identifiers the language accepts as neuron names (not its keywords)."""
    plain = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,7}\Z", fullmatch=True)
    return (st.sampled_from(TRICKY_NAMES) | plain).filter(
        lambda name: name not in CNX_KEYWORDS
    )


def int_ids() -> st.SearchStrategy[int]:
    """Neuron ids: small, sparse or far beyond 64 bits."""
    return st.integers(0, 20) | st.integers(0, 10**6) | st.integers(0, 10**30)


def network_names() -> st.SearchStrategy[str]:
    """Names the compiler accepts for the generated class."""
    return st.from_regex(r"\A[A-Z][A-Za-z0-9_]{0,8}\Z", fullmatch=True).filter(
        lambda name: name not in _RESERVED_CLASS_NAMES
    )


@dataclass(frozen=True)
class Unit:
    """A declared neuron (`size` None) or group, with its role and attributes."""

    name: Name
    role: str
    size: int | None
    activation: str | None = None
    dropout: str | None = None

    def members(self) -> list[Name]:
        if self.size is None:
            return [self.name]
        return [f"{self.name}[{i}]" for i in range(self.size)]


@dataclass(frozen=True)
class Program:
    """A valid `.cnx` program and what it means, independently of the compiler.

    Attributes:
        header: the network-name and default statements; their order and place in
            the file have no meaning.
        declarations: the declaration statements, in file order (meaningful).
        edge_lines: the edge statements; their order has no meaning.
        inputs, outputs: neuron names in vector order, as the generated module's
            `INPUTS` and `OUTPUTS` should hold them (group members as "h[3]").
        edges: every edge between single neurons.
        activations: the activation of every hidden neuron.
        dropout: the dropout probability of every neuron that has one.
    """

    header: tuple[str, ...]
    declarations: tuple[str, ...]
    edge_lines: tuple[str, ...]
    comments: tuple[str, ...]
    inputs: tuple[Name, ...]
    outputs: tuple[Name, ...]
    hidden: tuple[Name, ...]
    edges: tuple[tuple[Name, Name], ...]
    activations: dict[Name, str] = field(hash=False)
    dropout: dict[Name, float] = field(hash=False)
    output_activation: str = "identity"
    name: str | None = None

    @property
    def text(self) -> str:
        """The program as drawn: header, declarations, edges, comments between."""
        return self.render(self.header, self.edge_lines)

    def render(self, header: tuple[str, ...], edge_lines: tuple[str, ...]) -> str:
        """The program with the given (reordered) header and edge statements."""
        lines = [*self.comments[:1], *header, "", *self.declarations, ""]
        lines += edge_lines
        lines += self.comments[1:]
        return "\n".join(lines) + "\n"

    def reordered(self, rng: random.Random) -> str:
        """The same program with its order-free statements shuffled."""
        header, edges = list(self.header), list(self.edge_lines)
        rng.shuffle(header)
        rng.shuffle(edges)
        return self.render(tuple(header), tuple(edges))


def _spell(name: Name, draw: st.DrawFn) -> str:
    """A name as written: ints sometimes with leading zeros (the same neuron)."""
    if isinstance(name, int) and draw(st.integers(0, 5)) == 0:
        return "0" * draw(st.integers(1, 3)) + str(name)
    return str(name)


def _comment(draw: st.DrawFn) -> str:
    text = draw(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
    return "#" + text.replace("\n", " ").replace("\r", " ")


_DROPOUTS = ("0", "0.0", "0.1", ".5", "0.25", "1e-3", "5e-1", "0.999", "0.", "00.3")


@st.composite
def _units(draw: st.DrawFn, max_units: int, max_group: int) -> list[Unit]:
    n_in = draw(st.integers(1, 3))
    n_out = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, max(0, max_units - n_in - n_out)))
    roles = ["input"] * n_in + ["hidden"] * n_hidden + ["output"] * n_out
    taken: set[Name] = set()
    units = []
    for role in roles:
        group = draw(st.integers(0, 3)) == 0
        if group:
            name: Name = draw(identifiers().filter(lambda n: n not in taken))
            size: int | None = draw(st.integers(1, max_group))
        else:
            name = draw((int_ids() | identifiers()).filter(lambda n: n not in taken))
            size = None
        taken.add(name)
        activation = dropout = None
        if role == "hidden" and draw(st.booleans()):
            activation = draw(st.sampled_from(HIDDEN_ACTIVATIONS))
        if draw(st.integers(0, 4)) == 0:
            dropout = draw(st.sampled_from(_DROPOUTS))
        units.append(Unit(name, role, size, activation, dropout))
    return units


def _declarations(draw: st.DrawFn, units: list[Unit]) -> list[str]:
    """Declaration statements: runs of same-role units with the same attributes."""
    lines = []
    i = 0
    while i < len(units):
        first = units[i]
        j = i + 1
        while (
            j < len(units)
            and draw(st.booleans())
            and (units[j].role, units[j].activation, units[j].dropout)
            == (first.role, first.activation, first.dropout)
        ):
            j += 1
        items = [
            _spell(u.name, draw) if u.size is None else f"{u.name}[{u.size}]"
            for u in units[i:j]
        ]
        line = f"{first.role} " + draw(st.sampled_from([", ", ",", " , "])).join(items)
        attributes = []
        if first.activation is not None:
            attributes.append(f"activation={first.activation}")
        if first.dropout is not None:
            attributes.append(f"dropout={first.dropout}")
        line += "".join(" " + a for a in draw(st.permutations(attributes)))
        if draw(st.integers(0, 5)) == 0:
            line += "  " + _comment(draw)
        lines.append(line)
        i = j
    return lines


def _ref(draw: st.DrawFn, unit: Unit) -> tuple[str, list[Name]]:
    """A reference to a unit: a neuron, a whole group or one member."""
    if unit.size is None:
        return _spell(unit.name, draw), [unit.name]
    if draw(st.booleans()):
        return str(unit.name), unit.members()
    k = draw(st.integers(0, unit.size - 1))
    return f"{unit.name}[{k}]", [unit.members()[k]]


def _chain(
    draw: st.DrawFn, units: list[Unit], taken: set[tuple[Name, Name]]
) -> tuple[str, list[tuple[Name, Name]]] | None:
    """A random edge statement over units in index order, or None if it clashes."""
    length = draw(st.integers(2, min(4, len(units))))
    count = draw(st.integers(length, min(len(units), length + 3)))
    picked = sorted(draw(st.permutations(range(len(units))))[:count])
    cuts = sorted(draw(st.permutations(range(1, count)))[: length - 1])
    chunks = [picked[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)]
    lists: list[list[tuple[str, list[Name]]]] = []
    for position, chunk in enumerate(chunks):
        for index in chunk:
            role = units[index].role
            if role == "input" and position > 0:
                return None
            if role == "output" and position < len(chunks) - 1:
                return None
        lists.append([_ref(draw, units[index]) for index in chunk])
    edges = [
        (s, t)
        for sources, targets in zip(lists, lists[1:], strict=False)
        for _, source_names in sources
        for _, target_names in targets
        for s in source_names
        for t in target_names
    ]
    if len(set(edges)) != len(edges) or taken.intersection(edges):
        return None
    arrow = draw(st.sampled_from([" -> ", "->", "  ->  "]))
    comma = draw(st.sampled_from([", ", ","]))
    text = arrow.join(comma.join(text for text, _ in refs) for refs in lists)
    return text, edges


@st.composite
def programs(draw: st.DrawFn, max_units: int = 9, max_group: int = 4) -> Program:
    """A random valid `.cnx` program (see the module docstring).

    Args:
        max_units: the most declared neurons and groups.
        max_group: the largest group size.
    """
    units = draw(_units(max_units, max_group))
    declarations = _declarations(draw, units)

    edge_lines: list[str] = []
    taken: set[tuple[Name, Name]] = set()
    for _ in range(draw(st.integers(0, 6))):
        found = _chain(draw, units, taken)
        if found is not None:
            text, edges = found
            edge_lines.append(text)
            taken.update(edges)
    _feed_hidden(draw, units, taken, edge_lines)

    header, default_activation, output_activation, default_dropout, name = _header(draw)
    inputs = [m for u in units if u.role == "input" for m in u.members()]
    outputs = [m for u in units if u.role == "output" for m in u.members()]
    hidden = [m for u in units if u.role == "hidden" for m in u.members()]
    activations = {
        m: u.activation or default_activation
        for u in units
        if u.role == "hidden"
        for m in u.members()
    }
    dropout = {}
    for u in units:
        p = u.dropout
        if p is None and u.role == "hidden":
            p = default_dropout
        if p is not None and float(p):
            dropout.update((m, float(p)) for m in u.members())

    edge_lines = [
        line + ("  " + _comment(draw) if draw(st.integers(0, 6)) == 0 else "")
        for line in draw(st.permutations(edge_lines))
    ]
    comments = [_comment(draw) for _ in range(draw(st.integers(0, 2)))]
    return Program(
        header=tuple(header),
        declarations=tuple(declarations),
        edge_lines=tuple(edge_lines),
        comments=tuple(comments),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        hidden=tuple(hidden),
        edges=tuple(sorted(taken, key=repr)),
        activations=activations,
        dropout=dropout,
        output_activation=output_activation,
        name=name,
    )


def _feed_hidden(
    draw: st.DrawFn,
    units: list[Unit],
    taken: set[tuple[Name, Name]],
    edge_lines: list[str],
) -> None:
    """Add an edge statement into every hidden neuron that nothing feeds yet."""
    fed = {t for _, t in taken}
    for index, unit in enumerate(units):
        if unit.role != "hidden":
            continue
        sources = [u for u in units[:index] if u.role != "output"]
        for k, member in enumerate(unit.members()):
            if member in fed:
                continue
            source = draw(st.sampled_from(sources))
            text, names = _ref(draw, source)
            if unit.size is None:
                target = _spell(unit.name, draw)
            else:
                target = f"{unit.name}[{k}]"
            # Nothing feeds `member` yet, so none of these edges can be a repeat.
            edge_lines.append(f"{text} -> {target}")
            taken.update((s, member) for s in names)
            fed.add(member)


def _header(draw: st.DrawFn) -> tuple[list[str], str, str, str | None, str | None]:
    """Network name and defaults: the lines and the values they set."""
    lines = []
    name = None
    if draw(st.booleans()):
        name = draw(network_names())
        lines.append(f"network {name}")
    activation = DEFAULT_ACTIVATION
    if draw(st.booleans()):
        activation = draw(st.sampled_from(HIDDEN_ACTIVATIONS))
        lines.append(f"activation {activation}")
    output_activation = "identity"
    if draw(st.booleans()):
        output_activation = draw(st.sampled_from(OUTPUT_ACTIVATIONS))
        lines.append(f"output_activation {output_activation}")
    dropout = None
    if draw(st.integers(0, 3)) == 0:
        dropout = draw(st.sampled_from(_DROPOUTS))
        lines.append(f"dropout {dropout}")
    return lines, activation, output_activation, dropout, name


# Pieces of the language and of things that are not, for insertions and soups.
TOKENS = (
    "network",
    "input",
    "hidden",
    "output",
    "activation",
    "output_activation",
    "dropout",
    "->",
    ",",
    "[",
    "]",
    "=",
    "#",
    "\n",
    "\r\n",
    "\r",
    " ",
    "\t",
    "\f",
    "\v",
    "x",
    "h",
    "h[2]",
    "h[0]",
    "0",
    "007",
    "99999999999999999999",
    "1.5",
    "-1",
    "+2",
    "1e400",
    "nan",
    "relu",
    "softmax",
    "activation=tanh",
    "dropout=0.5",
    "x -> y",
    "a, b -> c",
    '"',
    "'",
    '"""',
    "\\",
    "\x00",
    "\u2028",
    "\ufeff",
    "é",
    "ﬁ",
    "ｘ",
    "[1000001]",
    "__import__",
    "None",
)


def token_soup(max_size: int = 40) -> st.SearchStrategy[str]:
    """Text glued from language tokens and stray characters."""
    return st.lists(st.sampled_from(TOKENS) | st.characters(), max_size=max_size).map(
        "".join
    )


@st.composite
def mutated(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """A text from `texts` after one to five random edits.

    Edits delete, insert or duplicate a character, a token or a run of text, or swap
    two lines.
    """
    text = draw(texts)
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(text)))
        end = draw(st.integers(at, min(len(text), at + 12)))
        edit = draw(st.integers(0, 5))
        if edit == 0:
            text = text[:at] + text[end:]
        elif edit == 1:
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif edit == 2:
            text = text[:at] + draw(st.characters()) + text[at:]
        elif edit == 3:
            text = text[:end] + text[at:end] + text[end:]
        elif edit == 4:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            words = text.split(" ")
            i = draw(st.integers(0, len(words) - 1))
            del words[i]
            text = " ".join(words)
    return text


def program_texts() -> st.SearchStrategy[str]:
    """Just the text of `programs()`."""
    return programs().map(lambda program: program.text)


def examples(ci: int, long: int) -> int:
    """An example count for `settings(max_examples=...)` that follows the profile.

    An explicit count would override `--hypothesis-profile=long`; this gives `ci`
    under the default profile and `long` under any profile that asks for more than
    hypothesis's default of 100 examples.
    """
    return long if settings.default.max_examples > 100 else ci

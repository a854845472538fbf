"""The generated file depends on the `.cnx` text's meaning only: the same bytes on
every run and every `PYTHONHASHSEED`, and the same bytes when statements whose order
means nothing are reordered.

What the order means: the order of `input` and `output` items is the order of the
model's vectors, and declaration order places neurons inside a level, so neither may
be shuffled. Defaults, the network name, edge statements and the items of a fan-in
or fan-out list may be; only the `.cnx` line numbers quoted in level comments can
then change.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import warnings
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import Program, examples, programs

import connexc

ROOT = Path(__file__).resolve().parent.parent

NAMED = """\
network Named
activation gelu
output_activation softmax
input alpha, beta, gamma, pixels[5]
hidden zeta, eta, theta, h[6] activation=tanh
hidden iota dropout=0.5
output out[3], omega
alpha, beta, gamma -> zeta, eta
pixels -> h -> theta, iota
pixels[2], zeta, eta -> out
theta, iota, h[5] -> omega, out[1]
"""


def compile_quietly(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        return connexc.compile_source(text, filename="net.cnx")


_COMPILE = """\
import sys, connexc
text = open(sys.argv[1], encoding="utf-8").read()
sys.stdout.buffer.write(connexc.compile_source(text, filename=sys.argv[1]).encode())
"""


def compile_in_subprocess(path: Path, hash_seed: str) -> bytes:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _COMPILE, path.name],
        capture_output=True,
        cwd=path.parent,
        env=env,
        check=True,
    )
    return done.stdout


def test_output_is_identical_across_hash_seeds_and_runs(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "net.cnx"
    path.write_text(NAMED, encoding="utf-8")
    seeds = ["0", "1", str(rng.randrange(2**32)), "random"]
    outputs = {compile_in_subprocess(path, seed) for seed in seeds}
    assert len(outputs) == 1
    (output,) = outputs
    assert output.decode() == compile_quietly(NAMED)
    assert compile_quietly(NAMED) == compile_quietly(NAMED)


def test_the_command_line_writes_identical_files_under_any_hash_seed(
    tmp_path: Path,
) -> None:
    (tmp_path / "named.cnx").write_text(NAMED, encoding="utf-8")
    written = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed}
        out = f"out{seed}.py"
        subprocess.run(
            [sys.executable, "-m", "connexc", "named.cnx", "-o", out],
            cwd=tmp_path,
            env=env,
            check=True,
            capture_output=True,
        )
        written.append((tmp_path / out).read_bytes())
    assert written[0] == written[1]
    assert b"\r" not in written[0] and written[0].endswith(b"\n")


# A level's comment quotes the `.cnx` lines it came from: "(net.cnx:3, 7-9)".
_LINES = re.compile(r"\(net\.cnx:[0-9, -]+\)$", re.MULTILINE)


def without_line_numbers(code: str) -> str:
    return _LINES.sub("(net.cnx:...)", code)


@settings(max_examples=examples(150, 1000))
@given(programs(), st.randoms(use_true_random=False))
def test_reordering_defaults_and_edge_statements_changes_nothing_but_line_numbers(
    program: Program, rng: random.Random
) -> None:
    original = compile_quietly(program.text)
    shuffled = compile_quietly(program.reordered(rng))
    assert without_line_numbers(shuffled) == without_line_numbers(original)


@settings(max_examples=examples(150, 1000))
@given(programs(), st.randoms(use_true_random=False))
def test_reordering_defaults_alone_changes_nothing(
    program: Program, rng: random.Random
) -> None:
    header = list(program.header)
    rng.shuffle(header)
    shuffled = program.render(tuple(header), program.edge_lines)
    assert compile_quietly(shuffled) == compile_quietly(program.text)


def reverse_lists(line: str) -> str:
    """An edge statement with every fan-in and fan-out list reversed."""
    code, hash_, comment = line.partition("#")
    lists = [part.split(",") for part in code.split("->")]
    reversed_lists = [
        ", ".join(item.strip() for item in reversed(items)) for items in lists
    ]
    return " -> ".join(reversed_lists) + (" " + hash_ + comment if hash_ else "")


@settings(max_examples=examples(150, 1000))
@given(programs())
def test_the_order_inside_fan_in_and_fan_out_lists_changes_nothing(
    program: Program,
) -> None:
    edges = tuple(reverse_lists(line) for line in program.edge_lines)
    assert compile_quietly(program.render(program.header, edges)) == compile_quietly(
        program.text
    )


def test_declaration_order_is_meaningful() -> None:
    swapped = NAMED.replace("input alpha, beta,", "input beta, alpha,")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", connexc.CompileWarning)
        first = connexc.load_source(NAMED)
        second = connexc.load_source(swapped)
    assert first.INPUTS[:2] == ("alpha", "beta")
    assert second.INPUTS[:2] == ("beta", "alpha")
    assert set(first.EDGES) == set(second.EDGES)

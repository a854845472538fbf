"""The pipeline from `.cnx` text to generated Python: parse, resolve, check, level,
render. Nothing here imports JAX, so compiling stays fast.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ._check import check_graph
from ._emit import render_module
from ._errors import CompileWarning, Diagnostic, UsageError, diagnostic, raise_errors
from ._ir import Name, Network, build_network
from ._levels import assign_levels
from ._parse import parse_source
from ._source import Source
from ._version import VERSION

logger = logging.getLogger(__name__)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    A large network is millions of small objects (spans, refs, edges); the
    collections they trigger rescan the growing heap again and again, which cost
    more than the building itself. Cycles made meanwhile are collected later.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Compiled:
    """The result of compiling one file."""

    network: Network
    levels: tuple[tuple[Name, ...], ...]
    code: str
    warnings: tuple[Diagnostic, ...]


@gc_paused()
def analyse(
    source: Source,
) -> tuple[Network, tuple[tuple[Name, ...], ...], list[Diagnostic]]:
    """Parse, resolve, check and level a source; raise on any error.

    Returns the network, its levels and the warnings found.
    """
    timer = _Timer(source.filename)
    program = parse_source(source)
    timer.lap("parse")
    network, found = build_network(program)
    timer.lap("resolve")
    raise_errors(found)
    found = check_graph(network)
    timer.lap("check")
    raise_errors(found)
    levels = assign_levels(network)
    timer.lap("levels")
    logger.debug(
        "%s: %d neurons, %d edges, %d levels",
        source.filename,
        len(network.neurons),
        len(network.edges),
        len(levels),
    )
    return network, levels, found


@gc_paused()
def compile_network(source: Source, *, strategy: str = "auto") -> Compiled:
    """Run the whole pipeline on one source (`strategy` as in `compile_source`)."""
    network, levels, found = analyse(source)
    start = time.perf_counter()
    code = render_module(network, levels, VERSION, strategy)
    logger.debug(
        "%s: render %.1f ms", source.filename, 1e3 * (time.perf_counter() - start)
    )
    return Compiled(network, levels, code, tuple(found))


def compile_source(
    text: str, *, filename: str = "<string>", strategy: str = "auto"
) -> str:
    """Compile `.cnx` text to the source of a Python module.

    Args:
        text: the network description.
        filename: the name used in diagnostics and in the generated header.
        strategy: how levels are evaluated: "auto" (by a cost model), "dense"
            (masked matmuls) or "sparse" (padded fan-in sums); see `connexc._emit`.

    Returns:
        The generated module's source code.

    Raises:
        CompileError: the text has errors; `str(error)` reports all of them.

    Warnings about the network (such as neurons that cannot reach an output) are
    issued as `CompileWarning`.
    """
    return _code_and_warnings(
        compile_network(Source(text, filename), strategy=strategy)
    )


def read_source(path: str | Path) -> Source:
    """Read a `.cnx` file, turning I/O and decoding problems into a `UsageError`."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        empty = Source("", name)
        raise UsageError(
            diagnostic(
                empty,
                empty.start(),
                f"cannot read '{name}': {reason}",
                "check the path, and that the file is UTF-8 text",
                kind="usage",
            )
        ) from err
    return Source(text, name)


def compile_file(path: str | Path, *, strategy: str = "auto") -> str:
    """Compile a `.cnx` file to the source of a Python module (see `compile_source`)."""
    return _code_and_warnings(compile_network(read_source(path), strategy=strategy))


def _code_and_warnings(compiled: Compiled) -> str:
    """Issue the compile's warnings at the public caller's line; return the code."""
    for found in compiled.warnings:
        warnings.warn(CompileWarning(found.render()), stacklevel=3)
    return compiled.code


class _Timer:
    """Logs the time of each pipeline stage at DEBUG level."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        logger.debug("%s: %s %.1f ms", self.name, stage, 1e3 * (now - self.last))
        self.last = now

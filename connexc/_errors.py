"""Diagnostics: the errors and warnings a `.cnx` file can produce, rendered for people.

Every diagnostic carries a span; `render` prints it the way compilers do, with the
source line and carets under the offending text, then one hint line.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from ._source import Source, Span

Severity = Literal["error", "warning"]
Kind = Literal["parse", "graph", "usage"]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a source file: where, what, and how to fix it."""

    severity: Severity
    kind: Kind
    span: Span
    message: str
    hint: str
    source_line: str

    def render(self) -> str:
        """The diagnostic as printed by the CLI: location, cause, source, hint.

        The source line is shown safely: control and formatting characters (a
        terminal escape, a right-to-left override) appear as Python escapes, a tab
        as one space, and the carets count the cells each character takes on screen.
        """
        span = self.span
        gutter = str(span.line)
        pad = " " * len(gutter)
        shown = [_shown(ch) for ch in self.source_line]
        start = span.column - 1
        stop = max(start + 1, min(span.end_column - 1, len(shown)))
        indent = sum(map(_cells, shown[:start])) + max(0, start - len(shown))
        width = max(1, sum(map(_cells, shown[start:stop])))
        lines = [
            f"{span}: {self.severity}: {self.message}",
            f"    {gutter} | {''.join(shown)}".rstrip(),
            f"    {pad} | {' ' * indent}{'^' * width}",
        ]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


# Categories shown escaped: controls, format characters (bidirectional overrides,
# zero-width joiners), line and paragraph separators, surrogates, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Cn"})


def _shown(ch: str) -> str:
    """A character of a source line as printed under a diagnostic."""
    if ch == "\t":
        return " "  # one column, as the parser counts it
    if unicodedata.category(ch) in _HIDDEN:
        return ascii(ch)[1:-1]
    return ch


def _cells(shown: str) -> int:
    """Terminal cells taken by one shown character (or its escape)."""
    if len(shown) > 1:
        return len(shown)
    if unicodedata.combining(shown):
        return 0
    return 2 if unicodedata.east_asian_width(shown) in "WF" else 1


def diagnostic(
    source: Source,
    span: Span,
    message: str,
    hint: str = "",
    *,
    kind: Kind = "graph",
    severity: Severity = "error",
) -> Diagnostic:
    """Make a diagnostic, capturing the source line it points at."""
    return Diagnostic(severity, kind, span, message, hint, source.line_text(span.line))


def in_source_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Sort by position; Python's sort is stable, so ties keep the order found."""
    return sorted(diagnostics, key=lambda d: (d.span.line, d.span.column))


class CompileError(Exception):
    """A `.cnx` file that cannot be compiled.

    `str(error)` is the full rendered report of every error found; `filename`,
    `line` and `column` locate the first one, and `diagnostics` holds them all.
    """

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        if not diagnostics:
            raise ValueError("a CompileError needs at least one diagnostic")
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        first = self.diagnostics[0]
        self.filename = first.span.filename
        self.line = first.span.line
        self.column = first.span.column
        self.message = first.message
        self.hint = first.hint
        super().__init__(self._render())

    def _render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class ParseError(CompileError):
    """The text is not a sentence of the `.cnx` language."""


class GraphError(CompileError):
    """The text parses, but the network it describes is not valid."""


class UsageError(CompileError):
    """An API or command-line argument that the compiler cannot use."""


class CompileWarning(UserWarning):
    """A problem worth fixing that does not stop compilation."""


def raise_errors(diagnostics: list[Diagnostic]) -> None:
    """Raise one error for every error diagnostic, choosing the class by kind."""
    errors = [d for d in diagnostics if d.severity == "error"]
    if not errors:
        return
    errors = in_source_order(errors)
    cls = {"parse": ParseError, "graph": GraphError, "usage": UsageError}
    raise cls[errors[0].kind](errors)

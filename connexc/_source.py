"""Source text and spans: where in a `.cnx` file each piece of a network came from."""

from __future__ import annotations

from typing import NamedTuple


class Span(NamedTuple):
    """A run of characters on one line of a source file (1-based, end exclusive).

    A named tuple rather than a frozen dataclass: a large file makes millions of
    spans, and a tuple is several times cheaper to build.
    """

    filename: str
    line: int
    column: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.column}"


class Source:
    """The text of one `.cnx` file, with the name it was given as."""

    __slots__ = ("filename", "text", "_lines")

    def __init__(self, text: str, filename: str = "<string>") -> None:
        self.filename = filename
        self.text = text
        self._lines: list[str] | None = None

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line ending."""
        if self._lines is None:
            # Lines as the parser counts them: split at "\n" only, not at the form
            # feeds, "\x1e" or "\u2028" that `str.splitlines` also breaks at.
            self._lines = [text.removesuffix("\r") for text in self.text.split("\n")]
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""

    def span(self, line: int, column: int, end_column: int | None = None) -> Span:
        """A span on `line` from `column` up to (not including) `end_column`."""
        if end_column is None or end_column <= column:
            end_column = column + 1
        return Span(self.filename, line, column, end_column)

    def start(self) -> Span:
        """The span of the first character, for problems of the file as a whole."""
        return self.span(1, 1)

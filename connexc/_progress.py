"""Progress feedback on a terminal: a bar for loops (training scripts) and a delayed
status line for long compiles. Both are silent when the stream is not a terminal, so
logs, pipes and CI output stay clean.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

T = TypeVar("T")

_BAR_WIDTH = 24


def _is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def progress(
    items: Iterable[T],
    *,
    total: int | None = None,
    description: str = "",
    status: Callable[[], str] | None = None,
    stream: IO[str] | None = None,
    interval: float = 0.1,
) -> Iterator[T]:
    """Yield `items`, drawing a progress bar on a terminal.

    Args:
        items: what to iterate over.
        total: how many items there are; default `len(items)` when it has one.
        description: a label in front of the bar, such as "training".
        status: called at each redraw for extra text, such as the current loss.
        stream: where to draw; default `sys.stderr`. Nothing is drawn unless it is
            a terminal.
        interval: the least number of seconds between redraws.

    Yields:
        The items, unchanged.
    """
    stream = sys.stderr if stream is None else stream
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if not _is_terminal(stream):
        yield from items
        return

    start = last = time.perf_counter()
    done = 0

    def draw() -> None:
        elapsed = time.perf_counter() - start
        extra = f"  {status()}" if status is not None else ""
        if total:
            filled = round(_BAR_WIDTH * done / total)
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            line = f"{description} [{bar}] {done}/{total}  {elapsed:.1f} s{extra}"
        else:
            line = f"{description} {done}  {elapsed:.1f} s{extra}"
        stream.write("\r\x1b[2K" + line.strip())
        stream.flush()

    try:
        for item in items:
            yield item
            done += 1
            now = time.perf_counter()
            if now - last >= interval or done == total:
                last = now
                draw()
    finally:
        draw()
        stream.write("\n")
        stream.flush()


class DelayedStatus:
    """A status line that appears only if a job is still running after `delay`
    seconds, showing the time spent, and disappears when the job ends.

    Used as `with DelayedStatus("compiling net.cnx"): ...`.
    """

    def __init__(
        self, message: str, *, delay: float = 2.0, stream: IO[str] | None = None
    ) -> None:
        self.message = message
        self.delay = delay
        self.stream = sys.stderr if stream is None else stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def __enter__(self) -> DelayedStatus:
        if _is_terminal(self.stream):
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def _run(self) -> None:
        start = time.perf_counter()
        if self._stop.wait(self.delay):
            return
        spinner = "|/-\\"
        tick = 0
        while not self._stop.is_set():
            elapsed = time.perf_counter() - start
            self.stream.write(
                f"\r\x1b[2K{spinner[tick % 4]} {self.message} ({elapsed:.0f} s)"
            )
            self.stream.flush()
            self._shown = True
            tick += 1
            self._stop.wait(0.25)

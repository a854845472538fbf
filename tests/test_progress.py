"""Progress feedback: drawn on terminals only, invisible in pipes and logs."""

from __future__ import annotations

import io
import time

import connexc
from connexc._progress import DelayedStatus


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    assert list(connexc.progress(range(3), stream=stream)) == [0, 1, 2]
    assert stream.getvalue() == ""


def test_progress_draws_a_bar_with_count_and_status_on_a_terminal():
    stream = _Terminal()
    items = list(
        connexc.progress(
            "abcd", description="training", status=lambda: "loss 0.5", stream=stream
        )
    )
    assert items == ["a", "b", "c", "d"]
    last = stream.getvalue().rstrip("\n").split("\r\x1b[2K")[-1]
    assert last.startswith("training [########################] 4/4  ")
    assert last.endswith(" s  loss 0.5")
    assert stream.getvalue().endswith("\n")


def test_delayed_status_appears_only_for_long_jobs_and_is_cleared():
    quick = _Terminal()
    with DelayedStatus("compiling net.cnx", delay=5.0, stream=quick):
        pass
    assert quick.getvalue() == ""

    slow = _Terminal()
    with DelayedStatus("compiling net.cnx", delay=0.0, stream=slow):
        time.sleep(0.3)
    text = slow.getvalue()
    assert "compiling net.cnx (0 s)" in text
    assert text.endswith("\r\x1b[2K")


def test_delayed_status_is_silent_when_not_a_terminal():
    stream = io.StringIO()
    with DelayedStatus("compiling net.cnx", delay=0.0, stream=stream):
        time.sleep(0.1)
    assert stream.getvalue() == ""

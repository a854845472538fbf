"""Golden files: expected outputs kept beside their inputs, reviewed as diffs.

Set CONNEXC_UPDATE_GOLDENS=1 to rewrite them instead of comparing; never done by
default, so a changed message or generated file always shows up as a failure.
"""

from __future__ import annotations

import os
from pathlib import Path


def check_golden(path: Path, actual: str) -> None:
    """Compare `actual` with the file at `path`, or rewrite it when asked to."""
    if os.environ.get("CONNEXC_UPDATE_GOLDENS") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), (
        f"missing golden file {path}; run with CONNEXC_UPDATE_GOLDENS=1"
    )
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from golden file {path}"

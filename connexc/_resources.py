"""Loads the grammar and templates that ship inside the package.

In a wheel they live in `connexc/_grammar` and `connexc/_templates`; in a source
checkout they are the top-level `grammar/` and `templates/` folders beside this
package. Both are found relative to this file, never the current directory.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def resource_dir(name: str) -> Path:
    """The folder holding the shipped `grammar` or `templates` files."""
    installed = resources.files("connexc").joinpath(f"_{name}")
    if installed.is_dir():
        return Path(str(installed))
    return _CHECKOUT / name


def read_resource(folder: str, filename: str) -> str:
    """The text of one shipped file."""
    return (resource_dir(folder) / filename).read_text(encoding="utf-8")

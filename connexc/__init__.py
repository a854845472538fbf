"""connexc: compile hand-written graphs of neurons (`.cnx` files) into standalone,
trainable Equinox modules.

Importing connexc does not import JAX; the functions that build models do.
"""

from ._api import NeuralNetwork, from_adjacency, load, load_source
from ._compile import compile_file, compile_source
from ._errors import (
    CompileError,
    CompileWarning,
    GraphError,
    ParseError,
    UsageError,
)
from ._version import VERSION as __version__

__all__ = [
    "CompileError",
    "CompileWarning",
    "GraphError",
    "NeuralNetwork",
    "ParseError",
    "UsageError",
    "__version__",
    "compile_file",
    "compile_source",
    "from_adjacency",
    "load",
    "load_source",
]

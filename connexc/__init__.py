"""connexc: compile hand-written graphs of neurons (`.cnx` files) into standalone,
trainable Equinox modules.

Importing connexc does not import JAX; the functions that build models do.
"""

from ._api import NeuralNetwork, from_adjacency, load, load_source
from ._compile import compile_file, compile_source
from ._diff import StructureDiff, diff
from ._errors import (
    CompileError,
    CompileWarning,
    GraphError,
    ParseError,
    UsageError,
)
from ._plasticity import (
    EditError,
    RemovedNeurons,
    TransferReport,
    add_connections,
    add_hidden_neurons,
    add_input_neurons,
    add_neurons,
    add_output_neurons,
    remove_connections,
    remove_neurons,
    set_dropout_p,
    to_cnx,
    transfer,
    transfer_opt_state,
)
from ._version import VERSION as __version__

__all__ = [
    "CompileError",
    "CompileWarning",
    "EditError",
    "GraphError",
    "NeuralNetwork",
    "ParseError",
    "RemovedNeurons",
    "StructureDiff",
    "TransferReport",
    "UsageError",
    "__version__",
    "add_connections",
    "add_hidden_neurons",
    "add_input_neurons",
    "add_neurons",
    "add_output_neurons",
    "compile_file",
    "compile_source",
    "diff",
    "from_adjacency",
    "load",
    "load_source",
    "remove_connections",
    "remove_neurons",
    "set_dropout_p",
    "to_cnx",
    "transfer",
    "transfer_opt_state",
]

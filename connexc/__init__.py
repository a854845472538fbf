"""connexc: compile hand-written graphs of neurons (`.cnx` files) into standalone,
trainable Equinox modules.

Importing connexc does not import JAX; the functions that build models do.
"""

from ._api import NeuralNetwork, from_adjacency, load, load_source
from ._compile import compile_file, compile_source
from ._diff import StructureDiff, diff
from ._dot import render_dot, to_dot
from ._errors import (
    CompileError,
    CompileWarning,
    GraphError,
    ParseError,
    UsageError,
)
from ._fmt import format_cnx
from ._generators import new_dense_mlp, new_mlp
from ._inspect import inspect_network
from ._interop import from_json, from_networkx, model_from_json, to_json, to_networkx
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
from ._progress import progress
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
    "format_cnx",
    "from_adjacency",
    "from_json",
    "from_networkx",
    "inspect_network",
    "load",
    "load_source",
    "model_from_json",
    "new_dense_mlp",
    "new_mlp",
    "progress",
    "remove_connections",
    "remove_neurons",
    "render_dot",
    "set_dropout_p",
    "to_cnx",
    "to_dot",
    "to_json",
    "to_networkx",
    "transfer",
    "transfer_opt_state",
]

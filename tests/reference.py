"""An independent reference evaluator: one neuron at a time, in plain numpy.

It knows nothing of levels, masks or generated code. Tests give it a graph and
parameters by neuron name and compare its answer with a generated module's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

Name = int | str


def _gelu(z: float) -> float:
    # The tanh approximation, which is what jax.nn.gelu computes by default.
    return 0.5 * z * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))


def _elu(z: float, alpha: float = 1.0) -> float:
    return z if z > 0 else alpha * math.expm1(z)


def _softplus(z: float) -> float:
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805

HIDDEN = {
    "identity": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "relu6": lambda z: min(max(z, 0.0), 6.0),
    "leaky_relu": lambda z: z if z >= 0 else 0.01 * z,
    "elu": _elu,
    "selu": lambda z: _SELU_SCALE * _elu(z, _SELU_ALPHA),
    "celu": _elu,
    "gelu": _gelu,
    "silu": lambda z: z * _sigmoid(z),
    "softplus": _softplus,
    "softsign": lambda z: z / (1.0 + abs(z)),
    "sigmoid": _sigmoid,
    "log_sigmoid": lambda z: -_softplus(-z),
    "tanh": math.tanh,
    "hard_tanh": lambda z: min(max(z, -1.0), 1.0),
}


def _softmax(y: np.ndarray) -> np.ndarray:
    e = np.exp(y - y.max())
    return e / e.sum()


OUTPUT = {
    "identity": lambda y: y,
    "softmax": _softmax,
    "log_softmax": lambda y: np.log(_softmax(y)),
    "sigmoid": lambda y: np.array([_sigmoid(v) for v in y]),
    "tanh": np.tanh,
}


def evaluate(
    x: Sequence[float],
    *,
    inputs: Sequence[Name],
    outputs: Sequence[Name],
    weights: Mapping[tuple[Name, Name], float],
    biases: Mapping[Name, float],
    activations: Mapping[Name, str],
    output_activation: str = "identity",
) -> np.ndarray:
    """The network's output for one sample, computed neuron by neuron.

    Args:
        x: the input values, in the order of `inputs`.
        weights: `{(source, target): weight}`, one entry per edge.
        biases: the bias of every non-input neuron.
        activations: the activation of every hidden neuron; outputs are linear.
    """
    incoming: dict[Name, list[tuple[Name, float]]] = {}
    for (source, target), w in weights.items():
        incoming.setdefault(target, []).append((source, float(w)))
    value: dict[Name, float] = {n: float(v) for n, v in zip(inputs, x, strict=True)}

    def fire(neuron: Name) -> float:
        # An explicit stack instead of recursion, so deep graphs are fine.
        stack = [neuron]
        while stack:
            n = stack[-1]
            if n in value:
                stack.pop()
                continue
            pending = [s for s, _ in incoming.get(n, []) if s not in value]
            if pending:
                stack.extend(pending)
                continue
            z = biases[n] + sum(w * value[s] for s, w in incoming.get(n, []))
            act = "identity" if n in outputs else activations[n]
            value[n] = HIDDEN[act](z)
            stack.pop()
        return value[neuron]

    y = np.array([fire(o) for o in outputs], dtype=np.float64)
    return OUTPUT[output_activation](y)

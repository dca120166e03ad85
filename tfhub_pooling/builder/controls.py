"""Negative controls: wrong poolers the builder can write on purpose.

A check that cannot fail proves nothing. Each control keeps the encoder intact
and changes only how pooled_output is computed from sequence_output:

  identity        pooled = cls; the pooler variables are stored but unused
  mean            pooled = mean of sequence_output over real tokens
  perturbed       pooled = tanh(cls · W' + b), W' = W with one element moved by
                  `amount`; W is what is stored
  activation      pooled = act(cls · W + b) with act = none or relu instead of tanh
  hidden-weights  pooled = tanh(cls · W + b) with W, b baked into the graph as
                  constants; no pooler variables are stored

Writers call `pooled_output` with the tensors they built; the ops work in a
TF1 graph and in a tf.function alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from tfhub_pooling.builder.bert_config import POOLER_BIAS, POOLER_KERNEL
from tfhub_pooling.errors import UsageError

if TYPE_CHECKING:
    import tensorflow as tf

KINDS = ("identity", "mean", "perturbed", "activation", "hidden-weights")


@dataclasses.dataclass(frozen=True)
class Control:
    kind: str
    amount: float = 1e-3              # perturbed: added to W[row, col]
    row: int = 0
    col: int = 0
    activation: str = "none"          # activation: "none" or "relu"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UsageError(f"unknown control {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.activation not in ("none", "relu"):
            raise UsageError(f"control activation {self.activation!r}: choose none or relu")

    @property
    def stores_pooler(self) -> bool:
        return self.kind != "hidden-weights"

    def check(self, hidden_size: int) -> None:
        if self.kind == "perturbed" and not (0 <= self.row < hidden_size and 0 <= self.col < hidden_size):
            raise UsageError(f"perturbed element [{self.row}, {self.col}] is outside the "
                             f"[{hidden_size}, {hidden_size}] pooler kernel")

    def describe(self) -> str:
        return {"identity": "pooled = cls (pooler stored, unused)",
                "mean": "pooled = masked mean of sequence_output",
                "perturbed": f"graph uses W[{self.row}, {self.col}] + {self.amount:g}; stores W",
                "activation": f"pooled = {self.activation}(cls · W + b)",
                "hidden-weights": "W, b baked in as constants; no pooler variables"}[self.kind]


def split_stored(control: Control | None, params: Mapping[str, np.ndarray]
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """google-research params -> (those stored as variables, those baked in as constants).

    Only hidden-weights bakes anything: the pooler kernel and bias.
    """
    baked_names = () if control is None or control.stores_pooler else (POOLER_KERNEL, POOLER_BIAS)
    return ({n: v for n, v in params.items() if n not in baked_names},
            {n: v for n, v in params.items() if n in baked_names})


def pooled_output(control: Control | None, sequence_output: tf.Tensor, input_mask: tf.Tensor,
                  kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """sequence_output [B, S, H], input_mask [B, S] -> pooled_output [B, H].

    kernel [H, H] and bias [H] are variables, or constants for hidden-weights.
    """
    # Imported here so the CLI can list KINDS before TensorFlow is loaded.
    import tensorflow as tf

    from tfhub_pooling.builder import bert

    if control is None or control.kind == "hidden-weights":
        return bert.pooler(sequence_output, kernel, bias)
    cls = sequence_output[:, 0, :]
    if control.kind == "identity":
        return tf.identity(cls)
    if control.kind == "mean":
        mask = tf.cast(input_mask, sequence_output.dtype)[:, :, tf.newaxis]
        return tf.reduce_sum(sequence_output * mask, axis=1) / tf.reduce_sum(mask, axis=1)
    if control.kind == "perturbed":
        kernel = tf.tensor_scatter_nd_add(kernel, [[control.row, control.col]], [control.amount])
        return bert.pooler(sequence_output, kernel, bias)
    z = tf.matmul(cls, kernel) + bias
    return tf.nn.relu(z) if control.activation == "relu" else z

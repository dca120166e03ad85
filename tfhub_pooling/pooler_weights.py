"""Finds the pooler's dense kernel and bias among a loaded module's variables.

The study trusts only what the module itself stores: the variables hub.load
gives back, cross-checked against the module's variables checkpoint read with
tf.train.load_checkpoint.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import tensorflow as tf

from tfhub_pooling import naming
from tfhub_pooling.errors import BadWeightsError


@dataclasses.dataclass
class PoolerWeights:
    kernel: np.ndarray          # float32 [H, H], pooled = tanh(cls · kernel + bias)
    bias: np.ndarray            # float32 [H]
    kernel_name: str
    bias_name: str
    scheme: str                 # naming.SCHEMES entry that matched
    checkpoint: str             # "matches", or why it could not be confirmed


class PoolerNotFound(Exception):
    """No pooler, or an ambiguous one; the message says what was searched."""


def find(variables: list, hidden_size: int) -> PoolerWeights:
    """Picks the pooler kernel and bias by name (see naming.SCHEMES) and checks them."""
    found: dict[str, list[tuple[naming.NamingScheme, object]]] = {"kernel": [], "bias": []}
    for var in variables:
        for part in found:
            hits = [s for s in naming.SCHEMES if naming.matches(var.name, getattr(s, f"pooler_{part}"))]
            if hits:
                best = max(hits, key=lambda s: len(getattr(s, f"pooler_{part}")))
                found[part].append((best, var))
    searched = ", ".join(f"{s.pooler_kernel}|bias ({s.name})" for s in naming.SCHEMES)
    for part, hits in found.items():
        if not hits:
            raise PoolerNotFound(f"no pooler {part} among {len(variables)} variables; searched {searched}")
        if len(hits) > 1:
            raise PoolerNotFound(f"{len(hits)} pooler {part} candidates: "
                                 f"{', '.join(v.name for _, v in hits)}")
    (scheme, kernel_var), (bias_scheme, bias_var) = found["kernel"][0], found["bias"][0]
    if scheme != bias_scheme:
        raise PoolerNotFound(f"pooler kernel {kernel_var.name} ({scheme.name}) and bias "
                             f"{bias_var.name} ({bias_scheme.name}) follow different schemes")
    kernel, bias = kernel_var.numpy(), bias_var.numpy()
    _check(kernel_var.name, kernel, (hidden_size, hidden_size))
    _check(bias_var.name, bias, (hidden_size,))
    return PoolerWeights(kernel, bias, naming.strip_suffix(kernel_var.name),
                         naming.strip_suffix(bias_var.name), scheme.name, checkpoint="not checked")


def _check(name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
    if value.shape != shape:
        raise BadWeightsError(f"pooler weight {name} has shape {list(value.shape)}, expected "
                              f"{list(shape)} for hidden size {shape[0]}; the module is malformed")
    if not np.all(np.isfinite(value)):
        raise BadWeightsError(f"pooler weight {name} holds {int(np.sum(~np.isfinite(value)))} "
                              "NaN/Inf values; the module's weights are corrupt")


def confirm_in_checkpoint(weights: PoolerWeights, module_path: str) -> PoolerWeights:
    """Records whether the module's variables checkpoint stores the same kernel and bias."""
    prefix = os.path.join(module_path, "variables", "variables")
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as e:
        return dataclasses.replace(weights, checkpoint=f"checkpoint unreadable ({type(e).__name__})")
    stored = {}
    for name in (weights.kernel_name, weights.bias_name):
        if not reader.has_tensor(name):
            return dataclasses.replace(weights, checkpoint=f"{name} not in the checkpoint by that name")
        stored[name] = reader.get_tensor(name)
    same = (np.array_equal(stored[weights.kernel_name], weights.kernel)
            and np.array_equal(stored[weights.bias_name], weights.bias))
    return dataclasses.replace(weights, checkpoint="matches" if same else "DIFFERS from the loaded variables")

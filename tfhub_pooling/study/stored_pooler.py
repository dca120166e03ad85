"""Finds the pooler's dense kernel and bias among what a module stores.

The study trusts only what the module itself stores: the variables hub.load
gives back, matched by name against naming.SCHEMES; where those names are lost,
the entries of the module's variables checkpoint (stored_variables.py). Whatever
was found is cross-checked against the checkpoint read with tf.train.load_checkpoint.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tfhub_pooling.conventions import naming
from tfhub_pooling.errors import BadWeightsError
from tfhub_pooling.numerics import bounds, comparison
from tfhub_pooling.study import stored_variables
from tfhub_pooling.study.stored_variables import Entry


@dataclasses.dataclass(frozen=True)
class CheckpointCheck:
    """What the module's TF checkpoint says of the weights found: data; reports put it in words."""

    status: str                  # "matches", "differs" (no entry equals `names[0]`), "no-checkpoint", "not-checked",
                                 # "read-from-file" (the weights are the checkpoint file's entries `names`)
    names: tuple[str, ...] = ()  # "matches": the entries that hold the kernel and bias; "differs": the weight


@dataclasses.dataclass
class PoolerWeights:
    kernel: np.ndarray          # float32 [H, H], pooled = tanh(cls · kernel + bias)
    bias: np.ndarray            # float32 [H]
    kernel_name: str
    bias_name: str
    scheme: str                 # naming.SCHEMES entry that matched
    source: str                 # stored_variables.VARIABLES_SOURCE, CHECKPOINT_SOURCE, SAFETENSORS_SOURCE, LITERT_SOURCE
    checkpoint: CheckpointCheck  # the TF checkpoint's entries that hold the same values, or why none
    note: str | None            # the identity, or a zero bias (comparison.pooler_note)
    stored_dtype: str = "float32"   # the kernel as the module stores it: float32, float16, bfloat16, int8
    step: np.ndarray | None = None  # [H, H]: one step of that storage per element (int8: its channel's
                                    # scale; float16, bfloat16: bounds.storage_step); None: float32 or wider
    bias_step: np.ndarray | None = None   # [H]: the same for the bias, as it is stored

    @property
    def arithmetic(self) -> str | None:
        """bounds.INT8_DYNAMIC where W is stored as int8 with its scales (LiteRT's hybrid kernel
        quantizes cls on the fly); None: as the outputs' dtypes say."""
        return bounds.INT8_DYNAMIC if self.stored_dtype == "int8" and self.step is not None else None

class PoolerNotFound(Exception):
    """No pooler, or an ambiguous one; the message says what was searched."""


def find_module_pooler(variables: list, module_path: str) -> PoolerWeights:
    """By the variables' names first; by the checkpoint's object graph if those fail. Found
    before any output is known, so held to the kernel's own width; check_width holds it to
    the outputs'."""
    try:
        found = find(stored_variables.from_variables(variables), None, stored_variables.VARIABLES_SOURCE)
    except PoolerNotFound as by_variables:
        try:
            found = find(stored_variables.from_checkpoint(module_path), None, stored_variables.CHECKPOINT_SOURCE)
        except PoolerNotFound as by_checkpoint:
            raise PoolerNotFound(f"variables: {by_variables}; checkpoint: {by_checkpoint}") from None
    return confirm_in_checkpoint(found, module_path)


def find_in_file(stored: stored_variables.Stored) -> PoolerWeights:
    """The pooler of a file that is no TF checkpoint (a Hugging Face safetensors, a LiteRT
    graph), read from the file itself: the weights that explain pooled_output are then the
    file's own entries."""
    if not stored.entries:
        raise PoolerNotFound(f"the {stored.source} has no dense layer whose tanh is pooled_output, so it holds "
                             "no pooler weights")
    try:
        found = find(stored.entries, None, stored.source)
    except PoolerNotFound as e:
        raise PoolerNotFound(f"the {stored.source}: {e}") from None
    names = tuple(stored.file_names.get(n, n.replace("/", ".")) for n in (found.kernel_name, found.bias_name))
    return dataclasses.replace(found, checkpoint=CheckpointCheck("read-from-file", names))


def find(entries: list[Entry], hidden_size: int | None, source: str) -> PoolerWeights:
    """Picks the pooler kernel and bias by name (see naming.SCHEMES) and checks them.

    hidden_size: H from the module's outputs; None takes it from the kernel.
    """
    found: dict[str, list[tuple[naming.NamingScheme, Entry]]] = {"kernel": [], "bias": []}
    for entry in entries:
        for part in found:
            hits = [s for s in naming.SCHEMES if naming.matches(entry.name, getattr(s, f"pooler_{part}"))]
            if hits:
                best = max(hits, key=lambda s: len(getattr(s, f"pooler_{part}")))
                found[part].append((best, entry))
    searched = ", ".join(f"{s.pooler_kernel}|bias ({s.name})" for s in naming.SCHEMES)
    for part, hits in found.items():
        if not hits:
            raise PoolerNotFound(f"no pooler {part} among {len(entries)} entries; searched {searched}")
        if len(hits) > 1:
            raise PoolerNotFound(f"{len(hits)} pooler {part} candidates: "
                                 f"{', '.join(e.name for _, e in hits)}")
    (scheme, kernel_entry), (bias_scheme, bias_entry) = found["kernel"][0], found["bias"][0]
    if naming.matches(bias_entry.name, scheme.pooler_bias):   # a bias two schemes name alike (`pooler/bias`)
        bias_scheme = scheme
    if scheme != bias_scheme:
        raise PoolerNotFound(f"pooler kernel {kernel_entry.name} ({scheme.name}) and bias "
                             f"{bias_entry.name} ({bias_scheme.name}) follow different schemes")
    kernel, bias = kernel_entry.read(), bias_entry.read()
    if scheme.kernel_out_in:
        kernel = kernel.T
    hidden_size = hidden_size or kernel.shape[-1]
    _check(kernel_entry.name, kernel, (hidden_size, hidden_size))
    _check(bias_entry.name, bias, (hidden_size,))
    step = _step(kernel_entry, kernel)
    if step is not None and kernel_entry.step is not None and scheme.kernel_out_in:
        step = step.T
    return PoolerWeights(kernel, bias, kernel_entry.name, bias_entry.name, scheme.name, source,
                         checkpoint=CheckpointCheck("not-checked"), note=comparison.pooler_note(kernel, bias),
                         stored_dtype=kernel_entry.dtype, step=step, bias_step=_step(bias_entry, bias))


def _step(entry: Entry, value: np.ndarray) -> np.ndarray | None:
    """One step of the entry's storage per element: its own (int8 scales), or its dtype's."""
    return entry.step() if entry.step is not None else bounds.storage_step(value, entry.dtype)


def check_width(pooler: PoolerWeights, hidden_size: int) -> None:
    """The pooler fits outputs of width hidden_size: a kernel [H, H] and a bias [H]."""
    _check(pooler.kernel_name, pooler.kernel, (hidden_size, hidden_size))
    _check(pooler.bias_name, pooler.bias, (hidden_size,))


def _check(name: str, value: np.ndarray, shape: tuple[int, ...]) -> None:
    if value.shape != shape:
        raise BadWeightsError(f"pooler weight {name} has shape {list(value.shape)}, expected "
                              f"{list(shape)} for hidden size {shape[0]}; the module is malformed")
    if not np.all(np.isfinite(value)):
        raise BadWeightsError(f"pooler weight {name} holds {int(np.sum(~np.isfinite(value)))} "
                              "NaN/Inf values; the module's weights are corrupt")


def confirm_in_checkpoint(weights: PoolerWeights, module_path: str) -> PoolerWeights:
    """Records which checkpoint entries hold exactly the kernel and bias found.

    Looked up by the same name first, then, since TF2 checkpoints key by object
    path rather than variable name, by value among entries of the same shape.
    """
    entries = stored_variables.from_checkpoint(module_path)
    if not entries:
        return dataclasses.replace(weights, checkpoint=CheckpointCheck("no-checkpoint"))
    keys = []
    for name, value in ((weights.kernel_name, weights.kernel), (weights.bias_name, weights.bias)):
        same_shape = [e for e in entries if e.shape == value.shape]
        by_name = [e for e in same_shape if e.name == name]
        match = next((e for e in by_name + same_shape if np.array_equal(e.read(), value)), None)
        if match is None:
            return dataclasses.replace(weights, checkpoint=CheckpointCheck("differs", (name,)))
        keys.append(match.name)
    return dataclasses.replace(weights, checkpoint=CheckpointCheck("matches", tuple(keys)))

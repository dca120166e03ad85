"""Encoder inputs -> the module's two outputs, checked for shape and finiteness."""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
from collections.abc import Iterable, Iterator
from typing import TypeVar

import numpy as np

from tfhub_pooling import defaults
from tfhub_pooling.errors import BadWeightsError, InterfaceError
from tfhub_pooling.study import interface
from tfhub_pooling.study.encoder_inputs import EncoderInputs, pad_to
from tfhub_pooling.study.loading import LoadedModule

Key = TypeVar("Key")


@dataclasses.dataclass
class Outputs:
    pooled_output: np.ndarray     # float32 [B, H]
    sequence_output: np.ndarray   # float32 [B, S', H]; S' = S but for encoders that shorten (Funnel)
    row_mask: np.ndarray          # int [B, S']: 1 where a row of sequence_output holds real tokens
    checks: interface.Checks | None = None   # Model Garden's export checks, dict encoders only
    ran_at: int | None = None     # the length the batch was padded to, where the module takes only some

    @property
    def cls(self) -> np.ndarray:
        """The final-layer [CLS] vector, sequence_output[:, 0, :] -> [B, H]."""
        return self.sequence_output[:, 0, :]


def full_float32() -> bool:
    """Turns TF32 off for this process and says whether float32 matmuls are full float32.

    On Ampere and newer GPUs TensorFlow runs float32 matmuls in TF32 by default, with a
    10-bit mantissa (u = 2^-11, not 2^-24): the float32 bound would then be wrong by 8,000
    times, and the module would not compute what it stores. On a CPU the switch changes
    nothing; it is made everywhere so the bound holds wherever the study runs.
    """
    import tensorflow as tf

    tf.config.experimental.enable_tensor_float_32_execution(False)
    return not tf.config.experimental.tensor_float_32_execution_enabled()


def run(module: LoadedModule, inputs: EncoderInputs) -> Outputs:
    batch, seq_length = inputs.input_ids.shape
    ran_at, out = module.lengths.run(seq_length, lambda length: _call(module, inputs, length))
    pooled, sequence = out["pooled_output"], out["sequence_output"]
    if sequence.ndim != 3 or sequence.shape[0] != batch or not 1 <= sequence.shape[1] <= ran_at:
        raise InterfaceError(f"sequence_output has shape {list(sequence.shape)}, expected "
                             f"[{batch}, {seq_length}, H]; the module is no BERT encoder")
    if pooled.shape != (batch, sequence.shape[2]):
        raise InterfaceError(f"pooled_output has shape {list(pooled.shape)}, expected "
                             f"[{batch}, {sequence.shape[2]}]; the module is no BERT encoder")
    for name, value in (("pooled_output", pooled), ("sequence_output", sequence)):
        if not np.all(np.isfinite(value)):
            raise BadWeightsError(f"{name} holds {int(np.sum(~np.isfinite(value)))} NaN/Inf values; "
                                  "the module's weights or graph are broken")
    if sequence.shape[1] == ran_at:          # rows of padding added here are dropped again
        sequence, mask = sequence[:, :seq_length], inputs.input_mask
    else:
        mask = pooled_mask(pad_to(inputs.input_mask, ran_at), sequence.shape[1])
    return Outputs(pooled, sequence, mask, out.get("checks"), ran_at if ran_at != seq_length else None)


def _call(module: LoadedModule, inputs: EncoderInputs, length: int) -> dict:
    padded = [pad_to(a, length) for a in (inputs.input_ids, inputs.input_mask, inputs.segment_ids)]
    return module.run(*padded)


def pooled_mask(input_mask: np.ndarray, rows: int) -> np.ndarray:
    """The mask [B, rows] of a sequence an encoder shortened from S tokens to rows
    (Funnel pools runs of ceil(S / rows) tokens): a row is real where any of its
    tokens is."""
    batch, width = input_mask.shape
    stride = -(-width // rows)
    padded = np.pad(input_mask, [(0, 0), (0, stride * rows - width)])
    return padded.reshape(batch, rows, stride).max(axis=2)


def run_many(module: LoadedModule, batches: Iterable[tuple[Key, EncoderInputs]],
             in_flight: int = defaults.BATCHES_IN_FLIGHT) -> Iterator[tuple[Key, EncoderInputs, Outputs]]:
    """Runs (key, inputs) batches `in_flight` at a time, yielding (key, inputs, outputs) in
    the batches' order. `batches` is drawn lazily, so memory stays flat in their number:
    while the caller works on one yielded batch, the next `in_flight` run. An error in
    any batch is raised here, in order.

    TensorFlow's calls may come from several threads at once and let go of Python's lock
    while their kernels run, so the batches share the cores; each batch's outputs are
    the same, bit for bit, as when it runs alone (tests/test_forward.py).
    """
    def keyed(key: Key, inputs: EncoderInputs) -> tuple[Key, EncoderInputs, Outputs]:
        return key, inputs, run(module, inputs)

    if in_flight <= 1:
        for key, inputs in batches:
            yield keyed(key, inputs)
        return
    pool = concurrent.futures.ThreadPoolExecutor(in_flight, thread_name_prefix="forward")
    pending: collections.deque[concurrent.futures.Future] = collections.deque()
    try:
        for key, inputs in batches:
            pending.append(pool.submit(keyed, key, inputs))
            if len(pending) > in_flight:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        # On an error or Ctrl-C, batches not yet started are dropped and a running one is
        # left to finish on its own rather than held for.
        pool.shutdown(wait=False, cancel_futures=True)


def concat(parts: list[Outputs]) -> Outputs:
    """Stacks batches; sequence_output is zero-padded to the longest batch."""
    width = max(p.sequence_output.shape[1] for p in parts)
    ran_at = [p.ran_at for p in parts if p.ran_at is not None]
    return Outputs(
        np.concatenate([p.pooled_output for p in parts]),
        np.concatenate([pad_to(p.sequence_output, width) for p in parts]),
        np.concatenate([pad_to(p.row_mask, width) for p in parts]),
        interface.merge([p.checks for p in parts]), max(ran_at) if ran_at else None)

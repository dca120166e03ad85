"""The one batch loop of verify and corpus mode: batches of encoder inputs run through
the module (forward.run_many), each held to the stored pooler's width and to the
format's output contract, and compared (comparison.compare). verify merges the
batches' comparisons (comparison.merge); corpus mode folds them as they come."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from tfhub_pooling.numerics import comparison
from tfhub_pooling.study import forward, interface, stored_pooler
from tfhub_pooling.study.encoder_inputs import EncoderInputs
from tfhub_pooling.study.loading import LoadedModule

Key = TypeVar("Key")


@dataclasses.dataclass(frozen=True)
class ComparedBatch(Generic[Key]):
    key: Key                           # what the caller tells its batches by
    inputs: EncoderInputs              # [B, S]
    outputs: forward.Outputs           # pooled_output [B, H], sequence_output [B, S', H]
    comparison: comparison.Comparison  # this batch's alone


def compared(module: LoadedModule, pooler: stored_pooler.PoolerWeights | None,
             batches: Iterable[tuple[Key, EncoderInputs]]) -> Iterator[ComparedBatch[Key]]:
    """Each (key, inputs) batch run and compared, in order, drawn lazily (memory stays
    flat in their number). pooler: found once, before any batch runs (None: none stored)."""
    kernel, bias = (pooler.kernel, pooler.bias) if pooler else (None, None)
    for key, inputs, out in forward.run_many(module, batches):
        if pooler is not None:
            stored_pooler.check_width(pooler, out.pooled_output.shape[1])
        yield ComparedBatch(key, inputs, out, comparison.compare(
            out.pooled_output, out.sequence_output, out.row_mask, kernel, bias,
            interface.problems(out.checks, module.encoder_outputs), pooler.note if pooler else None,
            pooler.arithmetic if pooler else None))

"""The one check that batches run in flight come back as they do alone, shared by the
format, KerasHub and forward tests."""

from __future__ import annotations

import numpy as np

from tfhub_pooling.study import forward


def assert_in_flight_bit_for_bit(module, batches: list, in_flight: int = 2) -> None:
    """batches: (key, EncoderInputs) pairs. Each batch run `in_flight` at a time comes
    back in order, keyed and with its own inputs, with the outputs it has alone, bit for bit."""
    alone = [forward.run(module, inputs) for _, inputs in batches]
    ran = list(forward.run_many(module, iter(batches), in_flight))
    assert [k for k, _, _ in ran] == [k for k, _ in batches]
    for (key, inputs, out), (_, given), ref in zip(ran, batches, alone, strict=True):
        assert inputs is given, key
        assert np.array_equal(out.pooled_output, ref.pooled_output), key
        assert np.array_equal(out.sequence_output, ref.sequence_output), key

"""forward.run_many: batches run several at a time, on the real default module."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from in_flight import assert_in_flight_bit_for_bit

from benchmarks.bench import ordinary_sentences
from tfhub_pooling.study import forward
from tfhub_pooling.study.encoder_inputs import Tokenizer


@pytest.fixture(scope="module")
def batches(default_loaded):
    """Six batches of different widths, in an order that is not sorted by width."""
    tokenizer = Tokenizer(default_loaded.facts.vocab_file, default_loaded.facts.do_lower_case)
    texts = ordinary_sentences(60, default_loaded.facts.vocab_file)[:48]
    packed = tokenizer.pack(texts, 128)
    rows = np.argsort(packed.token_counts, kind="stable")
    return [packed.batch(rows[i::6]) for i in (5, 0, 3, 1, 4, 2)]


def test_batches_in_flight_give_each_batch_its_own_outputs_in_order_bit_for_bit(default_loaded, batches):
    assert_in_flight_bit_for_bit(default_loaded, list(enumerate(batches)), in_flight=3)


def test_batches_are_drawn_only_a_few_ahead_of_what_is_used(default_loaded, batches):
    drawn = []

    def source():
        for i, b in enumerate(batches):
            drawn.append(i)
            yield i, b

    run = forward.run_many(default_loaded, source(), in_flight=2)
    next(run)
    assert len(drawn) == 3          # the one yielded and the two running
    run.close()


def test_an_error_in_a_batch_is_raised_in_order_after_the_batches_before_it(default_loaded, batches):
    broken = batches[2].input_ids.copy()
    broken[0, 1] = 10 ** 6          # no such row in the embedding table
    bad = dataclasses.replace(batches[2], input_ids=broken)
    done = []
    with pytest.raises(tf.errors.InvalidArgumentError):
        for key, _, _ in forward.run_many(default_loaded, enumerate([batches[0], batches[1], bad, batches[3]])):
            done.append(key)
    assert done == [0, 1]

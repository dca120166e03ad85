"""Tokenization and packing with the module's own vocab, through tensorflow_text."""

from __future__ import annotations

import numpy as np
import pytest

from tfhub_pooling import api
from tfhub_pooling.errors import UsageError
from tfhub_pooling.study import forward
from tfhub_pooling.study.encoder_inputs import Tokenizer


@pytest.fixture(scope="module")
def tokenizer(default_loaded):
    return Tokenizer(default_loaded.facts.vocab_file, default_loaded.facts.do_lower_case)


def test_known_ids(tokenizer):
    inputs = tokenizer.encode(["I am using BERT in Tensorflow."], 512)
    assert inputs.input_ids.tolist() == [[101, 1045, 2572, 2478, 14324, 1999, 23435, 12314, 1012, 102]]
    assert inputs.input_mask.tolist() == [[1] * 10]
    assert inputs.segment_ids.tolist() == [[0] * 10]


def test_pair_segments(tokenizer):
    inputs = tokenizer.encode([("Hello world.", "Good bye.")], 512)
    ids = inputs.input_ids[0].tolist()
    # [CLS] hello world . [SEP] good bye . [SEP]
    assert ids[0] == 101 and ids[4] == 102 and ids[-1] == 102 and len(ids) == 9
    assert inputs.segment_ids[0].tolist() == [0] * 5 + [1] * 4


def test_mixed_batch_keeps_order_and_pads_to_longest(tokenizer):
    texts = ["Hi.", ("A pair, first.", "Second."), "A somewhat longer single sentence here."]
    inputs = tokenizer.encode(texts, 512)
    alone = [tokenizer.encode([t], 512) for t in texts]
    width = max(a.input_ids.shape[1] for a in alone)
    assert inputs.input_ids.shape == (3, width)
    for i, a in enumerate(alone):
        n = a.input_ids.shape[1]
        assert inputs.input_ids[i, :n].tolist() == a.input_ids[0].tolist()
        assert inputs.input_ids[i, n:].tolist() == [0] * (width - n)
        assert inputs.input_mask[i].sum() == n == inputs.token_counts[i]


def test_truncation_to_the_maximum(tokenizer):
    long = " ".join(["word"] * 600)
    inputs = tokenizer.encode([long, ("first " * 300, "second " * 300)], 512)
    assert inputs.input_ids.shape == (2, 512)
    assert inputs.truncated.tolist() == [True, True]
    assert inputs.input_ids[0, -1] == 102
    # Round-robin trimming shares the room between the two segments.
    assert inputs.segment_ids[1].sum() in (254, 255)


def test_empty_text_is_refused(tokenizer):
    with pytest.raises(UsageError, match="empty"):
        tokenizer.encode(["fine", "   "], 512)
    with pytest.raises(UsageError, match="empty"):
        tokenizer.encode([("fine", "")], 512)


def test_padding_does_not_change_cls_or_pooled(default_loaded, tokenizer):
    short = "I am using BERT in Tensorflow."
    longer = "A far longer sentence, " * 8 + "so the short one gets plenty of padding."
    alone = forward.run(default_loaded, tokenizer.encode([short], 512))
    padded_inputs = tokenizer.encode([short, longer], 512)
    assert padded_inputs.input_mask[0].sum() < padded_inputs.input_ids.shape[1]   # really padded
    padded = forward.run(default_loaded, padded_inputs)
    assert np.abs(alone.cls[0] - padded.cls[0]).max() <= 1e-5
    assert np.abs(alone.pooled_output[0] - padded.pooled_output[0]).max() <= 1e-5


def test_max_seq_length_comes_from_the_module(default_loaded):
    assert default_loaded.facts.max_seq_length == 512
    r = api.verify(texts=["word " * 100], max_seq_length=16, module=default_loaded)
    assert r.inputs.input_ids.shape == (1, 16) and r.inputs.truncated[0]


def test_packed_rows_batched_in_any_order_equal_those_texts_encoded_alone(tokenizer):
    """Corpus mode packs a chunk once, then batches its rows by token count."""
    texts = ["I am using BERT in Tensorflow.", ("Pair, first.", "Second!"), "word " * 600, "Ünïcödé 北京",
             "Hi.", ("a", "b c d e f g")]
    packed = tokenizer.pack(texts, 64)
    assert list(packed.token_counts) == list(tokenizer.encode(texts, 64).token_counts)
    for rows in ([5, 0, 3], [2], [4, 1]):
        a, b = packed.batch(rows), tokenizer.encode([texts[r] for r in rows], 64)
        for name in ("input_ids", "input_mask", "segment_ids", "token_counts", "truncated"):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (rows, name)

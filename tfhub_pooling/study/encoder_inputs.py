"""Texts -> the three encoder inputs, with the module's own vocab and casing.

WordPiece is tensorflow_text's BertTokenizer; packing follows BERT:
`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, segment ids 0 for the first
segment (with [CLS] and its [SEP]) and 1 for the second. Over-long input is
trimmed round-robin across segments (tensorflow_text.RoundRobinTrimmer, as the
TF Hub preprocessing models do), then the batch is padded to its longest row.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Iterator, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_text as text

from tfhub_pooling.errors import UsageError

# A text is one segment, or a pair of segments.
Text = str | tuple[str, str]


@dataclasses.dataclass
class EncoderInputs:
    input_ids: np.ndarray     # int32 [B, S]
    input_mask: np.ndarray    # int32 [B, S], 1 = token, 0 = padding
    segment_ids: np.ndarray   # int32 [B, S]
    token_counts: np.ndarray  # int [B], tokens incl. [CLS]/[SEP] after trimming
    truncated: np.ndarray     # bool [B], True where trimming dropped word pieces


class Tokenizer:
    """tensorflow_text WordPiece over one vocab file, plus BERT's special ids."""

    def __init__(self, vocab_file: str, do_lower_case: bool, compiled: bool = False):
        """compiled: run tokenize + pack as one tf.function per segment count. Eagerly,
        they dispatch ~500 small ops per batch (~30 ms); compiled, ~2 ms, after a
        one-off trace of ~1.4 s. Worth it from a few dozen batches on (corpus mode)."""
        with open(vocab_file, encoding="utf-8") as f:
            vocab = [line.rstrip("\n") for line in f]
        ids = {token: i for i, token in enumerate(vocab)}
        for special in ("[CLS]", "[SEP]", "[UNK]"):
            if special not in ids:
                raise UsageError(f"vocab {vocab_file} has no {special} token; it is no BERT vocab")
        self.cls_id, self.sep_id = ids["[CLS]"], ids["[SEP]"]
        self.vocab_file = vocab_file
        self.do_lower_case = do_lower_case
        self._wordpiece = text.BertTokenizer(vocab_file, lower_case=do_lower_case,
                                             token_out_type=tf.int64)
        spec = tf.TensorSpec([None], tf.string)
        length = tf.TensorSpec([], tf.int32)
        self._packers = {n: tf.function(self._tokenize_and_pack, input_signature=[[spec] * n, length])
                         if compiled else self._tokenize_and_pack for n in (1, 2)}

    def describe(self) -> str:
        return (f"tensorflow_text BertTokenizer over the module's {os.path.basename(self.vocab_file)} "
                f"({'lower case' if self.do_lower_case else 'cased'})")

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        return encode(self, texts, max_seq_length)

    def _tokenize_and_pack(self, segments: list[tf.Tensor], max_seq_length: tf.Tensor):
        """[B] strings per segment -> ids, segment_ids ragged [B, (tokens)], and per row
        the word pieces before and after trimming."""
        pieces = [self._wordpiece.tokenize(s).merge_dims(-2, -1) for s in segments]
        trimmed, ids, segment_ids = pack(pieces, max_seq_length, self.cls_id, self.sep_id)
        return (ids, segment_ids, tf.add_n([p.row_lengths() for p in pieces]),
                tf.add_n([t.row_lengths() for t in trimmed]))

    def pack_texts(self, segments: Sequence[Sequence[str]], max_seq_length: int):
        """One or two lists of B strings -> ids, segment_ids (ragged), full and kept lengths [B]."""
        return self._packers[len(segments)]([tf.constant(list(s), tf.string) for s in segments],
                                             tf.constant(max_seq_length, tf.int32))


def pack(segments: Sequence[tf.RaggedTensor], max_seq_length: int | tf.Tensor, cls_id: int,
         sep_id: int) -> tuple[list[tf.RaggedTensor], tf.RaggedTensor, tf.RaggedTensor]:
    """BERT packing, shared with the preprocessing model the builder writes.

    segments: one or two ragged [B, (word pieces)].
    Returns the trimmed segments, and ids and segment_ids ragged [B, (<= max_seq_length)].
    """
    # Room for [CLS] and one [SEP] per segment.
    trimmed = text.RoundRobinTrimmer(max_seq_length - 1 - len(segments)).trim(list(segments))
    ids, segment_ids = text.combine_segments(trimmed, start_of_sequence_id=cls_id,
                                             end_of_segment_id=sep_id)
    return trimmed, ids, segment_ids


def check_text(t: Text) -> None:
    for segment in (t,) if isinstance(t, str) else t:
        if not segment.strip():
            raise UsageError("a text is empty or only white space; every text needs a word")


def by_segment_count(texts: Sequence[Text]) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Checks a batch, then splits it: the positions of the single texts and their one
    list of strings, then those of the pairs and their two lists. Packing ops take one
    segment count at a time; callers put the rows back by position."""
    if not texts:
        raise UsageError("no texts to encode; give at least one")
    for t in texts:
        check_text(t)
    for n_segments in (1, 2):
        where = [i for i, t in enumerate(texts) if isinstance(t, str) == (n_segments == 1)]
        if where:
            yield where, [[texts[i] if n_segments == 1 else texts[i][k] for i in where]
                          for k in range(n_segments)]


def encode(tokenizer: Tokenizer, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
    """Packs and pads a batch; singles and pairs may be mixed, order is kept."""
    rows: list[tuple[list[int], list[int], bool]] = [None] * len(texts)  # type: ignore[list-item]
    for where, segments in by_segment_count(texts):
        ids, segment_ids, full, kept = tokenizer.pack_texts(segments, max_seq_length)
        full, kept = full.numpy(), kept.numpy()
        for j, (i, row_ids, row_segments) in enumerate(zip(where, ids.to_list(), segment_ids.to_list())):
            rows[i] = (row_ids, row_segments, kept[j] < full[j])
    return _pad(rows)


def _pad(rows: list[tuple[list[int], list[int], bool]]) -> EncoderInputs:
    width = max(len(ids) for ids, _, _ in rows)
    shape = (len(rows), width)
    input_ids, input_mask, segment_ids = (np.zeros(shape, np.int32) for _ in range(3))
    for i, (ids, segs, _) in enumerate(rows):
        input_ids[i, :len(ids)] = ids
        input_mask[i, :len(ids)] = 1
        segment_ids[i, :len(ids)] = segs
    return EncoderInputs(input_ids, input_mask, segment_ids,
                         token_counts=input_mask.sum(axis=1),
                         truncated=np.array([r[2] for r in rows]))


def concat(parts: Sequence[EncoderInputs]) -> EncoderInputs:
    """Stacks batches, padding every row to the widest batch."""
    width = max(p.input_ids.shape[1] for p in parts)

    def stack(name: str) -> np.ndarray:
        return np.concatenate([np.pad(getattr(p, name), ((0, 0), (0, width - p.input_ids.shape[1])))
                               for p in parts])

    return EncoderInputs(stack("input_ids"), stack("input_mask"), stack("segment_ids"),
                         np.concatenate([p.token_counts for p in parts]),
                         np.concatenate([p.truncated for p in parts]))


class PreprocessingModel:
    """A TF Hub BERT preprocessing model (tensorflow/bert_en_uncased_preprocess/3 style),
    used instead of our own tokenizer: its `tokenize` and `bert_pack_inputs`."""

    DEFAULT_SEQ_LENGTH = 128    # what calling the model on strings packs to

    def __init__(self, handle: str, obj):
        self.handle = handle
        self._obj = obj

    def describe(self) -> str:
        return f"preprocessing model {self.handle}"

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        """Packs to exactly max_seq_length, as the model does; order is kept."""
        parts, order = [], []
        for where, strings in by_segment_count(texts):
            segments = [self._obj.tokenize(tf.constant(s)) for s in strings]
            packed = self._obj.bert_pack_inputs(segments, tf.constant(max_seq_length, tf.int32))
            mask = packed["input_mask"].numpy()
            pieces = sum(s.merge_dims(-2, -1).row_lengths() for s in segments).numpy()
            # Trimmed where the word pieces plus [CLS] and one [SEP] a segment do not fit.
            parts.append(EncoderInputs(packed["input_word_ids"].numpy(), mask,
                                       packed["input_type_ids"].numpy(), mask.sum(axis=1),
                                       pieces + 1 + len(segments) > mask.sum(axis=1)))
            order += where
        merged = concat(parts)
        back = np.argsort(order)
        return EncoderInputs(*(getattr(merged, f.name)[back] for f in dataclasses.fields(EncoderInputs)))

"""Texts -> the three encoder inputs, with the module's own vocab and casing.

The word pieces come from the tokenizer the vocab's kind calls for (vocabs.py:
WordPiece for BERT, SentencePiece for ALBERT); packing follows BERT:
`[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, segment ids 0 for the first
segment (with [CLS] and its [SEP]) and 1 for the second. Over-long input is
trimmed round-robin across segments (tensorflow_text.RoundRobinTrimmer, as the
TF Hub preprocessing models do), then the batch is padded to its longest row
with the vocab's own padding id.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf
import tensorflow_text as text

from tfhub_pooling.study import vocabs
from tfhub_pooling.study.texts import Text, check_texts, segments


@dataclasses.dataclass
class EncoderInputs:
    input_ids: np.ndarray     # int32 [B, S]
    input_mask: np.ndarray    # int32 [B, S], 1 = token, 0 = padding
    segment_ids: np.ndarray   # int32 [B, S]
    token_counts: np.ndarray  # int [B], tokens incl. [CLS]/[SEP] after trimming
    truncated: np.ndarray     # bool [B], True where trimming dropped word pieces


class Tokenizer:
    """The module's own vocab and casing (vocabs.py), plus BERT packing with its special ids."""

    def __init__(self, vocab_file: str, do_lower_case: bool, compiled: bool = False,
                 word_pieces: Callable[[tf.Tensor], tf.RaggedTensor] | None = None, name: str | None = None):
        """compiled: run tokenize + pack as one tf.function per segment count. Eagerly,
        they dispatch ~500 small ops per batch (~30 ms); compiled, ~2 ms, after a
        one-off trace of ~1.4 s. Worth it from a few dozen batches on (corpus mode).

        word_pieces: strings [B] -> ids ragged [B, (pieces)] from a module's own
        tokenizer (a KerasHub preset's), instead of tensorflow_text's over vocab_file;
        name: what describe() calls it."""
        self.vocab = vocabs.read(vocab_file)
        self.cls_id, self.sep_id, self.pad_id = self.vocab.cls_id, self.vocab.sep_id, self.vocab.pad_id
        self.vocab_file = vocab_file
        self.do_lower_case = do_lower_case
        self._description = vocabs.describe(self.vocab, do_lower_case, name)
        self._word_pieces = word_pieces or vocabs.WordPieces(self.vocab, do_lower_case)
        spec = tf.TensorSpec([None], tf.string)
        length = tf.TensorSpec([], tf.int32)
        self._packers = {n: tf.function(self._tokenize_and_pack, input_signature=[[spec] * n, length])
                         if compiled else self._tokenize_and_pack for n in (1, 2)}

    def describe(self) -> str:
        return self._description

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        return encode(self, texts, max_seq_length)

    def _tokenize_and_pack(self, segments: list[tf.Tensor], max_seq_length: tf.Tensor):
        """[B] strings per segment -> ids, segment_ids ragged [B, (tokens)], and per row
        the word pieces before and after trimming."""
        pieces = [tf.cast(self._word_pieces(s), tf.int64) for s in segments]
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


def by_segment_count(texts: Sequence[Text]) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Checks a batch, then splits it: the positions of the single texts and their one
    list of strings, then those of the pairs and their two lists. Packing ops take one
    segment count at a time; callers put the rows back by position."""
    texts = check_texts(texts)
    for n_segments in (1, 2):
        where = [i for i, t in enumerate(texts) if len(segments(t)) == n_segments]
        if where:
            yield where, [[segments(texts[i])[k] for i in where] for k in range(n_segments)]


def encode(tokenizer: Tokenizer, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
    """Packs and pads a batch to its longest row; singles and pairs may be mixed, order is kept."""
    parts, order = [], []
    for where, strings in by_segment_count(texts):
        ids, segment_ids, full, kept = tokenizer.pack_texts(strings, max_seq_length)
        width = int(ids.row_lengths().numpy().max())
        input_ids, input_mask = text.pad_model_inputs(ids, max_seq_length=width, pad_value=tokenizer.pad_id)
        segment_ids, _ = text.pad_model_inputs(segment_ids, max_seq_length=width)
        mask = input_mask.numpy()
        parts.append(EncoderInputs(input_ids.numpy().astype(np.int32), mask.astype(np.int32),
                                   segment_ids.numpy().astype(np.int32), mask.sum(axis=1),
                                   kept.numpy() < full.numpy()))
        order += where
    return in_order(parts, order)


def pad_to(a: np.ndarray, width: int) -> np.ndarray:
    """Zero-pads axis 1 of a [B, S, ...] array to width: the one padding of stacked batches."""
    return np.pad(a, [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2))


def concat(parts: Sequence[EncoderInputs]) -> EncoderInputs:
    """Stacks batches, padding every row to the widest batch."""
    width = max(p.input_ids.shape[1] for p in parts)

    def stack(name: str) -> np.ndarray:
        return np.concatenate([pad_to(getattr(p, name), width) for p in parts])

    return EncoderInputs(stack("input_ids"), stack("input_mask"), stack("segment_ids"),
                         np.concatenate([p.token_counts for p in parts]),
                         np.concatenate([p.truncated for p in parts]))


def in_order(parts: Sequence[EncoderInputs], order: Sequence[int]) -> EncoderInputs:
    """Batches made per segment count, stacked and put back in the texts' order."""
    merged = concat(parts)
    back = np.argsort(order)
    return EncoderInputs(*(getattr(merged, f.name)[back] for f in dataclasses.fields(EncoderInputs)))


def flat_pieces(pieces: tf.RaggedTensor) -> tf.RaggedTensor:
    """A preprocessing model's tokens as [B, (pieces)]: WordPiece models give
    [B, (words), (pieces)], SentencePiece ones [B, (pieces)] already."""
    return pieces.merge_dims(-2, -1) if pieces.ragged_rank == 2 else pieces


class PreprocessingModel:
    """A TF Hub BERT preprocessing model (tensorflow/bert_en_uncased_preprocess/3,
    tensorflow/albert_en_preprocess/3 style), used instead of our own tokenizer:
    its `tokenize` and `bert_pack_inputs`."""

    def __init__(self, handle: str, obj):
        self.handle = handle
        self._obj = obj
        # The vocab it carries, if any, for generated texts (recovery) when the encoder carries none.
        asset = getattr(obj, "vocab_file", None) or getattr(obj, "sp_model_file", None)
        self.vocab_file = asset.asset_path.numpy().decode() if asset is not None else None

    def describe(self) -> str:
        return f"preprocessing model {self.handle}"

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        """Packs to exactly max_seq_length, as the model does; order is kept."""
        parts, order = [], []
        for where, strings in by_segment_count(texts):
            pieces = [self._obj.tokenize(tf.constant(s)) for s in strings]
            packed = self._obj.bert_pack_inputs(pieces, tf.constant(max_seq_length, tf.int32))
            mask = packed["input_mask"].numpy()
            counts = sum(flat_pieces(p).row_lengths() for p in pieces).numpy()
            # Trimmed where the word pieces plus [CLS] and one [SEP] a segment do not fit.
            parts.append(EncoderInputs(packed["input_word_ids"].numpy(), mask,
                                       packed["input_type_ids"].numpy(), mask.sum(axis=1),
                                       counts + 1 + len(pieces) > mask.sum(axis=1)))
            order += where
        return in_order(parts, order)

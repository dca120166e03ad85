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
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import tensorflow as tf

from tfhub_pooling.conventions import vocabs
from tfhub_pooling.conventions.packing import flat_pieces, pack
from tfhub_pooling.study.texts import Text, check_texts, segments

if TYPE_CHECKING:
    from tfhub_pooling.study.loading import ModuleFacts


@dataclasses.dataclass
class EncoderInputs:
    input_ids: np.ndarray     # int32 [B, S]
    input_mask: np.ndarray    # int32 [B, S], 1 = token, 0 = padding
    segment_ids: np.ndarray   # int32 [B, S]
    token_counts: np.ndarray  # int [B], tokens incl. [CLS]/[SEP] after trimming
    truncated: np.ndarray     # bool [B], True where trimming dropped word pieces


@dataclasses.dataclass
class Packed:
    """Texts packed as BERT inputs but not yet padded, so that any rows can be batched
    by length afterwards: row i is ids[row_splits[i]:row_splits[i + 1]]."""

    ids: np.ndarray           # int32 [total tokens]
    segment_ids: np.ndarray   # int32 [total tokens]
    row_splits: np.ndarray    # int64 [N + 1]
    truncated: np.ndarray     # bool [N]
    pad_id: int
    width: int | None = None  # pad every batch to this (a preprocessing model's length); None: its longest row

    @property
    def token_counts(self) -> np.ndarray:
        return np.diff(self.row_splits)

    def batch(self, rows: Sequence[int] | np.ndarray) -> EncoderInputs:
        """These rows, in this order, padded to the longest of them (or to width)."""
        rows = np.asarray(rows)
        counts = self.token_counts[rows]
        width = self.width or int(counts.max())
        mask = np.arange(width)[np.newaxis, :] < counts[:, np.newaxis]              # [B, width]
        index = np.minimum(self.row_splits[rows][:, np.newaxis] + np.arange(width), len(self.ids) - 1)
        return EncoderInputs(np.where(mask, self.ids[index], self.pad_id).astype(np.int32),
                             mask.astype(np.int32),
                             np.where(mask, self.segment_ids[index], 0).astype(np.int32),
                             counts, self.truncated[rows])

    def all(self) -> EncoderInputs:
        return self.batch(np.arange(len(self.truncated)))


class Inputs(Protocol):
    """What makes a module's encoder inputs: our Tokenizer over its vocab, or its
    PreprocessingModel. The study holds either as this, and nothing more."""

    @property
    def vocab_file(self) -> str | None:
        """Whose words generated texts are made of, where it has one."""
        ...

    def describe(self) -> str:
        """What made the inputs, for the reports."""
        ...

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        """texts -> one padded batch [B, S]."""
        ...

    def pack(self, texts: Sequence[Text], max_seq_length: int) -> Packed:
        """texts -> packed unpadded, to be cut into batches by token count."""
        ...


class Tokenizer:
    """The module's own vocab and casing (vocabs.py), plus BERT packing with its special ids.

    Texts are tokenized and packed eagerly, a whole list (a corpus chunk) per call:
    ~500 small ops a call, and no tf.function to trace (tracing cost 1.3-1.6 s)."""

    def __init__(self, vocab_file: str, do_lower_case: bool,
                 word_pieces: Callable[[tf.Tensor], tf.RaggedTensor] | None = None, name: str | None = None,
                 owner: str = "the module's"):
        """word_pieces: strings [B] -> ids ragged [B, (pieces)] from a module's own
        tokenizer (a KerasHub preset's), instead of tensorflow_text's over vocab_file;
        name: what describe() calls it; owner: whose vocab it is."""
        self.vocab = vocabs.read(vocab_file)
        self.cls_id, self.sep_id, self.pad_id = self.vocab.cls_id, self.vocab.sep_id, self.vocab.pad_id
        self.vocab_file = vocab_file
        self.do_lower_case = do_lower_case
        self._description = vocabs.describe(self.vocab, do_lower_case, name, owner)
        self._word_pieces = word_pieces or vocabs.Pieces(self.vocab, do_lower_case)

    def describe(self) -> str:
        return self._description

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        """Packs and pads to the longest row; singles and pairs may be mixed, order is kept."""
        return self.pack(texts, max_seq_length).all()

    def pack(self, texts: Sequence[Text], max_seq_length: int) -> Packed:
        """Tokenizes and packs texts (singles and pairs mixed), order kept, unpadded."""
        parts, order = [], []
        for where, strings in by_segment_count(texts):
            pieces = [tf.cast(self._word_pieces(tf.constant(s)), tf.int64) for s in strings]
            trimmed, ids, segment_ids = pack(pieces, max_seq_length, self.cls_id, self.sep_id)
            full, kept = (tf.add_n([p.row_lengths() for p in ps]) for ps in (pieces, trimmed))
            parts.append((ids, segment_ids, kept < full))
            order += where
        back = np.argsort(order)
        ids, segment_ids = (tf.gather(tf.concat([p[k] for p in parts], axis=0), back) for k in (0, 1))
        truncated = np.concatenate([p[2].numpy() for p in parts])[back]
        return Packed(ids.flat_values.numpy().astype(np.int32), segment_ids.flat_values.numpy().astype(np.int32),
                      ids.row_splits.numpy(), truncated, self.pad_id)


def by_segment_count(texts: Sequence[Text]) -> Iterator[tuple[list[int], list[list[str]]]]:
    """Checks a batch, then splits it: the positions of the single texts and their one
    list of strings, then those of the pairs and their two lists. Packing ops take one
    segment count at a time; callers put the rows back by position."""
    texts = check_texts(texts)
    for n_segments in (1, 2):
        where = [i for i, t in enumerate(texts) if len(segments(t)) == n_segments]
        if where:
            yield where, [[segments(texts[i])[k] for i in where] for k in range(n_segments)]


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


class PreprocessingModel:
    """A TF Hub BERT preprocessing model (tensorflow/bert_en_uncased_preprocess/3,
    tensorflow/albert_en_preprocess/3 style), used instead of our own tokenizer:
    its `tokenize` and `bert_pack_inputs`."""

    def __init__(self, facts: ModuleFacts, obj: Any):
        """facts: what it is, as every document says it (modules.load_preprocessing); its
        vocab_file, where it carries one, makes the generated texts (recovery) when the
        encoder carries none."""
        self.facts = facts
        self._obj = obj

    @property
    def vocab_file(self) -> str | None:
        return self.facts.vocab_file

    def describe(self) -> str:
        return f"preprocessing model {self.facts.handle}"

    def encode(self, texts: Sequence[Text], max_seq_length: int) -> EncoderInputs:
        """Packs to exactly max_seq_length, as the model does; order is kept."""
        return self.pack(texts, max_seq_length).all()

    def pack(self, texts: Sequence[Text], max_seq_length: int) -> Packed:
        """The model's inputs for texts, every batch to be padded to max_seq_length as it pads."""
        parts, order = [], []
        for where, strings in by_segment_count(texts):
            pieces = [self._obj.tokenize(tf.constant(s)) for s in strings]
            packed = self._obj.bert_pack_inputs(pieces, tf.constant(max_seq_length, tf.int32))
            # The tokens it would take: the word pieces plus [CLS] and one [SEP] a segment.
            needed = sum(flat_pieces(p).row_lengths() for p in pieces).numpy() + 1 + len(pieces)
            parts.append(([packed[k].numpy() for k in ("input_word_ids", "input_mask", "input_type_ids")],
                          needed))
            order += where
        back = np.argsort(order)
        ids, mask, types = (np.concatenate([p[0][k] for p in parts])[back] for k in range(3))
        real = mask.astype(bool)            # a prefix of each row: the model pads on the right
        pad_id = int(ids[~real][0]) if (~real).any() else 0
        return Packed(ids[real].astype(np.int32), types[real].astype(np.int32),
                      np.concatenate([[0], np.cumsum(real.sum(axis=1))]),
                      np.concatenate([p[1] for p in parts])[back] > real.sum(axis=1), pad_id,
                      width=max_seq_length)

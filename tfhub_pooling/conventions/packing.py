"""BERT's packing of word pieces into encoder inputs, shared by our tokenizer
(study/encoder_inputs.py) and the preprocessing model the builder writes, so the
two cannot drift apart: `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, trimmed
round-robin across segments as TF Hub's preprocessing models do."""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf
import tensorflow_text as text


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


def flat_pieces(pieces: tf.RaggedTensor) -> tf.RaggedTensor:
    """A preprocessing model's tokens as [B, (pieces)]: WordPiece models give
    [B, (words), (pieces)], SentencePiece ones [B, (pieces)] already."""
    return pieces.merge_dims(-2, -1) if pieces.ragged_rank == 2 else pieces

"""Writes a BERT preprocessing model like tensorflow/bert_en_uncased_preprocess/3
(WordPiece) or tensorflow/albert_en_preprocess/3 (SentencePiece): a TF2
SavedModel whose graph holds tensorflow_text ops and the vocab as an asset.

  obj(strings [B]) -> {"input_word_ids", "input_mask", "input_type_ids"}: int32 [B, 128]
  obj.tokenize(strings [B]) -> int32 ragged [B, (words), (word pieces)] (WordPiece)
                               or [B, (pieces)] (SentencePiece)
  obj.bert_pack_inputs([segments...], seq_length) -> the same dict, [B, seq_length],
      for one or two segments as `tokenize` returns them

Tokenizing is vocabs.Pieces and packing conventions/packing.pack, the study's own, so
the two cannot drift apart.
"""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as text

from tfhub_pooling import defaults
from tfhub_pooling.builder.bert_config import BertWeights
from tfhub_pooling.conventions import vocabs
from tfhub_pooling.conventions.packing import flat_pieces, pack


def write(weights: BertWeights, export_dir: str, control: object = None) -> None:
    """Writes the preprocessing model for weights' vocab and casing (control is ignored)."""
    vocab = vocabs.read(weights.vocab_file)
    root = tf.train.Checkpoint()
    root.tokenizer = vocabs.Pieces(vocab, weights.do_lower_case, out_type=tf.int32)
    if vocab.kind == vocabs.WORDPIECE:
        tokenize_strings = root.tokenizer.tokenizer.tokenize          # keeps the words axis
        pieces_spec = tf.RaggedTensorSpec([None, None, None], tf.int32, ragged_rank=2)
        root.vocab_file = tf.saved_model.Asset(weights.vocab_file)
        root.do_lower_case = tf.Variable(weights.do_lower_case, trainable=False, name="do_lower_case")
    else:
        tokenize_strings = root.tokenizer
        pieces_spec = tf.RaggedTensorSpec([None, None], tf.int32, ragged_rank=1)
        root.sp_model_file = tf.saved_model.Asset(weights.vocab_file)

    def pack_inputs(segments, seq_length):
        _, word_ids, type_ids = pack([flat_pieces(s) for s in segments], seq_length,
                                     vocab.cls_id, vocab.sep_id)
        word_ids, mask = text.pad_model_inputs(word_ids, max_seq_length=seq_length, pad_value=vocab.pad_id)
        type_ids, _ = text.pad_model_inputs(type_ids, max_seq_length=seq_length)
        return {"input_word_ids": word_ids, "input_mask": mask, "input_type_ids": type_ids}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(strings):
        return tokenize_strings(strings)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def call(strings):
        return pack_inputs([tokenize(strings)], defaults.PREPROCESS_SEQ_LENGTH)

    @tf.function
    def bert_pack_inputs(segments, seq_length):
        return pack_inputs(segments, seq_length)

    length = tf.TensorSpec([], tf.int32)
    for n in (1, 2):   # the traces a restored model can answer
        bert_pack_inputs.get_concrete_function([pieces_spec] * n, length)
    root.tokenize = tokenize
    root.bert_pack_inputs = bert_pack_inputs
    root.__call__ = call
    tf.saved_model.save(root, export_dir)

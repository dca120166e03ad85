"""Writes a BERT as a TF2 SavedModel with the interface of TF Hub's TF2 encoders.

  tf2-dict (tensorflow/bert_en_uncased_L-12_H-768_A-12/3 and /4):
      obj({"input_word_ids", "input_mask", "input_type_ids"}: int32 [B, S])
      -> {"pooled_output" [B, H], "sequence_output" [B, S, H],
          "encoder_outputs": one [B, S, H] per layer, "default": pooled_output}
  tf2-list (the early /1 and /2 TF2 encoders):
      obj([input_word_ids, input_mask, segment_ids]) -> [pooled_output, sequence_output]

Both carry `vocab_file` (an Asset), `do_lower_case` (a Variable) and `variables`,
as hub.load users expect; with a SentencePiece vocab, `sp_model_file` (an Asset)
alone, as Model Garden exported tensorflow/albert_en_base/1-3. Variables are
named as Model Garden's BertEncoder and AlbertEncoder name them
(MODEL_GARDEN_NAMES), and the object tree mirrors those names, so the
checkpoint keys are `pooler_transform/kernel/.ATTRIBUTES/VARIABLE_VALUE`.
Model Garden's EinsumDense kernels are 3-D ([H, N, D]); these are kept 2-D
[in, out], which changes no output.
"""

from __future__ import annotations

import tensorflow as tf

from tfhub_pooling.builder import bert, controls
from tfhub_pooling.builder.bert_config import (
    ALBERT_SHARED_LAYER,
    EMBEDDING_PROJECTION,
    POOLER_BIAS,
    POOLER_KERNEL,
    BertWeights,
    rename,
)
from tfhub_pooling.conventions import naming, vocabs
from tfhub_pooling.formats import TF2_DICT, TF2_LIST

# google-research name (regex) -> Model Garden BertEncoder or AlbertEncoder name
# (the latter as tf2_albert_encoder_checkpoint_converter.py renames them).
MODEL_GARDEN_NAMES = (
    (r"bert/embeddings/word_embeddings", "word_embeddings/embeddings"),
    (r"bert/embeddings/position_embeddings", "position_embedding/embeddings"),
    (r"bert/embeddings/token_type_embeddings", "type_embeddings/embeddings"),
    (r"bert/embeddings/LayerNorm/(gamma|beta)", r"embeddings/layer_norm/\1"),
    (r"bert/encoder/layer_(\d+)/attention/self/(query|key|value)/(kernel|bias)",
     r"transformer/layer_\1/self_attention/\2/\3"),
    (r"bert/encoder/layer_(\d+)/attention/output/dense/(kernel|bias)",
     r"transformer/layer_\1/self_attention/attention_output/\2"),
    (r"bert/encoder/layer_(\d+)/attention/output/LayerNorm/(gamma|beta)",
     r"transformer/layer_\1/self_attention_layer_norm/\2"),
    (r"bert/encoder/layer_(\d+)/intermediate/dense/(kernel|bias)", r"transformer/layer_\1/intermediate/\2"),
    (r"bert/encoder/layer_(\d+)/output/dense/(kernel|bias)", r"transformer/layer_\1/output/\2"),
    (r"bert/encoder/layer_(\d+)/output/LayerNorm/(gamma|beta)", r"transformer/layer_\1/output_layer_norm/\2"),
    (EMBEDDING_PROJECTION + r"/(kernel|bias)", r"embedding_projection/\1"),
    (ALBERT_SHARED_LAYER + r"/attention_1/self/(query|key|value)/(kernel|bias)",
     r"transformer/self_attention/\1/\2"),
    (ALBERT_SHARED_LAYER + r"/attention_1/output/dense/(kernel|bias)",
     r"transformer/self_attention/attention_output/\1"),
    (ALBERT_SHARED_LAYER + r"/LayerNorm/(gamma|beta)", r"transformer/self_attention_layer_norm/\1"),
    (ALBERT_SHARED_LAYER + r"/ffn_1/intermediate/dense/(kernel|bias)", r"transformer/intermediate/\1"),
    (ALBERT_SHARED_LAYER + r"/ffn_1/intermediate/output/dense/(kernel|bias)", r"transformer/output/\1"),
    (ALBERT_SHARED_LAYER + r"/LayerNorm_1/(gamma|beta)", r"transformer/output_layer_norm/\1"),
    # The pooler's names come from the one naming table.
    (r"bert/pooler/dense/(kernel|bias)", naming.MODEL_GARDEN_SCHEME.pooler_kernel.rsplit("/", 1)[0] + r"/\1"),
)


def _attach(root: tf.Module, path: str, var: tf.Variable) -> None:
    """Hangs var at root.a.b.c for path a/b/c, so checkpoint keys follow the names."""
    *parents, leaf = path.split("/")
    node = root
    for p in parents:
        if not hasattr(node, p):
            setattr(node, p, tf.Module())
        node = getattr(node, p)
    setattr(node, leaf, var)


def write(weights: BertWeights, export_dir: str, control: controls.Control | None = None,
          interface: str = TF2_DICT, keep_variable_names: bool = True) -> None:
    """Writes the SavedModel into export_dir.

    keep_variable_names=False writes every variable as plain "Variable", as some
    exporters do; then only the object graph (checkpoint keys) still names them.
    """
    config = weights.config
    root = tf.train.Checkpoint()
    stored, baked = controls.split_stored(control, weights.params)
    params: dict[str, tf.Tensor] = {}
    for name, value in stored.items():
        mg_name = rename(MODEL_GARDEN_NAMES, name)
        params[name] = tf.Variable(value, name=mg_name if keep_variable_names else "Variable")
        _attach(root, mg_name, params[name])
    root.variables = list(params.values())
    root.trainable_variables = list(root.variables)
    params.update({name: tf.constant(value) for name, value in baked.items()})
    if vocabs.read(weights.vocab_file).kind == vocabs.WORDPIECE:
        root.vocab_file = tf.saved_model.Asset(weights.vocab_file)
        root.do_lower_case = tf.Variable(weights.do_lower_case, trainable=False, name="do_lower_case")
    else:   # lower case and no accents implied, as Model Garden's export_tfhub_lib says
        root.sp_model_file = tf.saved_model.Asset(weights.vocab_file)

    def encode(input_word_ids, input_mask, input_type_ids):
        layers = bert.encoder(params, input_word_ids, input_mask, input_type_ids, config,
                              bert.MODEL_GARDEN_STYLE)
        pooled = controls.pooled_output(control, layers[-1], input_mask, params[POOLER_KERNEL],
                                        params[POOLER_BIAS])
        return pooled, layers

    ids = tf.TensorSpec([None, None], tf.int32)
    if interface == TF2_DICT:
        @tf.function(input_signature=[{"input_word_ids": ids, "input_mask": ids, "input_type_ids": ids}])
        def call(inputs):
            pooled, layers = encode(inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"])
            return {"pooled_output": pooled, "sequence_output": layers[-1],
                    "encoder_outputs": layers, "default": pooled}
    elif interface == TF2_LIST:
        @tf.function(input_signature=[[ids, ids, ids]])
        def call(inputs):
            pooled, layers = encode(*inputs)
            return [pooled, layers[-1]]
    else:
        raise ValueError(f"unknown TF2 interface {interface!r}")
    root.__call__ = call
    tf.saved_model.save(root, export_dir)

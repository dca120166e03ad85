"""Writes a BERT as a KerasHub preset (Kaggle Models' Keras format) with keras_hub's
own BertBackbone, BertTokenizer and save_to_preset:

  config.json (keras_hub>BertBackbone), model.weights.h5, tokenizer.json,
  assets/tokenizer/vocabulary.txt, metadata.json

KerasHub's BertBackbone always computes the tanh form of GELU and a LayerNorm
epsilon of 1e-12, whatever the source config says; the build record says which
form the preset computes.
"""

from __future__ import annotations

import numpy as np

from tfhub_pooling.builder import controls
from tfhub_pooling.builder.bert_config import BERT, BertWeights, rename
from tfhub_pooling.conventions import naming
from tfhub_pooling.errors import UsageError

# google-research name (regex) -> the KerasHub BertBackbone weight path.
KERAS_HUB_NAMES = (
    (r"bert/embeddings/word_embeddings", "token_embedding/embeddings"),
    (r"bert/embeddings/position_embeddings", "position_embedding/embeddings"),
    (r"bert/embeddings/token_type_embeddings", "segment_embedding/embeddings"),
    (r"bert/embeddings/LayerNorm/(gamma|beta)", r"embeddings_layer_norm/\1"),
    (r"bert/encoder/layer_(\d+)/attention/self/(query|key|value)/(kernel|bias)",
     r"transformer_layer_\1/self_attention_layer/\2/\3"),
    (r"bert/encoder/layer_(\d+)/attention/output/dense/(kernel|bias)",
     r"transformer_layer_\1/self_attention_layer/attention_output/\2"),
    (r"bert/encoder/layer_(\d+)/attention/output/LayerNorm/(gamma|beta)",
     r"transformer_layer_\1/self_attention_layer_norm/\2"),
    (r"bert/encoder/layer_(\d+)/intermediate/dense/(kernel|bias)",
     r"transformer_layer_\1/feedforward_intermediate_dense/\2"),
    (r"bert/encoder/layer_(\d+)/output/dense/(kernel|bias)", r"transformer_layer_\1/feedforward_output_dense/\2"),
    (r"bert/encoder/layer_(\d+)/output/LayerNorm/(gamma|beta)", r"transformer_layer_\1/feedforward_layer_norm/\2"),
    # The pooler's names come from the one naming table.
    (r"bert/pooler/dense/(kernel|bias)", naming.KERAS_HUB_SCHEME.pooler_kernel.rsplit("/", 1)[0] + r"/\1"),
)


def write(weights: BertWeights, export_dir: str, control: controls.Control | None = None) -> None:
    """Writes the preset into export_dir (made by save_to_preset)."""
    import keras_hub

    from tfhub_pooling import keras_controls

    backbone_class, tokenizer_class = keras_hub.models.BertBackbone, keras_hub.models.BertTokenizer
    extra = {}
    if control is not None:
        if control.kind not in keras_controls.CONTROLS:
            raise UsageError(f"a KerasHub preset computes its pooler from the weights it stores, so only "
                             f"the {' and '.join(keras_controls.CONTROLS)} controls (another model class) "
                             "can be written into one")
        backbone_class, extra = keras_controls.ControlBertBackbone, {"pooler_control": control.kind}
        tokenizer_class = keras_controls.ControlBertTokenizer
    c = weights.config
    if c.architecture != BERT:
        raise UsageError(f"the KerasHub writer writes BERT presets only; write {c.architecture} "
                         "in the tf1-hub, tf2-dict, tf2-list or checkpoint format")
    backbone = backbone_class(
        **extra, vocabulary_size=c.vocab_size, num_layers=c.num_hidden_layers, num_heads=c.num_attention_heads,
        hidden_dim=c.hidden_size, intermediate_dim=c.intermediate_size, dropout=c.hidden_dropout_prob,
        max_sequence_length=c.max_position_embeddings, num_segments=c.type_vocab_size)
    by_path = {v.path: v for v in backbone.weights}
    for name, value in weights.params.items():
        variable = by_path.pop(rename(KERAS_HUB_NAMES, name))
        # Attention kernels are [H, heads, head size] there; [in, out] here, heads along out.
        variable.assign(np.reshape(value, variable.shape))
    if by_path:
        raise ValueError(f"KerasHub weights left unset: {sorted(by_path)}")
    backbone.save_to_preset(export_dir)
    # An uncased BERT strips accents as it lower-cases (google-research's tokenization.py);
    # KerasHub's tokenizer does so only when told.
    tokenizer_class(vocabulary=weights.vocab_file, lowercase=weights.do_lower_case,
                    strip_accents=weights.do_lower_case).save_to_preset(export_dir)

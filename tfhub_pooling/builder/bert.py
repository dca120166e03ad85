"""The one BERT forward pass every module writer uses, in plain TensorFlow ops.

It follows google-research/bert `modeling.py`: embeddings, LayerNorm, masked
multi-head self-attention, GELU feed-forward, residuals, and the pooler
`tanh(first_token · W + b)`; for ALBERT (google-research/albert `modeling.py`),
embeddings of width E projected to H and one layer's weights used by every
layer (bert_config.layer_names says where each layer's weights are). The ops work in a TF1 graph and in a tf.function
alike, so the TF1 Hub writer and any TF2 writer share this code; a writer only
decides how variables are created and named and passes them in `params`,
keyed by google-research names (see bert_config.param_shapes), and whose
exporter's graph style to follow (MODELING_PY_STYLE or MODEL_GARDEN_STYLE below).

Shapes: B = batch, S = sequence length, H = hidden size, E = embedding width
(H for BERT), N = heads, D = H / N.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

import tensorflow as tf

from tfhub_pooling.builder.bert_config import (
    EMBEDDING_PROJECTION,
    GELU_EXACT,
    GELU_TANH,
    RELU,
    BertConfig,
    layer_names,
)

Params = Mapping[str, tf.Tensor]


ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    GELU_EXACT: lambda x: tf.nn.gelu(x, approximate=False),
    GELU_TANH: lambda x: tf.nn.gelu(x, approximate=True),
    RELU: tf.nn.relu,
}


@dataclasses.dataclass(frozen=True)
class GraphStyle:
    """How an exporter's graph holds the hidden states and runs its dense layers. Both
    styles compute the same values; they differ in the ops TensorFlow sees."""

    matrix: bool        # hidden states as [B·S, H] matrices; else [B, S, H]
    dense: Callable[[tf.Tensor, tf.Tensor, tf.Tensor], tf.Tensor]   # (x, kernel [in, out], bias [out])


# google-research modeling.py (the TF1 Hub modules): reshape_to_matrix once, then
# tf.layers.dense, i.e. MatMul + BiasAdd. TensorFlow's oneDNN remapper fuses MatMul,
# BiasAdd and the GELU after them into one kernel, which Einsum + AddV2 does not get.
MODELING_PY_STYLE = GraphStyle(True, lambda x, kernel, bias: tf.nn.bias_add(tf.matmul(x, kernel), bias))
# Model Garden's EinsumDense on [B, S, H] (the TF2 exports of export_tfhub_lib).
MODEL_GARDEN_STYLE = GraphStyle(False, lambda x, kernel, bias: tf.einsum("bsi,io->bso", x, kernel) + bias)


def dropout(x: tf.Tensor, rate: float, training: bool) -> tf.Tensor:
    """As modeling.py applies it in the {"train"} graph variant; the identity otherwise."""
    return tf.nn.dropout(x, rate=rate) if training and rate > 0 else x


def layer_norm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: float) -> tf.Tensor:
    """Normalises the last axis; x [..., H]."""
    mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + eps) * gamma + beta


def dense(x: tf.Tensor, params: Params, prefix: str, style: GraphStyle) -> tf.Tensor:
    """x [..., in] · kernel [in, out] + bias [out] -> [..., out], the weights under prefix."""
    return style.dense(x, params[f"{prefix}/kernel"], params[f"{prefix}/bias"])


def embeddings(params: Params, input_ids: tf.Tensor, segment_ids: tf.Tensor,
               config: BertConfig, training: bool = False) -> tf.Tensor:
    """input_ids, segment_ids [B, S] int32 -> [B, S, E]."""
    seq_length = tf.shape(input_ids)[1]
    x = (tf.gather(params["bert/embeddings/word_embeddings"], input_ids)
         + tf.gather(params["bert/embeddings/token_type_embeddings"], segment_ids)
         + params["bert/embeddings/position_embeddings"][tf.newaxis, :seq_length, :])
    x = layer_norm(x, params["bert/embeddings/LayerNorm/gamma"],
                   params["bert/embeddings/LayerNorm/beta"], config.layer_norm_eps)
    return dropout(x, config.hidden_dropout_prob, training)


def attention_bias(input_mask: tf.Tensor) -> tf.Tensor:
    """input_mask [B, S] (1 = token, 0 = padding) -> additive bias [B, 1, 1, S].

    -10000 as in modeling.py: after softmax a padded key's weight is exactly 0
    in float32, which is what makes outputs independent of padding.
    """
    # expand_dims, not [:, tf.newaxis, tf.newaxis, :]: TFLite's builtins take no new_axis_mask
    # strided slice, so that form would keep the module from converting to LiteRT.
    mask = tf.expand_dims(tf.expand_dims(tf.cast(input_mask, tf.float32), 1), 1)
    return (1.0 - mask) * -10000.0


def self_attention(x: tf.Tensor, bias: tf.Tensor, params: Params, names: Mapping[str, str],
                   config: BertConfig, style: GraphStyle, batch: tf.Tensor, seq_length: tf.Tensor,
                   training: bool = False) -> tf.Tensor:
    """x [B·S, H] or [B, S, H] (the style's), bias [B, 1, 1, S] -> context, shaped as x;
    names: the layer's (layer_names)."""
    n = config.num_attention_heads
    d = config.hidden_size // n

    def heads(t: tf.Tensor) -> tf.Tensor:   # -> [B, N, S, D]
        return tf.transpose(tf.reshape(t, [batch, seq_length, n, d]), [0, 2, 1, 3])

    q = heads(dense(x, params, names["query"], style))
    k = heads(dense(x, params, names["key"], style))
    v = heads(dense(x, params, names["value"], style))
    scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(d) + bias   # [B, N, S, S]
    probs = dropout(tf.nn.softmax(scores, axis=-1), config.attention_probs_dropout_prob, training)
    context = tf.matmul(probs, v)                                    # [B, N, S, D]
    return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), tf.shape(x))


def transformer_layer(x: tf.Tensor, bias: tf.Tensor, params: Params, n: int, config: BertConfig,
                      style: GraphStyle, batch: tf.Tensor, seq_length: tf.Tensor,
                      training: bool = False) -> tf.Tensor:
    """Layer n, a post-LayerNorm encoder block; x -> x's shape ([B·S, H] or [B, S, H])."""
    names = layer_names(config, n)
    eps = config.layer_norm_eps
    context = self_attention(x, bias, params, names, config, style, batch, seq_length, training)
    attended = dropout(dense(context, params, names["attention_output"], style),
                       config.hidden_dropout_prob, training)
    x = layer_norm(attended + x, params[f"{names['attention_norm']}/gamma"],
                   params[f"{names['attention_norm']}/beta"], eps)
    hidden = ACTIVATIONS[config.hidden_act](dense(x, params, names["intermediate"], style))
    out = dropout(dense(hidden, params, names["output"], style), config.hidden_dropout_prob, training)
    return layer_norm(out + x, params[f"{names['output_norm']}/gamma"],
                      params[f"{names['output_norm']}/beta"], eps)


def encoder(params: Params, input_ids: tf.Tensor, input_mask: tf.Tensor, segment_ids: tf.Tensor,
            config: BertConfig, style: GraphStyle, training: bool = False) -> list[tf.Tensor]:
    """The three [B, S] int32 inputs -> every layer's output, each [B, S, H].

    The last entry is `sequence_output`. style: the graph style of the exporter the writer
    follows. training: apply dropout, as the {"train"} graph variant of a TF1 Hub
    module does.
    """
    batch, seq_length = tf.unstack(tf.shape(input_ids))
    bias = attention_bias(input_mask)
    x = embeddings(params, input_ids, segment_ids, config, training)     # [B, S, E]
    if style.matrix:
        x = tf.reshape(x, [-1, config.embedding_width])                  # [B·S, E]
    if config.embedding_width != config.hidden_size:
        x = dense(x, params, EMBEDDING_PROJECTION, style)                # ALBERT's E -> H
    layers = []
    for n in range(config.num_hidden_layers):
        x = transformer_layer(x, bias, params, n, config, style, batch, seq_length, training)
        layers.append(tf.reshape(x, [batch, seq_length, config.hidden_size]) if style.matrix else x)
    return layers


def pooler(sequence_output: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
    """sequence_output [B, S, H] -> pooled_output = tanh(first_token · W + b) [B, H]."""
    first_token = sequence_output[:, 0, :]
    return tf.tanh(tf.nn.bias_add(tf.matmul(first_token, kernel), bias))   # a Dense, in both exporters

"""A plain-numpy BERT forward pass over raw HF safetensors weights, float64.

Written from the paper and HF's BertModel, independently of tfhub_pooling.bert,
so that the built modules can be checked against it.
"""

from __future__ import annotations

import math

import numpy as np


def gelu(x: np.ndarray, act: str) -> np.ndarray:
    if act == "gelu":   # exact: x * Phi(x)
        erf = np.vectorize(math.erf)
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def linear(x, w, b):
    """HF Linear: weight [out, in]."""
    return x @ w.T + b


def forward(weights: dict, config: dict, input_ids, input_mask, segment_ids):
    """-> (sequence_output [B, S, H], pooled_output [B, H]), float64."""
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    eps, act = config["layer_norm_eps"], config["hidden_act"]
    heads = config["num_attention_heads"]
    b, s = input_ids.shape
    h = config["hidden_size"]
    d = h // heads
    x = (w["embeddings.word_embeddings.weight"][input_ids]
         + w["embeddings.position_embeddings.weight"][np.arange(s)][None]
         + w["embeddings.token_type_embeddings.weight"][segment_ids])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    mask = (1.0 - input_mask[:, None, None, :]) * -1e9
    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}."

        def split(t):
            return t.reshape(b, s, heads, d).transpose(0, 2, 1, 3)

        q, k, v = (split(linear(x, w[p + f"attention.self.{m}.weight"], w[p + f"attention.self.{m}.bias"]))
                   for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + mask
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, s, h)
        a = linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
        x = layer_norm(a + x, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        i = gelu(linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]), act)
        o = linear(i, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
        x = layer_norm(o + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
    pooled = np.tanh(linear(x[:, 0], w["pooler.dense.weight"], w["pooler.dense.bias"]))
    return x, pooled

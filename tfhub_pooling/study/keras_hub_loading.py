"""A KerasHub preset directory (Kaggle Models' Keras format) -> a loaded module.

A preset holds config.json (`"registered_name": "keras_hub>BertBackbone"`, or
AlbertBackbone), model.weights.h5, tokenizer.json with assets/tokenizer/vocabulary.txt
(WordPiece) or vocabulary.spm (ALBERT's SentencePiece), and metadata.json. Everything is read by keras_hub itself: Backbone.from_preset and
Tokenizer.from_preset; the h5 datasets are named by layer class, not by layer
name, so the pooler is found among the loaded model's weights, by their paths
(`pooled_dense/kernel`), never in the file.

  backbone({"token_ids", "segment_ids", "padding_mask"}: int32 [B, S])
      -> {"sequence_output" [B, S, H], "pooled_output" [B, H]}
"""

from __future__ import annotations

import json
import os
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from tfhub_pooling.errors import InterfaceError, NoPooledOutputError, UsageError
from tfhub_pooling.formats import KERAS_HUB
from tfhub_pooling.study import stored_variables
from tfhub_pooling.study.loading import VOCAB_IN_MODULE, LoadedModule

CONFIG_FILE = "config.json"
# BertTokenizer's WordPiece vocabulary; AlbertTokenizer's SentencePiece model.
VOCABULARIES = (os.path.join("assets", "tokenizer", "vocabulary.txt"),
                os.path.join("assets", "tokenizer", "vocabulary.spm"))
EXTRA = "pip install 'tfhub-pooling[keras-hub]'"


def is_preset(path: str) -> bool:
    """A directory whose config.json names a keras_hub class."""
    try:
        with open(os.path.join(path, CONFIG_FILE), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and str(config.get("registered_name", "")).startswith(
        ("keras_hub>", "tfhub_pooling>"))


def _keras_hub():
    try:
        import keras_hub

        from tfhub_pooling import keras_controls  # noqa: F401  (registers the control class)
    except ImportError:
        raise UsageError(f"this is a KerasHub preset, and keras-hub is not installed; run `{EXTRA}`") from None
    return keras_hub


def load(handle: str, path: str) -> LoadedModule:
    keras_hub = _keras_hub()
    try:
        backbone = keras_hub.models.Backbone.from_preset(path)
    except (ValueError, OSError, KeyError, TypeError) as e:
        from tfhub_pooling.errors import NotAModuleError, first_line
        raise NotAModuleError(f"{path} could not be loaded as a KerasHub preset ({first_line(e)}); "
                              "is it complete and uncorrupted?") from None
    kind = type(backbone).__name__
    outputs = backbone.output
    if not (isinstance(outputs, dict) and "pooled_output" in outputs):
        returned = (", ".join(f"{k} {list(v.shape)}" for k, v in outputs.items())
                    if isinstance(outputs, dict) else f"one tensor {list(outputs.shape)}")
        raise NoPooledOutputError(f"{handle}: KerasHub's {kind} returns {returned} and no pooled_output, so "
                                  "there is no pooler to rebuild; its [CLS] vector is sequence_output[:, 0, :]")
    tokenizer = keras_hub.models.Tokenizer.from_preset(path)
    vocab_file = next((os.path.join(path, v) for v in VOCABULARIES if os.path.isfile(os.path.join(path, v))), None)
    if vocab_file is None:
        raise InterfaceError(f"{path}: the preset's tokenizer ({type(tokenizer).__name__}) has neither a "
                             f"WordPiece {VOCABULARIES[0]} nor a SentencePiece {VOCABULARIES[1]}; only those "
                             "are read")

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = backbone({"token_ids": input_ids, "segment_ids": segment_ids, "padding_mask": input_mask},
                       training=False)
        return {k: np.asarray(out[k]) for k in ("pooled_output", "sequence_output")}

    variables = list(backbone.weights)
    return LoadedModule(handle, path, KERAS_HUB, f"{kind}.__call__ (token_ids, segment_ids, padding_mask)",
                        backbone, variables, run, vocab_file, VOCAB_IN_MODULE,
                        bool(getattr(tokenizer, "lowercase", False)),
                        int(backbone.max_sequence_length), [], frozenset(), int(backbone.num_layers),
                        tokenizer)


def word_pieces(tokenizer: Any) -> Callable[[tf.Tensor], tf.RaggedTensor]:
    """The preset's own tokenizer as strings [B] -> ids ragged [B, (pieces)]. Eagerly,
    Keras hands back Python lists; in a tf.function, tensors."""
    def tokenize(strings: tf.Tensor) -> tf.RaggedTensor:
        pieces = tokenizer(strings)
        if isinstance(pieces, tf.RaggedTensor):
            return pieces
        return tf.ragged.constant(pieces, dtype=tf.int64, ragged_rank=1, inner_shape=())
    return tokenize


def describe(module: LoadedModule) -> dict[str, Any]:
    """For `inspect`: class, config, layers, tokenizer."""
    backbone = module.obj
    config = {k: v for k, v in backbone.get_config().items() if isinstance(v, (int, float, str, bool))}
    return {"class": type(backbone).__name__, "config": config,
            "layers": [layer.name for layer in backbone.layers],
            "tokenizer": type(module.tokenizer).__name__,
            "weights": len(stored_variables.from_variables(module.variables))}

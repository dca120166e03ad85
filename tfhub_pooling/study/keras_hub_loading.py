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

import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow as tf

from tfhub_pooling import untrusted
from tfhub_pooling.errors import (
    InterfaceError,
    NoPooledOutputError,
    NotAModuleError,
    StudyError,
    UsageError,
    first_line,
)
from tfhub_pooling.formats import KERAS_HUB
from tfhub_pooling.study import stored_variables
from tfhub_pooling.study.loading import LoadedModule, ModuleFacts, vocab_place

CONFIG_FILE = "config.json"
# BertTokenizer's WordPiece vocabulary; AlbertTokenizer's SentencePiece model.
VOCABULARIES = (os.path.join("assets", "tokenizer", "vocabulary.txt"),
                os.path.join("assets", "tokenizer", "vocabulary.spm"))
EXTRA = "pip install 'tfhub-pooling[keras-hub]'"


# keras-nlp saved presets under its own name before it became keras_hub, and
# keras_hub still loads them (Kaggle serves many); ours registers the control class.
REGISTERED_PREFIXES = ("keras_hub>", "keras_nlp>", "tfhub_pooling>")
# Backbone config fields that size the weights; each must be a whole number of at least 1.
SIZES = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim",
         "max_sequence_length")


def is_preset(path: str) -> bool:
    """A directory whose config.json names a keras_hub (or keras_nlp) class. A config.json
    that cannot be read is no preset's: a SavedModel may have one beside it (Hugging Face's)."""
    if not os.path.isfile(os.path.join(path, CONFIG_FILE)):
        return False
    try:
        config = untrusted.read_json(os.path.join(path, CONFIG_FILE), CONFIG_FILE, NotAModuleError)
    except NotAModuleError:
        return False
    return isinstance(config, dict) and str(config.get("registered_name", "")).startswith(REGISTERED_PREFIXES)


def _keras_hub():
    try:
        import keras_hub

        from tfhub_pooling import (
            keras_controls,  # noqa: F401  (registers the control class)
        )
    except ImportError:
        raise UsageError(f"this is a KerasHub preset, and keras-hub is not installed; run `{EXTRA}`") from None
    return keras_hub


def check_config(path: str) -> None:
    """Sizes in config.json that make no model, or more than memory holds, refused before Keras
    builds anything."""
    config = untrusted.read_json(os.path.join(path, CONFIG_FILE), CONFIG_FILE, NotAModuleError)
    sizes = config.get("config") if isinstance(config, dict) else None
    if not isinstance(sizes, dict):
        raise NotAModuleError(f"{path}: {CONFIG_FILE} has no backbone `config` object; is it a KerasHub preset?")
    bad = [f"{k} {sizes[k]!r}" for k in SIZES if k in sizes
           and (isinstance(sizes[k], bool) or not isinstance(sizes[k], int) or sizes[k] < 1)]
    if bad:
        raise NotAModuleError(f"{path}: {CONFIG_FILE} gives {', '.join(bad)}; each must be a whole "
                              "number of at least 1")
    h, heads = sizes.get("hidden_dim", 1), sizes.get("num_heads", 1)
    if h % heads:
        raise NotAModuleError(f"{path}: {CONFIG_FILE} gives hidden_dim {h}, which {heads} heads do not divide")
    e = sizes.get("embedding_dim", h) if isinstance(sizes.get("embedding_dim"), int) else h
    i, layers = sizes.get("intermediate_dim", 4 * h), sizes.get("num_layers", 1)
    # ALBERT shares its layers (num_groups of them), BERT has one set a layer.
    stored_layers = sizes.get("num_groups", layers) if isinstance(sizes.get("num_groups"), int) else layers
    parameters = (sizes.get("vocabulary_size", 1) + sizes.get("max_sequence_length", 1)) * e \
        + stored_layers * (4 * h * h + 2 * h * i) + h * h
    untrusted.check_fits(4 * parameters, f"the preset {path} ({CONFIG_FILE})", NotAModuleError)


def _quietly(load: Callable[[], Any], path: str, what: str) -> Any:
    """Keras deserializes whatever the preset's files say, and raises whatever type that
    leads to (ValueError, KeyError, TypeError, AttributeError, json's errors, its safe
    mode's refusals): each is the file's fault, said in one line. Its warnings about
    the files are the preset's business, not the report's."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load()
    except (StudyError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001  (see the docstring)
        raise NotAModuleError(f"{path}: {what} could not be loaded by keras_hub ({type(e).__name__}: "
                              f"{first_line(e)}); is the preset complete, uncorrupted and of a class "
                              "keras_hub knows?") from None


def load(handle: str, path: str) -> LoadedModule:
    keras_hub = _keras_hub()
    check_config(path)
    backbone = _quietly(lambda: keras_hub.models.Backbone.from_preset(path), path, "the backbone")
    kind = type(backbone).__name__
    outputs = backbone.output
    if not (isinstance(outputs, dict) and "pooled_output" in outputs):
        returned = (", ".join(f"{k} {list(v.shape)}" for k, v in outputs.items())
                    if isinstance(outputs, dict) else f"one tensor {list(outputs.shape)}")
        raise NoPooledOutputError(f"{handle}: KerasHub's {kind} returns {returned} and no pooled_output, so "
                                  "there is no pooler to rebuild; its [CLS] vector is sequence_output[:, 0, :]")
    tokenizer = _quietly(lambda: keras_hub.models.Tokenizer.from_preset(path), path, "tokenizer.json")
    vocab = next((f for f in (untrusted.inside(path, v, "the tokenizer's vocabulary", InterfaceError)
                              for v in VOCABULARIES) if os.path.isfile(f.path)), None)
    if vocab is None:
        raise InterfaceError(f"{path}: the preset's tokenizer ({type(tokenizer).__name__}) has neither a "
                             f"WordPiece {VOCABULARIES[0]} nor a SentencePiece {VOCABULARIES[1]}; only those "
                             "are read")

    def run(input_ids: np.ndarray, input_mask: np.ndarray, segment_ids: np.ndarray) -> dict:
        out = backbone({"token_ids": input_ids, "segment_ids": segment_ids, "padding_mask": input_mask},
                       training=False)
        return {k: np.asarray(out[k]) for k in ("pooled_output", "sequence_output")}

    variables = list(backbone.weights)
    facts = ModuleFacts(handle=handle, path=path, format=KERAS_HUB,
                        signature=f"{kind}.__call__ (token_ids, segment_ids, padding_mask)", vocab_file=vocab.path,
                        vocab_source=vocab_place(vocab), do_lower_case=bool(getattr(tokenizer, "lowercase", False)),
                        max_seq_length=int(backbone.max_sequence_length), num_layers=int(backbone.num_layers))
    return LoadedModule(facts=facts, run=run, obj=backbone, variables=variables, tokenizer=tokenizer,
                        vocab_rows=int(backbone.vocabulary_size))


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

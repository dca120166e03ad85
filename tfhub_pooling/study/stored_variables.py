"""What a module stores, by name: its loaded variables, or, where those lost
their names, the entries of its variables checkpoint (the object graph's paths).

TF1 checkpoints key tensors by variable name (`bert/pooler/dense/kernel`); TF2
ones by object path (`pooler_transform/kernel/.ATTRIBUTES/VARIABLE_VALUE`),
which names the weight even when the variable itself is called `Variable:0`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfhub_pooling import untrusted
from tfhub_pooling.conventions import naming

OBJECT_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"
VARIABLES_SOURCE = "module variables"
CHECKPOINT_SOURCE = "checkpoint object graph"
SAFETENSORS_SOURCE = "safetensors file"
LITERT_SOURCE = "LiteRT graph"


@dataclasses.dataclass
class Entry:
    name: str                          # without `:0` and without OBJECT_SUFFIX
    shape: tuple[int, ...]
    dtype: str
    read: Callable[[], np.ndarray]
    step: Callable[[], np.ndarray] | None = None   # int8: one quantization step per element (its channel's
                                                   # scale), in the shape `read` gives


@dataclasses.dataclass(frozen=True)
class Stored:
    """What a module stores outside TensorFlow's variables (a safetensors file, a LiteRT
    graph's constants), and where: its pooler is read there."""

    source: str                       # SAFETENSORS_SOURCE or LITERT_SOURCE
    entries: list[Entry]
    file_names: dict[str, str] = dataclasses.field(default_factory=dict)   # entry -> its name in the file


def checkpoint_prefix(module_path: str) -> str:
    return os.path.join(module_path, "variables", "variables")


def from_variables(variables: list) -> list[Entry]:
    # Keras 3 variables carry their layer path (`pooled_dense/kernel`) in .path, .name is the leaf.
    return [Entry(naming.strip_suffix(getattr(v, "path", None) or v.name), tuple(v.shape),
                  getattr(v.dtype, "name", str(v.dtype)), v.numpy) for v in variables]


def from_checkpoint(module_path: str) -> list[Entry]:
    """Every tensor in the module's checkpoint; [] if it cannot be read."""
    try:
        reader = tf.train.load_checkpoint(checkpoint_prefix(module_path))
    except (tf.errors.OpError, ValueError):
        return []
    shapes, dtypes = reader.get_variable_to_shape_map(), reader.get_variable_to_dtype_map()
    return [Entry(key.removesuffix(OBJECT_SUFFIX), tuple(shape), dtypes[key].name,
                  lambda key=key: reader.get_tensor(key))
            for key, shape in sorted(shapes.items()) if key != "_CHECKPOINTABLE_OBJECT_GRAPH"]


def _rows(entries: list[Entry], table: Callable[[naming.NamingScheme], str]) -> int | None:
    for e in entries:
        if e.shape and any(naming.matches(e.name, table(s)) for s in naming.SCHEMES):
            return e.shape[0]
    return None


def max_seq_length(entries: list[Entry]) -> int | None:
    """Rows of the position-embedding table, found by name (naming.SCHEMES)."""
    return _rows(entries, lambda s: s.position_embeddings)


def vocab_rows(entries: list[Entry]) -> int | None:
    """Rows of the word-embedding table: the most vocab entries the module can look up."""
    return _rows(entries, lambda s: s.word_embeddings)


# `bert/encoder/layer_3/...` (google-research), `transformer/layer_3/...` (Model Garden's
# BertEncoder, Funnel, FNet, SparseMixer), `roformer/layer_3/...`, `encoder/layer_._3/...`
# (Hugging Face TF) and `transformer_layer_3/...` (MobileBERT) number their layers.
_INDEXED = re.compile(r"(?:^|/)(?:(?:encoder|transformer|roformer)/layer_(\d+)|encoder/layer_\._(\d+)"
                      r"|transformer_layer_(\d+))/")
# EncoderScaffold (TEAMS, kernel and BigBird attention) and ReuseEncoder leave it to Keras:
# `transformer/`, `transformer_1/`, ... (or `transformer_scaffold_2/`, when others were
# built first in the same process), the first unnumbered.
_KERAS_NUMBERED = re.compile(r"(?:^|/)(?:transformer|transformer_scaffold|reuse_transformer)(?:_(\d+))?/")
# MobileBERT's encoder_outputs hold the embedding output first, then each layer's.
_EMBEDDINGS_FIRST = re.compile(r"(?:^|/)mobile_bert_embedding(?:_\d+)?/")


def num_layers(entries: list[Entry]) -> int | None:
    """Distinct transformer layer indices among the names; None if none match, or if only
    one unnumbered layer does: that is also how ALBERT names the one layer all share."""
    indexed = {m.group(m.lastindex) for e in entries if (m := _INDEXED.search(e.name))}
    if indexed:
        return len(indexed)
    numbered = {m.group(1) or "" for e in entries if (m := _KERAS_NUMBERED.search(e.name))}
    return None if numbered in (set(), {""}) else len(numbered)


def encoder_outputs(entries: list[Entry]) -> int | None:
    """How many entries a Model Garden encoder's `encoder_outputs` should hold."""
    layers = num_layers(entries)
    if layers is not None and any(_EMBEDDINGS_FIRST.search(e.name) for e in entries):
        return layers + 1
    return layers


# safetensors' dtype names -> numpy's, the names every Entry uses.
SAFETENSORS_DTYPES = {"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
                      "I32": "int32", "I8": "int8", "U8": "uint8", "BOOL": "bool"}


def from_safetensors(files: list[str], records: dict[str, dict[str, untrusted.TensorRecord]]) -> list[Entry]:
    """Every tensor of a Hugging Face checkpoint's safetensors files, named as the naming
    table reads them (dots as slashes); records: each file's header, checked
    (untrusted.safetensors_header). Read one tensor at a time, memory-mapped."""
    return [Entry(key.replace(".", "/"), record.shape, SAFETENSORS_DTYPES.get(record.dtype, record.dtype.lower()),
                  lambda file=file, key=key: _safetensor(file, key))
            for file in files for key, record in sorted(records[file].items())]


def _safetensor(file: str, key: str) -> np.ndarray:
    """One tensor, by the safetensors library; bfloat16 (which numpy lacks) through its
    TensorFlow reader, widened to float32 exactly."""
    from safetensors import SafetensorError, safe_open

    from tfhub_pooling.errors import NotAModuleError

    try:
        with safe_open(file, framework="np") as f:
            return f.get_tensor(key)
    except (SafetensorError, TypeError, ValueError):
        try:
            with safe_open(file, framework="tf") as f:
                return f.get_tensor(key).numpy().astype(np.float32)
        except (SafetensorError, TypeError, ValueError) as e:
            raise NotAModuleError(f"{file}: its tensor {key} cannot be read ({e}); the file is damaged") from None

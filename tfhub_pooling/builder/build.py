"""Builds a module from BERT weights into a directory, atomically.

The module is written beside its destination and renamed into place, so an
interrupted build leaves no half-written module, and of two processes building
the same destination at once, one rename wins and both end with a whole module.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import json
import os
from collections.abc import Callable

import tensorflow as tf

from tfhub_pooling import atomic
from tfhub_pooling.builder import (
    checkpoint_writer,
    keras_hub_writer,
    preprocess_writer,
    tf1_hub_writer,
    tf2_writer,
)
from tfhub_pooling.builder.bert_config import GELU_TANH, BertWeights
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.conventions.checkpoints import checkpoint_architecture
from tfhub_pooling.errors import UsageError, first_line
from tfhub_pooling.formats import (
    BUILD_RECORD,
    CHECKPOINT,
    KERAS_HUB,
    PREPROCESS,
    TF1_HUB,
    TF2_DICT,
    TF2_LIST,
)

WRITERS: dict[str, Callable[[BertWeights, str, Control | None], None]] = {
    TF1_HUB: tf1_hub_writer.write,
    TF2_DICT: functools.partial(tf2_writer.write, interface=TF2_DICT),
    TF2_LIST: functools.partial(tf2_writer.write, interface=TF2_LIST),
    PREPROCESS: preprocess_writer.write,
    CHECKPOINT: checkpoint_writer.write,
    KERAS_HUB: keras_hub_writer.write,
}
# Formats with no pooler to make wrong: a negative control is refused for them.
NO_POOLER = (PREPROCESS, CHECKPOINT)


def is_complete(path: str) -> bool:
    if os.path.isfile(os.path.join(path, "model.weights.h5")):          # a KerasHub preset
        return os.path.isfile(os.path.join(path, "config.json"))
    if checkpoint_architecture(path):              # a google-research checkpoint directory
        return True
    return (os.path.isfile(os.path.join(path, tf.saved_model.SAVED_MODEL_FILENAME_PB))
            and os.path.isfile(os.path.join(path, tf.saved_model.VARIABLES_DIRECTORY,
                                            "variables.index")))


def write_build_record(weights: BertWeights, module_dir: str, control: Control | None) -> None:
    record = os.path.join(module_dir, *BUILD_RECORD)
    os.makedirs(os.path.dirname(record), exist_ok=True)
    with open(record, "w", encoding="utf-8") as f:
        json.dump({"builder": "tfhub-pooling", "source": weights.description,
                   "hidden_act": weights.config.hidden_act,
                   "activation": weights.config.activation_form,
                   "control": control.describe() if control else None}, f, indent=2)


def build_module(weights: BertWeights, dest: str, fmt: str = TF1_HUB,
                 reuse: bool = False, control: Control | None = None) -> str:
    """Writes `weights` as a module of format `fmt` at `dest`; returns dest.

    With reuse, an existing complete module at dest is returned as it is.
    control: write a negative control instead of the true pooler (controls.py).
    """
    if fmt not in WRITERS:
        raise UsageError(f"unknown module format {fmt!r}; choose one of {', '.join(WRITERS)}")
    if control is not None:
        if fmt in NO_POOLER:
            raise UsageError(f"a {fmt} holds no pooler, so a negative control cannot be written "
                             "into it; drop --control or choose an encoder format")
        control.check(weights.config.hidden_size)
    atomic.check_new_directory(dest)
    dest = os.path.abspath(dest)
    if os.path.exists(dest):
        if reuse and is_complete(dest):
            return dest
        raise UsageError(f"{dest} already exists; remove it or choose another directory")

    def make(path: str) -> None:
        try:
            WRITERS[fmt](weights, path, control)
        except tf.errors.OpError as e:    # TensorFlow's own writes: a full or read-only disk
            full = "No space left on device" in e.message
            raise atomic.cannot_write(dest, OSError(errno.ENOSPC if full else errno.EIO,
                                                    first_line(e.message))) from None
        if fmt == KERAS_HUB:     # what the preset computes, whatever the source said
            write_build_record(dataclasses.replace(weights, config=dataclasses.replace(
                weights.config, hidden_act=GELU_TANH)), path, control)
        elif fmt != CHECKPOINT:
            write_build_record(weights, path, control)

    atomic.remove_stale_staging(os.path.dirname(dest), os.path.basename(dest))
    atomic.make_directory(dest, make, accept_existing=lambda path: reuse and is_complete(path))
    return dest

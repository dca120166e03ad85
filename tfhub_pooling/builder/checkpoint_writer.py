"""Writes a BERT as a google-research checkpoint directory, as
uncased_L-12_H-768_A-12.zip unpacks (bert_config.json, bert_model.ckpt.*, vocab.txt),
or an ALBERT as albert_base_v2.tar.gz does (albert_config.json, model.ckpt-best.*,
30k-clean.model and its .vocab listing): conventions/checkpoints.py.

This is what google-research/bert's own exporters start from, so the upstream
exporters (compat/) can be run on the very weights the project's writers use.
"""

from __future__ import annotations

import json
import os
import shutil

import tensorflow as tf

from tfhub_pooling.builder import tf1_hub_writer
from tfhub_pooling.builder.bert_config import BertWeights
from tfhub_pooling.builder.controls import Control
from tfhub_pooling.conventions.checkpoints import CHECKPOINT_FILES

v1 = tf.compat.v1


def write(weights: BertWeights, export_dir: str, control: Control | None = None) -> None:
    """control must be None: a checkpoint holds weights, not the graph a control changes."""
    files = CHECKPOINT_FILES[weights.config.architecture]
    os.makedirs(export_dir)
    with tf.Graph().as_default():
        variables = {name: v1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                           initializer=v1.zeros_initializer())
                     for name, value in weights.params.items()}
        tf1_hub_writer.save_variables(variables, weights.params, os.path.join(export_dir, files.checkpoint))
    with open(os.path.join(export_dir, files.config), "w", encoding="utf-8") as f:
        json.dump(weights.config.to_google_research_json(), f, indent=2)
    shutil.copyfile(weights.vocab_file, os.path.join(export_dir, files.vocab))
    listing = os.path.splitext(weights.vocab_file)[0] + ".vocab"     # SentencePiece's, beside its model
    if files.vocab.endswith(".model") and os.path.isfile(listing):
        shutil.copyfile(listing, os.path.join(export_dir, os.path.splitext(files.vocab)[0] + ".vocab"))

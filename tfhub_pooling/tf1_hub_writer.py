"""Writes a BERT as a module in TF1 Hub format, with the interface of
google/bert_uncased_L-12_H-768_A-12/1:

  signature `tokens`: input_ids, input_mask, segment_ids  int32 [B, S]
                      -> pooled_output float32 [B, H], sequence_output float32 [B, S, H]
  signature `tokenization_info`: () -> vocab_file string, do_lower_case bool

Variables carry google-research names (`bert/pooler/dense/kernel`, ...) and the
vocab travels as a SavedModel asset.
"""

from __future__ import annotations

import os

import tensorflow as tf

from tfhub_pooling import bert, controls
from tfhub_pooling.weights import POOLER_BIAS, POOLER_KERNEL, BertWeights

v1 = tf.compat.v1

# tensorflow_hub 0.16 no longer writes TF1 Hub modules; this file is the
# serialized ModuleDef proto {format: FORMAT_V3}, which marks the format and
# makes hub.load pick the empty tag set.
TFHUB_MODULE_PB = b"\x08\x03"


def write(weights: BertWeights, export_dir: str, control: controls.Control | None = None) -> None:
    """Writes the module into export_dir, which must not exist yet.

    control: a negative control (controls.py) in place of the true pooler.
    """
    stored, baked = controls.split_stored(control, weights.params)
    with tf.Graph().as_default():
        inputs = {name: v1.placeholder(tf.int32, [None, None], name=name)
                  for name in ("input_ids", "input_mask", "segment_ids")}
        # Variables start at zero and are loaded through feeds below, so the
        # weights live in the checkpoint only, not as constants in the graph.
        params = {name: v1.get_variable(name, shape=value.shape, dtype=tf.float32,
                                        initializer=v1.zeros_initializer())
                  for name, value in stored.items()}
        params.update({name: tf.constant(value) for name, value in baked.items()})
        sequence_output = bert.encoder(params, inputs["input_ids"], inputs["input_mask"],
                                       inputs["segment_ids"], weights.config)[-1]
        pooled = controls.pooled_output(control, sequence_output, inputs["input_mask"],
                                        params[POOLER_KERNEL], params[POOLER_BIAS])
        outputs = {"sequence_output": tf.identity(sequence_output, name="sequence_output"),
                   "pooled_output": tf.identity(pooled, name="pooled_output")}
        vocab_file = tf.constant(os.path.abspath(weights.vocab_file), name="vocab_file")
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, vocab_file)
        info = {"vocab_file": vocab_file,
                "do_lower_case": tf.constant(weights.do_lower_case, name="do_lower_case")}

        def signature(ins, outs):
            info_of = v1.saved_model.utils.build_tensor_info
            return v1.saved_model.signature_def_utils.build_signature_def(
                inputs={k: info_of(t) for k, t in ins.items()},
                outputs={k: info_of(t) for k, t in outs.items()})

        with v1.Session() as sess:
            sess.run(v1.global_variables_initializer())
            for name, value in stored.items():
                params[name].load(value, sess)
            builder = v1.saved_model.Builder(export_dir)
            builder.add_meta_graph_and_variables(
                sess, tags=[],
                signature_def_map={"tokens": signature(inputs, outputs),
                                   "tokenization_info": signature({}, info)},
                assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS))
            builder.save()
    with open(os.path.join(export_dir, "tfhub_module.pb"), "wb") as f:
        f.write(TFHUB_MODULE_PB)

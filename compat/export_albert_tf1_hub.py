"""Exports a google-research ALBERT checkpoint as Google exported google/albert_base/1-3.

Runs in the `tf1-hub` side environment (compat/requirements-tf1-hub.txt), with
albert-tensorflow 1.1, google-research/albert's modeling.py as published on PyPI.
The module is made as albert/export_to_tfhub.py made it: modeling.AlbertModel and
the pre-training MLM head inside hub.create_module_spec, graph variants {"train"}
and set(), signatures `tokens`, `mlm` and `tokenization_info` -- whose output
`vocab_file` is the constant named `vocab_model` (the SentencePiece .model), while
constants named `vocab_file` (the .vocab listing) and `config_file` are assets
outside any signature -- then spec.export(checkpoint_path=...).

The checkpoint the builder writes holds the encoder only; the published one also
held the MLM head, which `mlm` needs and `tokens` never reads, so the head is added
here at its initial values before exporting.

    python export_albert_tf1_hub.py CHECKPOINT_DIR OUT_DIR
"""

import argparse
import json
import os
import sys
import tempfile
import types

import tensorflow.compat.v1 as tf
import tensorflow_hub as hub
import tf_slim

# modeling.py is TF1 code (`from tensorflow.contrib import layers`); tf-slim's layer_norm is
# the same function with the same variable names.
contrib = types.ModuleType("tensorflow.contrib")
contrib.layers = types.SimpleNamespace(layer_norm=tf_slim.layer_norm)
sys.modules["tensorflow"], sys.modules["tensorflow.contrib"] = tf, contrib
from albert import modeling  # noqa: E402

CONFIG, CHECKPOINT, MODEL, LISTING = "albert_config.json", "model.ckpt-best", "30k-clean.model", "30k-clean.vocab"


def mlm_logits(model, config, positions):
    """export_to_tfhub.get_mlm_logits: the pre-training head over gathered positions."""
    shape = modeling.get_shape_list(model.get_sequence_output(), expected_rank=3)
    offsets = tf.reshape(tf.range(0, shape[0], dtype=tf.int32) * shape[1], [-1, 1])
    gathered = tf.gather(tf.reshape(model.get_sequence_output(), [shape[0] * shape[1], shape[2]]),
                         tf.reshape(positions + offsets, [-1]))
    with tf.variable_scope("cls/predictions"):
        with tf.variable_scope("transform"):
            gathered = tf.layers.dense(gathered, units=config.embedding_size,
                                       activation=modeling.get_activation(config.hidden_act),
                                       kernel_initializer=modeling.create_initializer(config.initializer_range))
            gathered = modeling.layer_norm(gathered)
        output_bias = tf.get_variable("output_bias", shape=[config.vocab_size], initializer=tf.zeros_initializer())
        return tf.nn.bias_add(tf.matmul(gathered, model.get_embedding_table(), transpose_b=True), output_bias)


def build(config, is_training):
    ids = {name: tf.placeholder(tf.int32, [None, None], name)
           for name in ("input_ids", "input_mask", "segment_ids", "mlm_positions")}
    model = modeling.AlbertModel(config=config, is_training=is_training, input_ids=ids["input_ids"],
                                 input_mask=ids["input_mask"], token_type_ids=ids["segment_ids"],
                                 use_one_hot_embeddings=False)
    return ids, model, mlm_logits(model, config, ids["mlm_positions"])


def complete_checkpoint(config, checkpoint_dir, out_prefix):
    """The encoder's checkpoint plus the MLM head at its initial values."""
    with tf.Graph().as_default():
        build(config, False)
        tf.train.init_from_checkpoint(os.path.join(checkpoint_dir, CHECKPOINT), {"bert/": "bert/"})
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            tf.train.Saver().save(sess, out_prefix, write_meta_graph=False, write_state=False)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("checkpoint_dir")
    p.add_argument("out_dir")
    args = p.parse_args()
    tf.disable_eager_execution()
    config = modeling.AlbertConfig.from_json_file(os.path.join(args.checkpoint_dir, CONFIG))

    def module_fn(is_training):
        ids, model, logits = build(config, is_training)
        paths = {name: tf.constant(os.path.join(args.checkpoint_dir, file), tf.string, name=name)
                 for name, file in (("config_file", CONFIG), ("vocab_model", MODEL), ("vocab_file", LISTING))}
        for constant in paths.values():
            tf.add_to_collection(tf.GraphKeys.ASSET_FILEPATHS, constant)
        tokens = {k: ids[k] for k in ("input_ids", "input_mask", "segment_ids")}
        outputs = {"sequence_output": model.get_sequence_output(), "pooled_output": model.get_pooled_output()}
        hub.add_signature("tokens", tokens, outputs)
        hub.add_signature("mlm", dict(ids), dict(outputs, mlm_logits=logits))
        hub.add_signature("tokenization_info", {}, {"vocab_file": paths["vocab_model"],
                                                    "do_lower_case": tf.constant(True)})

    with tempfile.TemporaryDirectory() as tmp:
        complete_checkpoint(config, args.checkpoint_dir, os.path.join(tmp, CHECKPOINT))
        spec = hub.create_module_spec(module_fn, tags_and_args=[({"train"}, {"is_training": True}),
                                                                (set(), {"is_training": False})])
        spec.export(args.out_dir, checkpoint_path=os.path.join(tmp, CHECKPOINT))
    print(json.dumps({"exported": args.out_dir, "tensorflow": tf.__version__,
                      "tensorflow_hub": hub.__version__, "albert_tensorflow": "1.1"}))


if __name__ == "__main__":
    main()
